//! The model description: plain data, built either from a TOML experiment or
//! with the builder methods below. The engine (`crate::engine`) compiles it for
//! a time step and never knows which of the two produced it.
//!
//! Units are fixed per field and written in the field name (`_ms`, `_mv`,
//! `_pf`, `_pa`, `_ns`, `_hz`). Synaptic weights are in the unit of the target
//! population's synapse model: mV for `delta`, pA for `current_exp`, nS for
//! `conductance_exp`.

use crate::neuron::{Adex, Compartmental, Hh, Izhikevich, NeuronSpec, PinskyRinzel, Relu};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// A whole experiment: clock, populations, projections, monitors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Network {
    pub simulation: SimulationSpec,
    #[serde(default, skip_serializing_if = "NetworkSpec::is_default")]
    pub network: NetworkSpec,
    pub populations: IndexMap<String, Population>,
    #[serde(default)]
    pub projections: IndexMap<String, Projection>,
    #[serde(default)]
    pub monitors: Monitors,
    /// How `cognitron train` trains the network (read by `cognitron-learn`;
    /// the engine ignores it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training: Option<toml::Table>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulationSpec {
    /// Integration step (ms). 0.1 ms unless said otherwise.
    #[serde(default = "default_dt")]
    pub dt_ms: f64,
    /// Biological time to simulate (ms).
    pub duration_ms: f64,
    /// Seed of every random stream (connectivity, initial state, noise).
    #[serde(default)]
    pub seed: u64,
    /// Floating-point precision of the neuron state.
    #[serde(default, skip_serializing_if = "Precision::is_double")]
    pub precision: Precision,
}

/// `double` (f64, as Brian2 and NEST) or `single` (f32: half the memory
/// traffic and twice the vector width; propagators are still computed in
/// double precision and rounded once).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    #[default]
    Double,
    Single,
}

impl Precision {
    fn is_double(&self) -> bool {
        *self == Precision::Double
    }
}

fn default_dt() -> f64 {
    0.1
}

/// Whole-network options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkSpec {
    /// Multiplies every population size. Fixed-probability projections divide
    /// their probability by the same factor so that each neuron keeps the same
    /// expected number of inputs (the Brette et al. 2007 scaling).
    #[serde(default = "one")]
    pub scale: f64,
}

fn one() -> f64 {
    1.0
}

impl Default for NetworkSpec {
    fn default() -> Self {
        NetworkSpec { scale: 1.0 }
    }
}

impl NetworkSpec {
    fn is_default(&self) -> bool {
        *self == NetworkSpec::default()
    }
}

/// A population: neurons that share a model, or an input generator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "snake_case")]
pub enum Population {
    Lif(Lif),
    Izhikevich(Izhikevich),
    Compartmental(Compartmental),
    PinskyRinzel(PinskyRinzel),
    Hh(Hh),
    Adex(Adex),
    Relu(Relu),
    Poisson(PoissonSource),
    SpikeTimes(SpikeTimesSource),
}

/// The `model` names of input populations.
pub const INPUT_MODELS: &[&str] = &["poisson", "spike_times"];

/// The `model` names of neuron populations.
pub const NEURON_MODELS: &[&str] = &[
    "lif",
    "izhikevich",
    "compartmental",
    "pinsky_rinzel",
    "hh",
    "adex",
    "relu",
];

impl Population {
    pub fn size(&self) -> usize {
        match self {
            Population::Lif(p) => p.n,
            Population::Poisson(p) => p.n,
            Population::SpikeTimes(p) => p.n,
            other => other.neuron_spec().expect("a neuron model").size(),
        }
    }

    pub fn is_input(&self) -> bool {
        matches!(self, Population::Poisson(_) | Population::SpikeTimes(_))
    }

    /// The description of a neuron model other than LIF; None for LIF and inputs.
    pub fn neuron_spec(&self) -> Option<&dyn NeuronSpec> {
        match self {
            Population::Izhikevich(p) => Some(p),
            Population::Compartmental(p) => Some(p),
            Population::PinskyRinzel(p) => Some(p),
            Population::Hh(p) => Some(p),
            Population::Adex(p) => Some(p),
            Population::Relu(p) => Some(p),
            Population::Lif(_) | Population::Poisson(_) | Population::SpikeTimes(_) => None,
        }
    }

    /// How synaptic weights act on this population; None for inputs.
    pub fn synapse(&self) -> Option<SynapseModel> {
        match self {
            Population::Lif(lif) => Some(lif.synapse),
            other => other.neuron_spec().map(|spec| spec.synapse()),
        }
    }

    /// Recordable state variables (empty for inputs).
    pub fn variables(&self) -> &'static [&'static str] {
        match self {
            Population::Lif(_) => &["v", "g_exc", "g_inh"],
            other => other.neuron_spec().map(|spec| spec.variables()).unwrap_or(&[]),
        }
    }
}

/// The TOML fields of a neuron model other than LIF (its own and the shared
/// synapse fields); None for any other name.
pub fn model_fields(model: &str) -> Option<Vec<&'static FieldSpec>> {
    let own = match model {
        "izhikevich" => crate::neuron::izhikevich::FIELDS,
        "compartmental" => crate::neuron::compartmental::FIELDS,
        "pinsky_rinzel" => crate::neuron::pinsky_rinzel::FIELDS,
        "hh" => crate::neuron::hh::FIELDS,
        "adex" => crate::neuron::adex::FIELDS,
        "relu" => crate::neuron::relu::FIELDS,
        _ => return None,
    };
    Some(own.iter().chain(SYNAPSE_FIELDS).collect())
}

/// What a TOML field holds, for the schema check that runs before serde.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Number,
    /// A non-negative integer.
    Integer,
    Bool,
    Text,
    /// A number or a distribution: `{ uniform = [lo, hi] }` or `{ normal = [mean, sd], min = .. }`.
    Init,
    /// One of the given strings.
    Choice(&'static [&'static str]),
    /// An array of strings, each one of the given ones.
    Choices(&'static [&'static str]),
    /// An array of tables (`[[x.name]]`), each with these fields.
    Tables(&'static [FieldSpec]),
    /// A list of `[x, y]` number pairs, e.g. a schedule; the text names the shape.
    Pairs(&'static str),
    /// Anything; checked by the model's own parsing.
    Any,
}

/// One field of a model's TOML table. Its unit is the name's suffix
/// (`_ms`, `_mv`, `_pa`, `_pf`, `_ns`, `_hz`, `_um`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    pub name: &'static str,
    pub kind: FieldKind,
    pub required: bool,
    /// What it is, with its unit and, where it matters, its source.
    pub doc: &'static str,
}

impl FieldSpec {
    pub const fn required(name: &'static str, kind: FieldKind, doc: &'static str) -> Self {
        FieldSpec {
            name,
            kind,
            required: true,
            doc,
        }
    }

    pub const fn optional(name: &'static str, kind: FieldKind, doc: &'static str) -> Self {
        FieldSpec {
            name,
            kind,
            required: false,
            doc,
        }
    }
}

/// The synapse fields every neuron model shares (see `SynapseModel`).
pub const SYNAPSE_FIELDS: &[FieldSpec] = &[
    FieldSpec::required("model", FieldKind::Text, "the neuron model"),
    FieldSpec::optional(
        "synapse",
        FieldKind::Choice(&["delta", "current_exp", "conductance_exp"]),
        "how weights act: delta (mV jump), current_exp (pA), conductance_exp (nS)",
    ),
    FieldSpec::optional(
        "tau_exc_ms",
        FieldKind::Number,
        "excitatory synaptic time constant (ms)",
    ),
    FieldSpec::optional(
        "tau_inh_ms",
        FieldKind::Number,
        "inhibitory synaptic time constant (ms)",
    ),
    FieldSpec::optional(
        "e_exc_mv",
        FieldKind::Number,
        "excitatory reversal potential (mV), conductance_exp",
    ),
    FieldSpec::optional(
        "e_inh_mv",
        FieldKind::Number,
        "inhibitory reversal potential (mV), conductance_exp",
    ),
    FieldSpec::optional(
        "g_exc_init",
        FieldKind::Init,
        "initial excitatory current (pA) or conductance (nS)",
    ),
    FieldSpec::optional(
        "g_inh_init",
        FieldKind::Init,
        "initial inhibitory current (pA) or conductance (nS)",
    ),
];

/// Leaky integrate-and-fire neurons with a refractory period
/// (Lapicque 1907; the form of Brette et al. 2007, benchmarks 1 and 2).
///
/// `C dv/dt = -(C/tau_m)(v - e_l) + I_syn + i_bias`; on `v >= v_th`, a spike,
/// `v = v_reset` and v is clamped for `t_ref_ms`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lif {
    pub n: usize,
    /// Membrane time constant (ms).
    pub tau_m_ms: f64,
    /// Membrane capacitance (pF). Leak conductance is c_m / tau_m.
    #[serde(default = "default_cm")]
    pub c_m_pf: f64,
    /// Resting (leak reversal) potential (mV).
    pub e_l_mv: f64,
    /// Threshold (mV).
    pub v_th_mv: f64,
    /// Reset potential (mV).
    pub v_reset_mv: f64,
    /// Absolute refractory period (ms).
    #[serde(default)]
    pub t_ref_ms: f64,
    /// Constant injected current (pA).
    #[serde(default)]
    pub i_bias_pa: f64,
    pub synapse: SynapseModel,
    /// Excitatory synaptic time constant (ms); unused for `delta`.
    #[serde(default = "default_tau_exc")]
    pub tau_exc_ms: f64,
    /// Inhibitory synaptic time constant (ms); unused for `delta`.
    #[serde(default = "default_tau_inh")]
    pub tau_inh_ms: f64,
    /// Excitatory reversal potential (mV), `conductance_exp` only.
    #[serde(default)]
    pub e_exc_mv: f64,
    /// Inhibitory reversal potential (mV), `conductance_exp` only.
    #[serde(default = "default_e_inh")]
    pub e_inh_mv: f64,
    /// Initial membrane potential (mV); defaults to `e_l_mv`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub v_init_mv: Option<Init>,
    /// Initial excitatory synaptic state (pA or nS).
    #[serde(default, skip_serializing_if = "Init::is_zero")]
    pub g_exc_init: Init,
    /// Initial inhibitory synaptic state (pA or nS).
    #[serde(default, skip_serializing_if = "Init::is_zero")]
    pub g_inh_init: Init,
    /// Independent Poisson inputs into every neuron (e.g. Brunel's external drive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<ExternalDrive>,
    /// Adaptive threshold (homeostasis, Diehl & Cook 2015): each spike raises
    /// the neuron's threshold by this much (mV); 0 turns it off.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub theta_plus_mv: f64,
    /// Decay time constant of the threshold increase (ms); Diehl & Cook: 1e7.
    #[serde(default = "default_tau_theta")]
    pub tau_theta_ms: f64,
    /// Intrinsic plasticity: with a target rate, the threshold also falls
    /// steadily by `theta_plus_mv * target_rate_hz` per second, so that
    /// each neuron's excitability settles where it fires at the target
    /// rate (threshold adaptation towards a set point; 0 = off).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub target_rate_hz: f64,
    /// Winner-take-all within the population: `hard` lets at most one neuron
    /// spike per step (one of those that cross, drawn at random; the others
    /// reset silently, as BindsNET's `one_spike`); `soft` makes every spike
    /// lower the membrane potential of all the other neurons by
    /// `wta_inhibition_mv` in the next step (lateral inhibition without an
    /// inhibitory population).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wta: Option<Wta>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub wta_inhibition_mv: f64,
}

/// Winner-take-all inside a population.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Wta {
    Hard,
    Soft,
}

fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

fn default_tau_theta() -> f64 {
    1e7
}

fn default_cm() -> f64 {
    250.0
}
pub(crate) fn default_tau_exc() -> f64 {
    5.0
}
pub(crate) fn default_tau_inh() -> f64 {
    10.0
}
pub(crate) fn default_e_inh() -> f64 {
    -80.0
}

impl Lif {
    /// A LIF population with the given membrane parameters and delta synapses;
    /// change the rest with struct update syntax.
    pub fn new(n: usize, tau_m_ms: f64, e_l_mv: f64, v_th_mv: f64, v_reset_mv: f64) -> Self {
        Lif {
            n,
            tau_m_ms,
            c_m_pf: default_cm(),
            e_l_mv,
            v_th_mv,
            v_reset_mv,
            t_ref_ms: 0.0,
            i_bias_pa: 0.0,
            synapse: SynapseModel::Delta,
            tau_exc_ms: default_tau_exc(),
            tau_inh_ms: default_tau_inh(),
            e_exc_mv: 0.0,
            e_inh_mv: default_e_inh(),
            v_init_mv: None,
            g_exc_init: Init::Value(0.0),
            g_inh_init: Init::Value(0.0),
            external: None,
            theta_plus_mv: 0.0,
            tau_theta_ms: default_tau_theta(),
            target_rate_hz: 0.0,
            wta: None,
            wta_inhibition_mv: 0.0,
        }
    }
}

/// How a spike changes the postsynaptic neuron.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SynapseModel {
    /// The membrane potential jumps by the weight (mV).
    Delta,
    /// Exponentially decaying current; the weight is the jump in pA.
    CurrentExp,
    /// Exponentially decaying conductance with a reversal potential; weight in nS.
    ConductanceExp,
}

impl SynapseModel {
    pub fn weight_unit(self) -> &'static str {
        match self {
            SynapseModel::Delta => "mV",
            SynapseModel::CurrentExp => "pA",
            SynapseModel::ConductanceExp => "nS",
        }
    }
}

/// `count` independent Poisson spike trains of `rate_hz`, each with `weight`,
/// into every neuron of the population; drawn per neuron and step as one
/// Poisson number (which is exact for independent trains).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExternalDrive {
    pub count: u32,
    pub rate_hz: f64,
    pub weight: f64,
    #[serde(default)]
    pub receptor: Receptor,
}

/// Initial value of a state variable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Init {
    Value(f64),
    Uniform {
        uniform: [f64; 2],
    },
    Normal {
        normal: [f64; 2],
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<f64>,
    },
}

impl Default for Init {
    fn default() -> Self {
        Init::Value(0.0)
    }
}

impl Init {
    pub(crate) fn is_zero(&self) -> bool {
        *self == Init::Value(0.0)
    }
}

/// Independent Poisson spike trains, one per neuron.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoissonSource {
    pub n: usize,
    /// Constant rate (Hz); or give `schedule` instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_hz: Option<f64>,
    /// Piecewise-constant rate: `[[t_ms, rate_hz], ...]`, times increasing,
    /// the first at 0.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schedule: Vec<[f64; 2]>,
}

/// Spikes at explicit times: `spikes = [[neuron, t_ms], ...]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpikeTimesSource {
    pub n: usize,
    pub spikes: Vec<(u32, f64)>,
}

/// Which synaptic variable of the target a projection drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Receptor {
    #[default]
    Exc,
    Inh,
}

/// Synapses from one population to another.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Projection {
    pub from: String,
    pub to: String,
    pub connect: Connector,
    /// Ignored by `explicit` connectors, whose entries carry their own.
    #[serde(default)]
    pub weight: Weight,
    /// Axonal + synaptic delay (ms), at least one step. A range
    /// `{ uniform = [lo, hi] }` gives per-synapse delays.
    #[serde(default = "default_delay")]
    pub delay_ms: Delay,
    /// Defaults to `exc` for non-negative weights and `inh` otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receptor: Option<Receptor>,
    /// A learning rule that changes the weights while the network runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plasticity: Option<crate::plasticity::Plasticity>,
}

fn default_delay() -> Delay {
    Delay::Value(0.1)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Weight {
    /// One weight for every synapse: stored once, not per synapse.
    Value(f64),
    Uniform {
        uniform: [f64; 2],
    },
    Normal {
        normal: [f64; 2],
    },
}

impl Default for Weight {
    fn default() -> Self {
        Weight::Value(0.0)
    }
}

impl Projection {
    /// The receptor driven: as given, or from the sign of the (mean) weight;
    /// for explicit synapses, from the sign of their summed weights.
    pub fn receptor(&self) -> Receptor {
        if let Some(r) = self.receptor {
            return r;
        }
        let sign = match &self.connect {
            Connector::Explicit { synapses } => synapses.iter().map(|s| s.2).sum::<f64>(),
            _ => self.weight.mean(),
        };
        if sign >= 0.0 {
            Receptor::Exc
        } else {
            Receptor::Inh
        }
    }
}

impl Weight {
    /// Mean of the distribution, used to pick the receptor from its sign.
    pub fn mean(&self) -> f64 {
        match *self {
            Weight::Value(w) => w,
            Weight::Uniform { uniform: [a, b] } => 0.5 * (a + b),
            Weight::Normal { normal: [m, _] } => m,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Delay {
    Value(f64),
    Uniform { uniform: [f64; 2] },
}

/// Connection rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Connector {
    /// Each (pre, post) pair independently with probability `p`.
    FixedProbability {
        p: f64,
        #[serde(default = "yes")]
        allow_autapses: bool,
    },
    /// Each post neuron gets exactly `k` inputs, drawn uniformly.
    FixedIndegree {
        k: usize,
        #[serde(default = "yes")]
        allow_autapses: bool,
        #[serde(default = "yes")]
        allow_multapses: bool,
    },
    OneToOne,
    AllToAll {
        #[serde(default = "yes")]
        allow_autapses: bool,
        /// No synapse from neuron i to neuron i of the target population
        /// (Diehl & Cook's inhibition of every excitatory neuron but the one
        /// that drives it).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        except_same_index: bool,
    },
    /// Explicit synapses: `synapses = [[pre, post, weight, delay_ms], ...]`.
    Explicit {
        synapses: Vec<(u32, u32, f64, f64)>,
    },
}

fn yes() -> bool {
    true
}

/// What to record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Monitors {
    /// Populations whose spikes are recorded: `"all"` or a list of neuron
    /// indices per population. Unlisted populations are not recorded; when
    /// the table is empty, every population is recorded in full.
    #[serde(default)]
    pub spikes: IndexMap<String, NeuronSelection>,
    /// Membrane and synaptic state of chosen neurons.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub state: Vec<StateMonitor>,
    /// Bin of the population rate (ms); spike counts per bin for every population.
    #[serde(default = "default_rate_bin")]
    pub rate_bin_ms: f64,
}

fn default_rate_bin() -> f64 {
    1.0
}

impl Default for Monitors {
    fn default() -> Self {
        Monitors {
            spikes: IndexMap::new(),
            state: Vec::new(),
            rate_bin_ms: default_rate_bin(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum NeuronSelection {
    /// `"all"` or `"none"`.
    Keyword(String),
    Indices(Vec<u32>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateMonitor {
    pub population: String,
    /// Any of `v`, `g_exc`, `g_inh`.
    pub variables: Vec<String>,
    pub neurons: Vec<u32>,
    #[serde(default = "default_dt")]
    pub interval_ms: f64,
}

/// Builder API: the same model as a TOML experiment, from Rust.
impl Network {
    pub fn new(dt_ms: f64, duration_ms: f64, seed: u64) -> Self {
        Network {
            simulation: SimulationSpec {
                dt_ms,
                duration_ms,
                seed,
                precision: Precision::Double,
            },
            network: NetworkSpec::default(),
            populations: IndexMap::new(),
            projections: IndexMap::new(),
            monitors: Monitors::default(),
            training: None,
        }
    }

    pub fn population(mut self, name: &str, population: Population) -> Self {
        self.populations.insert(name.to_string(), population);
        self
    }

    pub fn lif(self, name: &str, lif: Lif) -> Self {
        self.population(name, Population::Lif(lif))
    }

    pub fn poisson(self, name: &str, n: usize, rate_hz: f64) -> Self {
        self.population(
            name,
            Population::Poisson(PoissonSource {
                n,
                rate_hz: Some(rate_hz),
                schedule: Vec::new(),
            }),
        )
    }

    pub fn spike_times(self, name: &str, n: usize, spikes: Vec<(u32, f64)>) -> Self {
        self.population(name, Population::SpikeTimes(SpikeTimesSource { n, spikes }))
    }

    pub fn project(mut self, name: &str, from: &str, to: &str, connect: Connector, weight: f64, delay_ms: f64) -> Self {
        self.projections.insert(
            name.to_string(),
            Projection {
                from: from.to_string(),
                to: to.to_string(),
                connect,
                weight: Weight::Value(weight),
                delay_ms: Delay::Value(delay_ms),
                receptor: None,
                plasticity: None,
            },
        );
        self
    }

    /// Makes a projection plastic.
    pub fn plasticity(mut self, projection: &str, rule: crate::plasticity::Plasticity) -> Self {
        self.projections
            .get_mut(projection)
            .unwrap_or_else(|| panic!("no projection `{projection}`"))
            .plasticity = Some(rule);
        self
    }

    pub fn record_state(mut self, population: &str, variables: &[&str], neurons: &[u32]) -> Self {
        self.monitors.state.push(StateMonitor {
            population: population.to_string(),
            variables: variables.iter().map(|s| s.to_string()).collect(),
            neurons: neurons.to_vec(),
            interval_ms: self.simulation.dt_ms,
        });
        self
    }

    /// The experiment as TOML text; parsing it gives back the same model.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a Network always serialises")
    }

    /// Total neurons after scaling.
    pub fn scaled_size(&self, population: &Population) -> usize {
        match population {
            Population::SpikeTimes(p) => p.n,
            _ => ((population.size() as f64) * self.network.scale).round() as usize,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: explicit synapses carry their own weights, so the
    /// projection's default `weight` (0) must not decide the receptor.
    #[test]
    fn explicit_negative_weights_drive_the_inhibitory_receptor() {
        let projection = Projection {
            from: "a".into(),
            to: "b".into(),
            connect: Connector::Explicit {
                synapses: vec![(0, 0, -100.0, 0.1)],
            },
            weight: Weight::default(),
            delay_ms: Delay::Value(0.1),
            receptor: None,
            plasticity: None,
        };
        assert_eq!(projection.receptor(), Receptor::Inh);
    }

    /// Regression: a file without `[monitors]` gets the documented 1 ms rate bin.
    #[test]
    fn missing_monitors_table_has_default_rate_bin() {
        let network: Network = toml::from_str(
            "[simulation]\nduration_ms = 1.0\n[populations.p]\nmodel = \"poisson\"\nn = 1\nrate_hz = 1.0\n",
        )
        .unwrap();
        assert_eq!(network.monitors.rate_bin_ms, 1.0);
    }
}
