//! The Izhikevich (2003) neuron: "Simple model of spiking neurons", IEEE
//! Trans Neural Netw 14:1569.
//!
//! `dv/dt = 0.04 v^2 + 5 v + 140 - u + I`, `du/dt = a (b v - u)`; when
//! `v >= v_peak`: a spike, `v = c`, `u = u + d`. v in mV, t in ms; `u` and
//! `I` are in the model's normalised units (mV/ms), and so are synaptic
//! currents (`current_exp` weights) into it.

use super::synapse::{SynapseParams, SynapticInput};
use super::{crossed, draw_init, NeuronChunk, NeuronSpec};
use crate::error::ModelError;
use crate::model::{FieldKind, FieldSpec, Init, SynapseModel};
use crate::rng::Stream;
use crate::validate::{check_synapse, finite, positive};
use serde::{Deserialize, Serialize};

/// An Izhikevich population (`model = "izhikevich"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Izhikevich {
    pub n: usize,
    /// Time scale of the recovery variable u (1/ms).
    pub a: f64,
    /// Sensitivity of u to v (dimensionless).
    pub b: f64,
    /// Reset potential after a spike (mV).
    pub c_mv: f64,
    /// Jump of u after a spike (mV/ms).
    pub d: f64,
    /// Spike cut-off (mV); 30 in the paper.
    #[serde(default = "default_v_peak")]
    pub v_peak_mv: f64,
    /// Constant input current I (mV/ms).
    #[serde(default)]
    pub i_bias: f64,
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
    /// Initial v (mV); defaults to -65 mV as in the paper.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub v_init_mv: Option<Init>,
    /// Initial u; defaults to b * v_init.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub u_init: Option<Init>,
    #[serde(default, skip_serializing_if = "Init::is_zero")]
    pub g_exc_init: Init,
    #[serde(default, skip_serializing_if = "Init::is_zero")]
    pub g_inh_init: Init,
}

fn default_v_peak() -> f64 {
    30.0
}
fn default_synapse() -> SynapseModel {
    SynapseModel::Delta
}
fn default_tau_exc() -> f64 {
    5.0
}
fn default_tau_inh() -> f64 {
    10.0
}
fn default_e_inh() -> f64 {
    -80.0
}

impl Izhikevich {
    /// A population with the given (a, b, c, d) and the defaults for the rest.
    pub fn new(n: usize, a: f64, b: f64, c_mv: f64, d: f64) -> Self {
        Izhikevich {
            n,
            a,
            b,
            c_mv,
            d,
            v_peak_mv: default_v_peak(),
            i_bias: 0.0,
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
    FieldSpec::required("a", FieldKind::Number, "time scale of u (1/ms)"),
    FieldSpec::required("b", FieldKind::Number, "sensitivity of u to v"),
    FieldSpec::required("c_mv", FieldKind::Number, "reset potential (mV)"),
    FieldSpec::required("d", FieldKind::Number, "jump of u after a spike (mV/ms)"),
    FieldSpec::optional("v_peak_mv", FieldKind::Number, "spike cut-off (mV), 30"),
    FieldSpec::optional("i_bias", FieldKind::Number, "constant input I (mV/ms)"),
    FieldSpec::optional("v_init_mv", FieldKind::Init, "initial v (mV), -65"),
    FieldSpec::optional("u_init", FieldKind::Init, "initial u, b * v_init"),
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
        positive(at("a"), self.a)?;
        finite(at("b"), self.b)?;
        finite(at("c_mv"), self.c_mv)?;
        finite(at("d"), self.d)?;
        finite(at("v_peak_mv"), self.v_peak_mv)?;
        finite(at("i_bias"), self.i_bias)?;
        if self.c_mv >= self.v_peak_mv {
            return Err(ModelError::new(
                at("c_mv"),
                self.c_mv,
                format!("the reset must lie below v_peak_mv = {}", self.v_peak_mv),
            ));
        }
        if dt > 0.5 {
            return Err(ModelError::new(
                "simulation.dt_ms",
                dt,
                "the Izhikevich model is integrated with forward Euler and needs dt_ms <= 0.5",
            ));
        }
        check_synapse(at, dt, &self.synapse_params(), &self.g_exc_init, &self.g_inh_init)
    }

    fn build(&self, len: usize, dt: f64, rng: &mut Stream) -> Box<dyn NeuronChunk> {
        let v = draw_init(self.v_init_mv.as_ref().unwrap_or(&Init::Value(-65.0)), len, rng);
        let u = match &self.u_init {
            Some(init) => draw_init(init, len, rng),
            None => v.iter().map(|&v| self.b * v).collect(),
        };
        let g_exc = draw_init(&self.g_exc_init, len, rng);
        let g_inh = draw_init(&self.g_inh_init, len, rng);
        Box::new(IzhikevichChunk {
            params: self.clone(),
            dt,
            v,
            u,
            synapses: SynapticInput::new(&self.synapse_params(), dt, g_exc, g_inh),
            current: vec![0.0; len],
        })
    }
}

/// State of a chunk of Izhikevich neurons.
#[derive(Debug, Clone)]
pub struct IzhikevichChunk {
    params: Izhikevich,
    dt: f64,
    v: Vec<f64>,
    u: Vec<f64>,
    synapses: SynapticInput,
    /// Scratch: this step's synaptic current per neuron.
    current: Vec<f64>,
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

    fn update(&mut self, step: u64, _rng: &mut Stream, spikes: &mut Vec<u32>) -> bool {
        let p = &self.params;
        let dt = self.dt;
        if p.synapse == SynapseModel::Delta {
            for (v, &jump) in self.v.iter_mut().zip(self.synapses.jumps()) {
                *v += jump;
            }
        }
        self.synapses.currents(&self.v, &mut self.current);
        // Forward Euler, v first and u from the new v, as in the paper's code.
        for ((v, u), &i_syn) in self.v.iter_mut().zip(self.u.iter_mut()).zip(&self.current) {
            let dv = (0.04 * *v + 5.0) * *v + 140.0 - *u + p.i_bias + i_syn;
            *v += dt * dv;
            *u += dt * p.a * (p.b * *v - *u);
        }
        let mut finite = true;
        for (j, (v, u)) in self.v.iter_mut().zip(self.u.iter_mut()).enumerate() {
            if crossed(*v, p.v_peak_mv) {
                if v.is_finite() {
                    *v = p.c_mv;
                    *u += p.d;
                    spikes.push(j as u32);
                } else {
                    finite = false;
                }
            }
        }
        self.synapses.end_step(step);
        finite && self.u.iter().all(|u| u.is_finite())
    }

    fn variables(&self) -> &'static [&'static str] {
        self.params.variables()
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
        for (name, values) in [("v", &self.v), ("u", &self.u)] {
            if let Some(j) = values.iter().position(|x| !x.is_finite()) {
                return Some((j, name, values[j]));
            }
        }
        self.synapses.first_non_finite()
    }
}
