//! The rectified-linear rate unit, the artificial neuron of deep learning
//! (Nair V & Hinton G E 2010, "Rectified linear units improve restricted
//! Boltzmann machines", ICML; Glorot X, Bordes A & Bengio Y 2011, "Deep
//! sparse rectifier neural networks", AISTATS), as a population that shares
//! projections with spiking neurons.
//!
//! Its activation is `r = gain * max(0, I - threshold)` with
//! `I = bias + synaptic input`. With `tau_ms > 0` the synaptic input is
//! low-pass filtered before the rectification, `tau dI/dt = -I + input`
//! (the current-based rate model, e.g. Dayan P & Abbott L F 2001,
//! "Theoretical Neuroscience", sec. 7.2): excitatory and inhibitory spikes
//! then cancel before the rectification, so that on average
//! `r = gain * max(0, sum_j w_j r_j + bias - threshold)`. It talks to other
//! populations by emitting spikes at rate r: by default from a deterministic
//! phase accumulator (the phase grows by r dt; a spike each time it passes
//! 1, so a constant rate gives floor(r T) spikes in T), or as a Poisson
//! process (`emission = "poisson"`, drawn from the chunk's noise stream).
//!
//! Synaptic input, per step:
//! - `delta` (the default): each arriving spike of weight w adds w / dt to
//!   the step's input (dt in seconds), so that a spike train at rate r_pre
//!   contributes w * r_pre on average, and a layer computes
//!   `r = gain * max(0, sum_j w_j r_j + bias - threshold)` as in an
//!   artificial network. Input, bias and threshold are then in Hz (for
//!   dimensionless weights) and the gain is dimensionless.
//! - `current_exp`: the summed exponentially decaying currents (pA),
//!   weights in pA; bias and threshold in pA, gain in Hz/pA.
//!
//! At most one spike per step: above 1 / dt the emitted rate saturates, and
//! at most one spike of excess phase is carried to the next step.

use super::synapse::{SynapseParams, SynapticInput};
use super::{draw_init, NeuronChunk, NeuronSpec};
use crate::error::ModelError;
use crate::model::{default_e_inh, default_tau_exc, default_tau_inh, FieldKind, FieldSpec, Init, SynapseModel};
use crate::rng::Stream;
use crate::validate::{check_init, check_resolved, check_synapse, finite};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// How the rate becomes spikes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Emission {
    /// Deterministic phase accumulator: floor(integral of r dt) spikes.
    #[default]
    Regular,
    /// Poisson process of rate r (probability 1 - e^{-r dt} per step).
    Poisson,
}

/// A population of ReLU rate units (`model = "relu"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Relu {
    pub n: usize,
    /// Slope of the activation: dimensionless (Hz per Hz of input) for
    /// `delta` synapses, Hz/pA for `current_exp`. 1 by default.
    #[serde(default = "one")]
    pub gain: f64,
    /// Input below which the unit is silent (Hz for delta, pA for current_exp); 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub threshold: f64,
    /// Constant input added to the synaptic one (Hz for delta, pA for current_exp); 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub bias: f64,
    /// Time constant of the low-pass filter of the synaptic input (ms); 0: none.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub tau_ms: f64,
    /// `regular` (phase accumulator) or `poisson`.
    #[serde(default)]
    pub emission: Emission,
    /// Initial phase of the accumulator, in [0, 1); 0.
    #[serde(default, skip_serializing_if = "Init::is_zero")]
    pub phase_init: Init,
    /// How weights act: `delta` (mV jump of v), `current_exp` (pA), `conductance_exp` (nS).
    #[serde(default = "default_synapse")]
    pub synapse: SynapseModel,
    /// Excitatory synaptic time constant (ms), 5; unused for `delta`.
    #[serde(default = "default_tau_exc")]
    pub tau_exc_ms: f64,
    /// Inhibitory synaptic time constant (ms), 10; unused for `delta`.
    #[serde(default = "default_tau_inh")]
    pub tau_inh_ms: f64,
    /// Not used: conductance synapses are refused (no membrane potential).
    #[serde(default)]
    pub e_exc_mv: f64,
    /// Not used: conductance synapses are refused (no membrane potential).
    #[serde(default = "default_e_inh")]
    pub e_inh_mv: f64,
    /// Initial excitatory synaptic current (pA) or conductance (nS), 0.
    #[serde(default, skip_serializing_if = "Init::is_zero")]
    pub g_exc_init: Init,
    /// Initial inhibitory synaptic current (pA) or conductance (nS), 0.
    #[serde(default, skip_serializing_if = "Init::is_zero")]
    pub g_inh_init: Init,
}

fn one() -> f64 {
    1.0
}
fn is_zero(x: &f64) -> bool {
    *x == 0.0
}
fn default_synapse() -> SynapseModel {
    SynapseModel::Delta
}
impl Relu {
    /// `n` units with the given gain, threshold and bias, delta synapses.
    pub fn new(n: usize, gain: f64, threshold: f64, bias: f64) -> Self {
        Relu {
            n,
            gain,
            threshold,
            bias,
            tau_ms: 0.0,
            emission: Emission::Regular,
            phase_init: Init::Value(0.0),
            synapse: default_synapse(),
            tau_exc_ms: default_tau_exc(),
            tau_inh_ms: default_tau_inh(),
            e_exc_mv: 0.0,
            e_inh_mv: default_e_inh(),
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

/// The TOML fields of `model = "relu"`, besides the shared `SYNAPSE_FIELDS`.
pub const FIELDS: &[FieldSpec] = &[
    FieldSpec::required("n", FieldKind::Integer, "number of units"),
    FieldSpec::optional(
        "gain",
        FieldKind::Number,
        "slope: Hz per Hz of input (delta) or Hz/pA (current_exp), 1",
    ),
    FieldSpec::optional(
        "threshold",
        FieldKind::Number,
        "input threshold (Hz for delta, pA for current_exp), 0",
    ),
    FieldSpec::optional(
        "bias",
        FieldKind::Number,
        "constant input (Hz for delta, pA for current_exp), 0",
    ),
    FieldSpec::optional(
        "tau_ms",
        FieldKind::Number,
        "low-pass time constant of the synaptic input (ms), 0: none",
    ),
    FieldSpec::optional(
        "emission",
        FieldKind::Choice(&["regular", "poisson"]),
        "spikes from a phase accumulator (regular) or a Poisson process",
    ),
    FieldSpec::optional("phase_init", FieldKind::Init, "initial accumulator phase in [0, 1), 0"),
];

impl NeuronSpec for Relu {
    fn size(&self) -> usize {
        self.n
    }

    fn synapse(&self) -> SynapseModel {
        self.synapse
    }

    fn variables(&self) -> &'static [&'static str] {
        &["rate", "input", "g_exc", "g_inh"]
    }

    fn validate(&self, dt: f64, at: &dyn Fn(&str) -> String) -> Result<(), ModelError> {
        finite(at("gain"), self.gain)?;
        finite(at("threshold"), self.threshold)?;
        finite(at("bias"), self.bias)?;
        if self.gain < 0.0 {
            return Err(ModelError::new(at("gain"), self.gain, "must be >= 0"));
        }
        if !(self.tau_ms.is_finite() && self.tau_ms >= 0.0) {
            return Err(ModelError::new(
                at("tau_ms"),
                self.tau_ms,
                "must be >= 0 (0: no filter)",
            ));
        }
        if self.tau_ms > 0.0 {
            check_resolved(at("tau_ms"), dt, self.tau_ms)?;
        }
        if self.synapse == SynapseModel::ConductanceExp {
            return Err(ModelError::new(
                at("synapse"),
                "conductance_exp",
                "a rate unit has no membrane potential: use delta or current_exp",
            ));
        }
        check_init(at("phase_init"), &self.phase_init, false)?;
        let (lo, hi) = match self.phase_init {
            Init::Value(x) => (x, x),
            Init::Uniform { uniform: [a, b] } => (a, b),
            Init::Normal { .. } => (-1.0, -1.0),
        };
        if !(lo >= 0.0 && hi <= 1.0) {
            return Err(ModelError::new(
                at("phase_init"),
                format!("{:?}", self.phase_init),
                "a phase must lie in [0, 1] (a number or a uniform range)",
            ));
        }
        check_synapse(at, dt, &self.synapse_params(), &self.g_exc_init, &self.g_inh_init)
    }

    fn build(&self, len: usize, dt: f64, rng: &mut Stream) -> Box<dyn NeuronChunk> {
        let phase = draw_init(&self.phase_init, len, rng);
        let g_exc = draw_init(&self.g_exc_init, len, rng);
        let g_inh = draw_init(&self.g_inh_init, len, rng);
        let dt_s = dt * 1e-3;
        Box::new(ReluChunk {
            gain: self.gain,
            threshold: self.threshold,
            bias: self.bias,
            keep: if self.tau_ms > 0.0 {
                (-dt / self.tau_ms).exp()
            } else {
                0.0
            },
            emission: self.emission,
            dt_s,
            filtered: vec![0.0; len],
            phase,
            synapses: SynapticInput::new(&self.synapse_params(), dt, g_exc, g_inh),
        })
    }
}

/// State of a chunk of ReLU units. The rate and the total input are
/// functions of the filtered input, computed where needed rather than
/// stored, so that a step touches two arrays per unit (`filtered`, `phase`).
#[derive(Debug, Clone)]
pub struct ReluChunk {
    gain: f64,
    threshold: f64,
    bias: f64,
    /// e^{-dt/tau}: the part of the filtered input kept per step (0: no filter).
    keep: f64,
    emission: Emission,
    /// The step in seconds.
    dt_s: f64,
    /// Filtered synaptic input (Hz for delta, pA for current_exp).
    filtered: Vec<f64>,
    /// Accumulator phase (spikes owed).
    phase: Vec<f64>,
    synapses: SynapticInput,
}

/// The activation: rate (Hz) for a filtered synaptic input.
#[inline(always)]
fn activation(filtered: f64, bias: f64, gain: f64, threshold: f64) -> f64 {
    gain * ((filtered + bias) - threshold).max(0.0)
}

/// The filter over one step, exact for an input held over the step
/// (`keep` = 0: no filter).
#[inline(always)]
fn filter(filtered: f64, input: f64, keep: f64) -> f64 {
    (filtered - input).mul_add(keep, input)
}

/// One step of the filter and the phase accumulator for every unit, given
/// each unit's synaptic input. A non-finite rate makes the phase non-finite
/// for good, which `scan_phases` reports.
#[inline(always)]
fn accumulate(filtered: &mut [f64], phase: &mut [f64], input: impl Fn(usize) -> f64, c: Constants) {
    for (j, (f, p)) in filtered.iter_mut().zip(phase.iter_mut()).enumerate() {
        *f = filter(*f, input(j), c.keep);
        *p = activation(*f, c.bias, c.gain, c.threshold).mul_add(c.dt_s, *p);
    }
}

#[derive(Debug, Clone, Copy)]
struct Constants {
    gain: f64,
    threshold: f64,
    bias: f64,
    keep: f64,
    dt_s: f64,
}

impl ReluChunk {
    fn constants(&self) -> Constants {
        Constants {
            gain: self.gain,
            threshold: self.threshold,
            bias: self.bias,
            keep: self.keep,
            dt_s: self.dt_s,
        }
    }

    /// Regular emission: the filter and the accumulator in one pass, one
    /// loop per kind of input (so that each vectorises), then the spikes.
    fn update_regular(&mut self, spikes: &mut Vec<u32>) -> bool {
        let c = self.constants();
        let len = self.filtered.len();
        let (filtered, phase) = (&mut self.filtered[..], &mut self.phase[..]);
        match self.synapses.model {
            SynapseModel::Delta if self.synapses.has_jumps() => {
                let (jumps, per_second) = (&self.synapses.jumps()[..len], 1.0 / c.dt_s);
                accumulate(filtered, phase, |j| jumps[j] * per_second, c)
            }
            SynapseModel::Delta => accumulate(filtered, phase, |_| 0.0, c),
            _ => {
                // current_exp only (validated): the current does not depend on a potential.
                let (g_exc, de, g_inh, di) = self.synapses.stored();
                let (g_exc, g_inh) = (&g_exc[..len], &g_inh[..len]);
                accumulate(filtered, phase, |j| g_exc[j] * de + g_inh[j] * di, c)
            }
        }
        let first = spikes.len();
        let finite = scan_phases(&self.phase, spikes);
        for &j in &spikes[first..] {
            let p = &mut self.phase[j as usize];
            *p = (*p - 1.0).min(1.0);
        }
        finite
    }

    fn update_poisson(&mut self, rng: &mut Stream, spikes: &mut Vec<u32>) -> bool {
        let c = self.constants();
        let per_second = 1.0 / c.dt_s;
        let delta = self.synapses.model == SynapseModel::Delta;
        let mut finite = true;
        for (j, f) in self.filtered.iter_mut().enumerate() {
            let input = if delta {
                self.synapses.jumps()[j] * per_second
            } else {
                self.synapses.current(j, 0.0)
            };
            *f = filter(*f, input, c.keep);
            finite &= f.is_finite();
            let rate = activation(*f, c.bias, c.gain, c.threshold);
            if rate > 0.0 && rng.gen::<f64>() < -(-rate * c.dt_s).exp_m1() {
                spikes.push(j as u32);
            }
        }
        finite
    }
}

/// Pushes the units whose phase reached 1; returns false if a phase is
/// not finite (NaN or +inf: the phase never decreases below 0, so -inf
/// cannot occur). Spikes are rare per step: blocks of 16 without any are
/// skipped by one vectorised test.
#[allow(clippy::neg_cmp_op_on_partial_ord)]
fn scan_phases(phase: &[f64], spikes: &mut Vec<u32>) -> bool {
    const BLOCK: usize = 16;
    let mut finite = true;
    for (b, block) in phase.chunks(BLOCK).enumerate() {
        if block.iter().fold(false, |any, &p| any | !(p < 1.0)) {
            for (i, &p) in block.iter().enumerate() {
                if !(p <= f64::MAX) {
                    finite = false;
                } else if p >= 1.0 {
                    spikes.push((b * BLOCK + i) as u32);
                }
            }
        }
    }
    finite
}

impl NeuronChunk for ReluChunk {
    fn len(&self) -> usize {
        self.filtered.len()
    }

    fn begin_step(&mut self, step: u64) {
        self.synapses.begin_step(step);
    }

    fn add_input(&mut self, exc: bool, j: usize, w: f64) {
        self.synapses.add(exc, j, w);
    }

    fn update(&mut self, step: u64, rng: &mut Stream, spikes: &mut Vec<u32>) -> bool {
        let finite = match self.emission {
            Emission::Regular => self.update_regular(spikes),
            Emission::Poisson => self.update_poisson(rng, spikes),
        };
        self.synapses.end_step(step);
        finite
    }

    fn variables(&self) -> &'static [&'static str] {
        &["rate", "input", "g_exc", "g_inh"]
    }

    fn value(&self, variable: &str, j: usize) -> f64 {
        match variable {
            "rate" => activation(self.filtered[j], self.bias, self.gain, self.threshold),
            "input" => self.filtered[j] + self.bias,
            _ => self
                .synapses
                .value(variable, j)
                .unwrap_or_else(|| panic!("unknown variable `{variable}`")),
        }
    }

    fn first_non_finite(&self) -> Option<(usize, &'static str, f64)> {
        self.synapses
            .first_non_finite_after(&[("input", &self.filtered), ("phase", &self.phase)])
    }
}
