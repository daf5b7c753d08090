//! Brunel (2000) model A (`experiments/brunel.toml`) against its own
//! mean-field theory, implemented here: the Siegert rate of a LIF neuron with
//! white-noise input, the self-consistent network rate (the paper's eqs.
//! 21-22) and the ISI CV. The network runs must reach the theory's rate
//! within 10 % and be asynchronous and irregular; a single neuron fed the same
//! input statistics must reach the Siegert rate and CV within 5 %.
//!
//! The simulated rates sit a few percent below the theory: the theory is the
//! diffusion limit in continuous time, the engine sees threshold crossings
//! only at grid points and its PSPs are finite jumps (see the single-neuron
//! test).

use cognitron_core::model::{Connector, ExternalDrive, Init, Lif, NeuronSelection, Receptor};
use cognitron_core::{experiment, validate::validate, Network, RunResult, Simulation};
use std::f64::consts::PI;
use std::path::Path;

mod common;

const BRUNEL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../experiments/brunel.toml");

// ---------------------------------------------------------------------------
// Theory
// ---------------------------------------------------------------------------

/// e^{u^2} (1 + erf u) = e^{u^2} erfc(-u), without overflow or cancellation:
/// erfc(-u) is taken directly (1 + erf u loses every digit for u << 0), and
/// below u = -10 the asymptotic series 1 / (|u| sqrt(pi)) (1 - 1/(2u^2) + ...)
/// replaces e^{u^2}, which overflows beyond |u| = 26.6.
fn erfcx_neg(u: f64) -> f64 {
    if u < -10.0 {
        let x2 = u * u;
        let series = 1.0 - 1.0 / (2.0 * x2) + 3.0 / (4.0 * x2 * x2) - 15.0 / (8.0 * x2 * x2 * x2)
            + 105.0 / (16.0 * x2 * x2 * x2 * x2);
        series / (-u * PI.sqrt())
    } else {
        (u * u).exp() * libm::erfc(-u)
    }
}

/// Composite Simpson rule with `n` (even) intervals.
fn simpson(f: impl Fn(f64) -> f64, a: f64, b: f64, n: usize) -> f64 {
    let h = (b - a) / n as f64;
    let mut sum = f(a) + f(b);
    for i in 1..n {
        sum += f(a + i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    sum * h / 3.0
}

/// Parameters of model A (times in seconds, potentials in mV).
#[derive(Clone, Copy, Debug)]
struct Brunel {
    j: f64,
    g: f64,
    nu_ext: f64,
    c_e: f64,
    gamma: f64,
    tau: f64,
    theta: f64,
    v_r: f64,
    tau_rp: f64,
}

const PAPER: Brunel = Brunel {
    j: 0.2,
    g: 5.0,
    nu_ext: 10.0,
    c_e: 1000.0,
    gamma: 0.25,
    tau: 0.020,
    theta: 20.0,
    v_r: 10.0,
    tau_rp: 0.002,
};

impl Brunel {
    /// Mean and standard deviation (mV) of the input when the excitatory
    /// inputs fire at nu_ext + nu_exc and the inhibitory ones at nu_inh (Hz).
    fn mu_sigma_split(&self, nu_exc: f64, nu_inh: f64) -> (f64, f64) {
        let (c_i, w_i) = (self.gamma * self.c_e, -self.g * self.j);
        let mu = self.c_e * self.j * self.tau * (self.nu_ext + nu_exc) + c_i * w_i * self.tau * nu_inh;
        let s2 = self.j * self.j * self.c_e * self.tau * (self.nu_ext + nu_exc) + c_i * w_i * w_i * self.tau * nu_inh;
        (mu, s2.sqrt())
    }

    /// Mean and standard deviation (mV) of the input for a network rate nu (Hz).
    fn mu_sigma(&self, nu: f64) -> (f64, f64) {
        let mu = self.c_e * self.j * self.tau * (self.nu_ext + nu * (1.0 - self.g * self.gamma));
        let s2 = self.j * self.j * self.c_e * self.tau * (self.nu_ext + nu * (1.0 + self.g * self.g * self.gamma));
        (mu, s2.sqrt())
    }

    /// Siegert rate (Hz) of a LIF neuron with white-noise input (mu, sigma).
    fn siegert(&self, mu: f64, sigma: f64) -> f64 {
        let (lo, hi) = ((self.v_r - mu) / sigma, (self.theta - mu) / sigma);
        1.0 / (self.tau_rp + self.tau * PI.sqrt() * simpson(erfcx_neg, lo, hi, 4000))
    }

    /// Self-consistent rate: nu = siegert(mu(nu), sigma(nu)), by bisection
    /// (the rate minus its own transfer is increasing for g > 4).
    fn rate(&self) -> f64 {
        let h = |nu: f64| {
            let (mu, sigma) = self.mu_sigma(nu);
            self.siegert(mu, sigma) - nu
        };
        let (mut lo, mut hi) = (0.0, 1.0 / self.tau_rp);
        assert!(h(lo) > 0.0 && h(hi) < 0.0);
        for _ in 0..100 {
            let mid = 0.5 * (lo + hi);
            if h(mid) > 0.0 {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        0.5 * (lo + hi)
    }

    /// CV of the inter-spike intervals of a LIF neuron with white-noise input
    /// firing at nu (Brunel 2000, eq. A.4 / Brunel & Hakim 1999):
    /// CV^2 = 2 pi (nu tau)^2 int_{y_r}^{y_theta} e^{x^2} int_{-inf}^x e^{y^2} (1 + erf y)^2 dy dx.
    fn cv(&self, mu: f64, sigma: f64, nu: f64) -> f64 {
        let (lo, hi) = ((self.v_r - mu) / sigma, (self.theta - mu) / sigma);
        // e^{y^2} (1 + erf y)^2 = erfcx(-y) erfc(-y) ~ e^{-y^2} / (pi y^2) below -8: negligible.
        let inner = |y: f64| erfcx_neg(y) * libm::erfc(-y);
        let n = 4000;
        let h = (hi - lo) / n as f64;
        let mut big_g = simpson(inner, -10.0, lo, 20_000);
        let mut outer = Vec::with_capacity(n + 1);
        outer.push((lo * lo).exp() * big_g);
        for i in 0..n {
            let x = lo + i as f64 * h;
            big_g += simpson(inner, x, x + h, 2);
            let x1 = x + h;
            outer.push((x1 * x1).exp() * big_g);
        }
        let integral = outer
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v * if i == 0 || i == n {
                    1.0
                } else if i % 2 == 1 {
                    4.0
                } else {
                    2.0
                }
            })
            .sum::<f64>()
            * h
            / 3.0;
        (2.0 * PI * (nu * self.tau).powi(2) * integral).sqrt()
    }
}

/// J = 0.1 mV, nu_ext = 20 Hz: NEST's brunel_delta_nest.py variant.
const NEST: Brunel = Brunel {
    j: 0.1,
    nu_ext: 20.0,
    ..PAPER
};

#[test]
fn mean_field_theory_reproduces_known_values() {
    // erfcx(1) = e erfc(1) (Abramowitz & Stegun), here as e^{u^2}(1 + erf u) at u = -1.
    assert!((erfcx_neg(-1.0) - 0.427_583_576_155_807).abs() < 1e-13);
    // The asymptotic branch joins the direct one at u = -10.
    let direct = 100f64.exp() * libm::erfc(10.0);
    assert!((erfcx_neg(-10.0 - 1e-12) / direct - 1.0).abs() < 1e-8);
    // Strong drive, vanishing noise: the deterministic LIF rate
    // 1 / (tau_rp + tau ln((mu - V_r) / (mu - theta))) = 1 / (2 ms + 20 ms ln 2).
    let deterministic = 1.0 / (0.002 + 0.020 * 2f64.ln());
    assert!((PAPER.siegert(30.0, 0.01) / deterministic - 1.0).abs() < 1e-5);
    // Far below threshold, firing is a rare escape: Poisson, CV -> 1.
    let rare = PAPER.siegert(0.0, 4.0);
    let cv = PAPER.cv(0.0, 4.0, rare);
    assert!(rare < 0.1 && (cv - 1.0).abs() < 0.01, "rate {rare}, CV {cv}");

    // The self-consistent states of the two parameter sets (Brunel 2000, eqs. 21-22).
    let nu = PAPER.rate();
    let (mu, sigma) = PAPER.mu_sigma(nu);
    eprintln!(
        "J = 0.2 mV: nu0 = {nu:.3} Hz, mu = {mu:.3} mV, sigma = {sigma:.3} mV, CV = {:.3}",
        PAPER.cv(mu, sigma, nu)
    );
    assert!((nu - 26.92).abs() < 0.01, "{nu}");
    assert!((PAPER.siegert(mu, sigma) - nu).abs() < 1e-9);
    let nu = NEST.rate();
    eprintln!("J = 0.1 mV: nu0 = {nu:.3} Hz");
    assert!((nu - 37.95).abs() < 0.01, "{nu}");
}

// ---------------------------------------------------------------------------
// Network
// ---------------------------------------------------------------------------

fn load(overrides: &[&str]) -> Network {
    let o: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    experiment::load(Path::new(BRUNEL), &o).expect("brunel.toml loads")
}

struct Activity {
    /// Mean rate per neuron after the initial transient (Hz).
    rate: f64,
    /// Mean CV of the ISIs (engine statistics, whole run).
    cv: f64,
    /// Golomb's synchrony measure over 1-ms bins after the transient.
    chi: f64,
}

/// Rate and synchrony of a population from its binned spike counts, skipping
/// the first `skip_ms`.
///
/// chi^2 = Var_t(A) / mean_i Var_t(x_i) (Golomb 2007), with x_i(t) neuron i's
/// count in a 1-ms bin and A its population mean. A neuron fires at most once
/// per bin (the refractory period is 2 ms), so Var(x_i) = p (1 - p) with p the
/// spike probability per bin, and Var(A) = Var(count) / N^2. chi is
/// 1/sqrt(N) for independent neurons (0.01 here) and 1 for full synchrony;
/// chi^2 - 1/N is about the mean pairwise correlation of the bin counts.
fn activity(r: &RunResult, population: &str, skip_ms: f64) -> Activity {
    let p = r.population(population);
    let per_ms = (1.0 / r.rate_bin_ms).round() as usize;
    assert!(
        (per_ms as f64 * r.rate_bin_ms - 1.0).abs() < 1e-9,
        "rate bins must divide 1 ms"
    );
    let counts: Vec<f64> = p.rate_counts[(skip_ms / r.rate_bin_ms).round() as usize..]
        .chunks_exact(per_ms)
        .map(|c| c.iter().sum::<u32>() as f64)
        .collect();
    let bins = counts.len() as f64;
    let mean = counts.iter().sum::<f64>() / bins;
    let var = counts.iter().map(|c| (c - mean).powi(2)).sum::<f64>() / bins;
    let n = p.n as f64;
    let q = mean / n;
    Activity {
        rate: q * 1000.0,
        cv: p.cv_isi.expect("enough spikes for a CV"),
        chi: (var / (n * n * q * (1.0 - q))).sqrt(),
    }
}

/// Threshold on chi for "asynchronous". In Brunel's AI state the finite
/// connection probability (epsilon = 0.1: neighbours share 10 % of their
/// inputs) leaves weak correlations, chi ~ 0.1 at this size (chi^2 ~ 0.01 of
/// shared input variance); synchronous states have chi of order 1: the
/// synchronous regular state of the same network (g = 3) measures 0.4 in
/// `synchrony_measure_detects_the_synchronous_regular_state`. 0.2 (mean
/// pairwise correlation of 1-ms counts below 0.04) separates the two.
const CHI_ASYNCHRONOUS: f64 = 0.2;

fn run(net: &Network) -> RunResult {
    Simulation::build(net).run(|_| {}).expect("run")
}

/// Fig. 8C parameters (J = 0.2 mV, g = 5, nu_ext = 2 nu_thr): the
/// asynchronous irregular state at the mean-field rate.
#[test]
fn network_j02_matches_mean_field_rate_and_is_asynchronous_irregular() {
    let r = run(&load(&["simulation.duration_ms=1000"]));
    assert_asynchronous_at_rate("J = 0.2 mV", &r, PAPER.rate(), true);
}

/// J = 0.1 mV, g = 5, nu_ext = 20 Hz.
#[test]
fn network_j01_matches_mean_field_rate() {
    let mut o = vec!["simulation.duration_ms=500"];
    o.extend(common::BRUNEL_J01);
    let r = run(&load(&o));
    assert_asynchronous_at_rate("J = 0.1 mV", &r, NEST.rate(), false);
}

/// Both populations fire within 10 % of `theory` (after the first 100 ms),
/// asynchronously, and (if `irregular`) with a CV of ISI near 1.
fn assert_asynchronous_at_rate(label: &str, r: &RunResult, theory: f64, irregular: bool) {
    for population in ["exc", "inh"] {
        let a = activity(r, population, 100.0);
        eprintln!(
            "{label} {population}: {:.3} Hz (theory {theory:.3} Hz, {:+.1} %), CV {:.3}, chi {:.3}",
            a.rate,
            (a.rate / theory - 1.0) * 100.0,
            a.cv,
            a.chi
        );
        assert!(
            (a.rate / theory - 1.0).abs() < 0.10,
            "{label} {population}: {} Hz vs {theory} Hz",
            a.rate
        );
        if irregular {
            assert!((0.8..=1.2).contains(&a.cv), "{label} {population}: CV {}", a.cv);
        }
        assert!(a.chi < CHI_ASYNCHRONOUS, "{label} {population}: chi {}", a.chi);
    }
}

/// The control for the synchrony threshold: with weak inhibition (g = 3) the
/// network falls into Brunel's synchronous regular state (neurons fire near
/// saturation, almost periodically, in step), at 1/5 of the size to keep the
/// high rates cheap (in-degrees stay 1000 and 250).
#[test]
fn synchrony_measure_detects_the_synchronous_regular_state() {
    let r = run(&load(&[
        "simulation.duration_ms=250",
        "network.scale=0.2",
        "projections.inh_exc.weight=-0.6",
        "projections.inh_inh.weight=-0.6",
    ]));
    let a = activity(&r, "exc", 50.0);
    eprintln!("g = 3: {:.1} Hz, CV {:.3}, chi {:.3}", a.rate, a.cv, a.chi);
    assert!(
        a.rate > 200.0 && a.cv < 0.1,
        "not the SR state: {} Hz, CV {}",
        a.rate,
        a.cv
    );
    assert!(a.chi > 1.5 * CHI_ASYNCHRONOUS, "chi {}", a.chi);
}

/// A population of unconnected neurons receiving the input a network neuron
/// sees at the self-consistent state: C_E = 1000 excitatory Poisson inputs
/// of J = 0.2 mV at nu_ext + nu0, and C_I = 250 distinct inhibitory Poisson
/// inputs of -g J = -1 mV at nu0 (from a pool, without multapses). Its mu and
/// sigma are those of the theory, so its rate and CV must be the Siegert ones
/// as far as the diffusion approximation holds.
///
/// The pool is shared, and the balanced input (excitation and inhibition of
/// about 130 mV each against a net mu of 20 mV) amplifies its finite-size
/// rate: a pool 0.4 % above nu0 lowers mu by 0.5 mV and the probes' rate by
/// about 5 %. So the prediction uses the pool's realised rate in the
/// measured window: over seeds 5-8 the error was -2 % ... -9 % against nu0
/// and -3.3 % ... -4.8 % against this prediction (the -3.5 % expected below).
///
/// Run at dt = 0.01 ms: threshold crossings are only seen at grid points,
/// which raises the effective threshold by about 0.58 sigma sqrt(dt / tau)
/// (Siegmund's correction), -7 % of rate at dt = 0.1 ms but -2.5 % here; the
/// finite PSP (J = 0.2 mV against theta - V_r = 10 mV) costs about 1 % more.
#[test]
fn single_neuron_with_network_input_statistics_matches_siegert() {
    let b = PAPER;
    let nu0 = b.rate();
    let (mu, sigma) = b.mu_sigma(nu0);
    let cv_theory = b.cv(mu, sigma, nu0);
    let (dt, duration, skip_ms, n) = (0.01, 2000.0, 100.0, 500);
    let net = Network::new(dt, duration, 5)
        .lif(
            "probe",
            Lif {
                t_ref_ms: 2.0,
                v_init_mv: Some(Init::Uniform { uniform: [0.0, 20.0] }),
                external: Some(ExternalDrive {
                    count: 1000,
                    rate_hz: b.nu_ext + nu0,
                    weight: b.j,
                    receptor: Receptor::Exc,
                }),
                ..Lif::new(n, 20.0, 0.0, 20.0, 10.0)
            },
        )
        .poisson("pool", 5000, nu0)
        .project(
            "inh",
            "pool",
            "probe",
            Connector::FixedIndegree {
                k: 250,
                allow_autapses: true,
                allow_multapses: false,
            },
            -b.g * b.j,
            0.1,
        );
    let mut net = net;
    for population in ["probe", "pool"] {
        net.monitors
            .spikes
            .insert(population.into(), NeuronSelection::Keyword("all".into()));
    }
    validate(&net).expect("valid model");
    let r = run(&net);
    let p = r.population("probe");
    // Pool the ISIs of all neurons (identical and stationary), leaving out
    // the first 100 ms: unlike the mean of per-neuron CVs, this has no
    // small-sample bias.
    let skip = (skip_ms / dt).round() as u32;
    let mut last = vec![None::<u32>; n];
    let (mut sum, mut sq, mut count, mut spikes) = (0.0, 0.0, 0.0, 0usize);
    for (&s, &i) in p.spike_steps.iter().zip(&p.spike_neurons) {
        if s < skip {
            continue;
        }
        spikes += 1;
        if let Some(prev) = last[i as usize] {
            let isi = (s - prev) as f64 * dt;
            sum += isi;
            sq += isi * isi;
            count += 1.0;
        }
        last[i as usize] = Some(s);
    }
    let window_s = (duration - skip_ms) * 1e-3;
    let rate = spikes as f64 / (n as f64 * window_s);
    let mean = sum / count;
    let cv = ((sq / count - mean * mean).max(0.0)).sqrt() / mean;
    let pool = r.population("pool");
    let pool_spikes = pool.spike_steps.iter().filter(|&&s| s >= skip).count();
    let pool_rate = pool_spikes as f64 / (5000.0 * window_s);
    let (mu, sigma) = b.mu_sigma_split(nu0, pool_rate);
    let predicted = b.siegert(mu, sigma);
    eprintln!(
        "single neuron: {rate:.3} Hz (Siegert {predicted:.3} Hz at the pool's {pool_rate:.3} Hz, {:+.1} %; \
         at nu0 = {nu0:.3} Hz, {:+.1} %), CV {cv:.4} (theory {cv_theory:.4}, {:+.1} %), {count} ISIs",
        (rate / predicted - 1.0) * 100.0,
        (rate / nu0 - 1.0) * 100.0,
        (cv / cv_theory - 1.0) * 100.0
    );
    assert!(
        (rate / predicted - 1.0).abs() < 0.05,
        "rate {rate} Hz vs Siegert {predicted} Hz"
    );
    assert!((cv / cv_theory - 1.0).abs() < 0.05, "CV {cv} vs theory {cv_theory}");
}
