//! The training loop: seeded shuffling, mini-batches, evaluation on the
//! held-out set after every epoch, and a checkpoint written atomically after
//! every epoch that the same command resumes from.
//!
//! Every random draw (initial weights, feedback matrices, each epoch's
//! order, each sample's input spikes) comes from the experiment's seed, the
//! epoch and the sample's index, and every parallel sum has a fixed order, so
//! a run gives the same bits on any number of threads, and a resumed run the
//! same bits as an uninterrupted one.

use super::loss::{self, Batch, Loss, Rates};
use super::model::Network;
use super::optim::Optimizer;
use super::spec::{Encoding, GradientExperiment, CLASSES};
use crate::checkpoint::{write_atomic, CheckpointError};
use cognitron_data::datasets::{shuffled_indices, Dataset, Split};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Debug, thiserror::Error)]
pub enum GradientError {
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// The loss or a weight became NaN or infinite.
    #[error("the loss diverged ({value}) in epoch {epoch}, batch {batch}; {checkpoint}")]
    Diverged {
        epoch: usize,
        batch: usize,
        value: f64,
        checkpoint: String,
    },
    #[error("{0}")]
    Data(String),
}

/// One epoch's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    pub epoch: usize,
    pub learning_rate: f64,
    pub train_loss: f64,
    pub train_accuracy: f64,
    pub test_loss: f64,
    pub test_accuracy: f64,
    pub train_s: f64,
    pub test_s: f64,
}

#[derive(Debug, Clone)]
pub enum Progress {
    /// Training batch `done` of `total` in `epoch`, running loss and accuracy.
    Batch {
        epoch: usize,
        done: usize,
        total: usize,
        loss: f64,
        accuracy: f64,
    },
    Testing {
        epoch: usize,
        done: usize,
        total: usize,
    },
    Epoch(EpochRecord),
}

#[derive(Debug, Clone, Copy, Default)]
pub struct RunOptions {
    /// Continue from the checkpoint in the output folder if there is one.
    pub resume: bool,
    /// Stop (as if killed) after this many epochs in this process.
    pub stop_after_epochs: Option<usize>,
}

pub struct Outcome {
    pub network: Network,
    pub records: Vec<EpochRecord>,
    pub test_accuracy: f64,
    pub confusion: Vec<Vec<u32>>,
    pub resumed_from_epoch: Option<usize>,
    pub wall_s: f64,
    pub train_images: usize,
    pub test_images: usize,
    /// Per layer, seconds of forward and backward in the last epoch trained
    /// by this process (empty if none was).
    pub train_profile: Vec<super::model::LayerTime>,
}

pub fn checkpoint_path(out: &Path) -> PathBuf {
    out.join("gradient.ckpt")
}

/// The experiment's data: its dataset, cut to `train_images`/`test_images`.
pub fn dataset(experiment: &GradientExperiment, dir: &Path) -> Result<Split, GradientError> {
    use cognitron_data::datasets::{fashion_mnist, mnist_10k, MNIST_10K_SEED, MNIST_10K_TRAIN};
    let t = &experiment.training;
    let split = match t.dataset.as_str() {
        "mnist-10k" => mnist_10k(dir, MNIST_10K_SEED, MNIST_10K_TRAIN),
        _ => fashion_mnist(dir),
    }
    .map_err(|e| GradientError::Data(e.to_string()))?;
    let take = |d: Dataset, n: Option<usize>| match n {
        Some(n) if n < d.len() => d.take(n),
        _ => d,
    };
    Ok(Split {
        train: take(split.train, t.train_images),
        test: take(split.test, t.test_images),
    })
}

/// A stream for one purpose, seed, epoch and sample (SplitMix64-style mixing
/// so that nearby indices give unrelated streams).
fn stream(seed: u64, purpose: u64, epoch: u64, index: u64) -> Xoshiro256PlusPlus {
    let mut z = seed ^ purpose.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    for x in [epoch, index] {
        z = z.wrapping_add(x).wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
    }
    Xoshiro256PlusPlus::seed_from_u64(z)
}

const SHUFFLE: u64 = 1;
const SPIKES: u64 = 2;
const DROPOUT: u64 = 3;
/// The epoch number under which test inputs are drawn.
const TEST_EPOCH: u64 = u64::MAX;

/// Fills the network's input rows for `samples` (indices into `data`).
fn encode(network: &mut Network, experiment: &GradientExperiment, data: &Dataset, samples: &[usize], epoch: u64) {
    let steps = network.steps;
    let batch = samples.len();
    let pixels = network.input.len();
    let (encoding, gain, threshold, seed) = (
        experiment.model.encoding,
        experiment.training.rate_gain,
        experiment.training.latency_threshold,
        experiment.training.seed,
    );
    let input = network.input_mut(batch);
    input.par_chunks_mut(pixels).enumerate().for_each(|(row, x)| {
        let (t, b) = (row / batch, row % batch);
        let image = data.image(samples[b]);
        match encoding {
            Encoding::Analog => {
                for (x, &p) in x.iter_mut().zip(image) {
                    *x = p as f32 / 255.0;
                }
            }
            Encoding::Rate => {
                let mut rng = stream(seed, SPIKES, epoch, (samples[b] * steps + t) as u64);
                for (x, &p) in x.iter_mut().zip(image) {
                    let probability = gain * p as f32 / 255.0;
                    *x = if rng.gen::<f32>() < probability { 1.0 } else { 0.0 };
                }
            }
            Encoding::Rows => {
                let row = &image[t * pixels..(t + 1) * pixels];
                for (x, &p) in x.iter_mut().zip(row) {
                    *x = p as f32 / 255.0;
                }
            }
            Encoding::Latency => {
                for (x, &p) in x.iter_mut().zip(image) {
                    let intensity = p as f32 / 255.0;
                    let fire_at = ((1.0 - intensity) * (steps - 1) as f32).round() as usize;
                    *x = if intensity > threshold && fire_at == t {
                        1.0
                    } else {
                        0.0
                    };
                }
            }
        }
    });
}

fn labels(data: &Dataset, samples: &[usize]) -> Vec<u8> {
    samples.iter().map(|&i| data.label(i)).collect()
}

/// The loss of the batch in the network (after `forward`) and its
/// predictions; with `grads`, also writes the loss's gradients for `backward`.
pub fn batch_loss(network: &mut Network, kind: Loss, rates: &Rates, labels: &[u8], grads: bool) -> (f64, Vec<u8>) {
    let steps = network.steps;
    let classes = network.classes();
    // The loss reads the output while writing into the network's gradient
    // buffers: take the output out for the call.
    let output = network.output().to_vec();
    let membrane = network.output_membrane().map(<[f32]>::to_vec);
    let batch = Batch {
        steps,
        classes,
        labels,
        output: &output,
        membrane: membrane.as_deref(),
    };
    let predictions = loss::predictions(&batch);
    let value = if grads {
        let (grad_output, grad_membrane) = network.loss_grads_mut();
        loss::loss(kind, &batch, rates, Some(grad_output), grad_membrane)
    } else {
        loss::loss(kind, &batch, rates, None, None)
    };
    (value, predictions)
}

fn score(network: &mut Network, experiment: &GradientExperiment, labels: &[u8], grads: bool) -> (f64, Vec<u8>) {
    let rates = Rates {
        correct_rate: experiment.training.correct_rate,
        incorrect_rate: experiment.training.incorrect_rate,
    };
    batch_loss(network, experiment.training.loss, &rates, labels, grads)
}

/// Loss, accuracy (%) and confusion matrix [label][prediction] on `data`.
pub fn evaluate(
    network: &mut Network,
    experiment: &GradientExperiment,
    data: &Dataset,
    progress: &mut dyn FnMut(usize, usize),
) -> (f64, f64, Vec<Vec<u32>>) {
    let mut confusion = vec![vec![0u32; CLASSES]; CLASSES];
    let mut total_loss = 0.0;
    let indices: Vec<usize> = (0..data.len()).collect();
    let batches = indices.chunks(experiment.training.eval_batch_size).count();
    for (done, samples) in indices.chunks(experiment.training.eval_batch_size).enumerate() {
        encode(network, experiment, data, samples, TEST_EPOCH);
        network.forward(samples.len());
        let labels = labels(data, samples);
        let (value, predictions) = score(network, experiment, &labels, false);
        total_loss += value * samples.len() as f64;
        for (&l, &p) in labels.iter().zip(&predictions) {
            confusion[l as usize][p as usize] += 1;
        }
        progress(done + 1, batches);
    }
    let correct: u32 = (0..CLASSES).map(|c| confusion[c][c]).sum();
    (
        total_loss / data.len().max(1) as f64,
        100.0 * correct as f64 / data.len().max(1) as f64,
        confusion,
    )
}

// ----------------------------------------------------------- checkpoint

const MAGIC: &[u8] = b"COGNITRON-GRAD1\n";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct CheckpointHeader {
    /// The network's layers and shapes, and each tensor's length.
    network: String,
    tensors: Vec<usize>,
    optimizer_tensors: Vec<usize>,
    epochs_done: usize,
    optimizer_steps: u64,
    records: Vec<EpochRecord>,
    wall_s: f64,
}

fn save_checkpoint(
    path: &Path,
    network: &Network,
    optimizer: &Optimizer,
    epochs_done: usize,
    records: &[EpochRecord],
    wall_s: f64,
) -> Result<(), CheckpointError> {
    let params = network.params();
    let header = CheckpointHeader {
        network: network.describe(),
        tensors: params.iter().map(|p| p.value.len()).collect(),
        optimizer_tensors: optimizer.state.iter().map(Vec::len).collect(),
        epochs_done,
        optimizer_steps: optimizer.steps,
        records: records.to_vec(),
        wall_s,
    };
    let header = serde_json::to_vec(&header).expect("serialisable");
    let mut bytes = Vec::new();
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&(header.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&header);
    for tensor in params.iter().map(|p| &p.value).chain(optimizer.state.iter()) {
        for x in tensor.iter() {
            bytes.extend_from_slice(&x.to_le_bytes());
        }
    }
    write_atomic(path, &bytes)
}

fn load_checkpoint(
    path: &Path,
    network: &mut Network,
    optimizer: &mut Optimizer,
) -> Result<CheckpointHeader, CheckpointError> {
    let fail = |reason: String| CheckpointError {
        path: path.display().to_string(),
        reason,
    };
    let bytes = std::fs::read(path).map_err(|e| fail(format!("cannot read: {e}")))?;
    if !bytes.starts_with(MAGIC) {
        return Err(fail("not a cognitron gradient checkpoint (bad magic)".into()));
    }
    let rest = &bytes[MAGIC.len()..];
    let header_len = rest
        .get(..8)
        .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")) as usize)
        .ok_or_else(|| fail("truncated before the header length".into()))?;
    let header: CheckpointHeader = rest
        .get(8..8 + header_len)
        .ok_or_else(|| fail("truncated header".into()))
        .and_then(|h| serde_json::from_slice(h).map_err(|e| fail(format!("bad header: {e}"))))?;
    let description = network.describe();
    let mut params = network.params_mut();
    let tensors: Vec<usize> = params.iter().map(|p| p.value.len()).collect();
    let optimizer_tensors: Vec<usize> = optimizer.state.iter().map(Vec::len).collect();
    if header.tensors != tensors || header.optimizer_tensors != optimizer_tensors {
        return Err(fail(format!(
            "checkpoint of another network or optimiser: it holds `{}` (tensors {:?}, optimiser {:?}), this experiment is `{}` (tensors {:?}, optimiser {:?})",
            header.network, header.tensors, header.optimizer_tensors, description, tensors, optimizer_tensors
        )));
    }
    let body = &rest[8 + header_len..];
    let floats: usize = tensors.iter().chain(&optimizer_tensors).sum();
    if body.len() != floats * 4 {
        return Err(fail(format!(
            "{} bytes of tensors, expected {} (truncated or corrupt)",
            body.len(),
            floats * 4
        )));
    }
    let mut values = body
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")));
    for p in params.iter_mut() {
        for x in p.value.iter_mut() {
            *x = values.next().expect("length checked");
        }
    }
    for state in optimizer.state.iter_mut() {
        for x in state.iter_mut() {
            *x = values.next().expect("length checked");
        }
    }
    optimizer.steps = header.optimizer_steps;
    Ok(header)
}

fn all_finite(network: &Network) -> bool {
    network.params().iter().all(|p| p.value.iter().all(|x| x.is_finite()))
}

/// Trains the experiment's network on `data.train`, testing on `data.test`
/// after every epoch. Returns None if stopped by `stop_after_epochs`.
pub fn train(
    experiment: &GradientExperiment,
    data: &Split,
    out: &Path,
    options: RunOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<Option<Outcome>, GradientError> {
    let started = Instant::now();
    let t = &experiment.training;
    let mut network = experiment.network();
    let mut optimizer = Optimizer::new(t.optimizer.clone(), &network.params_mut());
    let checkpoint = checkpoint_path(out);
    let mut records = Vec::new();
    let mut first_epoch = 0;
    let mut wall_before = 0.0;
    let mut resumed_from_epoch = None;
    if options.resume && checkpoint.exists() {
        let header = load_checkpoint(&checkpoint, &mut network, &mut optimizer)?;
        first_epoch = header.epochs_done;
        records = header.records;
        wall_before = header.wall_s;
        resumed_from_epoch = Some(first_epoch);
    }
    let train_data = &data.train;
    let mut confusion = vec![vec![0u32; CLASSES]; CLASSES];
    let mut test_accuracy = records.last().map_or(0.0, |r: &EpochRecord| r.test_accuracy);
    let mut epochs_here = 0;
    let mut train_profile = Vec::new();
    for epoch in first_epoch..t.epochs {
        if options.stop_after_epochs == Some(epochs_here) {
            return Ok(None);
        }
        let epoch_started = Instant::now();
        let learning_rate = t.schedule.rate(t.optimizer.learning_rate(), epoch, t.epochs);
        let order = shuffled_indices(train_data.len(), stream(t.seed, SHUFFLE, epoch as u64, 0).gen());
        let total = order.len().div_ceil(t.batch_size);
        let (mut loss_sum, mut correct, mut seen) = (0.0, 0usize, 0usize);
        network.reset_profile();
        for (batch_index, samples) in order.chunks(t.batch_size).enumerate() {
            encode(&mut network, experiment, train_data, samples, epoch as u64);
            network.set_dropout_seed(Some(stream(t.seed, DROPOUT, epoch as u64, batch_index as u64).gen()));
            network.forward(samples.len());
            let labels = labels(train_data, samples);
            let (value, predictions) = score(&mut network, experiment, &labels, true);
            if !value.is_finite() {
                return Err(diverged(
                    epoch,
                    batch_index,
                    value,
                    &checkpoint,
                    first_epoch + epochs_here,
                ));
            }
            network.zero_grads();
            network.set_labels(&labels);
            network.backward();
            optimizer.step(&mut network.params_mut(), learning_rate);
            loss_sum += value * samples.len() as f64;
            correct += labels.iter().zip(&predictions).filter(|(l, p)| l == p).count();
            seen += samples.len();
            progress(Progress::Batch {
                epoch,
                done: batch_index + 1,
                total,
                loss: loss_sum / seen as f64,
                accuracy: 100.0 * correct as f64 / seen as f64,
            });
        }
        if !all_finite(&network) {
            return Err(diverged(epoch, total, f64::NAN, &checkpoint, first_epoch + epochs_here));
        }
        let train_s = epoch_started.elapsed().as_secs_f64();
        train_profile = network.profile().to_vec();
        network.set_dropout_seed(None);
        let test_started = Instant::now();
        let (test_loss, accuracy, matrix) = evaluate(&mut network, experiment, &data.test, &mut |done, total| {
            progress(Progress::Testing { epoch, done, total })
        });
        test_accuracy = accuracy;
        confusion = matrix;
        let record = EpochRecord {
            epoch: epoch + 1,
            learning_rate,
            train_loss: loss_sum / seen.max(1) as f64,
            train_accuracy: 100.0 * correct as f64 / seen.max(1) as f64,
            test_loss,
            test_accuracy: accuracy,
            train_s,
            test_s: test_started.elapsed().as_secs_f64(),
        };
        progress(Progress::Epoch(record.clone()));
        records.push(record);
        epochs_here += 1;
        let wall = wall_before + started.elapsed().as_secs_f64();
        save_checkpoint(&checkpoint, &network, &optimizer, epoch + 1, &records, wall)?;
    }
    if epochs_here == 0 {
        // Resumed after the last epoch: test the trained network again for
        // the confusion matrix.
        let (_, accuracy, matrix) = evaluate(&mut network, experiment, &data.test, &mut |_, _| {});
        test_accuracy = accuracy;
        confusion = matrix;
    }
    Ok(Some(Outcome {
        network,
        records,
        test_accuracy,
        confusion,
        resumed_from_epoch,
        wall_s: wall_before + started.elapsed().as_secs_f64(),
        train_images: data.train.len(),
        test_images: data.test.len(),
        train_profile,
    }))
}

fn diverged(epoch: usize, batch: usize, value: f64, checkpoint: &Path, epochs_saved: usize) -> GradientError {
    GradientError::Diverged {
        epoch: epoch + 1,
        batch: batch + 1,
        value,
        checkpoint: if epochs_saved > 0 && checkpoint.exists() {
            format!(
                "the last good checkpoint ({} epochs) is intact at {}",
                epochs_saved,
                checkpoint.display()
            )
        } else {
            "no checkpoint was written yet".into()
        },
    }
}
