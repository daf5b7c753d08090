//! `cognitron`: run experiments described in TOML.

/// Prints a line to stdout, ignoring a closed pipe (`cognitron run ... | head`):
/// the results are in files, and a reader that went away is no reason to panic.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

mod neuron;
mod output;
mod plot;
mod plot_learning;
mod train;
mod train_gradient;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use cognitron_core::{experiment, Simulation};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(
    name = "cognitron",
    version,
    about = "Build, simulate and train brain-inspired networks"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a TOML experiment and write its results to a folder.
    Run {
        /// The experiment file.
        experiment: PathBuf,
        /// Output folder (created if missing).
        #[arg(long, default_value = "out")]
        out: PathBuf,
        /// Override a field: `--set simulation.duration_ms=5000`,
        /// `--set network.scale=25`. Repeatable.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        overrides: Vec<String>,
        /// Also write spikes and traces as CSV.
        #[arg(long)]
        csv: bool,
        /// Skip the PNG plots.
        #[arg(long)]
        no_plots: bool,
    },
    /// Show one neuron model: its f-I curve and membrane traces (fi.png,
    /// trace.png, fi.csv, summary.json in the output folder).
    ///
    /// MODEL is a model name (`lif`, `izhikevich`, ...) with typical
    /// parameters, changed with `--param`, or FILE.toml:POPULATION.
    Neuron {
        model: String,
        /// A model parameter: `--param tau_m_ms=10`, `--param c_mv=-50`. Repeatable.
        #[arg(long = "param", value_name = "KEY=VALUE")]
        params: Vec<String>,
        /// Injected currents, low..high: `10pA..500pA`, `0.1nA..1nA`, or plain
        /// numbers for models in normalised units (Izhikevich: `0..20`).
        #[arg(long)]
        current: Option<String>,
        /// Number of currents in the range.
        #[arg(long, default_value_t = 21)]
        steps: usize,
        #[arg(long, default_value_t = 1000.0)]
        duration_ms: f64,
        #[arg(long, default_value_t = 0.1)]
        dt_ms: f64,
        /// Output folder (default: out/neuron_<MODEL>).
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long)]
        no_plots: bool,
    },
    /// List the population models and their fields (units, defaults, sources).
    Models {
        /// Only this model.
        model: Option<String>,
        /// The whole catalogue as Markdown (docs/models.md).
        #[arg(long)]
        markdown: bool,
    },
    /// Train an experiment's network as its `[training]` table says (e.g.
    /// Diehl & Cook's unsupervised STDP on MNIST), label and test it; writes
    /// summary.json, the trained network, receptive_fields.png,
    /// confusion.png, accuracy.png and report.html. An interrupted training
    /// resumes from its last checkpoint in the output folder.
    Train {
        experiment: PathBuf,
        #[arg(long, default_value = "out/train")]
        out: PathBuf,
        #[arg(long = "set", value_name = "KEY=VALUE")]
        overrides: Vec<String>,
        /// Start over, ignoring a checkpoint in the output folder.
        #[arg(long)]
        fresh: bool,
        #[arg(long)]
        no_plots: bool,
    },
    /// Check an experiment without running it.
    Check {
        experiment: PathBuf,
        #[arg(long = "set", value_name = "KEY=VALUE")]
        overrides: Vec<String>,
    },
}

fn main() {
    if let Err(e) = real_main() {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn real_main() -> Result<()> {
    match Cli::parse().command {
        Command::Run {
            experiment,
            out,
            overrides,
            csv,
            no_plots,
        } => run(&experiment, &out, &overrides, csv, !no_plots),
        Command::Neuron {
            model,
            params,
            current,
            steps,
            duration_ms,
            dt_ms,
            out,
            no_plots,
        } => {
            let default_out = PathBuf::from(format!(
                "out/neuron_{}",
                model.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
            ));
            neuron::run(&neuron::Request {
                spec: &model,
                params: &params,
                current: current.as_deref(),
                steps,
                duration_ms,
                dt_ms,
                out: out.as_deref().unwrap_or(&default_out),
                plots: !no_plots,
            })
        }
        Command::Models { model, markdown } => {
            use cognitron_core::catalog;
            if markdown {
                print!("{}", catalog::markdown());
                return Ok(());
            }
            let all: Vec<&str> = cognitron_core::model::NEURON_MODELS
                .iter()
                .chain(cognitron_core::model::INPUT_MODELS)
                .copied()
                .collect();
            let chosen: Vec<&str> = match &model {
                Some(m) if all.contains(&m.as_str()) => vec![m.as_str()],
                Some(m) => anyhow::bail!("no model `{m}`; the models are {}", all.join(", ")),
                None => all,
            };
            for m in chosen {
                say!("{m}: {}", catalog::description(m));
                for f in catalog::fields(m).unwrap_or_default() {
                    say!(
                        "  {:<22} {:<9} {}",
                        f.name,
                        if f.required { "required" } else { "" },
                        f.doc
                    );
                }
                say!("");
            }
            Ok(())
        }
        Command::Train {
            experiment,
            out,
            overrides,
            fresh,
            no_plots,
        } => train::run(&train::Request {
            experiment: &experiment,
            out: &out,
            overrides: &overrides,
            fresh,
            plots: !no_plots,
        }),
        Command::Check { experiment, overrides } if train::is_gradient_experiment(&experiment) => {
            let spec = cognitron_learn::gradient::spec::GradientExperiment::load(&experiment, &overrides)?;
            let network = spec.network();
            say!(
                "{}: ok: {} ({} parameters, {} steps)",
                experiment.display(),
                network.describe(),
                network.parameter_count(),
                spec.model.steps
            );
            Ok(())
        }
        Command::Check { experiment, overrides } => {
            let network = experiment::load(&experiment, &overrides)?;
            let neurons: usize = network.populations.values().map(|p| network.scaled_size(p)).sum();
            let synapses: f64 = network
                .projections
                .values()
                .map(|p| cognitron_core::validate::expected_synapses(&network, p))
                .sum();
            say!(
                "{}: ok ({neurons} neurons, about {synapses:.0} synapses, {:.0} MiB)",
                experiment.display(),
                cognitron_core::validate::estimate_memory(&network) / 1048576.0
            );
            Ok(())
        }
    }
}

fn run(path: &Path, out: &Path, overrides: &[String], csv: bool, plots: bool) -> Result<()> {
    let started = Instant::now();
    let network = experiment::load(path, overrides)?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create the output folder {}", out.display()))?;
    // The resolved model (overrides applied): running it again gives the same spikes.
    output::write_atomic(&out.join("experiment.toml"), network.to_toml().as_bytes())?;
    let simulation = Simulation::build(&network);
    let total = simulation.total_steps();
    let mut bar: Option<ProgressBar> = None;
    let run_started = Instant::now();
    let result = simulation.run(|done| {
        if bar.is_none() && run_started.elapsed() > Duration::from_secs(1) && done < total {
            let b = ProgressBar::new(total);
            b.set_style(
                ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} steps ({eta} left)")
                    .expect("valid template")
                    .progress_chars("=> "),
            );
            bar = Some(b);
        }
        if let Some(b) = &bar {
            b.set_position(done);
        }
    });
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let result = result.with_context(|| format!("the run of {} stopped", path.display()))?;
    output::write_spikes(out, &result, csv)?;
    for (name, weights) in &result.plastic {
        output::write_atomic_with(&out.join(format!("weights_{name}.npy")), |w| {
            output::write_weights_npy(w, weights)
        })?;
    }
    output::write_traces(out, &result)?;
    if plots {
        plot::raster(&out.join("raster.png"), &result).context("cannot draw raster.png")?;
        if !result.traces.is_empty() {
            plot::traces(&out.join("traces.png"), &result).context("cannot draw traces.png")?;
        }
    }
    let summary = output::summary(&network, &result, started.elapsed().as_secs_f64());
    output::write_atomic(
        &out.join("summary.json"),
        serde_json::to_string_pretty(&summary)?.as_bytes(),
    )?;
    output::write_report(out, path, &result, &summary)?;
    for p in &result.populations {
        say!(
            "{:>10}: n = {:>7}, {:>9} spikes, {:8.3} Hz, CV ISI {}",
            p.name,
            p.n,
            p.spikes,
            p.rate_hz,
            p.cv_isi.map_or("-".to_string(), |c| format!("{c:.3}"))
        );
    }
    say!(
        "{:.1} s simulated in {:.2} s ({:.2} s build + {:.2} s run, {} threads); {} synaptic events; results in {}",
        result.duration_ms / 1000.0,
        started.elapsed().as_secs_f64(),
        result.build_s,
        result.run_s,
        result.threads,
        result.synaptic_events,
        out.display()
    );
    Ok(())
}
