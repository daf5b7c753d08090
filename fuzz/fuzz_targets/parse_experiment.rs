//! Fuzzes the experiment parser: any text (with optional `--set` overrides)
//! either gives a validated network or an error with a message, never a
//! panic, a hang or a huge allocation; small valid networks are also built
//! and stepped.
//!
//! Input: UTF-8 text. Leading lines of the form `--set KEY=VALUE` are taken as
//! overrides, the rest as the experiment file.

#![no_main]

use cognitron_core::{experiment, validate, Simulation, SimulationError};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let mut overrides = Vec::new();
    let mut text = input;
    while let Some(rest) = text.strip_prefix("--set ") {
        let (item, after) = rest.split_once('\n').unwrap_or((rest, ""));
        overrides.push(item.to_string());
        text = after;
    }
    match experiment::parse(text, &overrides) {
        Ok(network) => {
            validate::validate(&network).expect("parse returned a network that does not validate");
            // The resolved model (experiment.toml of a run) reads back the same.
            let written = network.to_toml();
            let again = experiment::parse(&written, &[]).unwrap_or_else(|e| panic!("{e}\n{written}"));
            assert_eq!(again.to_toml(), written);
            let neurons: usize = network.populations.values().map(|p| network.scaled_size(p)).sum();
            if validate::estimate_memory(&network) < 50e6 && neurons < 20_000 {
                let mut simulation = Simulation::build(&network);
                match simulation.advance(20) {
                    Ok(()) => {}
                    Err(SimulationError::NonFinite { population, .. }) => {
                        assert!(network.populations.contains_key(&population));
                    }
                }
            }
        }
        Err(e) => {
            assert!(!e.reason.trim().is_empty(), "an error without a reason: {e:?}");
        }
    }
});
