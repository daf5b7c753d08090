//! The AdEx neuron (Brette & Gerstner 2005) against known answers: the
//! firing patterns of Naud et al. (2008) Table 1, each by a measurable
//! signature; spike times at dt = 0.1 ms against an independent fine-step
//! reference integrated here; the closed-form sub-threshold response; the
//! rheobase g_L (V_T - E_L - Delta_T); no inf/NaN under extreme input; and
//! the TOML side (presets, overrides, the current schedule, bad input).
//!
//! Timing: a spike reported in step s happened in [s dt, (s + 1) dt); the
//! state monitor samples after step k, at (k + 1) dt.

use cognitron_core::model::{Init, Population, SynapseModel};
use cognitron_core::neuron::adex::AdexRow;
use cognitron_core::neuron::{Adex, AdexPreset};
use cognitron_core::{experiment, validate::validate, Network, RunResult, Simulation};

const DT: f64 = 0.1;
const ONSET: f64 = 50.0;

fn run(net: &Network) -> RunResult {
    validate(net).expect("valid model");
    Simulation::build(net).run(|_| {}).expect("run")
}

fn single(adex: Adex, duration_ms: f64) -> Network {
    let mut net = Network::new(DT, duration_ms, 1);
    net.populations.insert("n".into(), Population::Adex(adex));
    net
}

/// Spike times (ms, start of the step) of neuron 0.
fn spike_times(result: &RunResult) -> Vec<f64> {
    let p = result.population("n");
    assert!(p.recorded);
    p.spike_steps.iter().map(|&s| s as f64 * DT).collect()
}

/// Spike times of a preset driven by its Table 1 step current from `ONSET`.
fn pattern(preset: AdexPreset, duration_ms: f64) -> Vec<f64> {
    let adex = Adex {
        i_onset_ms: ONSET,
        ..Adex::preset(1, preset)
    };
    spike_times(&run(&single(adex, duration_ms)))
}

fn isis(times: &[f64]) -> Vec<f64> {
    times.windows(2).map(|w| w[1] - w[0]).collect()
}

fn cv(x: &[f64]) -> f64 {
    let mean = x.iter().sum::<f64>() / x.len() as f64;
    let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / x.len() as f64;
    var.sqrt() / mean
}

/// Bursts: runs of spikes separated by less than `gap` ms.
fn bursts(times: &[f64], gap: f64) -> Vec<Vec<f64>> {
    let mut out: Vec<Vec<f64>> = Vec::new();
    for &t in times {
        match out.last_mut() {
            Some(b) if t - b.last().unwrap() < gap => b.push(t),
            _ => out.push(vec![t]),
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Firing patterns (Naud et al. 2008, Fig. 4 and Table 1)
// ---------------------------------------------------------------------------

#[test]
fn tonic_fires_at_constant_intervals() {
    let t = pattern(AdexPreset::Tonic, 1000.0);
    let isi = isis(&t);
    println!("tonic: {} spikes, ISIs {:.2?}", t.len(), &isi[..5]);
    assert!(t.len() > 50);
    // Already the first interval is the steady one: no adaptation (b = 0, short tau_w).
    assert!(cv(&isi[1..]) < 0.02, "CV {}", cv(&isi[1..]));
    let (first, last) = (isi[1], isi[isi.len() - 1]);
    assert!((first - last).abs() < 0.1 * last, "first {first}, last {last}");
}

#[test]
fn adapting_intervals_grow_then_settle() {
    let t = pattern(AdexPreset::Adapting, 1500.0);
    let isi = isis(&t);
    println!("adapting: ISIs {:.1?}", isi);
    // The first intervals grow monotonically...
    for k in 1..5 {
        assert!(isi[k] > isi[k - 1], "ISI {k}: {:.2?}", &isi[..6]);
    }
    assert!(isi[isi.len() - 1] > 4.0 * isi[0], "{:.2?}", isi);
    // ...and settle: the last three within 2 % of each other.
    let tail = &isi[isi.len() - 3..];
    let spread = tail.iter().cloned().fold(f64::MIN, f64::max) - tail.iter().cloned().fold(f64::MAX, f64::min);
    assert!(spread < 0.02 * tail[2], "tail {tail:.2?}");
}

#[test]
fn initial_burst_then_regular_spiking() {
    let t = pattern(AdexPreset::InitialBurst, 1000.0);
    let isi = isis(&t);
    println!("initial burst: ISIs {:.1?}", isi);
    let later = &isi[4..];
    let steady = later.iter().sum::<f64>() / later.len() as f64;
    // A burst of at least three spikes whose intervals are a fraction of the later ones.
    assert!(isi[0] < 0.25 * steady && isi[1] < 0.25 * steady, "{isi:.2?}");
    assert!(cv(later) < 0.05, "later CV {}", cv(later));
}

#[test]
fn regular_bursting_repeats_bursts_separated_by_pauses() {
    let t = pattern(AdexPreset::RegularBursting, 1000.0);
    let b = bursts(&t, 30.0);
    println!("regular bursting: {:?}", b.iter().map(|b| b.len()).collect::<Vec<_>>());
    assert!(b.len() >= 5, "{} bursts", b.len());
    let intra = isis(&t).into_iter().filter(|&i| i < 30.0).fold(0.0, f64::max);
    for pair in b.windows(2) {
        assert!(pair[0].len() >= 2, "burst of {} spike(s)", pair[0].len());
        let pause = pair[1][0] - pair[0].last().unwrap();
        assert!(pause > 10.0 * intra, "pause {pause} vs intra-burst ISI {intra}");
    }
}

#[test]
fn delayed_accelerating_starts_late_and_speeds_up() {
    let t = pattern(AdexPreset::DelayedAccelerating, 1000.0);
    let isi = isis(&t);
    println!(
        "delayed accelerating: latency {:.1}, ISIs {:.1?}",
        t[0] - ONSET,
        &isi[..6]
    );
    // Tonic's first spike, with the same membrane, comes after ~12 ms; here
    // the negative a (a depolarising w) makes the neuron wait.
    assert!(t[0] - ONSET > 25.0, "latency {}", t[0] - ONSET);
    assert!(isi[0] > 1.5 * isi[isi.len() - 1], "{isi:.2?}");
    assert!(isi[0] > isi[2] && isi[2] > isi[5]);
}

#[test]
fn delayed_regular_bursting_starts_late_and_bursts() {
    let t = pattern(AdexPreset::DelayedRegularBursting, 1000.0);
    let b = bursts(&t, 20.0);
    println!(
        "delayed regular bursting: latency {:.1}, bursts {:?}",
        t[0] - ONSET,
        b.iter().map(|b| b.len()).collect::<Vec<_>>()
    );
    assert!(t[0] - ONSET > 40.0, "latency {}", t[0] - ONSET);
    assert!(b.len() >= 8);
    assert!(b[..b.len() - 1].iter().all(|b| b.len() >= 3), "{b:?}");
}

#[test]
fn transient_fires_then_falls_silent() {
    let t = pattern(AdexPreset::Transient, 1000.0);
    println!("transient: {t:?}");
    assert!(!t.is_empty() && t[0] - ONSET < 60.0, "{t:?}");
    assert!(t.iter().all(|&s| s < ONSET + 100.0), "{t:?}");
}

#[test]
fn irregular_has_variable_intervals() {
    let t = pattern(AdexPreset::Irregular, 2000.0);
    let isi: Vec<f64> = isis(&t).into_iter().skip(5).collect();
    println!("irregular: {} spikes, CV {:.3}", t.len(), cv(&isi));
    assert!(isi.len() > 50);
    assert!(cv(&isi) > 0.3, "CV {}", cv(&isi));
}

// ---------------------------------------------------------------------------
// Accuracy against an independent fine-step reference
// ---------------------------------------------------------------------------

/// Classic RK4 with a step of `h` ms (a divisor of dt) from rest, current
/// `row.i_step_pa` from `onset`; a step that crosses v_peak = 0 is cut at
/// the crossing (bisection on its length, to 1e-9 ms), the neuron reset
/// there and the step finished from the reset. Returns the spike times and
/// v at the end of every dt.
fn reference(row: AdexRow, onset: f64, duration: f64, h: f64) -> (Vec<f64>, Vec<f64>) {
    // As in the model, the right-hand side sees v no higher than the peak.
    let f = |v: f64, w: f64, i: f64| {
        let v = v.min(0.0);
        let arg = ((v - row.v_t_mv) / row.delta_t_mv).min(50.0);
        let dv = (-row.g_l_ns * (v - row.e_l_mv) + row.g_l_ns * row.delta_t_mv * arg.exp() - w + i) / row.c_m_pf;
        let dw = (row.a_ns * (v - row.e_l_mv) - w) / row.tau_w_ms;
        (dv, dw)
    };
    let rk4 = |v: f64, w: f64, i: f64, h: f64| {
        let (a1, b1) = f(v, w, i);
        let (a2, b2) = f(v + 0.5 * h * a1, w + 0.5 * h * b1, i);
        let (a3, b3) = f(v + 0.5 * h * a2, w + 0.5 * h * b2, i);
        let (a4, b4) = f(v + h * a3, w + h * b3, i);
        (
            v + h / 6.0 * (a1 + 2.0 * a2 + 2.0 * a3 + a4),
            w + h / 6.0 * (b1 + 2.0 * b2 + 2.0 * b3 + b4),
        )
    };
    let (mut v, mut w) = (row.e_l_mv, 0.0);
    let mut spikes = Vec::new();
    let mut samples = Vec::new();
    let per_dt = (DT / h).round() as u64;
    let steps = (duration / h).round() as u64;
    for k in 0..steps {
        let t = k as f64 * h;
        let i = if t >= onset - 1e-9 { row.i_step_pa } else { 0.0 };
        let (v1, w1) = rk4(v, w, i, h);
        if v1 >= 0.0 {
            let (mut lo, mut hi) = (0.0, h);
            while hi - lo > 1e-9 {
                let mid = 0.5 * (lo + hi);
                if rk4(v, w, i, mid).0 >= 0.0 {
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
            let (_, w_peak) = rk4(v, w, i, hi);
            spikes.push(t + hi);
            (v, w) = rk4(row.v_r_mv, w_peak + row.b_pa, i, h - hi);
        } else {
            (v, w) = (v1, w1);
        }
        if (k + 1) % per_dt == 0 {
            samples.push(v);
        }
    }
    (spikes, samples)
}

/// Every spike of every regular pattern falls in the 0.1 ms step in which
/// the reference (RK4, h = 0.0002 ms) has it, over 500 ms, and v at every
/// sample below V_T stays within 0.01 mV of the reference's (outside the
/// steps that hold a spike, where the two resets are up to a step apart). A
/// forward-Euler step of 0.1 ms puts the 8th tonic spike 3 ms late; a single
/// Dormand-Prince step per 0.1 ms gets the spike steps right but misses v
/// by more than 0.01 mV.
#[test]
fn spike_times_and_voltage_match_a_fine_step_reference() {
    for preset in [
        AdexPreset::Tonic,
        AdexPreset::Adapting,
        AdexPreset::InitialBurst,
        AdexPreset::RegularBursting,
        AdexPreset::DelayedAccelerating,
        AdexPreset::DelayedRegularBursting,
        AdexPreset::Transient,
    ] {
        let adex = Adex {
            i_onset_ms: ONSET,
            ..Adex::preset(1, preset)
        };
        let result = run(&single(adex, 500.0).record_state("n", &["v"], &[0]));
        let got = spike_times(&result);
        let (want, v_ref) = reference(preset.row(), ONSET, 500.0, 0.0002);
        assert_eq!(got.len(), want.len(), "{preset:?}: {got:?} vs {want:?}");
        let worst = got
            .iter()
            .zip(&want)
            .map(|(g, w)| (w - (g + 0.5 * DT)).abs())
            .fold(0.0, f64::max);
        assert!(worst <= 0.5 * DT + 1e-6, "{preset:?}: {got:?} vs {want:?}");
        let spike_steps = &result.population("n").spike_steps;
        let v = &result.traces[0].values;
        assert_eq!(v.len(), v_ref.len());
        let mut worst_v = 0.0f64;
        for (k, (a, b)) in v.iter().zip(&v_ref).enumerate() {
            // Above V_T, v runs away within a fraction of a millisecond and
            // tiny differences in time become large ones in v.
            if spike_steps.binary_search(&(k as u32)).is_err() && a.max(*b) < preset.row().v_t_mv {
                worst_v = worst_v.max((a - b).abs());
            }
        }
        println!(
            "{preset:?}: {} spikes, worst |t_ref - step centre| = {worst:.4} ms, worst |v - v_ref| = {worst_v:.2e} mV",
            got.len()
        );
        assert!(worst_v < 0.01, "{preset:?}: {worst_v} mV");
    }
}

/// experiments/adex_patterns.toml against Brian2 2.9.0 running the same
/// protocol with RK4 at dt = 0.001 ms (bench/reference/adex_brian2.py, stored
/// in bench/reference/brian2_adex_patterns.json): the same number of spikes
/// for every pattern, each within half a step of the 0.1 ms step where
/// cognitron has it. Not tighter: Brian2 resets at the end of the 0.001 ms
/// step that crosses (up to 0.001 ms late), and these errors add up over a
/// run, to 0.035 ms at the 26th spike of delayed regular bursting when
/// compared with RK4 that locates the crossing (547.47 ms against
/// 547.505-547.509 ms at h = 0.001-0.0005 ms; cognitron: step [547.5, 547.6)).
/// The strict check is `spike_times_and_voltage_match_a_fine_step_reference`.
#[test]
fn example_matches_brian2_spike_times() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../");
    let text = std::fs::read_to_string(format!("{root}bench/reference/brian2_adex_patterns.json")).unwrap();
    let reference: serde_json::Value = serde_json::from_str(&text).unwrap();
    let net = experiment::parse(
        &std::fs::read_to_string(format!("{root}experiments/adex_patterns.toml")).unwrap(),
        &[],
    )
    .unwrap();
    let result = run(&net);
    for p in &result.populations {
        let want: Vec<f64> = reference["patterns"][&p.name]
            .as_array()
            .unwrap_or_else(|| panic!("no reference for {}", p.name))
            .iter()
            .map(|t| t.as_f64().unwrap())
            .collect();
        assert_eq!(p.spike_steps.len(), want.len(), "{}", p.name);
        // Brian2's crossing lies in (t_b, t_b + 0.001]; ours in [s dt, (s + 1) dt).
        let mut worst = 0.0f64;
        // The irregular pattern amplifies any difference (two event-located
        // RK4 runs at h = 0.001 and 0.0005 ms are 0.4 ms apart by the 10th
        // spike): only its first five spikes are compared in time.
        let timed = if p.name == "irregular" { 5 } else { want.len() };
        for (k, (&s, &t_b)) in p.spike_steps.iter().zip(&want).take(timed).enumerate() {
            let (lo, hi) = (s as f64 * DT, (s + 1) as f64 * DT);
            let outside = (lo - (t_b + 0.001)).max(t_b - hi).max(0.0);
            worst = worst.max(outside);
            assert!(outside <= 0.5 * DT, "{} spike {k}: step {s}, Brian2 {t_b}", p.name);
        }
        println!(
            "{}: {} spikes as Brian2, worst distance outside the step {worst:.4} ms",
            p.name,
            want.len()
        );
    }
}

// ---------------------------------------------------------------------------
// Closed-form checks
// ---------------------------------------------------------------------------

/// a = b = 0, Delta_T = 0.05 mV and V_T far above the trajectory: the
/// exponential term is below e^-100, and v relaxes exactly as
/// E_L + I/g_L (1 - e^{-(t - t0) g_L / C}). With a = 4 nS the linear 2-D
/// system (v, w) has a closed form too (eigen-decomposition), checked as well.
#[test]
fn subthreshold_step_response_is_the_closed_form() {
    let (c, g_l, e_l, i) = (200.0, 10.0, -70.0, 120.0);
    for (a, tau_w) in [(0.0, 100.0), (4.0, 100.0)] {
        let row = AdexRow {
            c_m_pf: c,
            g_l_ns: g_l,
            e_l_mv: e_l,
            v_t_mv: -50.0,
            delta_t_mv: 0.05,
            a_ns: a,
            tau_w_ms: tau_w,
            b_pa: 0.0,
            v_r_mv: -60.0,
            i_step_pa: i,
        };
        let adex = Adex {
            i_onset_ms: 20.0,
            ..Adex::with(1, row)
        };
        let result = run(&single(adex, 300.0).record_state("n", &["v"], &[0]));
        let trace = &result.traces[0];
        // x = (v - E_L, w): x' = M x + (I/C, 0) with
        // M = [[-g_L/C, -1/C], [a/tau_w, -1/tau_w]].
        let (m11, m12, m21, m22) = (-g_l / c, -1.0 / c, a / tau_w, -1.0 / tau_w);
        let det = m11 * m22 - m12 * m21;
        // Fixed point x* = -M^-1 (I/C, 0).
        let (x1, x2) = (-(m22 * i / c) / det, (m21 * i / c) / det);
        let tr = m11 + m22;
        let disc = (tr * tr / 4.0 - det).sqrt();
        let (l1, l2) = (tr / 2.0 + disc, tr / 2.0 - disc);
        // x(t) - x* = c1 e^{l1 t} u1 + c2 e^{l2 t} u2, u_k = (m12, l_k - m11), from x(0) = 0.
        let (u1, u2) = ((m12, l1 - m11), (m12, l2 - m11));
        let (r1, r2) = (-x1, -x2);
        let dd = u1.0 * u2.1 - u2.0 * u1.1;
        let (c1, c2) = ((r1 * u2.1 - u2.0 * r2) / dd, (u1.0 * r2 - r1 * u1.1) / dd);
        let mut worst = 0.0f64;
        for (&t, &v) in trace.times_ms.iter().zip(&trace.values) {
            let s = t - 20.0;
            let want = if s <= 1e-9 {
                e_l
            } else {
                e_l + x1 + c1 * (l1 * s).exp() * u1.0 + c2 * (l2 * s).exp() * u2.0
            };
            worst = worst.max((v - want).abs());
        }
        println!("a = {a}: worst |v - closed form| = {worst:e} mV");
        assert!(worst < 1e-5, "a = {a}: {worst}");
        assert!(result.population("n").spikes == 0);
    }
}

/// For a = 0 the neuron fires under a constant current iff
/// I > I_rh = g_L (V_T - E_L - Delta_T) (the saddle-node of the v-nullcline);
/// found by bisection on 3 s runs, within 1 %.
#[test]
fn rheobase_is_found_within_one_percent() {
    let row = AdexRow {
        a_ns: 0.0,
        b_pa: 0.0,
        ..AdexPreset::Tonic.row()
    };
    let rheobase = row.g_l_ns * (row.v_t_mv - row.e_l_mv - row.delta_t_mv);
    let fires = |i: f64| {
        let adex = Adex::with(1, AdexRow { i_step_pa: i, ..row });
        run(&single(adex, 3000.0)).population("n").spikes > 0
    };
    let (mut lo, mut hi) = (0.8 * rheobase, 1.2 * rheobase);
    assert!(!fires(lo) && fires(hi));
    for _ in 0..9 {
        let mid = 0.5 * (lo + hi);
        if fires(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    let found = 0.5 * (lo + hi);
    println!("rheobase: bisection {found:.3} pA, g_L (V_T - E_L - Delta_T) = {rheobase} pA");
    assert!((found - rheobase).abs() < 0.01 * rheobase, "{found} vs {rheobase}");
}

/// With a = b = 0 (w stays 0) the trajectory after the refractory period
/// is the one without it, started t_ref later: every interval grows by t_ref.
#[test]
fn refractory_period_adds_to_every_interval() {
    let row = AdexRow {
        a_ns: 0.0,
        b_pa: 0.0,
        ..AdexPreset::Tonic.row()
    };
    let mean_isi = |t_ref_ms: f64| {
        let t = spike_times(&run(&single(
            Adex {
                t_ref_ms,
                ..Adex::with(1, row)
            },
            1000.0,
        )));
        (t[t.len() - 1] - t[0]) / (t.len() - 1) as f64
    };
    let (free, refractory) = (mean_isi(0.0), mean_isi(5.0));
    println!("mean ISI {free:.4} ms, with t_ref = 5 ms {refractory:.4} ms");
    assert!((refractory - free - 5.0).abs() < 0.01, "{free} -> {refractory}");
}

/// Synaptic input into the AdEx far below threshold (a = b = 0): the
/// engine holds the synaptic current (current_exp) or conductance
/// (conductance_exp) over each step at its value at the step's start, so
/// v relaxes exactly, step by step, towards E_L + I_k / g_L, or towards
/// (g_L E_L + g_k E_syn) / (g_L + g_k) with time constant C / (g_L + g_k).
#[test]
fn synaptic_input_follows_the_step_by_step_solution() {
    let (c, g_l, e_l, tau_s) = (200.0, 10.0, -70.0, 5.0);
    for (synapse, weight) in [(SynapseModel::CurrentExp, 300.0), (SynapseModel::ConductanceExp, 3.0)] {
        let row = AdexRow {
            c_m_pf: c,
            g_l_ns: g_l,
            e_l_mv: e_l,
            v_t_mv: -20.0,
            delta_t_mv: 0.5,
            a_ns: 0.0,
            tau_w_ms: 100.0,
            b_pa: 0.0,
            v_r_mv: -60.0,
            i_step_pa: 0.0,
        };
        let adex = Adex {
            synapse,
            tau_exc_ms: tau_s,
            ..Adex::with(1, row)
        };
        // A spike at 10 ms with a delay of one step acts from step 101.
        let net = single(adex, 60.0)
            .spike_times("in", 1, vec![(0, 10.0)])
            .project(
                "in_n",
                "in",
                "n",
                cognitron_core::model::Connector::OneToOne,
                weight,
                0.1,
            )
            .record_state("n", &["v"], &[0]);
        let result = run(&net);
        let v = &result.traces[0].values;
        let mut want = e_l;
        let mut worst = 0.0f64;
        for (k, &got) in v.iter().enumerate() {
            let g = if k >= 101 {
                weight * (-((k - 101) as f64) * DT / tau_s).exp()
            } else {
                0.0
            };
            let (g_total, target) = match synapse {
                SynapseModel::CurrentExp => (g_l, e_l + g / g_l),
                _ => (g_l + g, (g_l * e_l + g * 0.0) / (g_l + g)),
            };
            want = target + (want - target) * (-DT * g_total / c).exp();
            worst = worst.max((got - want).abs());
        }
        let peak = v.iter().cloned().fold(f64::MIN, f64::max);
        println!("{synapse:?}: peak {peak:.3} mV, worst |v - step-by-step solution| = {worst:.2e} mV");
        assert!(peak > e_l + 1.0 && worst < 1e-6, "{synapse:?}: {worst}");
    }
}

// ---------------------------------------------------------------------------
// Robustness
// ---------------------------------------------------------------------------

/// Huge input, a tiny slope factor, a large delta-synapse kick: the
/// exponential never overflows, the state stays finite, at most one spike
/// per step.
#[test]
fn extreme_input_never_gives_inf_or_nan() {
    let row = AdexRow {
        delta_t_mv: 0.01,
        i_step_pa: 1e6,
        ..AdexPreset::Tonic.row()
    };
    let adex = Adex {
        v_peak_mv: 50.0,
        t_ref_ms: 0.0,
        ..Adex::with(1, row)
    };
    let result = run(&single(adex, 50.0).record_state("n", &["v", "w"], &[0]));
    assert!(result.traces.iter().all(|t| t.values.iter().all(|x| x.is_finite())));
    let steps = &result.population("n").spike_steps;
    assert!(steps.len() > 100 && steps.windows(2).all(|w| w[1] > w[0]));

    let mut net = single(
        Adex {
            synapse: SynapseModel::Delta,
            ..Adex::preset(1, AdexPreset::Tonic)
        },
        20.0,
    )
    .spike_times("kick", 1, vec![(0, 5.0)]);
    net = net.project(
        "k",
        "kick",
        "n",
        cognitron_core::model::Connector::AllToAll {
            allow_autapses: true,
            except_same_index: false,
        },
        1e4,
        0.1,
    );
    let result = run(&net.record_state("n", &["v"], &[0]));
    assert!(result.traces[0].values.iter().all(|x| x.is_finite()));
    assert!(result.population("n").spike_steps.contains(&51));
}

// ---------------------------------------------------------------------------
// TOML: presets, overrides, the current schedule, bad input
// ---------------------------------------------------------------------------

const ONE: &str = "[simulation]\nduration_ms = 600.0\n[populations.n]\nmodel = \"adex\"\nn = 1\n";

#[test]
fn the_example_experiment_parses_and_every_preset_fires() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../experiments/adex_patterns.toml"
    ))
    .expect("example file");
    let net = experiment::parse(&text, &[]).expect("valid example");
    assert_eq!(net.populations.len(), 8);
    let result = run(&net);
    for p in &result.populations {
        assert!(p.spikes > 0, "{} is silent", p.name);
    }
}

#[test]
fn explicit_fields_override_the_preset() {
    let net = experiment::parse(
        &format!("{ONE}preset = \"adapting\"\nb_pa = 0.0\ni_step_pa = 400.0\n"),
        &[],
    )
    .unwrap();
    let Population::Adex(adex) = &net.populations["n"] else {
        panic!()
    };
    let row = adex.resolve().unwrap();
    assert_eq!(
        row,
        AdexRow {
            b_pa: 0.0,
            i_step_pa: 400.0,
            ..AdexPreset::Adapting.row()
        }
    );
    // Without b the only adaptation left is a = 2 nS: far fewer spikes lost
    // than with the preset's b = 60 pA.
    let without_b = run(&net).population("n").spikes;
    let with_b = run(&experiment::parse(&format!("{ONE}preset = \"adapting\"\ni_step_pa = 400.0\n"), &[]).unwrap())
        .population("n")
        .spikes;
    println!("adapting at 400 pA: {with_b} spikes, with b = 0: {without_b}");
    assert!(without_b > 2 * with_b);
}

/// The schedule switches the tonic neuron on at 100 ms and off at 300 ms.
#[test]
fn current_schedule_switches_firing_on_and_off() {
    let text =
        format!("{ONE}preset = \"tonic\"\ni_step_pa = 0.0\ni_schedule = [[0.0, 0.0], [100.0, 500.0], [300.0, 0.0]]\n");
    let net = experiment::parse(&text, &[]).unwrap();
    let t = spike_times(&run(&net));
    println!(
        "schedule: first {:.1}, last {:.1}, {} spikes",
        t[0],
        t[t.len() - 1],
        t.len()
    );
    assert!(t[0] > 100.0 && t[0] < 120.0);
    assert!(*t.last().unwrap() < 300.0);
    assert!(t.len() > 15);
}

#[test]
fn bad_adex_input_names_the_field() {
    let cases = [
        ("c_m_pf = 200.0\n", "populations.n.g_l_ns", "required unless `preset`"),
        (
            "preset = \"tonic\"\ndelta_t_mv = 0.0\n",
            "populations.n.delta_t_mv",
            "positive",
        ),
        (
            "preset = \"tonic\"\nv_r_mv = 10.0\n",
            "populations.n.v_r_mv",
            "below v_peak_mv",
        ),
        (
            "preset = \"tonic\"\nv_peak_mv = -60.0\n",
            "populations.n.v_peak_mv",
            "above v_t_mv",
        ),
        (
            "preset = \"tonic\"\ni_schedule = [[10.0, 1.0], [5.0, 2.0]]\n",
            "populations.n.i_schedule.1",
            "must not decrease",
        ),
        (
            "preset = \"tonic\"\nt_ref_ms = -1.0\n",
            "populations.n.t_ref_ms",
            ">= 0",
        ),
        ("preset = \"bursty\"\n", "populations.n.preset", "tonic"),
        (
            "preset = \"tonic\"\ni_schedule = [1.0, 2.0]\n",
            "populations.n.i_schedule.0",
            "[t_ms, i_pa]",
        ),
    ];
    for (extra, field, reason) in cases {
        let err = experiment::parse(&format!("{ONE}{extra}"), &[]).expect_err(extra);
        let text = err.to_string();
        assert_eq!(err.field, field, "{text}");
        assert!(text.contains(reason), "{text}");
        assert!(err.line.is_some(), "{text}");
    }
    // v_init outside the table still works and is checked.
    let mut net = single(Adex::preset(1, AdexPreset::Tonic), 10.0);
    if let Some(Population::Adex(a)) = net.populations.get_mut("n") {
        a.v_init_mv = Some(Init::Value(f64::NAN));
    }
    assert_eq!(validate(&net).unwrap_err().field, "populations.n.v_init_mv");
}

/// `method = "euler"` is forward Euler at dt (Brian2's default for AdEx):
/// the same spikes as a plain scalar transcription of that scheme, and, being
/// first order, closer to the accurate `dopri5` spike times at a smaller dt.
#[test]
fn euler_method_is_forward_euler_and_converges_to_dopri5() {
    use cognitron_core::neuron::AdexMethod;
    let row = AdexPreset::Adapting.row();
    let euler_spikes = |dt: f64| {
        let adex = Adex {
            method: AdexMethod::Euler,
            ..Adex::preset(1, AdexPreset::Adapting)
        };
        let mut net = Network::new(dt, 300.0, 1);
        net.populations.insert("n".into(), Population::Adex(adex));
        let result = run(&net);
        let p = result.population("n");
        p.spike_steps.iter().map(|&s| s as f64 * dt).collect::<Vec<f64>>()
    };
    // The scheme written out: both derivatives from the state at the start
    // of the step, reset when v passes the peak at the end of it.
    let transcription = |dt: f64| {
        let (mut v, mut w, mut out) = (row.e_l_mv, 0.0f64, Vec::new());
        for k in 0..(300.0 / dt).round() as usize {
            let dv = (-row.g_l_ns * (v - row.e_l_mv)
                + row.g_l_ns * row.delta_t_mv * ((v - row.v_t_mv) / row.delta_t_mv).exp()
                - w
                + row.i_step_pa)
                / row.c_m_pf;
            let dw = (row.a_ns * (v - row.e_l_mv) - w) / row.tau_w_ms;
            v += dt * dv;
            w += dt * dw;
            if v >= 0.0 {
                out.push(k as f64 * dt);
                v = row.v_r_mv;
                w += row.b_pa;
            }
        }
        out
    };
    let (coarse, fine) = (euler_spikes(0.1), euler_spikes(0.01));
    assert_eq!(coarse, transcription(0.1));
    let accurate = spike_times(&run(&single(Adex::preset(1, AdexPreset::Adapting), 300.0)));
    let worst = |t: &[f64]| t.iter().zip(&accurate).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    println!(
        "euler vs dopri5, first {} spikes: dt 0.1 worst {:.3} ms, dt 0.01 worst {:.3} ms",
        accurate.len(),
        worst(&coarse),
        worst(&fine)
    );
    assert!(coarse.len().abs_diff(accurate.len()) <= 1 && fine.len() == accurate.len());
    assert!(worst(&fine) < 0.5 * worst(&coarse), "no convergence");
    // dopri5 spike times are quantised to its 0.1 ms step.
    assert!(worst(&fine) < 0.4, "dt 0.01: {} ms off", worst(&fine));
}
