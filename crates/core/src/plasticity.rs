//! Synaptic plasticity rules that attach to projections
//! (`[projections.NAME.plasticity]`), and their per-step compiled form.
//!
//! Every rule is trace based: each presynaptic neuron carries traces that
//! jump at the spike's arrival at the synapse and decay exponentially, each
//! postsynaptic neuron traces of its own spikes. A presynaptic arrival
//! depresses by the postsynaptic traces, a postsynaptic spike potentiates by
//! the presynaptic ones.
//!
//! Timing: an arrival in step t and a postsynaptic spike in the same step
//! count as pre before post (the input is applied before the neuron is
//! advanced, so it can cause the spike): potentiation with the presynaptic
//! trace at 1. A postsynaptic spike in step t and an arrival in step t + k
//! depress by the postsynaptic trace after k steps. An arrival is the spike
//! plus the projection's delay, as in Brian2's `on_pre`.

use serde::{Deserialize, Serialize};

use crate::model::{FieldKind, FieldSpec};

/// How a trace responds to a spike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pairing {
    /// Traces add up (`x += 1`): every earlier spike pairs with every later one.
    #[default]
    All,
    /// Traces are set (`x = 1`): a spike pairs only with the nearest spike
    /// of the other side (Morrison et al. 2008, "symmetric nearest").
    Nearest,
}

/// How the size of a change depends on the current weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WeightDependence {
    /// Fixed steps, clipped to `[w_min, w_max]` (Song et al. 2000).
    #[default]
    Additive,
    /// Soft bounds: potentiation scales with `w_max - w`, depression with
    /// `w - w_min` (van Rossum et al. 2000).
    Multiplicative,
}

/// A plasticity rule and its parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Plasticity {
    Stdp(Stdp),
    Triplet(Triplet),
    DiehlCook(DiehlCook),
}

/// Pair-based STDP (Bi & Poo 1998; Song, Miller & Abbott 2000): a pair at
/// `dt = t_post - t_pre` changes w by `a_plus exp(-dt/tau_plus)` for dt >= 0
/// and `-a_minus exp(dt/tau_minus)` for dt < 0.
// Unknown fields are refused by the schema check before serde
// (`deny_unknown_fields` does not combine with `flatten`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stdp {
    #[serde(default = "default_a_plus")]
    pub a_plus: f64,
    #[serde(default = "default_a_minus")]
    pub a_minus: f64,
    #[serde(default = "default_tau_20")]
    pub tau_plus_ms: f64,
    #[serde(default = "default_tau_20")]
    pub tau_minus_ms: f64,
    #[serde(default)]
    pub pairing: Pairing,
    #[serde(default)]
    pub weight_dependence: WeightDependence,
    #[serde(flatten)]
    pub bounds: Bounds,
}

/// Triplet STDP (Pfister & Gerstner 2006). Defaults:
/// their visual-cortex fit (Table 4, full model, all-to-all): A2+ = 5e-10, A3+ = 6.2e-3,
/// A2- = 7e-3, A3- = 2.3e-4, tau+ = 16.8, tau- = 33.7, tau_x = 101,
/// tau_y = 125 ms. With `pairing = "nearest"` their nearest-spike fit is
/// A2+ = 8.8e-11, A3+ = 5.3e-2, A2- = 6.6e-3, A3- = 3.1e-3, tau_x = 714,
/// tau_y = 40 ms.
// Unknown fields are refused by the schema check before serde
// (`deny_unknown_fields` does not combine with `flatten`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Triplet {
    #[serde(default = "default_a2_plus")]
    pub a2_plus: f64,
    #[serde(default = "default_a3_plus")]
    pub a3_plus: f64,
    #[serde(default = "default_a2_minus")]
    pub a2_minus: f64,
    #[serde(default = "default_a3_minus")]
    pub a3_minus: f64,
    #[serde(default = "default_tau_plus_pg")]
    pub tau_plus_ms: f64,
    #[serde(default = "default_tau_minus_pg")]
    pub tau_minus_ms: f64,
    #[serde(default = "default_tau_x")]
    pub tau_x_ms: f64,
    #[serde(default = "default_tau_y")]
    pub tau_y_ms: f64,
    #[serde(default)]
    pub pairing: Pairing,
    #[serde(flatten)]
    pub bounds: Bounds,
}

/// The rule of Diehl & Cook (2015), eq. 3: on a postsynaptic spike
/// `dw = eta_post (x_pre - x_tar) (w_max - w)^mu`, so that inputs that did
/// not fire recently are weakened; optionally, on a presynaptic spike,
/// `dw = -eta_pre x_post` (their published code's depression).
// Unknown fields are refused by the schema check before serde
// (`deny_unknown_fields` does not combine with `flatten`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiehlCook {
    #[serde(default = "default_eta_post")]
    pub eta_post: f64,
    #[serde(default)]
    pub eta_pre: f64,
    #[serde(default = "default_x_tar")]
    pub x_tar: f64,
    #[serde(default = "one")]
    pub mu: f64,
    #[serde(default = "default_tau_20")]
    pub tau_pre_ms: f64,
    #[serde(default = "default_tau_20")]
    pub tau_post_ms: f64,
    #[serde(default = "nearest")]
    pub pairing: Pairing,
    #[serde(flatten)]
    pub bounds: Bounds,
}

/// Weight bounds and normalisation, shared by every rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bounds {
    #[serde(default)]
    pub w_min: f64,
    #[serde(default = "one")]
    pub w_max: f64,
    /// Scale each postsynaptic neuron's incoming weights to this sum
    /// (Diehl & Cook: 78; BindsNET: 78.4) every `normalize_interval_ms`
    /// and at every presentation of `cognitron train`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normalize_sum: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normalize_interval_ms: Option<f64>,
}

fn default_a_plus() -> f64 {
    0.01
}
fn default_a_minus() -> f64 {
    0.0105
}
fn default_tau_20() -> f64 {
    20.0
}
fn default_a2_plus() -> f64 {
    5e-10
}
fn default_a3_plus() -> f64 {
    6.2e-3
}
fn default_a2_minus() -> f64 {
    7e-3
}
fn default_a3_minus() -> f64 {
    2.3e-4
}
fn default_tau_plus_pg() -> f64 {
    16.8
}
fn default_tau_minus_pg() -> f64 {
    33.7
}
fn default_tau_x() -> f64 {
    101.0
}
fn default_tau_y() -> f64 {
    125.0
}
fn default_eta_post() -> f64 {
    0.01
}
fn default_x_tar() -> f64 {
    0.4
}
fn one() -> f64 {
    1.0
}
fn nearest() -> Pairing {
    Pairing::Nearest
}

const PAIRING: FieldKind = FieldKind::Choice(&["all", "nearest"]);

const BOUND_FIELDS: &[FieldSpec] = &[
    FieldSpec::optional("w_min", FieldKind::Number, "lower weight bound, 0"),
    FieldSpec::optional("w_max", FieldKind::Number, "upper weight bound, 1"),
    FieldSpec::optional(
        "normalize_sum",
        FieldKind::Number,
        "scale each postsynaptic neuron's incoming weights to this sum (Diehl & Cook 2015: 78)",
    ),
    FieldSpec::optional(
        "normalize_interval_ms",
        FieldKind::Number,
        "how often `cognitron run` normalises (ms); `cognitron train` does at every image",
    ),
];

pub const STDP_FIELDS: &[FieldSpec] = &[
    FieldSpec::required("rule", FieldKind::Text, "\"stdp\""),
    FieldSpec::optional("a_plus", FieldKind::Number, "potentiation per pair at dt = 0, 0.01"),
    FieldSpec::optional("a_minus", FieldKind::Number, "depression per pair at dt = 0, 0.0105"),
    FieldSpec::optional(
        "tau_plus_ms",
        FieldKind::Number,
        "presynaptic trace time constant (ms), 20",
    ),
    FieldSpec::optional(
        "tau_minus_ms",
        FieldKind::Number,
        "postsynaptic trace time constant (ms), 20",
    ),
    FieldSpec::optional("pairing", PAIRING, "all (traces add) or nearest (traces set to 1), all"),
    FieldSpec::optional(
        "weight_dependence",
        FieldKind::Choice(&["additive", "multiplicative"]),
        "additive (clipped) or multiplicative (soft bounds), additive",
    ),
];

pub const TRIPLET_FIELDS: &[FieldSpec] = &[
    FieldSpec::required("rule", FieldKind::Text, "\"triplet\""),
    FieldSpec::optional(
        "a2_plus",
        FieldKind::Number,
        "pair potentiation, 5e-10 (Pfister & Gerstner 2006, visual cortex)",
    ),
    FieldSpec::optional("a3_plus", FieldKind::Number, "triplet potentiation, 6.2e-3"),
    FieldSpec::optional("a2_minus", FieldKind::Number, "pair depression, 7e-3"),
    FieldSpec::optional("a3_minus", FieldKind::Number, "triplet depression, 2.3e-4"),
    FieldSpec::optional("tau_plus_ms", FieldKind::Number, "fast presynaptic trace r1 (ms), 16.8"),
    FieldSpec::optional(
        "tau_minus_ms",
        FieldKind::Number,
        "fast postsynaptic trace o1 (ms), 33.7",
    ),
    FieldSpec::optional("tau_x_ms", FieldKind::Number, "slow presynaptic trace r2 (ms), 101"),
    FieldSpec::optional("tau_y_ms", FieldKind::Number, "slow postsynaptic trace o2 (ms), 125"),
    FieldSpec::optional("pairing", PAIRING, "all or nearest, all"),
];

pub const DIEHL_COOK_FIELDS: &[FieldSpec] = &[
    FieldSpec::required("rule", FieldKind::Text, "\"diehl_cook\""),
    FieldSpec::optional(
        "eta_post",
        FieldKind::Number,
        "learning rate at postsynaptic spikes, 0.01",
    ),
    FieldSpec::optional(
        "eta_pre",
        FieldKind::Number,
        "depression per presynaptic spike times x_post, 0",
    ),
    FieldSpec::optional(
        "x_tar",
        FieldKind::Number,
        "target presynaptic trace at a postsynaptic spike, 0.4",
    ),
    FieldSpec::optional("mu", FieldKind::Number, "weight dependence exponent, 1"),
    FieldSpec::optional("tau_pre_ms", FieldKind::Number, "presynaptic trace (ms), 20"),
    FieldSpec::optional("tau_post_ms", FieldKind::Number, "postsynaptic trace (ms), 20"),
    FieldSpec::optional("pairing", PAIRING, "all or nearest, nearest"),
];

pub const RULES: &[&str] = &["stdp", "triplet", "diehl_cook"];

/// The fields of one rule's table, bounds included.
pub fn rule_fields(rule: &str) -> Option<Vec<&'static FieldSpec>> {
    let own = match rule {
        "stdp" => STDP_FIELDS,
        "triplet" => TRIPLET_FIELDS,
        "diehl_cook" => DIEHL_COOK_FIELDS,
        _ => return None,
    };
    Some(own.iter().chain(BOUND_FIELDS).collect())
}

impl Plasticity {
    pub fn bounds(&self) -> &Bounds {
        match self {
            Plasticity::Stdp(r) => &r.bounds,
            Plasticity::Triplet(r) => &r.bounds,
            Plasticity::DiehlCook(r) => &r.bounds,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Plasticity::Stdp(_) => "stdp",
            Plasticity::Triplet(_) => "triplet",
            Plasticity::DiehlCook(_) => "diehl_cook",
        }
    }

    /// Every parameter with its field name, for range checks.
    pub fn parameters(&self) -> Vec<(&'static str, f64)> {
        let mut p = match self {
            Plasticity::Stdp(r) => vec![
                ("a_plus", r.a_plus),
                ("a_minus", r.a_minus),
                ("tau_plus_ms", r.tau_plus_ms),
                ("tau_minus_ms", r.tau_minus_ms),
            ],
            Plasticity::Triplet(r) => vec![
                ("a2_plus", r.a2_plus),
                ("a3_plus", r.a3_plus),
                ("a2_minus", r.a2_minus),
                ("a3_minus", r.a3_minus),
                ("tau_plus_ms", r.tau_plus_ms),
                ("tau_minus_ms", r.tau_minus_ms),
                ("tau_x_ms", r.tau_x_ms),
                ("tau_y_ms", r.tau_y_ms),
            ],
            Plasticity::DiehlCook(r) => vec![
                ("eta_post", r.eta_post),
                ("eta_pre", r.eta_pre),
                ("x_tar", r.x_tar),
                ("mu", r.mu),
                ("tau_pre_ms", r.tau_pre_ms),
                ("tau_post_ms", r.tau_post_ms),
            ],
        };
        let b = self.bounds();
        p.push(("w_min", b.w_min));
        p.push(("w_max", b.w_max));
        p
    }

    /// Range problems as (field, value, reason); empty when valid.
    pub fn problems(&self) -> Vec<(&'static str, f64, String)> {
        let mut out = Vec::new();
        for (name, value) in self.parameters() {
            if !value.is_finite() {
                out.push((name, value, "must be a finite number".to_string()));
            } else if name.ends_with("_ms") && value <= 0.0 {
                out.push((name, value, "a time constant must be > 0".to_string()));
            } else if (name.starts_with('a') || name.starts_with("eta")) && value < 0.0 {
                out.push((
                    name,
                    value,
                    "an amplitude must be >= 0 (the sign is the rule's: plus potentiates, minus depresses)".to_string(),
                ));
            }
        }
        let b = self.bounds();
        if b.w_min.is_finite() && b.w_max.is_finite() && b.w_min > b.w_max {
            out.push(("w_min", b.w_min, format!("must be <= w_max ({})", b.w_max)));
        }
        if let Plasticity::DiehlCook(r) = self {
            if r.mu < 0.0 {
                out.push(("mu", r.mu, "must be >= 0".to_string()));
            }
        }
        if let Some(s) = b.normalize_sum {
            if !(s.is_finite() && s > 0.0) {
                out.push(("normalize_sum", s, "must be a finite number > 0".to_string()));
            }
        }
        if let Some(t) = b.normalize_interval_ms {
            if !(t.is_finite() && t > 0.0) {
                out.push(("normalize_interval_ms", t, "must be > 0".to_string()));
            }
            if b.normalize_sum.is_none() {
                out.push(("normalize_interval_ms", t, "needs normalize_sum".to_string()));
            }
        }
        out
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Update {
    Pair(WeightDependence),
    Triplet,
    DiehlCook { x_tar: f64, mu: f64 },
}

/// A rule compiled for one time step. Traces: presynaptic r1 (and r2 for
/// the triplet rule), postsynaptic o1 (and o2).
#[derive(Debug, Clone)]
pub struct PlasticityKernel {
    update: Update,
    pub nearest: bool,
    /// Per-step decay of r1, r2 and of o1, o2.
    pub pre_decay: [f64; 2],
    pub post_decay: [f64; 2],
    /// Traces used: 1 or 2 on each side.
    pub traces: usize,
    /// Potentiation and depression amplitudes (pair, then triplet terms).
    plus: [f64; 2],
    minus: [f64; 2],
    pub w_min: f64,
    pub w_max: f64,
}

impl PlasticityKernel {
    pub fn new(rule: &Plasticity, dt_ms: f64) -> Self {
        let decay = |tau: f64| (-dt_ms / tau).exp();
        let b = rule.bounds();
        let (update, nearest, pre, post, plus, minus, traces) = match rule {
            Plasticity::Stdp(r) => (
                Update::Pair(r.weight_dependence),
                r.pairing == Pairing::Nearest,
                [decay(r.tau_plus_ms), 0.0],
                [decay(r.tau_minus_ms), 0.0],
                [r.a_plus, 0.0],
                [r.a_minus, 0.0],
                1,
            ),
            Plasticity::Triplet(r) => (
                Update::Triplet,
                r.pairing == Pairing::Nearest,
                [decay(r.tau_plus_ms), decay(r.tau_x_ms)],
                [decay(r.tau_minus_ms), decay(r.tau_y_ms)],
                [r.a2_plus, r.a3_plus],
                [r.a2_minus, r.a3_minus],
                2,
            ),
            Plasticity::DiehlCook(r) => (
                Update::DiehlCook {
                    x_tar: r.x_tar,
                    mu: r.mu,
                },
                r.pairing == Pairing::Nearest,
                [decay(r.tau_pre_ms), 0.0],
                [decay(r.tau_post_ms), 0.0],
                [r.eta_post, 0.0],
                [r.eta_pre, 0.0],
                1,
            ),
        };
        PlasticityKernel {
            update,
            nearest,
            pre_decay: pre,
            post_decay: post,
            traces,
            plus,
            minus,
            w_min: b.w_min,
            w_max: b.w_max,
        }
    }

    /// A trace's value after a spike.
    #[inline(always)]
    pub fn bump(&self, x: f64) -> f64 {
        if self.nearest {
            1.0
        } else {
            x + 1.0
        }
    }

    /// The weight after a presynaptic arrival: `post` are the target's
    /// traces now, `r2_before` the slow presynaptic trace just before this
    /// arrival.
    #[inline(always)]
    pub fn on_pre(&self, w: f32, post: [f64; 2], r2_before: f64) -> f32 {
        let w = w as f64;
        let dw = match self.update {
            Update::Pair(WeightDependence::Additive) | Update::DiehlCook { .. } => -self.minus[0] * post[0],
            Update::Pair(WeightDependence::Multiplicative) => -self.minus[0] * post[0] * (w - self.w_min),
            Update::Triplet => -post[0] * (self.minus[0] + self.minus[1] * r2_before),
        };
        (w + dw).clamp(self.w_min, self.w_max) as f32
    }

    /// The weight after a postsynaptic spike: `pre` are the source's traces
    /// (this step's arrivals included), `post_before` the target's traces
    /// just before this spike.
    #[inline(always)]
    pub fn on_post(&self, w: f32, pre: [f64; 2], post_before: [f64; 2]) -> f32 {
        let w = w as f64;
        let dw = match self.update {
            Update::Pair(WeightDependence::Additive) => self.plus[0] * pre[0],
            Update::Pair(WeightDependence::Multiplicative) => self.plus[0] * pre[0] * (self.w_max - w),
            Update::Triplet => pre[0] * (self.plus[0] + self.plus[1] * post_before[1]),
            Update::DiehlCook { x_tar, mu } => {
                let room = (self.w_max - w).max(0.0);
                let factor = if mu == 1.0 { room } else { room.powf(mu) };
                self.plus[0] * (pre[0] - x_tar) * factor
            }
        };
        (w + dw).clamp(self.w_min, self.w_max) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stdp(dependence: WeightDependence) -> Plasticity {
        Plasticity::Stdp(Stdp {
            a_plus: 0.01,
            a_minus: 0.012,
            tau_plus_ms: 20.0,
            tau_minus_ms: 20.0,
            pairing: Pairing::All,
            weight_dependence: dependence,
            bounds: Bounds {
                w_min: 0.0,
                w_max: 1.0,
                normalize_sum: None,
                normalize_interval_ms: None,
            },
        })
    }

    #[test]
    fn additive_steps_are_clipped_to_the_bounds() {
        let k = PlasticityKernel::new(&stdp(WeightDependence::Additive), 0.1);
        assert_eq!(k.on_post(0.995, [1.0, 0.0], [0.0; 2]), 1.0);
        assert_eq!(k.on_pre(0.005, [1.0, 0.0], 0.0), 0.0);
        assert!((k.on_post(0.5, [0.5, 0.0], [0.0; 2]) - 0.505).abs() < 1e-7);
    }

    #[test]
    fn multiplicative_steps_shrink_towards_the_bounds() {
        let k = PlasticityKernel::new(&stdp(WeightDependence::Multiplicative), 0.1);
        // 0.01 * (1 - 0.9) = 0.001; 0.012 * 0.1 = 0.0012.
        assert!((k.on_post(0.9, [1.0, 0.0], [0.0; 2]) - 0.901).abs() < 1e-7);
        assert!((k.on_pre(0.1, [1.0, 0.0], 0.0) - 0.0988).abs() < 1e-7);
        assert_eq!(k.on_post(1.0, [1.0, 0.0], [0.0; 2]), 1.0);
    }

    #[test]
    fn problems_name_the_field() {
        let mut rule = stdp(WeightDependence::Additive);
        if let Plasticity::Stdp(r) = &mut rule {
            r.tau_plus_ms = 0.0;
            r.bounds.w_min = 2.0;
        }
        let problems = rule.problems();
        assert!(problems.iter().any(|p| p.0 == "tau_plus_ms"));
        assert!(problems.iter().any(|p| p.0 == "w_min"));
    }
}
