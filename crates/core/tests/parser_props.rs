//! Property tests of the experiment parser: no input panics. Arbitrary text,
//! mutations of the real experiment files and arbitrary `--set` overrides
//! either give a validated network (which, when small, builds and steps
//! without panicking) or an error with a message.
//!
//! The cargo-fuzz target `fuzz/fuzz_targets/parse_experiment.rs` explores the
//! same property with coverage guidance.

use cognitron_core::{experiment, validate, Network, Simulation, SimulationError};
use proptest::prelude::*;

const FILES: [&str; 3] = [
    include_str!("../../../experiments/cuba.toml"),
    include_str!("../../../experiments/coba.toml"),
    include_str!("../../../experiments/brunel.toml"),
];

/// Values that break things: signs, zero, non-finite, huge, tiny, wrong types.
const NASTY: &[&str] = &[
    "0",
    "-0.0",
    "-1",
    "1",
    "0.5",
    "2",
    "-20.0",
    "nan",
    "-nan",
    "inf",
    "-inf",
    "1e308",
    "-1e308",
    "1e-308",
    "5e-324",
    "4294967295",
    "4294967296",
    "65536",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551616",
    "1e20",
    "1000000",
    "3.0",
    "\"x\"",
    "\"all\"",
    "\"none\"",
    "true",
    "false",
    "[]",
    "[1]",
    "[1, 2]",
    "[[0, 1]]",
    "{}",
    "{ uniform = [2, 1] }",
    "{ uniform = [1, 2] }",
    "{ normal = [1, -1] }",
    "{ normal = [0, 1], min = 0 }",
    "1979-05-27",
    "\"lif\"",
    "\"poisson\"",
    "\"spike_times\"",
    "\"one_to_one\"",
    "\"all_to_all\"",
    "\"explicit\"",
    "\"fixed_indegree\"",
    "\"delta\"",
    "\"conductance_exp\"",
    "\"inh\"",
    "\"exc\"",
];

/// Keys of the model, to rename keys into other valid ones.
const KEYS: &[&str] = &[
    "dt_ms",
    "duration_ms",
    "seed",
    "scale",
    "model",
    "n",
    "tau_m_ms",
    "c_m_pf",
    "e_l_mv",
    "v_th_mv",
    "v_reset_mv",
    "t_ref_ms",
    "i_bias_pa",
    "synapse",
    "tau_exc_ms",
    "tau_inh_ms",
    "e_exc_mv",
    "e_inh_mv",
    "v_init_mv",
    "g_exc_init",
    "g_inh_init",
    "external",
    "rate_hz",
    "schedule",
    "spikes",
    "from",
    "to",
    "connect",
    "weight",
    "delay_ms",
    "receptor",
    "rule",
    "p",
    "k",
    "allow_autapses",
    "allow_multapses",
    "synapses",
    "rate_bin_ms",
    "state",
    "population",
    "variables",
    "neurons",
    "interval_ms",
    "count",
    "uniform",
    "normal",
    "min",
    "bogus",
];

/// Parses, and exercises whatever comes out: a network must validate and,
/// when small, build and step; an error must say something.
fn exercise(text: &str, overrides: &[String]) {
    match experiment::parse(text, overrides) {
        Ok(network) => exercise_network(&network),
        Err(e) => {
            assert!(!e.reason.trim().is_empty(), "an error without a reason: {e:?}");
            assert!(!e.to_string().trim().is_empty());
        }
    }
}

fn exercise_network(network: &Network) {
    validate::validate(network).expect("parse returned a network that does not validate");
    // The resolved model (written as experiment.toml) reads back the same.
    let written = network.to_toml();
    let again = experiment::parse(&written, &[]).unwrap_or_else(|e| panic!("{e}\n{written}"));
    assert_eq!(again.to_toml(), written);
    let neurons: usize = network.populations.values().map(|p| network.scaled_size(p)).sum();
    if validate::estimate_memory(network) < 50e6 && neurons < 20_000 {
        let mut simulation = Simulation::build(network);
        match simulation.advance(20) {
            Ok(()) => {}
            Err(SimulationError::NonFinite { population, .. }) => {
                assert!(network.populations.contains_key(&population));
            }
        }
    }
}

/// One edit of an experiment file.
#[derive(Debug, Clone)]
enum Mutation {
    DeleteLine(usize),
    DuplicateLine(usize),
    SwapLines(usize, usize),
    /// Replace the `which`-th number of a line (or its value) with a nasty value.
    ReplaceNumber {
        line: usize,
        which: usize,
        nasty: usize,
    },
    /// Replace a number with an arbitrary float.
    RandomNumber {
        line: usize,
        which: usize,
        value: f64,
    },
    /// Replace an integer with an arbitrary integer.
    RandomInteger {
        line: usize,
        which: usize,
        value: i64,
    },
    RenameKey {
        line: usize,
        key: usize,
    },
    Truncate(usize),
    Insert {
        at: usize,
        text: String,
    },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let i = any::<usize>;
    prop_oneof![
        1 => i().prop_map(Mutation::DeleteLine),
        1 => i().prop_map(Mutation::DuplicateLine),
        1 => (i(), i()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        8 => (i(), i(), i()).prop_map(|(line, which, nasty)| Mutation::ReplaceNumber { line, which, nasty }),
        4 => (i(), i(), any::<f64>()).prop_map(|(line, which, value)| Mutation::RandomNumber { line, which, value }),
        4 => (i(), i(), any::<i64>()).prop_map(|(line, which, value)| Mutation::RandomInteger { line, which, value }),
        2 => (i(), i()).prop_map(|(line, key)| Mutation::RenameKey { line, key }),
        1 => i().prop_map(Mutation::Truncate),
        1 => (i(), "[\\[\\]{}=,.\"'#\n a-z0-9_-]{1,12}").prop_map(|(at, text)| Mutation::Insert { at, text }),
    ]
}

/// Byte ranges of the numbers in a line (outside comments).
fn numbers(line: &str) -> Vec<std::ops::Range<usize>> {
    let code = line.split('#').next().unwrap_or("");
    let bytes = code.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let starts =
            bytes[i].is_ascii_digit() || (bytes[i] == b'-' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit));
        let inside_word = i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        if starts && !inside_word {
            let start = i;
            i += 1;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || matches!(bytes[i], b'.' | b'-' | b'+' | b'_'))
            {
                i += 1;
            }
            out.push(start..i);
        } else {
            i += 1;
        }
    }
    out
}

fn replace_number(lines: &mut [String], line: usize, which: usize, value: &str) {
    if lines.is_empty() {
        return;
    }
    let l = &mut lines[line % lines.len()];
    let found = numbers(l);
    if found.is_empty() {
        // No number: replace the whole value.
        if let Some(eq) = l.find('=') {
            l.replace_range(eq + 1.., &format!(" {value}"));
        }
        return;
    }
    let range = found[which % found.len()].clone();
    l.replace_range(range, value);
}

fn apply(text: &str, mutations: &[Mutation]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for m in mutations {
        let n = lines.len().max(1);
        match m {
            Mutation::DeleteLine(i) if !lines.is_empty() => {
                lines.remove(i % n);
            }
            Mutation::DuplicateLine(i) if !lines.is_empty() => {
                let l = lines[i % n].clone();
                lines.insert(i % n, l);
            }
            Mutation::SwapLines(a, b) if !lines.is_empty() => lines.swap(a % n, b % n),
            Mutation::ReplaceNumber { line, which, nasty } => {
                replace_number(&mut lines, *line, *which, NASTY[nasty % NASTY.len()])
            }
            Mutation::RandomNumber { line, which, value } => {
                let shown = if value.is_nan() {
                    "nan".to_string()
                } else if value.is_infinite() {
                    if *value > 0.0 { "inf" } else { "-inf" }.to_string()
                } else {
                    format!("{value:?}")
                };
                replace_number(&mut lines, *line, *which, &shown)
            }
            Mutation::RandomInteger { line, which, value } => {
                replace_number(&mut lines, *line, *which, &value.to_string())
            }
            Mutation::RenameKey { line, key } if !lines.is_empty() => {
                let l = &mut lines[line % n];
                if let Some(eq) = l.find('=') {
                    if !l.trim_start().starts_with('[') {
                        l.replace_range(..eq, &format!("{} ", KEYS[key % KEYS.len()]));
                    }
                }
            }
            Mutation::Truncate(at) => {
                let joined = lines.join("\n");
                let mut cut = at % (joined.len() + 1);
                while !joined.is_char_boundary(cut) {
                    cut -= 1;
                }
                lines = joined[..cut].lines().map(str::to_string).collect();
            }
            Mutation::Insert { at, text } => {
                let mut joined = lines.join("\n");
                let mut at = at % (joined.len() + 1);
                while !joined.is_char_boundary(at) {
                    at -= 1;
                }
                joined.insert_str(at, text);
                lines = joined.lines().map(str::to_string).collect();
            }
            _ => {}
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// A `--set` item: a dotted path (often a real one) and a value.
fn override_item() -> impl Strategy<Value = String> {
    let segment = prop_oneof![
        3 => prop::sample::select(KEYS.to_vec()).prop_map(str::to_string),
        1 => prop::sample::select(vec![
            "simulation", "network", "populations", "projections", "monitors", "exc", "inh", "exc_exc", "inh_exc",
            "0", "connect",
        ])
        .prop_map(str::to_string),
        1 => "[a-z_0-9.]{0,6}",
    ];
    let value = prop_oneof![
        3 => prop::sample::select(NASTY.to_vec()).prop_map(str::to_string),
        1 => any::<f64>().prop_map(|v| format!("{v:?}")),
        1 => ".{0,10}",
    ];
    prop_oneof![
        8 => (prop::collection::vec(segment, 1..5), value).prop_map(|(path, value)| format!("{}={value}", path.join("."))),
        1 => ".{0,30}",
    ]
}

/// `cases` cases, or `PROPTEST_CASES` for a longer soak.
fn config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(cases);
    ProptestConfig {
        cases,
        max_shrink_iters: 2000,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config(2000))]

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,300}") {
        exercise(&text, &[]);
    }

    #[test]
    fn toml_like_text_never_panics(text in "([\\[\\]a-z_.]{1,12}|[a-z_]{1,8} = (-?[0-9.e]{1,6}|nan|inf|\"[a-z_]{0,8}\"|\\[[0-9, .-]{0,12}\\]|\\{ ?[a-z_]{1,8} = [0-9a-z\".-]{1,6} ?\\}))(\n([\\[\\]a-z_.]{1,12}|[a-z_]{1,8} = (-?[0-9.e]{1,6}|nan|inf|\"[a-z_]{0,8}\"|\\[[0-9, .-]{0,12}\\]|\\{ ?[a-z_]{1,8} = [0-9a-z\".-]{1,6} ?\\}))){0,12}") {
        exercise(&text, &[]);
    }
}

proptest! {
    #![proptest_config(config(2000))]

    #[test]
    fn mutated_experiments_never_panic(file in 0..FILES.len(), mutations in prop::collection::vec(mutation(), 1..5)) {
        let text = apply(FILES[file], &mutations);
        exercise(&text, &[]);
    }

    #[test]
    fn mutated_small_experiments_never_panic(mutations in prop::collection::vec(mutation(), 1..4)) {
        // Brunel at 2 % of its size, so that mutations of it are built too.
        let text = apply(FILES[2], &mutations);
        exercise(&text, &["network.scale=0.02".to_string(), "monitors.spikes.exc=\"all\"".to_string()]);
    }

    #[test]
    fn arbitrary_overrides_never_panic(file in 0..FILES.len(), overrides in prop::collection::vec(override_item(), 1..4)) {
        exercise(FILES[file], &overrides);
    }
}

/// Regressions found by the properties and the fuzzer.
#[test]
fn regressions() {
    // A file without `[monitors]` took `Monitors::default()`, whose rate bin is 0.
    exercise(
        "[simulation]\nduration_ms = 1\n[populations.a]\nmodel = \"poisson\"\nn = 1\nrate_hz = 1\n",
        &[],
    );
    // Overrides that create tables inside inline tables, or go through arrays.
    for set in [
        "projections.exc_exc.connect.foo.bar=1",
        "monitors.spikes.x.y=1",
        "monitors.state.0.interval_ms=1",
        "populations.exc.v_init_mv.uniform.0=1",
        "populations.exc.v_init_mv.normal=[0, 1]",
        "simulation=3",
        "=",
        "a=b=c",
        ".=1",
    ] {
        for file in FILES {
            exercise(file, &[set.to_string()]);
        }
    }
    // A syntax error after a multi-line array whose lines start with `[`.
    let text = "[projections.a.connect]\nsynapses = [\n  [0, 1, 2.0, 0.1],\n]\nrule = explicit\n";
    let err = experiment::parse(text, &[]).unwrap_err();
    assert_eq!(
        (err.line, err.field.as_str(), err.value.as_str()),
        (Some(5), "projections.a.connect.rule", "explicit")
    );
    experiment::parse(
        "[simulation]\nduration_ms = 1\n[populations.a]\nmodel = \"poisson\"\nn = 1\nrate_hz = 1\n",
        &[],
    )
    .expect("monitors are optional");
}
