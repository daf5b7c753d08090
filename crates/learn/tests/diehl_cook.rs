//! The Diehl & Cook (2015) experiment in short versions: it learns digits
//! (well above chance after 1,000 images), an interrupted training resumed
//! from its last checkpoint ends with exactly the network of an
//! uninterrupted one, and bad training input is refused by name.
//!
//! Full reproductions: `cognitron train experiments/diehl_cook_{100,400,1600}.toml`.

use cognitron_core::experiment;
use cognitron_data::datasets::data_dir;
use cognitron_learn::checkpoint::Checkpoint;
use cognitron_learn::unsupervised::{self, checkpoint_path, Outcome, RunOptions};
use cognitron_learn::TrainingSpec;
use std::path::{Path, PathBuf};

fn experiment_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments/diehl_cook_100.toml")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cognitron-learn-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn train(overrides: &[&str], out: &Path, options: RunOptions) -> Option<Outcome> {
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    let network = experiment::load(&experiment_path(), &overrides).expect("valid experiment");
    let spec = TrainingSpec::from_network(&network, "diehl_cook_100.toml").expect("valid [training]");
    let data = unsupervised::dataset(&spec, &data_dir()).expect("bundled mnist-10k");
    unsupervised::train(&network, &spec, &data, out, options, &mut |_, _, _, _| {}).expect("trains")
}

/// 100 neurons, the first 1,000 training images, 500 test images: the
/// learned receptive fields already classify far above chance (10 %). The
/// full run (8,000 images) reaches 84.5 %.
#[test]
fn learns_digits_from_a_thousand_images() {
    let out = temp_dir("short");
    let outcome = train(
        &[
            "training.train_images=1000",
            "training.test_images=500",
            "training.label_images=1000",
        ],
        &out,
        RunOptions::default(),
    )
    .expect("finished");
    println!(
        "1000 images: test accuracy {:.1} % ({:.1} % proportion weighting), {:.2} ms per training image",
        outcome.accuracy,
        outcome.accuracy_proportion,
        1000.0 * outcome.train_s / outcome.trained_here as f64
    );
    assert!(outcome.accuracy > 60.0, "accuracy {:.1} %", outcome.accuracy);
    // Most neurons found a class, and every class has neurons.
    let assigned: Vec<u8> = outcome.assignments.iter().flatten().copied().collect();
    assert!(assigned.len() >= 80, "{} of 100 neurons assigned", assigned.len());
    for class in 0..10u8 {
        assert!(assigned.contains(&class), "no neuron for class {class}");
    }
    // Normalisation held: each neuron's 784 weights summed to 78 before the
    // last image, which changed them by a few percent at most.
    for n in 0..outcome.n_neurons {
        let sum: f64 = (0..outcome.n_inputs)
            .map(|i| outcome.weights[i * outcome.n_neurons + n] as f64)
            .sum();
        assert!((sum - 78.0).abs() < 78.0 * 0.05, "neuron {n}: weights sum to {sum}");
    }
    assert!(outcome.weights.iter().all(|w| (0.0..=1.0).contains(w)));
    assert!(out.join("trained.ckpt").exists() && checkpoint_path(&out).exists());
    std::fs::remove_dir_all(&out).unwrap();
}

/// A crash after 50 images (checkpoints every 20) loses the 10 images since
/// the last checkpoint; resuming from it gives bit-identical weights,
/// thresholds and results to a run that was never interrupted.
#[test]
fn resumed_training_equals_uninterrupted_training() {
    let settings = [
        "populations.exc.n=30",
        "populations.inh.n=30",
        "training.train_images=80",
        "training.test_images=40",
        "training.label_images=40",
        "training.window=20",
        "training.checkpoint_every=20",
    ];
    let whole_dir = temp_dir("whole");
    let whole = train(&settings, &whole_dir, RunOptions::default()).expect("finished");
    let split_dir = temp_dir("split");
    let crashed = train(
        &settings,
        &split_dir,
        RunOptions {
            resume: false,
            crash_after: Some(50),
        },
    );
    assert!(crashed.is_none());
    let saved = Checkpoint::load(&checkpoint_path(&split_dir)).expect("checkpoint");
    assert_eq!(saved.header.images_done, 40, "the last checkpoint before the crash");
    let resumed = train(
        &settings,
        &split_dir,
        RunOptions {
            resume: true,
            crash_after: None,
        },
    )
    .expect("finished");
    assert_eq!(resumed.resumed_from, Some(40));
    assert_eq!(resumed.trained_here, 40);
    assert_eq!(resumed.weights, whole.weights);
    assert_eq!(resumed.theta, whole.theta);
    assert_eq!(resumed.assignments, whole.assignments);
    assert_eq!(resumed.confusion, whole.confusion);
    assert_eq!(resumed.curve, whole.curve);
    // And learning happened: the weights left their initial distribution.
    assert!(whole.theta.iter().any(|&t| t > 0.0));
    std::fs::remove_dir_all(&whole_dir).unwrap();
    std::fs::remove_dir_all(&split_dir).unwrap();
}

#[test]
fn a_checkpoint_of_another_network_is_refused() {
    let settings = [
        "populations.exc.n=20",
        "populations.inh.n=20",
        "training.train_images=10",
        "training.test_images=10",
        "training.label_images=10",
        "training.window=5",
        "training.checkpoint_every=5",
    ];
    let dir = temp_dir("shape");
    train(
        &settings,
        &dir,
        RunOptions {
            resume: false,
            crash_after: Some(7),
        },
    );
    let overrides: Vec<String> = ["populations.exc.n=25", "populations.inh.n=25"]
        .iter()
        .chain(&settings[2..])
        .map(|s| s.to_string())
        .collect();
    let network = experiment::load(&experiment_path(), &overrides).unwrap();
    let spec = TrainingSpec::from_network(&network, "x.toml").unwrap();
    let data = unsupervised::dataset(&spec, &data_dir()).unwrap();
    let options = RunOptions {
        resume: true,
        crash_after: None,
    };
    let e = unsupervised::train(&network, &spec, &data, &dir, options, &mut |_, _, _, _| {})
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("checkpoint.ckpt")
            && e.contains("another network")
            && e.contains("20 neurons")
            && e.contains("25 neurons"),
        "{e}"
    );
    // A truncated checkpoint is named and refused too.
    let path = checkpoint_path(&dir);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let e = Checkpoint::load(&path).unwrap_err().to_string();
    assert!(e.contains("checkpoint.ckpt") && e.contains("truncated"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_training_tables_are_refused_by_name() {
    let cases: [(&str, &str); 5] = [
        ("training.dataset=\"cifar\"", "[training].dataset = \"cifar\""),
        ("training.projection=\"exc_inh\"", "must be a plastic projection"),
        ("training.input=\"exc\"", "must be a poisson population"),
        ("training.presentation_ms=-1", "[training].presentation_ms = -1"),
        ("training.batch=4", "unknown field `batch`"),
    ];
    for (set, expected) in cases {
        let network = experiment::load(&experiment_path(), &[set.to_string()]).unwrap();
        let e = TrainingSpec::from_network(&network, "dc.toml").unwrap_err().to_string();
        assert!(e.starts_with("dc.toml") && e.contains(expected), "{set}: {e}");
    }
    // A rule parameter out of range is refused when the experiment loads.
    let e = experiment::load(
        &experiment_path(),
        &["projections.input_exc.plasticity.tau_plus_ms=0".to_string()],
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("projections.input_exc.plasticity.tau_plus_ms") && e.contains("> 0"),
        "{e}"
    );
}
