//! Optimisers (SGD with momentum, Adam) and learning-rate schedules.

use super::layers::Param;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum OptimizerSpec {
    /// PyTorch's SGD: v = momentum v + g (+ weight_decay w); w -= lr v
    /// (Nesterov: w -= lr (g + momentum v)).
    Sgd {
        learning_rate: f64,
        #[serde(default)]
        momentum: f64,
        #[serde(default)]
        nesterov: bool,
        #[serde(default)]
        weight_decay: f64,
    },
    /// Kingma & Ba 2015, with bias correction; `weight_decay` is decoupled
    /// (AdamW, Loshchilov & Hutter 2019).
    Adam {
        learning_rate: f64,
        #[serde(default = "beta1")]
        beta1: f64,
        #[serde(default = "beta2")]
        beta2: f64,
        #[serde(default = "epsilon")]
        epsilon: f64,
        #[serde(default)]
        weight_decay: f64,
    },
}

fn beta1() -> f64 {
    0.9
}
fn beta2() -> f64 {
    0.999
}
fn epsilon() -> f64 {
    1e-8
}

impl OptimizerSpec {
    pub fn learning_rate(&self) -> f64 {
        match self {
            OptimizerSpec::Sgd { learning_rate, .. } | OptimizerSpec::Adam { learning_rate, .. } => *learning_rate,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Schedule {
    #[default]
    Constant,
    /// Multiply the rate by `gamma` every `every_epochs`.
    Step { every_epochs: usize, gamma: f64 },
    /// Cosine annealing from the initial rate to `min_learning_rate` over the epochs.
    Cosine {
        #[serde(default)]
        min_learning_rate: f64,
    },
}

impl Schedule {
    /// The learning rate in `epoch` (from 0) of `epochs`.
    pub fn rate(&self, initial: f64, epoch: usize, epochs: usize) -> f64 {
        match self {
            Schedule::Constant => initial,
            Schedule::Step { every_epochs, gamma } => initial * gamma.powi((epoch / (*every_epochs).max(1)) as i32),
            Schedule::Cosine { min_learning_rate } => {
                let progress = epoch as f64 / epochs.max(1) as f64;
                min_learning_rate
                    + 0.5 * (initial - min_learning_rate) * (1.0 + (std::f64::consts::PI * progress).cos())
            }
        }
    }
}

/// An optimiser's state: one or two moment vectors per parameter tensor.
#[derive(Debug, Clone, PartialEq)]
pub struct Optimizer {
    pub spec: OptimizerSpec,
    /// Updates done (Adam's bias correction).
    pub steps: u64,
    /// Per tensor: SGD's velocity, or Adam's first then second moments.
    pub state: Vec<Vec<f32>>,
}

impl Optimizer {
    pub fn new(spec: OptimizerSpec, params: &[&mut Param]) -> Optimizer {
        let per_tensor = match spec {
            OptimizerSpec::Sgd { .. } => 1,
            OptimizerSpec::Adam { .. } => 2,
        };
        let state = params
            .iter()
            .flat_map(|p| std::iter::repeat_n(vec![0.0; p.value.len()], per_tensor))
            .collect();
        Optimizer { spec, steps: 0, state }
    }

    /// One update of every tensor from its gradient, at `learning_rate`.
    pub fn step(&mut self, params: &mut [&mut Param], learning_rate: f64) {
        self.steps += 1;
        let lr = learning_rate as f32;
        match self.spec {
            OptimizerSpec::Sgd {
                momentum,
                nesterov,
                weight_decay,
                ..
            } => {
                let (mu, wd) = (momentum as f32, weight_decay as f32);
                for (p, v) in params.iter_mut().zip(self.state.iter_mut()) {
                    for ((w, g), v) in p.value.iter_mut().zip(&p.grad).zip(v.iter_mut()) {
                        let g = g + wd * *w;
                        *v = mu * *v + g;
                        *w -= lr * if nesterov { g + mu * *v } else { *v };
                    }
                }
            }
            OptimizerSpec::Adam {
                beta1,
                beta2,
                epsilon,
                weight_decay,
                ..
            } => {
                let correction1 = 1.0 - beta1.powi(self.steps as i32);
                let correction2 = 1.0 - beta2.powi(self.steps as i32);
                let step_size = (learning_rate / correction1) as f32;
                let root2 = correction2.sqrt() as f32;
                let (b1, b2, eps, wd) = (beta1 as f32, beta2 as f32, epsilon as f32, weight_decay as f32);
                for (p, moments) in params.iter_mut().zip(self.state.chunks_exact_mut(2)) {
                    let (m, v) = moments.split_at_mut(1);
                    for (((w, g), m), v) in p
                        .value
                        .iter_mut()
                        .zip(&p.grad)
                        .zip(m[0].iter_mut())
                        .zip(v[0].iter_mut())
                    {
                        *m = b1 * *m + (1.0 - b1) * g;
                        *v = b2 * *v + (1.0 - b2) * g * g;
                        *w -= lr * wd * *w;
                        *w -= step_size * *m / (v.sqrt() / root2 + eps);
                    }
                }
            }
        }
    }
}
