//! cognitron-learn: training for cognitron networks.
//!
//! - `unsupervised`: networks that learn from images by their own plasticity
//!   (STDP with homeostasis and lateral inhibition, Diehl & Cook 2015), with
//!   neurons labelled afterwards by their responses.
//! - `checkpoint`: trained state written atomically, and resumed.

pub mod checkpoint;
pub mod unsupervised;

pub use unsupervised::{TrainError, TrainingSpec};
pub mod gradient;
