//! Gradient learning: layers with explicit batched forward and backward
//! passes, credit assignment by backprop (through time for spiking layers),
//! feedback alignment and direct feedback alignment, losses and optimisers.

pub mod gemm;
pub mod layers;
pub mod loss;
pub mod model;
pub mod optim;
pub mod spec;
pub mod train;
