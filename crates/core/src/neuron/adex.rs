//! The adaptive exponential integrate-and-fire neuron (AdEx): Brette R &
//! Gerstner W (2005), "Adaptive exponential integrate-and-fire model as an
//! effective description of neuronal activity", J Neurophysiol 94:3637.
//!
//! ```text
//! C dv/dt   = -g_L (v - E_L) + g_L Delta_T exp((v - V_T) / Delta_T) - w + I(t) + I_syn
//! tau_w dw/dt = a (v - E_L) - w
//! v >= v_peak: a spike, v = V_r, w = w + b, then v is held at V_r for t_ref
//! ```
//!
//! Units: pF, nS, mV, ms, pA. `preset = "tonic"` etc. fills in the parameters
//! and the step current of one row of Table 1 of Naud R, Marcille N, Clopath
//! C & Gerstner W (2008), "Firing patterns in the adaptive exponential
//! integrate-and-fire model", Biol Cybern 99:335; fields given explicitly
//! override the preset.
//!
//! Integration: the exponential term makes v blow up in finite time, within a
//! fraction of a millisecond of crossing V_T, so a fixed step of 0.1 ms
//! cannot follow the upswing (forward Euler at 0.1 ms shifts spikes by
//! several steps within a few hundred ms). Each neuron is advanced with the
//! adaptive Dormand-Prince 5(4) Runge-Kutta pair inside the step (the
//! approach of NEST's `aeif_*` models, which use GSL's adaptive RKF45): below
//! threshold one sub-step per dt usually meets the tolerance, on the upswing
//! the sub-steps shrink. A sub-step that crosses v_peak is halved until the
//! crossing is located within `SPIKE_TIME_TOL`; the neuron is reset there
//! and the rest of the step is integrated from the reset. The right-hand side is evaluated at min(v, v_peak) (as in
//! NEST), and the exponential's argument is capped at `EXP_ARG_MAX`, so that
//! stages overshooting the peak stay finite and w does not integrate the
//! overshoot: above the cap v rises by more than 10^10 mV/ms for any
//! sensible parameters, so the cap changes the time to the peak by far less
//! than a nanosecond.

use super::synapse::{SynapseParams, SynapticInput};
use super::{crossed, draw_init, scan_crossings, NeuronChunk, NeuronSpec};
use crate::error::ModelError;
use crate::model::{default_e_inh, default_tau_exc, default_tau_inh, FieldKind, FieldSpec, Init, SynapseModel};
use crate::rng::Stream;
use crate::validate::{check_init, check_synapse, finite, positive};
use serde::{Deserialize, Serialize};

/// Cap on (v - V_T) / Delta_T inside the exponential: e^50 ~ 5e21.
const EXP_ARG_MAX: f64 = 50.0;
/// Error tolerances of the adaptive step: absolute (mV, pA) and relative.
const ABS_TOL_V: f64 = 1e-4;
const ABS_TOL_W: f64 = 1e-4;
const REL_TOL: f64 = 1e-6;
/// Resolution of the time of a crossing of v_peak (ms).
const SPIKE_TIME_TOL: f64 = 1e-4;
/// Shortest sub-step (ms); accepted whatever the error estimate, so that a
/// non-finite state cannot stall the loop.
const MIN_SUBSTEP: f64 = 1e-7;

/// The firing patterns of Naud et al. (2008), Table 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdexPreset {
    /// Fig. 4a: tonic spiking.
    Tonic,
    /// Fig. 4b: spike-frequency adaptation.
    Adapting,
    /// Fig. 4c: initial burst, then regular spiking.
    InitialBurst,
    /// Fig. 4d: regular bursting.
    RegularBursting,
    /// Fig. 4e: delayed accelerating.
    DelayedAccelerating,
    /// Fig. 4f: delayed regular bursting.
    DelayedRegularBursting,
    /// Fig. 4g: transient spiking.
    Transient,
    /// Fig. 4h: irregular spiking.
    Irregular,
}

/// The names accepted by `preset`.
pub const PRESET_NAMES: &[&str] = &[
    "tonic",
    "adapting",
    "initial_burst",
    "regular_bursting",
    "delayed_accelerating",
    "delayed_regular_bursting",
    "transient",
    "irregular",
];

/// One row of Naud et al. (2008), Table 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdexRow {
    pub c_m_pf: f64,
    pub g_l_ns: f64,
    pub e_l_mv: f64,
    pub v_t_mv: f64,
    pub delta_t_mv: f64,
    pub a_ns: f64,
    pub tau_w_ms: f64,
    pub b_pa: f64,
    pub v_r_mv: f64,
    /// The step current of the protocol (pA).
    pub i_step_pa: f64,
}

impl AdexPreset {
    /// Table 1 of Naud et al. (2008): C (pF), g_L (nS), E_L, V_T, Delta_T
    /// (mV), a (nS), tau_w (ms), b (pA), V_r (mV), I (pA), as in Brian2's
    /// example of Naud et al. (2008). Rows a-e and h agree with two further
    /// public transcriptions; for rows f (delayed regular bursting) and g
    /// (transient) those two list other values, which do not give the
    /// named patterns (docs/sources.md), so Brian2's are kept. Each row gives
    /// its figure's pattern (tests/adex.rs), and Brian2 runs of these rows
    /// give the same spikes (bench/reference/brian2_adex_patterns.json).
    pub fn row(self) -> AdexRow {
        let r = |c_m_pf, g_l_ns, e_l_mv, v_t_mv, delta_t_mv, a_ns, tau_w_ms, b_pa, v_r_mv, i_step_pa| AdexRow {
            c_m_pf,
            g_l_ns,
            e_l_mv,
            v_t_mv,
            delta_t_mv,
            a_ns,
            tau_w_ms,
            b_pa,
            v_r_mv,
            i_step_pa,
        };
        match self {
            AdexPreset::Tonic => r(200.0, 10.0, -70.0, -50.0, 2.0, 2.0, 30.0, 0.0, -58.0, 500.0),
            AdexPreset::Adapting => r(200.0, 12.0, -70.0, -50.0, 2.0, 2.0, 300.0, 60.0, -58.0, 500.0),
            AdexPreset::InitialBurst => r(130.0, 18.0, -58.0, -50.0, 2.0, 4.0, 150.0, 120.0, -50.0, 400.0),
            AdexPreset::RegularBursting => r(200.0, 10.0, -58.0, -50.0, 2.0, 2.0, 120.0, 100.0, -46.0, 210.0),
            AdexPreset::DelayedAccelerating => r(200.0, 12.0, -70.0, -50.0, 2.0, -10.0, 300.0, 0.0, -58.0, 300.0),
            AdexPreset::DelayedRegularBursting => r(100.0, 10.0, -65.0, -50.0, 2.0, -10.0, 90.0, 30.0, -47.0, 110.0),
            AdexPreset::Transient => r(100.0, 10.0, -65.0, -50.0, 2.0, 10.0, 90.0, 100.0, -47.0, 180.0),
            AdexPreset::Irregular => r(100.0, 12.0, -60.0, -50.0, 2.0, -11.0, 130.0, 30.0, -48.0, 160.0),
        }
    }
}

/// An AdEx population (`model = "adex"`). The ten model parameters are
/// required unless `preset` gives them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Adex {
    pub n: usize,
    /// A row of Naud et al. (2008) Table 1; explicit fields override it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<AdexPreset>,
    /// Membrane capacitance C (pF).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub c_m_pf: Option<f64>,
    /// Leak conductance g_L (nS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub g_l_ns: Option<f64>,
    /// Leak reversal potential E_L (mV).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e_l_mv: Option<f64>,
    /// Threshold slope factor's centre V_T, the "rheobase threshold" (mV).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub v_t_mv: Option<f64>,
    /// Slope factor Delta_T (mV): sharpness of spike initiation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta_t_mv: Option<f64>,
    /// Sub-threshold adaptation a (nS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub a_ns: Option<f64>,
    /// Adaptation time constant tau_w (ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tau_w_ms: Option<f64>,
    /// Spike-triggered adaptation b (pA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub b_pa: Option<f64>,
    /// Reset potential V_r (mV).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub v_r_mv: Option<f64>,
    /// Amplitude of the current step (pA), applied from `i_onset_ms` on;
    /// the preset gives the protocol's I; 0 without a preset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub i_step_pa: Option<f64>,
    /// Onset of the current step (ms); 0 by default.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub i_onset_ms: f64,
    /// Constant current (pA), added to the step and the schedule.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub i_bias_pa: f64,
    /// Piecewise-constant current `[[t_ms, i_pa], ...]` (times
    /// non-decreasing): i_pa from t_ms until the next entry; 0 before the
    /// first. Added to the step and the bias. A change takes effect at the
    /// first step that starts at or after t_ms.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub i_schedule: Vec<[f64; 2]>,
    /// Spike cut-off v_peak (mV); 0 mV as in NEST's `aeif_*` models. Once v
    /// passes V_T + 5 Delta_T it reaches any higher cut-off within a small
    /// fraction of a millisecond, so spike times hardly depend on it.
    #[serde(default = "default_v_peak")]
    pub v_peak_mv: f64,
    /// Absolute refractory period (ms): v is held at V_r, w keeps relaxing; 0 by default.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub t_ref_ms: f64,
    /// Integration: `dopri5` (default: adaptive Dormand-Prince sub-steps, the
    /// v_peak crossing located to 1e-4 ms) or `euler` (one forward-Euler step
    /// per dt and reset at the end of the step, as Brian2's default for this
    /// model: about 50x faster, vectorised, and spikes drift by milliseconds
    /// over a second of tonic firing at dt = 0.1 ms).
    #[serde(default, skip_serializing_if = "AdexMethod::is_default")]
    pub method: AdexMethod,
    /// How weights act: `delta` (mV jump of v), `current_exp` (pA), `conductance_exp` (nS).
    #[serde(default = "default_synapse")]
    pub synapse: SynapseModel,
    /// Excitatory synaptic time constant (ms), 5; unused for `delta`.
    #[serde(default = "default_tau_exc")]
    pub tau_exc_ms: f64,
    /// Inhibitory synaptic time constant (ms), 10; unused for `delta`.
    #[serde(default = "default_tau_inh")]
    pub tau_inh_ms: f64,
    /// Excitatory reversal potential (mV), 0; `conductance_exp` only.
    #[serde(default)]
    pub e_exc_mv: f64,
    /// Inhibitory reversal potential (mV), -80; `conductance_exp` only.
    #[serde(default = "default_e_inh")]
    pub e_inh_mv: f64,
    /// Initial v (mV); E_L by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub v_init_mv: Option<Init>,
    /// Initial w (pA); 0 by default.
    #[serde(default, skip_serializing_if = "Init::is_zero")]
    pub w_init_pa: Init,
    /// Initial excitatory synaptic current (pA) or conductance (nS), 0.
    #[serde(default, skip_serializing_if = "Init::is_zero")]
    pub g_exc_init: Init,
    /// Initial inhibitory synaptic current (pA) or conductance (nS), 0.
    #[serde(default, skip_serializing_if = "Init::is_zero")]
    pub g_inh_init: Init,
}

/// How AdEx is integrated (see `Adex::method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdexMethod {
    #[default]
    Dopri5,
    Euler,
}

impl AdexMethod {
    fn is_default(&self) -> bool {
        *self == AdexMethod::Dopri5
    }
}

fn is_zero(x: &f64) -> bool {
    *x == 0.0
}
fn default_v_peak() -> f64 {
    0.0
}
fn default_synapse() -> SynapseModel {
    SynapseModel::CurrentExp
}
impl Adex {
    /// A population of `n` neurons with the parameters and the step current
    /// of a Naud et al. (2008) preset; change the rest with struct update syntax.
    pub fn preset(n: usize, preset: AdexPreset) -> Self {
        Adex {
            n,
            preset: Some(preset),
            ..Adex::bare(n)
        }
    }

    /// A population of `n` neurons with explicit parameters (Table 1 units).
    pub fn with(n: usize, row: AdexRow) -> Self {
        Adex {
            c_m_pf: Some(row.c_m_pf),
            g_l_ns: Some(row.g_l_ns),
            e_l_mv: Some(row.e_l_mv),
            v_t_mv: Some(row.v_t_mv),
            delta_t_mv: Some(row.delta_t_mv),
            a_ns: Some(row.a_ns),
            tau_w_ms: Some(row.tau_w_ms),
            b_pa: Some(row.b_pa),
            v_r_mv: Some(row.v_r_mv),
            i_step_pa: Some(row.i_step_pa),
            ..Adex::bare(n)
        }
    }

    fn bare(n: usize) -> Self {
        Adex {
            n,
            preset: None,
            c_m_pf: None,
            g_l_ns: None,
            e_l_mv: None,
            v_t_mv: None,
            delta_t_mv: None,
            a_ns: None,
            tau_w_ms: None,
            b_pa: None,
            v_r_mv: None,
            i_step_pa: None,
            i_onset_ms: 0.0,
            i_bias_pa: 0.0,
            i_schedule: Vec::new(),
            v_peak_mv: default_v_peak(),
            t_ref_ms: 0.0,
            method: AdexMethod::default(),
            synapse: default_synapse(),
            tau_exc_ms: default_tau_exc(),
            tau_inh_ms: default_tau_inh(),
            e_exc_mv: 0.0,
            e_inh_mv: default_e_inh(),
            v_init_mv: None,
            w_init_pa: Init::Value(0.0),
            g_exc_init: Init::Value(0.0),
            g_inh_init: Init::Value(0.0),
        }
    }

    /// The model parameters: explicit fields, else the preset's; the name
    /// of the first one missing otherwise.
    pub fn resolve(&self) -> Result<AdexRow, &'static str> {
        let row = self.preset.map(AdexPreset::row);
        let pick = |own: Option<f64>, name: &'static str, of: fn(&AdexRow) -> f64| -> Result<f64, &'static str> {
            own.or(row.as_ref().map(of)).ok_or(name)
        };
        Ok(AdexRow {
            c_m_pf: pick(self.c_m_pf, "c_m_pf", |r| r.c_m_pf)?,
            g_l_ns: pick(self.g_l_ns, "g_l_ns", |r| r.g_l_ns)?,
            e_l_mv: pick(self.e_l_mv, "e_l_mv", |r| r.e_l_mv)?,
            v_t_mv: pick(self.v_t_mv, "v_t_mv", |r| r.v_t_mv)?,
            delta_t_mv: pick(self.delta_t_mv, "delta_t_mv", |r| r.delta_t_mv)?,
            a_ns: pick(self.a_ns, "a_ns", |r| r.a_ns)?,
            tau_w_ms: pick(self.tau_w_ms, "tau_w_ms", |r| r.tau_w_ms)?,
            b_pa: pick(self.b_pa, "b_pa", |r| r.b_pa)?,
            v_r_mv: pick(self.v_r_mv, "v_r_mv", |r| r.v_r_mv)?,
            i_step_pa: self.i_step_pa.or(row.map(|r| r.i_step_pa)).unwrap_or(0.0),
        })
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

/// The TOML fields of `model = "adex"`, besides the shared `SYNAPSE_FIELDS`.
pub const FIELDS: &[FieldSpec] = &[
    FieldSpec::required("n", FieldKind::Integer, "number of neurons"),
    FieldSpec::optional(
        "preset",
        FieldKind::Choice(PRESET_NAMES),
        "a firing pattern of Naud et al. 2008 Table 1: fills C..V_r and i_step_pa",
    ),
    FieldSpec::optional(
        "c_m_pf",
        FieldKind::Number,
        "membrane capacitance C (pF), Brette & Gerstner 2005",
    ),
    FieldSpec::optional("g_l_ns", FieldKind::Number, "leak conductance g_L (nS)"),
    FieldSpec::optional("e_l_mv", FieldKind::Number, "leak reversal potential E_L (mV)"),
    FieldSpec::optional("v_t_mv", FieldKind::Number, "threshold V_T of the exponential (mV)"),
    FieldSpec::optional("delta_t_mv", FieldKind::Number, "slope factor Delta_T (mV), > 0"),
    FieldSpec::optional("a_ns", FieldKind::Number, "sub-threshold adaptation a (nS)"),
    FieldSpec::optional("tau_w_ms", FieldKind::Number, "adaptation time constant tau_w (ms)"),
    FieldSpec::optional("b_pa", FieldKind::Number, "spike-triggered adaptation b (pA)"),
    FieldSpec::optional("v_r_mv", FieldKind::Number, "reset potential V_r (mV)"),
    FieldSpec::optional(
        "i_step_pa",
        FieldKind::Number,
        "current step (pA) from i_onset_ms; preset's I",
    ),
    FieldSpec::optional("i_onset_ms", FieldKind::Number, "onset of the current step (ms), 0"),
    FieldSpec::optional("i_bias_pa", FieldKind::Number, "constant current (pA), 0"),
    FieldSpec::optional(
        "i_schedule",
        FieldKind::Pairs("[t_ms, i_pa]"),
        "piecewise-constant current [[t_ms, i_pa], ...], added to step and bias",
    ),
    FieldSpec::optional("v_peak_mv", FieldKind::Number, "spike cut-off (mV), 0 as in NEST"),
    FieldSpec::optional("t_ref_ms", FieldKind::Number, "refractory period (ms), 0"),
    FieldSpec::optional(
        "method",
        FieldKind::Choice(&["dopri5", "euler"]),
        "integration: dopri5 (adaptive, located crossings; default) or euler (Brian2's default, fast)",
    ),
    FieldSpec::optional("v_init_mv", FieldKind::Init, "initial v (mV), E_L"),
    FieldSpec::optional("w_init_pa", FieldKind::Init, "initial w (pA), 0"),
];

impl NeuronSpec for Adex {
    fn size(&self) -> usize {
        self.n
    }

    fn synapse(&self) -> SynapseModel {
        self.synapse
    }

    fn variables(&self) -> &'static [&'static str] {
        &["v", "w", "g_exc", "g_inh"]
    }

    fn validate(&self, dt: f64, at: &dyn Fn(&str) -> String) -> Result<(), ModelError> {
        let p = self
            .resolve()
            .map_err(|name| ModelError::new(at(name), "", "required unless `preset` gives it (no preset is set)"))?;
        positive(at("c_m_pf"), p.c_m_pf)?;
        positive(at("g_l_ns"), p.g_l_ns)?;
        positive(at("delta_t_mv"), p.delta_t_mv)?;
        positive(at("tau_w_ms"), p.tau_w_ms)?;
        for (name, value) in [
            ("e_l_mv", p.e_l_mv),
            ("v_t_mv", p.v_t_mv),
            ("a_ns", p.a_ns),
            ("b_pa", p.b_pa),
            ("v_r_mv", p.v_r_mv),
            ("i_step_pa", p.i_step_pa),
            ("i_onset_ms", self.i_onset_ms),
            ("i_bias_pa", self.i_bias_pa),
            ("v_peak_mv", self.v_peak_mv),
        ] {
            finite(at(name), value)?;
        }
        if self.v_peak_mv <= p.v_t_mv {
            return Err(ModelError::new(
                at("v_peak_mv"),
                self.v_peak_mv,
                format!("the spike cut-off must lie above v_t_mv = {}", p.v_t_mv),
            ));
        }
        if p.v_r_mv >= self.v_peak_mv {
            return Err(ModelError::new(
                at("v_r_mv"),
                p.v_r_mv,
                format!("the reset must lie below v_peak_mv = {}", self.v_peak_mv),
            ));
        }
        if !(self.t_ref_ms.is_finite() && self.t_ref_ms >= 0.0) {
            return Err(ModelError::new(at("t_ref_ms"), self.t_ref_ms, "must be >= 0"));
        }
        let mut previous = f64::NEG_INFINITY;
        for (k, &[t, i]) in self.i_schedule.iter().enumerate() {
            let field = at(&format!("i_schedule.{k}"));
            if !(t.is_finite() && i.is_finite()) {
                return Err(ModelError::new(
                    field,
                    format!("[{t}, {i}]"),
                    "time and current must be finite",
                ));
            }
            if t < previous {
                return Err(ModelError::new(field, format!("[{t}, {i}]"), "times must not decrease"));
            }
            previous = t;
        }
        if let Some(init) = &self.v_init_mv {
            check_init(at("v_init_mv"), init, false)?;
        }
        check_init(at("w_init_pa"), &self.w_init_pa, false)?;
        check_synapse(at, dt, &self.synapse_params(), &self.g_exc_init, &self.g_inh_init)
    }

    fn build(&self, len: usize, dt: f64, rng: &mut Stream) -> Box<dyn NeuronChunk> {
        let p = self.resolve().expect("validated parameters");
        let v = draw_init(self.v_init_mv.as_ref().unwrap_or(&Init::Value(p.e_l_mv)), len, rng);
        let w = draw_init(&self.w_init_pa, len, rng);
        let g_exc = draw_init(&self.g_exc_init, len, rng);
        let g_inh = draw_init(&self.g_inh_init, len, rng);
        let first_step = |t: f64| (t / dt - 1e-9).ceil().max(0.0) as u64;
        let mut schedule: Vec<(u64, f64)> = vec![(first_step(self.i_onset_ms), p.i_step_pa)];
        let mut level = 0.0;
        for &[t, i] in &self.i_schedule {
            schedule.push((first_step(t), i - level));
            level = i;
        }
        // Changes of the injected current, as (first step, increment), sorted.
        schedule.sort_by_key(|&(step, _)| step);
        Box::new(AdexChunk {
            row: p,
            v_peak: self.v_peak_mv,
            t_ref: self.t_ref_ms,
            i_bias: self.i_bias_pa,
            schedule,
            dt,
            method: self.method,
            substep: vec![dt; len],
            refractory: vec![0.0; len],
            v,
            w,
            synapses: SynapticInput::new(&self.synapse_params(), dt, g_exc, g_inh),
        })
    }
}

/// State of a chunk of AdEx neurons.
#[derive(Debug, Clone)]
pub struct AdexChunk {
    row: AdexRow,
    v_peak: f64,
    t_ref: f64,
    i_bias: f64,
    /// Steps at which the injected current changes, and by how much (pA).
    schedule: Vec<(u64, f64)>,
    dt: f64,
    method: AdexMethod,
    /// Per neuron: the sub-step the error control proposes (ms).
    substep: Vec<f64>,
    /// Per neuron: refractory time left (ms).
    refractory: Vec<f64>,
    v: Vec<f64>,
    w: Vec<f64>,
    synapses: SynapticInput,
}

/// The right-hand side of one neuron over one step: the model's constants
/// and this step's inputs.
struct Rhs {
    inv_c: f64,
    g_l: f64,
    e_l: f64,
    v_t: f64,
    delta_t: f64,
    g_l_delta_t: f64,
    a: f64,
    inv_tau_w: f64,
    v_peak: f64,
    /// Injected + current-based synaptic current (pA).
    current: f64,
    /// Conductance-based synapses: conductances (nS) and reversal potentials (mV).
    g_exc: f64,
    g_inh: f64,
    e_exc: f64,
    e_inh: f64,
}

impl Rhs {
    #[inline(always)]
    fn eval(&self, v: f64, w: f64) -> (f64, f64) {
        // Above the peak the model is not defined: stages that overshoot it
        // see v_peak, so that neither the exponential nor the drive of w
        // (a (v - E_L)) picks up the overshoot.
        let v = v.min(self.v_peak);
        let arg = ((v - self.v_t) / self.delta_t).min(EXP_ARG_MAX);
        let spike = self.g_l_delta_t * arg.exp();
        let synaptic = self.g_exc * (self.e_exc - v) + self.g_inh * (self.e_inh - v);
        let dv = (-self.g_l * (v - self.e_l) + spike - w + self.current + synaptic) * self.inv_c;
        let dw = (self.a * (v - self.e_l) - w) * self.inv_tau_w;
        (dv, dw)
    }
}

/// One Dormand-Prince 5(4) step of size `h` from (v, w): the fifth-order
/// solution and the scaled error norm of the embedded fourth-order one
/// (<= 1: within tolerance).
#[inline]
fn dormand_prince(f: &Rhs, v: f64, w: f64, h: f64) -> (f64, f64, f64) {
    let (k1v, k1w) = f.eval(v, w);
    let (k2v, k2w) = f.eval(v + h * (k1v / 5.0), w + h * (k1w / 5.0));
    let (k3v, k3w) = f.eval(
        v + h * (3.0 / 40.0 * k1v + 9.0 / 40.0 * k2v),
        w + h * (3.0 / 40.0 * k1w + 9.0 / 40.0 * k2w),
    );
    let (k4v, k4w) = f.eval(
        v + h * (44.0 / 45.0 * k1v - 56.0 / 15.0 * k2v + 32.0 / 9.0 * k3v),
        w + h * (44.0 / 45.0 * k1w - 56.0 / 15.0 * k2w + 32.0 / 9.0 * k3w),
    );
    let (k5v, k5w) = f.eval(
        v + h * (19372.0 / 6561.0 * k1v - 25360.0 / 2187.0 * k2v + 64448.0 / 6561.0 * k3v - 212.0 / 729.0 * k4v),
        w + h * (19372.0 / 6561.0 * k1w - 25360.0 / 2187.0 * k2w + 64448.0 / 6561.0 * k3w - 212.0 / 729.0 * k4w),
    );
    let (k6v, k6w) = f.eval(
        v + h
            * (9017.0 / 3168.0 * k1v - 355.0 / 33.0 * k2v + 46732.0 / 5247.0 * k3v + 49.0 / 176.0 * k4v
                - 5103.0 / 18656.0 * k5v),
        w + h
            * (9017.0 / 3168.0 * k1w - 355.0 / 33.0 * k2w + 46732.0 / 5247.0 * k3w + 49.0 / 176.0 * k4w
                - 5103.0 / 18656.0 * k5w),
    );
    let v5 = v + h
        * (35.0 / 384.0 * k1v + 500.0 / 1113.0 * k3v + 125.0 / 192.0 * k4v - 2187.0 / 6784.0 * k5v + 11.0 / 84.0 * k6v);
    let w5 = w + h
        * (35.0 / 384.0 * k1w + 500.0 / 1113.0 * k3w + 125.0 / 192.0 * k4w - 2187.0 / 6784.0 * k5w + 11.0 / 84.0 * k6w);
    let (k7v, k7w) = f.eval(v5, w5);
    // Fifth- minus fourth-order weights.
    const E: [f64; 7] = [
        71.0 / 57600.0,
        0.0,
        -71.0 / 16695.0,
        71.0 / 1920.0,
        -17253.0 / 339200.0,
        22.0 / 525.0,
        -1.0 / 40.0,
    ];
    let err_v = h * (E[0] * k1v + E[2] * k3v + E[3] * k4v + E[4] * k5v + E[5] * k6v + E[6] * k7v);
    let err_w = h * (E[0] * k1w + E[2] * k3w + E[3] * k4w + E[4] * k5w + E[5] * k6w + E[6] * k7w);
    let scale_v = ABS_TOL_V + REL_TOL * v.abs().max(v5.abs());
    let scale_w = ABS_TOL_W + REL_TOL * w.abs().max(w5.abs());
    let norm = (err_v / scale_v).abs().max((err_w / scale_w).abs());
    (v5, w5, norm)
}

impl AdexChunk {
    /// One forward-Euler step for every neuron (both derivatives from the
    /// state at the start of the step), then threshold and reset: a
    /// branch-free loop over the chunk that the compiler vectorises.
    fn update_euler(&mut self, step: u64, f: &Rhs, spikes: &mut Vec<u32>) -> bool {
        let p = self.row;
        let dt = self.dt;
        let (ge_stored, de, gi_stored, di) = self.synapses.stored();
        let model = self.synapses.model;
        if model == SynapseModel::Delta && self.synapses.has_jumps() {
            for (v, &jump) in self.v.iter_mut().zip(self.synapses.jumps()) {
                *v += jump;
            }
        }
        let inv_delta_t = 1.0 / f.delta_t;
        let (v_peak, v_t, g_l, e_l, g_l_delta_t) = (f.v_peak, f.v_t, f.g_l, f.e_l, f.g_l_delta_t);
        let (current, inv_c, a, inv_tau_w) = (f.current, f.inv_c, f.a, f.inv_tau_w);
        let (e_exc, e_inh) = (f.e_exc, f.e_inh);
        // One step for (v, w) given the synaptic current; the right-hand side
        // sees v no higher than the peak, as in the adaptive path.
        let step_one = |v: &mut f64, w: &mut f64, synaptic: f64| {
            let clipped = v.min(v_peak);
            let arg = ((clipped - v_t) * inv_delta_t).min(EXP_ARG_MAX);
            let spike = g_l_delta_t * super::channels::exp(arg);
            let dv = (-g_l * (clipped - e_l) + spike - *w + current + synaptic) * inv_c;
            let dw = (a * (clipped - e_l) - *w) * inv_tau_w;
            *v += dt * dv;
            *w += dt * dw;
        };
        let neurons = self.v.iter_mut().zip(self.w.iter_mut());
        // One loop per synapse model, so that each vectorises.
        match model {
            SynapseModel::Delta => neurons.for_each(|(v, w)| step_one(v, w, 0.0)),
            SynapseModel::CurrentExp => {
                for ((v, w), (&ge, &gi)) in neurons.zip(ge_stored.iter().zip(gi_stored)) {
                    step_one(v, w, ge * de + gi * di);
                }
            }
            SynapseModel::ConductanceExp => {
                for ((v, w), (&ge, &gi)) in neurons.zip(ge_stored.iter().zip(gi_stored)) {
                    let synaptic = ge * de * (e_exc - *v) + gi * di * (e_inh - *v);
                    step_one(v, w, synaptic);
                }
            }
        }
        if self.t_ref > 0.0 {
            for (v, refractory) in self.v.iter_mut().zip(self.refractory.iter_mut()) {
                // Refractory time left, in ms as in the adaptive path.
                if *refractory > 0.5 * dt {
                    *v = p.v_r_mv;
                    *refractory -= dt;
                }
            }
        }
        let first = spikes.len();
        let finite = scan_crossings(&self.v, &self.w, self.v_peak, spikes);
        for &j in &spikes[first..] {
            let j = j as usize;
            self.v[j] = p.v_r_mv;
            self.w[j] += p.b_pa;
            self.refractory[j] = self.t_ref;
        }
        self.synapses.end_step(step);
        finite
    }

    /// The injected current in `step` (pA).
    fn injected(&self, step: u64) -> f64 {
        let upto = self.schedule.partition_point(|&(s, _)| s <= step);
        self.i_bias + self.schedule[..upto].iter().map(|&(_, di)| di).sum::<f64>()
    }
}

impl NeuronChunk for AdexChunk {
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
        let p = self.row;
        let dt = self.dt;
        let injected = self.injected(step);
        let model = self.synapses.model;
        let mut f = Rhs {
            inv_c: 1.0 / p.c_m_pf,
            g_l: p.g_l_ns,
            e_l: p.e_l_mv,
            v_t: p.v_t_mv,
            delta_t: p.delta_t_mv,
            g_l_delta_t: p.g_l_ns * p.delta_t_mv,
            a: p.a_ns,
            inv_tau_w: 1.0 / p.tau_w_ms,
            v_peak: self.v_peak,
            current: injected,
            g_exc: 0.0,
            g_inh: 0.0,
            e_exc: self.synapses.e_exc,
            e_inh: self.synapses.e_inh,
        };
        if self.method == AdexMethod::Euler {
            return self.update_euler(step, &f, spikes);
        }
        let mut finite = true;
        for j in 0..self.v.len() {
            let (mut v, mut w) = (self.v[j], self.w[j]);
            let mut refractory = self.refractory[j];
            match model {
                SynapseModel::Delta => {
                    if refractory <= 0.0 {
                        v += self.synapses.jumps()[j];
                    }
                }
                SynapseModel::CurrentExp => f.current = injected + self.synapses.current(j, v),
                SynapseModel::ConductanceExp => (f.g_exc, f.g_inh) = self.synapses.conductances(j),
            }
            let mut spiked = false;
            let mut h = self.substep[j];
            let mut t = 0.0;
            // Time from t within which a trial sub-step crossed v_peak.
            let mut bracket = f64::INFINITY;
            loop {
                if crossed(v, self.v_peak) {
                    if !v.is_finite() || !w.is_finite() {
                        finite = false;
                        break;
                    }
                    // Two crossings within one step (only with a reset close
                    // to the peak and no refractory period) count once.
                    if !spiked {
                        spikes.push(j as u32);
                        spiked = true;
                    }
                    v = p.v_r_mv;
                    w += p.b_pa;
                    refractory = self.t_ref;
                }
                let left = dt - t;
                if left <= 1e-12 * dt {
                    break;
                }
                if refractory > 0.0 {
                    // v is clamped at V_r; w relaxes exactly towards a (V_r - E_L).
                    let span = refractory.min(left);
                    let w_inf = p.a_ns * (p.v_r_mv - p.e_l_mv);
                    w = w_inf + (w - w_inf) * (-span / p.tau_w_ms).exp();
                    v = p.v_r_mv;
                    refractory -= span;
                    t += span;
                    continue;
                }
                let trial = h.min(left);
                let (v5, w5, err) = dormand_prince(&f, v, w, trial);
                if crossed(v5, self.v_peak) && trial > SPIKE_TIME_TOL {
                    // Locate the crossing by bisection of the bracket: a
                    // reset late by the overshoot would shift every later spike.
                    bracket = trial;
                    h = 0.5 * trial;
                    continue;
                }
                if err <= 1.0 || trial <= MIN_SUBSTEP {
                    v = v5;
                    w = w5;
                    t += trial;
                    let grow = if err > 0.0 {
                        (0.9 * err.powf(-0.2)).min(5.0)
                    } else {
                        5.0
                    };
                    let proposal = (trial * grow).max(MIN_SUBSTEP);
                    // A sub-step cut short by the end of the step says
                    // nothing against the longer one proposed before.
                    h = if trial < h { h.max(proposal) } else { proposal };
                    bracket -= trial;
                    if bracket <= 0.0 {
                        bracket = f64::INFINITY;
                    } else if bracket <= 2.0 * SPIKE_TIME_TOL {
                        h = bracket;
                    } else if bracket.is_finite() {
                        h = h.min(0.5 * bracket);
                    }
                    if !(v.is_finite() && w.is_finite()) {
                        finite = false;
                        break;
                    }
                } else {
                    h = (trial * (0.9 * err.powf(-0.2)).max(0.2)).max(MIN_SUBSTEP);
                }
            }
            self.v[j] = v;
            self.w[j] = w;
            self.refractory[j] = refractory;
            self.substep[j] = h.min(dt);
        }
        self.synapses.end_step(step);
        finite
    }

    fn variables(&self) -> &'static [&'static str] {
        &["v", "w", "g_exc", "g_inh"]
    }

    fn value(&self, variable: &str, j: usize) -> f64 {
        match variable {
            "v" => self.v[j],
            "w" => self.w[j],
            _ => self
                .synapses
                .value(variable, j)
                .unwrap_or_else(|| panic!("unknown variable `{variable}`")),
        }
    }

    fn first_non_finite(&self) -> Option<(usize, &'static str, f64)> {
        self.synapses.first_non_finite_after(&[("v", &self.v), ("w", &self.w)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Dormand-Prince pair on the sub-threshold system (v and w coupled
    /// through a and -w): the error of the fifth-order result at a fixed
    /// time falls as h^5 (a wrong coefficient shows a lower order).
    #[test]
    fn dormand_prince_has_fifth_order() {
        let f = Rhs {
            inv_c: 1.0 / 200.0,
            g_l: 10.0,
            e_l: -70.0,
            v_t: -50.0,
            delta_t: 2.0,
            g_l_delta_t: 20.0,
            a: 2.0,
            inv_tau_w: 1.0 / 30.0,
            v_peak: 0.0,
            current: 150.0,
            g_exc: 0.0,
            g_inh: 0.0,
            e_exc: 0.0,
            e_inh: -80.0,
        };
        let solve = |h: f64| {
            let (mut v, mut w) = (-70.0, 40.0);
            for _ in 0..(16.0 / h).round() as usize {
                let (v5, w5, _) = dormand_prince(&f, v, w, h);
                v = v5;
                w = w5;
            }
            (v, w)
        };
        let (v_ref, w_ref) = solve(1.0 / 64.0);
        let error = |h: f64| {
            let (v, w) = solve(h);
            (v - v_ref).abs() + (w - w_ref).abs()
        };
        let (e1, e2) = (error(2.0), error(1.0));
        let order = (e1 / e2).log2();
        assert!(order > 4.6 && order < 5.6, "observed order {order} ({e1:e}, {e2:e})");
    }
}
