//! Losses on a batch of `steps x batch` output rows, with their gradients,
//! and the class each sample is given.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Loss {
    /// Cross-entropy of the softmax of the output summed over time steps
    /// (for an ANN, one step: the usual loss on logits; for a leaky readout,
    /// snnTorch's CE(sum_t U[t])).
    CrossEntropy,
    /// The sum over time steps of the cross-entropy of the output LIF
    /// layer's membrane potential (snnTorch tutorial 5).
    CrossEntropyMembrane,
    /// Cross-entropy with the output spike counts as logits.
    CrossEntropyCount,
    /// Mean squared error between the output spike counts and targets of
    /// `correct_rate x steps` for the label and `incorrect_rate x steps` for
    /// the others, divided by the steps (snnTorch `mse_count_loss`).
    MseCount,
}

impl Loss {
    /// Needs the output layer to be a LIF layer.
    pub fn needs_spiking_output(self) -> bool {
        !matches!(self, Loss::CrossEntropy)
    }
}

/// The batch's mean loss and its correct predictions, written gradients:
/// `grad_output` (same shape as `output`) and `grad_membrane` (the output
/// membrane's, for a spiking output).
pub struct Batch<'a> {
    pub steps: usize,
    pub classes: usize,
    pub labels: &'a [u8],
    pub output: &'a [f32],
    pub membrane: Option<&'a [f32]>,
}

pub struct Rates {
    pub correct_rate: f32,
    pub incorrect_rate: f32,
}

/// Softmax cross-entropy of one row of logits; writes softmax - onehot,
/// times `scale`, into `grad` if given; returns the loss.
fn cross_entropy(logits: &[f32], label: usize, scale: f32, grad: Option<&mut [f32]>) -> f64 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f64 = logits.iter().map(|&z| ((z - max) as f64).exp()).sum();
    let loss = sum.ln() - (logits[label] - max) as f64;
    if let Some(grad) = grad {
        for (c, (g, &z)) in grad.iter_mut().zip(logits).enumerate() {
            let p = ((z - max) as f64).exp() / sum;
            *g = scale * (p as f32 - if c == label { 1.0 } else { 0.0 });
        }
    }
    loss
}

/// Spike counts (or summed outputs) per sample: [batch, classes].
fn sum_over_time(rows: &[f32], steps: usize, classes: usize) -> Vec<f32> {
    let block = rows.len() / steps;
    let mut sums = vec![0.0f32; block];
    for t in 0..steps {
        for (s, x) in sums.iter_mut().zip(&rows[t * block..(t + 1) * block]) {
            *s += x;
        }
    }
    debug_assert_eq!(block % classes, 0);
    sums
}

/// The predicted class of each sample: the largest summed output; with a
/// spiking output, the most spikes, ties broken by the summed membrane.
pub fn predictions(batch: &Batch) -> Vec<u8> {
    let scores = sum_over_time(batch.output, batch.steps, batch.classes);
    let tie_break = batch.membrane.map(|m| sum_over_time(m, batch.steps, batch.classes));
    scores
        .chunks_exact(batch.classes)
        .enumerate()
        .map(|(b, row)| {
            let mut best = 0;
            for c in 1..batch.classes {
                let better = match &tie_break {
                    Some(m) => {
                        let m = &m[b * batch.classes..];
                        row[c] > row[best] || (row[c] == row[best] && m[c] > m[best])
                    }
                    None => row[c] > row[best],
                };
                if better {
                    best = c;
                }
            }
            best as u8
        })
        .collect()
}

/// The mean loss over the batch; fills the gradients if given.
pub fn loss(
    kind: Loss,
    batch: &Batch,
    rates: &Rates,
    grad_output: Option<&mut [f32]>,
    grad_membrane: Option<&mut Vec<f32>>,
) -> f64 {
    let (steps, classes) = (batch.steps, batch.classes);
    let samples = batch.labels.len();
    let block = samples * classes;
    let inv_batch = 1.0 / samples as f32;
    let mut grad_output = grad_output;
    if let Some(g) = grad_output.as_deref_mut() {
        g.fill(0.0);
    }
    match kind {
        Loss::CrossEntropy => {
            let sums = sum_over_time(batch.output, steps, classes);
            let mut total = 0.0;
            let mut grad_sample = vec![0.0f32; classes];
            for (b, &label) in batch.labels.iter().enumerate() {
                let logits = &sums[b * classes..(b + 1) * classes];
                total += cross_entropy(logits, label as usize, inv_batch, Some(&mut grad_sample));
                if let Some(g) = grad_output.as_deref_mut() {
                    for t in 0..steps {
                        g[t * block + b * classes..][..classes].copy_from_slice(&grad_sample);
                    }
                }
            }
            total / samples as f64
        }
        Loss::CrossEntropyMembrane => {
            let membrane = batch.membrane.expect("validated: a spiking output");
            let mut grad_m = grad_membrane;
            if let Some(g) = grad_m.as_deref_mut() {
                g.resize(membrane.len(), 0.0);
            }
            let mut total = 0.0;
            for t in 0..steps {
                for (b, &label) in batch.labels.iter().enumerate() {
                    let at = t * block + b * classes;
                    let grad = grad_m.as_deref_mut().map(|g| &mut g[at..at + classes]);
                    total += cross_entropy(&membrane[at..at + classes], label as usize, inv_batch, grad);
                }
            }
            total / samples as f64
        }
        Loss::CrossEntropyCount => {
            let counts = sum_over_time(batch.output, steps, classes);
            let mut total = 0.0;
            let mut grad_sample = vec![0.0f32; classes];
            for (b, &label) in batch.labels.iter().enumerate() {
                total += cross_entropy(
                    &counts[b * classes..][..classes],
                    label as usize,
                    inv_batch,
                    Some(&mut grad_sample),
                );
                if let Some(g) = grad_output.as_deref_mut() {
                    for t in 0..steps {
                        g[t * block + b * classes..][..classes].copy_from_slice(&grad_sample);
                    }
                }
            }
            total / samples as f64
        }
        Loss::MseCount => {
            let counts = sum_over_time(batch.output, steps, classes);
            let mut total = 0.0f64;
            let scale = 2.0 / (block as f32 * steps as f32);
            for (b, &label) in batch.labels.iter().enumerate() {
                for c in 0..classes {
                    let rate = if c == label as usize {
                        rates.correct_rate
                    } else {
                        rates.incorrect_rate
                    };
                    let error = counts[b * classes + c] - rate * steps as f32;
                    total += (error as f64).powi(2);
                    if let Some(g) = grad_output.as_deref_mut() {
                        for t in 0..steps {
                            g[t * block + b * classes + c] = scale * error;
                        }
                    }
                }
            }
            total / (block as f64 * steps as f64)
        }
    }
}
