//! The Izhikevich model against its papers, by measurable signatures.
//!
//! Single neurons: the firing patterns of Izhikevich (2004), Fig. 1, with the
//! parameters, stimuli and time steps of its code figure1.m (dt = 0.25 ms for
//! most panels, 0.2 ms for phasic bursting and rebound spike; the patterns
//! depend on the step because figure1.m is forward Euler), and the cortical
//! types of Izhikevich (2003), Fig. 2. Network: the 1000-neuron network of
//! Izhikevich (2003), Fig. 3 (`experiments/izhikevich2003.toml`), against
//! statistics of the paper's own algorithm (net.m) in
//! `bench/reference/izhikevich2003_netm.json`.

use cognitron_core::model::{Init, Population};
use cognitron_core::neuron::izhikevich::{Izhikevich, Preset};
use cognitron_core::{experiment, validate::validate, Network, Simulation};
use std::path::Path;

/// Spike times (ms) of each one-neuron population, in order.
fn run(net: &Network) -> Vec<Vec<f64>> {
    validate(net).expect("valid model");
    let result = Simulation::build(net).run(|_| {}).expect("run");
    result
        .populations
        .iter()
        .map(|p| p.spike_steps.iter().map(|&s| s as f64 * result.dt_ms).collect())
        .collect()
}

/// Spike times of one neuron driven by `neuron`'s own input for `duration` ms.
fn spikes(neuron: Izhikevich, dt: f64, duration: f64) -> Vec<f64> {
    let net = Network::new(dt, duration, 1).population("n", Population::Izhikevich(neuron));
    run(&net).remove(0)
}

/// A 2004 pattern under its figure1.m protocol.
fn figure1(preset: Preset) -> Vec<f64> {
    let protocol = preset.protocol().expect("a figure1.m panel");
    let t = spikes(
        Izhikevich::with_protocol(preset).unwrap(),
        protocol.dt_ms,
        protocol.duration_ms,
    );
    eprintln!("{}: spikes at {t:?}", preset.name());
    t
}

fn isis(t: &[f64]) -> Vec<f64> {
    t.windows(2).map(|w| w[1] - w[0]).collect()
}

/// Splits a spike train into bursts: spikes closer than `gap` ms share one.
fn bursts(t: &[f64], gap: f64) -> Vec<Vec<f64>> {
    let mut out: Vec<Vec<f64>> = Vec::new();
    for &s in t {
        match out.last_mut() {
            Some(b) if s - b.last().unwrap() < gap => b.push(s),
            _ => out.push(vec![s]),
        }
    }
    out
}

/// One neuron with constant input `i` (no schedule) from a preset.
fn constant(preset: Preset, i: f64) -> Izhikevich {
    Izhikevich {
        i_bias: i,
        ..Izhikevich::preset(1, preset)
    }
}

#[test]
fn tonic_spiking_fires_regularly_while_the_input_is_on() {
    let t = figure1(Preset::TonicSpiking);
    assert!(t[0] > 10.0, "no spike before the step at 10 ms");
    assert!(t.len() >= 4 && *t.last().unwrap() > 80.0, "a train to the end: {t:?}");
    // Run on (figure1.m stops at 100 ms): the train settles to one period.
    let long = spikes(Izhikevich::with_protocol(Preset::TonicSpiking).unwrap(), 0.25, 400.0);
    let isi = isis(&long);
    let late = &isi[3..];
    let (lo, hi) = (
        late.iter().cloned().fold(f64::MAX, f64::min),
        late.iter().cloned().fold(0.0, f64::max),
    );
    eprintln!("tonic spiking: ISIs {isi:?}");
    assert!(
        late.len() >= 8 && hi - lo <= 0.5,
        "periodic after 3 intervals (within two steps): {isi:?}"
    );
    assert!(
        bursts(&long, 10.0).iter().skip(1).all(|b| b.len() == 1),
        "single spikes"
    );
}

#[test]
fn phasic_spiking_fires_one_spike_at_onset() {
    let t = figure1(Preset::PhasicSpiking);
    assert_eq!(t.len(), 1, "one spike: {t:?}");
    assert!(t[0] > 20.0 && t[0] < 60.0, "at the onset (20 ms): {t:?}");
}

#[test]
fn tonic_bursting_repeats_bursts() {
    let t = figure1(Preset::TonicBursting);
    let b = bursts(&t, 10.0);
    assert!(b.len() >= 4, "repeated bursts: {b:?}");
    for burst in &b[..b.len() - 1] {
        assert!(burst.len() >= 2, "each burst has >= 2 spikes: {b:?}");
    }
    let intra = b.iter().flat_map(|b| isis(b)).fold(0.0, f64::max);
    let inter = b
        .windows(2)
        .map(|w| w[1][0] - w[0].last().unwrap())
        .fold(f64::MAX, f64::min);
    assert!(
        inter > 4.0 * intra,
        "pauses ({inter} ms) much longer than intra-burst ISIs ({intra} ms)"
    );
}

#[test]
fn phasic_bursting_fires_one_burst_at_onset() {
    let t = figure1(Preset::PhasicBursting);
    let b = bursts(&t, 10.0);
    assert_eq!(b.len(), 1, "one burst: {b:?}");
    assert!(b[0].len() >= 2, "of >= 2 spikes: {b:?}");
    assert!(b[0][0] > 20.0 && b[0][0] < 60.0, "at the onset (20 ms)");
    assert!(*t.last().unwrap() < 100.0, "then silence to 200 ms");
}

#[test]
fn mixed_mode_bursts_then_spikes_tonically() {
    let t = figure1(Preset::MixedMode);
    let b = bursts(&t, 10.0);
    assert!(b[0].len() >= 2, "an initial burst: {b:?}");
    assert!(b.len() >= 4, "then a train: {b:?}");
    assert!(b[1..].iter().all(|b| b.len() == 1), "of single spikes: {b:?}");
}

#[test]
fn spike_frequency_adaptation_lengthens_intervals() {
    let t = figure1(Preset::SpikeFrequencyAdaptation);
    let isi = isis(&t);
    assert!(isi.len() >= 3, "{t:?}");
    assert!(isi.windows(2).all(|w| w[1] >= w[0]), "ISIs never shrink: {isi:?}");
    assert!(
        isi.last().unwrap() > &(2.0 * isi[0]),
        "and grow at least twofold: {isi:?}"
    );
}

/// Steady-state rate (Hz) from the last interval, for constant input `i`.
fn steady_rate(preset: Preset, i: f64) -> f64 {
    let t = spikes(constant(preset, i), 0.25, 3000.0);
    match t.len() {
        0 | 1 => 0.0,
        n => 1000.0 / (t[n - 1] - t[n - 2]),
    }
}

/// Lowest current that fires repetitively (bisection to 1e-3), and the
/// steady rate just above it.
fn rheobase_and_min_rate(preset: Preset, mut lo: f64, mut hi: f64) -> (f64, f64) {
    assert_eq!(steady_rate(preset, lo), 0.0);
    assert!(steady_rate(preset, hi) > 0.0);
    while hi - lo > 1e-3 {
        let mid = 0.5 * (lo + hi);
        if steady_rate(preset, mid) > 0.0 {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    (hi, steady_rate(preset, hi))
}

#[test]
fn class1_fires_at_arbitrarily_low_rates_class2_jumps() {
    let (i1, f1) = rheobase_and_min_rate(Preset::Class1Excitability, 0.0, 40.0);
    let (i2, f2) = rheobase_and_min_rate(Preset::Class2Excitability, -0.5, 10.0);
    eprintln!("class 1: rheobase {i1:.3}, rate there {f1:.2} Hz; class 2: rheobase {i2:.3}, rate there {f2:.2} Hz");
    let f1_above = steady_rate(Preset::Class1Excitability, i1 + 2.0);
    assert!(f1 < 5.0, "class 1 starts at a low rate: {f1} Hz");
    assert!(
        f1_above > 4.0 * f1,
        "and its rate grows with I: {f1_above} Hz at rheobase + 2"
    );
    assert!(f2 > 15.0, "class 2 starts at a finite rate: {f2} Hz");
    // figure1.m's ramps: both fire, faster as the input grows.
    for preset in [Preset::Class1Excitability, Preset::Class2Excitability] {
        let isi = isis(&figure1(preset));
        assert!(
            isi.len() >= 5 && isi.windows(2).all(|w| w[1] <= w[0]),
            "{}: {isi:?}",
            preset.name()
        );
    }
}

#[test]
fn rebound_spike_follows_a_hyperpolarising_pulse() {
    let t = figure1(Preset::ReboundSpike);
    assert_eq!(t.len(), 1, "one spike: {t:?}");
    assert!(t[0] >= 25.0 && t[0] < 100.0, "after the pulse ends at 25 ms: {t:?}");
    let burst = figure1(Preset::ReboundBurst);
    let b = bursts(&burst, 10.0);
    assert_eq!(b.len(), 1, "rebound burst: one burst {b:?}");
    assert!(
        b[0].len() >= 2 && b[0][0] >= 25.0,
        "of >= 2 spikes after the pulse: {b:?}"
    );
    // Without the pulse, nothing.
    assert!(spikes(Izhikevich::preset(1, Preset::ReboundSpike), 0.2, 200.0).is_empty());
}

/// The stable equilibrium: k2 v^2 + (k1 - b) v + k0 + i = 0, lower root.
fn resting_potential(preset: Preset, i: f64) -> f64 {
    let p = preset.params();
    let (qa, qb, qc) = (p.k_quadratic, p.k_linear - p.b, p.k_constant + i);
    (-qb - (qb * qb - 4.0 * qa * qc).sqrt()) / (2.0 * qa)
}

/// The damped oscillation period (ms) of a resonator at rest with input i:
/// from the eigenvalues of the Jacobian at the stable equilibrium.
fn resonance_period(preset: Preset, i: f64) -> f64 {
    let p = preset.params();
    let v = resting_potential(preset, i);
    let (j11, j12, j21, j22) = (2.0 * p.k_quadratic * v + p.k_linear, -1.0, p.a * p.b, -p.a);
    let trace = j11 + j22;
    let det = j11 * j22 - j12 * j21;
    let disc = trace * trace - 4.0 * det;
    assert!(disc < 0.0, "a focus: complex eigenvalues");
    2.0 * std::f64::consts::PI / ((-disc).sqrt() / 2.0)
}

/// Two pulses `gap` ms apart from 200 ms (after the initial transient has died out).
fn pulse_pair(preset: Preset, gap: f64, amplitude: f64, width: f64) -> Izhikevich {
    let t0 = 200.0;
    Izhikevich {
        i_schedule: vec![
            [t0, amplitude],
            [t0 + width, 0.0],
            [t0 + gap, amplitude],
            [t0 + gap + width, 0.0],
        ],
        ..Izhikevich::preset(1, preset)
    }
}

#[test]
fn resonator_fires_to_pulses_at_its_resonant_interval_only() {
    // figure1.m: doublets 20 ms apart (at 40 ms) and 40 ms apart (at 280 ms).
    let t = figure1(Preset::Resonator);
    let period = resonance_period(Preset::Resonator, 0.0);
    eprintln!("resonator: damped oscillation period {period:.2} ms");
    assert_eq!(t.len(), 1, "one spike: {t:?}");
    assert!(
        t[0] > 320.0,
        "after the doublet 40 ms apart, not the one 20 ms apart: {t:?}"
    );
    assert!((period - 40.0).abs() < 4.0, "40 ms is the resonant period: {period}");
    // The same with pairs timed by the computed period: one period apart
    // fires, half a period apart does not, neither does one pulse.
    let fired = |gap: f64| !spikes(pulse_pair(Preset::Resonator, gap, 0.65, 4.0), 0.25, 400.0).is_empty();
    assert!(fired(period), "pulses one period apart fire");
    assert!(!fired(0.5 * period), "pulses half a period apart do not");
    assert!(!fired(1000.0), "a single pulse does not");
}

#[test]
fn integrator_fires_to_close_pulses_only() {
    let t = figure1(Preset::Integrator);
    // Pairs 5 ms apart (from 9.1 ms) and 10 ms apart (from 70 ms).
    assert_eq!(t.len(), 1, "one spike: {t:?}");
    assert!(t[0] > 14.0 && t[0] < 30.0, "after the close pair: {t:?}");
    // A single pulse alone does not fire.
    let single = Izhikevich {
        i_schedule: vec![[10.0, 9.0], [12.0, 0.0]],
        ..Izhikevich::preset(1, Preset::Integrator)
    };
    assert!(spikes(single, 0.25, 100.0).is_empty());
}

#[test]
fn bistability_is_switched_on_and_off_by_pulses() {
    let t = figure1(Preset::Bistability);
    assert!(t[0] > 37.5, "silent before the first pulse: {t:?}");
    let on: Vec<f64> = t.iter().cloned().filter(|&s| s < 216.0).collect();
    assert!(on.len() >= 5, "tonic spiking between the pulses: {t:?}");
    assert!(on.last().unwrap() > &200.0, "until the second pulse");
    assert!(t.iter().all(|&s| s < 230.0), "silent after the second pulse: {t:?}");
    // Without the second pulse it keeps firing.
    let mut only_on = Izhikevich::with_protocol(Preset::Bistability).unwrap();
    only_on.i_schedule.truncate(2);
    let t = spikes(only_on, 0.25, 300.0);
    assert!(t.last().unwrap() > &280.0, "without the second pulse: {t:?}");
}

/// A 2003 cortical type under a step of input `i` from 10 ms (the paper's
/// Fig. 2 has no published code; dt = 0.25 ms as figure1.m).
fn cortical(preset: Preset, i: f64, duration: f64) -> Vec<f64> {
    let neuron = Izhikevich {
        i_schedule: vec![[10.0, i]],
        ..Izhikevich::preset(1, preset)
    };
    let t = spikes(neuron, 0.25, duration);
    eprintln!("{} (I = {i}): spikes at {t:?}", preset.name());
    t
}

#[test]
fn cortical_types_of_izhikevich_2003() {
    let rs = cortical(Preset::RegularSpiking, 10.0, 300.0);
    let ib = cortical(Preset::IntrinsicallyBursting, 10.0, 300.0);
    let ch = cortical(Preset::Chattering, 10.0, 300.0);
    let fs = cortical(Preset::FastSpiking, 10.0, 300.0);
    let lts = cortical(Preset::LowThresholdSpiking, 10.0, 300.0);
    // RS: single spikes, adapting.
    let isi = isis(&rs);
    assert!(bursts(&rs, 10.0).iter().all(|b| b.len() == 1), "RS: no bursts");
    assert!(*isi.last().unwrap() > 1.5 * isi[0], "RS adapts: {isi:?}");
    // IB: a burst, then single spikes.
    let b = bursts(&ib, 10.0);
    assert!(
        b[0].len() >= 2 && b.len() >= 3 && b[1..].iter().all(|b| b.len() == 1),
        "IB: {b:?}"
    );
    // CH: repeated bursts.
    let b = bursts(&ch, 10.0);
    assert!(
        b.len() >= 3 && b[..b.len() - 1].iter().all(|b| b.len() >= 2),
        "CH: {b:?}"
    );
    // FS: fast, hardly adapting.
    let isi = isis(&fs);
    assert!(
        fs.len() > 2 * rs.len(),
        "FS fires faster than RS: {} vs {}",
        fs.len(),
        rs.len()
    );
    // (after a short first interval, as in the paper's Fig. 2)
    assert!(*isi.last().unwrap() < 1.2 * isi[1], "FS does not adapt: {isi:?}");
    // LTS: fast, adapting.
    let isi = isis(&lts);
    assert!(lts.len() > 2 * rs.len(), "LTS fires faster than RS");
    assert!(*isi.last().unwrap() > 1.2 * isi[0], "LTS adapts: {isi:?}");
}

#[test]
fn thalamo_cortical_fires_tonically_from_rest_and_bursts_on_release_from_hyperpolarisation() {
    let tonic = cortical(Preset::ThalamoCortical, 2.0, 300.0);
    assert!(
        tonic.len() >= 3 && isis(&tonic).iter().all(|&i| i > 8.0),
        "tonic: {tonic:?}"
    );
    // Hyperpolarised by -20 until 100 ms (to about -90 mV), then released to 0.
    let neuron = Izhikevich {
        i_bias: -20.0,
        i_schedule: vec![[100.0, 20.0]],
        ..Izhikevich::preset(1, Preset::ThalamoCortical)
    };
    let t = spikes(neuron, 0.25, 300.0);
    eprintln!("thalamo_cortical released from hyperpolarisation: {t:?}");
    let b = bursts(&t, 10.0);
    assert!(b[0].len() >= 3 && b[0][0] > 100.0, "a rebound burst: {b:?}");
    assert!(*t.last().unwrap() < 200.0, "then silence at I = 0: {t:?}");
    assert!(
        cortical(Preset::ThalamoCortical, 0.0, 300.0).is_empty(),
        "silent at rest without the pulse"
    );
}

#[test]
fn resonator_2003_rings_at_the_linearised_frequency() {
    // A small pulse; the trace rings at the imaginary part of the eigenvalues.
    let (dt, duration) = (0.25, 600.0);
    let p = Preset::Resonator2003.params();
    let rest = resting_potential(Preset::Resonator2003, 0.0);
    let neuron = Izhikevich {
        i_schedule: vec![[200.0, 0.3], [202.0, 0.0]],
        v_init_mv: Some(Init::Value(rest)),
        u_init: Some(Init::Value(p.b * rest)),
        ..Izhikevich::preset(1, Preset::Resonator2003)
    };
    let net = Network::new(dt, duration, 1)
        .population("n", Population::Izhikevich(neuron))
        .record_state("n", &["v"], &[0]);
    validate(&net).unwrap();
    let result = Simulation::build(&net).run(|_| {}).unwrap();
    assert_eq!(result.population("n").spikes, 0, "subthreshold");
    let v = &result.traces[0].values;
    let maxima: Vec<f64> = (1..v.len() - 1)
        .filter(|&k| k as f64 * dt > 205.0 && v[k] > v[k - 1] && v[k] >= v[k + 1])
        .map(|k| k as f64 * dt)
        .collect();
    let measured = (maxima[3] - maxima[0]) / 3.0;
    let period = resonance_period(Preset::Resonator2003, 0.0);
    eprintln!("RZ: ringing period {measured:.2} ms, linearised {period:.2} ms, maxima {maxima:?}");
    assert!((measured - period).abs() < 0.02 * period, "{measured} vs {period}");
}

// ---------------------------------------------------------------------------
// The network of Izhikevich (2003), Fig. 3.

fn experiment_file(name: &str) -> String {
    format!("{}/../../experiments/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn load(name: &str, overrides: &[String]) -> Network {
    experiment::load(Path::new(&experiment_file(name)), overrides).expect("experiment loads")
}

/// Statistics of the paper's own algorithm (net.m in numpy, 20 seeds, 1 s):
/// (min, mean, max) of the excitatory rate, the inhibitory rate and the
/// spectral peak, from bench/reference/izhikevich2003_netm.json.
fn reference() -> [(f64, f64, f64); 3] {
    let path = format!(
        "{}/../../bench/reference/izhikevich2003_netm.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let runs = json["runs"].as_array().unwrap();
    ["rate_exc_hz", "rate_inh_hz", "peak_hz"].map(|key| {
        let v: Vec<f64> = runs.iter().map(|r| r[key].as_f64().unwrap()).collect();
        let min = v.iter().cloned().fold(f64::MAX, f64::min);
        let max = v.iter().cloned().fold(f64::MIN, f64::max);
        (min, v.iter().sum::<f64>() / v.len() as f64, max)
    })
}

/// Power spectrum (plain DFT) of the mean-subtracted spike counts in 1 ms
/// bins over `duration` ms: (frequency Hz, power) for 1..n/2.
fn spectrum(counts: &[f64]) -> Vec<(f64, f64)> {
    let n = counts.len();
    let mean = counts.iter().sum::<f64>() / n as f64;
    (1..n / 2)
        .map(|k| {
            let (mut re, mut im) = (0.0, 0.0);
            for (j, &c) in counts.iter().enumerate() {
                let phase = -2.0 * std::f64::consts::PI * (k * j) as f64 / n as f64;
                re += (c - mean) * phase.cos();
                im += (c - mean) * phase.sin();
            }
            (k as f64 * 1000.0 / n as f64, re * re + im * im)
        })
        .collect()
}

/// (exc rate, inh rate, spectral peak in 5-100 Hz, peak power / median power there).
fn network_statistics(seed: u64) -> (f64, f64, f64, f64) {
    let net = load("izhikevich2003.toml", &[format!("simulation.seed={seed}")]);
    assert_eq!(net.simulation.dt_ms, 1.0);
    let result = Simulation::build(&net).run(|_| {}).unwrap();
    let (exc, inh) = (result.population("exc"), result.population("inh"));
    let counts: Vec<f64> = exc
        .rate_counts
        .iter()
        .zip(&inh.rate_counts)
        .map(|(&e, &i)| (e + i) as f64)
        .collect();
    assert_eq!(counts.len(), 1000, "1 ms bins over 1 s");
    let band: Vec<(f64, f64)> = spectrum(&counts)
        .into_iter()
        .filter(|&(f, _)| (5.0..=100.0).contains(&f))
        .collect();
    let &(peak, power) = band.iter().max_by(|a, b| a.1.total_cmp(&b.1)).unwrap();
    let mut powers: Vec<f64> = band.iter().map(|b| b.1).collect();
    powers.sort_by(f64::total_cmp);
    (exc.rate_hz, inh.rate_hz, peak, power / powers[powers.len() / 2])
}

#[test]
fn izhikevich_2003_network_rates_and_alpha_rhythm_match_the_papers_code() {
    let [exc_ref, inh_ref, peak_ref] = reference();
    eprintln!("net.m reference (min, mean, max): exc {exc_ref:?} Hz, inh {inh_ref:?} Hz, peak {peak_ref:?} Hz");
    let seeds = 1..=5u64;
    let (mut exc_sum, mut inh_sum) = (0.0, 0.0);
    for seed in seeds.clone() {
        let (exc, inh, peak, prominence) = network_statistics(seed);
        eprintln!("seed {seed}: exc {exc:.3} Hz, inh {inh:.3} Hz, spectral peak {peak} Hz ({prominence:.1} x median)");
        exc_sum += exc;
        inh_sum += inh;
        // Every run inside the reference's spread (5 % margin).
        assert!(exc > 0.95 * exc_ref.0 && exc < 1.05 * exc_ref.2, "exc rate {exc} Hz");
        assert!(inh > 0.95 * inh_ref.0 && inh < 1.05 * inh_ref.2, "inh rate {inh} Hz");
        // The dominant rhythm is the paper's alpha rhythm. net.m itself puts
        // it at 7-9 Hz (1 Hz resolution), so the band starts at 7 Hz here.
        assert!((7.0..=13.0).contains(&peak), "spectral peak {peak} Hz is not alpha");
        assert!(
            peak >= peak_ref.0 && peak <= peak_ref.2,
            "spectral peak {peak} Hz outside net.m's"
        );
        assert!(prominence > 10.0, "a real peak, not noise: {prominence} x median");
    }
    let n = seeds.count() as f64;
    let (exc, inh) = (exc_sum / n, inh_sum / n);
    assert!(
        (exc / exc_ref.1 - 1.0).abs() < 0.05,
        "mean exc rate {exc} vs net.m {}",
        exc_ref.1
    );
    assert!(
        (inh / inh_ref.1 - 1.0).abs() < 0.05,
        "mean inh rate {inh} vs net.m {}",
        inh_ref.1
    );
}

#[test]
fn izhikevich_2003_network_is_bit_identical_on_one_and_two_threads() {
    // 7000 neurons (above the engine's parallel threshold, several chunks per
    // population), sparse coupling so that it stays quick; the noise and the
    // per-neuron parameters come from the chunks' streams.
    let mut net = load(
        "izhikevich2003.toml",
        &[
            "simulation.duration_ms=200".into(),
            "populations.exc.n=5600".into(),
            "populations.inh.n=1400".into(),
        ],
    );
    for projection in net.projections.values_mut() {
        projection.connect = cognitron_core::model::Connector::FixedProbability {
            p: 0.1,
            allow_autapses: true,
        };
    }
    let runs: Vec<Vec<(Vec<u32>, Vec<u32>)>> = [1, 2, 2]
        .iter()
        .map(|&threads| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let result = pool.install(|| Simulation::build(&net).run(|_| {}).unwrap());
            assert_eq!(result.threads, threads);
            result
                .populations
                .iter()
                .map(|p| (p.spike_steps.clone(), p.spike_neurons.clone()))
                .collect()
        })
        .collect();
    let total: usize = runs[0].iter().map(|p| p.0.len()).sum();
    eprintln!("{total} spikes, identical on 1 and 2 threads");
    assert!(total > 5000, "enough spikes to compare: {total}");
    assert!(
        runs[0] == runs[1] && runs[1] == runs[2],
        "spikes differ between thread counts"
    );
    // Another seed gives other spikes (the noise is drawn, not fixed).
    net.simulation.seed += 1;
    let other = Simulation::build(&net).run(|_| {}).unwrap();
    assert_ne!(other.population("exc").spike_neurons, runs[0][0].1);
}

// ---------------------------------------------------------------------------
// Bad input: refused before the run, naming the field and the value.

fn parse_error(population: &str) -> cognitron_core::error::ModelError {
    let text = format!(
        "[simulation]\ndt_ms = 0.25\nduration_ms = 10.0\n\n[populations.p]\nmodel = \"izhikevich\"\nn = 2\n{population}\n"
    );
    match experiment::parse(&text, &[]) {
        Ok(_) => panic!("accepted:\n{population}"),
        Err(e) => {
            eprintln!("{population:50} -> {e}");
            e
        }
    }
}

#[test]
fn bad_izhikevich_input_is_refused_with_field_and_value() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "a = 0.02\nb = 0.2\nc_mv = -65.0",
            "populations.p.d",
            "required unless `preset`",
        ),
        ("preset = \"tonic\"", "populations.p.preset", "tonic_spiking"),
        ("preset = \"tonic_spiking\"\na = -0.1", "populations.p.a", "positive"),
        (
            "preset = \"tonic_spiking\"\nc_mv = 40.0",
            "populations.p.c_mv",
            "below v_peak",
        ),
        (
            "preset = \"tonic_spiking\"\ni_schedule = [[10.0, 1.0], [5.0, 0.0]]",
            "populations.p.i_schedule.1",
            "increase",
        ),
        (
            "preset = \"tonic_spiking\"\ni_schedule = [[10.0, nan]]",
            "populations.p.i_schedule.0",
            "finite",
        ),
        (
            "preset = \"tonic_spiking\"\ni_schedule = [[-1.0, 1.0]]",
            "populations.p.i_schedule.0",
            ">= 0",
        ),
        (
            "preset = \"tonic_spiking\"\ni_schedule = [[10.0]]",
            "populations.p.i_schedule",
            "[t_ms, I]",
        ),
        (
            "preset = \"tonic_spiking\"\ni_schedule_interpolation = \"cubic\"",
            "populations.p.i_schedule_interpolation",
            "linear",
        ),
        (
            "preset = \"tonic_spiking\"\ni_noise_sd = -1.0",
            "populations.p.i_noise_sd",
            ">= 0",
        ),
        (
            "preset = \"tonic_spiking\"\ni_noise_interval_ms = 0.3",
            "populations.p.i_noise_interval_ms",
            "whole number",
        ),
        (
            "preset = \"tonic_spiking\"\na_r = -0.05",
            "populations.p.a_r",
            "positive",
        ),
        (
            "preset = \"tonic_spiking\"\nc_r2_mv = 100.0",
            "populations.p.c_r2_mv",
            "v_peak",
        ),
        ("preset = \"tonic_spiking\"\ne_r = 1.0", "populations.p.e_r", "unknown"),
        (
            "preset = \"tonic_spiking\"\nk_quadratic = 0.0",
            "populations.p.k_quadratic",
            "positive",
        ),
        (
            "preset = \"tonic_spiking\"\nscheme = \"rk4\"",
            "populations.p.scheme",
            "izhikevich2003",
        ),
    ];
    for &(population, field, reason) in cases {
        let e = parse_error(population);
        assert!(
            e.field.starts_with(field),
            "{population}: field `{}`, expected `{field}`",
            e.field
        );
        assert!(
            e.reason.contains(reason),
            "{population}: reason `{}` lacks `{reason}`",
            e.reason
        );
        assert!(e.line.is_some(), "{population}: no line in `{e}`");
    }
    // dt: forward Euler up to 0.5 ms, net.m's scheme up to 1 ms.
    let text = "[simulation]\ndt_ms = 1.0\nduration_ms = 10.0\n\n[populations.p]\nmodel = \"izhikevich\"\nn = 2\npreset = \"regular_spiking\"\n";
    let e = experiment::parse(text, &[]).unwrap_err();
    assert!(e.field == "simulation.dt_ms" && e.reason.contains("0.5"), "{e}");
    assert!(experiment::parse(&format!("{text}scheme = \"izhikevich2003\"\n"), &[]).is_ok());
}

#[test]
fn spike_latency_fires_late_after_a_brief_pulse() {
    let t = figure1(Preset::SpikeLatency);
    // A 3 ms pulse ending at 13 ms; the spike comes well after it.
    assert_eq!(t.len(), 1, "{t:?}");
    assert!(t[0] > 13.0 + 5.0, "latency: {t:?}");
}

#[test]
fn explicit_fields_override_a_preset() {
    // Tonic spiking with d = 8 is regular spiking (a, b, c are the same).
    let stimulus = |n: Izhikevich| Izhikevich {
        i_schedule: vec![[10.0, 10.0]],
        v_init_mv: Some(Init::Value(-65.0)),
        ..n
    };
    let overridden = Izhikevich {
        d: Some(8.0),
        ..Izhikevich::preset(1, Preset::TonicSpiking)
    };
    let rs = spikes(stimulus(Izhikevich::preset(1, Preset::RegularSpiking)), 0.25, 300.0);
    assert_eq!(spikes(stimulus(overridden), 0.25, 300.0), rs);
    assert_ne!(
        spikes(stimulus(Izhikevich::preset(1, Preset::TonicSpiking)), 0.25, 300.0),
        rs
    );
    // The I-V constants too: class 1 with 5 and 140 is the plain (2003) model.
    let class1_plain = Izhikevich {
        k_linear: Some(5.0),
        k_constant: Some(140.0),
        ..Izhikevich::preset(1, Preset::Class1Excitability)
    };
    let plain = Izhikevich {
        v_init_mv: Some(Init::Value(-60.0)),
        ..Izhikevich::new(1, 0.02, -0.1, -55.0, 6.0)
    };
    let with_preset = spikes(stimulus(class1_plain.clone()), 0.25, 300.0);
    assert_eq!(with_preset, spikes(stimulus(plain), 0.25, 300.0));
    let with_iv = spikes(stimulus(Izhikevich::preset(1, Preset::Class1Excitability)), 0.25, 300.0);
    assert_ne!(with_iv, with_preset, "4.1 v + 108 matters");
}

#[test]
fn figure1_toml_gives_the_protocols_spikes() {
    let net = load("izhikevich2004_fig1.toml", &[]);
    let result = Simulation::build(&net).run(|_| {}).unwrap();
    for (name, population) in &net.populations {
        let Population::Izhikevich(neuron) = population else {
            panic!()
        };
        let preset = neuron.preset.unwrap();
        let protocol = preset.protocol().unwrap();
        assert_eq!(protocol.dt_ms, net.simulation.dt_ms, "{name}");
        assert_eq!(neuron.i_schedule, protocol.i_schedule, "{name}: figure1.m's schedule");
        assert_eq!(neuron.i_bias, protocol.i_bias, "{name}");
        let from_toml: Vec<f64> = result
            .population(name)
            .spike_steps
            .iter()
            .map(|&s| s as f64 * 0.25)
            .filter(|&t| t < protocol.duration_ms)
            .collect();
        assert_eq!(from_toml, figure1(preset), "{name}");
    }
}

#[test]
fn izhikevich_experiments_round_trip_through_toml() {
    for name in ["izhikevich2003.toml", "izhikevich2004_fig1.toml"] {
        let net = load(name, &[]);
        let again = experiment::parse(&net.to_toml(), &[]).expect("written model parses");
        assert_eq!(again, net, "{name}");
    }
}

#[test]
fn figure1_patterns_spike_in_the_same_steps_as_figure1_m() {
    // bench/reference/izhikevich2004_figure1.py: figure1.m's loops in Python,
    // with its own stimulus conditions (not cognitron's schedules).
    let path = format!(
        "{}/../../bench/reference/izhikevich2004_figure1.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let reference = json["spike_steps"].as_object().unwrap();
    let with_protocol: Vec<Preset> = Preset::ALL.into_iter().filter(|p| p.protocol().is_some()).collect();
    assert_eq!(reference.len(), with_protocol.len());
    for preset in with_protocol {
        let protocol = preset.protocol().unwrap();
        let expected: Vec<u64> = reference[preset.name()]
            .as_array()
            .unwrap_or_else(|| panic!("no reference for {}", preset.name()))
            .iter()
            .map(|k| k.as_u64().unwrap())
            .collect();
        // figure1.m runs t = 0:tau:t_end, one step more than duration / tau.
        let neuron = Izhikevich::with_protocol(preset).unwrap();
        let steps: Vec<u64> = spikes(neuron, protocol.dt_ms, protocol.duration_ms + protocol.dt_ms)
            .iter()
            .map(|t| (t / protocol.dt_ms).round() as u64)
            .collect();
        assert_eq!(steps, expected, "{}: spike steps", preset.name());
    }
}
