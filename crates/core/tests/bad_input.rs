//! Malformed or inconsistent experiments are refused before the run, with an
//! error that names the file, the line of the offending key, the field (as a
//! dotted path) and the value; a state that becomes non-finite stops the run
//! with the time and the neuron.

use cognitron_core::model::{Connector, Lif, Network, SynapseModel};
use cognitron_core::{experiment, validate, ModelError, Simulation, SimulationError};
use std::path::PathBuf;

/// A small valid experiment that every test breaks in one place.
const BASE: &str = r#"# A small network for the bad-input tests.
[simulation]
dt_ms = 0.1
duration_ms = 100.0
seed = 1

[populations.exc]
model = "lif"
n = 80
tau_m_ms = 20.0
c_m_pf = 200.0
e_l_mv = -49.0
v_th_mv = -50.0
v_reset_mv = -60.0
t_ref_ms = 5.0
synapse = "current_exp"
tau_exc_ms = 5.0
tau_inh_ms = 10.0
v_init_mv = { uniform = [-60.0, -50.0] }

[populations.inh]
model = "lif"
n = 20
tau_m_ms = 10.0
c_m_pf = 100.0
e_l_mv = -49.5
v_th_mv = -50.5
v_reset_mv = -60.5
t_ref_ms = 2.0
synapse = "current_exp"

[populations.input]
model = "poisson"
n = 50
rate_hz = 10.0

[projections.exc_inh]
from = "exc"
to = "inh"
connect = { rule = "fixed_probability", p = 0.02 }
weight = 16.2           # pA
delay_ms = 0.1

[projections.inh_exc]
from = "inh"
to = "exc"
connect = { rule = "fixed_indegree", k = 5, allow_multapses = false }
weight = -90.0
delay_ms = 1.0

[projections.input_exc]
from = "input"
to = "exc"

[projections.input_exc.connect]
rule = "explicit"
synapses = [
    [0, 1, 5.0, 0.1],
    [3, 79, 5.0, 0.2],
]

[monitors]
rate_bin_ms = 1.0
spikes = { exc = "all", inh = [0, 1, 2] }

[[monitors.state]]
population = "exc"
variables = ["v"]
neurons = [0, 1]
"#;

/// `text` with the first occurrence of `old` (which must occur) replaced.
fn edit(text: &str, old: &str, new: &str) -> String {
    assert!(text.contains(old), "`{old}` is not in the text");
    text.replacen(old, new, 1)
}

/// The 1-based line of the first line containing `needle`.
fn line_with(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("`{needle}` is not in the text"))
        + 1
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cognitron-bad-input-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

/// Loads `text` from a file named after the test and returns the refusal
/// and the file name; `parse` (no file) must refuse it the same way.
fn refuse(name: &str, text: &str, overrides: &[&str]) -> (ModelError, String) {
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    let path = temp_file(name, text);
    let err = match experiment::load(&path, &overrides) {
        Ok(_) => panic!("{name}: the experiment was accepted"),
        Err(e) => e,
    };
    let _ = std::fs::remove_file(&path);
    let bare = experiment::parse(text, &overrides).expect_err("parse accepts what load refuses");
    assert_eq!(
        bare,
        ModelError {
            file: None,
            ..err.clone()
        }
    );
    (err, path.display().to_string())
}

/// Asserts every part of the error and that its message shows them.
fn assert_error(err: &ModelError, file: &str, line: Option<usize>, field: &str, value: &str) {
    let shown = err.to_string();
    assert_eq!(err.file.as_deref(), Some(file), "{shown}");
    assert_eq!(err.line, line, "{shown}");
    assert_eq!(err.field, field, "{shown}");
    assert_eq!(err.value, value, "{shown}");
    assert!(!err.reason.is_empty(), "{shown}");
    match line {
        Some(line) => assert!(shown.starts_with(&format!("{file}:{line}: ")), "{shown}"),
        None => assert!(shown.starts_with(&format!("{file}: ")), "{shown}"),
    }
    assert!(shown.contains(&format!("`{field}`")), "{shown}");
    assert!(shown.contains(value), "{shown}");
}

/// Breaks BASE by replacing `old` with `new`, and expects the refusal to
/// point at the line containing `at` (defaults to `new`).
fn check(name: &str, old: &str, new: &str, at: &str, field: &str, value: &str) -> ModelError {
    let text = edit(BASE, old, new);
    let (err, file) = refuse(name, &text, &[]);
    assert_error(&err, &file, Some(line_with(&text, at)), field, value);
    err
}

#[test]
fn base_is_valid_and_runs() {
    let network = experiment::parse(BASE, &[]).expect("BASE is valid");
    let result = Simulation::build(&network).run(|_| {}).expect("runs");
    assert_eq!(result.populations.len(), 3);
}

#[test]
fn every_experiment_file_is_valid() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../experiments");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            // Layer models ([model]) are gradient experiments, checked by cognitron-learn.
            let text = std::fs::read_to_string(&path).unwrap();
            if text.parse::<toml_edit::DocumentMut>().unwrap().contains_key("model") {
                continue;
            }
            experiment::load(&path, &[]).unwrap_or_else(|e| panic!("{e}"));
        }
    }
}

#[test]
fn unknown_field_in_a_population() {
    let err = check(
        "unknown_field",
        "tau_exc_ms = 5.0\n",
        "tau_exc_ms = 5.0\ntau_syn_ms = 3.0\n",
        "tau_syn_ms",
        "populations.exc.tau_syn_ms",
        "3.0",
    );
    assert!(err.reason.contains("unknown field"), "{err}");
    assert!(
        err.reason.contains("`tau_exc_ms`"),
        "the known fields are listed: {err}"
    );
}

#[test]
fn unknown_field_in_a_connector() {
    let err = check(
        "unknown_connect_field",
        "p = 0.02 }",
        "p = 0.02, autapses = false }",
        "autapses = false",
        "projections.exc_inh.connect.autapses",
        "false",
    );
    assert!(err.reason.contains("rule = \"fixed_probability\""), "{err}");
}

#[test]
fn unknown_field_beside_uniform() {
    check(
        "unknown_init_field",
        "v_init_mv = { uniform = [-60.0, -50.0] }",
        "v_init_mv = { uniform = [-60.0, -50.0], sd = 2.0 }",
        "sd = 2.0",
        "populations.exc.v_init_mv.sd",
        "2.0",
    );
}

#[test]
fn unknown_table() {
    check(
        "unknown_table",
        "[monitors]",
        "[monitor]\nrate_bin_ms = 2.0\n\n[monitors]",
        "[monitor]",
        "monitor",
        "{ rate_bin_ms }",
    );
}

#[test]
fn missing_required_field() {
    let text = edit(BASE, "v_th_mv = -50.0\n", "");
    let (err, file) = refuse("missing_field", &text, &[]);
    // No line of its own: the table's.
    assert_error(
        &err,
        &file,
        Some(line_with(&text, "[populations.exc]")),
        "populations.exc.v_th_mv",
        "",
    );
    assert!(err.reason.contains("missing"), "{err}");
}

#[test]
fn negative_time_constant() {
    let err = check(
        "negative_tau",
        "tau_m_ms = 20.0",
        "tau_m_ms = -20.0",
        "tau_m_ms = -20.0",
        "populations.exc.tau_m_ms",
        "-20",
    );
    assert!(err.reason.contains("positive"), "{err}");
}

#[test]
fn nan_time_constant() {
    check(
        "nan_tau",
        "tau_inh_ms = 10.0",
        "tau_inh_ms = nan",
        "tau_inh_ms = nan",
        "populations.exc.tau_inh_ms",
        "NaN",
    );
}

#[test]
fn probability_above_one() {
    let err = check(
        "p_above_one",
        "p = 0.02",
        "p = 1.5",
        "p = 1.5",
        "projections.exc_inh.connect.p",
        "1.5",
    );
    assert!(err.reason.contains("[0, 1]"), "{err}");
}

#[test]
fn projection_to_a_missing_population() {
    check(
        "missing_target",
        "to = \"inh\"",
        "to = \"nowhere\"",
        "to = \"nowhere\"",
        "projections.exc_inh.to",
        "\"nowhere\"",
    );
}

#[test]
fn projection_from_a_missing_population() {
    check(
        "missing_source",
        "from = \"inh\"",
        "from = \"ihn\"",
        "from = \"ihn\"",
        "projections.inh_exc.from",
        "\"ihn\"",
    );
}

#[test]
fn time_step_too_coarse_for_a_time_constant() {
    // dt = 3 ms is fine for tau_m = 20 ms but not for tau_exc = 5 ms.
    let err = check(
        "coarse_dt",
        "dt_ms = 0.1",
        "dt_ms = 3.0",
        "tau_exc_ms = 5.0",
        "populations.exc.tau_exc_ms",
        "5",
    );
    assert!(err.reason.contains("dt_ms = 3"), "{err}");
}

#[test]
fn network_larger_than_memory_is_refused_before_building() {
    let text = r#"[simulation]
duration_ms = 100.0

[populations.pre]
model = "poisson"
n = 1000000
rate_hz = 1.0

[populations.post]
model = "lif"
n = 1000000
tau_m_ms = 20.0
e_l_mv = 0.0
v_th_mv = 20.0
v_reset_mv = 10.0
synapse = "delta"

[projections.small]
from = "pre"
to = "post"
connect = { rule = "one_to_one" }
weight = 0.1

[projections.dense]
from = "pre"
to = "post"
connect = { rule = "all_to_all" }   # 10^12 synapses
weight = 0.1
"#;
    let started = std::time::Instant::now();
    let (err, file) = refuse("too_big", text, &[]);
    assert!(
        started.elapsed().as_secs_f64() < 2.0,
        "the refusal took {:?}",
        started.elapsed()
    );
    assert_error(
        &err,
        &file,
        Some(line_with(text, "10^12 synapses")),
        "projections.dense.connect",
        "{ rule = \"all_to_all\", allow_autapses = true }",
    );
    assert!(err.reason.contains("GiB"), "{err}");
    assert!(err.reason.contains("synapses"), "{err}");

    // With a stated limit, a network that fits most machines is refused too,
    // blaming its biggest projection.
    let network = experiment::parse(BASE, &[]).unwrap();
    let needed = validate::estimate_memory(&network);
    assert!(validate::check_memory(&network, Some(needed * 1.01)).is_ok());
    let err = validate::check_memory(&network, Some(needed * 0.5)).unwrap_err();
    assert!(
        err.field.starts_with("populations.") || err.field.starts_with("projections."),
        "{err}"
    );
}

#[test]
fn population_sizes() {
    let err = check("negative_n", "n = 80", "n = -80", "n = -80", "populations.exc.n", "-80");
    assert!(err.reason.contains("whole number"), "{err}");
    check("zero_n", "n = 80", "n = 0", "n = 0", "populations.exc.n", "0");
    check("float_n", "n = 80", "n = 80.5", "n = 80.5", "populations.exc.n", "80.5");
}

#[test]
fn non_positive_time_step() {
    check(
        "zero_dt",
        "dt_ms = 0.1",
        "dt_ms = 0.0",
        "dt_ms = 0.0",
        "simulation.dt_ms",
        "0",
    );
    check(
        "negative_dt",
        "dt_ms = 0.1",
        "dt_ms = -0.1",
        "dt_ms = -0.1",
        "simulation.dt_ms",
        "-0.1",
    );
    check(
        "infinite_duration",
        "duration_ms = 100.0",
        "duration_ms = inf",
        "duration_ms = inf",
        "simulation.duration_ms",
        "inf",
    );
}

#[test]
fn reset_not_below_threshold() {
    let err = check(
        "reset_above_threshold",
        "v_reset_mv = -60.0",
        "v_reset_mv = -45.0",
        "v_reset_mv = -45.0",
        "populations.exc.v_reset_mv",
        "-45",
    );
    assert!(err.reason.contains("v_th_mv = -50"), "{err}");
}

#[test]
fn unknown_synapse_model() {
    let err = check(
        "unknown_synapse",
        "synapse = \"current_exp\"",
        "synapse = \"alpha\"",
        "synapse = \"alpha\"",
        "populations.exc.synapse",
        "\"alpha\"",
    );
    assert!(err.reason.contains("\"conductance_exp\""), "{err}");
}

#[test]
fn unknown_population_model_and_rule() {
    check(
        "unknown_model",
        "model = \"poisson\"",
        "model = \"gamma\"",
        "model = \"gamma\"",
        "populations.input.model",
        "\"gamma\"",
    );
    check(
        "unknown_rule",
        "rule = \"fixed_probability\"",
        "rule = \"small_world\"",
        "rule = \"small_world\"",
        "projections.exc_inh.connect.rule",
        "\"small_world\"",
    );
}

/// Quantities with units are converted to the fields' units, so a file
/// written with them is the same model as one with plain numbers.
#[test]
fn quantities_with_units_are_converted() {
    let canonical = experiment::parse(BASE, &[]).unwrap();
    let mut text = edit(BASE, "tau_m_ms = 20.0", "tau_m = \"0.02 s\"");
    text = edit(&text, "c_m_pf = 200.0", "c_m_pf = \"0.2 nF\"");
    text = edit(&text, "e_l_mv = -49.0", "e_l = \"-49 mV\"");
    text = edit(&text, "weight = 16.2           # pA", "weight = \"0.0162 nA\"");
    text = edit(&text, "duration_ms = 100.0", "duration = \"100 ms\"");
    text = edit(&text, "rate_hz = 10.0", "rate = \"10 Hz\"");
    let with_units = experiment::parse(&text, &[]).expect("units are accepted");
    assert_eq!(with_units, canonical);
    // Through --set as well.
    let set = experiment::parse(BASE, &["populations.exc.tau_m_ms=\"20 ms\"".to_string()]).unwrap();
    assert_eq!(set, canonical);
}

/// A quantity of the wrong dimension, such as a time constant in volts, is
/// refused with the field, the value and both dimensions.
#[test]
fn quantities_of_the_wrong_dimension_are_refused() {
    let err = check(
        "time_in_volts",
        "tau_m_ms = 20.0",
        "tau_m = \"20 mV\"",
        "tau_m = \"20 mV\"",
        "populations.exc.tau_m",
        "\"20 mV\"",
    );
    assert!(
        err.reason.contains("a voltage where") && err.reason.contains("needs a time"),
        "{err}"
    );
    let err = check(
        "suffixed_time_in_volts",
        "tau_m_ms = 20.0",
        "tau_m_ms = \"0.02 V\"",
        "tau_m_ms = \"0.02 V\"",
        "populations.exc.tau_m_ms",
        "\"0.02 V\"",
    );
    assert!(err.reason.contains("a voltage where"), "{err}");
    // `mS` is millisiemens, not milliseconds.
    let err = check(
        "millisiemens",
        "t_ref_ms = 5.0",
        "t_ref = \"5 mS\"",
        "t_ref = \"5 mS\"",
        "populations.exc.t_ref",
        "\"5 mS\"",
    );
    assert!(err.reason.contains("a conductance where"), "{err}");
    let err = check(
        "unknown_unit",
        "e_l_mv = -49.0",
        "e_l = \"-49 millivolts\"",
        "e_l = \"-49 millivolts\"",
        "populations.exc.e_l",
        "\"-49 millivolts\"",
    );
    assert!(err.reason.contains("unknown unit `millivolts`"), "{err}");
    let err = check(
        "weight_in_the_wrong_unit",
        "weight = 16.2           # pA",
        "weight = \"1.62 mV\"",
        "weight = \"1.62 mV\"",
        "projections.exc_inh.weight",
        "\"1.62 mV\"",
    );
    assert!(err.reason.contains("takes weights in pA"), "{err}");
    let err = check(
        "given_twice",
        "tau_m_ms = 20.0",
        "tau_m_ms = 20.0\ntau_m = \"20 ms\"",
        "tau_m = \"20 ms\"",
        "populations.exc.tau_m",
        "\"20 ms\"",
    );
    assert!(err.reason.contains("given twice"), "{err}");
}

#[test]
fn string_where_a_number_is_expected() {
    let err = check(
        "wrong_type",
        "c_m_pf = 200.0",
        "c_m_pf = \"two hundred\"",
        "c_m_pf = \"two hundred\"",
        "populations.exc.c_m_pf",
        "\"two hundred\"",
    );
    assert!(err.reason.contains("expected a number, found a string"), "{err}");
    check(
        "wrong_weight",
        "weight = -90.0",
        "weight = \"-90\"",
        "weight = \"-90\"",
        "projections.inh_exc.weight",
        "\"-90\"",
    );
    check(
        "wrong_delay",
        "delay_ms = 1.0",
        "delay_ms = { normal = [1.0, 0.1] }",
        "delay_ms = { normal",
        "projections.inh_exc.delay_ms",
        "{ normal = [1.0, 0.1] }",
    );
    check(
        "short_pair",
        "uniform = [-60.0, -50.0]",
        "uniform = [-60.0]",
        "uniform = [-60.0]",
        "populations.exc.v_init_mv.uniform",
        "[-60.0]",
    );
}

#[test]
fn more_inputs_than_neurons_without_multapses() {
    let err = check(
        "k_too_large",
        "k = 5",
        "k = 30",
        "k = 30",
        "projections.inh_exc.connect.k",
        "30",
    );
    assert!(err.reason.contains("(20)"), "{err}");
}

#[test]
fn one_to_one_size_mismatch() {
    let err = check(
        "one_to_one",
        "{ rule = \"fixed_probability\", p = 0.02 }",
        "{ rule = \"one_to_one\" }",
        "rule = \"one_to_one\"",
        "projections.exc_inh.connect.rule",
        "\"one_to_one\"",
    );
    assert!(err.reason.contains("80") && err.reason.contains("20"), "{err}");
}

#[test]
fn explicit_synapse_out_of_range() {
    let err = check(
        "explicit_out_of_range",
        "[3, 79, 5.0, 0.2]",
        "[3, 80, 5.0, 0.2]",
        "[3, 80, 5.0, 0.2]",
        "projections.input_exc.connect.synapses.1",
        "[3, 80, 5, 0.2]",
    );
    assert!(err.reason.contains("out of range"), "{err}");
    check(
        "explicit_negative",
        "[3, 79, 5.0, 0.2]",
        "[-3, 79, 5.0, 0.2]",
        "[-3, 79, 5.0, 0.2]",
        "projections.input_exc.connect.synapses.1",
        "[-3, 79, 5.0, 0.2]",
    );
}

#[test]
fn monitor_of_a_missing_population() {
    check(
        "monitor_spikes",
        "spikes = { exc = \"all\", inh = [0, 1, 2] }",
        "spikes = { exc = \"all\", ghost = [0, 1, 2] }",
        "ghost = [0, 1, 2]",
        "monitors.spikes.ghost",
        "\"ghost\"",
    );
    check(
        "monitor_state",
        "population = \"exc\"",
        "population = \"ghost\"",
        "population = \"ghost\"",
        "monitors.state.0.population",
        "\"ghost\"",
    );
    check(
        "monitor_neuron",
        "neurons = [0, 1]",
        "neurons = [0, 100]",
        "neurons = [0, 100]",
        "monitors.state.0.neurons",
        "100",
    );
}

#[test]
fn delay_shorter_than_the_time_step() {
    let err = check(
        "short_delay",
        "delay_ms = 1.0",
        "delay_ms = 0.05",
        "delay_ms = 0.05",
        "projections.inh_exc.delay_ms",
        "0.05",
    );
    assert!(err.reason.contains("one time step"), "{err}");
}

#[test]
fn bad_overrides() {
    // A path through a value.
    let (err, file) = refuse("set_through_value", BASE, &["simulation.dt_ms.x=1"]);
    assert_error(
        &err,
        &file,
        Some(line_with(BASE, "dt_ms = 0.1")),
        "simulation.dt_ms.x",
        "1",
    );
    assert!(err.reason.contains("--set simulation.dt_ms.x=1"), "{err}");

    // A misspelt key: refused as unknown, at its table's line.
    let (err, file) = refuse("set_unknown_key", BASE, &["simulation.dtms=0.2"]);
    assert_error(
        &err,
        &file,
        Some(line_with(BASE, "[simulation]")),
        "simulation.dtms",
        "0.2",
    );
    assert!(
        err.reason.contains("unknown field") && err.reason.contains("--set"),
        "{err}"
    );

    // A path that does not exist at all: named as given, no line in the file.
    let (err, file) = refuse("set_unknown_table", BASE, &["simulaton.dt_ms=0.2"]);
    assert_error(&err, &file, None, "simulaton.dt_ms", "0.2");
    assert!(err.reason.contains("--set simulaton.dt_ms=0.2"), "{err}");

    // No `=`.
    let (err, file) = refuse("set_no_value", BASE, &["simulation.dt_ms"]);
    assert_error(&err, &file, None, "--set", "simulation.dt_ms");

    // Empty key.
    let (err, file) = refuse("set_empty_key", BASE, &["simulation..dt_ms=1"]);
    assert_error(&err, &file, None, "--set", "simulation..dt_ms=1");

    // A valid path with a bad value: the file's line of the field, and the override named.
    let (err, file) = refuse("set_bad_value", BASE, &["simulation.dt_ms=-1"]);
    assert_error(
        &err,
        &file,
        Some(line_with(BASE, "dt_ms = 0.1")),
        "simulation.dt_ms",
        "-1",
    );
    assert!(err.reason.contains("--set simulation.dt_ms=-1"), "{err}");

    // A value that is not TOML becomes a string.
    let (err, file) = refuse("set_not_toml", BASE, &["populations.exc.tau_m_ms=fast"]);
    assert_error(
        &err,
        &file,
        Some(line_with(BASE, "tau_m_ms = 20.0")),
        "populations.exc.tau_m_ms",
        "\"fast\"",
    );
}

#[test]
fn good_overrides_apply() {
    let network = experiment::parse(BASE, &["simulation.duration_ms=5".into(), "network.scale=2".into()]).unwrap();
    assert_eq!(network.simulation.duration_ms, 5.0);
    assert_eq!(network.scaled_size(&network.populations["exc"]), 160);
}

#[test]
fn malformed_toml() {
    let text = edit(BASE, "v_th_mv = -50.0", "v_th_mv = -50.0.0");
    let (err, file) = refuse("syntax", &text, &[]);
    assert_error(
        &err,
        &file,
        Some(line_with(&text, "-50.0.0")),
        "populations.exc.v_th_mv",
        "-50.0.0",
    );
    assert!(err.reason.contains("invalid TOML"), "{err}");

    let text = edit(BASE, "v_th_mv = -50.0", "v_th_mv =");
    let (err, file) = refuse("syntax_missing_value", &text, &[]);
    assert_error(
        &err,
        &file,
        Some(line_with(&text, "v_th_mv =")),
        "populations.exc.v_th_mv",
        "",
    );

    let text = edit(BASE, "[populations.inh]", "[populations.inh");
    let (err, file) = refuse("syntax_header", &text, &[]);
    assert_eq!(err.line, Some(line_with(&text, "[populations.inh")), "{err}");
    assert_eq!(err.file.as_deref(), Some(file.as_str()));

    let text = edit(BASE, "n = 20\n", "n = 20\nn = 21\n");
    let (err, _) = refuse("duplicate_key", &text, &[]);
    assert_eq!(err.line, Some(line_with(&text, "n = 21")), "{err}");
}

#[test]
fn unreadable_file() {
    let path = std::env::temp_dir().join("cognitron-bad-input-does-not-exist.toml");
    let err = experiment::load(&path, &[]).unwrap_err();
    assert_eq!(err.file.as_deref(), Some(path.display().to_string().as_str()));
    assert!(err.to_string().contains("cannot read"), "{err}");
}

/// A validated model whose state overflows: two delta synapses of 1e308 mV
/// into neuron 7 at once make its potential infinite.
#[test]
fn non_finite_state_stops_the_run() {
    let text = r#"[simulation]
dt_ms = 0.1
duration_ms = 10.0

[populations.source]
model = "spike_times"
n = 10
spikes = [[7, 2.0]]

[populations.exc]
model = "lif"
n = 10
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
"#;
    let network = experiment::parse(text, &[]).expect("finite parameters are valid");
    let err = Simulation::build(&network).run(|_| {}).unwrap_err();
    let SimulationError::NonFinite {
        time_ms,
        ref population,
        neuron,
        variable,
        value,
    } = err;
    assert_eq!(population, "exc");
    assert_eq!(neuron, 7);
    assert_eq!(variable, "v");
    assert!(!value.is_finite());
    assert!((2.0..=2.3).contains(&time_ms), "t = {time_ms}");
    let shown = err.to_string();
    assert!(
        shown.contains("neuron 7") && shown.contains("exc") && shown.contains("t = "),
        "{shown}"
    );
}

/// Through the builder API, bypassing validation: an infinite bias current.
#[test]
fn non_finite_state_from_the_builder() {
    let lif = Lif {
        i_bias_pa: f64::INFINITY,
        synapse: SynapseModel::CurrentExp,
        ..Lif::new(5, 20.0, -70.0, -50.0, -60.0)
    };
    let network = Network::new(0.1, 5.0, 1)
        .lif("exc", lif)
        .poisson("input", 3, 5.0)
        .project(
            "in",
            "input",
            "exc",
            Connector::AllToAll {
                allow_autapses: true,
                except_same_index: false,
            },
            10.0,
            0.1,
        );
    let err = validate::validate(&network).unwrap_err();
    assert_eq!(err.field, "populations.exc.i_bias_pa");
    assert_eq!(err.line, None);
    match Simulation::build(&network).run(|_| {}) {
        Err(SimulationError::NonFinite {
            time_ms,
            population,
            neuron,
            ..
        }) => {
            assert_eq!(population, "exc");
            assert_eq!(neuron, 0);
            assert!((0.05..0.15).contains(&time_ms), "t = {time_ms}");
        }
        Ok(_) => panic!("an infinite bias ran to the end"),
    }
}

/// A plastic version of BASE's exc_inh projection.
const PLASTIC: &str = "[projections.exc_inh]
from = \"exc\"
to = \"inh\"
connect = { rule = \"fixed_probability\", p = 0.02 }
weight = 16.2           # pA
delay_ms = 0.1
plasticity = { rule = \"stdp\", a_plus = 0.01, a_minus = 0.012, tau_plus_ms = 20.0, w_max = 30.0 }
";

fn plastic_base() -> String {
    let start = BASE.find("[projections.exc_inh]").unwrap();
    let end = BASE.find("[projections.inh_exc]").unwrap();
    // Excitatory neurons driven harder, so that both sides of the plastic
    // projection fire within the run.
    let base = BASE.replacen("e_l_mv = -49.0", "e_l_mv = -40.0", 1);
    format!("{}{}\n{}", &base[..start], PLASTIC, &base[end..])
}

fn refuse_plastic(name: &str, old: &str, new: &str, field: &str, value: &str) -> ModelError {
    let text = edit(&plastic_base(), old, new);
    let (err, file) = refuse(name, &text, &[]);
    assert_eq!(err.file.as_deref(), Some(file.as_str()));
    assert_eq!(err.field, field, "{err}");
    assert_eq!(err.value, value, "{err}");
    assert!(err.to_string().contains(&format!("`{field}`")), "{err}");
    err
}

#[test]
fn plastic_base_is_valid_and_learns() {
    let network = experiment::parse(&plastic_base(), &[]).expect("valid");
    let mut sim = Simulation::build(&network);
    let before = sim.plastic_synapses("exc_inh").unwrap().weights;
    sim.run_steps(1000).unwrap();
    let after = sim.plastic_synapses("exc_inh").unwrap().weights;
    assert_eq!(before.len(), after.len());
    let spikes = (sim.spike_counts("exc").unwrap(), sim.spike_counts("inh").unwrap());
    assert!(
        before.iter().zip(&after).any(|(a, b)| a != b),
        "no weight changed; spikes {:?} {:?} of {} synapses",
        spikes.0.iter().sum::<u32>(),
        spikes.1.iter().sum::<u32>(),
        before.len()
    );
}

#[test]
fn plasticity_parameters_out_of_range_are_refused() {
    refuse_plastic(
        "plastic_tau",
        "tau_plus_ms = 20.0",
        "tau_plus_ms = -20.0",
        "projections.exc_inh.plasticity.tau_plus_ms",
        "-20",
    );
    let e = refuse_plastic(
        "plastic_bounds",
        "w_max = 30.0",
        "w_max = 30.0, w_min = 40.0",
        "projections.exc_inh.plasticity.w_min",
        "40",
    );
    assert!(e.reason.contains("w_max"), "{e}");
    refuse_plastic(
        "plastic_amplitude",
        "a_minus = 0.012",
        "a_minus = -0.012",
        "projections.exc_inh.plasticity.a_minus",
        "-0.012",
    );
    let e = refuse_plastic(
        "plastic_start",
        "weight = 16.2           # pA",
        "weight = 45.0",
        "projections.exc_inh.weight",
        "45",
    );
    assert!(e.reason.contains("[w_min, w_max]"), "{e}");
    let e = refuse_plastic(
        "plastic_delays",
        "delay_ms = 0.1\nplasticity",
        "delay_ms = { uniform = [0.1, 2.0] }\nplasticity",
        "projections.exc_inh.delay_ms",
        "{ uniform = [0.1, 2.0] }",
    );
    assert!(e.reason.contains("one delay"), "{e}");
}

#[test]
fn unknown_plasticity_rule_or_field_is_refused() {
    let e = refuse_plastic(
        "plastic_rule",
        "rule = \"stdp\"",
        "rule = \"hebb\"",
        "projections.exc_inh.plasticity.rule",
        "\"hebb\"",
    );
    assert!(e.reason.contains("triplet"), "{e}");
    let e = refuse_plastic(
        "plastic_field",
        "a_plus = 0.01",
        "a_plus = 0.01, tau_x_ms = 5.0",
        "projections.exc_inh.plasticity.tau_x_ms",
        "5.0",
    );
    assert!(e.reason.contains("stdp"), "{e}");
}

#[test]
fn winner_take_all_needs_one_chunk() {
    let text = edit(
        &edit(BASE, "n = 80", "n = 5000"),
        "v_init_mv",
        "wta = \"hard\"\nv_init_mv",
    );
    let (err, _) = refuse("wta_big", &text, &[]);
    assert_eq!(err.field, "populations.exc.wta", "{err}");
    assert!(err.reason.contains("one chunk"), "{err}");
}
