//! `cognitron neuron`: look at one neuron model (its f-I curve and membrane
//! traces) before building a network with it.

use anyhow::{anyhow, bail, Context, Result};
use cognitron_core::model::{INPUT_MODELS, NEURON_MODELS};
use cognitron_core::probe::{self, FiCurve};
use cognitron_core::units::field_dimension;
use std::path::Path;

/// Parameters used when a model is named without them: a typical cell of
/// each model, so that `cognitron neuron MODEL` works on its own.
fn default_parameters(model: &str) -> &'static [(&'static str, &'static str)] {
    match model {
        // A cortical pyramidal cell in the units of Brette et al. (2007).
        "lif" => &[
            ("tau_m_ms", "20.0"),
            ("c_m_pf", "250.0"),
            ("e_l_mv", "-70.0"),
            ("v_th_mv", "-55.0"),
            ("v_reset_mv", "-70.0"),
            ("t_ref_ms", "2.0"),
            ("synapse", "\"current_exp\""),
        ],
        // Regular spiking (Izhikevich 2003, Fig. 2).
        "izhikevich" => &[("a", "0.02"), ("b", "0.2"), ("c_mv", "-65.0"), ("d", "8.0")],
        _ => &[],
    }
}

/// The population table to probe: `MODEL` with defaults and `--param`
/// overrides, or `FILE.toml:POPULATION`.
pub fn population_table(spec: &str, params: &[String]) -> Result<toml_edit::Table> {
    let mut table = if let Some((file, name)) = spec.rsplit_once(".toml:") {
        let path = format!("{file}.toml");
        let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
        let doc: toml_edit::DocumentMut = text.parse().with_context(|| format!("{path} is not valid TOML"))?;
        let table = doc
            .get("populations")
            .and_then(|p| p.get(name))
            .and_then(|p| p.as_table_like())
            .ok_or_else(|| anyhow!("{path} has no population `{name}`"))?;
        let mut owned = toml_edit::Table::new();
        for (k, v) in table.iter() {
            owned.insert(k, v.clone());
        }
        owned
    } else {
        if INPUT_MODELS.contains(&spec) || !NEURON_MODELS.contains(&spec) {
            bail!(
                "`{spec}` is not a neuron model; expected one of {} or FILE.toml:POPULATION",
                NEURON_MODELS.join(", ")
            );
        }
        let mut table = toml_edit::Table::new();
        table.insert("model", toml_edit::value(spec));
        // A preset fills the parameters itself; defaults would override it.
        let preset = params
            .iter()
            .any(|p| p.split('=').next().map(str::trim) == Some("preset"));
        for (k, v) in default_parameters(spec).iter().filter(|_| !preset) {
            table.insert(k, toml_edit::Item::Value(v.parse().expect("valid default")));
        }
        table
    };
    for param in params {
        let (key, raw) = param
            .split_once('=')
            .ok_or_else(|| anyhow!("--param `{param}`: expected KEY=VALUE"))?;
        // TOML if it parses (`20`, `"x"`, `[1, 2]`), a string otherwise.
        let value: toml_edit::Value = raw.parse().unwrap_or_else(|_| toml_edit::Value::from(raw.to_string()));
        // `tau_m = "10 ms"` replaces a default `tau_m_ms`, and the other way round.
        let key = key.trim();
        let stem_of = |k: &str| field_dimension(k).map_or(k.to_string(), |(stem, _)| stem.to_string());
        let stem = stem_of(key);
        let same: Vec<String> = table
            .iter()
            .map(|(k, _)| k.to_string())
            .filter(|k| stem_of(k) == stem)
            .collect();
        for k in same {
            table.remove(&k);
        }
        table.insert(key, toml_edit::Item::Value(value));
    }
    table.remove("n");
    Ok(table)
}

pub struct Request<'a> {
    pub spec: &'a str,
    pub params: &'a [String],
    pub current: Option<&'a str>,
    pub steps: usize,
    pub duration_ms: f64,
    pub dt_ms: f64,
    pub out: &'a Path,
    pub plots: bool,
}

pub fn run(r: &Request) -> Result<()> {
    let table = population_table(r.spec, r.params)?;
    let model = table.get("model").and_then(|m| m.as_str()).unwrap_or("").to_string();
    let (_, unit) =
        probe::bias_field(&model).ok_or_else(|| anyhow!("model `{model}` has no injected-current field"))?;
    let in_pa = unit == "pA";
    let default_range = if in_pa { "0pA..500pA" } else { "0..20" };
    let currents = probe::parse_current_range(r.current.unwrap_or(default_range), r.steps, in_pa)
        .map_err(|e| anyhow!("--current {e}"))?;
    // A first pass finds where firing starts, so that the traces show the
    // first current that fires, one in the middle and the largest.
    let scan = probe::fi_curve(&table, &currents, r.dt_ms, r.duration_ms, &[]).map_err(|e| model_error(r.spec, e))?;
    let first_firing = scan.points.iter().position(|p| p.spikes > 0);
    let last = currents.len() - 1;
    let mut traced: Vec<usize> = match first_firing {
        Some(k) => vec![k, (k + last) / 2, last],
        None => vec![last / 2, last],
    };
    traced.dedup();
    let curve =
        probe::fi_curve(&table, &currents, r.dt_ms, r.duration_ms, &traced).map_err(|e| model_error(r.spec, e))?;
    std::fs::create_dir_all(r.out).with_context(|| format!("cannot create {}", r.out.display()))?;
    write_outputs(r, &curve, &traced, unit)?;
    say_table(&curve, unit, &model);
    Ok(())
}

/// An error in the probed model, named by its parameter (the line of the
/// generated experiment would mean nothing to the user).
fn model_error(spec: &str, e: cognitron_core::ModelError) -> anyhow::Error {
    let field = e.field.strip_prefix("populations.neuron.").unwrap_or(&e.field);
    if field.is_empty() || e.value.is_empty() {
        anyhow!("{spec}: {}", e.reason)
    } else {
        anyhow!("{spec}: parameter `{field}` = {}: {}", e.value, e.reason)
    }
}

fn write_outputs(r: &Request, curve: &FiCurve, traced: &[usize], unit: &str) -> Result<()> {
    let mut csv = String::from("current,spikes,steady_rate_hz,first_spike_ms\n");
    for p in &curve.points {
        let first = p.first_spike_ms.map_or(String::new(), |t| format!("{t}"));
        csv += &format!("{},{},{},{}\n", p.current, p.spikes, p.steady_rate_hz, first);
    }
    crate::output::write_atomic(&r.out.join("fi.csv"), csv.as_bytes())?;
    let summary = serde_json::json!({
        "model": r.spec,
        "current_unit": unit,
        "duration_ms": r.duration_ms,
        "dt_ms": r.dt_ms,
        "rheobase": curve.points.iter().find(|p| p.spikes > 0).map(|p| p.current),
        "points": curve.points.iter().map(|p| serde_json::json!({
            "current": p.current,
            "spikes": p.spikes,
            "steady_rate_hz": p.steady_rate_hz,
            "first_spike_ms": p.first_spike_ms,
        })).collect::<Vec<_>>(),
    });
    crate::output::write_atomic(
        &r.out.join("summary.json"),
        serde_json::to_string_pretty(&summary)?.as_bytes(),
    )?;
    crate::output::write_atomic(&r.out.join("neuron.toml"), curve.network.to_toml().as_bytes())?;
    if r.plots {
        crate::plot::fi_curve(&r.out.join("fi.png"), &curve.points, unit, r.spec).context("cannot draw fi.png")?;
        let labels: Vec<String> = traced
            .iter()
            .map(|&i| format!("I = {} {unit}", curve.points[i].current))
            .collect();
        crate::plot::labelled_traces(&r.out.join("trace.png"), &curve.result, &labels)
            .context("cannot draw trace.png")?;
    }
    Ok(())
}

fn say_table(curve: &FiCurve, unit: &str, model: &str) {
    say!("{model}: f-I curve ({unit}; rate over the second half of the run)");
    say!(
        "{:>14} {:>8} {:>12} {:>14}",
        "current",
        "spikes",
        "rate (Hz)",
        "first spike"
    );
    for p in &curve.points {
        say!(
            "{:>14.4} {:>8} {:>12.3} {:>14}",
            p.current,
            p.spikes,
            p.steady_rate_hz,
            p.first_spike_ms.map_or("-".to_string(), |t| format!("{t:.1} ms"))
        );
    }
    match curve.points.iter().find(|p| p.spikes > 0) {
        Some(p) => say!("first current that fires: {} {unit}", p.current),
        None => say!("no current in the range fires"),
    }
}
