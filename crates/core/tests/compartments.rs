//! Multi-compartment neurons against cable theory (Rall 1959; Koch 1999,
//! "Biophysics of Computation", ch. 2-3; Johnston & Wu 1995, ch. 4), the
//! Pinsky-Rinzel (1994) bursting neuron, and the SWC reader.
//!
//! Cable constants of a cylinder of diameter d (cm), membrane resistance
//! R_m (ohm cm^2), axial resistivity R_a (ohm cm): per unit length
//! r_m = R_m / (pi d) and r_a = 4 R_a / (pi d^2), so lambda = sqrt(r_m / r_a)
//! = sqrt(R_m d / (4 R_a)) and r_inf = sqrt(r_m r_a) = lambda r_a
//! = (2 / pi) sqrt(R_m R_a) d^{-3/2}. A finite cable of length L with a
//! sealed far end, current I injected at x = 0: V(x) = V(0) cosh((L - x)/lambda)
//! / cosh(L/lambda) and R_in = V(0)/I = r_inf coth(L/lambda)
//! (Koch 1999, eqs. 2.21-2.27).

use cognitron_core::model::{Connector, Population, SynapseModel};
use cognitron_core::neuron::compartmental::{Cable, CableParams};
use cognitron_core::neuron::morphology::{Morphology, SectionKind, SectionSpec};
use cognitron_core::neuron::{swc, Compartmental, PinskyRinzel};
use cognitron_core::{validate::validate, Network, RunResult, Simulation};
use std::f64::consts::PI;

const R_M: f64 = 10_000.0; // ohm cm^2 (g_leak = 0.1 mS/cm^2)
const R_A: f64 = 100.0; // ohm cm
const E_LEAK: f64 = -65.0;

fn passive() -> CableParams {
    CableParams {
        hh_sections: vec![],
        g_leak_ms_cm2: 1000.0 / R_M,
        r_a_ohm_cm: R_A,
        e_leak_mv: E_LEAK,
        ..CableParams::default()
    }
}

/// lambda (um) and r_inf (MOhm) of a cylinder of diameter `d_um`.
fn cable_constants(d_um: f64) -> (f64, f64) {
    let d_cm = d_um * 1e-4;
    let lambda_cm = (R_M * d_cm / (4.0 * R_A)).sqrt();
    let r_inf_ohm = 2.0 / PI * (R_M * R_A).sqrt() * d_cm.powf(-1.5);
    (lambda_cm * 1e4, r_inf_ohm * 1e-6)
}

/// Runs `cable` with constant currents (compartment, pA) until steady (backward Euler, dt = 1 ms).
fn steady_state(cable: &Cable, injected: &[(usize, f64, f64)]) -> Vec<f64> {
    let mut cell = cable.rest_state(E_LEAK);
    for _ in 0..600 {
        cable.step(&mut cell, 1.0, injected);
    }
    cell.v.iter().map(|v| v - E_LEAK).collect()
}

/// Worst relative error of the sealed-end attenuation profile and R_in with `n` compartments.
fn sealed_cable_errors(n: usize) -> (f64, f64) {
    let (length, d, current) = (1000.0, 2.0, 10.0);
    let morphology =
        Morphology::from_specs(&[SectionSpec::new("cable", SectionKind::Dendrite, length, d).with_compartments(n)])
            .unwrap();
    let cable = Cable::new(&morphology, &passive());
    let v = steady_state(&cable, &[(0, 0.0, current)]);
    let (lambda, r_inf) = cable_constants(d);
    // mV / pA = GOhm; in MOhm:
    let r_in = v[0] / current * 1e3;
    let r_in_theory = r_inf / (length / lambda).tanh();
    let mut worst_profile = 0.0f64;
    for (k, &vk) in v.iter().enumerate() {
        let x = cable.centre_um(0, k);
        let want = ((length - x) / lambda).cosh() / (length / lambda).cosh();
        // V(x)/V(0) with V(0) extrapolated: compare against the analytic V at the centres.
        let got = vk / (r_in_theory * 1e-3 * current);
        worst_profile = worst_profile.max((got / want - 1.0).abs());
    }
    eprintln!(
        "n = {n}: lambda = {lambda:.1} um, R_in = {r_in:.2} MOhm (theory {r_in_theory:.2}), worst V(x) error {:.3} %",
        worst_profile * 100.0
    );
    ((r_in / r_in_theory - 1.0).abs(), worst_profile)
}

#[test]
fn sealed_end_cable_matches_the_analytic_attenuation_and_input_resistance() {
    let (r_in_error, profile_error) = sealed_cable_errors(400);
    assert!(r_in_error < 0.01, "R_in off by {:.3} %", r_in_error * 100.0);
    assert!(profile_error < 0.01, "V(x) off by {:.3} %", profile_error * 100.0);
    // A coarse discretisation is measurably worse: the test can tell.
    let (coarse_r_in, coarse_profile) = sealed_cable_errors(3);
    assert!(
        coarse_r_in.max(coarse_profile) > 0.02,
        "3 compartments: {coarse_r_in}, {coarse_profile}"
    );
}

#[test]
fn isopotential_cell_charges_with_the_membrane_time_constant() {
    // A soma of 20 x 20 um: area 400 pi um^2; tau_m = R_m C_m = 10 ms.
    let morphology = Morphology::from_specs(&[SectionSpec::new("soma", SectionKind::Soma, 20.0, 20.0)]).unwrap();
    let cable = Cable::new(&morphology, &passive());
    assert_eq!(cable.len(), 1);
    let area_cm2 = PI * 20.0 * 20.0 * 1e-8;
    let r_ohm = R_M / area_cm2;
    let tau = R_M * 1.0e-6 * 1e3; // ohm cm^2 * uF/cm^2 = us -> ms
    let (dt, current_pa) = (0.005, 20.0);
    let v_inf = current_pa * 1e-12 * r_ohm * 1e3; // mV
    let mut cell = cable.rest_state(E_LEAK);
    let mut worst = 0.0f64;
    let mut t_63 = None;
    for step in 1..=10_000 {
        cable.step(&mut cell, dt, &[(0, 0.0, current_pa)]);
        let t = step as f64 * dt;
        let v = cell.v[0] - E_LEAK;
        let want = v_inf * (1.0 - (-t / tau).exp());
        worst = worst.max((v - want).abs() / v_inf);
        if t_63.is_none() && v >= v_inf * (1.0 - (-1.0f64).exp()) {
            t_63 = Some(t);
        }
    }
    let t_63 = t_63.expect("reaches 63 %");
    eprintln!("tau theory {tau} ms, measured {t_63} ms, worst |V - V_theory| / V_inf = {worst:.2e}");
    assert!((t_63 / tau - 1.0).abs() < 0.01, "tau measured {t_63} vs {tau}");
    assert!(worst < 0.005, "worst deviation {worst}");
}

/// A 20 x 20 um soma with a 1000 x 2 um dendrite at its end.
fn ball_and_stick(dend_compartments: usize) -> Vec<SectionSpec> {
    vec![
        SectionSpec::new("soma", SectionKind::Soma, 20.0, 20.0).with_compartments(1),
        SectionSpec::new("dend", SectionKind::Dendrite, 1000.0, 2.0)
            .child_of("soma", 1.0)
            .with_compartments(dend_compartments),
    ]
}

#[test]
fn slow_input_attenuation_in_a_passive_ball_and_stick_matches_cable_theory() {
    // Steady current at x on the dendrite: between the soma and x the cable
    // obeys V'' = V / lambda^2 with the soma as a lumped conductance G_s at 0,
    // so V(0) / V(x) = 1 / (cosh(x/lambda) + G_s r_inf sinh(x/lambda)),
    // whatever lies beyond x (Rall 1959; Koch 1999 sec. 3.2).
    let morphology = Morphology::from_specs(&ball_and_stick(200)).unwrap();
    let cable = Cable::new(&morphology, &passive());
    let (lambda, r_inf) = cable_constants(2.0);
    let g_soma_ns = 0.1 * PI * 20.0 * 20.0 * 1e-2; // mS/cm^2 * um^2 -> nS
    let rho = g_soma_ns * 1e-9 * r_inf * 1e6;
    let mut previous = 1.0;
    for x in [0.1, 0.3, 0.5, 0.7, 0.95] {
        let site = cable.compartment(1, x);
        let v = steady_state(&cable, &[(site, 0.0, 10.0)]);
        let distance = cable.centre_um(1, site - cable.first[1]);
        let got = v[0] / v[site];
        let want = 1.0 / ((distance / lambda).cosh() + rho * (distance / lambda).sinh());
        eprintln!("x = {x}: V_soma/V_site = {got:.4}, theory {want:.4}");
        assert!((got / want - 1.0).abs() < 0.01, "x = {x}: {got} vs {want}");
        assert!(got < previous);
        previous = got;
    }
}

/// One cell per synaptic site, each driven by one input spike at 20 ms.
fn epsp_network(sites: &[f64], weight_ns: f64, duration_ms: f64) -> Network {
    let mut net = Network::new(0.025, duration_ms, 1);
    net = net.spike_times("input", 1, vec![(0, 20.0)]);
    for (k, &x) in sites.iter().enumerate() {
        let name = format!("cell{k}");
        let mut cell = Compartmental::new(1, ball_and_stick(100));
        cell.hh_sections = vec![SectionKind::Soma];
        cell.synapse = SynapseModel::ConductanceExp;
        cell.tau_exc_ms = 2.0;
        cell.synapse_section = Some("dend".into());
        cell.synapse_x = x;
        net.populations.insert(name.clone(), Population::Compartmental(cell));
        net = net
            .project(
                &format!("in{k}"),
                "input",
                &name,
                Connector::AllToAll {
                    allow_autapses: true,
                    except_same_index: false,
                },
                weight_ns,
                0.1,
            )
            .record_state(&name, &["v", "v_syn"], &[0]);
    }
    net
}

fn run(net: &Network) -> RunResult {
    validate(net).expect("valid model");
    Simulation::build(net).run(|_| {}).expect("run")
}

/// (peak amplitude above the pre-input baseline (mV), time of the peak (ms)).
fn epsp(result: &RunResult, population: &str, variable: &str) -> (f64, f64) {
    let trace = result
        .traces
        .iter()
        .find(|t| t.population == population && t.variable == variable)
        .unwrap();
    let baseline_at = trace.times_ms.iter().position(|&t| t >= 19.9).unwrap();
    let baseline = trace.values[baseline_at];
    let (i, peak) = trace
        .values
        .iter()
        .enumerate()
        .skip(baseline_at)
        .fold((0, f64::MIN), |best, (i, &v)| if v > best.1 { (i, v) } else { best });
    (peak - baseline, trace.times_ms[i])
}

#[test]
fn distal_epsps_attenuate_and_slow_down_on_their_way_to_an_hh_soma() {
    let sites = [0.1, 0.4, 0.7, 0.95];
    let result = run(&epsp_network(&sites, 0.5, 60.0));
    let mut last = (f64::INFINITY, 0.0);
    for (k, x) in sites.iter().enumerate() {
        let name = format!("cell{k}");
        let (a_syn, t_syn) = epsp(&result, &name, "v_syn");
        let (a_soma, t_soma) = epsp(&result, &name, "v");
        eprintln!("x = {x}: EPSP at synapse {a_syn:.3} mV at {t_syn:.3} ms, at soma {a_soma:.3} mV at {t_soma:.3} ms");
        assert_eq!(result.populations[k + 1].spikes, 0, "subthreshold");
        assert!(a_soma > 0.05, "a visible EPSP at the soma: {a_soma}");
        assert!(a_soma < a_syn, "attenuated: {a_soma} vs {a_syn}");
        assert!(t_soma > t_syn, "delayed: {t_soma} vs {t_syn}");
        assert!(a_soma < last.0, "smaller with distance");
        assert!(t_soma - t_syn > last.1, "later with distance");
        last = (a_soma, t_soma - t_syn);
    }
}

#[test]
fn a_strong_distal_input_makes_the_soma_spike() {
    let weak = run(&epsp_network(&[0.95], 0.5, 50.0));
    let strong = run(&epsp_network(&[0.95], 30.0, 50.0));
    assert_eq!(weak.populations[1].spikes, 0);
    assert_eq!(strong.populations[1].spikes, 1, "one somatic spike");
    let (a_soma, _) = epsp(&strong, "cell0", "v");
    assert!(a_soma > 80.0, "a full action potential at the soma: {a_soma} mV");
}

/// Somatic spike times (ms) of one Pinsky-Rinzel cell.
fn pinsky_rinzel_spikes(g_c: f64, i_soma: f64, duration_ms: f64) -> Vec<f64> {
    let mut cell = PinskyRinzel::new(1, i_soma);
    cell.g_c_ms_cm2 = g_c;
    let net = Network::new(0.02, duration_ms, 1).population("pr", Population::PinskyRinzel(cell));
    let result = run(&net);
    let p = &result.populations[0];
    p.spike_steps.iter().map(|&s| s as f64 * result.dt_ms).collect()
}

/// Groups spikes closer than `gap_ms` into bursts.
fn bursts(spikes: &[f64], gap_ms: f64) -> Vec<Vec<f64>> {
    let mut out: Vec<Vec<f64>> = Vec::new();
    for &t in spikes {
        match out.last_mut() {
            Some(b) if t - b.last().unwrap() < gap_ms => b.push(t),
            _ => out.push(vec![t]),
        }
    }
    out
}

/// (spikes per burst, burst period (ms), longest intra-burst ISI (ms), shortest pause (ms)) of the
/// bursts that start after `from_ms`; bursts are spikes closer than 20 ms.
fn burst_stats(spikes: &[f64], from_ms: f64) -> (f64, f64, f64, f64) {
    let groups: Vec<Vec<f64>> = bursts(spikes, 20.0).into_iter().filter(|b| b[0] > from_ms).collect();
    assert!(groups.len() >= 4, "too few bursts after {from_ms} ms: {groups:?}");
    let per_burst = groups.iter().map(|b| b.len()).sum::<usize>() as f64 / groups.len() as f64;
    let period = (groups.last().unwrap()[0] - groups[0][0]) / (groups.len() - 1) as f64;
    let intra = groups
        .iter()
        .flat_map(|b| b.windows(2).map(|w| w[1] - w[0]))
        .fold(0.0, f64::max);
    let pause = groups
        .windows(2)
        .map(|w| w[1][0] - w[0].last().unwrap())
        .fold(f64::INFINITY, f64::min);
    (per_burst, period, intra, pause)
}

/// Spike times of an independent RK4 integration (bench/reference/pinsky_rinzel_rk4.py).
fn pinsky_rinzel_reference(g_c: f64) -> Vec<f64> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/reference/pinsky_rinzel_rk4.json");
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let case = json["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["g_c"].as_f64() == Some(g_c))
        .unwrap();
    case["spike_times_ms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_f64().unwrap())
        .collect()
}

#[test]
fn pinsky_rinzel_bursts_at_weak_coupling_and_spikes_regularly_at_strong_coupling() {
    // Pinsky & Rinzel (1994): g_c = 2.1 mS/cm^2, p = 0.5, somatic drive
    // I_s = 1.5 uA/cm^2: bursts of several spikes riding on a dendritic
    // calcium spike, separated by K-AHP pauses; at strong coupling the two
    // compartments act as one and the cell fires single spikes.
    let spikes = pinsky_rinzel_spikes(2.1, 1.5, 2000.0);
    let (per_burst, period, intra, pause) = burst_stats(&spikes, 400.0);
    let reference = burst_stats(&pinsky_rinzel_reference(2.1), 400.0);
    eprintln!(
        "g_c = 2.1, I_s = 1.5: {per_burst:.2} spikes/burst, period {period:.1} ms, longest intra-burst ISI \
         {intra:.2} ms, shortest pause {pause:.1} ms; RK4 reference {reference:.2?}"
    );
    assert!(per_burst >= 3.0, "bursts of several spikes: {per_burst}");
    assert!(intra < 8.0, "short intra-burst intervals: {intra} ms");
    assert!(pause > 10.0 * intra, "long pauses between bursts: {pause} ms");
    assert!(
        (per_burst - reference.0).abs() < 0.5,
        "spikes per burst {per_burst} vs {}",
        reference.0
    );
    assert!(
        (period / reference.1 - 1.0).abs() < 0.05,
        "burst period {period} vs {}",
        reference.1
    );

    let strong = pinsky_rinzel_spikes(10.5, 1.5, 2000.0);
    let isis: Vec<f64> = strong.windows(2).map(|w| w[1] - w[0]).collect();
    let late: Vec<f64> = isis[isis.len() - 4..].to_vec();
    let reference = pinsky_rinzel_reference(10.5);
    let reference_isi = reference[reference.len() - 1] - reference[reference.len() - 2];
    eprintln!(
        "g_c = 10.5: {} spikes, late ISIs {late:.2?} ms, RK4 reference {reference_isi:.2} ms",
        strong.len()
    );
    assert!(isis.iter().all(|&isi| isi > 20.0), "single spikes, no bursts: {isis:?}");
    for isi in late {
        assert!(
            (isi / reference_isi - 1.0).abs() < 0.03,
            "regular ISI {isi} vs {reference_isi}"
        );
    }
}

fn data(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

#[test]
fn swc_file_loads_with_the_right_sections_and_length() {
    let morphology = swc::load(&data("small_pyramid.swc")).expect("loads");
    // One soma + 9 non-soma segments; 820 um of neurites plus the soma cylinder (20 um).
    assert_eq!(morphology.sections.len(), 10);
    assert_eq!(morphology.sections[0].kind, SectionKind::Soma);
    assert!((morphology.sections[0].diameter_um - 20.0).abs() < 1e-12);
    assert!((morphology.total_length_um() - 840.0).abs() < 1e-9);
    let axons = morphology
        .sections
        .iter()
        .filter(|s| s.kind == SectionKind::Axon)
        .count();
    assert_eq!(axons, 2);
    // Parents come first; the tuft branch point has two children.
    for (i, s) in morphology.sections.iter().enumerate().skip(1) {
        assert!(s.parent.unwrap() < i);
    }
    // Compartments from the d_lambda rule: odd counts, summing to the cable's size.
    let params = CableParams::default();
    let cable = Cable::new(&morphology, &params);
    let counts = morphology.compartment_counts(params.d_lambda, params.r_a_ohm_cm, params.c_m_uf_cm2);
    assert_eq!(cable.len(), counts.iter().sum::<usize>());
    assert!(counts.iter().all(|&n| n % 2 == 1));
    // NEURON's d_lambda rule for the 1000 x 2 um dendrite (R_a 100 ohm cm, C_m 1 uF/cm^2):
    // lambda_100Hz = 1e5 sqrt(2 / (4 pi 100 * 100)) = 398.9 um, nseg = int((1000 / 39.89 + 0.9) / 2) * 2 + 1 = 25.
    let rule = Morphology::from_specs(&[SectionSpec::new("dend", SectionKind::Dendrite, 1000.0, 2.0)]).unwrap();
    assert_eq!(rule.compartment_counts(0.1, 100.0, 1.0), vec![25]);
    // Explicit counts override the rule.
    let fine = Morphology::from_specs(&ball_and_stick(37)).unwrap();
    assert_eq!(Cable::new(&fine, &params).len(), 38);
}

#[test]
fn bad_swc_files_are_refused_with_file_line_and_value() {
    let cases: &[(&str, &str, usize, &str)] = &[
        ("1 1 0 0 0 10 -1\n2 3 0 10 0 1 7\n", "7", 2, "no point has"),
        ("1 1 0 0 0 10 -1\n2 3 0 10 0 1 3\n3 3 0 20 0 1 2\n", "3", 2, "cycle"),
        ("1 1 0 0 0 10 -1\n2 3 0 10 0 -1 1\n", "-1", 2, "radius must be positive"),
        ("1 1 0 0 0 10 -1\n2 3 0 10 0 0 1\n", "0", 2, "radius must be positive"),
        (
            "# header\n1 1 0 0 0 10 -1\n2 3 0 10 0 1\n",
            "2 3 0 10 0 1",
            3,
            "expected 7 columns",
        ),
        ("1 1 0 0 0 10 -1\n2 1 50 0 0 10 -1\n", "2", 2, "second root"),
        ("1 1 0 0 0 10 -1\n2 3 0 ten 0 1 1\n", "ten", 2, "column `y`"),
        (
            "1 1 0 0 0 10 -1\n2 3 0 10 0 1 1\n2 3 0 20 0 1 2\n",
            "2",
            3,
            "duplicate id",
        ),
        ("1 1 0 0 0 10 -1\n2 3 0 0 0 1 1\n", "2", 2, "zero length"),
    ];
    for &(text, value, line, reason) in cases {
        let err = swc::parse(text, "bad.swc").expect_err(text);
        let message = err.to_string();
        assert_eq!(err.file, "bad.swc");
        assert_eq!(err.line, line, "{message}");
        assert_eq!(err.value, value, "{message}");
        assert!(message.contains(reason), "{message}");
        assert!(message.starts_with(&format!("bad.swc:{line}:")), "{message}");
    }
    let missing = swc::load(std::path::Path::new("no/such/file.swc")).unwrap_err();
    assert!(missing.to_string().contains("no/such/file.swc"));
}

#[test]
fn experiments_name_the_swc_file_and_line_of_a_bad_morphology() {
    let dir = std::env::temp_dir().join(format!("cognitron-swc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.swc");
    std::fs::write(&bad, "1 1 0 0 0 10 -1\n2 3 0 10 0 -2 1\n").unwrap();
    let text = format!(
        "[simulation]\nduration_ms = 1.0\ndt_ms = 0.025\n[populations.cell]\nmodel = \"compartmental\"\nn = 1\nswc = \"{}\"\n",
        bad.display()
    );
    let err = cognitron_core::experiment::parse(&text, &[]).unwrap_err().to_string();
    assert!(err.contains("populations.cell.swc"), "{err}");
    assert!(err.contains(&format!("{}:2:", bad.display())), "{err}");
    assert!(err.contains("-2") && err.contains("radius"), "{err}");
    let good = text.replace(
        &bad.display().to_string(),
        &data("small_pyramid.swc").display().to_string(),
    );
    cognitron_core::experiment::parse(&good, &[]).expect("the committed SWC file loads through an experiment");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn experiments_name_the_field_and_line_of_a_bad_inline_section() {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments/ball_and_stick.toml"),
    )
    .unwrap();
    cognitron_core::experiment::parse(&text, &[]).expect("the example parses");
    let line_of = |text: &str, needle: &str| text.lines().position(|l| l.starts_with(needle)).unwrap() + 1;
    let cases = [
        (
            "length_um = 1000.0",
            "length_um = -1000.0",
            "sections.1.length_um",
            "-1000",
        ),
        ("parent = \"soma\"", "parent = \"trunk\"", "sections.1.parent", "trunk"),
        (
            "compartments = 100",
            "compartmentz = 100",
            "sections.1.compartmentz",
            "100",
        ),
        (
            "hh_sections = [\"soma\"]",
            "hh_sections = [\"somma\"]",
            "hh_sections.0",
            "\"somma\"",
        ),
        ("synapse_x = 0.9", "synapse_x = 1.5", "synapse_x", "1.5"),
        (
            "synapse_section = \"dend\"",
            "synapse_section = \"apical\"",
            "synapse_section",
            "\"apical\"",
        ),
    ];
    for (good, bad, field, value) in cases {
        let broken = text.replacen(good, bad, 1);
        let err = cognitron_core::experiment::parse(&broken, &[]).unwrap_err();
        assert_eq!(err.field, format!("populations.cell.{field}"), "{err}");
        assert_eq!(err.value, value, "{err}");
        assert_eq!(err.line, Some(line_of(&broken, bad)), "{err}");
    }
}

#[test]
fn current_synapse_on_an_isopotential_cell_gives_the_analytic_psp() {
    // C dV/dt = -V/R + I0 e^{-t/tau_s}: V = I0 / (C (1/tau_m - 1/tau_s)) (e^{-t/tau_s} - e^{-t/tau_m}).
    let (dt, i0, tau_s) = (0.01, 100.0, 5.0);
    let mut cell = Compartmental::new(1, vec![SectionSpec::new("soma", SectionKind::Soma, 20.0, 20.0)]);
    cell.hh_sections = vec![];
    cell.synapse = SynapseModel::CurrentExp;
    cell.tau_exc_ms = tau_s;
    let net = Network::new(dt, 60.0, 1)
        .spike_times("input", 1, vec![(0, 10.0)])
        .population("cell", Population::Compartmental(cell))
        .project("in", "input", "cell", Connector::OneToOne, i0, 0.1)
        .record_state("cell", &["v"], &[0]);
    let result = run(&net);
    let trace = result.traces.iter().find(|t| t.variable == "v").unwrap();
    let c_pf = 1.0 * PI * 400.0 * 1e-2; // uF/cm^2 * um^2 -> pF
    let tau_m = 10.0;
    let onset = 10.1; // emitted at 10 ms, applied one delay (0.1 ms) later
    let k = i0 / (c_pf * (1.0 / tau_m - 1.0 / tau_s));
    let peak_time = (tau_m * tau_s / (tau_m - tau_s)) * (tau_m / tau_s).ln();
    let peak = k * ((-peak_time / tau_s).exp() - (-peak_time / tau_m).exp());
    let mut worst = 0.0f64;
    for (&t, &v) in trace.times_ms.iter().zip(&trace.values) {
        let s = t - onset;
        let want = if s > 0.0 {
            k * ((-s / tau_s).exp() - (-s / tau_m).exp())
        } else {
            0.0
        };
        worst = worst.max((v - E_LEAK - want).abs());
    }
    eprintln!("PSP peak {peak:.3} mV, worst deviation {worst:.2e} mV");
    assert!(worst < 0.01 * peak, "worst deviation {worst} mV of a {peak} mV PSP");
}

#[test]
fn bad_inline_morphologies_are_refused() {
    let soma = || SectionSpec::new("soma", SectionKind::Soma, 20.0, 20.0);
    let dend = || SectionSpec::new("dend", SectionKind::Dendrite, 100.0, 1.0);
    let cases: Vec<(Vec<SectionSpec>, usize, &str, &str)> = vec![
        (vec![soma(), dend()], 1, "parent", "only the first section"),
        (
            vec![soma(), dend().child_of("tuft", 1.0)],
            1,
            "parent",
            "no section has this name",
        ),
        (
            vec![
                soma(),
                dend().child_of("tuft", 1.0),
                SectionSpec::new("tuft", SectionKind::Dendrite, 50.0, 1.0).child_of("soma", 1.0),
            ],
            1,
            "parent",
            "listed before",
        ),
        (vec![soma(), dend().child_of("soma", 1.5)], 1, "parent_x", "[0, 1]"),
        (vec![soma(), soma().child_of("soma", 1.0)], 1, "name", "two sections"),
        (
            vec![SectionSpec::new("soma", SectionKind::Soma, 0.0, 20.0)],
            0,
            "length_um",
            "positive",
        ),
        (
            vec![SectionSpec::new("soma", SectionKind::Soma, 20.0, f64::NAN)],
            0,
            "diameter_um",
            "positive",
        ),
        (
            vec![soma(), dend().child_of("soma", 1.0).with_compartments(0)],
            1,
            "compartments",
            "between 1",
        ),
    ];
    for (specs, section, field, reason) in cases {
        let err = Morphology::from_specs(&specs).unwrap_err();
        assert_eq!((err.section, err.field), (section, field), "{err}");
        assert!(err.reason.contains(reason), "{err}");
    }
}
