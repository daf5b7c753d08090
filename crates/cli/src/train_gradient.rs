//! `cognitron train EXP.toml` for gradient-trained networks (a `[model]`
//! with layers, and `[training] method` = backprop, feedback_alignment or
//! direct_feedback_alignment): trains with a progress bar, then writes
//! summary.json, learning curves, the confusion matrix, the first layer's
//! weights and report.html.

use crate::train::Request;
use crate::{output, plot_learning};
use anyhow::{Context, Result};
use cognitron_learn::gradient::model::Layer;
use cognitron_learn::gradient::spec::{serde_plain, GradientExperiment};
use cognitron_learn::gradient::train::{self, Progress, RunOptions};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use std::path::Path;

pub fn run(request: &Request) -> Result<()> {
    let path = request.experiment;
    let experiment = GradientExperiment::load(path, request.overrides)?;
    let t = &experiment.training;
    let data_dir = cognitron_data::datasets::data_dir();
    let data = train::dataset(&experiment, &data_dir)
        .with_context(|| format!("cannot load {} from {}", t.dataset, data_dir.display()))?;
    let out = request.out;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create the output folder {}", out.display()))?;
    let checkpoint = train::checkpoint_path(out);
    if request.fresh && checkpoint.exists() {
        std::fs::remove_file(&checkpoint).with_context(|| format!("cannot remove {}", checkpoint.display()))?;
    } else if checkpoint.exists() {
        say!("resuming from {}", checkpoint.display());
    }
    // The experiment as run: the file with the --set overrides applied.
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let resolved = cognitron_core::experiment::apply_overrides(&text, request.overrides)?;
    output::write_atomic(&out.join("experiment.toml"), resolved.as_bytes())?;
    let described = experiment.network();
    say!(
        "{}: {} ({} parameters), {} steps, {} on {} ({} training / {} test images)",
        path.display(),
        described.describe(),
        described.parameter_count(),
        experiment.model.steps,
        serde_plain(&t.method),
        t.dataset,
        data.train.len(),
        data.test.len()
    );
    drop(described);

    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{prefix:>9} {elapsed_precise} [{bar:30}] {pos}/{len} batches ({eta} left) {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let epochs = t.epochs;
    let mut testing = false;
    let outcome = train::train(
        &experiment,
        &data,
        out,
        RunOptions {
            resume: true,
            ..Default::default()
        },
        &mut |p| {
            match p {
        Progress::Batch {
            epoch,
            done,
            total,
            loss,
            accuracy,
        } => {
            if done == 1 || testing {
                testing = false;
                bar.reset();
                bar.set_length(total as u64);
                bar.set_prefix(format!("epoch {}/{epochs}", epoch + 1));
            }
            bar.set_position(done as u64);
            bar.set_message(format!("loss {loss:.4} accuracy {accuracy:.2}%"));
        }
        Progress::Testing { done, total, .. } => {
            if !testing {
                testing = true;
                bar.reset();
                bar.set_length(total as u64);
                bar.set_prefix("test");
            }
            bar.set_position(done as u64);
        }
        Progress::Epoch(r) => bar.suspend(|| {
            say!(
                "epoch {:>3}/{epochs}: train loss {:.4}, accuracy {:.2}%; test loss {:.4}, accuracy {:.2}%; {:.1} s (lr {:.2e})",
                r.epoch,
                r.train_loss,
                r.train_accuracy,
                r.test_loss,
                r.test_accuracy,
                r.train_s + r.test_s,
                r.learning_rate
            )
        }),
    }
        },
    );
    bar.finish_and_clear();
    let outcome = outcome
        .with_context(|| format!("training {} stopped", path.display()))?
        .expect("runs to the end without stop_after_epochs");
    let records = &outcome.records;
    let trained_here = records.len() - outcome.resumed_from_epoch.unwrap_or(0);
    let train_s: f64 = records.iter().map(|r| r.train_s).sum();
    let summary = json!({
        "experiment": path.display().to_string(),
        "dataset": t.dataset,
        "method": serde_plain(&t.method),
        "network": outcome.network.describe(),
        "parameters": outcome.network.parameter_count(),
        "steps": experiment.model.steps,
        "encoding": serde_plain(&experiment.model.encoding),
        "loss": serde_plain(&t.loss),
        "batch_size": t.batch_size,
        "train_images": outcome.train_images,
        "test_images": outcome.test_images,
        "epochs": records.len(),
        "test_accuracy": outcome.test_accuracy,
        "best_test_accuracy": records.iter().map(|r| r.test_accuracy).fold(0.0, f64::max),
        "wall_s": outcome.wall_s,
        "train_s_per_epoch": if records.is_empty() { 0.0 } else { train_s / records.len() as f64 },
        "epochs_trained_in_this_run": trained_here,
        "resumed_from_epoch": outcome.resumed_from_epoch,
        "seed": t.seed,
        "threads": rayon::current_num_threads(),
        "history": records,
        "confusion": outcome.confusion,
        "layer_seconds_last_epoch": outcome
            .network
            .layers
            .iter()
            .zip(&outcome.train_profile)
            .enumerate()
            .map(|(i, (layer, time))| json!({
                "layer": i + 1,
                "kind": layer.kind(),
                "forward_s": time.forward_s,
                "backward_s": time.backward_s,
            }))
            .collect::<Vec<_>>(),
    });
    output::write_atomic(
        &out.join("summary.json"),
        serde_json::to_string_pretty(&summary)?.as_bytes(),
    )?;
    if request.plots {
        plots(out, &experiment, &outcome)?;
        write_report(out, path, &summary)?;
    }
    say!(
        "{}: test accuracy {:.2}% after {} epochs ({:.1} s per epoch of training); results in {}",
        path.display(),
        outcome.test_accuracy,
        records.len(),
        if records.is_empty() {
            0.0
        } else {
            train_s / records.len() as f64
        },
        out.display()
    );
    Ok(())
}

fn plots(out: &Path, experiment: &GradientExperiment, outcome: &train::Outcome) -> Result<()> {
    let records = &outcome.records;
    if !records.is_empty() {
        let series =
            |f: fn(&train::EpochRecord) -> f64| records.iter().map(|r| (r.epoch as f64, f(r))).collect::<Vec<_>>();
        plot_learning::learning_curve(
            &out.join("accuracy.png"),
            &[
                ("train", series(|r| r.train_accuracy)),
                ("test", series(|r| r.test_accuracy)),
            ],
            "epoch",
            "accuracy (%)",
            &format!("{}: accuracy", experiment.training.dataset),
        )?;
        plot_learning::learning_curve(
            &out.join("loss.png"),
            &[("train", series(|r| r.train_loss)), ("test", series(|r| r.test_loss))],
            "epoch",
            "loss",
            &format!(
                "{}: loss ({})",
                experiment.training.dataset,
                serde_plain(&experiment.training.loss)
            ),
        )?;
    }
    let mut counts = [[0u32; 10]; 10];
    for (row, counts) in outcome.confusion.iter().zip(counts.iter_mut()) {
        counts.copy_from_slice(row);
    }
    let names: Vec<&str> = if experiment.training.dataset == "fashion-mnist" {
        // Xiao et al. (2017), labels 0-9.
        vec![
            "T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Boot",
        ]
    } else {
        vec!["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]
    };
    plot_learning::confusion_matrix(
        &out.join("confusion.png"),
        &counts,
        &names,
        &format!("{} test", experiment.training.dataset),
    )?;
    // The first weight layer's filters: what each unit looks for.
    match outcome
        .network
        .layers
        .iter()
        .find(|l| matches!(l, Layer::Dense(_) | Layer::Conv(_)))
    {
        Some(Layer::Dense(d)) if d.inputs == 784 => {
            let shown = d.units.min(100);
            let mut weights = vec![0.0f32; 784 * shown];
            for unit in 0..shown {
                for i in 0..784 {
                    weights[i * shown + unit] = d.weight.value[unit * 784 + i];
                }
            }
            plot_learning::receptive_fields(
                &out.join("receptive_fields.png"),
                &weights,
                784,
                shown,
                (28, 28),
                None,
                &format!("first layer: weights of {shown} of {} units", d.units),
            )?;
        }
        Some(Layer::Conv(c)) if c.input.channels == 1 => {
            let (k, filters) = (c.kernel, c.output.channels);
            let mut weights = vec![0.0f32; k * k * filters];
            for f in 0..filters {
                for i in 0..k * k {
                    weights[i * filters + f] = c.weight.value[f * k * k + i];
                }
            }
            plot_learning::receptive_fields(
                &out.join("receptive_fields.png"),
                &weights,
                k * k,
                filters,
                (k, k),
                None,
                &format!("first layer: {filters} convolution kernels {k}x{k}"),
            )?;
        }
        _ => {}
    }
    Ok(())
}

fn write_report(out: &Path, experiment: &Path, summary: &serde_json::Value) -> Result<()> {
    crate::train::write_training_report(
        out,
        experiment,
        summary,
        &[
            "network",
            "method",
            "dataset",
            "steps",
            "loss",
            "epochs",
            "test_accuracy",
            "best_test_accuracy",
            "train_s_per_epoch",
            "wall_s",
        ],
        &[
            ("accuracy.png", "Accuracy per epoch"),
            ("loss.png", "Loss per epoch"),
            ("confusion.png", "Confusion matrix (test)"),
            ("receptive_fields.png", "First layer weights"),
        ],
    )
}
