//! cognitron-core: model description and the clock-driven simulation engine.
//!
//! Describe a network (`model::Network`, from TOML through `experiment` or
//! with the builder methods), validate it (`validate`), build it for its time
//! step (`engine::Simulation::build`) and run it.

pub mod catalog;
pub mod connect;
pub mod engine;
pub mod error;
pub mod experiment;
pub mod model;
pub mod neuron;
pub mod plasticity;
pub mod probe;
pub mod rng;
mod team;
pub mod units;
pub mod validate;

pub use engine::{PlasticWeights, PopulationResult, RunResult, Simulation, Trace};
pub use error::{ModelError, SimulationError};
pub use model::Network;

/// Asks the CPU to start loading the cache line holding `value`, so that a
/// later access does not wait for memory. A hint only: it never faults and
/// changes no result.
#[inline(always)]
pub(crate) fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: prefetching is a hint; it reads nothing architecturally and
    // cannot fault, and the pointer comes from a live reference anyway.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(value as *const T as *const i8);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}
