//! cognitron-core: model description and the clock-driven simulation engine.
//!
//! Describe a network (`model::Network`, from TOML through `experiment` or
//! with the builder methods), validate it (`validate`), build it for its time
//! step (`engine::Simulation::build`) and run it.

pub mod connect;
pub mod engine;
pub mod error;
pub mod experiment;
pub mod model;
pub mod neuron;
pub mod rng;
pub mod validate;

pub use engine::{PopulationResult, RunResult, Simulation, Trace};
pub use error::{ModelError, SimulationError};
pub use model::Network;
