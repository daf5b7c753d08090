//! Result files. Every file is written to a temporary name and renamed, so an
//! interrupted run never leaves a half-written file under the final name.
//!
//! Spikes: `spikes_<population>.npy`, a NumPy structured array with fields
//! `t_ms` (little-endian f64, start of the step in which the neuron crossed
//! threshold) and `neuron` (little-endian u32, index within the population),
//! in time order (`numpy.load(path)["t_ms"]`). With `--csv` also
//! `spikes_<population>.csv` (`t_ms,neuron`).
//! Traces: `traces.csv` (`population,variable,neuron,t_ms,value`) whenever a
//! state monitor is set.

use anyhow::{Context, Result};
use cognitron_core::{Network, RunResult};
use serde_json::{json, Map, Value};
use std::io::Write;
use std::path::Path;

pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// Streams a file through `fill` into a temporary name, syncs it, then
/// renames it into place (large spike files are never held in memory twice).
pub fn write_atomic_with(path: &Path, fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<()> {
    let tmp = path.with_extension(format!(
        "{}.partial",
        path.extension().and_then(|e| e.to_str()).unwrap_or("")
    ));
    let file = std::fs::File::create(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
    let mut writer = std::io::BufWriter::with_capacity(1 << 20, file);
    fill(&mut writer)
        .and_then(|_| writer.flush())
        .and_then(|_| writer.get_ref().sync_all())
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot rename {} to {}", tmp.display(), path.display()))?;
    Ok(())
}

/// The header of a NumPy `.npy` (format 1.0) file of `rows` records of the
/// structured type `descr`.
fn write_npy_header(w: &mut dyn Write, descr: &str, rows: usize) -> std::io::Result<()> {
    let mut header = format!("{{'descr': {descr}, 'fortran_order': False, 'shape': ({rows},), }}");
    // Magic (6) + version (2) + header length (2) + header, padded to 64 bytes.
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    w.write_all(b"\x93NUMPY\x01\x00")?;
    w.write_all(&(header.len() as u16).to_le_bytes())?;
    w.write_all(header.as_bytes())
}

/// Writes a NumPy `.npy` (format 1.0) structured array `(t_ms f8, neuron u4)`.
pub fn write_spikes_npy(w: &mut dyn Write, steps: &[u32], neurons: &[u32], dt_ms: f64) -> std::io::Result<()> {
    write_npy_header(w, "[('t_ms', '<f8'), ('neuron', '<u4')]", steps.len())?;
    for (&s, &i) in steps.iter().zip(neurons) {
        w.write_all(&(s as f64 * dt_ms).to_le_bytes())?;
        w.write_all(&i.to_le_bytes())?;
    }
    Ok(())
}

/// Writes a plastic projection's final weights as a NumPy structured array
/// `(pre u4, post u4, weight f4)`.
pub fn write_weights_npy(w: &mut dyn Write, weights: &cognitron_core::PlasticWeights) -> std::io::Result<()> {
    write_npy_header(
        w,
        "[('pre', '<u4'), ('post', '<u4'), ('weight', '<f4')]",
        weights.weights.len(),
    )?;
    for k in 0..weights.weights.len() {
        w.write_all(&weights.pre[k].to_le_bytes())?;
        w.write_all(&weights.post[k].to_le_bytes())?;
        w.write_all(&weights.weights[k].to_le_bytes())?;
    }
    Ok(())
}

/// Decimal places that show every multiple of `dt_ms` exactly (at most 9).
fn decimals(dt_ms: f64) -> usize {
    (0..9)
        .find(|&p| {
            let scaled = dt_ms * 10f64.powi(p as i32);
            (scaled - scaled.round()).abs() < 1e-9 * scaled.max(1.0)
        })
        .unwrap_or(9)
}

pub fn write_spikes(out: &Path, result: &RunResult, csv: bool) -> Result<()> {
    let dt = result.dt_ms;
    for p in result.populations.iter().filter(|p| p.recorded) {
        write_atomic_with(&out.join(format!("spikes_{}.npy", p.name)), |w| {
            write_spikes_npy(w, &p.spike_steps, &p.spike_neurons, dt)
        })?;
        if csv {
            let places = decimals(dt);
            write_atomic_with(&out.join(format!("spikes_{}.csv", p.name)), |w| {
                writeln!(w, "t_ms,neuron")?;
                for (&s, i) in p.spike_steps.iter().zip(&p.spike_neurons) {
                    writeln!(w, "{:.places$},{i}", s as f64 * dt)?;
                }
                Ok(())
            })?;
        }
    }
    Ok(())
}

pub fn write_traces(out: &Path, result: &RunResult) -> Result<()> {
    if result.traces.is_empty() {
        return Ok(());
    }
    let places = decimals(result.dt_ms);
    write_atomic_with(&out.join("traces.csv"), |w| {
        writeln!(w, "population,variable,neuron,t_ms,value")?;
        for trace in &result.traces {
            let k = trace.neurons.len();
            for (s, t) in trace.times_ms.iter().enumerate() {
                for (i, neuron) in trace.neurons.iter().enumerate() {
                    let value = trace.values[s * k + i];
                    writeln!(
                        w,
                        "{},{},{neuron},{t:.places$},{value}",
                        trace.population, trace.variable
                    )?;
                }
            }
        }
        Ok(())
    })
}

/// Peak resident memory of this process (MiB), from /proc.
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

pub fn summary(network: &Network, result: &RunResult, wall_s: f64) -> Value {
    let mut populations = Map::new();
    for p in &result.populations {
        populations.insert(
            p.name.clone(),
            json!({
                "n": p.n,
                "spikes": p.spikes,
                "rate_hz": p.rate_hz,
                "cv_isi": p.cv_isi,
                "neurons_with_cv": p.neurons_with_cv,
            }),
        );
    }
    let mut projections = Map::new();
    for p in &result.projections {
        projections.insert(
            p.name.clone(),
            json!({
                "synapses": p.synapses,
                "bytes": p.bytes,
                "bytes_per_synapse": if p.synapses > 0 { p.bytes as f64 / p.synapses as f64 } else { 0.0 },
            }),
        );
    }
    let synapses: usize = result.projections.iter().map(|p| p.synapses).sum();
    let bytes: usize = result.projections.iter().map(|p| p.bytes).sum();
    json!({
        "duration_s": result.duration_ms / 1000.0,
        "dt_ms": result.dt_ms,
        "steps": result.steps,
        "seed": network.simulation.seed,
        "scale": network.network.scale,
        "wall_s": wall_s,
        "build_s": result.build_s,
        "run_s": result.run_s,
        "threads": result.threads,
        "rayon_threads": rayon::current_num_threads(),
        "synaptic_events": result.synaptic_events,
        "synaptic_events_per_s": result.synaptic_events as f64 / result.run_s.max(1e-9),
        "realtime_factor": result.run_s / (result.duration_ms / 1000.0),
        "synapses": synapses,
        "synapse_bytes": bytes,
        "bytes_per_synapse": if synapses > 0 { bytes as f64 / synapses as f64 } else { 0.0 },
        "peak_rss_mb": peak_rss_mb(),
        "populations": populations,
        "projections": projections,
    })
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// `report.html`: the summary as tables and the pictures, for a browser.
pub fn write_report(out: &Path, experiment: &Path, result: &RunResult, summary: &Value) -> Result<()> {
    let mut html = String::from(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>cognitron run</title>\n<style>\
         body{font-family:sans-serif;margin:2em;max-width:1250px}table{border-collapse:collapse;margin:1em 0}\
         td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}th{background:#f3f3f3}img{max-width:100%}\
         </style></head><body>\n",
    );
    html.push_str(&format!("<h1>{}</h1>\n", escape(&experiment.display().to_string())));
    html.push_str(&format!(
        "<p>{:.3} s simulated at dt = {} ms in {:.3} s ({:.3} s build, {:.3} s run, {} threads); \
         {} synapses ({:.2} bytes each); {} synaptic events.</p>\n",
        result.duration_ms / 1000.0,
        result.dt_ms,
        summary["wall_s"].as_f64().unwrap_or(0.0),
        result.build_s,
        result.run_s,
        result.threads,
        summary["synapses"],
        summary["bytes_per_synapse"].as_f64().unwrap_or(0.0),
        result.synaptic_events
    ));
    html.push_str("<table><tr><th>population</th><th>n</th><th>spikes</th><th>rate (Hz)</th><th>CV ISI</th></tr>\n");
    for p in &result.populations {
        html.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.3}</td><td>{}</td></tr>\n",
            escape(&p.name),
            p.n,
            p.spikes,
            p.rate_hz,
            p.cv_isi.map_or("-".to_string(), |c| format!("{c:.3}"))
        ));
    }
    html.push_str("</table>\n");
    for (file, caption) in [
        ("raster.png", "Spikes and population rate"),
        ("traces.png", "State traces"),
    ] {
        if out.join(file).exists() {
            html.push_str(&format!("<h2>{caption}</h2>\n<img src=\"{file}\" alt=\"{caption}\">\n"));
        }
    }
    html.push_str("<p>Files: <a href=\"summary.json\">summary.json</a>, <a href=\"experiment.toml\">experiment.toml</a> (the model as run).</p>\n</body></html>\n");
    write_atomic(&out.join("report.html"), html.as_bytes())
}
