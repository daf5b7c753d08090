//! Probing one neuron model before building a network with it: its f-I
//! curve (steady firing rate against a constant injected current) and
//! membrane traces, as `cognitron neuron` shows them.
//!
//! The model is given as the TOML table of a population (any neuron model,
//! without `n`); one single-neuron population per current is simulated.

use crate::error::ModelError;
use crate::experiment;
use crate::model::{model_fields, Network};
use crate::{RunResult, Simulation};

/// Fields that inject a constant current, in order of preference, with
/// their unit ("pA" takes quantities such as `0.5nA`).
const CURRENT_FIELDS: &[(&str, &str)] = &[
    ("i_bias_pa", "pA"),
    ("i_soma_pa", "pA"),
    ("i_soma_ua_cm2", "uA/cm^2"),
    ("i_bias", "model units"),
];

/// The field that holds a model's constant injected current and its unit.
pub fn bias_field(model: &str) -> Option<(&'static str, &'static str)> {
    if model == "lif" {
        return Some(CURRENT_FIELDS[0]);
    }
    let fields = model_fields(model)?;
    CURRENT_FIELDS
        .iter()
        .find(|(name, _)| fields.iter().any(|f| f.name == *name))
        .copied()
}

/// One point of an f-I curve.
#[derive(Debug, Clone, PartialEq)]
pub struct FiPoint {
    /// Injected current (pA, or the model's units).
    pub current: f64,
    pub spikes: u32,
    /// Rate over the second half of the run (Hz): the steady state after
    /// onset transients and adaptation.
    pub steady_rate_hz: f64,
    /// Time of the first spike (ms), if any.
    pub first_spike_ms: Option<f64>,
}

/// What `fi_curve` measured.
#[derive(Debug, Clone)]
pub struct FiCurve {
    pub points: Vec<FiPoint>,
    /// The run, with the membrane potential of the traced currents recorded
    /// (populations named `i0`, `i1`, ... in the order of the currents).
    pub result: RunResult,
    /// The network that was run.
    pub network: Network,
}

/// Simulates one neuron of `population` (a population's TOML table, `n`
/// ignored) per current in `currents` for `duration_ms`, recording the
/// membrane potential of those at indices `traced`. Errors name the field
/// as `populations.neuron.<field>`.
pub fn fi_curve(
    population: &toml_edit::Table,
    currents: &[f64],
    dt_ms: f64,
    duration_ms: f64,
    traced: &[usize],
) -> Result<FiCurve, ModelError> {
    let model = population
        .get("model")
        .and_then(|m| m.as_str())
        .unwrap_or("")
        .to_string();
    let (bias, _) = bias_field(&model).ok_or_else(|| {
        ModelError::new(
            "populations.neuron.model",
            format!("\"{model}\""),
            "this model has no injected-current field (i_bias_pa, i_soma_pa, i_soma_ua_cm2 or i_bias)",
        )
    })?;
    let document = |names_and_currents: &[(String, f64)], traced: &[String]| {
        let mut doc = toml_edit::DocumentMut::new();
        let mut simulation = toml_edit::Table::new();
        simulation.insert("dt_ms", toml_edit::value(dt_ms));
        simulation.insert("duration_ms", toml_edit::value(duration_ms));
        doc.insert("simulation", toml_edit::Item::Table(simulation));
        let mut populations = toml_edit::Table::new();
        for (name, current) in names_and_currents {
            let mut table = population.clone();
            table.insert("n", toml_edit::value(1));
            table.insert(bias, toml_edit::value(*current));
            populations.insert(name, toml_edit::Item::Table(table));
        }
        doc.insert("populations", toml_edit::Item::Table(populations));
        let mut states = toml_edit::ArrayOfTables::new();
        for name in traced {
            let mut monitor = toml_edit::Table::new();
            monitor.insert("population", toml_edit::value(name.as_str()));
            monitor.insert("variables", toml_edit::value(toml_edit::Array::from_iter(["v"])));
            monitor.insert("neurons", toml_edit::value(toml_edit::Array::from_iter([0i64])));
            states.push(monitor);
        }
        let mut monitors = toml_edit::Table::new();
        monitors.insert("state", toml_edit::Item::ArrayOfTables(states));
        doc.insert("monitors", toml_edit::Item::Table(monitors));
        doc.to_string()
    };
    // The model alone first, so that its errors name it as `neuron`.
    let first = currents.first().copied().unwrap_or(0.0);
    experiment::parse(&document(&[("neuron".into(), first)], &[]), &[])?;
    let named: Vec<(String, f64)> = currents
        .iter()
        .enumerate()
        .map(|(i, &c)| (format!("i{i}"), c))
        .collect();
    let traced_names: Vec<String> = traced
        .iter()
        .filter(|&&i| i < currents.len())
        .map(|i| format!("i{i}"))
        .collect();
    let network = experiment::parse(&document(&named, &traced_names), &[])?;
    let result = Simulation::build(&network)
        .run(|_| {})
        .map_err(|e| ModelError::new("populations.neuron", "", e.to_string()))?;
    let half_step = (result.steps / 2) as u32;
    let points = named
        .iter()
        .map(|(name, current)| {
            let p = result.population(name);
            let late = p.spike_steps.iter().filter(|&&s| s >= half_step).count();
            let late_ms = (result.steps - half_step as u64) as f64 * result.dt_ms;
            FiPoint {
                current: *current,
                spikes: p.spikes as u32,
                steady_rate_hz: late as f64 / (late_ms * 1e-3),
                first_spike_ms: p.spike_steps.first().map(|&s| (s + 1) as f64 * result.dt_ms),
            }
        })
        .collect();
    Ok(FiCurve {
        points,
        result,
        network,
    })
}

/// Parses a current range `"10pA..500pA"`, `"0.1nA..0.5nA"` or `"0..20"`
/// (plain numbers for models in normalised units) into `steps` evenly spaced
/// currents, in pA when `in_pa`.
pub fn parse_current_range(text: &str, steps: usize, in_pa: bool) -> Result<Vec<f64>, String> {
    let (lo, hi) = text
        .split_once("..")
        .ok_or_else(|| format!("`{text}`: expected a range such as 10pA..500pA"))?;
    let value = |s: &str| -> Result<f64, String> {
        let s = s.trim();
        if let Ok(x) = s.parse::<f64>() {
            return if x.is_finite() {
                Ok(x)
            } else {
                Err(format!("`{s}` is not finite"))
            };
        }
        if !in_pa {
            return Err(format!(
                "`{s}`: this model takes currents as plain numbers in its own units"
            ));
        }
        match crate::units::parse_quantity(s) {
            Ok(q) if q.dimension == crate::units::Dimension::Current => Ok(q.value),
            Ok(q) => Err(format!("`{s}` is {}, not a current", q.dimension.name())),
            Err(_) => Err(format!("`{s}` is not a current such as 10pA or 0.5nA")),
        }
    };
    let (lo, hi) = (value(lo)?, value(hi)?);
    if hi < lo {
        return Err(format!("`{text}`: the range must go from low to high"));
    }
    if steps < 2 {
        return Ok(vec![lo]);
    }
    Ok((0..steps)
        .map(|i| lo + (hi - lo) * i as f64 / (steps - 1) as f64)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_ranges() {
        assert_eq!(
            parse_current_range("10pA..30pA", 3, true).unwrap(),
            vec![10.0, 20.0, 30.0]
        );
        assert_eq!(
            parse_current_range("0.1nA..0.2nA", 2, true).unwrap(),
            vec![100.0, 200.0]
        );
        assert_eq!(parse_current_range("0..20", 3, false).unwrap(), vec![0.0, 10.0, 20.0]);
        assert!(parse_current_range("10mV..20mV", 3, true)
            .unwrap_err()
            .contains("a voltage"));
        assert!(parse_current_range("20pA..10pA", 3, true).is_err());
        assert!(parse_current_range("10pA", 3, true).is_err());
        assert!(parse_current_range("1pA..2pA", 3, false).is_err());
    }
}
