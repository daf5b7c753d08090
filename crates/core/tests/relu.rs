//! The ReLU rate unit: its f-I curve is exactly max(0, I - threshold) times
//! the gain, the phase accumulator emits floor(r T) spikes, rates pass
//! through relu -> relu projections as the weights say (delta and
//! current_exp synapses), Poisson emission has the right mean, and it shares
//! a network with LIF neurons in both directions.

use cognitron_core::model::{Connector, Lif, Population, SynapseModel};
use cognitron_core::neuron::relu::Emission;
use cognitron_core::neuron::Relu;
use cognitron_core::{experiment, validate::validate, Network, RunResult, Simulation};

const DT: f64 = 0.1;

fn run(net: &Network) -> RunResult {
    validate(net).expect("valid model");
    Simulation::build(net).run(|_| {}).expect("run")
}

fn relu(net: Network, name: &str, unit: Relu) -> Network {
    net.population(name, Population::Relu(unit))
}

/// Spikes of `population` in [from_ms, to_ms) (1 ms rate bins).
fn count_between(result: &RunResult, population: &str, from_ms: f64, to_ms: f64) -> u32 {
    let p = result.population(population);
    assert_eq!(result.rate_bin_ms, 1.0);
    p.rate_counts[from_ms as usize..to_ms as usize].iter().sum()
}

/// Units with biases from below to above the threshold: the recorded rate
/// is gain * max(0, bias - threshold) to rounding, and each emits
/// floor(r T) spikes (within 1) in T = 1 s.
#[test]
fn f_i_curve_is_exactly_relu() {
    let (gain, threshold) = (2.5, 20.0);
    let biases = [-50.0, 0.0, 19.9, 20.0, 20.1, 37.3, 60.0, 100.0, 433.0];
    let mut net = Network::new(DT, 1000.0, 1);
    for (k, &bias) in biases.iter().enumerate() {
        net = relu(net, &format!("u{k}"), Relu::new(1, gain, threshold, bias));
        net = net.record_state(&format!("u{k}"), &["rate"], &[0]);
    }
    let result = run(&net);
    for (k, &bias) in biases.iter().enumerate() {
        let want = gain * (bias - threshold).max(0.0);
        let trace = result.traces.iter().find(|t| t.population == format!("u{k}")).unwrap();
        assert!(
            trace.values.iter().all(|&r| (r - want).abs() <= 1e-12 * want.max(1.0)),
            "bias {bias}"
        );
        let count = result.population(&format!("u{k}")).spikes as f64;
        let expected = (want * 1.0).floor();
        println!("bias {bias}: rate {want} Hz, {count} spikes in 1 s");
        assert!(
            (count - expected).abs() <= 1.0,
            "bias {bias}: {count} spikes, want {expected}"
        );
    }
}

/// Two sources at 200 and 120 Hz drive a unit through weights 0.8 and -0.5
/// (delta synapses, filtered over 20 ms): its mean rate is
/// gain (0.8 * 200 - 0.5 * 120 + bias - threshold); a second layer with
/// weight 1.5 passes that on. Counted over 4 s after a 300 ms transient.
#[test]
fn relu_chain_transmits_rates_as_the_weights_say() {
    let mut net = Network::new(DT, 4300.0, 1);
    net = relu(net, "a1", Relu::new(1, 1.0, 0.0, 200.0));
    net = relu(net, "a2", Relu::new(1, 1.0, 0.0, 120.0));
    let filtered = |gain, threshold, bias| Relu {
        tau_ms: 20.0,
        ..Relu::new(1, gain, threshold, bias)
    };
    net = relu(net, "b", filtered(1.5, 10.0, 30.0));
    net = relu(net, "c", filtered(0.5, 0.0, -20.0));
    net = net
        .project("a1b", "a1", "b", Connector::OneToOne, 0.8, 0.1)
        .project("a2b", "a2", "b", Connector::OneToOne, -0.5, 0.1)
        .project("bc", "b", "c", Connector::OneToOne, 1.5, 0.1);
    let result = run(&net);
    let r_b = 1.5 * (0.8 * 200.0 - 0.5 * 120.0 + 30.0 - 10.0);
    let r_c = 0.5 * (1.5 * r_b - 20.0);
    for (name, want) in [("b", r_b), ("c", r_c)] {
        let got = count_between(&result, name, 300.0, 4300.0) as f64 / 4.0;
        println!("{name}: {got} Hz, weights say {want} Hz");
        assert!((got - want).abs() <= 0.5, "{name}: {got} vs {want}");
    }
}

/// current_exp synapses: a spike train at r with weight w (pA) and time
/// constant tau gives a mean current w r tau (to O(dt/tau), see below); the
/// unit's rate is gain (w r tau + bias - threshold).
#[test]
fn current_synapses_transmit_the_mean_current() {
    let mut net = Network::new(DT, 3200.0, 1);
    net = relu(net, "a", Relu::new(1, 1.0, 0.0, 400.0));
    net = relu(
        net,
        "b",
        Relu {
            synapse: SynapseModel::CurrentExp,
            tau_exc_ms: 10.0,
            ..Relu::new(1, 0.5, 50.0, 10.0)
        },
    );
    net = net.project("ab", "a", "b", Connector::OneToOne, 60.0, 0.1);
    let result = run(&net);
    // Mean current w r tau = 60 pA * 400 Hz * 10 ms = 240 pA in continuous
    // time; the engine holds the current over each step at its value at the
    // step's start, which sums the kernel as dt / (1 - e^{-dt/tau}) = 1.005 tau.
    let kernel_ms = DT / (1.0 - (-DT / 10.0f64).exp());
    let want = 0.5 * (60.0 * 400.0 * kernel_ms * 1e-3 + 10.0 - 50.0);
    let got = count_between(&result, "b", 200.0, 3200.0) as f64 / 3.0;
    println!("current_exp: {got} Hz, want {want} Hz");
    assert!((got - want).abs() <= 0.5, "{got} vs {want}");
}

/// Poisson emission: 200 units at 50 Hz for 1 s give 10,000 spikes on
/// average (sd 100); regular emission gives exactly 50 per unit.
#[test]
fn poisson_emission_has_the_mean_rate() {
    let mut net = Network::new(DT, 1000.0, 7);
    net = relu(
        net,
        "p",
        Relu {
            emission: Emission::Poisson,
            ..Relu::new(200, 1.0, 0.0, 50.0)
        },
    );
    net = relu(net, "r", Relu::new(200, 1.0, 0.0, 50.0));
    let result = run(&net);
    let poisson = result.population("p");
    println!("poisson: {} spikes, CV {:?}", poisson.spikes, poisson.cv_isi);
    assert!((poisson.spikes as f64 - 10_000.0).abs() < 400.0);
    // Exponential intervals: CV near 1 (regular emission has CV 0).
    assert!((poisson.cv_isi.unwrap() - 1.0).abs() < 0.1);
    let regular = result.population("r");
    assert!(regular.counts.iter().all(|&c| c == 50), "{:?}", &regular.counts[..5]);
    assert!(regular.cv_isi.unwrap() < 1e-6);
}

/// LIF -> relu -> LIF in one network. A LIF neuron with a bias current fires
/// at its analytic rate 1 / (t_ref + T), T = tau ln((RI - (v_r - E_L)) / (RI - (v_th - E_L)))
/// rounded up to the step;
/// a relu unit with weight 1 (delta, filtered over 50 ms) reports that rate
/// times its gain; a second LIF, kicked above threshold by each relu spike,
/// fires once per relu spike.
#[test]
fn mixes_with_lif_populations() {
    let (tau, c, e_l, v_th, v_r, t_ref, i) = (20.0, 250.0, -70.0, -50.0, -60.0, 2.0, 600.0);
    let source = Lif {
        c_m_pf: c,
        t_ref_ms: t_ref,
        i_bias_pa: i,
        ..Lif::new(1, tau, e_l, v_th, v_r)
    };
    let ri = i * tau / c;
    let to_threshold = tau * ((ri - (v_r - e_l)) / (ri - (v_th - e_l))).ln();
    // On the 0.1 ms grid the crossing is detected at the end of its step.
    let lif_rate = 1000.0 / (t_ref + (to_threshold / DT).ceil() * DT);
    let relay = Lif {
        t_ref_ms: 1.0,
        ..Lif::new(1, 10.0, -70.0, -50.0, -70.0)
    };
    let mut net = Network::new(DT, 3300.0, 1).lif("src", source).lif("dst", relay);
    net = relu(
        net,
        "u",
        Relu {
            tau_ms: 50.0,
            ..Relu::new(1, 0.8, 0.0, 0.0)
        },
    );
    net = net.project("src_u", "src", "u", Connector::OneToOne, 1.0, 0.1).project(
        "u_dst",
        "u",
        "dst",
        Connector::OneToOne,
        25.0,
        0.1,
    );
    let result = run(&net);
    let src = count_between(&result, "src", 300.0, 3300.0) as f64 / 3.0;
    let u = count_between(&result, "u", 300.0, 3300.0) as f64 / 3.0;
    println!("LIF {src} Hz (analytic {lif_rate:.2}), relu {u} Hz (0.8 x LIF)");
    assert!((src - lif_rate).abs() < 0.5, "{src} vs {lif_rate}");
    assert!((u - 0.8 * lif_rate).abs() < 0.5, "{u} vs {}", 0.8 * lif_rate);
    let (n_u, n_dst) = (result.population("u").spikes, result.population("dst").spikes);
    assert!(n_u > 100 && n_u.abs_diff(n_dst) <= 1, "relu {n_u}, LIF {n_dst}");
}

#[test]
fn bad_relu_input_names_the_field() {
    let one = "[simulation]\nduration_ms = 10.0\n[populations.u]\nmodel = \"relu\"\nn = 1\n";
    let cases = [
        ("gain = -1.0\n", "populations.u.gain", ">= 0"),
        (
            "synapse = \"conductance_exp\"\n",
            "populations.u.synapse",
            "no membrane potential",
        ),
        ("tau_ms = 0.1\n", "populations.u.tau_ms", "too coarse"),
        ("phase_init = 1.5\n", "populations.u.phase_init", "[0, 1]"),
        ("emission = \"bursty\"\n", "populations.u.emission", "poisson"),
    ];
    for (extra, field, reason) in cases {
        let err = experiment::parse(&format!("{one}{extra}"), &[]).expect_err(extra);
        let text = err.to_string();
        assert_eq!(err.field, field, "{text}");
        assert!(text.contains(reason), "{text}");
    }
}
