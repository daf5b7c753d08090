//! The `cognitron` binary end to end: the files a run writes, re-running the
//! written experiment, `check`, and refusals of bad input (a message naming
//! file, line and field; never a panic).

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_cognitron");

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A fresh temporary folder for one test.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cognitron-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn cognitron(args: &[&str]) -> Output {
    let output = Command::new(BIN)
        .args(args)
        .current_dir(root())
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "cognitron {args:?} panicked:\n{stderr}");
    output
}

fn succeed(args: &[&str]) -> String {
    let output = cognitron(args);
    assert!(
        output.status.success(),
        "cognitron {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn fail(args: &[&str]) -> String {
    let output = cognitron(args);
    assert!(!output.status.success(), "cognitron {args:?} succeeded");
    assert_eq!(output.status.code(), Some(1), "exit status of {args:?}");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A parsed `.npy` file of spikes: the header's fields and the rows.
struct Spikes {
    descr: String,
    shape: usize,
    rows: Vec<(f64, u32)>,
}

/// A minimal NPY (format 1.0) reader for the structured spike arrays.
fn read_npy(path: &Path) -> Spikes {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(&bytes[..6], b"\x93NUMPY", "magic");
    assert_eq!(&bytes[6..8], &[1, 0], "version 1.0");
    let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    assert_eq!((10 + header_len) % 64, 0, "the data starts 64-byte aligned");
    let header = std::str::from_utf8(&bytes[10..10 + header_len]).expect("ASCII header");
    assert!(header.ends_with('\n'), "{header:?}");
    let header = header.trim();
    assert!(header.starts_with('{') && header.ends_with('}'), "{header}");
    let field = |key: &str| -> String {
        let at = header
            .find(&format!("'{key}': "))
            .unwrap_or_else(|| panic!("no {key} in {header}"))
            + key.len()
            + 4;
        let rest = &header[at..];
        // The value runs to the matching close of its bracket, or to the next comma.
        let (open, close) = match rest.chars().next() {
            Some('[') => ('[', ']'),
            Some('(') => ('(', ')'),
            _ => return rest[..rest.find(',').unwrap()].trim().to_string(),
        };
        let mut depth = 0;
        for (i, c) in rest.char_indices() {
            if c == open {
                depth += 1;
            } else if c == close {
                depth -= 1;
                if depth == 0 {
                    return rest[..=i].to_string();
                }
            }
        }
        panic!("unbalanced {key} in {header}");
    };
    let descr = field("descr");
    assert_eq!(field("fortran_order"), "False");
    let shape = field("shape");
    let count: usize = shape
        .trim_matches(|c| c == '(' || c == ')')
        .trim_end_matches(',')
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("shape {shape}"));
    let data = &bytes[10 + header_len..];
    assert_eq!(data.len(), count * 12, "12 bytes per row");
    let rows = data
        .chunks_exact(12)
        .map(|row| {
            (
                f64::from_le_bytes(row[..8].try_into().unwrap()),
                u32::from_le_bytes(row[8..].try_into().unwrap()),
            )
        })
        .collect();
    Spikes {
        descr,
        shape: count,
        rows,
    }
}

#[test]
fn run_writes_summary_spikes_plots_and_a_rerunnable_experiment() {
    let out = temp_dir("run");
    let out_s = out.to_str().unwrap();
    succeed(&[
        "run",
        "experiments/cuba.toml",
        "--out",
        out_s,
        "--set",
        "simulation.duration_ms=200",
        "--csv",
    ]);

    let summary: Value = serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    for key in ["duration_s", "dt_ms", "wall_s", "threads", "synaptic_events"] {
        assert!(summary[key].is_number(), "summary.{key}: {summary}");
    }
    assert_eq!(summary["duration_s"].as_f64(), Some(0.2));
    assert_eq!(summary["dt_ms"].as_f64(), Some(0.1));
    assert!(summary["threads"].as_u64().unwrap() >= 1);
    let exc = &summary["populations"]["exc"];
    assert_eq!(exc["n"].as_u64(), Some(3200), "{summary}");
    let spikes = exc["spikes"].as_u64().expect("populations.exc.spikes");
    assert!(spikes > 0, "CUBA is active");
    let rate = exc["rate_hz"].as_f64().expect("populations.exc.rate_hz");
    assert!(
        (rate - spikes as f64 / (3200.0 * 0.2)).abs() < 1e-9 * rate.max(1.0),
        "{rate}"
    );
    assert!(exc.get("cv_isi").is_some(), "populations.exc.cv_isi");
    assert!(exc["cv_isi"].is_number() || exc["cv_isi"].is_null());
    assert!(summary["synaptic_events"].as_u64().unwrap() > 0);

    let npy = read_npy(&out.join("spikes_exc.npy"));
    assert_eq!(npy.descr, "[('t_ms', '<f8'), ('neuron', '<u4')]");
    assert_eq!(npy.shape as u64, spikes, "one row per spike of exc");
    assert!(npy.rows.windows(2).all(|w| w[0].0 <= w[1].0), "rows in time order");
    assert!(npy.rows.iter().all(|&(t, i)| (0.0..200.0).contains(&t) && i < 3200));
    assert_eq!(
        read_npy(&out.join("spikes_inh.npy")).shape as u64,
        summary["populations"]["inh"]["spikes"].as_u64().unwrap()
    );

    let csv = std::fs::read_to_string(out.join("spikes_exc.csv")).expect("--csv writes spikes_exc.csv");
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("t_ms,neuron"));
    let rows: Vec<(f64, u32)> = lines
        .map(|l| {
            let (t, i) = l.split_once(',').unwrap();
            (t.parse().unwrap(), i.parse().unwrap())
        })
        .collect();
    assert_eq!(rows.len(), npy.rows.len());
    for (a, b) in rows.iter().zip(&npy.rows) {
        assert!((a.0 - b.0).abs() < 0.051 && a.1 == b.1, "csv {a:?} vs npy {b:?}");
    }

    let png = std::fs::read(out.join("raster.png")).expect("raster.png");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "PNG signature");
    assert!(out.join("traces.csv").exists(), "cuba has a state monitor");
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".partial"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");

    // The written experiment (overrides applied) runs again to the same spikes.
    let again = temp_dir("rerun");
    let written = out.join("experiment.toml");
    assert!(std::fs::read_to_string(&written).unwrap().contains("duration_ms = 200"));
    succeed(&[
        "run",
        written.to_str().unwrap(),
        "--out",
        again.to_str().unwrap(),
        "--no-plots",
    ]);
    assert_eq!(
        std::fs::read(out.join("spikes_exc.npy")).unwrap(),
        std::fs::read(again.join("spikes_exc.npy")).unwrap(),
        "re-running experiment.toml gives the same spikes"
    );
    assert!(!again.join("raster.png").exists(), "--no-plots");
    let _ = std::fs::remove_dir_all(&out);
    let _ = std::fs::remove_dir_all(&again);
}

#[test]
fn check_validates_without_running() {
    let stdout = succeed(&["check", "experiments/cuba.toml"]);
    assert!(stdout.contains("ok") && stdout.contains("4000 neurons"), "{stdout}");
    let stdout = succeed(&["check", "experiments/brunel.toml", "--set", "network.scale=0.1"]);
    assert!(stdout.contains("1250 neurons"), "{stdout}");
    for file in ["coba", "brunel"] {
        succeed(&["check", &format!("experiments/{file}.toml")]);
    }
}

#[test]
fn bad_experiment_is_refused_with_file_line_and_field() {
    let dir = temp_dir("bad");
    let text = std::fs::read_to_string(root().join("experiments/cuba.toml"))
        .unwrap()
        .replacen("tau_m_ms = 20.0", "tau_m_ms = -20.0", 1);
    let line = text.lines().position(|l| l.contains("tau_m_ms = -20.0")).unwrap() + 1;
    let path = dir.join("bad.toml");
    std::fs::write(&path, &text).unwrap();
    let path_s = path.to_str().unwrap();
    for command in ["check", "run"] {
        let stderr = if command == "run" {
            fail(&[command, path_s, "--out", dir.join("out").to_str().unwrap()])
        } else {
            fail(&[command, path_s])
        };
        assert!(stderr.contains(&format!("{path_s}:{line}:")), "{stderr}");
        assert!(stderr.contains("populations.exc.tau_m_ms"), "{stderr}");
        assert!(stderr.contains("-20"), "{stderr}");
    }
    assert!(!dir.join("out").exists(), "nothing is written for a refused experiment");

    // Unknown field, wrong type, and a syntax error.
    let cases = [
        ("tau_exc_ms = 5.0", "tau_exc = 5.0", "populations.exc.tau_exc"),
        ("synapse = \"current_exp\"", "synapse = 5", "populations.exc.synapse"),
        ("p = 0.02", "p = 0.02.1", "projections.exc_exc.connect"),
    ];
    for (old, new, field) in cases {
        let text = std::fs::read_to_string(root().join("experiments/cuba.toml"))
            .unwrap()
            .replacen(old, new, 1);
        let line = text.lines().position(|l| l.contains(new)).unwrap() + 1;
        std::fs::write(&path, &text).unwrap();
        let stderr = fail(&["check", path_s]);
        assert!(stderr.contains(&format!("{path_s}:{line}:")), "{new}: {stderr}");
        assert!(stderr.contains(field), "{new}: {stderr}");
    }

    // A bad override and a missing file.
    let stderr = fail(&["check", "experiments/cuba.toml", "--set", "simulation.dt_ms=-1"]);
    assert!(
        stderr.contains("experiments/cuba.toml:") && stderr.contains("simulation.dt_ms"),
        "{stderr}"
    );
    assert!(stderr.contains("--set simulation.dt_ms=-1"), "{stderr}");
    let stderr = fail(&["check", dir.join("missing.toml").to_str().unwrap()]);
    assert!(
        stderr.contains("missing.toml") && stderr.contains("cannot read"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn non_finite_state_stops_the_run_with_time_and_neuron() {
    let dir = temp_dir("nonfinite");
    let path = dir.join("overflow.toml");
    std::fs::write(
        &path,
        r#"[simulation]
duration_ms = 10.0

[populations.source]
model = "spike_times"
n = 4
spikes = [[2, 1.0]]

[populations.exc]
model = "lif"
n = 4
tau_m_ms = 20.0
e_l_mv = 0.0
v_th_mv = 20.0
v_reset_mv = 10.0
synapse = "delta"

[projections.a]
from = "source"
to = "exc"
connect = { rule = "one_to_one" }
weight = 1e308

[projections.b]
from = "source"
to = "exc"
connect = { rule = "one_to_one" }
weight = 1e308
"#,
    )
    .unwrap();
    let stderr = fail(&[
        "run",
        path.to_str().unwrap(),
        "--out",
        dir.join("out").to_str().unwrap(),
    ]);
    assert!(stderr.contains("non-finite"), "{stderr}");
    assert!(stderr.contains("neuron 2") && stderr.contains("`exc`"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `cognitron neuron lif`: the f-I curve of the default LIF cell (tau_m
/// 20 ms, C 250 pF, e_l -70, v_th -55, reset -70, t_ref 2 ms) matches the
/// analytic rate 1 / (t_ref + tau ln(RI / (RI - 15 mV))) within one spike
/// per half run, is zero below the rheobase of 15 mV / R = 187.5 pA, and the
/// pictures and tables are written; bad models and ranges are refused.
#[test]
fn neuron_shows_the_f_i_curve_of_a_model() {
    let dir = temp_dir("neuron");
    let out = dir.join("lif");
    let stdout = succeed(&[
        "neuron",
        "lif",
        "--current",
        "150pA..400pA",
        "--steps",
        "6",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(stdout.contains("first current that fires: 200"), "{stdout}");
    for file in ["fi.png", "trace.png", "fi.csv", "summary.json", "neuron.toml"] {
        assert!(out.join(file).is_file(), "{file} missing");
    }
    let summary: Value = serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["rheobase"].as_f64(), Some(200.0));
    for point in summary["points"].as_array().unwrap() {
        let i = point["current"].as_f64().unwrap();
        let rate = point["steady_rate_hz"].as_f64().unwrap();
        let r_i = i * 20.0 / 250.0; // mV
        let analytic = if r_i <= 15.0 {
            0.0
        } else {
            1000.0 / (2.0 + 20.0 * (r_i / (r_i - 15.0)).ln())
        };
        // Counting spikes in a 0.5 s window: within 2 spikes, i.e. 4 Hz.
        assert!(
            (rate - analytic).abs() <= 4.0,
            "I = {i} pA: {rate} Hz, analytic {analytic:.2} Hz"
        );
    }
    // A quantity parameter replaces the default of the same field.
    let fast = dir.join("fast");
    succeed(&[
        "neuron",
        "lif",
        "--param",
        "tau_m=\"10 ms\"",
        "--current",
        "400pA..400pA",
        "--out",
        fast.to_str().unwrap(),
        "--no-plots",
    ]);
    let stderr = fail(&[
        "neuron",
        "lif",
        "--param",
        "tau_m=\"10 mV\"",
        "--out",
        fast.to_str().unwrap(),
    ]);
    assert!(stderr.contains("parameter `tau_m` = \"10 mV\": a voltage"), "{stderr}");
    let stderr = fail(&[
        "neuron",
        "lif",
        "--param",
        "tau_m_ms=-1",
        "--out",
        fast.to_str().unwrap(),
    ]);
    assert!(stderr.contains("parameter `tau_m_ms` = -1"), "{stderr}");
    let stderr = fail(&["neuron", "poisson"]);
    assert!(stderr.contains("not a neuron model"), "{stderr}");
    let stderr = fail(&["neuron", "lif", "--current", "1mV..2mV"]);
    assert!(stderr.contains("a voltage, not a current"), "{stderr}");
    // A population of an experiment file.
    let from_file = dir.join("cuba");
    let stdout = succeed(&[
        "neuron",
        "experiments/cuba.toml:exc",
        "--current",
        "0pA..0pA",
        "--out",
        from_file.to_str().unwrap(),
        "--no-plots",
    ]);
    // CUBA's e_l lies 1 mV above threshold: it fires without input.
    assert!(stdout.contains("first current that fires: 0"), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `cognitron train` end to end on a short Diehl & Cook run: the summary,
/// the trained network, the pictures and the report; a second run resumes
/// from the finished checkpoint (nothing left to train) with the same
/// accuracy; a missing dataset is refused with its path.
#[test]
fn train_writes_summary_network_and_pictures_and_resumes() {
    let out = temp_dir("train");
    let out_s = out.to_str().unwrap();
    let args = [
        "train",
        "experiments/diehl_cook_100.toml",
        "--out",
        out_s,
        "--set",
        "populations.exc.n=40",
        "--set",
        "populations.inh.n=40",
        "--set",
        "training.train_images=300",
        "--set",
        "training.test_images=200",
        "--set",
        "training.label_images=300",
        "--set",
        "training.window=100",
        "--set",
        "training.checkpoint_every=100",
    ];
    let stdout = succeed(&args);
    assert!(stdout.contains("test accuracy"), "{stdout}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let accuracy = summary["test_accuracy"].as_f64().unwrap();
    assert!(accuracy > 30.0 && accuracy <= 100.0, "{accuracy}");
    assert_eq!(summary["train_images"], 300);
    assert_eq!(summary["epochs"], 1);
    assert!(summary["wall_s"].as_f64().unwrap() > 0.0);
    assert_eq!(summary["training_curve"].as_array().unwrap().len(), 2);
    for file in [
        "trained.ckpt",
        "checkpoint.ckpt",
        "assignments.json",
        "receptive_fields.png",
        "confusion.png",
        "accuracy.png",
        "report.html",
        "experiment.toml",
    ] {
        assert!(out.join(file).exists(), "{file} missing");
    }
    let png = std::fs::read(out.join("receptive_fields.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG"));
    // Run again: resumes from the checkpoint of the finished training.
    let stdout = succeed(&args);
    let again: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(again["trained_in_this_run"], 0, "{stdout}");
    assert_eq!(again["test_accuracy"], summary["test_accuracy"]);
    // No dataset: a clear error naming the path.
    let output = Command::new(BIN)
        .args(args)
        .env("COGNITRON_DATA", out.join("nowhere"))
        .current_dir(root())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("nowhere") && stderr.contains("mnist-10k"), "{stderr}");
    std::fs::remove_dir_all(&out).unwrap();
}

/// `cognitron run` on a network with a plastic projection writes the final
/// weights (`weights_<projection>.npy`: pre u4, post u4, weight f4).
#[test]
fn run_writes_the_learned_weights_of_plastic_projections() {
    let dir = temp_dir("plastic");
    let experiment = dir.join("stdp.toml");
    std::fs::write(
        &experiment,
        r#"[simulation]
duration_ms = 2000.0
seed = 3

[populations.input]
model = "poisson"
n = 20
rate_hz = 40.0

[populations.out]
model = "lif"
n = 5
tau_m_ms = 20.0
e_l_mv = -70.0
v_th_mv = -54.0
v_reset_mv = -70.0
t_ref_ms = 2.0
synapse = "delta"

[projections.learn]
from = "input"
to = "out"
connect = { rule = "all_to_all" }
weight = 2.0
plasticity = { rule = "stdp", a_plus = 0.05, a_minus = 0.06, w_max = 4.0 }
"#,
    )
    .unwrap();
    let out = dir.join("out");
    succeed(&[
        "run",
        experiment.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--no-plots",
    ]);
    let bytes = std::fs::read(out.join("weights_learn.npy")).unwrap();
    assert!(bytes.starts_with(b"\x93NUMPY\x01\x00"));
    let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let header = std::str::from_utf8(&bytes[10..10 + header_len]).unwrap();
    assert!(
        header.contains("('pre', '<u4'), ('post', '<u4'), ('weight', '<f4')") && header.contains("(100,)"),
        "{header}"
    );
    let rows: Vec<(u32, u32, f32)> = bytes[10 + header_len..]
        .chunks_exact(12)
        .map(|r| {
            (
                u32::from_le_bytes(r[0..4].try_into().unwrap()),
                u32::from_le_bytes(r[4..8].try_into().unwrap()),
                f32::from_le_bytes(r[8..12].try_into().unwrap()),
            )
        })
        .collect();
    assert_eq!(rows.len(), 100);
    assert!(rows
        .iter()
        .all(|&(pre, post, w)| pre < 20 && post < 5 && (0.0..=4.0).contains(&w)));
    assert!(rows.iter().any(|r| r.2 != 2.0), "the weights learned");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `cognitron train` on a gradient experiment (a spiking MLP, shortened):
/// the summary, learning curves and report; a second run resumes from the
/// finished checkpoint; a shape mismatch is refused naming both layers.
#[test]
fn train_gradient_writes_summary_curves_and_resumes() {
    let out = temp_dir("train-gradient");
    let out_s = out.to_str().unwrap();
    let args = [
        "train",
        "experiments/snn_mlp.toml",
        "--out",
        out_s,
        "--set",
        "training.dataset=\"mnist-10k\"",
        "--set",
        "training.train_images=600",
        "--set",
        "training.test_images=200",
        "--set",
        "training.epochs=2",
        "--set",
        "model.steps=10",
    ];
    let stdout = succeed(&args);
    assert!(
        stdout.contains("test accuracy") && stdout.contains("epoch   2/2"),
        "{stdout}"
    );
    let summary: Value = serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let accuracy = summary["test_accuracy"].as_f64().unwrap();
    assert!(accuracy > 50.0 && accuracy <= 100.0, "{accuracy}");
    assert_eq!(summary["epochs"], 2);
    assert_eq!(summary["steps"], 10);
    assert_eq!(summary["method"], "backprop");
    assert!(summary["wall_s"].as_f64().unwrap() > 0.0);
    assert_eq!(summary["history"].as_array().unwrap().len(), 2);
    for file in [
        "gradient.ckpt",
        "accuracy.png",
        "loss.png",
        "confusion.png",
        "receptive_fields.png",
        "report.html",
        "experiment.toml",
    ] {
        assert!(out.join(file).exists(), "{file} missing");
    }
    assert!(std::fs::read_to_string(out.join("experiment.toml"))
        .unwrap()
        .contains("steps = 10"));
    let stdout = succeed(&args);
    assert!(stdout.contains("resuming"), "{stdout}");
    let again: Value = serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(again["epochs_trained_in_this_run"], 0);
    assert_eq!(again["test_accuracy"], summary["test_accuracy"]);
    // A convolution after a dense layer: refused before training.
    let bad = out.join("bad.toml");
    let text = std::fs::read_to_string(root().join("experiments/mlp.toml"))
        .unwrap()
        .replace(
            "units = 10",
            "units = 10\n\n[[model.layers]]\nkind = \"conv2d\"\nchannels = 4\nkernel = 3",
        );
    std::fs::write(&bad, text).unwrap();
    let stderr = fail(&["train", bad.to_str().unwrap(), "--out", out_s]);
    assert!(
        stderr.contains("bad.toml")
            && stderr.contains("layer 4 (conv2d)")
            && stderr.contains("layer 3 (dense) gives 10"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&out).unwrap();
}
