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
//! rest, C_m 3 uF/cm^2, g_c 2.1 mS/cm^2, p 0.5; alpha_c as corrected in the
//! erratum (J Comput Neurosci 2:275, 1995). Checked against three public
//! reimplementations (docs/sources.md).
//!
//! Here potentials are absolute: v = (paper's V) + `v_rest_mv` (-60 mV).
//! The paper works per unit area; synaptic currents (pA) and conductances
//! (nS) are converted with the total membrane area `area_um2` (not in the
//! paper; 1 uA/cm^2 over 10^4 um^2 is 100 pA).
//!
//! Integration: classical RK4 on all eight variables, synaptic input held
//! over the step (the system is small and not stiff at dt <= 0.05 ms; a
//! first-order split scheme, exact gates then backward Euler, needed
//! dt = 0.0025 ms to get the burst period within 5 %), computed one stage
//! at a time over blocks of cells (struct of arrays) so that it vectorises.
//! Recordable: `v` (soma), `v_dend`,
//! `ca`, `g_exc`, `g_inh`; spikes are upward crossings at the soma.

use super::channels::{exp, gate_steady_state, x_over_expm1};
use super::synapse::{SynapseParams, SynapticInput};
use super::{crossed, draw_init, NeuronChunk, NeuronSpec};
use crate::error::ModelError;
use crate::model::{FieldKind, FieldSpec, Init, SynapseModel};
use crate::rng::Stream;
use crate::validate::{check_synapse, finite, positive};
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// Rate functions of the paper (1/ms), V in mV above rest. Written with
/// the vectorisable `channels::exp`, without branches (selects instead)
/// and with divisions by constants as multiplications by their inverses.
pub mod rates {
    use super::{exp, x_over_expm1};

    #[inline(always)]
    pub fn m(v: f64) -> (f64, f64) {
        // 0.32 (13.1 - V) / (e^{(13.1 - V)/4} - 1) and 0.28 (V - 40.1) / (e^{(V - 40.1)/5} - 1).
        (
            1.28 * x_over_expm1((13.1 - v) / 4.0),
            1.4 * x_over_expm1((v - 40.1) / 5.0),
        )
    }
    #[inline(always)]
    pub fn h(v: f64) -> (f64, f64) {
        (
            0.128 * exp((17.0 - v) * (1.0 / 18.0)),
            4.0 / (1.0 + exp((40.0 - v) / 5.0)),
        )
    }
    #[inline(always)]
    pub fn n(v: f64) -> (f64, f64) {
        // 0.016 (35.1 - V) / (e^{(35.1 - V)/5} - 1).
        (0.08 * x_over_expm1((35.1 - v) / 5.0), 0.25 * exp(0.5 - 0.025 * v))
    }
    #[inline(always)]
    pub fn s(v: f64) -> (f64, f64) {
        // beta: 0.02 (V - 51.1) / (e^{(V - 51.1)/5} - 1).
        (
            1.6 / (1.0 + exp(-0.072 * (v - 65.0))),
            0.1 * x_over_expm1((v - 51.1) / 5.0),
        )
    }
    #[inline(always)]
    pub fn c(v: f64) -> (f64, f64) {
        // V <= 50: alpha = e^{(V - 10)/11 - (V - 6.5)/27} / 18.975, beta = 2 e^{(6.5 - V)/27} - alpha;
        // V > 50: alpha = 2 e^{(6.5 - V)/27}, beta = 0.
        let two_e = 2.0 * exp((6.5 - v) * (1.0 / 27.0));
        let low = exp((v - 10.0) * (1.0 / 11.0) - (v - 6.5) * (1.0 / 27.0)) * (1.0 / 18.975);
        if v <= 50.0 {
            (low, two_e - low)
        } else {
            (two_e, 0.0)
        }
    }
    #[inline(always)]
    pub fn q(ca: f64) -> (f64, f64) {
        ((0.00002 * ca).min(0.01), 0.001)
    }
    #[inline(always)]
    pub fn chi(ca: f64) -> f64 {
        (ca * (1.0 / 250.0)).min(1.0)
    }

    /// The somatic rates at once: (m_inf, (alpha_h, beta_h), (alpha_n,
    /// beta_n)), with four exponentials instead of six: e^{(35.1 - V)/5}
    /// serves alpha_n, beta_h (e^{(40 - V)/5} is it times e^{0.98}) and
    /// beta_m (e^{(V - 40.1)/5} is 1 / (it times e)).
    #[inline(always)]
    pub fn soma(v: f64) -> (f64, (f64, f64), (f64, f64)) {
        const E_0_98: f64 = 2.664_456_241_929_417; // e^0.98
        let x = (35.1 - v) / 5.0;
        let e_x = exp(x);
        let am = 1.28 * x_over_expm1((13.1 - v) / 4.0);
        let bm = 1.4 * x_over_given_expm1(-x - 1.0, 1.0 / (e_x * std::f64::consts::E));
        let h = (0.128 * exp((17.0 - v) * (1.0 / 18.0)), 4.0 / (1.0 + e_x * E_0_98));
        let n = (0.08 * x_over_given_expm1(x, e_x), 0.25 * exp(0.5 - 0.025 * v));
        (am / (am + bm), h, n)
    }

    /// x / (e^x - 1) given e^x (as `channels::x_over_expm1`).
    #[inline(always)]
    fn x_over_given_expm1(x: f64, e_x: f64) -> f64 {
        let x2 = x * x;
        let series = 1.0 - x / 2.0 + x2 / 12.0 - x2 * x2 / 720.0;
        let direct = x / (e_x - 1.0);
        if x.abs() < 1e-3 {
            series
        } else {
            direct
        }
    }

    /// The dendritic rates at once: ((alpha_s, beta_s), (alpha_c, beta_c)).
    #[inline(always)]
    pub fn dendrite(v: f64) -> ((f64, f64), (f64, f64)) {
        (s(v), c(v))
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
        // Near rest, gates at their steady states there (the published initial
        // gates, h 0.999, n 0.001, s 0.009, c 0.007, are these rounded).
        let (vs, vd) = (-4.6, -4.5);
        let y0 = [
            vs,
            vd,
            gate_steady_state(rates::h(vs)),
            gate_steady_state(rates::n(vs)),
            gate_steady_state(rates::s(vd)),
            gate_steady_state(rates::c(vd)),
            0.01,
            0.2,
        ];
        Box::new(PinskyRinzelChunk {
            params: self.clone(),
            rhs: Rhs::new(self),
            dt,
            len,
            y: y0.map(|x| vec![x; padded(len)]),
            stage: std::array::from_fn(|_| vec![0.0; padded(len)]),
            acc: std::array::from_fn(|_| vec![0.0; padded(len)]),
            g_syn: vec![0.0; padded(len)],
            i_syn: vec![0.0; padded(len)],
            vs_old: vec![0.0; padded(len)],
            synapses: SynapticInput::new(&self.synapse_params(), dt, g_exc, g_inh),
        })
    }
}

/// The right-hand side's constants, per unit area and in mV above rest.
#[derive(Debug, Clone, Copy)]
struct Rhs {
    g_leak: f64,
    g_na: f64,
    g_kdr: f64,
    g_ca: f64,
    g_kahp: f64,
    g_kc: f64,
    /// g_c / p and g_c / (1 - p): the coupling seen by each compartment.
    g_c_soma: f64,
    g_c_dend: f64,
    /// I_s / p and I_d / (1 - p).
    i_soma: f64,
    i_dend: f64,
    inv_c_m: f64,
}

impl Rhs {
    fn new(p: &PinskyRinzel) -> Self {
        Rhs {
            g_leak: p.g_leak_ms_cm2,
            g_na: p.g_na_ms_cm2,
            g_kdr: p.g_kdr_ms_cm2,
            g_ca: p.g_ca_ms_cm2,
            g_kahp: p.g_kahp_ms_cm2,
            g_kc: p.g_kc_ms_cm2,
            g_c_soma: p.g_c_ms_cm2 / p.p,
            g_c_dend: p.g_c_ms_cm2 / (1.0 - p.p),
            i_soma: p.i_soma_ua_cm2 / p.p,
            i_dend: p.i_dend_ua_cm2 / (1.0 - p.p),
            inv_c_m: 1.0 / p.c_m_uf_cm2,
        }
    }

    /// Time derivatives of [Vs, Vd, h, n, s, c, q, Ca] (potentials above
    /// rest), with a dendritic synaptic conductance `g_syn` and current
    /// `i_syn` (= g E + I). Branch-free and without library calls, so that
    /// loops over cells calling it vectorise.
    #[inline(always)]
    fn derivatives(&self, y: [f64; 8], g_syn: f64, i_syn: f64) -> [f64; 8] {
        let [vs, vd, h, n, s, c, q, ca] = y;
        let (m_inf, (ah, bh), (an, bn)) = rates::soma(vs);
        let ((a_s, b_s), (ac, bc)) = rates::dendrite(vd);
        let (aq, bq) = rates::q(ca);
        let i_ca = self.g_ca * s * s * (vd - E_CA);
        let soma =
            -self.g_leak * (vs - E_L) - self.g_na * m_inf * m_inf * h * (vs - E_NA) - self.g_kdr * n * (vs - E_K)
                + self.g_c_soma * (vd - vs)
                + self.i_soma;
        let dend = -self.g_leak * (vd - E_L) - i_ca - (self.g_kahp * q + self.g_kc * c * rates::chi(ca)) * (vd - E_K)
            + self.g_c_dend * (vs - vd)
            + self.i_dend
            + i_syn
            - g_syn * vd;
        let gate = |x: f64, alpha: f64, beta: f64| alpha * (1.0 - x) - beta * x;
        [
            soma * self.inv_c_m,
            dend * self.inv_c_m,
            gate(h, ah, bh),
            gate(n, an, bn),
            gate(s, a_s, b_s),
            gate(c, ac, bc),
            gate(q, aq, bq),
            -0.13 * i_ca - 0.075 * ca,
        ]
    }
}

/// Eight state arrays, one per variable, in the order of `Rhs::derivatives`,
/// their length padded to a multiple of `LANES`.
type State = [Vec<f64>; 8];

/// Cells per block. The stages work block by block on local copies, so
/// that the loops over a block's cells vectorise without the compiler
/// having to rule out aliasing between the 8 x 3 state arrays.
const LANES: usize = 8;
/// Cells per tile (a multiple of `LANES`): 24 x 256 x 8 bytes = 48 KiB.
const TILE: usize = 256;
type Block = [[f64; LANES]; 8];

/// Length of the arrays for `len` cells: padded to whole blocks (the
/// padding cells are integrated like the others and never reported).
fn padded(len: usize) -> usize {
    len.div_ceil(LANES) * LANES
}

/// The `LANES` values of one array from cell `at` on.
#[inline(always)]
fn lanes(x: &[f64], at: usize) -> &[f64; LANES] {
    x[at..at + LANES].try_into().expect("padded arrays")
}

#[inline(always)]
fn lanes_mut(x: &mut [f64], at: usize) -> &mut [f64; LANES] {
    (&mut x[at..at + LANES]).try_into().expect("padded arrays")
}

/// Derivatives of the block of cells from `at` on, at the state `x`, by variable.
#[inline(always)]
fn block_derivatives(rhs: &Rhs, x: &State, syn: Syn, at: usize) -> Block {
    let x: [&[f64; LANES]; 8] = [
        lanes(&x[0], at),
        lanes(&x[1], at),
        lanes(&x[2], at),
        lanes(&x[3], at),
        lanes(&x[4], at),
        lanes(&x[5], at),
        lanes(&x[6], at),
        lanes(&x[7], at),
    ];
    let (g_syn, i_syn) = (lanes(syn.0, at), lanes(syn.1, at));
    let mut k = [[0.0; LANES]; 8];
    for l in 0..LANES {
        let d = rhs.derivatives(std::array::from_fn(|i| x[i][l]), g_syn[l], i_syn[l]);
        for (ki, di) in k.iter_mut().zip(d) {
            ki[l] = di;
        }
    }
    k
}

/// The synaptic scratch (`g_syn`, `i_syn`) of a chunk.
type Syn<'a> = (&'a [f64], &'a [f64]);

/// RK4's first stage over all cells: k1 = f(y), acc = k1, stage = y + dt/2 k1.
fn first_stage(rhs: &Rhs, cells: Range<usize>, y: &State, syn: Syn, stage: &mut State, acc: &mut State, half_dt: f64) {
    for at in cells.step_by(LANES) {
        let k = block_derivatives(rhs, y, syn, at);
        for i in 0..8 {
            let y0 = *lanes(&y[i], at);
            *lanes_mut(&mut acc[i], at) = k[i];
            *lanes_mut(&mut stage[i], at) = std::array::from_fn(|l| y0[l] + half_dt * k[i][l]);
        }
    }
}

/// RK4's second or third stage: k = f(stage), acc += 2 k, stage = y + step k.
fn middle_stage(rhs: &Rhs, cells: Range<usize>, y: &State, syn: Syn, stage: &mut State, acc: &mut State, step: f64) {
    for at in cells.step_by(LANES) {
        let k = block_derivatives(rhs, stage, syn, at);
        for i in 0..8 {
            let (y0, a) = (*lanes(&y[i], at), *lanes(&acc[i], at));
            *lanes_mut(&mut acc[i], at) = std::array::from_fn(|l| a[l] + 2.0 * k[i][l]);
            *lanes_mut(&mut stage[i], at) = std::array::from_fn(|l| y0[l] + step * k[i][l]);
        }
    }
}

/// RK4's last stage: y += dt/6 (acc + f(stage)).
fn last_stage(rhs: &Rhs, cells: Range<usize>, y: &mut State, syn: Syn, stage: &State, acc: &State, dt: f64) {
    let sixth = dt / 6.0;
    for at in cells.step_by(LANES) {
        let k = block_derivatives(rhs, stage, syn, at);
        for i in 0..8 {
            let (y0, a) = (*lanes(&y[i], at), *lanes(&acc[i], at));
            *lanes_mut(&mut y[i], at) = std::array::from_fn(|l| y0[l] + sixth * (a[l] + k[i][l]));
        }
    }
}

/// State of a chunk of Pinsky-Rinzel neurons; potentials relative to rest.
#[derive(Debug, Clone)]
pub struct PinskyRinzelChunk {
    params: PinskyRinzel,
    rhs: Rhs,
    dt: f64,
    /// Number of cells (the arrays are longer, see `padded`).
    len: usize,
    /// [Vs, Vd, h, n, s, c, q, Ca].
    y: State,
    /// Scratch: the state at which the next RK4 stage is evaluated, and
    /// the weighted sum of the stages' derivatives so far.
    stage: State,
    acc: State,
    /// Scratch: the synaptic conductance and current per dendritic area over this step.
    g_syn: Vec<f64>,
    i_syn: Vec<f64>,
    /// Scratch: Vs at the start of the step, for the threshold test.
    vs_old: Vec<f64>,
    synapses: SynapticInput,
}

impl PinskyRinzelChunk {
    /// Synaptic input over this step, per dendritic area, into `g_syn`
    /// (mS/cm^2) and `i_syn` (g E + I, uA/cm^2).
    fn synaptic_drive(&mut self) {
        let p = &self.params;
        let rest = p.v_rest_mv;
        // pA -> uA/cm^2 over the dendrite's area, nS -> mS/cm^2 likewise.
        let per_dend_area = 1.0 / (1e-2 * p.area_um2 * (1.0 - p.p));
        let (g_exc, decay_exc, g_inh, decay_inh) = self.synapses.stored();
        let (se, si) = (decay_exc * per_dend_area, decay_inh * per_dend_area);
        let pairs = self
            .g_syn
            .iter_mut()
            .zip(self.i_syn.iter_mut())
            .zip(g_exc.iter().zip(g_inh));
        match self.synapses.model {
            SynapseModel::ConductanceExp => {
                let (ee, ei) = (self.synapses.e_exc - rest, self.synapses.e_inh - rest);
                for ((g, i), (&ge, &gi)) in pairs {
                    let (ge, gi) = (ge * se, gi * si);
                    *g = ge + gi;
                    *i = ge * ee + gi * ei;
                }
            }
            SynapseModel::CurrentExp => {
                for ((g, i), (&ge, &gi)) in pairs {
                    *g = 0.0;
                    *i = ge * se + gi * si;
                }
            }
            SynapseModel::Delta => {
                self.g_syn.fill(0.0);
                self.i_syn.fill(0.0);
                if self.synapses.has_jumps() {
                    for (vd, &jump) in self.y[1].iter_mut().zip(self.synapses.jumps()) {
                        *vd += jump;
                    }
                }
            }
        }
    }
}

impl NeuronChunk for PinskyRinzelChunk {
    fn len(&self) -> usize {
        self.len
    }

    fn begin_step(&mut self, step: u64) {
        self.synapses.begin_step(step);
    }

    fn add_input(&mut self, exc: bool, j: usize, w: f64) {
        self.synapses.add(exc, j, w);
    }

    fn update(&mut self, step: u64, _rng: &mut Stream, spikes: &mut Vec<u32>) -> bool {
        self.synaptic_drive();
        let (rhs, dt) = (self.rhs, self.dt);
        let syn = (&self.g_syn[..], &self.i_syn[..]);
        // Classical RK4, one stage at a time over a tile of cells (struct of
        // arrays, so that each stage's loop vectorises), tile after tile, so
        // that a tile's state and scratch stay in cache between stages.
        self.vs_old.copy_from_slice(&self.y[0]);
        let len = self.vs_old.len();
        for start in (0..len).step_by(TILE) {
            let cells = start..(start + TILE).min(len);
            first_stage(
                &rhs,
                cells.clone(),
                &self.y,
                syn,
                &mut self.stage,
                &mut self.acc,
                0.5 * dt,
            );
            middle_stage(
                &rhs,
                cells.clone(),
                &self.y,
                syn,
                &mut self.stage,
                &mut self.acc,
                0.5 * dt,
            );
            middle_stage(&rhs, cells.clone(), &self.y, syn, &mut self.stage, &mut self.acc, dt);
            last_stage(&rhs, cells, &mut self.y, syn, &self.stage, &self.acc, dt);
        }

        let threshold = self.params.spike_threshold_mv - self.params.v_rest_mv;
        for (j, (&vs, &old)) in self.y[0][..self.len].iter().zip(&self.vs_old).enumerate() {
            if crossed(vs, threshold) && !crossed(old, threshold) && vs.is_finite() {
                spikes.push(j as u32);
            }
        }
        self.synapses.end_step(step);
        let len = self.len;
        self.y
            .iter()
            .all(|x| x[..len].iter().fold(true, |ok, x| ok & x.is_finite()))
    }

    fn variables(&self) -> &'static [&'static str] {
        VARIABLES
    }

    fn value(&self, variable: &str, j: usize) -> f64 {
        let rest = self.params.v_rest_mv;
        match variable {
            "v" => self.y[0][j] + rest,
            "v_dend" => self.y[1][j] + rest,
            "ca" => self.y[7][j],
            _ => self
                .synapses
                .value(variable, j)
                .unwrap_or_else(|| panic!("unknown variable `{variable}`")),
        }
    }

    fn first_non_finite(&self) -> Option<(usize, &'static str, f64)> {
        let names = ["v", "v_dend", "h", "n", "s", "c", "q", "ca"];
        let own: Vec<(&'static str, &[f64])> = names.into_iter().zip(self.y.iter().map(|x| &x[..self.len])).collect();
        self.synapses.first_non_finite_after(&own)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{stream, Purpose};

    /// One cell by the paper's formulas with std's exp, one classical RK4
    /// step at a time: the reference for the blocked, vectorised loops.
    fn reference_step(y: [f64; 8], g_syn: f64, i_syn: f64, i_soma: f64, dt: f64) -> [f64; 8] {
        let f = |y: [f64; 8]| {
            let [vs, vd, h, n, s, c, q, ca] = y;
            let am = 0.32 * (13.1 - vs) / (((13.1 - vs) / 4.0).exp() - 1.0);
            let bm = 0.28 * (vs - 40.1) / (((vs - 40.1) / 5.0).exp() - 1.0);
            let m_inf = am / (am + bm);
            let (ah, bh) = (
                0.128 * ((17.0 - vs) / 18.0).exp(),
                4.0 / (1.0 + ((40.0 - vs) / 5.0).exp()),
            );
            let an = 0.016 * (35.1 - vs) / (((35.1 - vs) / 5.0).exp() - 1.0);
            let bn = 0.25 * (0.5 - 0.025 * vs).exp();
            let a_s = 1.6 / (1.0 + (-0.072 * (vd - 65.0)).exp());
            let b_s = 0.02 * (vd - 51.1) / (((vd - 51.1) / 5.0).exp() - 1.0);
            let (ac, bc) = if vd <= 50.0 {
                let a = ((vd - 10.0) / 11.0 - (vd - 6.5) / 27.0).exp() / 18.975;
                (a, 2.0 * ((6.5 - vd) / 27.0).exp() - a)
            } else {
                (2.0 * ((6.5 - vd) / 27.0).exp(), 0.0)
            };
            let aq = (0.00002 * ca).min(0.01);
            let i_ca = 10.0 * s * s * (vd - 140.0);
            let soma = -0.1 * vs - 30.0 * m_inf * m_inf * h * (vs - 120.0) - 15.0 * n * (vs + 15.0)
                + 2.1 / 0.5 * (vd - vs)
                + i_soma / 0.5;
            let dend = -0.1 * vd - i_ca - (0.8 * q + 15.0 * c * (ca / 250.0).min(1.0)) * (vd + 15.0)
                + 2.1 / 0.5 * (vs - vd)
                + i_syn
                - g_syn * vd;
            let gate = |x: f64, a: f64, b: f64| a * (1.0 - x) - b * x;
            [
                soma / 3.0,
                dend / 3.0,
                gate(h, ah, bh),
                gate(n, an, bn),
                gate(s, a_s, b_s),
                gate(c, ac, bc),
                gate(q, aq, 0.001),
                -0.13 * i_ca - 0.075 * ca,
            ]
        };
        let add = |y: [f64; 8], a: f64, k: [f64; 8]| -> [f64; 8] { std::array::from_fn(|i| y[i] + a * k[i]) };
        let k1 = f(y);
        let k2 = f(add(y, dt / 2.0, k1));
        let k3 = f(add(y, dt / 2.0, k2));
        let k4 = f(add(y, dt, k3));
        std::array::from_fn(|i| y[i] + dt / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]))
    }

    #[test]
    fn blocked_rk4_matches_a_scalar_rk4_of_the_paper_equations() {
        // 13 cells: one full block of 8 and a padded one; three of them get
        // synaptic conductances (5 nS excitatory, 8 nS inhibitory) at step 200.
        let (len, dt, steps) = (13, 0.05, 3000);
        let spec = PinskyRinzel::new(len, 1.5);
        let mut rng = stream(1, Purpose::InitialState, 0, 0);
        let mut chunk = spec.build(len, dt, &mut rng);
        let inputs = [(true, 3, 5.0), (true, 12, 5.0), (false, 7, 8.0)];
        let y0 = [-4.6, -4.5, 0.0, 0.0, 0.0, 0.0, 0.01, 0.2];
        let mut reference = vec![y0; len];
        for (j, y) in reference.iter_mut().enumerate() {
            let (vs, vd) = (y[0], y[1]);
            y[2] = gate_steady_state(rates::h(vs));
            y[3] = gate_steady_state(rates::n(vs));
            y[4] = gate_steady_state(rates::s(vd));
            y[5] = gate_steady_state(rates::c(vd));
            assert_eq!(chunk.value("v", j), vs - 60.0);
        }
        let per_area = 1.0 / (1e-2 * spec.area_um2 * (1.0 - spec.p));
        let (mut spikes, mut reference_spikes) = (Vec::new(), Vec::new());
        for step in 0..steps {
            chunk.begin_step(step);
            if step == 200 {
                for &(exc, j, w) in &inputs {
                    chunk.add_input(exc, j, w);
                }
            }
            let mut got = Vec::new();
            assert!(chunk.update(step, &mut rng, &mut got));
            spikes.extend(got.iter().map(|&j| (step, j)));
            for (j, y) in reference.iter_mut().enumerate() {
                let (mut g, mut i) = (0.0, 0.0);
                for &(exc, target, w) in &inputs {
                    if target == j && step >= 200 {
                        let (tau, e) = if exc { (2.0, 0.0) } else { (7.0, -75.0) };
                        let conductance = w * (-((step - 200) as f64) * dt / tau).exp() * per_area;
                        g += conductance;
                        i += conductance * (e + 60.0);
                    }
                }
                let next = reference_step(*y, g, i, 1.5, dt);
                if next[0] >= 40.0 && y[0] < 40.0 {
                    reference_spikes.push((step, j as u32));
                }
                *y = next;
            }
        }
        for (j, y) in reference.iter().enumerate() {
            for (name, want) in [("v", y[0] - 60.0), ("v_dend", y[1] - 60.0), ("ca", y[7])] {
                let got = chunk.value(name, j);
                assert!((got - want).abs() < 1e-6, "cell {j} {name}: {got} vs {want}");
            }
        }
        assert!(!spikes.is_empty());
        assert_eq!(spikes, reference_spikes);
        // The inputs changed the cells they reached and no other.
        assert!((chunk.value("v", 3) - chunk.value("v", 0)).abs() > 1e-3);
        assert!((chunk.value("v", 7) - chunk.value("v", 0)).abs() > 1e-3);
        assert_eq!(chunk.value("v", 5), chunk.value("v", 0));
    }
}
