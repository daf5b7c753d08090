//! Reproducibility: the same seed gives bit-identical spikes and state on one
//! thread and on two (the parallel path), another seed gives other spikes, a
//! model written out with `to_toml` and parsed back is the same model and runs
//! to the same spikes, and a golden checksum pins the results of a fixed run.

use cognitron_core::model::{
    Connector, Delay, Init, Lif, NeuronSelection, PoissonSource, Population, Projection, SynapseModel, Weight,
};
use cognitron_core::{experiment, validate::validate, Network, RunResult, Simulation};
use std::path::Path;

fn experiment_file(name: &str) -> String {
    format!("{}/../../experiments/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn load(name: &str, overrides: &[&str]) -> Network {
    let o: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    experiment::load(Path::new(&experiment_file(name)), &o).expect("experiment loads")
}

/// Spikes of one population: (name, spike steps, spike neurons, per-neuron
/// counts, rate bins).
type PopulationSpikes = (String, Vec<u32>, Vec<u32>, Vec<u32>, Vec<u32>);

/// Everything a run leaves behind that must be reproducible.
#[derive(Debug, PartialEq)]
struct Fingerprint {
    spikes: Vec<PopulationSpikes>,
    /// Final membrane potential of every LIF neuron, as bits.
    v_bits: Vec<(String, Vec<u64>)>,
    /// Recorded traces, as bits.
    trace_bits: Vec<Vec<u64>>,
    synaptic_events: u64,
}

impl Fingerprint {
    fn total_spikes(&self) -> usize {
        self.spikes.iter().map(|s| s.1.len()).sum()
    }
}

/// Builds and runs `net` on a pool of `threads` threads; returns the
/// fingerprint and the number of threads the engine says it used.
fn run_on(net: &Network, threads: usize) -> (Fingerprint, usize) {
    validate(net).expect("valid model");
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    pool.install(|| {
        let mut sim = Simulation::build(net);
        sim.advance(sim.total_steps()).expect("run");
        let v_bits = net
            .populations
            .iter()
            .filter(|(_, p)| matches!(p, Population::Lif(_)))
            .map(|(name, _)| (name.clone(), sim.state(name, "v").iter().map(|v| v.to_bits()).collect()))
            .collect();
        let result = sim.run(|_| {}).expect("finish");
        let threads = result.threads;
        (fingerprint(&result, v_bits), threads)
    })
}

fn fingerprint(result: &RunResult, v_bits: Vec<(String, Vec<u64>)>) -> Fingerprint {
    Fingerprint {
        spikes: result
            .populations
            .iter()
            .map(|p| {
                (
                    p.name.clone(),
                    p.spike_steps.clone(),
                    p.spike_neurons.clone(),
                    p.counts.clone(),
                    p.rate_counts.clone(),
                )
            })
            .collect(),
        v_bits,
        trace_bits: result
            .traces
            .iter()
            .map(|t| t.values.iter().map(|v| v.to_bits()).collect())
            .collect(),
        synaptic_events: result.synaptic_events,
    }
}

/// Serial and parallel runs of `net` agree bit for bit; the parallel run
/// really took the parallel path.
fn assert_thread_independent(what: &str, net: &Network) -> Fingerprint {
    let (serial, t1) = run_on(net, 1);
    let (parallel, t2) = run_on(net, 2);
    assert_eq!(t1, 1, "{what}: one thread");
    assert_eq!(t2, 2, "{what}: the two-thread run did not take the parallel path");
    eprintln!("{what}: {} spikes, identical on 1 and 2 threads", serial.total_spikes());
    assert!(serial.total_spikes() > 1000, "{what}: too few spikes to compare");
    assert!(serial.spikes.iter().all(|s| s.1.len() == s.2.len()));
    // Compare piece by piece for a readable failure, then everything.
    for (a, b) in serial.spikes.iter().zip(&parallel.spikes) {
        assert!(
            a.1 == b.1 && a.2 == b.2,
            "{what} {}: spike trains differ between 1 and 2 threads",
            a.0
        );
    }
    assert!(
        serial.v_bits == parallel.v_bits,
        "{what}: final v differs between 1 and 2 threads"
    );
    assert!(serial == parallel, "{what}: results differ between 1 and 2 threads");
    serial
}

#[test]
fn cuba_is_bit_identical_on_one_and_two_threads() {
    // Scale 2: 8000 neurons, above the engine's threshold for the parallel path.
    let net = load("cuba.toml", &["network.scale=2", "simulation.duration_ms=250"]);
    assert_eq!(
        net.populations.values().map(|p| net.scaled_size(p)).sum::<usize>(),
        8000
    );
    assert_thread_independent("CUBA x2", &net);
}

#[test]
fn coba_is_bit_identical_on_one_and_two_threads() {
    let net = load("coba.toml", &["network.scale=2", "simulation.duration_ms=150"]);
    assert_thread_independent("COBA x2", &net);
}

#[test]
fn single_precision_coba_is_bit_identical_on_one_and_two_threads() {
    let net = load(
        "coba.toml",
        &[
            "network.scale=2",
            "simulation.duration_ms=150",
            "simulation.precision=\"single\"",
        ],
    );
    assert_thread_independent("COBA x2, single precision", &net);
}

/// Brunel at half size (6250 neurons, external Poisson drive drawn per chunk,
/// 1.5-ms delays through the ring buffer) plus a Poisson population projecting
/// with per-synapse random weights and delays.
fn brunel_with_poisson_input(seed: u64) -> Network {
    let mut net = load(
        "brunel.toml",
        &[
            "network.scale=0.5",
            "simulation.duration_ms=200",
            &format!("simulation.seed={seed}"),
        ],
    );
    net.monitors.spikes.clear(); // record every population in full
    net.populations.insert(
        "noise".into(),
        Population::Poisson(PoissonSource {
            n: 1000,
            rate_hz: Some(20.0),
            schedule: Vec::new(),
        }),
    );
    for target in ["exc", "inh"] {
        net.projections.insert(
            format!("noise_{target}"),
            Projection {
                from: "noise".into(),
                to: target.into(),
                connect: Connector::FixedProbability {
                    p: 0.05,
                    allow_autapses: true,
                },
                weight: Weight::Uniform { uniform: [0.05, 0.15] },
                delay_ms: Delay::Uniform { uniform: [0.5, 3.0] },
                receptor: None,
                plasticity: None,
            },
        );
    }
    net
}

#[test]
fn brunel_with_poisson_population_is_bit_identical_on_one_and_two_threads() {
    assert_thread_independent("Brunel x0.5 + Poisson", &brunel_with_poisson_input(1));
}

#[test]
fn a_different_seed_gives_different_spikes() {
    let run = |seed: u64| {
        let net = load(
            "cuba.toml",
            &["simulation.duration_ms=100", &format!("simulation.seed={seed}")],
        );
        run_on(&net, 1).0
    };
    let (a, a_again, b) = (run(1), run(1), run(2));
    assert!(a == a_again, "the same seed twice gave different results");
    let (sa, sb) = (&a.spikes[0], &b.spikes[0]);
    let pairs = |s: &PopulationSpikes| {
        s.1.iter()
            .zip(&s.2)
            .map(|(&t, &i)| (t, i))
            .collect::<std::collections::HashSet<_>>()
    };
    let (pa, pb) = (pairs(sa), pairs(sb));
    let shared = pa.intersection(&pb).count();
    eprintln!(
        "seed 1: {} exc spikes, seed 2: {}, {shared} (step, neuron) pairs in common",
        pa.len(),
        pb.len()
    );
    assert!(pa.len() > 1000 && pb.len() > 1000);
    // Different connectivity, initial state and noise: most spikes differ.
    assert!((shared as f64) < 0.5 * pa.len().min(pb.len()) as f64);
    assert!(a.v_bits != b.v_bits);
}

/// A small model that uses every kind of field: explicit synapses,
/// spike-time and scheduled Poisson sources, every Init form, every
/// connector, per-synapse weights and delays, state monitors.
fn assorted_model() -> Network {
    let cond = Lif {
        c_m_pf: 200.0,
        t_ref_ms: 5.0,
        synapse: SynapseModel::ConductanceExp,
        e_exc_mv: 0.0,
        e_inh_mv: -80.0,
        v_init_mv: Some(Init::Normal {
            normal: [-55.0, 3.0],
            min: Some(-70.0),
        }),
        g_exc_init: Init::Normal {
            normal: [4.0, 1.5],
            min: Some(0.0),
        },
        g_inh_init: Init::Uniform { uniform: [0.0, 20.0] },
        i_bias_pa: 120.3,
        ..Lif::new(300, 20.0, -60.0, -50.0, -60.0)
    };
    let cur = Lif {
        c_m_pf: 250.0,
        synapse: SynapseModel::CurrentExp,
        v_init_mv: Some(Init::Uniform {
            uniform: [-70.0, -50.0],
        }),
        i_bias_pa: 520.0,
        tau_exc_ms: 2.0,
        ..Lif::new(200, 10.0, -70.0, -50.0, -65.0)
    };
    let mut net = Network::new(0.1, 150.0, 42)
        .lif("cond", cond)
        .lif("cur", cur)
        .spike_times("stim", 3, vec![(0, 1.0), (1, 2.5), (2, 2.5), (0, 40.0)])
        .population(
            "sched",
            Population::Poisson(PoissonSource {
                n: 100,
                rate_hz: None,
                schedule: vec![[0.0, 5.0], [50.0, 80.0], [100.0, 0.0]],
            }),
        )
        .project(
            "stim_cur",
            "stim",
            "cur",
            Connector::Explicit {
                synapses: vec![(0, 0, 300.0, 0.1), (1, 5, -120.5, 2.3), (2, 199, 50.0, 1.0)],
            },
            0.0,
            0.1,
        )
        .project(
            "sched_cond",
            "sched",
            "cond",
            Connector::FixedIndegree {
                k: 20,
                allow_autapses: true,
                allow_multapses: false,
            },
            2.5,
            0.7,
        )
        .project(
            "cond_cur",
            "cond",
            "cur",
            Connector::FixedProbability {
                p: 0.1,
                allow_autapses: true,
            },
            20.0,
            1.2,
        )
        .project(
            "cur_cond",
            "cur",
            "cond",
            Connector::AllToAll {
                allow_autapses: true,
                except_same_index: false,
            },
            0.05,
            0.1,
        )
        .project(
            "cur_cur",
            "cur",
            "cur",
            Connector::FixedProbability {
                p: 0.05,
                allow_autapses: false,
            },
            -30.0,
            0.4,
        )
        .project("cond_cond", "cond", "cond", Connector::OneToOne, 1.0, 0.3)
        .record_state("cond", &["v", "g_exc", "g_inh"], &[0, 7, 299])
        .record_state("cur", &["v"], &[5]);
    let p = net.projections.get_mut("cond_cur").unwrap();
    p.weight = Weight::Normal { normal: [20.0, 4.0] };
    p.delay_ms = Delay::Uniform { uniform: [0.2, 2.0] };
    net.projections.get_mut("cur_cond").unwrap().receptor = Some(cognitron_core::model::Receptor::Inh);
    net.monitors
        .spikes
        .insert("cond".into(), NeuronSelection::Indices(vec![0, 5, 17, 250]));
    net.monitors
        .spikes
        .insert("cur".into(), NeuronSelection::Keyword("all".into()));
    net.monitors.rate_bin_ms = 2.5;
    net
}

#[test]
fn toml_round_trip_gives_the_same_model_and_the_same_spikes() {
    let models = [
        (
            "CUBA (overridden)",
            load(
                "cuba.toml",
                &[
                    "simulation.duration_ms=100",
                    "simulation.seed=7",
                    "populations.exc.t_ref_ms=4.5",
                ],
            ),
        ),
        ("Brunel x0.5 + Poisson", {
            let mut n = brunel_with_poisson_input(3);
            n.simulation.duration_ms = 60.0;
            n
        }),
        ("assorted builder model", assorted_model()),
    ];
    for (what, net) in models {
        validate(&net).expect("valid model");
        let text = net.to_toml();
        let back = experiment::parse(&text, &[])
            .unwrap_or_else(|e| panic!("{what}: written model does not parse: {e:?}\n{text}"));
        assert!(
            back == net,
            "{what}: the parsed model differs from the written one:\n{text}"
        );
        // Written again, it gives the same text.
        assert_eq!(back.to_toml(), text, "{what}");
        let (a, _) = run_on(&net, 1);
        let (b, _) = run_on(&back, 1);
        eprintln!("{what}: {} spikes, same after the round trip", a.total_spikes());
        assert!(a.total_spikes() > 0, "{what}: no spikes");
        assert!(a == b, "{what}: the re-parsed model ran differently");
    }
}

/// FNV-1a (64 bit) over every (step, neuron) pair, as little-endian u32s,
/// population by population in model order.
fn fnv1a(result: &RunResult) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in &result.populations {
        for (&s, &i) in p.spike_steps.iter().zip(&p.spike_neurons) {
            for byte in s.to_le_bytes().into_iter().chain(i.to_le_bytes()) {
                h ^= byte as u64;
                h = h.wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
    }
    h
}

/// Golden values of `experiments/cuba.toml`, seed 1, 200 ms, every spike.
/// They change whenever any result of the engine changes (connectivity,
/// random streams, integration, step order). If a change is intended,
/// regenerate them: run
/// `cargo test --release -p cognitron-core --test determinism golden -- --nocapture`
/// and copy the measured values from the failure message (they can also
/// differ across platforms whose libm `exp` rounds differently).
const GOLDEN_CUBA_SPIKES: u64 = 4553;
const GOLDEN_CUBA_FNV1A: u64 = 0x50b0_8a33_7e81_0a75;

#[test]
fn golden_cuba_checksum() {
    let net = load("cuba.toml", &["simulation.duration_ms=200", "simulation.seed=1"]);
    let result = Simulation::build(&net).run(|_| {}).expect("run");
    let spikes: u64 = result.populations.iter().map(|p| p.spikes).sum();
    let recorded: usize = result.populations.iter().map(|p| p.spike_steps.len()).sum();
    assert_eq!(recorded as u64, spikes, "every spike is recorded");
    let hash = fnv1a(&result);
    eprintln!("CUBA 200 ms seed 1: {spikes} spikes, FNV-1a {hash:#018x}");
    assert!(
        spikes == GOLDEN_CUBA_SPIKES && hash == GOLDEN_CUBA_FNV1A,
        "CUBA results changed: {spikes} spikes (golden {GOLDEN_CUBA_SPIKES}), FNV-1a {hash:#018x} \
         (golden {GOLDEN_CUBA_FNV1A:#018x}); if intended, set GOLDEN_CUBA_SPIKES = {spikes} and \
         GOLDEN_CUBA_FNV1A = {hash:#018x}"
    );
}

/// Plastic synapses are owned by their postsynaptic chunk, so learning is as
/// thread-independent as the rest: 8,000 neurons in 4 chunks, STDP from a
/// Poisson population and triplet STDP on recurrent synapses, with periodic
/// normalisation; spikes and every weight bit-identical on 1 and 2 threads.
#[test]
fn plastic_network_learns_bit_identically_on_one_and_two_threads() {
    use cognitron_core::plasticity::{Bounds, Pairing, Plasticity, Stdp, Triplet, WeightDependence};
    let bounds = |normalize_sum: Option<f64>| Bounds {
        w_min: 0.0,
        w_max: 1.0,
        normalize_sum,
        normalize_interval_ms: normalize_sum.map(|_| 20.0),
    };
    let neuron = Lif {
        t_ref_ms: 2.0,
        ..Lif::new(8000, 20.0, -70.0, -50.0, -65.0)
    };
    let mut net = Network::new(0.1, 100.0, 11)
        .poisson("input", 1000, 60.0)
        .lif("exc", neuron)
        .project(
            "input_exc",
            "input",
            "exc",
            Connector::FixedProbability {
                p: 0.05,
                allow_autapses: true,
            },
            0.5,
            0.1,
        )
        .project(
            "recurrent",
            "exc",
            "exc",
            Connector::FixedProbability {
                p: 0.002,
                allow_autapses: false,
            },
            0.3,
            0.5,
        )
        .plasticity(
            "input_exc",
            Plasticity::Stdp(Stdp {
                a_plus: 0.01,
                a_minus: 0.0105,
                tau_plus_ms: 16.8,
                tau_minus_ms: 33.7,
                pairing: Pairing::All,
                weight_dependence: WeightDependence::Multiplicative,
                bounds: bounds(Some(20.0)),
            }),
        )
        .plasticity(
            "recurrent",
            Plasticity::Triplet(Triplet {
                a2_plus: 5e-3,
                a3_plus: 6.2e-3,
                a2_minus: 7e-3,
                a3_minus: 2.3e-4,
                tau_plus_ms: 16.8,
                tau_minus_ms: 33.7,
                tau_x_ms: 101.0,
                tau_y_ms: 125.0,
                pairing: Pairing::Nearest,
                bounds: bounds(None),
            }),
        );
    net.projections["input_exc"].weight = cognitron_core::model::Weight::Uniform { uniform: [0.0, 1.0] };
    validate(&net).expect("valid");
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            let mut sim = Simulation::build(&net);
            sim.run_steps(1000).expect("runs");
            let weights: Vec<Vec<u32>> = ["input_exc", "recurrent"]
                .iter()
                .map(|p| {
                    sim.plastic_synapses(p)
                        .unwrap()
                        .weights
                        .iter()
                        .map(|w| w.to_bits())
                        .collect()
                })
                .collect();
            (sim.spike_counts("exc").unwrap(), weights)
        })
    };
    let (one, two) = (run(1), run(2));
    assert!(one.0.iter().sum::<u32>() > 1000, "the network is active");
    assert_eq!(one, two);
}
