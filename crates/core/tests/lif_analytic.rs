//! The LIF engine against closed-form answers: the f-I curve, the exact
//! sub-threshold solutions of the delta and current_exp synapses and of the
//! bias current (exact integration: the engine's values at the grid points are
//! the analytic ones, whatever dt), and exponential Euler for conductance_exp
//! against an RK4 reference integrated here.
//!
//! Timing convention used throughout (see `engine.rs`): a source spike at
//! `t0` is emitted in step `s0 = round(t0 / dt)`; with a delay of `d` steps it
//! is applied at the start of step `s0 + d`, i.e. at time `(s0 + d) * dt`; the
//! state monitor samples v after step `k`, at time `(k + 1) * dt`.

use cognitron_core::model::{Connector, Init, Lif, Precision, Receptor, SynapseModel};
use cognitron_core::{validate::validate, Network, RunResult, Simulation};

fn run(net: &Network) -> RunResult {
    validate(net).expect("valid model");
    Simulation::build(net).run(|_| {}).expect("run")
}

/// (times, v) of neuron 0 of `population`'s v trace.
fn trace(result: &RunResult, population: &str) -> (Vec<f64>, Vec<f64>) {
    let t = result
        .traces
        .iter()
        .find(|t| t.population == population && t.variable == "v")
        .unwrap_or_else(|| panic!("no v trace of {population}"));
    assert_eq!(t.neurons.len(), 1);
    (t.times_ms.clone(), t.values.clone())
}

const TAU_M: f64 = 20.0;
const C_M: f64 = 250.0;
const E_L: f64 = -70.0;
const V_TH: f64 = -50.0;
const V_RESET: f64 = -60.0;
const T_REF: f64 = 2.0;

fn neuron(synapse: SynapseModel) -> Lif {
    Lif {
        c_m_pf: C_M,
        t_ref_ms: T_REF,
        synapse,
        tau_exc_ms: 5.0,
        tau_inh_ms: 10.0,
        e_exc_mv: 0.0,
        e_inh_mv: -80.0,
        ..Lif::new(1, TAU_M, E_L, V_TH, V_RESET)
    }
}

// ---------------------------------------------------------------------------
// f-I curve
// ---------------------------------------------------------------------------

/// Time (ms) for the free membrane to go from `v0` to threshold under a
/// constant current `i` (pA); infinite at or below rheobase.
fn time_to_threshold(i: f64, v0: f64) -> f64 {
    let ri = i * TAU_M / C_M;
    if ri <= V_TH - E_L {
        return f64::INFINITY;
    }
    TAU_M * ((ri - (v0 - E_L)) / (ri - (V_TH - E_L))).ln()
}

/// Analytic firing rate (Hz) of the continuous-time LIF.
fn analytic_rate(i: f64) -> f64 {
    let t = time_to_threshold(i, V_RESET);
    if t.is_infinite() {
        0.0
    } else {
        1000.0 / (T_REF + t)
    }
}

/// Whole steps from `t_ms / dt` rounded up, refusing values so close to an
/// integer that rounding in the propagators could tip them either way.
fn ceil_steps(t_ms: f64, dt: f64) -> u64 {
    let x = t_ms / dt;
    let frac = x - x.floor();
    assert!(
        frac > 1e-6 && frac < 1.0 - 1e-6,
        "t / dt = {x} is too close to an integer for an exact step count; pick another current"
    );
    x.ceil() as u64
}

#[test]
fn f_i_curve_matches_analytic_rate() {
    let dt = 0.01;
    let duration = 1000.0;
    let rheobase = (V_TH - E_L) * C_M / TAU_M; // 250 pA
    let currents = [0.999 * rheobase, 1.01 * rheobase, 260.0, 300.0, 400.0, 600.0, 1000.0];
    let models = [
        ("delta", SynapseModel::Delta),
        ("cur", SynapseModel::CurrentExp),
        ("cond", SynapseModel::ConductanceExp),
    ];
    let mut net = Network::new(dt, duration, 3);
    for (m, model) in models {
        for (ci, &i) in currents.iter().enumerate() {
            net = net.lif(
                &format!("{m}{ci}"),
                Lif {
                    i_bias_pa: i,
                    ..neuron(model)
                },
            );
        }
    }
    let result = run(&net);
    let total_steps = (duration / dt).round() as u64;
    let refractory_steps = (T_REF / dt).round() as u64;
    for (m, _) in models {
        for (ci, &i) in currents.iter().enumerate() {
            let p = result.population(&format!("{m}{ci}"));
            let f = analytic_rate(i);
            if f == 0.0 {
                assert_eq!(
                    p.spikes, 0,
                    "{m}: {i} pA is below rheobase ({rheobase} pA) but the neuron fired"
                );
                continue;
            }
            // Exact discrete answer: the first spike in the step where the
            // free solution from e_l has crossed, then a fixed ISI of the
            // refractory steps plus the free time rounded up to whole steps.
            let first = ceil_steps(time_to_threshold(i, E_L), dt) - 1;
            let isi = refractory_steps + ceil_steps(time_to_threshold(i, V_RESET), dt);
            let expected: Vec<u32> = (0..)
                .map(|n| first + n * isi)
                .take_while(|&s| s < total_steps)
                .map(|s| s as u32)
                .collect();
            assert_eq!(p.spike_steps, expected, "{m}, {i} pA: spike steps");
            // The quantised period against the continuous one: within 1 %.
            let measured = 1000.0 / (isi as f64 * dt);
            let mean_isi_steps =
                (p.spike_steps.last().unwrap() - p.spike_steps[0]) as f64 / (p.spike_steps.len() - 1) as f64;
            let from_spikes = 1000.0 / (mean_isi_steps * dt);
            eprintln!("{m} I = {i:7.2} pA: rate {from_spikes:8.3} Hz, analytic {f:8.3} Hz");
            assert!(
                (measured / f - 1.0).abs() < 0.01,
                "{m}, {i} pA: {measured} Hz vs {f} Hz"
            );
            assert!(
                (from_spikes / f - 1.0).abs() < 0.01,
                "{m}, {i} pA: {from_spikes} Hz vs {f} Hz"
            );
        }
    }
}

// ---------------------------------------------------------------------------
// Exact sub-threshold solutions
// ---------------------------------------------------------------------------

const T_SPIKE: f64 = 5.0;

/// Closed-form PSP (mV above rest) of a current jump `w` (pA) decaying with
/// `tau_s`, `t` ms after the jump.
fn psp_current_exp(w: f64, tau_s: f64, t: f64) -> f64 {
    if tau_s == TAU_M {
        w / C_M * t * (-t / TAU_M).exp()
    } else {
        w / C_M * tau_s * TAU_M / (TAU_M - tau_s) * ((-t / TAU_M).exp() - (-t / tau_s).exp())
    }
}

struct Case {
    population: &'static str,
    /// Delay (ms) of the input.
    delay_ms: f64,
    /// v - e_l at `t` ms after the input arrives.
    expected: Box<dyn Fn(f64) -> f64>,
}

/// One source spike at T_SPIKE into several single-neuron populations, each
/// with a closed-form response.
fn psp_network(dt: f64, t_spike: f64) -> (Network, Vec<Case>) {
    let mut net = Network::new(dt, t_spike + 75.0, 1).spike_times("src", 1, vec![(0, t_spike)]);
    let mut cases = Vec::new();
    let explicit = |w: f64, d: f64| Connector::Explicit {
        synapses: vec![(0, 0, w, d)],
    };
    // current_exp, excitatory, one-step delay (applied directly) and 1.5 ms (ring buffer).
    for (name, delay) in [("cur_direct", 0.1), ("cur_ring", 1.5)] {
        net = net.lif(name, neuron(SynapseModel::CurrentExp)).project(
            &format!("to_{name}"),
            "src",
            name,
            explicit(100.0, delay),
            0.0,
            delay,
        );
        cases.push(Case {
            population: name,
            delay_ms: delay,
            expected: Box::new(|t| psp_current_exp(100.0, 5.0, t)),
        });
    }
    // Inhibitory receptor (tau_inh = 10 ms), chosen by the sign of a shared weight.
    net = net.lif("cur_inh", neuron(SynapseModel::CurrentExp)).project(
        "to_cur_inh",
        "src",
        "cur_inh",
        Connector::OneToOne,
        -200.0,
        0.3,
    );
    cases.push(Case {
        population: "cur_inh",
        delay_ms: 0.3,
        expected: Box::new(|t| psp_current_exp(-200.0, 10.0, t)),
    });
    // Inhibitory receptor named explicitly on an explicit projection.
    net = net.lif("cur_inh_explicit", neuron(SynapseModel::CurrentExp)).project(
        "to_cur_inh_explicit",
        "src",
        "cur_inh_explicit",
        explicit(-50.0, 0.2),
        0.0,
        0.2,
    );
    net.projections.get_mut("to_cur_inh_explicit").unwrap().receptor = Some(Receptor::Inh);
    cases.push(Case {
        population: "cur_inh_explicit",
        delay_ms: 0.2,
        expected: Box::new(|t| psp_current_exp(-50.0, 10.0, t)),
    });
    // tau_s == tau_m: the alpha-function limit w t / C e^{-t / tau}.
    net = net
        .lif(
            "cur_equal_tau",
            Lif {
                tau_exc_ms: TAU_M,
                ..neuron(SynapseModel::CurrentExp)
            },
        )
        .project(
            "to_cur_equal_tau",
            "src",
            "cur_equal_tau",
            explicit(100.0, 0.1),
            0.0,
            0.1,
        );
    cases.push(Case {
        population: "cur_equal_tau",
        delay_ms: 0.1,
        expected: Box::new(|t| psp_current_exp(100.0, TAU_M, t)),
    });
    // Delta synapse: a jump of 2 mV, then decay with tau_m.
    net = net.lif("delta", neuron(SynapseModel::Delta)).project(
        "to_delta",
        "src",
        "delta",
        Connector::OneToOne,
        2.0,
        0.5,
    );
    cases.push(Case {
        population: "delta",
        delay_ms: 0.5,
        expected: Box::new(|t| 2.0 * (-t / TAU_M).exp()),
    });
    for c in &cases {
        net = net.record_state(c.population, &["v"], &[0]);
    }
    (net, cases)
}

#[test]
fn postsynaptic_potentials_are_exact_at_grid_points() {
    check_psps(T_SPIKE);
}

/// The same PSPs 600 ms into a run: the engine stores synaptic variables
/// undecayed and rescales them every few hundred ms (every 207 ms for
/// tau = 5 ms), so these inputs arrive after two rescales and their PSPs
/// span a third (at 621.9 ms for dt = 0.1, 621.75 ms for dt = 0.05).
#[test]
fn postsynaptic_potentials_stay_exact_across_synaptic_rescaling() {
    check_psps(600.0);
}

/// A 100 pA current jump at 600 ms decays as 100 e^{-t / 5 ms}, within
/// rounding, before and after the synaptic arrays are rescaled.
#[test]
fn synaptic_current_decays_exactly_across_rescaling() {
    let (t_spike, dt) = (600.0, 0.1);
    let (net, _) = psp_network(dt, t_spike);
    let net = net.record_state("cur_direct", &["g_exc"], &[0]);
    let result = run(&net);
    let trace = result
        .traces
        .iter()
        .find(|t| t.population == "cur_direct" && t.variable == "g_exc")
        .expect("g_exc trace");
    let onset = (t_spike / dt).round() as usize + 1;
    let mut checked = 0;
    for (k, (&t, &g)) in trace.times_ms.iter().zip(&trace.values).enumerate() {
        if k < onset {
            assert_eq!(g, 0.0, "g_exc moved before the input (t = {t} ms)");
        } else {
            let want = 100.0 * (-((k + 1 - onset) as f64) * dt / 5.0).exp();
            assert!(
                (g - want).abs() <= 1e-12 * 100.0,
                "t = {t} ms: g_exc {g} pA, expected {want}"
            );
            checked += 1;
        }
    }
    assert!(checked > 700);
}

fn check_psps(t_spike: f64) {
    let mut at_dt = Vec::new();
    for dt in [0.1, 0.05] {
        let (net, cases) = psp_network(dt, t_spike);
        let result = run(&net);
        let spike_step = (t_spike / dt).round() as u64;
        let mut traces = Vec::new();
        for c in &cases {
            let onset = spike_step + (c.delay_ms / dt).round() as u64;
            let (times, v) = trace(&result, c.population);
            assert_eq!(v.len() as u64, result.steps);
            let peak = (0..4000)
                .map(|i| (c.expected)(i as f64 * 0.01).abs())
                .fold(0.0, f64::max);
            let mut worst = 0.0f64;
            for (k, (&t, &v)) in times.iter().zip(&v).enumerate() {
                assert!((t - (k + 1) as f64 * dt).abs() < 1e-9);
                if (k as u64) < onset {
                    assert_eq!(v, E_L, "{}: v moved before the input arrived (step {k})", c.population);
                } else {
                    let since = (k as u64 + 1 - onset) as f64 * dt;
                    let want = (c.expected)(since);
                    worst = worst.max(((v - E_L) - want).abs() / peak);
                }
            }
            eprintln!(
                "dt {dt}: {:16} peak {peak:.4} mV, worst error {worst:.2e} of the peak",
                c.population
            );
            assert!(worst < 1e-9, "{} at dt {dt}: error {worst:e} of the peak", c.population);
            traces.push((times, v, peak));
        }
        at_dt.push(traces);
    }
    // The same values at the shared grid points (every 0.1 ms) for both steps.
    let (coarse, fine) = (&at_dt[0], &at_dt[1]);
    for ((tc, vc, peak), (tf, vf, _)) in coarse.iter().zip(fine) {
        for (k, (&t, &v)) in tc.iter().zip(vc).enumerate() {
            let kf = 2 * k + 1;
            assert!((tf[kf] - t).abs() < 1e-9);
            assert!(
                (vf[kf] - v).abs() < 1e-9 * peak,
                "t = {t}: {v} at dt 0.1 but {} at dt 0.05",
                vf[kf]
            );
        }
    }
}

/// From v0 with a constant current: v(t) = v_inf + (v0 - v_inf) e^{-t / tau},
/// v_inf = e_l + R I, for every synapse model (the conductance model relaxes
/// to the same point with the leak conductance alone).
#[test]
fn relaxation_under_bias_current_is_exact() {
    let (v0, i) = (-65.0, 150.0);
    let v_inf = E_L + i * TAU_M / C_M; // -58 mV, below threshold
    let models = [
        ("delta", SynapseModel::Delta),
        ("cur", SynapseModel::CurrentExp),
        ("cond", SynapseModel::ConductanceExp),
    ];
    let mut runs = Vec::new();
    for dt in [0.1, 0.05] {
        let mut net = Network::new(dt, 200.0, 1);
        for (name, model) in models {
            net = net
                .lif(
                    name,
                    Lif {
                        i_bias_pa: i,
                        v_init_mv: Some(Init::Value(v0)),
                        ..neuron(model)
                    },
                )
                .record_state(name, &["v"], &[0]);
        }
        let result = run(&net);
        let mut traces = Vec::new();
        for (name, _) in models {
            let (times, v) = trace(&result, name);
            let mut worst = 0.0f64;
            for (&t, &v) in times.iter().zip(&v) {
                let want = v_inf + (v0 - v_inf) * (-t / TAU_M).exp();
                worst = worst.max((v - want).abs());
            }
            eprintln!("dt {dt}: {name:5} worst |v - exact| = {worst:.2e} mV");
            // 1e-9 of the 7 mV excursion.
            assert!(worst < 7e-9, "{name} at dt {dt}: {worst} mV from the exact solution");
            assert!(
                (v.last().unwrap() - v_inf).abs() < 0.01,
                "{name} did not settle at v_inf"
            );
            traces.push(v);
        }
        runs.push(traces);
    }
    for (coarse, fine) in runs[0].iter().zip(&runs[1]) {
        for (k, v) in coarse.iter().enumerate() {
            assert!((fine[2 * k + 1] - v).abs() < 7e-9);
        }
    }
}

// ---------------------------------------------------------------------------
// Conductance-based synapse: exponential Euler against RK4
// ---------------------------------------------------------------------------

const G_L: f64 = 10.0; // nS (C = 200 pF, tau_m = 20 ms)
const COND_C: f64 = 200.0;
const COND_E_L: f64 = -60.0;
const TAU_E: f64 = 5.0;
const W_NS: f64 = 3.0;

/// RK4 with step h of C dv/dt = g_L (e_l - v) + g(t) (E_e - v),
/// g(t) = w e^{-t / tau_e}, from v = e_l at t = 0; v at t = 0, h, 2h, ...
fn rk4_reference(h: f64, t_end: f64) -> Vec<f64> {
    let f = |t: f64, v: f64| (G_L * (COND_E_L - v) + W_NS * (-t / TAU_E).exp() * (0.0 - v)) / COND_C;
    let n = (t_end / h).round() as usize;
    let mut v = COND_E_L;
    let mut out = Vec::with_capacity(n + 1);
    out.push(v);
    for i in 0..n {
        let t = i as f64 * h;
        let k1 = f(t, v);
        let k2 = f(t + 0.5 * h, v + 0.5 * h * k1);
        let k3 = f(t + 0.5 * h, v + 0.5 * h * k2);
        let k4 = f(t + h, v + h * k3);
        v += h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4);
        out.push(v);
    }
    out
}

/// Largest |v_engine - v_reference| over the PSP as a fraction of its peak.
fn conductance_psp_error(dt: f64, reference: &[f64], h: f64) -> (f64, f64) {
    let delay = 0.1;
    let net = Network::new(dt, 70.0, 1)
        .spike_times("src", 1, vec![(0, T_SPIKE)])
        .lif(
            "g",
            Lif {
                c_m_pf: COND_C,
                e_l_mv: COND_E_L,
                v_th_mv: -40.0,
                v_reset_mv: -60.0,
                tau_exc_ms: TAU_E,
                synapse: SynapseModel::ConductanceExp,
                ..neuron(SynapseModel::ConductanceExp)
            },
        )
        .project(
            "in",
            "src",
            "g",
            Connector::Explicit {
                synapses: vec![(0, 0, W_NS, delay)],
            },
            0.0,
            delay,
        )
        .record_state("g", &["v"], &[0]);
    let result = run(&net);
    assert_eq!(result.population("g").spikes, 0);
    let onset = (T_SPIKE / dt).round() as u64 + (delay / dt).round() as u64;
    let (_, v) = trace(&result, "g");
    let peak = reference.iter().map(|v| v - COND_E_L).fold(0.0, f64::max);
    let stride = (dt / h).round() as usize;
    let mut worst = 0.0f64;
    for (k, &v) in v.iter().enumerate() {
        if (k as u64) < onset {
            assert_eq!(v, COND_E_L);
            continue;
        }
        let r = (k as u64 + 1 - onset) as usize * stride;
        if r < reference.len() {
            worst = worst.max((v - reference[r]).abs());
        }
    }
    (worst / peak, peak)
}

#[test]
fn conductance_psp_matches_rk4_reference_and_converges() {
    let h = 0.0005;
    let reference = rk4_reference(h, 60.0);
    // Check the reference itself: halving h changes it by far less than the
    // tolerances below.
    let half = rk4_reference(2.0 * h, 60.0);
    let ref_err = half
        .iter()
        .enumerate()
        .map(|(i, v)| (v - reference[2 * i]).abs())
        .fold(0.0, f64::max);
    assert!(ref_err < 1e-10, "RK4 reference not converged: {ref_err}");

    let mut errors = Vec::new();
    for dt in [0.1, 0.05, 0.025] {
        let (err, peak) = conductance_psp_error(dt, &reference, h);
        eprintln!(
            "dt {dt}: PSP peak {peak:.4} mV, max error {:.3} % of the peak",
            err * 100.0
        );
        errors.push(err);
    }
    // Exponential Euler holds g at its value from the start of the step, so
    // it overestimates the conductance integral over a step by about
    // dt / (2 tau_e) = 1 % at dt = 0.1 ms: the PSP must be within 1.5 % of its
    // peak (and not exact: an error below 0.1 % would mean the comparison is
    // not testing what it claims).
    assert!(errors[0] < 0.015, "dt 0.1: error {} of the peak", errors[0]);
    assert!(errors[0] > 0.001);
    // First order: each halving of dt roughly halves the error.
    assert!(errors[1] < 0.65 * errors[0], "{errors:?}");
    assert!(errors[2] < 0.65 * errors[1], "{errors:?}");
    assert!(errors[2] < errors[0] / 3.0, "{errors:?}");
}

/// One step of the conductance-based update against its closed form,
/// v_inf + (v - v_inf) e^(-dt g / C), for conductances from tiny to far
/// beyond the division-free path's range (dt g / C up to 50): both the
/// usual path and the fallback, in both precisions. The populations are 300
/// neurons (three threshold blocks, the last one partial), all alike.
#[test]
fn conductance_step_matches_its_closed_form_on_both_paths() {
    let dt = 0.1;
    let v0 = -65.0;
    // (g_exc, g_inh) in nS; C = 200 pF, so z = dt g / C = g / 2000.
    let cases = [
        (0.0, 0.0),
        (3.0, 40.0),
        (100.0, 500.0),
        (1500.0, 480.0),
        (1500.0, 520.0),
        (30_000.0, 70_000.0),
    ];
    for precision in [Precision::Double, Precision::Single] {
        let mut net = Network::new(dt, dt, 1);
        net.simulation.precision = precision;
        for (p, &(g_exc, g_inh)) in cases.iter().enumerate() {
            let lif = Lif {
                c_m_pf: 200.0,
                tau_m_ms: 20.0,
                e_l_mv: -60.0,
                v_th_mv: 100.0,
                v_init_mv: Some(Init::Value(v0)),
                g_exc_init: Init::Value(g_exc),
                g_inh_init: Init::Value(g_inh),
                synapse: SynapseModel::ConductanceExp,
                ..neuron(SynapseModel::ConductanceExp)
            };
            let name = format!("p{p}");
            net = net
                .lif(&name, Lif { n: 300, ..lif })
                .record_state(&name, &["v"], &[0, 150, 299]);
        }
        let result = run(&net);
        for (p, &(g_exc, g_inh)) in cases.iter().enumerate() {
            let g_l = 200.0 / 20.0;
            let g = g_l + g_exc + g_inh;
            let v_inf = (g_l * -60.0 + g_exc * 0.0 + g_inh * -80.0) / g;
            let expected = v_inf + (v0 - v_inf) * (-dt * g / 200.0).exp();
            let t = result
                .traces
                .iter()
                .find(|t| t.population == format!("p{p}") && t.variable == "v")
                .unwrap();
            // Double: relative to the step's change of v, the part that is
            // computed. Single: v itself is stored in f32 (ulp 8e-6 mV here).
            let tolerance = match precision {
                Precision::Double => 1e-12 * (expected - v0).abs(),
                Precision::Single => 1e-6 * expected.abs(),
            };
            for &v in &t.values {
                assert!(
                    (v - expected).abs() < tolerance,
                    "{precision:?}, g_exc {g_exc} nS, g_inh {g_inh} nS: v {v}, expected {expected}"
                );
            }
        }
    }
}
