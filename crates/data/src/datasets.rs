//! The datasets bundled in the project's `data/` folder (see its README):
//! `mnist-10k` (10,000 MNIST digits, split by a seeded shuffle) and
//! `fashion-mnist` (the official 60,000 / 10,000 split).

use crate::idx::{self, DataError};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use std::path::{Path, PathBuf};

/// Labelled grey-scale images, row-major, one byte per pixel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    pub images: Vec<u8>,
    pub labels: Vec<u8>,
    pub rows: usize,
    pub cols: usize,
}

/// A training and a held-out test set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    pub train: Dataset,
    pub test: Dataset,
}

/// Number of classes in the bundled datasets (digits; clothing types).
pub const CLASSES: usize = 10;

impl Dataset {
    /// Loads an image file (n x rows x cols) and its label file (n), both
    /// IDX, gzipped or not, and checks that they belong together.
    pub fn load(images: &Path, labels: &Path) -> Result<Dataset, DataError> {
        let x = idx::read(images)?;
        let y = idx::read(labels)?;
        if x.shape.len() != 3 {
            return Err(DataError::new(
                images,
                format!(
                    "an image file has 3 dimensions (n, rows, cols), this one has shape {:?}",
                    x.shape
                ),
            ));
        }
        if y.shape.len() != 1 {
            return Err(DataError::new(
                labels,
                format!("a label file has 1 dimension, this one has shape {:?}", y.shape),
            ));
        }
        if x.shape[0] != y.shape[0] {
            return Err(DataError::new(
                labels,
                format!(
                    "{} labels for {} images in {}: the files do not belong together",
                    y.shape[0],
                    x.shape[0],
                    images.display()
                ),
            ));
        }
        if let Some((i, &bad)) = y.data.iter().enumerate().find(|(_, &l)| l as usize >= CLASSES) {
            return Err(DataError::new(
                labels,
                format!("label {bad} of sample {i} is not a class 0..{}", CLASSES - 1),
            ));
        }
        Ok(Dataset {
            images: x.data,
            labels: y.data,
            rows: x.shape[1],
            cols: x.shape[2],
        })
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    pub fn pixels(&self) -> usize {
        self.rows * self.cols
    }

    pub fn image(&self, i: usize) -> &[u8] {
        let p = self.pixels();
        &self.images[i * p..(i + 1) * p]
    }

    pub fn label(&self, i: usize) -> u8 {
        self.labels[i]
    }

    /// The samples at `indices`, in that order.
    pub fn subset(&self, indices: &[usize]) -> Dataset {
        let mut images = Vec::with_capacity(indices.len() * self.pixels());
        for &i in indices {
            images.extend_from_slice(self.image(i));
        }
        Dataset {
            images,
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
            rows: self.rows,
            cols: self.cols,
        }
    }

    /// The first `n` samples (all if fewer).
    pub fn take(&self, n: usize) -> Dataset {
        let n = n.min(self.len());
        self.subset(&(0..n).collect::<Vec<_>>())
    }

    /// Samples per class.
    pub fn class_counts(&self) -> [usize; CLASSES] {
        let mut counts = [0; CLASSES];
        for &l in &self.labels {
            counts[l as usize] += 1;
        }
        counts
    }

    /// The same samples in an order fixed by `seed`.
    pub fn shuffled(&self, seed: u64) -> Dataset {
        self.subset(&shuffled_indices(self.len(), seed))
    }
}

/// 0..n in an order fixed by `seed` (Fisher-Yates with Xoshiro256++),
/// the same on every machine.
pub fn shuffled_indices(n: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut Xoshiro256PlusPlus::seed_from_u64(seed));
    order
}

/// The project's data folder: `$COGNITRON_DATA` if set, else `data/` in the
/// workspace this was built from, else `data/` under the current directory.
pub fn data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("COGNITRON_DATA") {
        return PathBuf::from(dir);
    }
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data");
    if built.is_dir() {
        return built;
    }
    PathBuf::from("data")
}

/// Seed of the shuffle behind the standard `mnist-10k` split, and the
/// number of training samples (the rest, 2,000, is the test set).
pub const MNIST_10K_SEED: u64 = 2015;
pub const MNIST_10K_TRAIN: usize = 8_000;

/// `mnist-10k`: 10,000 MNIST digits (stored class by class), shuffled with
/// `seed` and split into the first `train` and the rest. The standard split
/// of cognitron's experiments is `mnist_10k(dir, MNIST_10K_SEED, MNIST_10K_TRAIN)`.
pub fn mnist_10k(dir: &Path, seed: u64, train: usize) -> Result<Split, DataError> {
    let folder = dir.join("mnist-10k");
    let all = Dataset::load(
        &folder.join("images-idx3-ubyte.gz"),
        &folder.join("labels-idx1-ubyte.gz"),
    )?;
    if train > all.len() {
        return Err(DataError::new(
            &folder,
            format!("a training set of {train} from {} samples", all.len()),
        ));
    }
    let order = shuffled_indices(all.len(), seed);
    Ok(Split {
        train: all.subset(&order[..train]),
        test: all.subset(&order[train..]),
    })
}

/// Fashion-MNIST (Xiao et al. 2017) with its official 60,000 / 10,000 split.
pub fn fashion_mnist(dir: &Path) -> Result<Split, DataError> {
    let folder = dir.join("fashion-mnist");
    Ok(Split {
        train: Dataset::load(
            &folder.join("train-images-idx3-ubyte.gz"),
            &folder.join("train-labels-idx1-ubyte.gz"),
        )?,
        test: Dataset::load(
            &folder.join("t10k-images-idx3-ubyte.gz"),
            &folder.join("t10k-labels-idx1-ubyte.gz"),
        )?,
    })
}
