//! Unsupervised learning of images by plasticity, then labelling by
//! responses: the protocol of Diehl & Cook (2015).
//!
//! Each image is shown for `presentation_ms` as Poisson spike trains (pixel
//! x fires at `x / 255 * max_rate_hz`); if the learning neurons fire fewer
//! than `min_spikes` times, the image is shown again with the maximum rate
//! raised by `rate_step_hz`. Before each training image the plastic weights
//! are normalised; between images the network is reset to rest (BindsNET's
//! `reset_state_variables`), after `rest_ms` of simulated silence if asked
//! (Diehl & Cook: 150 ms).
//!
//! After training, each neuron is assigned the class it responds to most
//! (average spike count per image of the class), from its responses with
//! learning off (`labelling = "fixed"`, the paper) or during the last
//! training images (`labelling = "training"`, Diehl & Cook's code and
//! BindsNET). A test image is classified by the class whose neurons fire
//! most on average ("all activity"), or weighting each neuron by how
//! selective it is ("proportion weighting").
//!
//! Every image's random streams are reseeded from the experiment's seed and
//! the image's index, and the state is reset between images, so a run
//! resumed from a checkpoint gives the same network as an uninterrupted one.

use crate::checkpoint::{Checkpoint, CheckpointError, Header, Shape};
use cognitron_core::model::{NeuronSelection, Population};
use cognitron_core::{Network, Simulation};
use cognitron_data::datasets::{Dataset, Split, CLASSES};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The `[training]` table of an experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingSpec {
    /// `unsupervised` (the only method so far).
    #[serde(default = "unsupervised")]
    pub method: String,
    /// `mnist-10k` (seeded 8,000 / 2,000 split) or `fashion-mnist` (60,000 / 10,000).
    pub dataset: String,
    /// Use only the first N training / test images (default: all).
    #[serde(default)]
    pub train_images: Option<usize>,
    #[serde(default)]
    pub test_images: Option<usize>,
    #[serde(default = "one")]
    pub epochs: usize,
    /// The Poisson population that shows the image (one neuron per pixel).
    pub input: String,
    /// The population that learns and is labelled.
    pub neurons: String,
    /// The plastic projection from `input` to `neurons`.
    pub projection: String,
    #[serde(default = "default_presentation")]
    pub presentation_ms: f64,
    /// Silence simulated after each image (Diehl & Cook: 150 ms), with
    /// plasticity on while learning; the state is reset after it either way.
    #[serde(default)]
    pub rest_ms: f64,
    #[serde(default = "default_max_rate")]
    pub max_rate_hz: f64,
    #[serde(default = "default_rate_step")]
    pub rate_step_hz: f64,
    #[serde(default = "default_min_spikes")]
    pub min_spikes: u32,
    #[serde(default = "default_retries")]
    pub max_retries: u32,
    #[serde(default)]
    pub labelling: Labelling,
    /// Images whose responses label the neurons (the last ones of training).
    #[serde(default = "default_label_images")]
    pub label_images: usize,
    /// Images per point of the running training accuracy.
    #[serde(default = "default_window")]
    pub window: usize,
    #[serde(default = "default_checkpoint_every")]
    pub checkpoint_every: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Labelling {
    /// A pass with learning off over the last `label_images` training images.
    #[default]
    Fixed,
    /// The responses during the last `label_images` training images.
    Training,
}

fn unsupervised() -> String {
    "unsupervised".into()
}
fn one() -> usize {
    1
}
fn default_presentation() -> f64 {
    350.0
}
fn default_max_rate() -> f64 {
    63.75
}
fn default_rate_step() -> f64 {
    31.875
}
fn default_min_spikes() -> u32 {
    5
}
fn default_retries() -> u32 {
    5
}
fn default_label_images() -> usize {
    10_000
}
fn default_window() -> usize {
    250
}
fn default_checkpoint_every() -> usize {
    1000
}

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A bad `[training]` field: (field, value, reason).
    #[error("{file}: [training].{field} = {value}: {reason}")]
    Spec {
        file: String,
        field: String,
        value: String,
        reason: String,
    },
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error(transparent)]
    Simulation(#[from] cognitron_core::SimulationError),
    #[error("{0}")]
    Other(String),
}

impl TrainingSpec {
    /// Reads and checks `network.training`; `file` names the experiment in errors.
    pub fn from_network(network: &Network, file: &str) -> Result<TrainingSpec, TrainError> {
        let spec_error = |field: &str, value: String, reason: String| TrainError::Spec {
            file: file.to_string(),
            field: field.to_string(),
            value,
            reason,
        };
        let table = network
            .training
            .clone()
            .ok_or_else(|| spec_error("", "(missing)".into(), "the experiment has no [training] table".into()))?;
        let spec: TrainingSpec = table
            .try_into()
            .map_err(|e: toml::de::Error| spec_error("", "(table)".into(), e.message().to_string()))?;
        if spec.method != "unsupervised" {
            return Err(spec_error(
                "method",
                format!("\"{}\"", spec.method),
                "only \"unsupervised\" is implemented".into(),
            ));
        }
        if !["mnist-10k", "fashion-mnist"].contains(&spec.dataset.as_str()) {
            return Err(spec_error(
                "dataset",
                format!("\"{}\"", spec.dataset),
                "one of \"mnist-10k\", \"fashion-mnist\"".into(),
            ));
        }
        let positive = |field: &str, x: f64| -> Result<(), TrainError> {
            if x.is_finite() && x > 0.0 {
                Ok(())
            } else {
                Err(spec_error(field, x.to_string(), "must be a finite number > 0".into()))
            }
        };
        positive("presentation_ms", spec.presentation_ms)?;
        if !(spec.rest_ms.is_finite() && spec.rest_ms >= 0.0) {
            return Err(spec_error("rest_ms", spec.rest_ms.to_string(), "must be >= 0".into()));
        }
        positive("max_rate_hz", spec.max_rate_hz)?;
        if !(spec.rate_step_hz.is_finite() && spec.rate_step_hz >= 0.0) {
            return Err(spec_error(
                "rate_step_hz",
                spec.rate_step_hz.to_string(),
                "must be >= 0".into(),
            ));
        }
        for (field, n) in [
            ("epochs", spec.epochs),
            ("window", spec.window),
            ("checkpoint_every", spec.checkpoint_every),
            ("label_images", spec.label_images),
        ] {
            if n == 0 {
                return Err(spec_error(field, "0".into(), "must be at least 1".into()));
            }
        }
        let population = |field: &str, name: &str| {
            network
                .populations
                .get(name)
                .ok_or_else(|| spec_error(field, format!("\"{name}\""), "no population of that name".into()))
        };
        if !matches!(population("input", &spec.input)?, Population::Poisson(_)) {
            return Err(spec_error(
                "input",
                format!("\"{}\"", spec.input),
                "must be a poisson population".into(),
            ));
        }
        population("neurons", &spec.neurons)?;
        let projection = network.projections.get(&spec.projection).ok_or_else(|| {
            spec_error(
                "projection",
                format!("\"{}\"", spec.projection),
                "no projection of that name".into(),
            )
        })?;
        if projection.plasticity.is_none() || projection.from != spec.input || projection.to != spec.neurons {
            return Err(spec_error(
                "projection",
                format!("\"{}\"", spec.projection),
                format!(
                    "must be a plastic projection from `{}` to `{}`",
                    spec.input, spec.neurons
                ),
            ));
        }
        Ok(spec)
    }
}

/// Which pass an image belongs to, for progress reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Train,
    Label,
    Test,
}

/// What a training run produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub train_images: usize,
    pub test_images: usize,
    pub epochs: usize,
    pub n_neurons: usize,
    pub n_inputs: usize,
    /// Test accuracy (%) by all-activity and by proportion-weighting voting.
    pub accuracy: f64,
    pub accuracy_proportion: f64,
    /// `confusion[true][predicted]` (all activity).
    pub confusion: [[u32; CLASSES]; CLASSES],
    /// Running accuracy over training: (images, percent).
    pub curve: Vec<(f64, f64)>,
    pub assignments: Vec<Option<u8>>,
    /// Input-major dense weights: `weights[input * n_neurons + neuron]`.
    pub weights: Vec<f32>,
    pub theta: Vec<f64>,
    /// Wall time of each phase in this process (s), and the images it presented.
    pub train_s: f64,
    pub label_s: f64,
    pub test_s: f64,
    pub trained_here: usize,
    pub resumed_from: Option<usize>,
    /// Presentations repeated at a higher rate because the network was silent.
    pub repeats: usize,
    pub synapse_bytes: usize,
    pub wall_s: f64,
}

/// Spike counts per neuron and class, and the images of each class.
#[derive(Debug, Clone)]
struct Responses {
    counts: Vec<f64>,
    images: Vec<u64>,
}

impl Responses {
    fn new(n: usize) -> Self {
        Responses {
            counts: vec![0.0; n * CLASSES],
            images: vec![0; CLASSES],
        }
    }

    fn add(&mut self, counts: &[u32], label: u8) {
        let c = label as usize;
        for (n, &k) in counts.iter().enumerate() {
            self.counts[n * CLASSES + c] += k as f64;
        }
        self.images[c] += 1;
    }

    /// Mean spikes per image of each class, per neuron.
    fn rates(&self) -> Vec<[f64; CLASSES]> {
        self.counts
            .chunks_exact(CLASSES)
            .map(|row| {
                let mut r = [0.0; CLASSES];
                for c in 0..CLASSES {
                    if self.images[c] > 0 {
                        r[c] = row[c] / self.images[c] as f64;
                    }
                }
                r
            })
            .collect()
    }

    /// Each neuron's class: the one it fires most for (None if silent).
    fn assignments(&self) -> Vec<Option<u8>> {
        self.rates()
            .iter()
            .map(|r| {
                let (best, &max) = r
                    .iter()
                    .enumerate()
                    .fold((0, &0.0), |acc, (c, x)| if *x > *acc.1 { (c, x) } else { acc });
                (max > 0.0).then_some(best as u8)
            })
            .collect()
    }
}

/// Votes of the assigned neurons; ties and silence go to the lowest class.
fn predict(counts: &[u32], assignments: &[Option<u8>], weights: Option<&[[f64; CLASSES]]>) -> u8 {
    let mut score = [0.0f64; CLASSES];
    let mut members = [0usize; CLASSES];
    for (n, a) in assignments.iter().enumerate() {
        if let Some(c) = a {
            let c = *c as usize;
            let w = weights.map_or(1.0, |p| p[n][c]);
            score[c] += counts[n] as f64 * w;
            members[c] += 1;
        }
    }
    let mut best = 0;
    for c in 0..CLASSES {
        if members[c] > 0 {
            score[c] /= members[c] as f64;
        }
        if score[c] > score[best] {
            best = c;
        }
    }
    best as u8
}

/// A seed per (phase, image, attempt), mixed from the experiment's seed.
fn image_seed(seed: u64, phase: u64, image: usize, attempt: u32) -> u64 {
    let mut z = seed ^ (phase << 60) ^ ((image as u64) << 8) ^ attempt as u64;
    // SplitMix64's finaliser: nearby inputs give unrelated seeds.
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
    z ^ (z >> 31)
}

struct Trainer<'a> {
    sim: Simulation,
    spec: &'a TrainingSpec,
    seed: u64,
    steps: u64,
    rest_steps: u64,
    n_neurons: usize,
    repeats: usize,
    rates: Vec<f64>,
}

impl Trainer<'_> {
    /// Shows one image and returns the neurons' spike counts.
    fn present(&mut self, image: &[u8], phase: u64, index: usize, learning: bool) -> Result<Vec<u32>, TrainError> {
        let spec = self.spec;
        let mut max_rate = spec.max_rate_hz;
        let mut attempt = 0;
        loop {
            if learning {
                self.sim.normalize(&spec.projection).map_err(TrainError::Other)?;
            }
            self.sim.reseed(image_seed(self.seed, phase, index, attempt));
            for (r, &x) in self.rates.iter_mut().zip(image) {
                *r = x as f64 / 255.0 * max_rate;
            }
            self.sim
                .set_rates(&spec.input, &self.rates)
                .map_err(TrainError::Other)?;
            let before = self.sim.spike_counts(&spec.neurons).map_err(TrainError::Other)?;
            self.sim.run_steps(self.steps)?;
            let after = self.sim.spike_counts(&spec.neurons).map_err(TrainError::Other)?;
            if self.rest_steps > 0 {
                self.rates.fill(0.0);
                self.sim
                    .set_rates(&spec.input, &self.rates)
                    .map_err(TrainError::Other)?;
                self.sim.run_steps(self.rest_steps)?;
            }
            self.sim.reset_state();
            let counts: Vec<u32> = after.iter().zip(&before).map(|(a, b)| a - b).collect();
            let total: u32 = counts.iter().sum();
            if total >= spec.min_spikes || attempt >= spec.max_retries {
                return Ok(counts);
            }
            attempt += 1;
            self.repeats += 1;
            max_rate += spec.rate_step_hz;
        }
    }

    fn weights(&self) -> Vec<f32> {
        self.sim
            .plastic_synapses(&self.spec.projection)
            .expect("checked plastic")
            .weights
    }
}

/// Where training keeps its checkpoint in the output folder.
pub fn checkpoint_path(out: &Path) -> PathBuf {
    out.join("checkpoint.ckpt")
}

/// The training and test images of a dataset (first N of each if asked).
pub fn dataset(spec: &TrainingSpec, dir: &Path) -> Result<Split, TrainError> {
    use cognitron_data::datasets::{fashion_mnist, mnist_10k, MNIST_10K_SEED, MNIST_10K_TRAIN};
    let split = match spec.dataset.as_str() {
        "mnist-10k" => mnist_10k(dir, MNIST_10K_SEED, MNIST_10K_TRAIN),
        _ => fashion_mnist(dir),
    }
    .map_err(|e| TrainError::Other(e.to_string()))?;
    let take = |d: Dataset, n: Option<usize>| match n {
        Some(n) if n < d.len() => d.take(n),
        _ => d,
    };
    Ok(Split {
        train: take(split.train, spec.train_images),
        test: take(split.test, spec.test_images),
    })
}

/// How a run starts and (for tests of interruption) stops.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunOptions {
    /// Continue from the checkpoint in the output folder if there is one.
    pub resume: bool,
    /// Stop abruptly, as if killed, after presenting this many training
    /// images in this process (no checkpoint is written at the stop).
    pub crash_after: Option<usize>,
}

/// Trains, labels and tests. `progress(phase, done, total, accuracy)` is
/// called after every image. Returns None if stopped by `crash_after`.
pub fn train(
    network: &Network,
    spec: &TrainingSpec,
    data: &Split,
    out: &Path,
    options: RunOptions,
    progress: &mut dyn FnMut(Phase, usize, usize, Option<f64>),
) -> Result<Option<Outcome>, TrainError> {
    let started = Instant::now();
    let mut network = network.clone();
    // Nothing is recorded but the counts the trainer reads.
    network.monitors.state.clear();
    network.monitors.spikes = network
        .populations
        .keys()
        .map(|name| (name.clone(), NeuronSelection::Keyword("none".into())))
        .collect();
    let n_inputs = network.scaled_size(&network.populations[&spec.input]);
    let n_neurons = network.scaled_size(&network.populations[&spec.neurons]);
    if n_inputs != data.train.pixels() {
        return Err(TrainError::Spec {
            file: "experiment".into(),
            field: "input".into(),
            value: format!("\"{}\"", spec.input),
            reason: format!(
                "has {n_inputs} neurons but {} images have {} pixels",
                spec.dataset,
                data.train.pixels()
            ),
        });
    }
    let sim = Simulation::build(&network);
    let dt = sim.dt_ms();
    let mut trainer = Trainer {
        steps: (spec.presentation_ms / dt).round() as u64,
        rest_steps: (spec.rest_ms / dt).round() as u64,
        sim,
        spec,
        seed: network.simulation.seed,
        n_neurons,
        repeats: 0,
        rates: vec![0.0; n_inputs],
    };
    let synapses = trainer.weights().len();
    let shape = Shape {
        projection: spec.projection.clone(),
        synapses,
        neurons: spec.neurons.clone(),
        n_neurons,
        n_inputs,
    };
    let has_theta = !trainer.sim.state(&spec.neurons, "theta").is_empty();
    let n_train = data.train.len();
    let total = n_train * spec.epochs;
    let label_from = total.saturating_sub(spec.label_images);

    let mut images_done = 0;
    let mut window = Responses::new(n_neurons);
    let mut label = Responses::new(n_neurons);
    let mut assignments: Vec<Option<u8>> = vec![None; n_neurons];
    let mut curve = Vec::new();
    let (mut window_correct, mut window_seen) = (0usize, 0usize);
    let mut wall_before = 0.0;
    let path = checkpoint_path(out);
    let mut resumed_from = None;
    if options.resume && path.exists() {
        let c = Checkpoint::load(&path)?;
        c.check_shape(&path, &shape)?;
        trainer
            .sim
            .set_plastic_weights(&spec.projection, &c.weights)
            .map_err(TrainError::Other)?;
        if has_theta {
            trainer
                .sim
                .set_state(&spec.neurons, "theta", &c.theta)
                .map_err(TrainError::Other)?;
        }
        let h = c.header;
        images_done = h.images_done.min(total);
        window.counts = h.responses;
        window.images = h.class_images;
        if h.label_responses.len() == label.counts.len() {
            label.counts = h.label_responses;
            label.images = h.label_class_images;
        }
        assignments = h.assignments;
        curve = h.curve;
        window_correct = h.window_correct;
        window_seen = h.window_seen;
        wall_before = h.wall_s;
        resumed_from = Some(images_done);
    }
    let save = |trainer: &Trainer,
                images_done: usize,
                window: &Responses,
                label: &Responses,
                assignments: &[Option<u8>],
                curve: &[(f64, f64)],
                correct: usize,
                seen: usize,
                target: &Path|
     -> Result<(), TrainError> {
        let theta = if has_theta {
            trainer.sim.state(&spec.neurons, "theta")
        } else {
            vec![0.0; n_neurons]
        };
        Checkpoint {
            header: Header {
                shape: shape.clone(),
                images_done,
                responses: window.counts.clone(),
                class_images: window.images.clone(),
                label_responses: label.counts.clone(),
                label_class_images: label.images.clone(),
                assignments: assignments.to_vec(),
                curve: curve.to_vec(),
                window_correct: correct,
                window_seen: seen,
                wall_s: wall_before + started.elapsed().as_secs_f64(),
            },
            weights: trainer.weights(),
            theta,
        }
        .save(target)?;
        Ok(())
    };

    // Training.
    let train_started = Instant::now();
    let trained_here = total - images_done;
    trainer.sim.set_learning(true);
    while images_done < total {
        if options
            .crash_after
            .is_some_and(|n| images_done - (total - trained_here) >= n)
        {
            return Ok(None);
        }
        let i = images_done % n_train;
        let label_of = data.train.label(i);
        let counts = trainer.present(data.train.image(i), 0, images_done, true)?;
        if window_seen > 0 || assignments.iter().any(Option::is_some) {
            window_correct += (predict(&counts, &assignments, None) == label_of) as usize;
        }
        window_seen += 1;
        window.add(&counts, label_of);
        if images_done >= label_from && spec.labelling == Labelling::Training {
            label.add(&counts, label_of);
        }
        images_done += 1;
        if images_done.is_multiple_of(spec.window) {
            if images_done > spec.window {
                curve.push((images_done as f64, 100.0 * window_correct as f64 / window_seen as f64));
            }
            assignments = window.assignments();
            window = Responses::new(n_neurons);
            window_correct = 0;
            window_seen = 0;
        }
        let running = curve.last().map(|p| p.1);
        progress(Phase::Train, images_done, total, running);
        if images_done.is_multiple_of(spec.checkpoint_every) || images_done == total {
            save(
                &trainer,
                images_done,
                &window,
                &label,
                &assignments,
                &curve,
                window_correct,
                window_seen,
                &path,
            )?;
        }
    }
    let train_s = train_started.elapsed().as_secs_f64();

    // Labelling and testing with learning (and homeostasis) off.
    trainer.sim.set_learning(false);
    let label_started = Instant::now();
    if spec.labelling == Labelling::Fixed {
        let count = spec.label_images.min(n_train);
        for k in 0..count {
            let i = n_train - count + k;
            let counts = trainer.present(data.train.image(i), 1, i, false)?;
            label.add(&counts, data.train.label(i));
            progress(Phase::Label, k + 1, count, None);
        }
    }
    let label_s = label_started.elapsed().as_secs_f64();
    let assignments = label.assignments();
    let proportions: Vec<[f64; CLASSES]> = label
        .rates()
        .iter()
        .map(|r| {
            let sum: f64 = r.iter().sum();
            let mut p = [0.0; CLASSES];
            if sum > 0.0 {
                for c in 0..CLASSES {
                    p[c] = r[c] / sum;
                }
            }
            p
        })
        .collect();
    let test_started = Instant::now();
    let mut confusion = [[0u32; CLASSES]; CLASSES];
    let (mut correct, mut correct_proportion) = (0usize, 0usize);
    let n_test = data.test.len();
    for i in 0..n_test {
        let counts = trainer.present(data.test.image(i), 2, i, false)?;
        let truth = data.test.label(i);
        let guess = predict(&counts, &assignments, None);
        confusion[truth as usize][guess as usize] += 1;
        correct += (guess == truth) as usize;
        correct_proportion += (predict(&counts, &assignments, Some(&proportions)) == truth) as usize;
        progress(
            Phase::Test,
            i + 1,
            n_test,
            Some(100.0 * correct as f64 / (i + 1) as f64),
        );
    }
    let test_s = test_started.elapsed().as_secs_f64();
    save(
        &trainer,
        images_done,
        &window,
        &label,
        &assignments,
        &curve,
        window_correct,
        window_seen,
        &out.join("trained.ckpt"),
    )?;

    let synapses = trainer
        .sim
        .plastic_synapses(&spec.projection)
        .map_err(TrainError::Other)?;
    let mut weights = vec![0.0f32; n_inputs * n_neurons];
    for k in 0..synapses.weights.len() {
        weights[synapses.pre[k] as usize * n_neurons + synapses.post[k] as usize] = synapses.weights[k];
    }
    let theta = if has_theta {
        trainer.sim.state(&spec.neurons, "theta")
    } else {
        vec![0.0; n_neurons]
    };
    let percent = |k: usize| {
        if n_test > 0 {
            100.0 * k as f64 / n_test as f64
        } else {
            0.0
        }
    };
    Ok(Some(Outcome {
        train_images: n_train,
        test_images: n_test,
        epochs: spec.epochs,
        n_neurons: trainer.n_neurons,
        n_inputs,
        accuracy: percent(correct),
        accuracy_proportion: percent(correct_proportion),
        confusion,
        curve,
        assignments,
        weights,
        theta,
        train_s,
        label_s,
        test_s,
        trained_here,
        resumed_from,
        repeats: trainer.repeats,
        synapse_bytes: trainer.sim.synapse_memory().1,
        wall_s: wall_before + started.elapsed().as_secs_f64(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignment_and_votes() {
        let mut r = Responses::new(3);
        r.add(&[5, 0, 0], 1);
        r.add(&[0, 4, 0], 2);
        r.add(&[1, 2, 0], 2);
        let a = r.assignments();
        assert_eq!(a, vec![Some(1), Some(2), None]);
        assert_eq!(predict(&[0, 3, 9], &a, None), 2);
        assert_eq!(predict(&[4, 3, 0], &a, None), 1);
        // Silence: the lowest class.
        assert_eq!(predict(&[0, 0, 0], &a, None), 0);
    }

    #[test]
    fn seeds_differ_per_image_and_attempt() {
        let a = image_seed(1, 0, 5, 0);
        assert_ne!(a, image_seed(1, 0, 6, 0));
        assert_ne!(a, image_seed(1, 0, 5, 1));
        assert_ne!(a, image_seed(1, 1, 5, 0));
        assert_eq!(a, image_seed(1, 0, 5, 0));
    }
}
