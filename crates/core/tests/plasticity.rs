//! Plasticity in the engine against the rules' analytic answers: the STDP
//! window measured by pairing protocols (Bi & Poo shape), all-to-all against
//! nearest-spike pairing, soft bounds, hard bounds under random activity,
//! normalisation, and the adaptive threshold.
//!
//! Protocol: `pre` neurons (spike times) project one-to-one onto `post` LIF
//! neurons through the plastic projection, with weights far too small to
//! make them fire; a `teacher` (spike times, 100 mV delta synapses) makes
//! each post neuron fire exactly when wanted. With one-step delays a
//! presynaptic spike emitted in step s arrives in step s + 1, and a teacher
//! spike in step u makes the post neuron fire in step u + 1, so the pair's
//! timing is `t_post - t_arrival = (u - s) dt`.

use cognitron_core::model::{Connector, Init, Lif, Weight};
use cognitron_core::plasticity::{Bounds, Pairing, Plasticity, Stdp, Triplet, WeightDependence};
use cognitron_core::{validate::validate, Network, Simulation};

const DT: f64 = 0.1;
const W0: f64 = 0.5;

fn bounds(w_min: f64, w_max: f64) -> Bounds {
    Bounds {
        w_min,
        w_max,
        normalize_sum: None,
        normalize_interval_ms: None,
    }
}

fn stdp(pairing: Pairing, dependence: WeightDependence) -> Plasticity {
    Plasticity::Stdp(Stdp {
        a_plus: 0.01,
        a_minus: 0.0105,
        tau_plus_ms: 16.8,
        tau_minus_ms: 33.7,
        pairing,
        weight_dependence: dependence,
        bounds: bounds(0.0, 1.0),
    })
}

/// `pairs` independent pre/post pairs; pair i gets presynaptic spikes at
/// `pre[i]` and postsynaptic spikes at `post[i]` (ms, emission of the
/// teacher). Returns the final weights of the pairs.
fn pairing_run(rule: Plasticity, pre: &[Vec<f64>], post: &[Vec<f64>], duration_ms: f64) -> Vec<f32> {
    pairing_run_from(rule, pre, post, duration_ms, W0)
}

fn pairing_run_from(rule: Plasticity, pre: &[Vec<f64>], post: &[Vec<f64>], duration_ms: f64, w0: f64) -> Vec<f32> {
    let n = pre.len();
    let spikes = |trains: &[Vec<f64>]| -> Vec<(u32, f64)> {
        trains
            .iter()
            .enumerate()
            .flat_map(|(i, t)| t.iter().map(move |&t| (i as u32, t)))
            .collect()
    };
    let neuron = Lif {
        t_ref_ms: 1.0,
        ..Lif::new(n, 20.0, -70.0, -50.0, -70.0)
    };
    let net = Network::new(DT, duration_ms, 1)
        .spike_times("pre", n, spikes(pre))
        .spike_times("teacher", n, spikes(post))
        .lif("post", neuron)
        .project("plastic", "pre", "post", Connector::OneToOne, w0, DT)
        .project("teach", "teacher", "post", Connector::OneToOne, 100.0, DT)
        .plasticity("plastic", rule);
    validate(&net).expect("valid");
    let mut sim = Simulation::build(&net);
    sim.run_steps((duration_ms / DT).round() as u64).expect("runs");
    // The post neurons fired exactly once per teacher spike.
    let counts = sim.spike_counts("post").unwrap();
    for (i, c) in counts.iter().enumerate() {
        assert_eq!(*c as usize, post[i].len(), "pair {i}: post fired {c} times");
    }
    let synapses = sim.plastic_synapses("plastic").unwrap();
    let mut w = vec![0.0; n];
    for (k, &post) in synapses.post.iter().enumerate() {
        assert_eq!(synapses.pre[k], post, "one-to-one");
        w[post as usize] = synapses.weights[k];
    }
    w
}

/// The analytic pair window: `dt = t_post - t_pre` (ms).
fn window(dt: f64) -> f64 {
    if dt >= 0.0 {
        0.01 * (-dt / 16.8).exp()
    } else {
        -0.0105 * (dt / 33.7).exp()
    }
}

#[test]
fn stdp_window_matches_the_analytic_bi_poo_shape() {
    let lags: Vec<f64> = (-20..=20)
        .map(|k| k as f64 * 5.0)
        .chain([-1.0, -0.3, 0.0, 0.3, 1.0])
        .collect();
    let pre: Vec<Vec<f64>> = lags.iter().map(|_| vec![150.0]).collect();
    let post: Vec<Vec<f64>> = lags.iter().map(|lag| vec![150.0 + lag]).collect();
    let w = pairing_run(stdp(Pairing::All, WeightDependence::Additive), &pre, &post, 400.0);
    for (lag, w) in lags.iter().zip(&w) {
        let measured = *w as f64 - W0;
        let expected = window(*lag);
        // f32 weights: 6e-8 absolute near 0.5.
        assert!(
            (measured - expected).abs() < 2e-7,
            "dt = {lag} ms: dw = {measured:.6e}, analytic {expected:.6e}"
        );
    }
    // The shape: potentiation for causal pairs, depression for acausal,
    // both decaying with |dt|, LTD wider than LTP.
    let at = |lag: f64| w[lags.iter().position(|&l| l == lag).unwrap()] as f64 - W0;
    assert!(at(0.0) > at(10.0) && at(10.0) > at(50.0) && at(50.0) > 0.0);
    assert!(at(-5.0) < at(-50.0) && at(-50.0) < 0.0);
    assert!(at(-50.0).abs() > at(50.0).abs());
}

#[test]
fn all_to_all_pairing_sums_every_pair_nearest_takes_the_closest() {
    // Two presynaptic spikes 10 and 30 ms before one postsynaptic spike, then
    // two postsynaptic spikes 20 and 40 ms before one presynaptic spike.
    let pre = vec![vec![100.0, 120.0], vec![240.0]];
    let post = vec![vec![130.0], vec![200.0, 220.0]];
    let all = pairing_run(stdp(Pairing::All, WeightDependence::Additive), &pre, &post, 300.0);
    let nearest = pairing_run(stdp(Pairing::Nearest, WeightDependence::Additive), &pre, &post, 300.0);
    let close = |a: f32, b: f64| (a as f64 - b).abs() < 2e-7;
    assert!(close(all[0], W0 + window(10.0) + window(30.0)), "{}", all[0]);
    assert!(close(nearest[0], W0 + window(10.0)), "{}", nearest[0]);
    assert!(close(all[1], W0 + window(-20.0) + window(-40.0)), "{}", all[1]);
    assert!(close(nearest[1], W0 + window(-20.0)), "{}", nearest[1]);
}

#[test]
fn multiplicative_changes_scale_with_the_distance_to_the_bound() {
    let pre = vec![vec![100.0], vec![100.0]];
    let post = vec![vec![110.0], vec![90.0]];
    let w = pairing_run(stdp(Pairing::All, WeightDependence::Multiplicative), &pre, &post, 200.0);
    let up = W0 + 0.01 * (-10.0f64 / 16.8).exp() * (1.0 - W0);
    let down = W0 - 0.0105 * (-10.0f64 / 33.7).exp() * W0;
    assert!((w[0] as f64 - up).abs() < 2e-7, "{} vs {up}", w[0]);
    assert!((w[1] as f64 - down).abs() < 2e-7, "{} vs {down}", w[1]);
}

/// Pfister & Gerstner's triplet rule: a post-pre-post triplet potentiates
/// more than the pair terms alone, by A3+ o2 r1 (their eq. 3).
#[test]
fn triplet_rule_adds_the_triplet_term() {
    let rule = Plasticity::Triplet(Triplet {
        a2_plus: 5e-3,
        a3_plus: 6.2e-3,
        a2_minus: 7e-3,
        a3_minus: 2.3e-4,
        tau_plus_ms: 16.8,
        tau_minus_ms: 33.7,
        tau_x_ms: 101.0,
        tau_y_ms: 125.0,
        pairing: Pairing::All,
        bounds: bounds(0.0, 1.0),
    });
    // post at 100, pre at 110, post at 120 (teacher times; arrival = pre time).
    let w = pairing_run(rule, &[vec![110.0]], &[vec![100.0, 120.0]], 300.0);
    let e = |t: f64, tau: f64| (-t / tau).exp();
    // Pre at 110: depression by o1 = e(10, 33.7), with r2 before = 0.
    let depression = e(10.0, 33.7) * 7e-3;
    // Post at 120: r1 = e(10, 16.8); o2 before = e(20, 125).
    let potentiation = e(10.0, 16.8) * (5e-3 + 6.2e-3 * e(20.0, 125.0));
    let expected = W0 - depression + potentiation;
    assert!((w[0] as f64 - expected).abs() < 2e-7, "{} vs {expected}", w[0]);
}

/// Additive STDP with large steps under 20 Hz random pre and post activity:
/// the weights run into both bounds and never past them.
#[test]
fn additive_weights_stay_within_their_bounds() {
    let n = 200;
    let rule = Plasticity::Stdp(Stdp {
        a_plus: 0.2,
        a_minus: 0.25,
        tau_plus_ms: 20.0,
        tau_minus_ms: 20.0,
        pairing: Pairing::All,
        weight_dependence: WeightDependence::Additive,
        bounds: bounds(0.1, 0.9),
    });
    let neuron = Lif {
        t_ref_ms: 1.0,
        ..Lif::new(n, 20.0, -70.0, -50.0, -70.0)
    };
    let mut net = Network::new(DT, 5000.0, 3)
        .poisson("pre", n, 20.0)
        .poisson("teacher", n, 20.0)
        .lif("post", neuron)
        .project("plastic", "pre", "post", Connector::OneToOne, 0.5, DT)
        .project("teach", "teacher", "post", Connector::OneToOne, 100.0, DT)
        .plasticity("plastic", rule);
    net.projections["plastic"].weight = Weight::Uniform { uniform: [0.1, 0.9] };
    validate(&net).expect("valid");
    let mut sim = Simulation::build(&net);
    let mut at_min = 0;
    let mut at_max = 0;
    for _ in 0..10 {
        sim.run_steps(5000).unwrap();
        let w = sim.plastic_synapses("plastic").unwrap().weights;
        assert!(w
            .iter()
            .all(|&w| (0.1..=0.9).contains(&(w as f64)) || (w - 0.1f32).abs() < 1e-7));
        at_min += w.iter().filter(|&&w| w <= 0.1 + 1e-6).count();
        at_max += w.iter().filter(|&&w| w >= 0.9 - 1e-6).count();
    }
    assert!(
        at_min > 0 && at_max > 0,
        "bounds reached: {at_min} at min, {at_max} at max"
    );
}

#[test]
fn normalisation_sets_each_neurons_incoming_sum() {
    let (n_pre, n_post) = (50, 8);
    let mut rule = stdp(Pairing::Nearest, WeightDependence::Additive);
    if let Plasticity::Stdp(r) = &mut rule {
        r.bounds.normalize_sum = Some(7.5);
        r.bounds.normalize_interval_ms = Some(50.0);
    }
    let mut net = Network::new(DT, 1000.0, 5)
        .poisson("pre", n_pre, 30.0)
        .lif("post", Lif::new(n_post, 20.0, -70.0, -50.0, -70.0))
        .project(
            "plastic",
            "pre",
            "post",
            Connector::AllToAll {
                allow_autapses: true,
                except_same_index: false,
            },
            0.5,
            DT,
        )
        .plasticity("plastic", rule);
    net.projections["plastic"].weight = Weight::Uniform { uniform: [0.0, 1.0] };
    validate(&net).expect("valid");
    let mut sim = Simulation::build(&net);
    let sums = |sim: &Simulation| {
        let s = sim.plastic_synapses("plastic").unwrap();
        let mut sums = vec![0.0f64; n_post];
        for (post, w) in s.post.iter().zip(&s.weights) {
            sums[*post as usize] += *w as f64;
        }
        sums
    };
    assert!(sums(&sim).iter().any(|s| (s - 7.5).abs() > 0.5), "random start");
    sim.normalize("plastic").unwrap();
    assert!(sums(&sim).iter().all(|s| (s - 7.5).abs() < 1e-4), "{:?}", sums(&sim));
    // Periodic normalisation: 500 steps is a multiple of the 50 ms interval.
    sim.run_steps(5000).unwrap();
    assert!(sums(&sim).iter().all(|s| (s - 7.5).abs() < 1e-4), "{:?}", sums(&sim));
}

/// Diehl & Cook's homeostasis: each spike raises the threshold by
/// theta_plus, so a constantly driven neuron slows down; with learning off
/// the threshold stays where it is.
#[test]
fn adaptive_threshold_rises_per_spike_and_freezes_when_learning_is_off() {
    let neuron = Lif {
        i_bias_pa: 600.0,
        t_ref_ms: 2.0,
        theta_plus_mv: 0.5,
        tau_theta_ms: 1e7,
        ..Lif::new(1, 20.0, -70.0, -50.0, -70.0)
    };
    let net = Network::new(DT, 2000.0, 1).lif("n", neuron);
    validate(&net).expect("valid");
    let mut sim = Simulation::build(&net);
    sim.run_steps(5000).unwrap();
    let first = sim.spike_counts("n").unwrap()[0];
    let theta = sim.state("n", "theta")[0];
    let decay = (-DT / 1e7f64).exp();
    // Each spike adds 0.5 mV; the decay over 500 ms is 5e-5 relative.
    assert!(
        (theta - 0.5 * first as f64).abs() < 0.5 * first as f64 * 1e-4 + 1e-9,
        "theta {theta} after {first} spikes (decay per step {decay})"
    );
    sim.run_steps(5000).unwrap();
    let second = sim.spike_counts("n").unwrap()[0] - first;
    assert!(second < first, "rate fell: {first} then {second}");
    sim.set_learning(false);
    let frozen = sim.state("n", "theta")[0];
    sim.run_steps(5000).unwrap();
    assert_eq!(sim.state("n", "theta")[0], frozen);
}

/// The frequency dependence of Sjostrom et al. (2001) as Pfister & Gerstner
/// (2006) explain it: 60 pairings at +-10 ms and 0.1-50 Hz, against the
/// event-driven reference (bench/reference/stdp_reference.py, exact to
/// 1e-15 against closed-form sums) for the pair and triplet rules, then the
/// triplet rule's fit against the data.
#[test]
fn pairing_frequency_dependence_matches_the_reference_and_sjostrom_data() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../bench/reference/stdp_reference.json");
    let reference: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let protocols = &reference["b_protocols"];
    let rates: Vec<f64> = serde_json::from_value(protocols["rho_hz"].clone()).unwrap();
    let numbers = |v: &serde_json::Value| -> Vec<f64> { serde_json::from_value(v.clone()).unwrap() };
    // One pair per (rate, +-10 ms); 60 pairings at 0.1 Hz take 590 s.
    let mut pre = Vec::new();
    let mut post = Vec::new();
    for lag in [10.0, -10.0] {
        for &rate in &rates {
            let period = 1000.0 / rate;
            let start = 20.0;
            pre.push((0..60).map(|k| start + k as f64 * period).collect::<Vec<_>>());
            post.push((0..60).map(|k| start + k as f64 * period + lag).collect::<Vec<_>>());
        }
    }
    let duration = 20.0 + 59.0 * 1000.0 / rates[0] + 40.0;
    let w0 = 5.0;
    let mut triplet_dw = Vec::new();
    let rules = [
        ("pair_all_to_all", stdp_pg(Pairing::All)),
        ("pair_nearest", stdp_pg(Pairing::Nearest)),
        ("triplet_all_to_all_full_visual", triplet_visual(Pairing::All)),
        ("triplet_nearest_full_visual", triplet_visual(Pairing::Nearest)),
    ];
    // Four independent 6-million-step runs, side by side.
    let weights: Vec<Vec<f32>> = std::thread::scope(|scope| {
        let runs: Vec<_> = rules
            .iter()
            .map(|(_, rule)| {
                let (pre, post) = (&pre, &post);
                scope.spawn(move || pairing_run_from(rule.clone(), pre, post, duration, w0))
            })
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    for ((name, _), w) in rules.iter().zip(weights) {
        let name = *name;
        let expected = &protocols["rules"][name];
        let want: Vec<f64> = numbers(&expected["dt_plus10"]["dw"])
            .into_iter()
            .chain(numbers(&expected["dt_minus10"]["dw"]))
            .collect();
        for (i, (w, want)) in w.iter().zip(&want).enumerate() {
            let dw = *w as f64 - w0;
            // 30 Hz pairings fall off the 0.1 ms grid (rounding ~1e-5); f32
            // weights near 5 carry ~5e-7 per update.
            assert!(
                (dw - want).abs() < 2e-4,
                "{name}, {} Hz, {} ms: dw {dw:.5} vs reference {want:.5}",
                rates[i % rates.len()],
                if i < rates.len() { "+10" } else { "-10" }
            );
        }
        if name == "triplet_all_to_all_full_visual" {
            triplet_dw = w.iter().map(|w| *w as f64 - w0).collect();
        }
    }
    // Pfister & Gerstner's fit: within two standard errors of every data point.
    let data = &reference["sjostrom_2001"];
    let data_rates = numbers(&data["rho_hz"]);
    for (offset, key) in [(0, "dt_plus10"), (rates.len(), "dt_minus10")] {
        let (mean, sem) = (numbers(&data[key]["mean"]), numbers(&data[key]["sem"]));
        for (k, rate) in data_rates.iter().enumerate() {
            let i = offset + rates.iter().position(|r| r == rate).unwrap();
            assert!(
                (triplet_dw[i] - mean[k]).abs() < 2.0 * sem[k],
                "{key} at {rate} Hz: triplet {:.3}, data {} +- {}",
                triplet_dw[i],
                mean[k],
                sem[k]
            );
        }
    }
    // The signature: at 50 Hz both orders potentiate; at 0.1 Hz post-pre depresses.
    assert!(triplet_dw[rates.len() - 1] > 0.3 && triplet_dw[2 * rates.len() - 1] > 0.3);
    assert!(triplet_dw[rates.len()] < -0.2);
}

fn stdp_pg(pairing: Pairing) -> Plasticity {
    Plasticity::Stdp(Stdp {
        a_plus: 0.01,
        a_minus: 0.0105,
        tau_plus_ms: 16.8,
        tau_minus_ms: 33.7,
        pairing,
        weight_dependence: WeightDependence::Additive,
        bounds: bounds(0.0, 10.0),
    })
}

fn triplet_visual(pairing: Pairing) -> Plasticity {
    let all = pairing == Pairing::All;
    Plasticity::Triplet(Triplet {
        a2_plus: if all { 5e-10 } else { 8.8e-11 },
        a3_plus: if all { 6.2e-3 } else { 5.3e-2 },
        a2_minus: if all { 7e-3 } else { 6.6e-3 },
        a3_minus: if all { 2.3e-4 } else { 3.1e-3 },
        tau_plus_ms: 16.8,
        tau_minus_ms: 33.7,
        tau_x_ms: if all { 101.0 } else { 714.0 },
        tau_y_ms: if all { 125.0 } else { 40.0 },
        pairing,
        bounds: bounds(0.0, 10.0),
    })
}

/// Diehl & Cook's rule (their eq. 3): at a postsynaptic spike,
/// dw = eta_post (x_pre - x_tar) (w_max - w)^mu: inputs that fired recently
/// (trace above x_tar) grow, the others shrink.
#[test]
fn diehl_cook_rule_moves_weights_by_the_presynaptic_trace_minus_its_target() {
    use cognitron_core::plasticity::DiehlCook;
    let rule = Plasticity::DiehlCook(DiehlCook {
        eta_post: 0.05,
        eta_pre: 0.0,
        x_tar: 0.4,
        mu: 2.0,
        tau_pre_ms: 20.0,
        tau_post_ms: 20.0,
        pairing: Pairing::Nearest,
        bounds: bounds(0.0, 1.0),
    });
    // Pair 0: pre 5 ms before post (trace 0.78 > 0.4): potentiation.
    // Pair 1: pre 40 ms before post (trace 0.14 < 0.4): depression.
    // Pair 2: no presynaptic spike at all: trace 0, depression by x_tar.
    let w = pairing_run(
        rule,
        &[vec![100.0], vec![100.0], vec![]],
        &[vec![105.0], vec![140.0], vec![100.0]],
        200.0,
    );
    let expected = |x: f64| W0 + 0.05 * (x - 0.4) * (1.0 - W0).powi(2);
    for (i, x) in [(-5.0f64 / 20.0).exp(), (-40.0f64 / 20.0).exp(), 0.0]
        .iter()
        .enumerate()
    {
        assert!(
            (w[i] as f64 - expected(*x)).abs() < 2e-7,
            "pair {i}: {} vs {}",
            w[i],
            expected(*x)
        );
    }
    assert!(w[0] as f64 > W0 && (w[1] as f64) < W0 && w[2] < w[1]);
}

/// Winner-take-all inside a population. Hard: of 50 identical neurons that
/// all cross together, one spike per step is reported. Soft: each spike
/// lowers the other neurons' v by wta_inhibition_mv in the next step, exactly
/// as an all-to-all-but-self inhibitory delta projection would.
#[test]
fn winner_take_all_hard_and_soft() {
    use cognitron_core::model::Wta;
    let driven = |wta: Option<Wta>| Lif {
        i_bias_pa: 500.0,
        t_ref_ms: 2.0,
        wta,
        wta_inhibition_mv: if wta == Some(Wta::Soft) { 3.0 } else { 0.0 },
        ..Lif::new(50, 20.0, -70.0, -50.0, -70.0)
    };
    let run = |net: Network| {
        validate(&net).expect("valid");
        let mut sim = Simulation::build(&net);
        sim.run_steps(5000).unwrap();
        sim.spike_counts("n").unwrap()
    };
    let free = run(Network::new(DT, 500.0, 1).lif("n", driven(None)));
    let hard = run(Network::new(DT, 500.0, 1).lif("n", driven(Some(Wta::Hard))));
    // Without WTA all 50 fire together; with it, one of them per crossing step.
    assert!(free.iter().all(|&c| c == free[0]) && free[0] > 5);
    assert_eq!(hard.iter().sum::<u32>(), free[0], "one reported spike per volley");
    // Soft: the same as an explicit all-but-self inhibitory projection.
    let jitter = Init::Uniform {
        uniform: [-70.0, -52.0],
    };
    let soft_neuron = Lif {
        v_init_mv: Some(jitter.clone()),
        ..driven(Some(Wta::Soft))
    };
    let soft = run(Network::new(DT, 500.0, 1).lif("n", soft_neuron));
    let explicit_neuron = Lif {
        v_init_mv: Some(jitter),
        ..driven(None)
    };
    let explicit = run(Network::new(DT, 500.0, 1).lif("n", explicit_neuron).project(
        "lateral",
        "n",
        "n",
        Connector::AllToAll {
            allow_autapses: false,
            except_same_index: false,
        },
        -3.0,
        DT,
    ));
    assert_eq!(soft, explicit);
    assert!(
        soft.iter().sum::<u32>() < free.iter().sum::<u32>() / 2,
        "inhibition cut the spikes"
    );
}

/// Intrinsic plasticity: each neuron's threshold settles where it fires at
/// the target rate, from above (strongly driven) and from below (weakly
/// driven), whatever its drive.
#[test]
fn intrinsic_plasticity_brings_every_neuron_to_the_target_rate() {
    let n = 4;
    let neuron = Lif {
        t_ref_ms: 2.0,
        theta_plus_mv: 0.2,
        tau_theta_ms: 1e9,
        target_rate_hz: 10.0,
        ..Lif::new(n, 20.0, -70.0, -50.0, -70.0)
    };
    // Bias currents giving about 3, 20, 60 and 120 Hz without adaptation.
    let mut net = Network::new(DT, 1.0, 1).lif("n", neuron.clone());
    let drives = [260.0, 300.0, 450.0, 800.0];
    let mut rates = Vec::new();
    for (i, &drive) in drives.iter().enumerate() {
        let one = Lif {
            n: 1,
            i_bias_pa: drive,
            ..neuron.clone()
        };
        net = net.lif(&format!("n{i}"), one);
    }
    net.populations.shift_remove("n");
    validate(&net).expect("valid");
    let mut sim = Simulation::build(&net);
    // 20 s to settle, then the rate over 10 s.
    sim.run_steps(200_000).unwrap();
    let before: Vec<u32> = (0..n).map(|i| sim.spike_counts(&format!("n{i}")).unwrap()[0]).collect();
    sim.run_steps(100_000).unwrap();
    for (i, before) in before.iter().enumerate() {
        let after = sim.spike_counts(&format!("n{i}")).unwrap()[0];
        rates.push((after - before) as f64 / 10.0);
    }
    for (rate, drive) in rates.iter().zip(drives) {
        assert!(
            (rate - 10.0).abs() <= 0.5,
            "drive {drive} pA: {rate} Hz, target 10 Hz ({rates:?})"
        );
    }
}
