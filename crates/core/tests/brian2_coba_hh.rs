//! COBA-HH (Brette et al. 2007 benchmark 3, `experiments/coba_hh.toml`)
//! against the same network run in Brian2 2.9.0 (examples/COBAHH.py).
//!
//! The reference is `bench/reference/brian2_coba_hh.json`, made by
//! `bench/reference/make_reference.py --models coba_hh`: mean rate and mean
//! CV of ISI per population over 5 seeds of 2 s. cognitron runs the
//! experiment for the same duration and seeds 1..=5 (its own random streams,
//! so only the statistics can agree) and must come within 10 % of Brian2's
//! seed means. The activity is self-sustained (~36 Hz, CV ~2.2 in Brian2).

use cognitron_core::{experiment, Simulation};
use serde_json::Value;
use std::path::PathBuf;

fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)
}

#[test]
fn coba_hh_matches_brian2() {
    let path = repo("bench/reference/brian2_coba_hh.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let reference: Value = serde_json::from_str(&text).expect("reference JSON");
    let duration_ms = reference["duration_s"].as_f64().unwrap() * 1000.0;
    let seeds = reference["seeds"].as_array().unwrap().len() as u64;
    let populations = ["exc", "inh"];
    let mut sums = [(0.0, 0.0); 2];
    for seed in 1..=seeds {
        let mut overrides = vec![
            format!("simulation.duration_ms={duration_ms}"),
            format!("simulation.seed={seed}"),
        ];
        // Only the online statistics are needed, not the spike trains or traces.
        overrides.extend(populations.iter().map(|p| format!("monitors.spikes.{p}=\"none\"")));
        overrides.push("monitors.state=[]".into());
        let network = experiment::load(&repo("experiments/coba_hh.toml"), &overrides).expect("experiment loads");
        let result = Simulation::build(&network).run(|_| {}).expect("run");
        for (sum, name) in sums.iter_mut().zip(populations) {
            let p = result.population(name);
            let last_500_ms: u32 = p.rate_counts[p.rate_counts.len() - 500..].iter().sum();
            assert!(last_500_ms > 0, "seed {seed}: {name} fell silent");
            eprintln!("seed {seed} {name}: rate {:.3} Hz, CV {:?}", p.rate_hz, p.cv_isi);
            sum.0 += p.rate_hz;
            sum.1 += p.cv_isi.expect("enough spikes for a CV");
        }
    }
    for (name, (rate, cv)) in populations.iter().zip(sums) {
        let (rate, cv) = (rate / seeds as f64, cv / seeds as f64);
        let summary = &reference["summary"][name];
        let brian_rate = summary["rate_hz"]["mean"].as_f64().unwrap();
        let brian_cv = summary["cv_isi"]["mean"].as_f64().unwrap();
        eprintln!("coba_hh {name}: rate {rate:.3} Hz (Brian2 {brian_rate:.3}), CV {cv:.3} (Brian2 {brian_cv:.3})");
        assert!(
            (rate / brian_rate - 1.0).abs() < 0.10,
            "coba_hh {name}: rate {rate} Hz vs Brian2 {brian_rate} Hz"
        );
        assert!(
            (cv / brian_cv - 1.0).abs() < 0.10,
            "coba_hh {name}: CV {cv} vs Brian2 {brian_cv}"
        );
    }
}
