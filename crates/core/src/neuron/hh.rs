//! The Hodgkin-Huxley point neuron (`model = "hh"`): sodium, delayed-rectifier
//! potassium and leak currents,
//!
//! `C dv/dt = g_leak (e_leak - v) + g_na m^3 h (e_na - v) + g_k n^4 (e_k - v) + I_syn + i_bias`,
//! `dx/dt = alpha_x(v) (1 - x) - beta_x(v) x` for x in {m, h, n},
//!
//! with the rate functions of `channels::squid` (Hodgkin & Huxley 1952,
//! J Physiol 117:500; temperature factor Q10 = 3 from 6.3 °C) or
//! `channels::traub_miles` (Traub & Miles 1991, as in benchmark 3 of Brette
//! et al. 2007, J Comput Neurosci 23:349, and Brian2's examples/COBAHH.py).
//!
//! Parameters are absolute (pF, nS, pA) for one neuron. From per-area
//! densities with membrane area A: C [pF] = c [uF/cm^2] * A [cm^2] * 1e6,
//! g [nS] = g [mS/cm^2] * A [cm^2] * 1e6, I [pA] = i [uA/cm^2] * A [cm^2] * 1e6.
//! E.g. the squid axon on 1e-4 cm^2 (10,000 um^2): C = 100 pF, g_na = 12,000 nS,
//! g_k = 3,600 nS, g_leak = 30 nS, 1 uA/cm^2 = 100 pA; the COBA-HH cell
//! (20,000 um^2): C = 200 pF, g_na = 20,000 nS, g_k = 6,000 nS, g_leak = 10 nS.
//!
//! Integration (exponential Euler, Brian2's `exponential_euler` for these
//! equations): over a step every gate relaxes exactly towards its steady
//! state at the step's initial v (`channels::relax_gate`), and v relaxes
//! exactly towards the reversal potential weighted by the conductances held
//! at their start-of-step values (gates and synaptic conductances), all from
//! the old state. The scheme is first-order accurate and unconditionally
//! stable; `tests/hh.rs` measures its error against an adaptive Runge-Kutta
//! reference.
//!
//! Spikes: an upward crossing of `v_th_mv` (-20 mV by default), at most one
//! per `t_ref_ms` (a guard against noise around the threshold; nothing is
//! reset or clamped, the action potential itself repolarises v).

use super::channels::{self, relax_gate};
use super::synapse::{SynapseParams, SynapticInput};
use super::{crossed, draw_init, exp_negative, NeuronChunk, NeuronSpec};
use crate::error::ModelError;
use crate::model::{default_e_inh, default_tau_exc, default_tau_inh, FieldKind, FieldSpec, Init, SynapseModel};
use crate::rng::Stream;
use crate::validate::{check_init, check_synapse, finite, positive};
use serde::{Deserialize, Serialize};

/// Which rate functions gate the sodium and potassium channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kinetics {
    /// Hodgkin & Huxley (1952) squid giant axon (`channels::squid`), at `celsius`.
    Squid,
    /// Traub & Miles (1991) with the threshold shift `v_t_mv` (`channels::traub_miles`).
    TraubMiles,
}

/// A Hodgkin-Huxley population (`model = "hh"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hh {
    pub n: usize,
    pub kinetics: Kinetics,
    /// Membrane capacitance (pF).
    pub c_m_pf: f64,
    /// Maximal sodium conductance (nS).
    pub g_na_ns: f64,
    /// Maximal (delayed-rectifier) potassium conductance (nS).
    pub g_k_ns: f64,
    /// Leak conductance (nS).
    pub g_leak_ns: f64,
    /// Sodium reversal potential (mV).
    pub e_na_mv: f64,
    /// Potassium reversal potential (mV).
    pub e_k_mv: f64,
    /// Leak reversal potential (mV).
    pub e_leak_mv: f64,
    /// Traub-Miles threshold shift V_T (mV); -63 in Brette et al. (2007).
    #[serde(default = "default_v_t")]
    pub v_t_mv: f64,
    /// Temperature (°C) of the squid kinetics; rates scale by 3^((celsius - 6.3)/10).
    #[serde(default = "default_celsius")]
    pub celsius: f64,
    /// Spike detection threshold (mV), crossed upwards.
    #[serde(default = "default_v_th")]
    pub v_th_mv: f64,
    /// Minimum time between two detected spikes (ms); 3 ms in Brian2's COBAHH.py.
    #[serde(default = "default_t_ref")]
    pub t_ref_ms: f64,
    /// Constant injected current (pA).
    #[serde(default)]
    pub i_bias_pa: f64,
    #[serde(default = "default_synapse")]
    pub synapse: SynapseModel,
    #[serde(default = "default_tau_exc")]
    pub tau_exc_ms: f64,
    #[serde(default = "default_tau_inh")]
    pub tau_inh_ms: f64,
    #[serde(default)]
    pub e_exc_mv: f64,
    #[serde(default = "default_e_inh")]
    pub e_inh_mv: f64,
    /// Initial v (mV); -65 mV by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub v_init_mv: Option<Init>,
    /// Initial gates (0..1); by default each at its steady state at the initial v.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub m_init: Option<Init>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub h_init: Option<Init>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n_init: Option<Init>,
    #[serde(default, skip_serializing_if = "Init::is_zero")]
    pub g_exc_init: Init,
    #[serde(default, skip_serializing_if = "Init::is_zero")]
    pub g_inh_init: Init,
}

fn default_v_t() -> f64 {
    -63.0
}
fn default_celsius() -> f64 {
    6.3
}
fn default_v_th() -> f64 {
    -20.0
}
fn default_t_ref() -> f64 {
    3.0
}
fn default_synapse() -> SynapseModel {
    SynapseModel::ConductanceExp
}
/// Default initial membrane potential (mV).
const V_INIT_MV: f64 = -65.0;

impl Hh {
    /// The squid giant axon (Hodgkin & Huxley 1952, `channels::squid`) with a
    /// membrane area of `area_cm2`, at 6.3 °C, no synapses driven.
    pub fn squid(n: usize, area_cm2: f64) -> Self {
        use channels::squid::{C_M, E_K, E_LEAK, E_NA, G_K, G_LEAK, G_NA};
        let per_cm2 = area_cm2 * 1e6; // uF -> pF and mS -> nS
        Hh {
            n,
            kinetics: Kinetics::Squid,
            c_m_pf: C_M * per_cm2,
            g_na_ns: G_NA * per_cm2,
            g_k_ns: G_K * per_cm2,
            g_leak_ns: G_LEAK * per_cm2,
            e_na_mv: E_NA,
            e_k_mv: E_K,
            e_leak_mv: E_LEAK,
            v_t_mv: default_v_t(),
            celsius: default_celsius(),
            v_th_mv: default_v_th(),
            t_ref_ms: default_t_ref(),
            i_bias_pa: 0.0,
            synapse: default_synapse(),
            tau_exc_ms: default_tau_exc(),
            tau_inh_ms: default_tau_inh(),
            e_exc_mv: 0.0,
            e_inh_mv: default_e_inh(),
            v_init_mv: None,
            m_init: None,
            h_init: None,
            n_init: None,
            g_exc_init: Init::Value(0.0),
            g_inh_init: Init::Value(0.0),
        }
    }

    fn synapse_params(&self) -> SynapseParams {
        SynapseParams {
            model: self.synapse,
            tau_exc_ms: self.tau_exc_ms,
            tau_inh_ms: self.tau_inh_ms,
            e_exc_mv: self.e_exc_mv,
            e_inh_mv: self.e_inh_mv,
        }
    }

    /// Factor of the squid rates at `celsius` (Q10 = 3 from 6.3 °C); 1 for Traub-Miles.
    pub fn temperature_factor(&self) -> f64 {
        match self.kinetics {
            Kinetics::Squid => channels::q10_factor(3.0, self.celsius, 6.3),
            Kinetics::TraubMiles => 1.0,
        }
    }

    /// Rates (alpha, beta) in 1/ms of m, h, n at v (mV); `q` is `temperature_factor()`.
    #[inline(always)]
    pub fn rates(&self, v: f64, q: f64) -> [(f64, f64); 3] {
        match self.kinetics {
            Kinetics::Squid => {
                let scale = |(a, b): (f64, f64)| (q * a, q * b);
                [
                    scale(channels::squid::m(v)),
                    scale(channels::squid::h(v)),
                    scale(channels::squid::n(v)),
                ]
            }
            Kinetics::TraubMiles => [
                channels::traub_miles::m(v, self.v_t_mv),
                channels::traub_miles::h(v, self.v_t_mv),
                channels::traub_miles::n(v, self.v_t_mv),
            ],
        }
    }
}

/// The TOML fields of `model = "hh"`, besides the shared `SYNAPSE_FIELDS`.
pub const FIELDS: &[FieldSpec] = &[
    FieldSpec::required("n", FieldKind::Integer, "number of neurons"),
    FieldSpec::required(
        "kinetics",
        FieldKind::Choice(&["squid", "traub_miles"]),
        "rate functions: squid (Hodgkin & Huxley 1952) or traub_miles (Traub & Miles 1991, Brette et al. 2007)",
    ),
    FieldSpec::required("c_m_pf", FieldKind::Number, "membrane capacitance (pF)"),
    FieldSpec::required("g_na_ns", FieldKind::Number, "maximal sodium conductance (nS)"),
    FieldSpec::required("g_k_ns", FieldKind::Number, "maximal potassium conductance (nS)"),
    FieldSpec::required("g_leak_ns", FieldKind::Number, "leak conductance (nS)"),
    FieldSpec::required("e_na_mv", FieldKind::Number, "sodium reversal potential (mV)"),
    FieldSpec::required("e_k_mv", FieldKind::Number, "potassium reversal potential (mV)"),
    FieldSpec::required("e_leak_mv", FieldKind::Number, "leak reversal potential (mV)"),
    FieldSpec::optional("v_t_mv", FieldKind::Number, "Traub-Miles threshold shift V_T (mV), -63"),
    FieldSpec::optional(
        "celsius",
        FieldKind::Number,
        "temperature of the squid kinetics (°C, Q10 = 3), 6.3",
    ),
    FieldSpec::optional("v_th_mv", FieldKind::Number, "spike detection threshold (mV), -20"),
    FieldSpec::optional(
        "t_ref_ms",
        FieldKind::Number,
        "minimum time between detected spikes (ms), 3",
    ),
    FieldSpec::optional("i_bias_pa", FieldKind::Number, "constant injected current (pA)"),
    FieldSpec::optional("v_init_mv", FieldKind::Init, "initial v (mV), -65"),
    FieldSpec::optional("m_init", FieldKind::Init, "initial m, steady state at v_init"),
    FieldSpec::optional("h_init", FieldKind::Init, "initial h, steady state at v_init"),
    FieldSpec::optional("n_init", FieldKind::Init, "initial n, steady state at v_init"),
];

/// Gates and v must be finite; gates drawn outside [0, 1] are rejected.
fn check_gate_init(field: String, init: &Init) -> Result<(), ModelError> {
    check_init(field.clone(), init, false)?;
    let (lo, hi) = match *init {
        Init::Value(x) => (x, x),
        Init::Uniform { uniform: [a, b] } => (a, b),
        Init::Normal { normal: [m, s], min } => {
            if s > 0.0 || min.is_some_and(|lo| lo > m) {
                return Err(ModelError::new(
                    field,
                    format!("{init:?}"),
                    "a gate must start in [0, 1]: use a value or a uniform range",
                ));
            }
            (m, m)
        }
    };
    if !(0.0..=1.0).contains(&lo) || !(0.0..=1.0).contains(&hi) {
        return Err(ModelError::new(
            field,
            format!("{init:?}"),
            "a gate must start in [0, 1]",
        ));
    }
    Ok(())
}

/// Largest step: exponential Euler is stable for any step, but beyond this
/// it no longer resolves the ~1 ms action potential (at 0.1 ms the spike
/// times of the COBA-HH cell are already off by a few percent).
const MAX_DT_MS: f64 = 0.1;

impl NeuronSpec for Hh {
    fn size(&self) -> usize {
        self.n
    }

    fn synapse(&self) -> SynapseModel {
        self.synapse
    }

    fn variables(&self) -> &'static [&'static str] {
        &["v", "m", "h", "n", "g_exc", "g_inh"]
    }

    fn validate(&self, dt: f64, at: &dyn Fn(&str) -> String) -> Result<(), ModelError> {
        positive(at("c_m_pf"), self.c_m_pf)?;
        for (field, g) in [
            ("g_na_ns", self.g_na_ns),
            ("g_k_ns", self.g_k_ns),
            ("g_leak_ns", self.g_leak_ns),
        ] {
            if !(g.is_finite() && g >= 0.0) {
                return Err(ModelError::new(at(field), g, "must be a finite number >= 0"));
            }
        }
        for (field, x) in [
            ("e_na_mv", self.e_na_mv),
            ("e_k_mv", self.e_k_mv),
            ("e_leak_mv", self.e_leak_mv),
            ("v_t_mv", self.v_t_mv),
            ("v_th_mv", self.v_th_mv),
            ("i_bias_pa", self.i_bias_pa),
        ] {
            finite(at(field), x)?;
        }
        if !(-30.0..=50.0).contains(&self.celsius) {
            return Err(ModelError::new(
                at("celsius"),
                self.celsius,
                "the temperature must lie in [-30, 50] °C",
            ));
        }
        if !(self.t_ref_ms.is_finite() && self.t_ref_ms >= 0.0) {
            return Err(ModelError::new(
                at("t_ref_ms"),
                self.t_ref_ms,
                "must be a finite number >= 0",
            ));
        }
        if dt > MAX_DT_MS {
            return Err(ModelError::new(
                "simulation.dt_ms",
                dt,
                format!("the Hodgkin-Huxley model needs dt_ms <= {MAX_DT_MS} to resolve action potentials"),
            ));
        }
        if let Some(init) = &self.v_init_mv {
            check_init(at("v_init_mv"), init, false)?;
        }
        for (field, init) in [
            ("m_init", &self.m_init),
            ("h_init", &self.h_init),
            ("n_init", &self.n_init),
        ] {
            if let Some(init) = init {
                check_gate_init(at(field), init)?;
            }
        }
        check_synapse(at, dt, &self.synapse_params(), &self.g_exc_init, &self.g_inh_init)
    }

    fn build(&self, len: usize, dt: f64, rng: &mut Stream) -> Box<dyn NeuronChunk> {
        let v = draw_init(self.v_init_mv.as_ref().unwrap_or(&Init::Value(V_INIT_MV)), len, rng);
        let mut gates = [vec![0.0; len], vec![0.0; len], vec![0.0; len]];
        let inits = [&self.m_init, &self.h_init, &self.n_init];
        let q = self.temperature_factor();
        for (k, (gate, init)) in gates.iter_mut().zip(inits).enumerate() {
            *gate = match init {
                Some(init) => draw_init(init, len, rng),
                None => v
                    .iter()
                    .map(|&v| channels::gate_steady_state(self.rates(v, q)[k]))
                    .collect(),
            };
        }
        let g_exc = draw_init(&self.g_exc_init, len, rng);
        let g_inh = draw_init(&self.g_inh_init, len, rng);
        let [m, h, n] = gates;
        Box::new(HhChunk {
            params: self.clone(),
            dt,
            ref_steps: (self.t_ref_ms / dt).round() as u32,
            q,
            v_old: vec![0.0; len],
            v,
            m,
            h,
            n,
            refractory: vec![0; len],
            synapses: SynapticInput::new(&self.synapse_params(), dt, g_exc, g_inh),
        })
    }
}

/// State of a chunk of Hodgkin-Huxley neurons.
#[derive(Debug, Clone)]
pub struct HhChunk {
    params: Hh,
    dt: f64,
    /// `t_ref_ms` in steps.
    ref_steps: u32,
    /// `Hh::temperature_factor()`.
    q: f64,
    v: Vec<f64>,
    /// Scratch: v at the start of the step.
    v_old: Vec<f64>,
    m: Vec<f64>,
    h: Vec<f64>,
    n: Vec<f64>,
    /// Steps left during which no new spike is detected.
    refractory: Vec<u32>,
    synapses: SynapticInput,
}

impl HhChunk {
    /// One exponential-Euler step of every neuron with the gate rates
    /// `rates(v)`; the old v is kept in `v_old` for the threshold test.
    #[inline(always)]
    fn integrate(&mut self, rates: impl Fn(f64) -> [(f64, f64); 3]) {
        let p = &self.params;
        let dt = self.dt;
        let dt_over_c = dt / p.c_m_pf; // G [nS] * dt [ms] / C [pF] is dimensionless
        let (g_leak, g_na_max, g_k_max) = (p.g_leak_ns, p.g_na_ns, p.g_k_ns);
        let (e_leak, e_na, e_k) = (p.e_leak_mv, p.e_na_mv, p.e_k_mv);
        let leak_drive = g_leak * e_leak + p.i_bias_pa;
        // Conductance synapses add to G and to the drive; current synapses
        // (and delta synapses, whose stored values stay 0) only to the drive.
        let (g_weight, e_exc, e_inh) = match p.synapse {
            SynapseModel::ConductanceExp => (1.0, self.synapses.e_exc, self.synapses.e_inh),
            _ => (0.0, 1.0, 1.0),
        };
        let (g_exc, decay_exc, g_inh, decay_inh) = self.synapses.stored();
        let len = self.v.len();
        let (v, v_old) = (&mut self.v[..len], &mut self.v_old[..len]);
        let (m, h, n) = (&mut self.m[..len], &mut self.h[..len], &mut self.n[..len]);
        let (g_exc, g_inh) = (&g_exc[..len], &g_inh[..len]);
        for j in 0..len {
            let (v0, m0, h0, n0) = (v[j], m[j], h[j], n[j]);
            // v relaxes with every conductance held at its start-of-step value.
            let g_na = g_na_max * m0 * m0 * m0 * h0;
            let n2 = n0 * n0;
            let g_k = g_k_max * n2 * n2;
            let (ge, gi) = (g_exc[j] * decay_exc, g_inh[j] * decay_inh);
            let g_total = g_leak + g_na + g_k + g_weight * (ge + gi);
            let drive = leak_drive + g_na * e_na + g_k * e_k + ge * e_exc + gi * e_inh;
            let v_inf = drive / g_total;
            v[j] = v_inf + (v0 - v_inf) * exp_negative(-g_total * dt_over_c);
            v_old[j] = v0;
            // The gates relax towards their steady states at the old v.
            let [(am, bm), (ah, bh), (an, bn)] = rates(v0);
            m[j] = relax_gate(m0, am, bm, dt);
            h[j] = relax_gate(h0, ah, bh, dt);
            n[j] = relax_gate(n0, an, bn, dt);
        }
    }
}

impl NeuronChunk for HhChunk {
    fn len(&self) -> usize {
        self.v.len()
    }

    fn begin_step(&mut self, step: u64) {
        self.synapses.begin_step(step);
    }

    fn add_input(&mut self, exc: bool, j: usize, w: f64) {
        self.synapses.add(exc, j, w);
    }

    fn update(&mut self, step: u64, _rng: &mut Stream, spikes: &mut Vec<u32>) -> bool {
        let p = &self.params;
        if p.synapse == SynapseModel::Delta {
            for (v, &jump) in self.v.iter_mut().zip(self.synapses.jumps()) {
                *v += jump;
            }
        }
        let (q, v_t) = (self.q, p.v_t_mv);
        // One loop per kinetics, so that the rates inline into a loop
        // without branches (which then vectorises).
        match p.kinetics {
            Kinetics::Squid => self.integrate(|v| {
                let scale = |(a, b): (f64, f64)| (q * a, q * b);
                [
                    scale(channels::squid::m(v)),
                    scale(channels::squid::h(v)),
                    scale(channels::squid::n(v)),
                ]
            }),
            Kinetics::TraubMiles => self.integrate(|v| {
                [
                    channels::traub_miles::m(v, v_t),
                    channels::traub_miles::h(v, v_t),
                    channels::traub_miles::n(v, v_t),
                ]
            }),
        }
        let threshold = self.params.v_th_mv;
        let mut finite = true;
        for (j, ((&v, &v_old), refractory)) in self.v.iter().zip(&self.v_old).zip(&mut self.refractory).enumerate() {
            // Counted down first: a spike k steps after the last one is
            // allowed from k = ref_steps on (Brian2's `refractory`).
            *refractory = refractory.saturating_sub(1);
            if crossed(v, threshold) {
                if !v.is_finite() {
                    finite = false;
                } else if v_old < threshold && *refractory == 0 {
                    spikes.push(j as u32);
                    *refractory = self.ref_steps;
                }
            }
        }
        self.synapses.end_step(step);
        finite
            && [&self.m, &self.h, &self.n]
                .iter()
                .all(|x| x.iter().all(|x| x.is_finite()))
    }

    fn variables(&self) -> &'static [&'static str] {
        self.params.variables()
    }

    fn value(&self, variable: &str, j: usize) -> f64 {
        match variable {
            "v" => self.v[j],
            "m" => self.m[j],
            "h" => self.h[j],
            "n" => self.n[j],
            _ => self
                .synapses
                .value(variable, j)
                .unwrap_or_else(|| panic!("unknown variable `{variable}`")),
        }
    }

    fn first_non_finite(&self) -> Option<(usize, &'static str, f64)> {
        self.synapses
            .first_non_finite_after(&[("v", &self.v), ("m", &self.m), ("h", &self.h), ("n", &self.n)])
    }
}
