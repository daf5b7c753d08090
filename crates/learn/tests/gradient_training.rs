//! Gradient training end to end on small slices of the bundled data: each
//! method learns (loss falls, accuracy far above the 10 % of chance), the
//! same seed gives the same bits on 1 and 2 threads, an interrupted run
//! resumes to the same network, and bad experiments are refused with the
//! file, field and value.

use cognitron_data::datasets::{data_dir, Split};
use cognitron_learn::gradient::spec::GradientExperiment;
use cognitron_learn::gradient::train::{self, GradientError, Outcome, RunOptions};
use std::path::PathBuf;

fn data_root() -> PathBuf {
    // Tests run in crates/learn; the data are at the workspace root.
    let here = data_dir();
    if here.join("mnist-10k").exists() {
        here
    } else {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data")
    }
}

const MLP: &str = r#"
[model]
[[model.layers]]
kind = "flatten"
[[model.layers]]
kind = "dense"
units = 64
[[model.layers]]
kind = "relu"
[[model.layers]]
kind = "dense"
units = 10

[training]
method = "backprop"
dataset = "mnist-10k"
train_images = 1500
test_images = 500
epochs = 3
batch_size = 50
[training.optimizer]
kind = "adam"
learning_rate = 2e-3
"#;

const SNN: &str = r#"
[model]
steps = 8
encoding = "rate"
[[model.layers]]
kind = "flatten"
[[model.layers]]
kind = "dense"
units = 64
[[model.layers]]
kind = "lif"
beta = 0.9
[[model.layers]]
kind = "dense"
units = 10
[[model.layers]]
kind = "lif"
beta = 0.9

[training]
method = "backprop"
dataset = "mnist-10k"
train_images = 1500
test_images = 500
epochs = 3
batch_size = 50
loss = "cross_entropy_count"
[training.optimizer]
kind = "adam"
learning_rate = 2e-3
"#;

const CNN: &str = r#"
[model]
[[model.layers]]
kind = "conv2d"
channels = 4
kernel = 5
[[model.layers]]
kind = "relu"
[[model.layers]]
kind = "max_pool"
size = 4
[[model.layers]]
kind = "flatten"
[[model.layers]]
kind = "dense"
units = 10

[training]
method = "backprop"
dataset = "mnist-10k"
train_images = 1000
test_images = 300
epochs = 3
batch_size = 50
[training.optimizer]
kind = "sgd"
learning_rate = 0.1
momentum = 0.9
"#;

const RSNN: &str = r#"
[model]
steps = 28
encoding = "rows"
[[model.layers]]
kind = "dense"
units = 48
[[model.layers]]
kind = "lif"
beta = 0.95
recurrent = true
[[model.layers]]
kind = "dense"
units = 10
[[model.layers]]
kind = "leaky"
beta = 0.95

[training]
method = "backprop"
dataset = "mnist-10k"
train_images = 1500
test_images = 500
epochs = 5
batch_size = 50
[training.optimizer]
kind = "adam"
learning_rate = 2e-3
"#;

fn experiment(text: &str, overrides: &[&str]) -> GradientExperiment {
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    GradientExperiment::parse(text, &overrides, "test.toml").unwrap_or_else(|e| panic!("{e}"))
}

fn out_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cognitron-gradient-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn data(e: &GradientExperiment) -> Split {
    train::dataset(e, &data_root()).expect("bundled data")
}

fn run(e: &GradientExperiment, name: &str) -> Outcome {
    let split = data(e);
    train::train(e, &split, &out_dir(name), RunOptions::default(), &mut |_| {})
        .unwrap_or_else(|err| panic!("{name}: {err}"))
        .expect("runs to the end")
}

/// The loss falls over the epochs and the test accuracy beats `floor`.
fn learns(text: &str, overrides: &[&str], name: &str, floor: f64) -> Outcome {
    let outcome = run(&experiment(text, overrides), name);
    let records = &outcome.records;
    assert!(
        records.last().unwrap().train_loss < 0.8 * records[0].train_loss,
        "{name}: training loss {:?}",
        records.iter().map(|r| r.train_loss).collect::<Vec<_>>()
    );
    assert!(
        outcome.test_accuracy > floor,
        "{name}: test accuracy {:.2}% (want > {floor}%)",
        outcome.test_accuracy
    );
    outcome
}

#[test]
fn each_method_learns_digits() {
    learns(MLP, &[], "mlp-backprop", 85.0);
    learns(MLP, &["training.method=\"feedback_alignment\""], "mlp-fa", 75.0);
    learns(MLP, &["training.method=\"direct_feedback_alignment\""], "mlp-dfa", 75.0);
    learns(SNN, &[], "snn-bptt", 75.0);
    learns(
        SNN,
        &[
            "training.method=\"direct_feedback_alignment\"",
            "model.encoding=\"analog\"",
            "training.loss=\"cross_entropy_membrane\"",
        ],
        "snn-dfa",
        70.0,
    );
    learns(CNN, &[], "cnn", 80.0);
    // Two hidden layers, each with its own cost on a fixed random readout.
    let two_costs = MLP.replace(
        "[[model.layers]]\nkind = \"relu\"\n",
        "[[model.layers]]\nkind = \"relu\"\nlocal_loss = \"mean_squared_error\"\n[[model.layers]]\nkind = \"dense\"\nunits = 64\n[[model.layers]]\nkind = \"relu\"\nlocal_loss = \"cross_entropy\"\n",
    );
    learns(&two_costs, &["training.method=\"local_losses\""], "mlp-local", 75.0);
    learns(RSNN, &[], "rsnn-bptt", 45.0);
    learns(RSNN, &["training.method=\"eprop\""], "rsnn-eprop", 45.0);
}

#[test]
fn spiking_losses_learn() {
    learns(
        SNN,
        &["model.encoding=\"analog\"", "training.loss=\"cross_entropy_membrane\""],
        "snn-membrane",
        75.0,
    );
    learns(SNN, &["training.loss=\"mse_count\""], "snn-mse", 60.0);
}

fn weights(outcome: &Outcome) -> Vec<Vec<f32>> {
    outcome.network.params().iter().map(|p| p.value.clone()).collect()
}

#[test]
fn the_same_seed_gives_the_same_bits_on_one_and_two_threads() {
    // A spiking CNN with Poisson (rate) input: convolution, pooling, LIF
    // and dense layers, and the input spikes, all in parallel.
    let text = format!(
        "{}\n",
        CNN.replace(
            "[[model.layers]]\nkind = \"relu\"",
            "[[model.layers]]\nkind = \"lif\"\nbeta = 0.8"
        )
        .replace("[model]", "[model]\nsteps = 4\nencoding = \"rate\"")
    );
    let e = experiment(&text, &["training.train_images=300", "training.test_images=100"]);
    let on = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| run(&e, &format!("threads{threads}")))
    };
    let (one, two) = (on(1), on(2));
    assert_eq!(weights(&one), weights(&two));
    assert_eq!(one.confusion, two.confusion);
    assert_eq!(
        one.records.iter().map(|r| r.train_loss).collect::<Vec<_>>(),
        two.records.iter().map(|r| r.train_loss).collect::<Vec<_>>()
    );
}

#[test]
fn an_interrupted_run_resumes_to_the_same_network() {
    let e = experiment(
        SNN,
        &[
            "training.epochs=3",
            "training.train_images=400",
            "training.test_images=100",
        ],
    );
    let split = data(&e);
    let whole = run(&e, "whole");
    let dir = out_dir("resumed");
    let stopped = train::train(
        &e,
        &split,
        &dir,
        RunOptions {
            resume: true,
            stop_after_epochs: Some(2),
        },
        &mut |_| {},
    )
    .unwrap();
    assert!(stopped.is_none(), "stopped after 2 epochs");
    let resumed = train::train(
        &e,
        &split,
        &dir,
        RunOptions {
            resume: true,
            stop_after_epochs: None,
        },
        &mut |_| {},
    )
    .unwrap()
    .unwrap();
    assert_eq!(resumed.resumed_from_epoch, Some(2));
    assert_eq!(weights(&whole), weights(&resumed));
    assert_eq!(whole.confusion, resumed.confusion);
    assert_eq!(
        whole.records.iter().map(|r| r.test_accuracy).collect::<Vec<_>>(),
        resumed.records.iter().map(|r| r.test_accuracy).collect::<Vec<_>>()
    );
    // A checkpoint of another network is refused with both shapes.
    let other = experiment(SNN, &["training.train_images=400"]);
    let mut other = other;
    if let cognitron_learn::gradient::spec::LayerSpec::Dense { units, .. } = &mut other.model.layers[1] {
        *units = 32;
    }
    let err = match train::train(
        &other,
        &split,
        &dir,
        RunOptions {
            resume: true,
            stop_after_epochs: None,
        },
        &mut |_| {},
    ) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("resumed from the checkpoint of another network"),
    };
    assert!(
        err.contains("gradient.ckpt") && err.contains("another network"),
        "{err}"
    );
    // A truncated checkpoint is refused, not half-loaded.
    let path = train::checkpoint_path(&dir);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 7]).unwrap();
    let err = match train::train(
        &e,
        &split,
        &dir,
        RunOptions {
            resume: true,
            stop_after_epochs: None,
        },
        &mut |_| {},
    ) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("loaded a truncated checkpoint"),
    };
    assert!(err.contains("truncated"), "{err}");
}

#[test]
fn a_diverging_loss_stops_with_the_epoch_and_batch_and_keeps_the_checkpoint() {
    let e = experiment(
        MLP,
        &[
            "training.epochs=1",
            "training.train_images=300",
            "training.test_images=50",
        ],
    );
    let split = data(&e);
    let dir = out_dir("diverge");
    train::train(
        &e,
        &split,
        &dir,
        RunOptions {
            resume: true,
            stop_after_epochs: None,
        },
        &mut |_| {},
    )
    .unwrap();
    let saved = std::fs::read(train::checkpoint_path(&dir)).unwrap();
    // An absurd learning rate overflows within the epoch.
    let bad = experiment(
        MLP,
        &[
            "training.epochs=3",
            "training.train_images=300",
            "training.test_images=50",
            "training.optimizer.learning_rate=1e30",
        ],
    );
    let err = train::train(
        &bad,
        &split,
        &dir,
        RunOptions {
            resume: true,
            stop_after_epochs: None,
        },
        &mut |_| {},
    );
    match err {
        Err(GradientError::Diverged {
            epoch,
            batch,
            checkpoint,
            ..
        }) => {
            assert_eq!(epoch, 2, "the first epoch after the checkpoint");
            assert!(batch >= 1);
            assert!(checkpoint.contains("intact"), "{checkpoint}");
        }
        Err(other) => panic!("wrong error: {other}"),
        Ok(_) => panic!("an absurd learning rate did not diverge"),
    }
    assert_eq!(
        std::fs::read(train::checkpoint_path(&dir)).unwrap(),
        saved,
        "the checkpoint changed"
    );
}

fn refusal(text: &str, overrides: &[&str]) -> String {
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    match GradientExperiment::parse(text, &overrides, "bad.toml") {
        Ok(_) => panic!("accepted: {overrides:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn bad_experiments_are_refused_with_file_field_and_value() {
    // A dense layer after a convolution without flatten: both layers and shapes.
    let text = CNN.replace("[[model.layers]]\nkind = \"flatten\"\n", "");
    let err = refusal(&text, &[]);
    assert!(
        err.starts_with("bad.toml")
            && err.contains("layer 3 (dense)")
            && err.contains("layer 2 (max_pool) gives 4x6x6")
            && err.contains("flatten"),
        "{err}"
    );
    // Declared inputs that do not match.
    let text = MLP.replace("units = 10", "units = 10\ninputs = 100");
    let err = refusal(&text, &[]);
    assert!(
        err.contains("model.layers[3].inputs") && err.contains("100") && err.contains("layer 2 (relu) gives 64"),
        "{err}"
    );
    // The output must have one unit per class.
    let err = refusal(&MLP.replace("units = 10", "units = 12"), &[]);
    assert!(
        err.contains("model.layers[3]") && err.contains("12") && err.contains("one output per class"),
        "{err}"
    );
    // A kernel larger than the image.
    let err = refusal(&CNN.replace("kernel = 5", "kernel = 40"), &[]);
    assert!(err.contains("model.layers[0].kernel") && err.contains("40"), "{err}");
    // A spike-count loss on an ANN output.
    let err = refusal(MLP, &["training.loss=\"mse_count\""]);
    assert!(
        err.contains("training.loss") && err.contains("mse_count") && err.contains("lif output"),
        "{err}"
    );
    // Ranges.
    let err = refusal(MLP, &["training.optimizer.learning_rate=-1"]);
    assert!(
        err.contains("training.optimizer.learning_rate") && err.contains("-1"),
        "{err}"
    );
    let err = refusal(MLP, &["training.batch_size=0"]);
    assert!(
        err.contains("training.batch_size") && err.contains("at least 1"),
        "{err}"
    );
    let err = refusal(SNN, &["model.layers=[{kind=\"lif\", beta=1.5}]"]);
    assert!(err.contains("beta") && err.contains("1.5"), "{err}");
    let err = refusal(RSNN, &["model.steps=20"]);
    assert!(
        err.contains("model.steps") && err.contains("20") && err.contains("28"),
        "{err}"
    );
    let err = refusal(MLP, &["training.dataset=\"cifar\""]);
    assert!(err.contains("training.dataset") && err.contains("cifar"), "{err}");
    // Unknown fields and kinds, with the line.
    let err = refusal(&MLP.replace("units = 64", "units = 64\nunits_typo = 3"), &[]);
    assert!(err.starts_with("bad.toml:") && err.contains("units_typo"), "{err}");
    let err = refusal(&MLP.replace("kind = \"relu\"", "kind = \"gelu\""), &[]);
    assert!(err.contains("gelu") && err.contains("relu"), "{err}");
    let err = refusal(MLP, &["training.method=\"hebb\""]);
    assert!(err.contains("hebb") && err.contains("backprop"), "{err}");
}

#[test]
fn every_gradient_experiment_file_is_valid() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../experiments");
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        if path.extension().is_some_and(|e| e == "toml") && text.contains("[model]") {
            GradientExperiment::load(&path, &[]).unwrap_or_else(|e| panic!("{e}"));
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} gradient experiments");
}
