//! Typed errors, one per phase: describing a model (`ModelError`) and running
//! it (`SimulationError`).

use std::fmt;

/// A model that cannot be built: where it is (file and line when it came from
/// a file), which field, what value, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelError {
    pub file: Option<String>,
    pub line: Option<usize>,
    /// Dotted path of the field, e.g. `populations.exc.tau_m_ms`.
    pub field: String,
    pub value: String,
    pub reason: String,
}

impl ModelError {
    pub fn new(field: impl Into<String>, value: impl fmt::Display, reason: impl Into<String>) -> Self {
        ModelError {
            file: None,
            line: None,
            field: field.into(),
            value: value.to_string(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.file, self.line) {
            (Some(file), Some(line)) => write!(f, "{file}:{line}: ")?,
            (Some(file), None) => write!(f, "{file}: ")?,
            (None, Some(line)) => write!(f, "line {line}: ")?,
            (None, None) => {}
        }
        if self.field.is_empty() {
            write!(f, "{}", self.reason)
        } else if self.value.is_empty() {
            write!(f, "field `{}`: {}", self.field, self.reason)
        } else {
            write!(f, "field `{}` = {}: {}", self.field, self.value, self.reason)
        }
    }
}

impl std::error::Error for ModelError {}

/// A run that had to stop.
#[derive(Debug, Clone, PartialEq)]
pub enum SimulationError {
    /// A state variable became NaN or infinite.
    NonFinite {
        time_ms: f64,
        population: String,
        neuron: usize,
        variable: &'static str,
        value: f64,
    },
}

impl fmt::Display for SimulationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimulationError::NonFinite {
                time_ms,
                population,
                neuron,
                variable,
                value,
            } => write!(
                f,
                "state became non-finite at t = {time_ms} ms: population `{population}`, neuron {neuron}, {variable} = {value}"
            ),
        }
    }
}

impl std::error::Error for SimulationError {}
