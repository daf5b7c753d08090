//! The Hodgkin-Huxley neuron (`model = "hh"`) against a high-accuracy
//! reference integrated here: the same ODEs, with the rate functions written
//! out in their published form (Hodgkin & Huxley 1952; Traub & Miles 1991 as
//! in Brette et al. 2007 benchmark 3), solved by adaptive Dormand-Prince
//! RK5(4) at rtol = atol = 1e-10 with a short maximum step.
//!
//! The squid axon (6.3 °C, modern convention) is put on a membrane of
//! 1e-4 cm^2, so that 1 uA/cm^2 = 100 pA, 1 mS/cm^2 = 100 nS, 1 uF/cm^2 = 100 pF.
//! Checked: the rheobase of sustained firing for a current step from rest,
//! the jump of the f-I curve from 0 to ~50 Hz there (class 2 excitability),
//! spike peak and after-hyperpolarisation, each against the reference and
//! against the literature, and the first-order convergence of the
//! exponential-Euler scheme as dt is halved.

use cognitron_core::model::Population;
use cognitron_core::neuron::hh::{Hh, Kinetics};
use cognitron_core::{validate::validate, Network, RunResult, Simulation};

/// Membrane area (cm^2) of the squid test cell.
const AREA_CM2: f64 = 1e-4;

// ---------------------------------------------------------------------------
// Reference: the ODEs per unit area and an adaptive Dormand-Prince solver
// ---------------------------------------------------------------------------

/// One Hodgkin-Huxley cell per unit area: C in uF/cm^2, g in mS/cm^2, E in
/// mV, i in uA/cm^2, t in ms.
#[derive(Clone, Copy)]
struct Cell {
    traub_miles: bool,
    v_t: f64,
    c: f64,
    g_na: f64,
    g_k: f64,
    g_leak: f64,
    e_na: f64,
    e_k: f64,
    e_leak: f64,
    i: f64,
    /// Decay time constant (ms) of the synaptic current, the 5th state variable.
    tau_syn: f64,
}

/// a x / (1 - e^{-x/k}) style rates, as published, with the limit at x = 0.
fn linexp(a: f64, x: f64, k: f64) -> f64 {
    if x.abs() < 1e-9 {
        a * k
    } else {
        a * x / (1.0 - (-x / k).exp())
    }
}

impl Cell {
    fn squid(i: f64) -> Cell {
        // Hodgkin & Huxley (1952), modern convention (rest -65 mV).
        Cell {
            traub_miles: false,
            v_t: 0.0,
            c: 1.0,
            g_na: 120.0,
            g_k: 36.0,
            g_leak: 0.3,
            e_na: 50.0,
            e_k: -77.0,
            e_leak: -54.387,
            i,
            tau_syn: f64::INFINITY,
        }
    }

    /// The COBA-HH cell of Brette et al. (2007) / Brian2 COBAHH.py, per cm^2.
    fn traub_miles(i: f64) -> Cell {
        Cell {
            traub_miles: true,
            v_t: -63.0,
            c: 1.0,
            g_na: 100.0,
            g_k: 30.0,
            g_leak: 0.05,
            e_na: 50.0,
            e_k: -90.0,
            e_leak: -60.0,
            i,
            tau_syn: f64::INFINITY,
        }
    }

    /// (alpha, beta) of m, h, n in 1/ms.
    fn rates(&self, v: f64) -> [(f64, f64); 3] {
        if self.traub_miles {
            let u = v - self.v_t;
            // Written out as in Brian2's COBAHH.py:
            let am = 0.32 * (13.0 - u) / (((13.0 - u) / 4.0).exp() - 1.0);
            let bm = 0.28 * (u - 40.0) / (((u - 40.0) / 5.0).exp() - 1.0);
            let ah = 0.128 * ((17.0 - u) / 18.0).exp();
            let bh = 4.0 / (1.0 + ((40.0 - u) / 5.0).exp());
            let an = 0.032 * (15.0 - u) / (((15.0 - u) / 5.0).exp() - 1.0);
            let bn = 0.5 * ((10.0 - u) / 40.0).exp();
            [(am, bm), (ah, bh), (an, bn)]
        } else {
            // Hodgkin & Huxley (1952) eqs. 12-13, 20-21, 23-24, shifted by -65 mV.
            let am = linexp(0.1, v + 40.0, 10.0);
            let bm = 4.0 * (-(v + 65.0) / 18.0).exp();
            let ah = 0.07 * (-(v + 65.0) / 20.0).exp();
            let bh = 1.0 / (1.0 + (-(v + 35.0) / 10.0).exp());
            let an = linexp(0.01, v + 55.0, 10.0);
            let bn = 0.125 * (-(v + 65.0) / 80.0).exp();
            [(am, bm), (ah, bh), (an, bn)]
        }
    }

    /// d/dt of (v, m, h, n, i_syn).
    fn derivative(&self, y: &[f64; 5]) -> [f64; 5] {
        let [v, m, h, n, i_syn] = *y;
        let i_ion = self.g_na * m * m * m * h * (v - self.e_na)
            + self.g_k * n.powi(4) * (v - self.e_k)
            + self.g_leak * (v - self.e_leak);
        let [(am, bm), (ah, bh), (an, bn)] = self.rates(v);
        [
            (self.i + i_syn - i_ion) / self.c,
            am * (1.0 - m) - bm * m,
            ah * (1.0 - h) - bh * h,
            an * (1.0 - n) - bn * n,
            -i_syn / self.tau_syn,
        ]
    }

    /// Rest: gates at their steady states at `v0`.
    fn steady_state(&self, v0: f64) -> [f64; 5] {
        let [m, h, n] = self.rates(v0).map(|(a, b)| a / (a + b));
        [v0, m, h, n, 0.0]
    }
}

/// Dormand-Prince RK5(4) with local extrapolation; returns the accepted
/// (t, v) points up to `t_end`, no step longer than `h_max`, and the final state.
fn dormand_prince(cell: &Cell, y0: [f64; 5], t_end: f64, h_max: f64) -> (Vec<f64>, Vec<f64>, [f64; 5]) {
    // The system is autonomous, so the stage times (c_i) are not needed.
    const A: [&[f64]; 6] = [
        &[1.0 / 5.0],
        &[3.0 / 40.0, 9.0 / 40.0],
        &[44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0],
        &[19372.0 / 6561.0, -25360.0 / 2187.0, 64448.0 / 6561.0, -212.0 / 729.0],
        &[
            9017.0 / 3168.0,
            -355.0 / 33.0,
            46732.0 / 5247.0,
            49.0 / 176.0,
            -5103.0 / 18656.0,
        ],
        &[
            35.0 / 384.0,
            0.0,
            500.0 / 1113.0,
            125.0 / 192.0,
            -2187.0 / 6784.0,
            11.0 / 84.0,
        ],
    ];
    // 5th-order weights minus 4th-order weights.
    const E: [f64; 7] = [
        35.0 / 384.0 - 5179.0 / 57600.0,
        0.0,
        500.0 / 1113.0 - 7571.0 / 16695.0,
        125.0 / 192.0 - 393.0 / 640.0,
        -2187.0 / 6784.0 + 92097.0 / 339200.0,
        11.0 / 84.0 - 187.0 / 2100.0,
        -1.0 / 40.0,
    ];
    const TOL: f64 = 1e-10;
    let (mut t, mut y, mut h) = (0.0, y0, 1e-4_f64);
    let (mut ts, mut vs) = (vec![0.0], vec![y0[0]]);
    while t < t_end {
        h = h.min(h_max).min(t_end - t);
        let mut k = [[0.0; 5]; 7];
        k[0] = cell.derivative(&y);
        for s in 0..6 {
            let mut ys = y;
            for (d, yd) in ys.iter_mut().enumerate() {
                *yd += h * A[s].iter().zip(&k).map(|(a, k)| a * k[d]).sum::<f64>();
            }
            k[s + 1] = cell.derivative(&ys);
        }
        // The 7th stage is evaluated at the 5th-order solution (FSAL).
        let mut y_new = y;
        for (d, yd) in y_new.iter_mut().enumerate() {
            *yd += h * A[5].iter().zip(&k).map(|(a, k)| a * k[d]).sum::<f64>();
        }
        let mut err: f64 = 0.0;
        for d in 0..5 {
            let e = h * E.iter().zip(&k).map(|(e, k)| e * k[d]).sum::<f64>();
            let scale = TOL + TOL * y[d].abs().max(y_new[d].abs());
            err = err.max((e / scale).abs());
        }
        if err <= 1.0 {
            t += h;
            y = y_new;
            ts.push(t);
            vs.push(y[0]);
        }
        h *= (0.9 * err.max(1e-10).powf(-0.2)).clamp(0.2, 5.0);
    }
    (ts, vs, y)
}

// ---------------------------------------------------------------------------
// Spike-train measures shared by both
// ---------------------------------------------------------------------------

const THRESHOLD: f64 = -20.0;

/// Upward crossings of the threshold, linearly interpolated between samples.
fn crossings(t: &[f64], v: &[f64]) -> Vec<f64> {
    (1..v.len())
        .filter(|&k| v[k - 1] < THRESHOLD && v[k] >= THRESHOLD)
        .map(|k| t[k - 1] + (t[k] - t[k - 1]) * (THRESHOLD - v[k - 1]) / (v[k] - v[k - 1]))
        .collect()
}

/// Rate (Hz) over the window [from, to] ms: spikes there / window.
fn rate_hz(spikes: &[f64], from: f64, to: f64) -> f64 {
    spikes.iter().filter(|&&s| s >= from && s < to).count() as f64 / ((to - from) * 1e-3)
}

/// Rate (Hz) from the mean interspike interval of the spikes in [from, to] ms.
fn isi_rate_hz(spikes: &[f64], from: f64, to: f64) -> f64 {
    let late: Vec<f64> = spikes.iter().copied().filter(|&s| s >= from && s < to).collect();
    assert!(late.len() >= 2, "{} spikes in [{from}, {to}] ms", late.len());
    1000.0 * (late.len() - 1) as f64 / (late[late.len() - 1] - late[0])
}

/// (max, min) of v over [from, to] ms.
fn extremes(t: &[f64], v: &[f64], from: f64, to: f64) -> (f64, f64) {
    t.iter()
        .zip(v)
        .filter(|(&t, _)| t >= from && t <= to)
        .fold((f64::NEG_INFINITY, f64::INFINITY), |(hi, lo), (_, &v)| {
            (hi.max(v), lo.min(v))
        })
}

fn reference(cell: Cell, t_end: f64, h_max: f64) -> (Vec<f64>, Vec<f64>) {
    let y0 = cell.steady_state(-65.0);
    let (t, v, _) = dormand_prince(&cell, y0, t_end, h_max);
    (t, v)
}

// ---------------------------------------------------------------------------
// cognitron
// ---------------------------------------------------------------------------

/// The cell as a one-neuron `hh` population with `area_cm2`.
fn population(cell: &Cell, area_cm2: f64) -> Hh {
    let per = area_cm2 * 1e6;
    Hh {
        kinetics: if cell.traub_miles {
            Kinetics::TraubMiles
        } else {
            Kinetics::Squid
        },
        v_t_mv: cell.v_t,
        c_m_pf: cell.c * per,
        g_na_ns: cell.g_na * per,
        g_k_ns: cell.g_k * per,
        g_leak_ns: cell.g_leak * per,
        e_na_mv: cell.e_na,
        e_k_mv: cell.e_k,
        e_leak_mv: cell.e_leak,
        i_bias_pa: cell.i * per,
        ..Hh::squid(1, area_cm2)
    }
}

/// (times, v) and the spike count of the cell run for `t_end` ms at `dt`,
/// from v = -65 mV with gates at rest.
fn cognitron(cell: Cell, t_end: f64, dt: f64) -> (Vec<f64>, Vec<f64>, u64) {
    let area = if cell.traub_miles { 2e-4 } else { AREA_CM2 };
    let mut net = Network::new(dt, t_end, 1);
    net.populations
        .insert("hh".into(), Population::Hh(population(&cell, area)));
    let net = net.record_state("hh", &["v"], &[0]);
    validate(&net).expect("valid model");
    let result: RunResult = Simulation::build(&net).run(|_| {}).expect("run");
    let trace = &result.traces[0];
    let mut t = vec![0.0];
    t.extend(&trace.times_ms);
    let mut v = vec![-65.0];
    v.extend(&trace.values);
    (t, v, result.population("hh").spikes)
}

/// Sustained firing: still spiking in the last 100 ms of a 300 ms step.
const T_STEP: f64 = 300.0;

fn sustained(spikes: &[f64]) -> bool {
    rate_hz(spikes, T_STEP - 100.0, T_STEP) > 0.0
}

/// Smallest step current (uA/cm^2) in [lo, hi] that gives sustained firing,
/// to within `tol`, by bisection.
fn rheobase(fires: impl Fn(f64) -> bool, mut lo: f64, mut hi: f64, tol: f64) -> f64 {
    assert!(!fires(lo) && fires(hi), "rheobase not bracketed by [{lo}, {hi}]");
    while hi - lo > tol {
        let mid = 0.5 * (lo + hi);
        if fires(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

const DT_FINE: f64 = 0.01;

#[test]
fn squid_rheobase_and_class_2_jump_match_the_reference_and_the_literature() {
    let reference_fires = |i: f64| {
        let (t, v) = reference(Cell::squid(i), T_STEP, 0.01);
        sustained(&crossings(&t, &v))
    };
    let cognitron_fires = |i: f64| {
        let (t, v, _) = cognitron(Cell::squid(i), T_STEP, DT_FINE);
        sustained(&crossings(&t, &v))
    };
    let i_ref = rheobase(reference_fires, 4.0, 9.0, 0.005);
    let i_cog = rheobase(cognitron_fires, 4.0, 9.0, 0.005);
    eprintln!("rheobase: reference {i_ref:.4} uA/cm^2, cognitron (dt {DT_FINE} ms) {i_cog:.4}");
    // Literature: repetitive firing of the 6.3 °C squid axon from about
    // 6.2-6.3 uA/cm^2 (the fold of limit cycles, Rinzel & Miller 1980,
    // Math Biosci 49:27; Guckenheimer & Labouriau 1993).
    assert!((6.0..7.0).contains(&i_ref), "reference rheobase {i_ref}");
    assert!(
        (i_cog - i_ref).abs() < 0.02 * i_ref,
        "cognitron rheobase {i_cog} vs {i_ref}"
    );

    // Class 2: the rate jumps from 0 to ~50 Hz at the rheobase.
    let above = i_ref + 0.05;
    let (t, v) = reference(Cell::squid(above), T_STEP, 0.01);
    let f_ref = isi_rate_hz(&crossings(&t, &v), 100.0, T_STEP);
    let (t, v, _) = cognitron(Cell::squid(above), T_STEP, DT_FINE);
    let f_cog = isi_rate_hz(&crossings(&t, &v), 100.0, T_STEP);
    let (t, v, _) = cognitron(Cell::squid(i_ref - 0.05), T_STEP, DT_FINE);
    let f_below = rate_hz(&crossings(&t, &v), 100.0, T_STEP);
    eprintln!("f at {above:.3} uA/cm^2: reference {f_ref:.2} Hz, cognitron {f_cog:.2} Hz; below: {f_below} Hz");
    assert!((40.0..60.0).contains(&f_ref), "reference onset rate {f_ref} Hz");
    assert!(
        (f_cog - f_ref).abs() < 0.02 * f_ref,
        "cognitron onset rate {f_cog} vs {f_ref} Hz"
    );
    assert_eq!(f_below, 0.0, "no sustained firing just below the rheobase");
}

#[test]
fn squid_spike_peak_and_after_hyperpolarisation_match() {
    // The first action potential of a 10 uA/cm^2 step from rest: its peak,
    // and the trough that follows it (up to the second spike).
    let cell = Cell::squid(10.0);
    let (t, v) = reference(cell, 40.0, 0.002);
    let spikes_ref = crossings(&t, &v);
    let (peak_ref, ahp_ref) = extremes(&t, &v, 0.0, spikes_ref[1]);
    let (t, v, count) = cognitron(cell, 40.0, DT_FINE);
    let spikes = crossings(&t, &v);
    let (peak, ahp) = extremes(&t, &v, 0.0, spikes[1]);
    eprintln!(
        "10 uA/cm^2, first spike: peak {peak:.3} mV (reference {peak_ref:.3}), AHP {ahp:.3} mV \
         (reference {ahp_ref:.3}); spikes at {spikes:.3?} ms (reference {spikes_ref:.3?})"
    );
    // Literature: overshoot to about +40 mV, after-hyperpolarisation to about
    // -75 mV, just above E_K = -77 mV (Hodgkin & Huxley 1952, Fig. 12 and
    // Table 4 in the modern convention; Dayan & Abbott 2001, Fig. 5.11).
    assert!((38.0..42.0).contains(&peak_ref), "reference peak {peak_ref}");
    assert!((-77.0..-73.0).contains(&ahp_ref), "reference AHP {ahp_ref}");
    assert!((peak - peak_ref).abs() < 0.5, "peak {peak} vs {peak_ref} mV");
    assert!((ahp - ahp_ref).abs() < 0.2, "AHP {ahp} vs {ahp_ref} mV");
    assert_eq!(spikes.len(), spikes_ref.len());
    assert!(
        spike_time_error(&spikes, &spikes_ref, spikes.len()) < 0.2,
        "spike times"
    );
    // The engine's own spike detection agrees with the crossings of its trace.
    assert_eq!(count as usize, spikes.len());
}

/// A `current_exp` synaptic input (one event of `weight_ua_cm2` at 5 ms,
/// tau 2 ms) into the squid cell at rest, against the reference with the
/// current as a fifth state variable. Returns the worst |v - v_ref| (mV)
/// over the samples and the spike times of both.
fn current_input(weight_ua_cm2: f64) -> (f64, Vec<f64>, Vec<f64>) {
    use cognitron_core::model::{Connector, SynapseModel};
    let (dt, t_end, tau) = (DT_FINE, 30.0, 2.0);
    let mut net = Network::new(dt, t_end, 1);
    let cell = Hh {
        synapse: SynapseModel::CurrentExp,
        tau_exc_ms: tau,
        ..population(&Cell::squid(0.0), AREA_CM2)
    };
    net.populations.insert("hh".into(), Population::Hh(cell));
    let net = net
        .spike_times("input", 1, vec![(0, 5.0)])
        .project(
            "syn",
            "input",
            "hh",
            Connector::OneToOne,
            weight_ua_cm2 * AREA_CM2 * 1e6,
            0.1,
        )
        .record_state("hh", &["v"], &[0]);
    validate(&net).expect("valid model");
    let result = Simulation::build(&net).run(|_| {}).expect("run");
    // Emitted in the step starting at 5.0 ms, first acting one delay (0.1 ms) later.
    let onset = 5.1;
    let cell = Cell {
        tau_syn: tau,
        ..Cell::squid(0.0)
    };
    let (mut t, mut v, mut y) = dormand_prince(&cell, cell.steady_state(-65.0), onset, 0.002);
    y[4] = weight_ua_cm2;
    let (t2, v2, _) = dormand_prince(&cell, y, t_end - onset, 0.002);
    t.extend(t2.iter().skip(1).map(|t| t + onset));
    v.extend(&v2[1..]);
    let trace = &result.traces[0];
    let mut worst = 0.0f64;
    for (&ts, &vs) in trace.times_ms.iter().zip(&trace.values) {
        let k = t.partition_point(|&x| x < ts).clamp(1, t.len() - 1);
        let exact = v[k - 1] + (v[k] - v[k - 1]) * (ts - t[k - 1]) / (t[k] - t[k - 1]);
        worst = worst.max((vs - exact).abs());
    }
    let mut tc = vec![0.0];
    tc.extend(&trace.times_ms);
    let mut vc = vec![-65.0];
    vc.extend(&trace.values);
    let (ours, exact) = (crossings(&tc, &vc), crossings(&t, &v));
    eprintln!(
        "current_exp {weight_ua_cm2} uA/cm^2: max v {:.3} mV (reference {:.3}), worst |v - v_ref| {worst:.4} mV, \
         spikes {ours:.3?} (reference {exact:.3?})",
        extremes(&tc, &vc, 0.0, t_end).0,
        extremes(&t, &v, 0.0, t_end).0,
    );
    assert_eq!(result.population("hh").spikes as usize, ours.len());
    (worst, ours, exact)
}

#[test]
fn current_exp_input_matches_the_reference() {
    // A subthreshold PSP (~4 mV): the whole trace.
    let (worst, ours, exact) = current_input(2.0);
    assert!(ours.is_empty() && exact.is_empty());
    assert!(worst < 0.01, "PSP differs from the reference by up to {worst} mV");
    // A suprathreshold input: one spike, at the same time.
    let (_, ours, exact) = current_input(20.0);
    assert_eq!((ours.len(), exact.len()), (1, 1));
    assert!(
        (ours[0] - exact[0]).abs() < 0.05,
        "spike at {} vs {} ms",
        ours[0],
        exact[0]
    );
}

/// Worst difference (ms) between the first `k` spike times of two trains.
fn spike_time_error(a: &[f64], b: &[f64], k: usize) -> f64 {
    assert!(
        a.len() >= k && b.len() >= k,
        "{} and {} spikes, {k} needed",
        a.len(),
        b.len()
    );
    a.iter().zip(b).take(k).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max)
}

/// Exponential Euler is first order: halving dt about halves the spike-time error.
#[test]
fn exponential_euler_converges_at_first_order() {
    for (name, cell, t_end, spikes) in [
        ("squid", Cell::squid(10.0), 100.0, 6),
        ("traub_miles", Cell::traub_miles(2.0), 100.0, 6),
    ] {
        let (t, v) = reference(cell, t_end, 0.002);
        let exact = crossings(&t, &v);
        let errors: Vec<f64> = [0.1, 0.05, 0.025, 0.0125]
            .iter()
            .map(|&dt| {
                let (t, v, _) = cognitron(cell, t_end, dt);
                spike_time_error(&crossings(&t, &v), &exact, spikes)
            })
            .collect();
        eprintln!("{name}: spike-time errors (ms) at dt 0.1, 0.05, 0.025, 0.0125: {errors:?}");
        for pair in errors.windows(2) {
            let ratio = pair[0] / pair[1];
            assert!((1.6..2.6).contains(&ratio), "{name}: error ratio {ratio} ({errors:?})");
        }
    }
}

/// The refractory guard: a crossing fewer than `t_ref_ms` after the last
/// detected spike is not a spike. At 10 uA/cm^2 (period ~14.7 ms) with a
/// 40 ms guard, every third crossing counts.
#[test]
fn crossings_within_the_refractory_guard_are_not_spikes() {
    let dt = DT_FINE;
    let guard_steps = 4000; // 40 ms
    let mut net = Network::new(dt, 200.0, 1);
    let cell = Hh {
        t_ref_ms: guard_steps as f64 * dt,
        ..population(&Cell::squid(10.0), AREA_CM2)
    };
    net.populations.insert("hh".into(), Population::Hh(cell));
    let net = net.record_state("hh", &["v"], &[0]);
    let result = Simulation::build(&net).run(|_| {}).expect("run");
    // values[k] is v after step k: the step in which v crossed.
    let mut v = vec![-65.0];
    v.extend(&result.traces[0].values);
    let crossing_steps: Vec<u32> = (1..v.len())
        .filter(|&k| v[k - 1] < THRESHOLD && v[k] >= THRESHOLD)
        .map(|k| (k - 1) as u32)
        .collect();
    let mut expected: Vec<u32> = Vec::new();
    for &step in &crossing_steps {
        if expected.last().is_none_or(|&last| step - last >= guard_steps) {
            expected.push(step);
        }
    }
    let detected = &result.population("hh").spike_steps;
    eprintln!("crossing steps {crossing_steps:?}, detected {detected:?}");
    assert!(crossing_steps.len() >= 12 && expected.len() >= 4 && expected.len() < crossing_steps.len());
    assert_eq!(detected, &expected);
}

// ---------------------------------------------------------------------------
// The same scheme as Brian2: COBA-HH cells step by step
// ---------------------------------------------------------------------------

/// Two COBA-HH cells (Traub-Miles kinetics, Brian2's examples/COBAHH.py) at
/// dt = 0.1 ms against Brian2 2.9.0's `exponential_euler` on the same
/// equations (`bench/reference/brian2_hh_cell.json`, made by
/// `bench/reference/make_hh_cell_reference.py`): one firing regularly on a
/// 300 pA current, one driven irregularly through ge and gi by fixed input
/// spike trains. Same scheme, so v agrees after every step up to rounding
/// and every spike falls in the same step.
#[test]
fn coba_hh_cells_match_brian2_step_by_step() {
    use cognitron_core::model::{Connector, Init, Receptor};
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench/reference/brian2_hh_cell.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let reference: serde_json::Value = serde_json::from_str(&text).expect("reference JSON");
    let dt = reference["dt_ms"].as_f64().unwrap();
    let steps = reference["steps"].as_u64().unwrap();
    let numbers =
        |v: &serde_json::Value| -> Vec<f64> { v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect() };
    let input = |key: &str| -> Vec<(u32, f64)> { numbers(&reference[key]).iter().map(|&s| (0, s * dt)).collect() };
    let mut net = Network::new(dt, steps as f64 * dt, 1);
    for (k, name) in ["regular", "driven"].iter().enumerate() {
        let cell = Hh {
            i_bias_pa: reference["i_bias_pa"][k].as_f64().unwrap(),
            v_init_mv: Some(Init::Value(-65.0)),
            m_init: Some(Init::Value(0.05)),
            h_init: Some(Init::Value(0.6)),
            n_init: Some(Init::Value(0.3)),
            ..population(&Cell::traub_miles(0.0), 2e-4)
        };
        net.populations.insert(name.to_string(), Population::Hh(cell));
    }
    let mut net = net
        .spike_times("input_exc", 1, input("input_exc_steps"))
        .spike_times("input_inh", 1, input("input_inh_steps"))
        .project("exc", "input_exc", "driven", Connector::OneToOne, 6.0, dt)
        .project("inh", "input_inh", "driven", Connector::OneToOne, 67.0, dt)
        .record_state("regular", &["v"], &[0])
        .record_state("driven", &["v"], &[0]);
    net.projections["inh"].receptor = Some(Receptor::Inh);
    validate(&net).expect("valid model");
    let result = Simulation::build(&net).run(|_| {}).expect("run");
    for (k, name) in ["regular", "driven"].iter().enumerate() {
        let brian_v = numbers(&reference["v_mv"][k]);
        let trace = result.traces.iter().find(|t| t.population == *name).unwrap();
        assert_eq!(trace.values.len(), brian_v.len());
        let worst = trace
            .values
            .iter()
            .zip(&brian_v)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        let brian_spikes: Vec<u32> = numbers(&reference["spike_steps"][k])
            .iter()
            .map(|&s| s as u32)
            .collect();
        let spikes = &result.population(name).spike_steps;
        eprintln!(
            "{name}: {} spikes (Brian2 {}), worst |v - v_Brian2| {worst:.3e} mV",
            spikes.len(),
            brian_spikes.len()
        );
        assert!(brian_spikes.len() >= 10, "{name}: the reference fires");
        assert_eq!(spikes, &brian_spikes, "{name}: spike steps");
        assert!(worst < 1e-6, "{name}: v differs from Brian2's by up to {worst} mV");
    }
}

// ---------------------------------------------------------------------------
// Bad input: refused with the field and the value, before any run
// ---------------------------------------------------------------------------

/// `experiments/coba_hh.toml` with `overrides` must be refused at `field`
/// with `value` shown in the message.
fn refused(overrides: &[&str], field: &str, value: &str) {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../experiments/coba_hh.toml");
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    let err = cognitron_core::experiment::load(&path, &overrides)
        .expect_err("accepted")
        .to_string();
    assert!(err.contains(&format!("`{field}`")), "{err}");
    assert!(err.contains(value), "{err}");
    assert!(err.contains("coba_hh.toml"), "{err}");
}

#[test]
fn bad_hh_parameters_are_refused_with_field_and_value() {
    refused(
        &["populations.exc.kinetics=\"sodium\""],
        "populations.exc.kinetics",
        "sodium",
    );
    refused(&["populations.inh.c_m_pf=-200"], "populations.inh.c_m_pf", "-200");
    refused(&["populations.exc.g_na_ns=-1"], "populations.exc.g_na_ns", "-1");
    refused(&["populations.exc.h_init=1.5"], "populations.exc.h_init", "1.5");
    refused(
        &["populations.exc.m_init={ normal = [0.1, 0.05] }"],
        "populations.exc.m_init",
        "0.05",
    );
    refused(&["populations.exc.celsius=100"], "populations.exc.celsius", "100");
    refused(&["populations.exc.t_ref_ms=-1"], "populations.exc.t_ref_ms", "-1");
    refused(&["simulation.dt_ms=0.2"], "simulation.dt_ms", "0.2");
    refused(&["populations.exc.e_na_mv=nan"], "populations.exc.e_na_mv", "NaN");
    // The shipped experiment itself is valid.
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../experiments/coba_hh.toml");
    cognitron_core::experiment::load(&path, &[]).expect("coba_hh.toml is valid");
}
