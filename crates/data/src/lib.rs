//! cognitron-data: datasets and spike encoders.
//!
//! - [`idx`]: the IDX format of MNIST and Fashion-MNIST (gzipped or not),
//!   with errors that name the file and what is wrong with it;
//! - [`datasets`]: the bundled datasets in the project's `data/` folder,
//!   with seeded shuffles and train/test splits;
//! - [`encode`]: turning pixel intensities into spikes (Poisson rate codes,
//!   latency codes).

pub mod datasets;
pub mod encode;
pub mod idx;

pub use datasets::{Dataset, Split};
pub use idx::DataError;
