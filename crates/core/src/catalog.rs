//! The catalogue of population models: what each is, its source, and every
//! TOML field with its unit, as `cognitron models` prints it and
//! `docs/models.md` records it.

use crate::model::{model_fields, FieldKind, FieldSpec, INPUT_MODELS, NEURON_MODELS};

/// LIF's fields (its schema check is hand-written in `experiment`, these
/// are its documentation).
pub const LIF_FIELDS: &[FieldSpec] = &[
    FieldSpec::required("model", FieldKind::Text, "\"lif\""),
    FieldSpec::required("n", FieldKind::Integer, "number of neurons"),
    FieldSpec::required("tau_m_ms", FieldKind::Number, "membrane time constant (ms)"),
    FieldSpec::optional("c_m_pf", FieldKind::Number, "membrane capacitance (pF), 250"),
    FieldSpec::required("e_l_mv", FieldKind::Number, "resting (leak reversal) potential (mV)"),
    FieldSpec::required("v_th_mv", FieldKind::Number, "threshold (mV)"),
    FieldSpec::required("v_reset_mv", FieldKind::Number, "reset potential (mV)"),
    FieldSpec::optional("t_ref_ms", FieldKind::Number, "absolute refractory period (ms), 0"),
    FieldSpec::optional("i_bias_pa", FieldKind::Number, "constant injected current (pA), 0"),
    FieldSpec::required(
        "synapse",
        FieldKind::Choice(&["delta", "current_exp", "conductance_exp"]),
        "how weights act: delta (mV jump), current_exp (pA), conductance_exp (nS)",
    ),
    FieldSpec::optional(
        "tau_exc_ms",
        FieldKind::Number,
        "excitatory synaptic time constant (ms), 5",
    ),
    FieldSpec::optional(
        "tau_inh_ms",
        FieldKind::Number,
        "inhibitory synaptic time constant (ms), 10",
    ),
    FieldSpec::optional("e_exc_mv", FieldKind::Number, "excitatory reversal potential (mV), 0"),
    FieldSpec::optional("e_inh_mv", FieldKind::Number, "inhibitory reversal potential (mV), -80"),
    FieldSpec::optional("v_init_mv", FieldKind::Init, "initial v (mV), e_l"),
    FieldSpec::optional(
        "g_exc_init",
        FieldKind::Init,
        "initial excitatory current (pA) or conductance (nS), 0",
    ),
    FieldSpec::optional(
        "g_inh_init",
        FieldKind::Init,
        "initial inhibitory current (pA) or conductance (nS), 0",
    ),
    FieldSpec::optional(
        "external",
        FieldKind::Any,
        "independent Poisson drive per neuron: { count, rate_hz, weight, receptor }",
    ),
    FieldSpec::optional(
        "theta_plus_mv",
        FieldKind::Number,
        "adaptive threshold: rise per spike (mV), 0 = off (Diehl & Cook 2015: 0.05)",
    ),
    FieldSpec::optional(
        "tau_theta_ms",
        FieldKind::Number,
        "decay of the threshold rise (ms), 1e7",
    ),
    FieldSpec::optional(
        "target_rate_hz",
        FieldKind::Number,
        "intrinsic plasticity: the threshold also falls by theta_plus_mv x this rate per second, so each neuron settles at this rate (Hz), 0 = off",
    ),
    FieldSpec::optional(
        "wta",
        FieldKind::Choice(&["hard", "soft"]),
        "winner-take-all: hard = at most one spike per step (BindsNET one_spike); soft = each spike lowers the others' v by wta_inhibition_mv; population of at most 2048",
    ),
    FieldSpec::optional(
        "wta_inhibition_mv",
        FieldKind::Number,
        "soft winner-take-all: drop of every other neuron's v per spike (mV)",
    ),
];

const POISSON_FIELDS: &[FieldSpec] = &[
    FieldSpec::required("model", FieldKind::Text, "\"poisson\""),
    FieldSpec::required("n", FieldKind::Integer, "number of generators"),
    FieldSpec::optional("rate_hz", FieldKind::Number, "constant rate (Hz)"),
    FieldSpec::optional(
        "schedule",
        FieldKind::Any,
        "piecewise-constant rate [[t_ms, rate_hz], ...]",
    ),
];

const SPIKE_TIMES_FIELDS: &[FieldSpec] = &[
    FieldSpec::required("model", FieldKind::Text, "\"spike_times\""),
    FieldSpec::required("n", FieldKind::Integer, "number of generators"),
    FieldSpec::required("spikes", FieldKind::Any, "[[neuron, t_ms], ...]"),
];

/// What a model is and where it comes from.
pub fn description(model: &str) -> &'static str {
    match model {
        "lif" => {
            "Leaky integrate-and-fire neuron with refractory period, exact integration of the \
             linear sub-threshold dynamics (Lapicque 1907; the form of Brette et al. 2007, \
             J Comput Neurosci 23:349)."
        }
        "izhikevich" => {
            "Izhikevich (2003) simple model, IEEE Trans Neural Netw 14:1569: \
             dv/dt = 0.04 v^2 + 5 v + 140 - u + I, du/dt = a (b v - u); presets for the firing \
             patterns of Izhikevich (2004) Fig. 1 and the cortical types of the 2003 paper."
        }
        "hh" => {
            "Hodgkin-Huxley point neuron (Hodgkin & Huxley 1952, J Physiol 117:500, squid axon; or \
             Traub & Miles 1991 kinetics as in Brette et al. 2007 benchmark 3), exponential Euler."
        }
        "compartmental" => {
            "Multi-compartment neuron: a morphology of cylindrical sections (inline or an SWC file, \
             the NeuroMorpho standard) as a cable (Rall; backward Euler with the Hines algorithm), \
             passive membrane with optional Hodgkin-Huxley (1952) squid channels per section kind."
        }
        "pinsky_rinzel" => {
            "Pinsky & Rinzel (1994) two-compartment CA3 pyramidal cell, J Comput Neurosci 1:39: \
             soma (Na, K-DR) and dendrite (Ca, K-AHP, K-C) coupled by g_c; bursts at low coupling."
        }
        "adex" => {
            "Adaptive exponential integrate-and-fire (Brette & Gerstner 2005, J Neurophysiol 94:3637), \
             adaptive Dormand-Prince sub-steps with the v_peak crossing located; presets for the \
             firing patterns of Naud et al. (2008, Biol Cybern 99:335) Table 1."
        }
        "relu" => {
            "Rectified linear rate unit, r = gain * max(0, I - threshold), the artificial neuron of \
             deep learning; it talks to other populations by spikes at rate r (phase accumulator or Poisson)."
        }
        "poisson" => "Independent Poisson spike generators, constant or piecewise-constant rate.",
        "spike_times" => "Spike generators firing at given times.",
        _ => "",
    }
}

/// Every field of a population model, with its documentation.
pub fn fields(model: &str) -> Option<Vec<&'static FieldSpec>> {
    match model {
        "lif" => Some(LIF_FIELDS.iter().collect()),
        "poisson" => Some(POISSON_FIELDS.iter().collect()),
        "spike_times" => Some(SPIKE_TIMES_FIELDS.iter().collect()),
        other => model_fields(other),
    }
}

fn kind(kind: FieldKind) -> String {
    match kind {
        FieldKind::Number => "number".into(),
        FieldKind::Integer => "integer".into(),
        FieldKind::Bool => "boolean".into(),
        FieldKind::Text => "string".into(),
        FieldKind::Init => "number or distribution".into(),
        FieldKind::Choice(options) => options.join(" \\| "),
        FieldKind::Choices(options) => format!("list of {}", options.join(" \\| ")),
        FieldKind::Pairs(shape) => format!("list of {shape}"),
        FieldKind::Tables(fields) => {
            let names: Vec<&str> = fields.iter().map(|f| f.name).collect();
            format!("array of tables {{ {} }}", names.join(", "))
        }
        FieldKind::Any => "table or array".into(),
    }
}

/// The catalogue as Markdown: one section per model.
pub fn markdown() -> String {
    let mut out = String::from(
        "# Population models\n\nGenerated by `cognitron models --markdown`; do not edit by hand.\n\
         Units are in the field names (`_ms`, `_mv`, `_pa`, `_pf`, `_ns`, `_hz`, `_um`); a value may also be \
         written with its unit (`tau_m = \"20 ms\"`), converted at load.\n",
    );
    for model in NEURON_MODELS.iter().chain(INPUT_MODELS) {
        out += &format!("\n## `{model}`\n\n{}\n\n", description(model));
        out += &fields_table(&fields(model).unwrap_or_default());
    }
    out += "\n# Plasticity rules\n\nA projection learns with `[projections.NAME.plasticity]`, \
            `rule = ` one of these. Plastic weights are magnitudes within [w_min, w_max]; the receptor sets \
            excitation or inhibition. See `crates/core/src/plasticity.rs` for the timing conventions.\n";
    for rule in crate::plasticity::RULES {
        out += &format!("\n## `{rule}`\n\n{}\n\n", rule_description(rule));
        out += &fields_table(&crate::plasticity::rule_fields(rule).unwrap_or_default());
    }
    out
}

/// A Markdown table of fields.
fn fields_table(fields: &[&FieldSpec]) -> String {
    let mut out = String::from("| field | required | kind | meaning |\n|---|---|---|---|\n");
    for f in fields {
        out += &format!(
            "| `{}` | {} | {} | {} |\n",
            f.name,
            if f.required { "yes" } else { "" },
            kind(f.kind),
            f.doc.replace('|', "\\|")
        );
    }
    out
}

/// One paragraph per plasticity rule.
pub fn rule_description(rule: &str) -> &'static str {
    match rule {
        "stdp" => "Pair-based STDP (Bi & Poo 1998; Song, Miller & Abbott 2000): a pair at dt = t_post - t_pre changes w by a_plus exp(-dt/tau_plus) (dt >= 0) or -a_minus exp(dt/tau_minus) (dt < 0); all-to-all or nearest-spike pairing; additive (clipped) or multiplicative (soft-bound) weight dependence.",
        "triplet" => "Triplet STDP (Pfister & Gerstner 2006): pair terms plus a potentiation that grows with the postsynaptic rate (o2) and a depression with the presynaptic one (r2); defaults are their visual-cortex all-to-all fit (full model, Table 4), which reproduces the frequency dependence of Sjostrom et al. (2001).",
        "diehl_cook" => "Diehl & Cook (2015), eq. 3: at a postsynaptic spike dw = eta_post (x_pre - x_tar)(w_max - w)^mu, so inputs that did not fire recently weaken; optional depression eta_pre x_post at presynaptic spikes.",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every model has a description and documented fields, and LIF's list is
    /// the one its schema check accepts.
    #[test]
    fn every_model_is_documented() {
        for model in NEURON_MODELS.iter().chain(INPUT_MODELS) {
            assert!(!description(model).is_empty(), "{model} has no description");
            let fields = fields(model).unwrap_or_else(|| panic!("{model} has no fields"));
            assert!(fields.iter().all(|f| !f.doc.is_empty()), "{model}: a field has no doc");
        }
        let names: Vec<&str> = LIF_FIELDS.iter().map(|f| f.name).collect();
        assert_eq!(names, crate::experiment::lif_field_names());
    }

    /// docs/models.md is the current catalogue.
    #[test]
    fn docs_models_md_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/models.md");
        let written = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            written == markdown(),
            "docs/models.md is out of date: run `cargo run --release -- models --markdown > docs/models.md`"
        );
    }
}
