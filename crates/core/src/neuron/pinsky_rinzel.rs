//! The Pinsky-Rinzel (1994) two-compartment CA3 pyramidal neuron:
//! "Intrinsic and network rhythmogenesis in a reduced Traub model for CA3
//! neurons", J Comput Neurosci 1:39-60 (`model = "pinsky_rinzel"`).
//!
//! Soma: leak, fast Na (instantaneous activation m_inf^2 h), delayed
//! rectifier K (n). Dendrite: leak, Ca (s^2), Ca-activated K-AHP (q) and
//! K-C (c chi(Ca)), calcium pool dCa/dt = -0.13 I_Ca - 0.075 Ca. The two
//! are coupled by g_c, the soma taking the fraction p of the area:
//! `C_m dVs/dt = -I_ion,s + (g_c/p)(Vd - Vs) + I_s/p` and
//! `C_m dVd/dt = -I_ion,d + (g_c/(1-p))(Vs - Vd) + (I_d + I_syn)/(1-p)`.
//! Parameters and rates as in the paper (Table/Appendix; potentials there
//! are relative to rest): g_Na 30, g_K-DR 15, g_Ca 10, g_K-AHP 0.8,
//! g_K-C 15, g_L 0.1 mS/cm^2, E_Na 120, E_Ca 140, E_K -15, E_L 0 mV above
//! rest, C_m 3 uF/cm^2, g_c 2.1 mS/cm^2, p 0.5.
//!
//! Here potentials are absolute: v = (paper's V) + `v_rest_mv` (-60 mV).
//! The paper works per unit area; synaptic currents (pA) and conductances
//! (nS) are converted with the total membrane area `area_um2` (not in the
//! paper; 1 uA/cm^2 over 10^4 um^2 is 100 pA).
//!
//! Integration: classical RK4 on all eight variables, synaptic input held
//! over the step (the system is small and not stiff at dt <= 0.05 ms; a
//! first-order split scheme, exact gates then backward Euler, needed
//! dt = 0.0025 ms to get the burst period within 5 %). Recordable: `v` (soma), `v_dend`,
//! `ca`, `g_exc`, `g_inh`; spikes are upward crossings at the soma.

use super::channels::{gate_steady_state, x_over_expm1};
use super::synapse::{SynapseParams, SynapticInput};
use super::{crossed, draw_init, NeuronChunk, NeuronSpec};
use crate::error::ModelError;
use crate::model::{FieldKind, FieldSpec, Init, SynapseModel};
use crate::rng::Stream;
use crate::validate::{check_synapse, finite, positive};
use serde::{Deserialize, Serialize};

/// Rate functions of the paper (1/ms), V in mV above rest.
pub mod rates {
    use super::x_over_expm1;

    pub fn m(v: f64) -> (f64, f64) {
        // 0.32 (13.1 - V) / (e^{(13.1 - V)/4} - 1) and 0.28 (V - 40.1) / (e^{(V - 40.1)/5} - 1).
        (
            1.28 * x_over_expm1((13.1 - v) / 4.0),
            1.4 * x_over_expm1((v - 40.1) / 5.0),
        )
    }
    pub fn h(v: f64) -> (f64, f64) {
        (
            0.128 * ((17.0 - v) / 18.0).exp(),
            4.0 / (1.0 + ((40.0 - v) / 5.0).exp()),
        )
    }
    pub fn n(v: f64) -> (f64, f64) {
        // 0.016 (35.1 - V) / (e^{(35.1 - V)/5} - 1).
        (0.08 * x_over_expm1((35.1 - v) / 5.0), 0.25 * (0.5 - 0.025 * v).exp())
    }
    pub fn s(v: f64) -> (f64, f64) {
        // beta: 0.02 (V - 51.1) / (e^{(V - 51.1)/5} - 1).
        (
            1.6 / (1.0 + (-0.072 * (v - 65.0)).exp()),
            0.1 * x_over_expm1((v - 51.1) / 5.0),
        )
    }
    pub fn c(v: f64) -> (f64, f64) {
        if v <= 50.0 {
            let alpha = ((v - 10.0) / 11.0 - (v - 6.5) / 27.0).exp() / 18.975;
            (alpha, 2.0 * ((6.5 - v) / 27.0).exp() - alpha)
        } else {
            (2.0 * ((6.5 - v) / 27.0).exp(), 0.0)
        }
    }
    pub fn q(ca: f64) -> (f64, f64) {
        ((0.00002 * ca).min(0.01), 0.001)
    }
    pub fn chi(ca: f64) -> f64 {
        (ca / 250.0).min(1.0)
    }
}

/// A Pinsky-Rinzel population (`model = "pinsky_rinzel"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PinskyRinzel {
    pub n: usize,
    #[serde(default = "d_g_c")]
    pub g_c_ms_cm2: f64,
    #[serde(default = "d_p")]
    pub p: f64,
    #[serde(default)]
    pub i_soma_ua_cm2: f64,
    #[serde(default)]
    pub i_dend_ua_cm2: f64,
    #[serde(default = "d_g_na")]
    pub g_na_ms_cm2: f64,
    #[serde(default = "d_g_kdr")]
    pub g_kdr_ms_cm2: f64,
    #[serde(default = "d_g_ca")]
    pub g_ca_ms_cm2: f64,
    #[serde(default = "d_g_kahp")]
    pub g_kahp_ms_cm2: f64,
    #[serde(default = "d_g_kc")]
    pub g_kc_ms_cm2: f64,
    #[serde(default = "d_g_l")]
    pub g_leak_ms_cm2: f64,
    #[serde(default = "d_c_m")]
    pub c_m_uf_cm2: f64,
    #[serde(default = "d_v_rest")]
    pub v_rest_mv: f64,
    #[serde(default = "d_area")]
    pub area_um2: f64,
    /// Somatic spike detection: upward crossing of this absolute potential (mV).
    #[serde(default = "d_threshold")]
    pub spike_threshold_mv: f64,
    #[serde(default = "d_synapse")]
    pub synapse: SynapseModel,
    #[serde(default = "d_tau_exc")]
    pub tau_exc_ms: f64,
    #[serde(default = "d_tau_inh")]
    pub tau_inh_ms: f64,
    #[serde(default)]
    pub e_exc_mv: f64,
    #[serde(default = "d_e_inh")]
    pub e_inh_mv: f64,
    #[serde(default, skip_serializing_if = "Init::is_zero")]
    pub g_exc_init: Init,
    #[serde(default, skip_serializing_if = "Init::is_zero")]
    pub g_inh_init: Init,
}

fn d_g_c() -> f64 {
    2.1
}
fn d_p() -> f64 {
    0.5
}
fn d_g_na() -> f64 {
    30.0
}
fn d_g_kdr() -> f64 {
    15.0
}
fn d_g_ca() -> f64 {
    10.0
}
fn d_g_kahp() -> f64 {
    0.8
}
fn d_g_kc() -> f64 {
    15.0
}
fn d_g_l() -> f64 {
    0.1
}
fn d_c_m() -> f64 {
    3.0
}
fn d_v_rest() -> f64 {
    -60.0
}
fn d_area() -> f64 {
    10_000.0
}
fn d_threshold() -> f64 {
    -20.0
}
fn d_synapse() -> SynapseModel {
    SynapseModel::ConductanceExp
}
fn d_tau_exc() -> f64 {
    2.0
}
fn d_tau_inh() -> f64 {
    7.0
}
fn d_e_inh() -> f64 {
    -75.0
}

/// Reversal potentials of the paper, mV above rest.
const E_NA: f64 = 120.0;
const E_CA: f64 = 140.0;
const E_K: f64 = -15.0;
const E_L: f64 = 0.0;

/// The TOML fields of `model = "pinsky_rinzel"`, besides the shared `SYNAPSE_FIELDS`.
pub const FIELDS: &[FieldSpec] = &[
    FieldSpec::required("n", FieldKind::Integer, "number of neurons"),
    FieldSpec::optional(
        "g_c_ms_cm2",
        FieldKind::Number,
        "soma-dendrite coupling (mS/cm^2), 2.1 (PR 1994)",
    ),
    FieldSpec::optional("p", FieldKind::Number, "somatic fraction of the area, 0.5 (PR 1994)"),
    FieldSpec::optional("i_soma_ua_cm2", FieldKind::Number, "somatic current I_s (uA/cm^2)"),
    FieldSpec::optional("i_dend_ua_cm2", FieldKind::Number, "dendritic current I_d (uA/cm^2)"),
    FieldSpec::optional("g_na_ms_cm2", FieldKind::Number, "Na (mS/cm^2), 30"),
    FieldSpec::optional("g_kdr_ms_cm2", FieldKind::Number, "K-DR (mS/cm^2), 15"),
    FieldSpec::optional("g_ca_ms_cm2", FieldKind::Number, "Ca (mS/cm^2), 10"),
    FieldSpec::optional("g_kahp_ms_cm2", FieldKind::Number, "K-AHP (mS/cm^2), 0.8"),
    FieldSpec::optional("g_kc_ms_cm2", FieldKind::Number, "K-C (mS/cm^2), 15"),
    FieldSpec::optional("g_leak_ms_cm2", FieldKind::Number, "leak (mS/cm^2), 0.1"),
    FieldSpec::optional("c_m_uf_cm2", FieldKind::Number, "capacitance (uF/cm^2), 3"),
    FieldSpec::optional(
        "v_rest_mv",
        FieldKind::Number,
        "rest: the paper's 0 in absolute mV, -60",
    ),
    FieldSpec::optional(
        "area_um2",
        FieldKind::Number,
        "total membrane area for synaptic pA/nS (um^2), 10^4",
    ),
    FieldSpec::optional(
        "spike_threshold_mv",
        FieldKind::Number,
        "somatic spike detection (mV), -20",
    ),
];

impl PinskyRinzel {
    /// The paper's bursting cell: g_c = 2.1, p = 0.5, somatic current `i_soma`.
    pub fn new(n: usize, i_soma_ua_cm2: f64) -> Self {
        PinskyRinzel {
            n,
            g_c_ms_cm2: d_g_c(),
            p: d_p(),
            i_soma_ua_cm2,
            i_dend_ua_cm2: 0.0,
            g_na_ms_cm2: d_g_na(),
            g_kdr_ms_cm2: d_g_kdr(),
            g_ca_ms_cm2: d_g_ca(),
            g_kahp_ms_cm2: d_g_kahp(),
            g_kc_ms_cm2: d_g_kc(),
            g_leak_ms_cm2: d_g_l(),
            c_m_uf_cm2: d_c_m(),
            v_rest_mv: d_v_rest(),
            area_um2: d_area(),
            spike_threshold_mv: d_threshold(),
            synapse: d_synapse(),
            tau_exc_ms: d_tau_exc(),
            tau_inh_ms: d_tau_inh(),
            e_exc_mv: 0.0,
            e_inh_mv: d_e_inh(),
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
}

const VARIABLES: &[&str] = &["v", "v_dend", "ca", "g_exc", "g_inh"];

impl NeuronSpec for PinskyRinzel {
    fn size(&self) -> usize {
        self.n
    }

    fn synapse(&self) -> SynapseModel {
        self.synapse
    }

    fn variables(&self) -> &'static [&'static str] {
        VARIABLES
    }

    fn validate(&self, dt: f64, at: &dyn Fn(&str) -> String) -> Result<(), ModelError> {
        for (field, value) in [
            ("g_c_ms_cm2", self.g_c_ms_cm2),
            ("c_m_uf_cm2", self.c_m_uf_cm2),
            ("area_um2", self.area_um2),
            ("g_leak_ms_cm2", self.g_leak_ms_cm2),
        ] {
            positive(at(field), value)?;
        }
        for (field, value) in [
            ("g_na_ms_cm2", self.g_na_ms_cm2),
            ("g_kdr_ms_cm2", self.g_kdr_ms_cm2),
            ("g_ca_ms_cm2", self.g_ca_ms_cm2),
            ("g_kahp_ms_cm2", self.g_kahp_ms_cm2),
            ("g_kc_ms_cm2", self.g_kc_ms_cm2),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(ModelError::new(at(field), value, "must be >= 0 and finite"));
            }
        }
        if !(self.p > 0.0 && self.p < 1.0) {
            return Err(ModelError::new(
                at("p"),
                self.p,
                "the somatic fraction must lie in (0, 1)",
            ));
        }
        for (field, value) in [
            ("i_soma_ua_cm2", self.i_soma_ua_cm2),
            ("i_dend_ua_cm2", self.i_dend_ua_cm2),
            ("v_rest_mv", self.v_rest_mv),
            ("spike_threshold_mv", self.spike_threshold_mv),
        ] {
            finite(at(field), value)?;
        }
        if dt > 0.05 {
            return Err(ModelError::new(
                "simulation.dt_ms",
                dt,
                "the Pinsky-Rinzel model's fast sodium spike needs dt_ms <= 0.05",
            ));
        }
        check_synapse(at, dt, &self.synapse_params(), &self.g_exc_init, &self.g_inh_init)
    }

    fn build(&self, len: usize, dt: f64, rng: &mut Stream) -> Box<dyn NeuronChunk> {
        let g_exc = draw_init(&self.g_exc_init, len, rng);
        let g_inh = draw_init(&self.g_inh_init, len, rng);
        // The paper's initial state (Ermentrout's XPP transcription of it): near rest.
        let (vs, vd) = (-4.6, -4.5);
        Box::new(PinskyRinzelChunk {
            params: self.clone(),
            dt,
            vs: vec![vs; len],
            vd: vec![vd; len],
            h: vec![gate_steady_state(rates::h(vs)); len],
            n: vec![gate_steady_state(rates::n(vs)); len],
            s: vec![gate_steady_state(rates::s(vd)); len],
            c: vec![gate_steady_state(rates::c(vd)); len],
            q: vec![0.01; len],
            ca: vec![0.2; len],
            synapses: SynapticInput::new(&self.synapse_params(), dt, g_exc, g_inh),
        })
    }
}

#[inline(always)]
fn axpy(y: &[f64; 8], a: f64, k: &[f64; 8]) -> [f64; 8] {
    std::array::from_fn(|i| y[i] + a * k[i])
}

/// Time derivatives of [Vs, Vd, h, n, s, c, q, Ca] (potentials above rest),
/// with a dendritic synaptic conductance `g_syn` and current `i_syn` (= g E + I).
#[inline(always)]
fn derivatives(p: &PinskyRinzel, y: &[f64; 8], g_syn: f64, i_syn: f64) -> [f64; 8] {
    let [vs, vd, h, n, s, c, q, ca] = *y;
    let m_inf = gate_steady_state(rates::m(vs));
    let i_ca = p.g_ca_ms_cm2 * s * s * (vd - E_CA);
    let soma = -p.g_leak_ms_cm2 * (vs - E_L)
        - p.g_na_ms_cm2 * m_inf * m_inf * h * (vs - E_NA)
        - p.g_kdr_ms_cm2 * n * (vs - E_K)
        + p.g_c_ms_cm2 / p.p * (vd - vs)
        + p.i_soma_ua_cm2 / p.p;
    let dend =
        -p.g_leak_ms_cm2 * (vd - E_L) - i_ca - (p.g_kahp_ms_cm2 * q + p.g_kc_ms_cm2 * c * rates::chi(ca)) * (vd - E_K)
            + p.g_c_ms_cm2 / (1.0 - p.p) * (vs - vd)
            + p.i_dend_ua_cm2 / (1.0 - p.p)
            + i_syn
            - g_syn * vd;
    let gate = |x: f64, (alpha, beta): (f64, f64)| alpha * (1.0 - x) - beta * x;
    [
        soma / p.c_m_uf_cm2,
        dend / p.c_m_uf_cm2,
        gate(h, rates::h(vs)),
        gate(n, rates::n(vs)),
        gate(s, rates::s(vd)),
        gate(c, rates::c(vd)),
        gate(q, rates::q(ca)),
        -0.13 * i_ca - 0.075 * ca,
    ]
}

/// State of a chunk of Pinsky-Rinzel neurons; potentials relative to rest.
#[derive(Debug, Clone)]
pub struct PinskyRinzelChunk {
    params: PinskyRinzel,
    dt: f64,
    vs: Vec<f64>,
    vd: Vec<f64>,
    h: Vec<f64>,
    n: Vec<f64>,
    s: Vec<f64>,
    c: Vec<f64>,
    q: Vec<f64>,
    ca: Vec<f64>,
    synapses: SynapticInput,
}

impl NeuronChunk for PinskyRinzelChunk {
    fn len(&self) -> usize {
        self.vs.len()
    }

    fn begin_step(&mut self, step: u64) {
        self.synapses.begin_step(step);
    }

    fn add_input(&mut self, exc: bool, j: usize, w: f64) {
        self.synapses.add(exc, j, w);
    }

    fn update(&mut self, step: u64, _rng: &mut Stream, spikes: &mut Vec<u32>) -> bool {
        let p = &self.params;
        let dt = self.dt;
        let rest = p.v_rest_mv;
        let threshold = p.spike_threshold_mv - rest;
        // pA -> uA/cm^2 over the dendrite's area, nS -> mS/cm^2 likewise.
        let per_dend_area = 1.0 / (1e-2 * p.area_um2 * (1.0 - p.p));
        let mut finite = true;
        for j in 0..self.vs.len() {
            let (ge, gi) = self.synapses.conductances(j);
            // Synaptic input over this step, per dendritic area: g (mS/cm^2) and g E + I (uA/cm^2).
            let (g_syn, i_syn) = match self.synapses.model {
                SynapseModel::ConductanceExp => (
                    (ge + gi) * per_dend_area,
                    (ge * (self.synapses.e_exc - rest) + gi * (self.synapses.e_inh - rest)) * per_dend_area,
                ),
                SynapseModel::CurrentExp => (0.0, (ge + gi) * per_dend_area),
                SynapseModel::Delta => (0.0, 0.0),
            };
            if self.synapses.model == SynapseModel::Delta {
                self.vd[j] += self.synapses.jumps()[j];
            }
            let y = [
                self.vs[j], self.vd[j], self.h[j], self.n[j], self.s[j], self.c[j], self.q[j], self.ca[j],
            ];
            let f = |y: &[f64; 8]| derivatives(p, y, g_syn, i_syn);
            let k1 = f(&y);
            let k2 = f(&axpy(&y, 0.5 * dt, &k1));
            let k3 = f(&axpy(&y, 0.5 * dt, &k2));
            let k4 = f(&axpy(&y, dt, &k3));
            let next: [f64; 8] = std::array::from_fn(|i| y[i] + dt / 6.0 * (k1[i] + 2.0 * (k2[i] + k3[i]) + k4[i]));
            if crossed(next[0], threshold) && !crossed(y[0], threshold) {
                spikes.push(j as u32);
            }
            finite &= next.iter().all(|x| x.is_finite());
            [
                self.vs[j], self.vd[j], self.h[j], self.n[j], self.s[j], self.c[j], self.q[j], self.ca[j],
            ] = next;
        }
        self.synapses.end_step(step);
        finite
    }

    fn variables(&self) -> &'static [&'static str] {
        VARIABLES
    }

    fn value(&self, variable: &str, j: usize) -> f64 {
        let rest = self.params.v_rest_mv;
        match variable {
            "v" => self.vs[j] + rest,
            "v_dend" => self.vd[j] + rest,
            "ca" => self.ca[j],
            _ => self
                .synapses
                .value(variable, j)
                .unwrap_or_else(|| panic!("unknown variable `{variable}`")),
        }
    }

    fn first_non_finite(&self) -> Option<(usize, &'static str, f64)> {
        self.synapses
            .first_non_finite_after(&[("v", &self.vs), ("v_dend", &self.vd), ("ca", &self.ca)])
    }
}
