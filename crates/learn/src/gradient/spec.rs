//! The experiment file of a gradient-trained network: `[model]` (input,
//! time steps, encoding, and the list of layers) and `[training]` (method,
//! data, loss, optimiser). Everything is checked when the file is loaded:
//! each layer must fit the previous one's output, and the error names the
//! two layers and their shapes.

use super::layers::{Conv2d, Dense, Dropout, Lif, Pool, PoolKind, Reset, Shape, Surrogate};
use super::loss::Loss;
use super::model::{CreditAssignment, Layer, LocalLoss, Network};
use super::optim::{OptimizerSpec, Schedule};
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GradientExperiment {
    #[serde(default)]
    pub description: Option<String>,
    pub model: ModelSpec,
    pub training: GradientTraining,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// [channels, height, width] of one image.
    #[serde(default = "image_shape")]
    pub input: [usize; 3],
    /// Time steps per sample (1 for an ANN).
    #[serde(default = "one")]
    pub steps: usize,
    #[serde(default)]
    pub encoding: Encoding,
    pub layers: Vec<LayerSpec>,
}

fn image_shape() -> [usize; 3] {
    [1, 28, 28]
}
fn one() -> usize {
    1
}

/// How an image becomes the input of each time step.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    /// The pixel intensity (0 to 1) as input current at every step.
    #[default]
    Analog,
    /// A Bernoulli spike at each step with probability `rate_gain x intensity`.
    Rate,
    /// One spike per pixel brighter than `latency_threshold`, at step
    /// round((1 - intensity) (steps - 1)): brighter pixels fire earlier.
    Latency,
    /// Row t of the image (its intensities) as the input of step t: the
    /// image read as a sequence, top to bottom (steps = image height).
    Rows,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum LayerSpec {
    Dense {
        units: usize,
        /// Optional: checked against the previous layer's output.
        #[serde(default)]
        inputs: Option<usize>,
    },
    Conv2d {
        channels: usize,
        kernel: usize,
        #[serde(default)]
        padding: usize,
        /// Optional: checked against the previous layer's output.
        #[serde(default)]
        in_channels: Option<usize>,
    },
    MaxPool {
        size: usize,
    },
    AvgPool {
        size: usize,
    },
    Flatten,
    Relu {
        /// Under `local_losses`: the cost of this layer's readout.
        #[serde(default)]
        local_loss: Option<LocalLoss>,
    },
    /// Inverted dropout while training (Srivastava et al. 2014).
    Dropout {
        rate: f32,
    },
    /// Leaky integrators without threshold whose output is their membrane
    /// potential: a readout for spiking networks.
    Leaky {
        #[serde(default = "default_beta")]
        beta: f32,
    },
    Lif {
        /// Membrane decay per step, exp(-dt / tau).
        #[serde(default = "default_beta")]
        beta: f32,
        #[serde(default = "default_threshold")]
        threshold: f32,
        #[serde(default = "default_reset")]
        reset: Reset,
        #[serde(default = "default_surrogate")]
        surrogate: Surrogate,
        /// The surrogate's slope (default: 25 fast_sigmoid, 2 arctan, 1 triangle).
        #[serde(default)]
        slope: Option<f32>,
        #[serde(default = "yes")]
        detach_reset: bool,
        /// All-to-all recurrent weights within the layer.
        #[serde(default)]
        recurrent: bool,
        /// Under `local_losses`: the cost of this layer's readout.
        #[serde(default)]
        local_loss: Option<LocalLoss>,
    },
}

fn default_beta() -> f32 {
    0.95
}
fn default_threshold() -> f32 {
    1.0
}
fn default_reset() -> Reset {
    Reset::Subtract
}
fn default_surrogate() -> Surrogate {
    Surrogate::FastSigmoid
}
fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GradientTraining {
    pub method: CreditAssignment,
    /// `mnist-10k` (seeded 8,000 / 2,000 split) or `fashion-mnist` (60,000 / 10,000).
    pub dataset: String,
    #[serde(default)]
    pub train_images: Option<usize>,
    #[serde(default)]
    pub test_images: Option<usize>,
    pub epochs: usize,
    #[serde(default = "default_batch")]
    pub batch_size: usize,
    #[serde(default = "default_eval_batch")]
    pub eval_batch_size: usize,
    #[serde(default = "default_loss")]
    pub loss: Loss,
    /// `mse_count`: target spike rates of the right and the wrong classes.
    #[serde(default = "default_correct_rate")]
    pub correct_rate: f32,
    #[serde(default = "default_incorrect_rate")]
    pub incorrect_rate: f32,
    pub optimizer: OptimizerSpec,
    #[serde(default)]
    pub schedule: Schedule,
    /// Seeds the initial weights, the feedback matrices, the shuffling and
    /// the input spikes.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// `rate` encoding: spike probability per step of a white pixel.
    #[serde(default = "default_rate_gain")]
    pub rate_gain: f32,
    /// `latency` encoding: pixels at or below this intensity do not fire.
    #[serde(default)]
    pub latency_threshold: f32,
}

fn default_batch() -> usize {
    100
}
fn default_eval_batch() -> usize {
    500
}
fn default_loss() -> Loss {
    Loss::CrossEntropy
}
fn default_correct_rate() -> f32 {
    0.8
}
fn default_incorrect_rate() -> f32 {
    0.2
}
fn default_seed() -> u64 {
    1
}
fn default_rate_gain() -> f32 {
    1.0
}

/// A refused experiment: the file, the field (dotted path) and value, why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}: {}{reason}", if field.is_empty() { String::new() } else { format!("field `{field}` = {value}: ") })]
pub struct SpecError {
    pub file: String,
    pub field: String,
    pub value: String,
    pub reason: String,
}

pub const CLASSES: usize = 10;

impl GradientExperiment {
    /// Reads `path`, applies `key.path=value` overrides, parses and checks it.
    pub fn load(path: &Path, overrides: &[String]) -> Result<GradientExperiment, SpecError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| SpecError {
            file: file.clone(),
            field: String::new(),
            value: String::new(),
            reason: format!("cannot read the experiment: {e}"),
        })?;
        Self::parse(&text, overrides, &file)
    }

    pub fn parse(text: &str, overrides: &[String], file: &str) -> Result<GradientExperiment, SpecError> {
        let error = |field: &str, value: String, reason: String| SpecError {
            file: file.to_string(),
            field: field.to_string(),
            value,
            reason,
        };
        let text = cognitron_core::experiment::apply_overrides(text, overrides)
            .map_err(|e| error(&e.field, e.value.clone(), e.reason.clone()))?;
        let experiment: GradientExperiment = toml::from_str(&text).map_err(|e: toml::de::Error| {
            let line = e.span().map(|s| text[..s.start].lines().count().max(1));
            let snippet = e
                .span()
                .map(|s| text[s.clone()].trim().chars().take(60).collect::<String>())
                .unwrap_or_default();
            SpecError {
                file: match line {
                    Some(line) => format!("{file}:{line}"),
                    None => file.to_string(),
                },
                field: String::new(),
                value: String::new(),
                reason: if snippet.is_empty() {
                    e.message().to_string()
                } else {
                    format!("{} (at `{snippet}`)", e.message())
                },
            }
        })?;
        experiment
            .check()
            .map_err(|(field, value, reason)| error(&field, value, reason))?;
        Ok(experiment)
    }

    /// Range and consistency checks, and the layers' shapes.
    fn check(&self) -> Result<(), (String, String, String)> {
        let t = &self.training;
        let bad = |field: &str, value: String, reason: &str| Err((field.to_string(), value, reason.to_string()));
        if !["mnist-10k", "fashion-mnist"].contains(&t.dataset.as_str()) {
            return bad(
                "training.dataset",
                format!("\"{}\"", t.dataset),
                "one of \"mnist-10k\", \"fashion-mnist\"",
            );
        }
        for (field, n) in [
            ("training.epochs", t.epochs),
            ("training.batch_size", t.batch_size),
            ("training.eval_batch_size", t.eval_batch_size),
            ("model.steps", self.model.steps),
        ] {
            if n == 0 {
                return bad(field, "0".into(), "must be at least 1");
            }
        }
        for (field, n) in [
            ("training.train_images", t.train_images),
            ("training.test_images", t.test_images),
        ] {
            if n == Some(0) {
                return bad(field, "0".into(), "must be at least 1");
            }
        }
        let lr = t.optimizer.learning_rate();
        if !(lr.is_finite() && lr > 0.0) {
            return bad(
                "training.optimizer.learning_rate",
                lr.to_string(),
                "must be a finite number > 0",
            );
        }
        match &t.optimizer {
            OptimizerSpec::Sgd {
                momentum, weight_decay, ..
            } => {
                if !(0.0..1.0).contains(momentum) {
                    return bad("training.optimizer.momentum", momentum.to_string(), "must be in [0, 1)");
                }
                if !(weight_decay.is_finite() && *weight_decay >= 0.0) {
                    return bad(
                        "training.optimizer.weight_decay",
                        weight_decay.to_string(),
                        "must be >= 0",
                    );
                }
            }
            OptimizerSpec::Adam {
                beta1,
                beta2,
                epsilon,
                weight_decay,
                ..
            } => {
                for (field, b) in [("beta1", beta1), ("beta2", beta2)] {
                    if !(0.0..1.0).contains(b) {
                        return bad(
                            &format!("training.optimizer.{field}"),
                            b.to_string(),
                            "must be in [0, 1)",
                        );
                    }
                }
                if !(epsilon.is_finite() && *epsilon > 0.0) {
                    return bad("training.optimizer.epsilon", epsilon.to_string(), "must be > 0");
                }
                if !(weight_decay.is_finite() && *weight_decay >= 0.0) {
                    return bad(
                        "training.optimizer.weight_decay",
                        weight_decay.to_string(),
                        "must be >= 0",
                    );
                }
            }
        }
        match &t.schedule {
            Schedule::Step { every_epochs, gamma } => {
                if *every_epochs == 0 {
                    return bad("training.schedule.every_epochs", "0".into(), "must be at least 1");
                }
                if !(*gamma > 0.0 && *gamma <= 1.0) {
                    return bad("training.schedule.gamma", gamma.to_string(), "must be in (0, 1]");
                }
            }
            Schedule::Cosine { min_learning_rate } => {
                if !(*min_learning_rate >= 0.0 && *min_learning_rate <= lr) {
                    return bad(
                        "training.schedule.min_learning_rate",
                        min_learning_rate.to_string(),
                        "must be in [0, learning_rate]",
                    );
                }
            }
            Schedule::Constant => {}
        }
        if !(t.rate_gain > 0.0 && t.rate_gain <= 1.0) {
            return bad(
                "training.rate_gain",
                t.rate_gain.to_string(),
                "a probability per step: in (0, 1]",
            );
        }
        if !(0.0..1.0).contains(&t.latency_threshold) {
            return bad(
                "training.latency_threshold",
                t.latency_threshold.to_string(),
                "must be in [0, 1)",
            );
        }
        for (field, r) in [
            ("training.correct_rate", t.correct_rate),
            ("training.incorrect_rate", t.incorrect_rate),
        ] {
            if !(0.0..=1.0).contains(&r) {
                return bad(field, r.to_string(), "a spike probability per step: in [0, 1]");
            }
        }
        if self.model.encoding == Encoding::Rows && self.model.steps != self.model.input[1] {
            return bad(
                "model.steps",
                self.model.steps.to_string(),
                &format!(
                    "the rows encoding shows one row per step: steps must be the image height, {}",
                    self.model.input[1]
                ),
            );
        }
        if self.model.input != [1, 28, 28] {
            return bad(
                "model.input",
                format!("{:?}", self.model.input),
                "the datasets' images are [1, 28, 28]",
            );
        }
        let layers = self.build_layers(&mut Xoshiro256PlusPlus::seed_from_u64(0))?;
        let last = layers.last().expect("checked: at least one layer");
        if last.output_shape().len() != CLASSES {
            return bad(
                &format!("model.layers[{}]", layers.len() - 1),
                last.output_shape().to_string(),
                &format!(
                    "the last layer ({}) must give one output per class: {CLASSES}",
                    last.kind()
                ),
            );
        }
        if t.loss.needs_spiking_output() && !matches!(last, Layer::Lif(l) if !l.readout) {
            return bad(
                "training.loss",
                format!("\"{}\"", serde_plain(&t.loss)),
                &format!("needs a lif output layer, but the last layer is {}", last.kind()),
            );
        }
        if !layers.iter().any(|l| matches!(l, Layer::Dense(_) | Layer::Conv(_))) {
            return bad(
                "model.layers",
                format!("{} layers", layers.len()),
                "no dense or conv2d layer to train",
            );
        }
        Ok(())
    }

    /// The layers, initialised from `rng`, with their shapes checked.
    pub fn build_layers(&self, rng: &mut Xoshiro256PlusPlus) -> Result<Vec<Layer>, (String, String, String)> {
        let m = &self.model;
        if m.layers.is_empty() {
            return Err(("model.layers".into(), "[]".into(), "no layers".into()));
        }
        let mut shape = self.input_shape();
        let mut layers: Vec<Layer> = Vec::new();
        for (i, spec) in m.layers.iter().enumerate() {
            let field = format!("model.layers[{i}]");
            let previous = match layers.last() {
                Some(l) => format!("layer {} ({}) gives {shape}", i - 1, l.kind()),
                None => format!("the input is {shape}"),
            };
            let mismatch =
                |what: &str, value: String, reason: String| -> Result<Vec<Layer>, (String, String, String)> {
                    Err((format!("{field}.{what}"), value, reason))
                };
            let layer = match spec {
                LayerSpec::Dense { units, inputs } => {
                    if *units == 0 {
                        return mismatch("units", "0".into(), "must be at least 1".into());
                    }
                    if !shape.is_flat() {
                        return mismatch(
                            "kind",
                            "\"dense\"".into(),
                            format!("layer {i} (dense) needs a flat input, but {previous}: put a flatten layer between them"),
                        );
                    }
                    if let Some(n) = inputs {
                        if *n != shape.len() {
                            return mismatch(
                                "inputs",
                                n.to_string(),
                                format!("layer {i} (dense) expects {n} inputs, but {previous}"),
                            );
                        }
                    }
                    Layer::Dense(Dense::new(shape.len(), *units, rng))
                }
                LayerSpec::Conv2d {
                    channels,
                    kernel,
                    padding,
                    in_channels,
                } => {
                    if *channels == 0 || *kernel == 0 {
                        return mismatch(
                            "kernel",
                            kernel.to_string(),
                            "channels and kernel must be at least 1".into(),
                        );
                    }
                    if shape.is_flat() && layers.last().is_some() {
                        return mismatch(
                            "kind",
                            "\"conv2d\"".into(),
                            format!("layer {i} (conv2d) needs an image (channels x height x width), but {previous}"),
                        );
                    }
                    if let Some(c) = in_channels {
                        if *c != shape.channels {
                            return mismatch(
                                "in_channels",
                                c.to_string(),
                                format!("layer {i} (conv2d) expects {c} channels, but {previous}"),
                            );
                        }
                    }
                    if *kernel > shape.height.min(shape.width) + 2 * padding {
                        return mismatch(
                            "kernel",
                            kernel.to_string(),
                            format!("layer {i} (conv2d): a {kernel}x{kernel} kernel does not fit, {previous} (padding {padding})"),
                        );
                    }
                    Layer::Conv(Conv2d::new(shape, *channels, *kernel, *padding, rng))
                }
                LayerSpec::MaxPool { size } | LayerSpec::AvgPool { size } => {
                    let kind = if matches!(spec, LayerSpec::MaxPool { .. }) {
                        PoolKind::Max
                    } else {
                        PoolKind::Average
                    };
                    if *size == 0 || *size > shape.height.min(shape.width) || shape.is_flat() {
                        return mismatch(
                            "size",
                            size.to_string(),
                            format!("layer {i} (pooling) needs an image at least {size}x{size}, but {previous}"),
                        );
                    }
                    Layer::Pool(Pool::new(kind, *size, shape))
                }
                LayerSpec::Flatten => Layer::Flatten(Shape::flat(shape.len())),
                LayerSpec::Dropout { rate } => {
                    if !(0.0..1.0).contains(rate) {
                        return mismatch("rate", rate.to_string(), "a probability of dropping: in [0, 1)".into());
                    }
                    Layer::Dropout(Dropout::new(*rate, shape))
                }
                LayerSpec::Leaky { beta } => {
                    if !(*beta > 0.0 && *beta <= 1.0) {
                        return mismatch("beta", beta.to_string(), "the decay per step: in (0, 1]".into());
                    }
                    Layer::Lif(Lif::readout(shape, *beta))
                }
                LayerSpec::Relu { .. } => Layer::Relu(shape),
                LayerSpec::Lif {
                    beta,
                    threshold,
                    reset,
                    surrogate,
                    slope,
                    detach_reset,
                    recurrent,
                    ..
                } => {
                    if !(*beta > 0.0 && *beta <= 1.0) {
                        return mismatch("beta", beta.to_string(), "the decay per step: in (0, 1]".into());
                    }
                    if !(*threshold > 0.0 && threshold.is_finite()) {
                        return mismatch("threshold", threshold.to_string(), "must be a finite number > 0".into());
                    }
                    let slope = slope.unwrap_or(surrogate.default_slope());
                    if !(slope > 0.0 && slope.is_finite()) {
                        return mismatch("slope", slope.to_string(), "must be a finite number > 0".into());
                    }
                    if *recurrent && !shape.is_flat() {
                        return mismatch(
                            "recurrent",
                            "true".into(),
                            format!("layer {i}: recurrent LIF layers take flat inputs, but {previous}"),
                        );
                    }
                    Layer::Lif(Lif::new(
                        shape,
                        *beta,
                        *threshold,
                        *reset,
                        *surrogate,
                        slope,
                        *detach_reset,
                        *recurrent,
                        rng,
                    ))
                }
            };
            shape = layer.output_shape();
            if shape.is_empty() {
                return Err((
                    field,
                    format!("{:?}", spec),
                    format!("layer {i} gives an empty output ({previous})"),
                ));
            }
            layers.push(layer);
        }
        Ok(layers)
    }

    /// The input of one step: the image, or one row of it (`rows` encoding).
    pub fn input_shape(&self) -> Shape {
        let [channels, height, width] = self.model.input;
        match self.model.encoding {
            Encoding::Rows => Shape::flat(channels * width),
            _ => Shape {
                channels,
                height,
                width,
            },
        }
    }

    /// The network, initialised from the experiment's seed.
    pub fn network(&self) -> Network {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(self.training.seed);
        let layers = self.build_layers(&mut rng).expect("checked when loaded");
        let input = self.input_shape();
        let mut network = Network::new(input, self.model.steps, layers, self.training.method, &mut rng);
        network.set_static_input(self.model.encoding == Encoding::Analog);
        if self.training.method == CreditAssignment::LocalLosses {
            let costs: Vec<Option<LocalLoss>> = self
                .model
                .layers
                .iter()
                .map(|l| match l {
                    LayerSpec::Relu { local_loss } | LayerSpec::Lif { local_loss, .. } => *local_loss,
                    _ => None,
                })
                .collect();
            network.set_local_losses(&costs, &mut rng);
        }
        network
    }
}

/// The serde name of a unit enum variant (`CrossEntropyMembrane` -> `cross_entropy_membrane`).
pub fn serde_plain<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}
