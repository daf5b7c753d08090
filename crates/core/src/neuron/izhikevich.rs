//! The Izhikevich neuron: Izhikevich (2003), "Simple model of spiking
//! neurons", IEEE Trans Neural Netw 14:1569, and the firing patterns of
//! Izhikevich (2004), "Which model to use for cortical spiking neurons?",
//! IEEE Trans Neural Netw 15:1063 (Fig. 1 and its published code figure1.m).
//!
//! `dv/dt = k_quadratic v^2 + k_linear v + k_constant - u + I`,
//! `du/dt = a (b v - u)`; when `v >= v_peak`: a spike, `v = c`, `u = u + d`.
//! The I-V constants are 0.04, 5 and 140 in both papers, except for the class 1
//! and integrator panels of figure1.m (0.04, 4.1, 108). v in mV, t in ms; `u`
//! and `I` are in the model's normalised units (mV/ms), and so are synaptic
//! currents (`current_exp` weights) into it.
//!
//! Input current: `I = i_bias + schedule(t) + noise + synaptic`, where the
//! schedule (`i_schedule`) is piecewise constant or piecewise linear in time,
//! and the noise is a Gaussian current redrawn for every neuron every
//! `i_noise_interval_ms` (the thalamic input of the 2003 network).
//!
//! Integration: forward Euler, v first and u from the new v, then the
//! threshold test, as in figure1.m. The 2003 network code (net.m) instead
//! takes two 0.5 ms steps of v and one 1 ms step of u per millisecond.

use super::synapse::{SynapseParams, SynapticInput};
use super::{draw_init, scan_crossings, NeuronChunk, NeuronSpec};
use crate::error::ModelError;
use crate::model::{default_e_inh, default_tau_exc, default_tau_inh, FieldKind, FieldSpec, Init, SynapseModel};
use crate::rng::Stream;
use crate::validate::{check_init, check_synapse, finite, positive};
use rand::Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

/// An Izhikevich population (`model = "izhikevich"`).
///
/// `a`, `b`, `c_mv`, `d` and the I-V constants come from the fields given,
/// else from `preset`, else (I-V constants only) from the 2003 paper.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Izhikevich {
    pub n: usize,
    /// A published parameter set (see `Preset`); explicit fields override it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<Preset>,
    /// Time scale of the recovery variable u (1/ms). Izhikevich (2003).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub a: Option<f64>,
    /// Sensitivity of u to v (dimensionless). Izhikevich (2003).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub b: Option<f64>,
    /// Reset potential after a spike (mV). Izhikevich (2003).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub c_mv: Option<f64>,
    /// Jump of u after a spike (mV/ms). Izhikevich (2003).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub d: Option<f64>,
    /// Quadratic coefficient of dv/dt (1/(mV ms)); 0.04 in Izhikevich (2003).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k_quadratic: Option<f64>,
    /// Linear coefficient of dv/dt (1/ms); 5 in Izhikevich (2003), 4.1 for
    /// class 1 and the integrator in figure1.m of Izhikevich (2004).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k_linear: Option<f64>,
    /// Constant term of dv/dt (mV/ms); 140 in Izhikevich (2003), 108 for
    /// class 1 and the integrator in figure1.m of Izhikevich (2004).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k_constant: Option<f64>,
    /// Spike cut-off (mV); 30 in both papers.
    #[serde(default = "default_v_peak")]
    pub v_peak_mv: f64,
    /// Constant input current I (mV/ms).
    #[serde(default)]
    pub i_bias: f64,
    /// Time-varying input `[[t_ms, I], ...]` (I in mV/ms), added to `i_bias`;
    /// times strictly increasing. 0 before the first point; see
    /// `i_schedule_interpolation` for what happens between points.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub i_schedule: Vec<[f64; 2]>,
    /// `step` (each value holds from its time until the next point) or
    /// `linear` (straight lines between points, the last value held after
    /// the last point: ramps).
    #[serde(default, skip_serializing_if = "Interpolation::is_step")]
    pub i_schedule_interpolation: Interpolation,
    /// Standard deviation of a Gaussian input current (mV/ms), drawn
    /// independently for every neuron every `i_noise_interval_ms` and held in
    /// between (Izhikevich 2003: 5 for excitatory, 2 for inhibitory neurons,
    /// every 1 ms). A held current, not white noise: its effect does not
    /// scale with sqrt(dt).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub i_noise_sd: f64,
    /// How long each noise draw is held (ms), a multiple of dt; every step by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub i_noise_interval_ms: Option<f64>,
    /// Per-neuron parameters from one r ~ U(0, 1) per neuron (see
    /// `Heterogeneity`): a = a + a_r r + a_r2 r^2 (1/ms), and so on.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub a_r: f64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub a_r2: f64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub b_r: f64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub b_r2: f64,
    /// (mV)
    #[serde(default, skip_serializing_if = "is_zero")]
    pub c_r_mv: f64,
    /// (mV)
    #[serde(default, skip_serializing_if = "is_zero")]
    pub c_r2_mv: f64,
    /// (mV/ms)
    #[serde(default, skip_serializing_if = "is_zero")]
    pub d_r: f64,
    /// (mV/ms)
    #[serde(default, skip_serializing_if = "is_zero")]
    pub d_r2: f64,
    /// How a step is integrated (see `Scheme`).
    #[serde(default, skip_serializing_if = "Scheme::is_euler")]
    pub scheme: Scheme,
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
    /// Initial v (mV); defaults to the preset's figure1.m value, else -65 mV
    /// as in Izhikevich (2003).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub v_init_mv: Option<Init>,
    /// Initial u (mV/ms); defaults to b * v_init (both papers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub u_init: Option<Init>,
    #[serde(default, skip_serializing_if = "Init::is_zero")]
    pub g_exc_init: Init,
    #[serde(default, skip_serializing_if = "Init::is_zero")]
    pub g_inh_init: Init,
}

/// Per-neuron parameters `p_j = p + coefficients[0] r_j + coefficients[1] r_j^2`
/// with one `r_j ~ U(0, 1)` per neuron shared by all four parameters, drawn
/// from the population's initial-state stream. In TOML the coefficients are
/// the fields `a_r`, `a_r2`, `b_r`, `b_r2`, `c_r_mv`, `c_r2_mv`, `d_r`, `d_r2`.
/// Izhikevich (2003) uses `c_r2_mv = 15, d_r2 = -6` on regular spiking
/// (a = 0.02, b = 0.2, c = -65, d = 8) for excitatory neurons, and
/// `a_r = 0.08, b_r = -0.05` on low-threshold spiking (a = 0.02, b = 0.25,
/// c = -65, d = 2) for inhibitory ones.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Heterogeneity {
    /// Coefficients of r and r^2 added to a (1/ms).
    pub a: [f64; 2],
    /// Coefficients of r and r^2 added to b.
    pub b: [f64; 2],
    /// Coefficients of r and r^2 added to c (mV).
    pub c_mv: [f64; 2],
    /// Coefficients of r and r^2 added to d (mV/ms).
    pub d: [f64; 2],
}

impl Heterogeneity {
    /// The excitatory neurons of Izhikevich (2003): c = -65 + 15 r^2, d = 8 - 6 r^2.
    pub const IZHIKEVICH_2003_EXCITATORY: Heterogeneity = Heterogeneity {
        a: [0.0, 0.0],
        b: [0.0, 0.0],
        c_mv: [0.0, 15.0],
        d: [0.0, -6.0],
    };
    /// The inhibitory neurons of Izhikevich (2003): a = 0.02 + 0.08 r, b = 0.25 - 0.05 r.
    pub const IZHIKEVICH_2003_INHIBITORY: Heterogeneity = Heterogeneity {
        a: [0.08, 0.0],
        b: [-0.05, 0.0],
        c_mv: [0.0, 0.0],
        d: [0.0, 0.0],
    };
}

/// The integration step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scheme {
    /// figure1.m of Izhikevich (2004): `v += dt f(v, u, I)`, then
    /// `u += dt a (b v - u)`; delta synapses jump v at the start of the step.
    /// Needs dt <= 0.5 ms.
    #[default]
    Euler,
    /// net.m of Izhikevich (2003), the network code: two half steps of v
    /// with the same I, then one step of u; delta-synapse weights w (mV) act
    /// as a current w / dt during the step (the code's
    /// `I = I + sum(S(:, fired), 2)`). With dt = 1 ms this is the paper's
    /// integration (including its large overshoot of v above v_peak, which
    /// feeds into u). Needs dt <= 1 ms.
    Izhikevich2003,
}

impl Scheme {
    fn is_euler(&self) -> bool {
        *self == Scheme::Euler
    }
}

/// How `i_schedule` is read between its points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Interpolation {
    #[default]
    Step,
    Linear,
}

impl Interpolation {
    fn is_step(&self) -> bool {
        *self == Interpolation::Step
    }
}

fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

/// Published parameter sets. The 2004 patterns are the panels of Fig. 1 of
/// Izhikevich (2004) with the values of its code figure1.m; the 2003 cortical
/// types are Fig. 2 of Izhikevich (2003).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Preset {
    /// 2004 Fig. 1A.
    TonicSpiking,
    /// 2004 Fig. 1B.
    PhasicSpiking,
    /// 2004 Fig. 1C.
    TonicBursting,
    /// 2004 Fig. 1D.
    PhasicBursting,
    /// 2004 Fig. 1E.
    MixedMode,
    /// 2004 Fig. 1F.
    SpikeFrequencyAdaptation,
    /// 2004 Fig. 1G (I-V constants 4.1 and 108).
    Class1Excitability,
    /// 2004 Fig. 1H.
    Class2Excitability,
    /// 2004 Fig. 1I.
    SpikeLatency,
    /// 2004 Fig. 1K.
    Resonator,
    /// 2004 Fig. 1L (I-V constants 4.1 and 108).
    Integrator,
    /// 2004 Fig. 1M.
    ReboundSpike,
    /// 2004 Fig. 1N.
    ReboundBurst,
    /// 2004 Fig. 1P.
    Bistability,
    /// 2003 Fig. 2, RS.
    RegularSpiking,
    /// 2003 Fig. 2, IB.
    IntrinsicallyBursting,
    /// 2003 Fig. 2, CH.
    Chattering,
    /// 2003 Fig. 2, FS.
    FastSpiking,
    /// 2003 Fig. 2, LTS.
    LowThresholdSpiking,
    /// 2003 Fig. 2, TC.
    ThalamoCortical,
    /// 2003 Fig. 2, RZ (d = 2; the 2004 resonator has c = -60, d = -1).
    Resonator2003,
}

/// The TOML names of the presets, in the order of `Preset::ALL`.
pub const PRESET_NAMES: &[&str] = &[
    "tonic_spiking",
    "phasic_spiking",
    "tonic_bursting",
    "phasic_bursting",
    "mixed_mode",
    "spike_frequency_adaptation",
    "class1_excitability",
    "class2_excitability",
    "spike_latency",
    "resonator",
    "integrator",
    "rebound_spike",
    "rebound_burst",
    "bistability",
    "regular_spiking",
    "intrinsically_bursting",
    "chattering",
    "fast_spiking",
    "low_threshold_spiking",
    "thalamo_cortical",
    "resonator2003",
];

/// A preset's parameters: a (1/ms), b, c (mV), d (mV/ms) and the I-V
/// constants (1/(mV ms), 1/ms, mV/ms).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PresetParams {
    pub a: f64,
    pub b: f64,
    pub c_mv: f64,
    pub d: f64,
    pub k_quadratic: f64,
    pub k_linear: f64,
    pub k_constant: f64,
}

/// The stimulus of a figure1.m panel: step, duration, initial v, and the
/// input (`i_bias` plus a schedule), with figure1.m's strict inequalities
/// (`t > T1`, `t < T1 + w`) turned into the grid times they select.
#[derive(Debug, Clone, PartialEq)]
pub struct Protocol {
    pub dt_ms: f64,
    pub duration_ms: f64,
    pub v_init_mv: f64,
    pub i_bias: f64,
    pub i_schedule: Vec<[f64; 2]>,
    pub interpolation: Interpolation,
}

/// Current `amplitude` on grid times t with `start < t < end` (figure1.m's
/// pulses), `base` otherwise: a step schedule (without `base`, which goes
/// into `i_bias`).
fn pulses(dt: f64, pulses: &[(f64, f64)], amplitude: f64) -> Vec<[f64; 2]> {
    let mut schedule = Vec::new();
    for &(start, end) in pulses {
        let on = ((start / dt).floor() + 1.0) * dt;
        let off = (end / dt).ceil() * dt;
        schedule.push([on, amplitude]);
        schedule.push([off, 0.0]);
    }
    schedule
}

impl Preset {
    pub const ALL: [Preset; 21] = [
        Preset::TonicSpiking,
        Preset::PhasicSpiking,
        Preset::TonicBursting,
        Preset::PhasicBursting,
        Preset::MixedMode,
        Preset::SpikeFrequencyAdaptation,
        Preset::Class1Excitability,
        Preset::Class2Excitability,
        Preset::SpikeLatency,
        Preset::Resonator,
        Preset::Integrator,
        Preset::ReboundSpike,
        Preset::ReboundBurst,
        Preset::Bistability,
        Preset::RegularSpiking,
        Preset::IntrinsicallyBursting,
        Preset::Chattering,
        Preset::FastSpiking,
        Preset::LowThresholdSpiking,
        Preset::ThalamoCortical,
        Preset::Resonator2003,
    ];

    /// The TOML name (`preset = "..."`).
    pub fn name(self) -> &'static str {
        PRESET_NAMES[Preset::ALL.iter().position(|&p| p == self).expect("listed")]
    }

    /// a, b, c, d and the I-V constants (figure1.m for 2004, Fig. 2 for 2003).
    pub fn params(self) -> PresetParams {
        use Preset::*;
        let (a, b, c_mv, d) = match self {
            TonicSpiking => (0.02, 0.2, -65.0, 6.0),
            PhasicSpiking => (0.02, 0.25, -65.0, 6.0),
            TonicBursting => (0.02, 0.2, -50.0, 2.0),
            PhasicBursting => (0.02, 0.25, -55.0, 0.05),
            MixedMode => (0.02, 0.2, -55.0, 4.0),
            SpikeFrequencyAdaptation => (0.01, 0.2, -65.0, 8.0),
            Class1Excitability => (0.02, -0.1, -55.0, 6.0),
            Class2Excitability => (0.2, 0.26, -65.0, 0.0),
            SpikeLatency => (0.02, 0.2, -65.0, 6.0),
            Resonator => (0.1, 0.26, -60.0, -1.0),
            Integrator => (0.02, -0.1, -55.0, 6.0),
            ReboundSpike => (0.03, 0.25, -60.0, 4.0),
            ReboundBurst => (0.03, 0.25, -52.0, 0.0),
            Bistability => (0.1, 0.26, -60.0, 0.0),
            RegularSpiking => (0.02, 0.2, -65.0, 8.0),
            IntrinsicallyBursting => (0.02, 0.2, -55.0, 4.0),
            Chattering => (0.02, 0.2, -50.0, 2.0),
            FastSpiking => (0.1, 0.2, -65.0, 2.0),
            LowThresholdSpiking => (0.02, 0.25, -65.0, 2.0),
            ThalamoCortical => (0.02, 0.25, -65.0, 0.05),
            Resonator2003 => (0.1, 0.26, -65.0, 2.0),
        };
        let (k_linear, k_constant) = match self {
            Class1Excitability | Integrator => (4.1, 108.0),
            _ => (5.0, 140.0),
        };
        PresetParams {
            a,
            b,
            c_mv,
            d,
            k_quadratic: 0.04,
            k_linear,
            k_constant,
        }
    }

    /// Initial v (mV): figure1.m's for the 2004 patterns, -65 (the 2003 paper's) otherwise.
    pub fn v_init_mv(self) -> f64 {
        self.protocol().map_or(-65.0, |p| p.v_init_mv)
    }

    /// The stimulus protocol of figure1.m for a 2004 pattern; None for the
    /// 2003 cortical types (the paper publishes no code for its Fig. 2).
    pub fn protocol(self) -> Option<Protocol> {
        use Preset::*;
        let step = |dt: f64, duration: f64, v0: f64, t1: f64, amplitude: f64| Protocol {
            dt_ms: dt,
            duration_ms: duration,
            v_init_mv: v0,
            i_bias: 0.0,
            // `if t > T1, I = amplitude`: on from the first grid time after T1.
            i_schedule: vec![[((t1 / dt).floor() + 1.0) * dt, amplitude]],
            interpolation: Interpolation::Step,
        };
        let pulsed = |dt: f64, duration: f64, v0: f64, bias: f64, on: &[(f64, f64)], amplitude: f64| Protocol {
            dt_ms: dt,
            duration_ms: duration,
            v_init_mv: v0,
            i_bias: bias,
            i_schedule: pulses(dt, on, amplitude - bias),
            interpolation: Interpolation::Step,
        };
        Some(match self {
            TonicSpiking => step(0.25, 100.0, -70.0, 10.0, 14.0),
            PhasicSpiking => step(0.25, 200.0, -64.0, 20.0, 0.5),
            TonicBursting => step(0.25, 220.0, -70.0, 22.0, 15.0),
            PhasicBursting => step(0.2, 200.0, -64.0, 20.0, 0.6),
            MixedMode => step(0.25, 160.0, -70.0, 16.0, 10.0),
            SpikeFrequencyAdaptation => step(0.25, 85.0, -70.0, 8.5, 30.0),
            // `I = 0.075 (t - T1)` for t > T1 = 30: a ramp.
            Class1Excitability => Protocol {
                dt_ms: 0.25,
                duration_ms: 300.0,
                v_init_mv: -60.0,
                i_bias: 0.0,
                i_schedule: vec![[30.0, 0.0], [300.0, 0.075 * 270.0]],
                interpolation: Interpolation::Linear,
            },
            // `I = -0.5 + 0.015 (t - T1)` for t > T1 = 30, -0.5 before.
            Class2Excitability => Protocol {
                dt_ms: 0.25,
                duration_ms: 300.0,
                v_init_mv: -64.0,
                i_bias: -0.5,
                i_schedule: vec![[30.0, 0.0], [300.0, 0.015 * 270.0]],
                interpolation: Interpolation::Linear,
            },
            SpikeLatency => pulsed(0.2, 100.0, -70.0, 0.0, &[(10.0, 13.0)], 7.04),
            // Doublets 20 ms apart at T1 = 40 and 40 ms apart at T3 = 280.
            Resonator => pulsed(
                0.25,
                400.0,
                -62.0,
                0.0,
                &[(40.0, 44.0), (60.0, 64.0), (280.0, 284.0), (320.0, 324.0)],
                0.65,
            ),
            // Pulse pairs 5 ms apart at T1 = 100/11 and 10 ms apart at T3 = 70.
            Integrator => {
                let t1 = 100.0 / 11.0;
                pulsed(
                    0.25,
                    100.0,
                    -60.0,
                    0.0,
                    &[(t1, t1 + 2.0), (t1 + 5.0, t1 + 7.0), (70.0, 72.0), (80.0, 82.0)],
                    9.0,
                )
            }
            ReboundSpike => pulsed(0.2, 200.0, -64.0, 0.0, &[(20.0, 25.0)], -15.0),
            ReboundBurst => pulsed(0.2, 200.0, -64.0, 0.0, &[(20.0, 25.0)], -15.0),
            // Background 0.24; pulses of 1.24 at T1 = 37.5 (on) and T2 = 216 (off).
            Bistability => pulsed(0.25, 300.0, -61.0, 0.24, &[(37.5, 42.5), (216.0, 221.0)], 1.24),
            RegularSpiking
            | IntrinsicallyBursting
            | Chattering
            | FastSpiking
            | LowThresholdSpiking
            | ThalamoCortical
            | Resonator2003 => return None,
        })
    }
}

fn default_v_peak() -> f64 {
    30.0
}
fn default_synapse() -> SynapseModel {
    SynapseModel::Delta
}
/// The parameters after presets and defaults are applied.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Resolved {
    a: f64,
    b: f64,
    c_mv: f64,
    d: f64,
    k_quadratic: f64,
    k_linear: f64,
    k_constant: f64,
}

impl Izhikevich {
    /// A population with the given (a, b, c, d) and the defaults for the rest.
    pub fn new(n: usize, a: f64, b: f64, c_mv: f64, d: f64) -> Self {
        Izhikevich {
            a: Some(a),
            b: Some(b),
            c_mv: Some(c_mv),
            d: Some(d),
            ..Izhikevich::empty(n)
        }
    }

    /// A population with a published parameter set (and its initial v).
    pub fn preset(n: usize, preset: Preset) -> Self {
        Izhikevich {
            preset: Some(preset),
            ..Izhikevich::empty(n)
        }
    }

    /// A single neuron with a 2004 pattern's parameters and stimulus (the
    /// protocol's schedule and bias); the network needs the protocol's dt.
    pub fn with_protocol(preset: Preset) -> Option<Self> {
        let protocol = preset.protocol()?;
        Some(Izhikevich {
            i_bias: protocol.i_bias,
            i_schedule: protocol.i_schedule,
            i_schedule_interpolation: protocol.interpolation,
            ..Izhikevich::preset(1, preset)
        })
    }

    fn empty(n: usize) -> Self {
        Izhikevich {
            n,
            preset: None,
            a: None,
            b: None,
            c_mv: None,
            d: None,
            k_quadratic: None,
            k_linear: None,
            k_constant: None,
            v_peak_mv: default_v_peak(),
            i_bias: 0.0,
            i_schedule: Vec::new(),
            i_schedule_interpolation: Interpolation::Step,
            i_noise_sd: 0.0,
            i_noise_interval_ms: None,
            a_r: 0.0,
            a_r2: 0.0,
            b_r: 0.0,
            b_r2: 0.0,
            c_r_mv: 0.0,
            c_r2_mv: 0.0,
            d_r: 0.0,
            d_r2: 0.0,
            scheme: Scheme::Euler,
            synapse: default_synapse(),
            tau_exc_ms: default_tau_exc(),
            tau_inh_ms: default_tau_inh(),
            e_exc_mv: 0.0,
            e_inh_mv: default_e_inh(),
            v_init_mv: None,
            u_init: None,
            g_exc_init: Init::Value(0.0),
            g_inh_init: Init::Value(0.0),
        }
    }

    /// The parameters as used: explicit fields, else the preset's, else
    /// (I-V constants) the 2003 paper's. Err names the missing field.
    fn resolved(&self) -> Result<Resolved, &'static str> {
        let preset = self.preset.map(Preset::params);
        let pick = |field: Option<f64>, from_preset: Option<f64>, name: &'static str| field.or(from_preset).ok_or(name);
        Ok(Resolved {
            a: pick(self.a, preset.map(|p| p.a), "a")?,
            b: pick(self.b, preset.map(|p| p.b), "b")?,
            c_mv: pick(self.c_mv, preset.map(|p| p.c_mv), "c_mv")?,
            d: pick(self.d, preset.map(|p| p.d), "d")?,
            k_quadratic: self.k_quadratic.or(preset.map(|p| p.k_quadratic)).unwrap_or(0.04),
            k_linear: self.k_linear.or(preset.map(|p| p.k_linear)).unwrap_or(5.0),
            k_constant: self.k_constant.or(preset.map(|p| p.k_constant)).unwrap_or(140.0),
        })
    }

    /// The r-dependence of the parameters; None when there is none.
    pub fn heterogeneity(&self) -> Option<Heterogeneity> {
        let h = Heterogeneity {
            a: [self.a_r, self.a_r2],
            b: [self.b_r, self.b_r2],
            c_mv: [self.c_r_mv, self.c_r2_mv],
            d: [self.d_r, self.d_r2],
        };
        (h != Heterogeneity::default()).then_some(h)
    }

    /// Sets the r-dependence of the parameters.
    pub fn with_heterogeneity(self, h: Heterogeneity) -> Self {
        Izhikevich {
            a_r: h.a[0],
            a_r2: h.a[1],
            b_r: h.b[0],
            b_r2: h.b[1],
            c_r_mv: h.c_mv[0],
            c_r2_mv: h.c_mv[1],
            d_r: h.d[0],
            d_r2: h.d[1],
            ..self
        }
    }

    fn v_init(&self) -> Init {
        self.v_init_mv
            .clone()
            .unwrap_or(Init::Value(self.preset.map_or(-65.0, Preset::v_init_mv)))
    }

    fn noise_interval_steps(&self, dt: f64) -> u64 {
        self.i_noise_interval_ms.map_or(1, |t| (t / dt).round().max(1.0) as u64)
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

/// The TOML fields of `model = "izhikevich"`, besides the shared `SYNAPSE_FIELDS`.
pub const FIELDS: &[FieldSpec] = &[
    FieldSpec::required("n", FieldKind::Integer, "number of neurons"),
    FieldSpec::optional(
        "preset",
        FieldKind::Choice(PRESET_NAMES),
        "published parameter set (Izhikevich 2004 Fig. 1, 2003 Fig. 2); explicit fields override it",
    ),
    FieldSpec::optional("a", FieldKind::Number, "time scale of u (1/ms), Izhikevich 2003"),
    FieldSpec::optional("b", FieldKind::Number, "sensitivity of u to v, Izhikevich 2003"),
    FieldSpec::optional("c_mv", FieldKind::Number, "reset potential (mV), Izhikevich 2003"),
    FieldSpec::optional(
        "d",
        FieldKind::Number,
        "jump of u after a spike (mV/ms), Izhikevich 2003",
    ),
    FieldSpec::optional("k_quadratic", FieldKind::Number, "v^2 coefficient (1/(mV ms)), 0.04"),
    FieldSpec::optional(
        "k_linear",
        FieldKind::Number,
        "v coefficient (1/ms), 5 (4.1 class 1, 2004)",
    ),
    FieldSpec::optional(
        "k_constant",
        FieldKind::Number,
        "constant of dv/dt (mV/ms), 140 (108 class 1, 2004)",
    ),
    FieldSpec::optional("v_peak_mv", FieldKind::Number, "spike cut-off (mV), 30"),
    FieldSpec::optional("i_bias", FieldKind::Number, "constant input I (mV/ms)"),
    FieldSpec::optional(
        "i_schedule",
        FieldKind::Pairs("[t_ms, I]"),
        "time-varying input [[t_ms, I (mV/ms)], ...], added to i_bias",
    ),
    FieldSpec::optional(
        "i_schedule_interpolation",
        FieldKind::Choice(&["step", "linear"]),
        "step (piecewise constant, default) or linear (ramps)",
    ),
    FieldSpec::optional(
        "i_noise_sd",
        FieldKind::Number,
        "sd of a held Gaussian input current (mV/ms); 5 exc, 2 inh in Izhikevich 2003",
    ),
    FieldSpec::optional(
        "i_noise_interval_ms",
        FieldKind::Number,
        "how long each noise draw is held (ms), dt",
    ),
    FieldSpec::optional(
        "a_r",
        FieldKind::Number,
        "a += a_r r, r ~ U(0, 1) per neuron (1/ms); 0.08 inh, 2003",
    ),
    FieldSpec::optional("a_r2", FieldKind::Number, "a += a_r2 r^2 (1/ms)"),
    FieldSpec::optional("b_r", FieldKind::Number, "b += b_r r; -0.05 inh, Izhikevich 2003"),
    FieldSpec::optional("b_r2", FieldKind::Number, "b += b_r2 r^2"),
    FieldSpec::optional("c_r_mv", FieldKind::Number, "c += c_r_mv r (mV)"),
    FieldSpec::optional(
        "c_r2_mv",
        FieldKind::Number,
        "c += c_r2_mv r^2 (mV); 15 exc, Izhikevich 2003",
    ),
    FieldSpec::optional("d_r", FieldKind::Number, "d += d_r r (mV/ms)"),
    FieldSpec::optional(
        "d_r2",
        FieldKind::Number,
        "d += d_r2 r^2 (mV/ms); -6 exc, Izhikevich 2003",
    ),
    FieldSpec::optional(
        "scheme",
        FieldKind::Choice(&["euler", "izhikevich2003"]),
        "euler (figure1.m, default) or izhikevich2003 (net.m: two half steps of v, then u)",
    ),
    FieldSpec::optional("v_init_mv", FieldKind::Init, "initial v (mV), the preset's or -65"),
    FieldSpec::optional("u_init", FieldKind::Init, "initial u (mV/ms), b * v_init"),
];

impl NeuronSpec for Izhikevich {
    fn size(&self) -> usize {
        self.n
    }

    fn synapse(&self) -> SynapseModel {
        self.synapse
    }

    fn variables(&self) -> &'static [&'static str] {
        &["v", "u", "g_exc", "g_inh"]
    }

    fn validate(&self, dt: f64, at: &dyn Fn(&str) -> String) -> Result<(), ModelError> {
        let p = self
            .resolved()
            .map_err(|field| ModelError::new(at(field), "(missing)", "required unless `preset` is given"))?;
        for (field, value) in [
            ("a", self.a),
            ("b", self.b),
            ("c_mv", self.c_mv),
            ("d", self.d),
            ("k_quadratic", self.k_quadratic),
            ("k_linear", self.k_linear),
            ("k_constant", self.k_constant),
        ] {
            if let Some(value) = value {
                finite(at(field), value)?;
            }
        }
        positive(at("a"), p.a)?;
        positive(at("k_quadratic"), p.k_quadratic)?;
        finite(at("v_peak_mv"), self.v_peak_mv)?;
        finite(at("i_bias"), self.i_bias)?;
        if p.c_mv >= self.v_peak_mv {
            return Err(ModelError::new(
                at("c_mv"),
                p.c_mv,
                format!("the reset must lie below v_peak_mv = {}", self.v_peak_mv),
            ));
        }
        check_schedule(&self.i_schedule, &at("i_schedule"))?;
        if !(self.i_noise_sd.is_finite() && self.i_noise_sd >= 0.0) {
            return Err(ModelError::new(
                at("i_noise_sd"),
                self.i_noise_sd,
                "must be a finite number >= 0",
            ));
        }
        if let Some(interval) = self.i_noise_interval_ms {
            positive(at("i_noise_interval_ms"), interval)?;
            let steps = interval / dt;
            if steps < 1.0 - 1e-9 || (steps - steps.round()).abs() > 1e-6 * steps.max(1.0) {
                return Err(ModelError::new(
                    at("i_noise_interval_ms"),
                    interval,
                    format!("must be a whole number of time steps (dt_ms = {dt})"),
                ));
            }
        }
        if let Some(h) = &self.heterogeneity() {
            check_heterogeneity(h, &p, self.v_peak_mv, at)?;
        }
        check_init(at("v_init_mv"), &self.v_init(), false)?;
        if let Some(u) = &self.u_init {
            check_init(at("u_init"), u, false)?;
        }
        let (max_dt, why) = match self.scheme {
            Scheme::Euler => (0.5, "scheme = \"euler\" (forward Euler, figure1.m) needs dt_ms <= 0.5"),
            Scheme::Izhikevich2003 => (1.0, "scheme = \"izhikevich2003\" (net.m) needs dt_ms <= 1"),
        };
        if dt > max_dt {
            return Err(ModelError::new("simulation.dt_ms", dt, why));
        }
        check_synapse(at, dt, &self.synapse_params(), &self.g_exc_init, &self.g_inh_init)
    }

    fn build(&self, len: usize, dt: f64, rng: &mut Stream) -> Box<dyn NeuronChunk> {
        Box::new(self.build_chunk(len, dt, rng))
    }
}

impl Izhikevich {
    fn build_chunk(&self, len: usize, dt: f64, rng: &mut Stream) -> IzhikevichChunk {
        let p = self.resolved().expect("validated parameters");
        let v = draw_init(&self.v_init(), len, rng);
        let (mut a, mut b, mut c, mut d) = (vec![p.a; len], vec![p.b; len], vec![p.c_mv; len], vec![p.d; len]);
        if let Some(h) = &self.heterogeneity() {
            for j in 0..len {
                let r: f64 = rng.gen();
                let term = |k: [f64; 2]| k[0] * r + k[1] * r * r;
                a[j] += term(h.a);
                b[j] += term(h.b);
                c[j] += term(h.c_mv);
                d[j] += term(h.d);
            }
        }
        let u = match &self.u_init {
            Some(init) => draw_init(init, len, rng),
            None => v.iter().zip(&b).map(|(&v, &b)| b * v).collect(),
        };
        let g_exc = draw_init(&self.g_exc_init, len, rng);
        let g_inh = draw_init(&self.g_inh_init, len, rng);
        let schedule = match self.i_schedule_interpolation {
            Interpolation::Step => Schedule::Step(
                self.i_schedule
                    .iter()
                    // The first step whose start time reaches the point's time.
                    .map(|&[t, i]| (((t / dt) - 1e-9).ceil().max(0.0) as u64, i))
                    .collect(),
            ),
            Interpolation::Linear => Schedule::Linear(self.i_schedule.clone()),
        };
        IzhikevichChunk {
            k_quadratic: p.k_quadratic,
            k_linear: p.k_linear,
            k_constant: p.k_constant,
            v_peak: self.v_peak_mv,
            i_bias: self.i_bias,
            schedule,
            cursor: 0,
            noise_sd: self.i_noise_sd,
            noise_every: self.noise_interval_steps(dt),
            noise: vec![0.0; if self.i_noise_sd > 0.0 { len } else { 0 }],
            dt,
            scheme: self.scheme,
            a,
            b,
            c,
            d,
            v,
            u,
            synapses: SynapticInput::new(&self.synapse_params(), dt, g_exc, g_inh),
            current: vec![0.0; len],
            current_is_zero: true,
            shared_ab: None,
        }
        .with_shared_ab()
    }
}

/// Times finite and strictly increasing, values finite.
fn check_schedule(schedule: &[[f64; 2]], field: &str) -> Result<(), ModelError> {
    for (k, &[t, i]) in schedule.iter().enumerate() {
        let item = format!("{field}.{k}");
        if !t.is_finite() || t < 0.0 {
            return Err(ModelError::new(item, t, "the time must be a finite number of ms >= 0"));
        }
        if !i.is_finite() {
            return Err(ModelError::new(item, i, "the current must be a finite number"));
        }
        if k > 0 && t <= schedule[k - 1][0] {
            return Err(ModelError::new(
                item,
                t,
                format!("times must increase (the point before is at {} ms)", schedule[k - 1][0]),
            ));
        }
    }
    Ok(())
}

/// Every coefficient finite, and a > 0 and c < v_peak for every r in [0, 1]
/// (each parameter is a quadratic in r: its extremes are at 0, 1 or the vertex).
fn check_heterogeneity(
    h: &Heterogeneity,
    p: &Resolved,
    v_peak: f64,
    at: &dyn Fn(&str) -> String,
) -> Result<(), ModelError> {
    for (name, k) in [("a_r", h.a), ("b_r", h.b), ("c_r_mv", h.c_mv), ("d_r", h.d)] {
        if !(k[0].is_finite() && k[1].is_finite()) {
            return Err(ModelError::new(
                at(name),
                format!("{k:?}"),
                "coefficients of r and r^2 must be finite",
            ));
        }
    }
    let extremes = |k: [f64; 2]| {
        let mut rs = vec![0.0, 1.0];
        if k[1] != 0.0 {
            let vertex = -k[0] / (2.0 * k[1]);
            if (0.0..=1.0).contains(&vertex) {
                rs.push(vertex);
            }
        }
        rs.into_iter().map(move |r| k[0] * r + k[1] * r * r)
    };
    if let Some(low) = extremes(h.a).map(|x| p.a + x).find(|&a| a <= 0.0) {
        return Err(ModelError::new(
            at(if h.a[0] != 0.0 { "a_r" } else { "a_r2" }),
            format!("{:?}", h.a),
            format!("gives a = {low} for some r in [0, 1]; a must stay positive"),
        ));
    }
    if let Some(high) = extremes(h.c_mv).map(|x| p.c_mv + x).find(|&c| c >= v_peak) {
        return Err(ModelError::new(
            at(if h.c_mv[0] != 0.0 { "c_r_mv" } else { "c_r2_mv" }),
            format!("{:?}", h.c_mv),
            format!("gives c = {high} mV for some r in [0, 1], not below v_peak_mv = {v_peak}"),
        ));
    }
    Ok(())
}

/// The input schedule compiled for the step.
#[derive(Debug, Clone)]
enum Schedule {
    /// (first step, value), steps increasing.
    Step(Vec<(u64, f64)>),
    /// (t_ms, value) points.
    Linear(Vec<[f64; 2]>),
}

/// State of a chunk of Izhikevich neurons.
#[derive(Debug, Clone)]
pub struct IzhikevichChunk {
    k_quadratic: f64,
    k_linear: f64,
    k_constant: f64,
    v_peak: f64,
    i_bias: f64,
    schedule: Schedule,
    /// Index of the schedule point in force (steps only increase).
    cursor: usize,
    noise_sd: f64,
    noise_every: u64,
    /// The held noise current per neuron (empty without noise).
    noise: Vec<f64>,
    dt: f64,
    scheme: Scheme,
    a: Vec<f64>,
    b: Vec<f64>,
    c: Vec<f64>,
    d: Vec<f64>,
    v: Vec<f64>,
    u: Vec<f64>,
    synapses: SynapticInput,
    /// Scratch: this step's synaptic (and noise) current per neuron.
    current: Vec<f64>,
    /// Whether `current` is all zeros (then it need not be cleared).
    current_is_zero: bool,
    /// (a, b) when every neuron has the same: the update then streams only
    /// v and u, which is what limits it in large populations.
    shared_ab: Option<(f64, f64)>,
}

impl IzhikevichChunk {
    /// The schedule's input during `step` (evaluated at its start, as figure1.m does).
    fn scheduled(&mut self, step: u64) -> f64 {
        match &self.schedule {
            Schedule::Step(points) => {
                while self.cursor < points.len() && points[self.cursor].0 <= step {
                    self.cursor += 1;
                }
                // `cursor` points are in force; the last of them holds.
                self.cursor.checked_sub(1).map_or(0.0, |k| points[k].1)
            }
            Schedule::Linear(points) => {
                let t = step as f64 * self.dt;
                while self.cursor < points.len() && points[self.cursor][0] <= t {
                    self.cursor += 1;
                }
                match (self.cursor.checked_sub(1), points.get(self.cursor)) {
                    (None, _) => 0.0,
                    (Some(k), None) => points[k][1],
                    (Some(k), Some(next)) => {
                        let [t0, i0] = points[k];
                        i0 + (next[1] - i0) * (t - t0) / (next[0] - t0)
                    }
                }
            }
        }
    }
}

impl IzhikevichChunk {
    fn with_shared_ab(mut self) -> Self {
        let same = |x: &[f64]| x.iter().all(|&y| y == x[0]);
        if !self.a.is_empty() && same(&self.a) && same(&self.b) {
            self.shared_ab = Some((self.a[0], self.b[0]));
        }
        self
    }

    /// Spikes and resets after the update; false if the state is not finite.
    fn threshold(&mut self, step: u64, spikes: &mut Vec<u32>) -> bool {
        let first = spikes.len();
        let finite = scan_crossings(&self.v, &self.u, self.v_peak, spikes);
        for &j in &spikes[first..] {
            let j = j as usize;
            self.v[j] = self.c[j];
            self.u[j] += self.d[j];
        }
        self.synapses.end_step(step);
        finite
    }
}

impl NeuronChunk for IzhikevichChunk {
    fn len(&self) -> usize {
        self.v.len()
    }

    fn begin_step(&mut self, step: u64) {
        self.synapses.begin_step(step);
    }

    fn add_input(&mut self, exc: bool, j: usize, w: f64) {
        self.synapses.add(exc, j, w);
    }

    fn update(&mut self, step: u64, rng: &mut Stream, spikes: &mut Vec<u32>) -> bool {
        let dt = self.dt;
        let drive = self.i_bias + self.scheduled(step);
        // `current` holds this step's extra input; with delta synapses it is
        // zero on most steps, and kept so rather than cleared every step.
        if self.synapses.model != SynapseModel::Delta {
            self.synapses.currents(&self.v, &mut self.current);
            self.current_is_zero = false;
        } else if !self.current_is_zero {
            self.current.fill(0.0);
            self.current_is_zero = true;
        }
        if self.synapses.model == SynapseModel::Delta && self.synapses.has_jumps() {
            match self.scheme {
                Scheme::Euler => {
                    for (v, &jump) in self.v.iter_mut().zip(self.synapses.jumps()) {
                        *v += jump;
                    }
                }
                Scheme::Izhikevich2003 => {
                    for (i, &jump) in self.current.iter_mut().zip(self.synapses.jumps()) {
                        *i += jump / dt;
                    }
                    self.current_is_zero = false;
                }
            }
        }
        if !self.noise.is_empty() {
            if step.is_multiple_of(self.noise_every) {
                for x in self.noise.iter_mut() {
                    *x = self.noise_sd * rng.sample::<f64, _>(StandardNormal);
                }
            }
            for (i, &x) in self.current.iter_mut().zip(&self.noise) {
                *i += x;
            }
            self.current_is_zero = false;
        }
        let (k2, k1, k0) = (self.k_quadratic, self.k_linear, self.k_constant);
        if let (Some((a, b)), true) = (self.shared_ab, self.current_is_zero) {
            let neurons = self.v.iter_mut().zip(self.u.iter_mut());
            match self.scheme {
                Scheme::Euler => {
                    for (v, u) in neurons {
                        let dv = (k2 * *v + k1) * *v + k0 - *u + drive;
                        *v += dt * dv;
                        *u += dt * a * (b * *v - *u);
                    }
                }
                Scheme::Izhikevich2003 => {
                    let half = 0.5 * dt;
                    for (v, u) in neurons {
                        let i = k0 - *u + drive;
                        *v += half * ((k2 * *v + k1) * *v + i);
                        *v += half * ((k2 * *v + k1) * *v + i);
                        *u += dt * a * (b * *v - *u);
                    }
                }
            }
            return self.threshold(step, spikes);
        }
        let neurons = self
            .v
            .iter_mut()
            .zip(self.u.iter_mut())
            .zip(&self.current)
            .zip(self.a.iter().zip(&self.b));
        match self.scheme {
            // Forward Euler, v first and u from the new v, as in figure1.m.
            Scheme::Euler => {
                for (((v, u), &i_in), (&a, &b)) in neurons {
                    let dv = (k2 * *v + k1) * *v + k0 - *u + drive + i_in;
                    *v += dt * dv;
                    *u += dt * a * (b * *v - *u);
                }
            }
            // net.m: v in two half steps "for numerical stability", then u.
            Scheme::Izhikevich2003 => {
                let half = 0.5 * dt;
                for (((v, u), &i_in), (&a, &b)) in neurons {
                    let i = k0 - *u + drive + i_in;
                    *v += half * ((k2 * *v + k1) * *v + i);
                    *v += half * ((k2 * *v + k1) * *v + i);
                    *u += dt * a * (b * *v - *u);
                }
            }
        }
        self.threshold(step, spikes)
    }

    fn variables(&self) -> &'static [&'static str] {
        &["v", "u", "g_exc", "g_inh"]
    }

    fn value(&self, variable: &str, j: usize) -> f64 {
        match variable {
            "v" => self.v[j],
            "u" => self.u[j],
            _ => self
                .synapses
                .value(variable, j)
                .unwrap_or_else(|| panic!("unknown variable `{variable}`")),
        }
    }

    fn first_non_finite(&self) -> Option<(usize, &'static str, f64)> {
        self.synapses.first_non_finite_after(&[("v", &self.v), ("u", &self.u)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preset_names_match_serde() {
        assert_eq!(PRESET_NAMES.len(), Preset::ALL.len());
        for (preset, name) in Preset::ALL.iter().zip(PRESET_NAMES) {
            let parsed: Preset = serde_json::from_str(&format!("\"{name}\"")).expect("a preset name");
            assert_eq!(parsed, *preset);
            assert_eq!(preset.name(), *name);
        }
    }

    fn chunk(neuron: &Izhikevich, len: usize, dt: f64) -> IzhikevichChunk {
        neuron.validate(dt, &|f: &str| f.to_string()).expect("valid");
        let mut rng = crate::rng::stream(7, crate::rng::Purpose::InitialState, 0, 0);
        neuron.build_chunk(len, dt, &mut rng)
    }

    #[test]
    fn heterogeneity_ties_every_parameter_to_one_r_per_neuron() {
        let exc = Izhikevich::preset(20_000, Preset::RegularSpiking)
            .with_heterogeneity(Heterogeneity::IZHIKEVICH_2003_EXCITATORY);
        let c = chunk(&exc, 20_000, 0.5);
        let mut r_sum = 0.0;
        for j in 0..c.len() {
            let r = ((c.c[j] + 65.0) / 15.0).sqrt();
            assert!((0.0..1.0).contains(&r));
            assert!((c.d[j] - (8.0 - 6.0 * r * r)).abs() < 1e-12, "d from the same r as c");
            assert_eq!((c.a[j], c.b[j]), (0.02, 0.2));
            assert!((c.u[j] - 0.2 * -65.0).abs() < 1e-12);
            r_sum += r;
        }
        let mean = r_sum / c.len() as f64;
        assert!((mean - 0.5).abs() < 0.01, "r ~ U(0, 1): mean {mean}");
        let inh = Izhikevich::preset(1000, Preset::LowThresholdSpiking)
            .with_heterogeneity(Heterogeneity::IZHIKEVICH_2003_INHIBITORY);
        let c = chunk(&inh, 1000, 0.5);
        for j in 0..c.len() {
            let r = (c.a[j] - 0.02) / 0.08;
            assert!((0.0..1.0).contains(&r));
            assert!((c.b[j] - (0.25 - 0.05 * r)).abs() < 1e-12, "b from the same r as a");
            assert_eq!((c.c[j], c.d[j]), (-65.0, 2.0));
            assert!((c.u[j] - c.b[j] * -65.0).abs() < 1e-12, "u = b v per neuron");
        }
    }

    #[test]
    fn noise_is_held_for_its_interval_with_the_given_sd() {
        let neuron = Izhikevich {
            i_noise_sd: 5.0,
            i_noise_interval_ms: Some(1.0),
            ..Izhikevich::preset(10_000, Preset::RegularSpiking)
        };
        let mut c = chunk(&neuron, 10_000, 0.25);
        let mut rng = crate::rng::stream(7, crate::rng::Purpose::Noise, 0, 0);
        let mut spikes = Vec::new();
        let mut draws = Vec::new();
        for step in 0..8 {
            c.update(step, &mut rng, &mut spikes);
            draws.push(c.noise.clone());
        }
        assert_eq!(draws[0], draws[3], "held for 4 steps of 0.25 ms");
        assert_ne!(draws[3], draws[4], "redrawn after 1 ms");
        assert_eq!(draws[4], draws[7]);
        for d in [&draws[0], &draws[4]] {
            let n = d.len() as f64;
            let mean = d.iter().sum::<f64>() / n;
            let sd = (d.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n).sqrt();
            assert!(mean.abs() < 0.15 && (sd - 5.0).abs() < 0.15, "mean {mean}, sd {sd}");
        }
    }

    #[test]
    fn schedules_step_and_interpolate() {
        let step = Izhikevich {
            i_schedule: vec![[1.0, 2.0], [2.0, -1.0]],
            ..Izhikevich::preset(1, Preset::TonicSpiking)
        };
        let mut c = chunk(&step, 1, 0.25);
        let values: Vec<f64> = (0..12).map(|k| c.scheduled(k)).collect();
        assert_eq!(values, [0.0, 0.0, 0.0, 0.0, 2.0, 2.0, 2.0, 2.0, -1.0, -1.0, -1.0, -1.0]);
        let ramp = Izhikevich {
            i_schedule: vec![[1.0, 0.0], [2.0, 4.0]],
            i_schedule_interpolation: Interpolation::Linear,
            ..step
        };
        let mut c = chunk(&ramp, 1, 0.25);
        let values: Vec<f64> = (0..12).map(|k| c.scheduled(k)).collect();
        assert_eq!(values, [0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 3.0, 4.0, 4.0, 4.0, 4.0]);
    }

    #[test]
    fn figure1_pulses_select_the_grid_times_of_strict_inequalities() {
        // (T1 < t < T1 + 5) with T1 = 37.5 and dt = 0.25: on at 37.75, off at 42.5.
        assert_eq!(pulses(0.25, &[(37.5, 42.5)], 1.0), vec![[37.75, 1.0], [42.5, 0.0]]);
    }
}
