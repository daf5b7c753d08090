//! `cognitron train EXP.toml`: trains the network of an experiment as its
//! `[training]` table says, then writes the results and pictures.

use crate::{output, plot_learning};
use anyhow::{Context, Result};
use cognitron_core::experiment;
use cognitron_learn::unsupervised::{self, Phase};
use cognitron_learn::TrainingSpec;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use std::path::Path;

pub struct Request<'a> {
    pub experiment: &'a Path,
    pub out: &'a Path,
    pub overrides: &'a [String],
    pub fresh: bool,
    pub plots: bool,
}

pub fn run(request: &Request) -> Result<()> {
    if is_gradient_experiment(request.experiment) {
        return crate::train_gradient::run(request);
    }
    let path = request.experiment;
    let network = experiment::load(path, request.overrides)?;
    let spec = TrainingSpec::from_network(&network, &path.display().to_string())?;
    let data_dir = cognitron_data::datasets::data_dir();
    let data = unsupervised::dataset(&spec, &data_dir)
        .with_context(|| format!("cannot load {} from {}", spec.dataset, data_dir.display()))?;
    let out = request.out;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create the output folder {}", out.display()))?;
    output::write_atomic(&out.join("experiment.toml"), network.to_toml().as_bytes())?;
    if request.fresh {
        let checkpoint = unsupervised::checkpoint_path(out);
        if checkpoint.exists() {
            std::fs::remove_file(&checkpoint).with_context(|| format!("cannot remove {}", checkpoint.display()))?;
        }
    } else if unsupervised::checkpoint_path(out).exists() {
        say!("resuming from {}", unsupervised::checkpoint_path(out).display());
    }

    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix:>5} {elapsed_precise} [{bar:30}] {pos}/{len} images ({per_sec}, {eta} left) {msg}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    let mut shown = None;
    let options = unsupervised::RunOptions {
        resume: true,
        crash_after: None,
    };
    let outcome = unsupervised::train(
        &network,
        &spec,
        &data,
        out,
        options,
        &mut |phase, done, total, accuracy| {
            if shown != Some(phase) {
                shown = Some(phase);
                bar.reset();
                bar.set_length(total as u64);
                bar.set_prefix(match phase {
                    Phase::Train => "train",
                    Phase::Label => "label",
                    Phase::Test => "test",
                });
            }
            bar.set_position(done as u64);
            if let Some(a) = accuracy {
                bar.set_message(format!("accuracy {a:.1}%"));
            }
        },
    );
    bar.finish_and_clear();
    let outcome = outcome
        .with_context(|| format!("training {} stopped", path.display()))?
        .expect("runs to the end without crash_after");

    let per_image = |s: f64, n: usize| if n > 0 { s / n as f64 } else { 0.0 };
    let summary = json!({
        "experiment": path.display().to_string(),
        "dataset": spec.dataset,
        "method": spec.method,
        "neurons": outcome.n_neurons,
        "inputs": outcome.n_inputs,
        "train_images": outcome.train_images,
        "test_images": outcome.test_images,
        "epochs": outcome.epochs,
        "test_accuracy": outcome.accuracy,
        "test_accuracy_proportion_weighting": outcome.accuracy_proportion,
        "labelling": spec.labelling,
        "label_images": spec.label_images.min(outcome.train_images),
        "presentation_ms": spec.presentation_ms,
        "dt_ms": network.simulation.dt_ms,
        "seed": network.simulation.seed,
        "wall_s": outcome.wall_s,
        "train_s": outcome.train_s,
        "label_s": outcome.label_s,
        "test_s": outcome.test_s,
        "train_s_per_image": per_image(outcome.train_s, outcome.trained_here),
        "test_s_per_image": per_image(outcome.test_s, outcome.test_images),
        "trained_in_this_run": outcome.trained_here,
        "resumed_from_image": outcome.resumed_from,
        "repeated_presentations": outcome.repeats,
        "synapse_bytes": outcome.synapse_bytes,
        "threads": rayon::current_num_threads(),
        "training_curve": outcome.curve,
        "confusion": outcome.confusion,
    });
    output::write_atomic(
        &out.join("summary.json"),
        serde_json::to_string_pretty(&summary)?.as_bytes(),
    )?;
    output::write_atomic(
        &out.join("assignments.json"),
        serde_json::to_string(&json!({ "assignments": outcome.assignments, "theta_mv": outcome.theta }))?.as_bytes(),
    )?;
    let classes: Vec<String> = (0..10).map(|c| c.to_string()).collect();
    let class_names: Vec<&str> = if spec.dataset == "fashion-mnist" {
        // Xiao et al. (2017), labels 0-9.
        vec![
            "T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Boot",
        ]
    } else {
        classes.iter().map(String::as_str).collect()
    };
    if request.plots {
        let side = (outcome.n_inputs as f64).sqrt().round() as usize;
        if side * side == outcome.n_inputs {
            plot_learning::receptive_fields(
                &out.join("receptive_fields.png"),
                &outcome.weights,
                outcome.n_inputs,
                outcome.n_neurons,
                (side, side),
                Some(&outcome.assignments),
                &format!(
                    "{}: learned weights of {} neurons, with their classes",
                    spec.projection, outcome.n_neurons
                ),
            )?;
        }
        plot_learning::confusion_matrix(
            &out.join("confusion.png"),
            &outcome.confusion,
            &class_names,
            &format!("{} test", spec.dataset),
        )?;
        if !outcome.curve.is_empty() {
            plot_learning::learning_curve(
                &out.join("accuracy.png"),
                &[("running training accuracy", outcome.curve.clone())],
                "training images",
                "accuracy (%)",
                &format!("accuracy over training (windows of {} images)", spec.window),
            )?;
        }
        write_report(out, path, &summary)?;
    }
    say!(
        "{}: {} neurons, {} training images x {} epochs, test accuracy {:.2}% ({:.2}% proportion weighting) on {} images",
        path.display(),
        outcome.n_neurons,
        outcome.train_images,
        outcome.epochs,
        outcome.accuracy,
        outcome.accuracy_proportion,
        outcome.test_images
    );
    say!(
        "{:.1} s ({:.2} ms per training image, {:.2} ms per test image); results in {}",
        outcome.wall_s,
        1000.0 * per_image(outcome.train_s, outcome.trained_here),
        1000.0 * per_image(outcome.test_s, outcome.test_images),
        out.display()
    );
    Ok(())
}

/// A `[model]` table of layers means gradient training; populations and
/// projections with a plastic rule mean the unsupervised trainer.
pub fn is_gradient_experiment(path: &Path) -> bool {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|text| text.parse::<toml_edit::DocumentMut>().ok())
        .is_some_and(|doc| doc.contains_key("model"))
}

fn write_report(out: &Path, experiment: &Path, summary: &serde_json::Value) -> Result<()> {
    write_training_report(
        out,
        experiment,
        summary,
        &[
            "dataset",
            "neurons",
            "train_images",
            "test_images",
            "epochs",
            "test_accuracy",
            "test_accuracy_proportion_weighting",
            "train_s_per_image",
            "wall_s",
        ],
        &[
            ("receptive_fields.png", "Learned receptive fields"),
            ("accuracy.png", "Accuracy over training"),
            ("confusion.png", "Confusion matrix (test)"),
        ],
    )
}

/// `report.html` of a training run: the summary's `keys` as a table, then
/// each picture of `pictures` (file, caption) that was written.
pub fn write_training_report(
    out: &Path,
    experiment: &Path,
    summary: &serde_json::Value,
    keys: &[&str],
    pictures: &[(&str, &str)],
) -> Result<()> {
    let mut html = String::from("<!doctype html><html><head><meta charset=\"utf-8\"><title>cognitron train</title>");
    html.push_str("<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}img{max-width:100%}td{padding:2px 10px}</style></head><body>");
    html.push_str(&format!("<h1>{}</h1><table>", experiment.display()));
    for key in keys {
        html.push_str(&format!("<tr><td>{key}</td><td>{}</td></tr>", summary[*key]));
    }
    html.push_str("</table>");
    for (file, caption) in pictures {
        if out.join(file).exists() {
            html.push_str(&format!("<h2>{caption}</h2><img src=\"{file}\">"));
        }
    }
    html.push_str("</body></html>\n");
    output::write_atomic(&out.join("report.html"), html.as_bytes())
}
