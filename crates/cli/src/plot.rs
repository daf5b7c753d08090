//! PNG pictures of a run: spike raster with the population rate, and
//! membrane traces. The font is bundled so plots need no system fonts.

use anyhow::{anyhow, Result};
use cognitron_core::probe::FiPoint;
use cognitron_core::RunResult;
use plotters::prelude::*;
use std::path::Path;
use std::sync::Once;

static FONT: Once = Once::new();

pub(crate) fn register_font() {
    FONT.call_once(|| {
        let bytes: &'static [u8] = include_bytes!("../assets/DejaVuSans.ttf");
        // Registration only fails for a corrupt font, which is bundled and tested.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, bytes);
    });
}

pub(crate) const COLOURS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(23, 190, 207),
];

/// At most this many neurons per population appear in the raster.
const RASTER_ROWS: usize = 250;

pub(crate) fn err<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow!("{e}")
}

pub fn raster(path: &Path, result: &RunResult) -> Result<()> {
    register_font();
    let root = BitMapBackend::new(path, (1200, 800)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let (top, bottom) = root.split_vertically(560);
    let t_end = result.duration_ms;
    let recorded: Vec<_> = result.populations.iter().filter(|p| p.recorded).collect();
    let rows: Vec<usize> = recorded
        .iter()
        .map(|p| {
            let max_id = p.spike_neurons.iter().copied().max().map_or(0, |m| m as usize + 1);
            max_id.clamp(1, RASTER_ROWS)
        })
        .collect();
    let total_rows: usize = rows.iter().sum::<usize>().max(1);
    let mut chart = ChartBuilder::on(&top)
        .caption("Spike raster", ("sans-serif", 22))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..t_end, 0.0..total_rows as f64)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("time (ms)")
        .y_desc("neuron")
        .disable_mesh()
        .draw()
        .map_err(err)?;
    let mut offset = 0usize;
    for (k, (p, &n_rows)) in recorded.iter().zip(&rows).enumerate() {
        let colour = COLOURS[k % COLOURS.len()];
        let points = p
            .spike_steps
            .iter()
            .zip(&p.spike_neurons)
            .filter(|(_, &i)| (i as usize) < n_rows)
            .map(|(&s, &i)| (s as f64 * result.dt_ms, (offset + i as usize) as f64 + 0.5));
        chart
            .draw_series(points.map(|c| Circle::new(c, 1, colour.filled())))
            .map_err(err)?
            .label(format!("{} (first {} neurons)", p.name, n_rows))
            .legend(move |(x, y)| Circle::new((x + 10, y), 4, colour.filled()));
        offset += n_rows;
    }
    if !recorded.is_empty() {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(err)?;
    }

    // Population rate (Hz per neuron) per bin, every population.
    let bin_s = result.rate_bin_ms / 1000.0;
    let series: Vec<(String, Vec<(f64, f64)>)> = result
        .populations
        .iter()
        .map(|p| {
            let values = p
                .rate_counts
                .iter()
                .enumerate()
                .map(|(b, &c)| (b as f64 * result.rate_bin_ms, c as f64 / (p.n as f64 * bin_s)))
                .collect();
            (p.name.clone(), values)
        })
        .collect();
    let max_rate = series
        .iter()
        .flat_map(|(_, v)| v.iter().map(|p| p.1))
        .fold(1.0f64, f64::max);
    let mut chart = ChartBuilder::on(&bottom)
        .caption(
            format!("Population rate ({} ms bins)", result.rate_bin_ms),
            ("sans-serif", 18),
        )
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..t_end, 0.0..max_rate * 1.05)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("time (ms)")
        .y_desc("rate (Hz)")
        .disable_mesh()
        .draw()
        .map_err(err)?;
    for (k, (name, values)) in series.into_iter().enumerate() {
        let colour = COLOURS[k % COLOURS.len()];
        chart
            .draw_series(LineSeries::new(values, colour))
            .map_err(err)?
            .label(name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)?;
    Ok(())
}

pub fn traces(path: &Path, result: &RunResult) -> Result<()> {
    let captions: Vec<String> = result
        .traces
        .iter()
        .map(|t| format!("{} of {}", t.variable, t.population))
        .collect();
    labelled_traces(path, result, &captions)
}

/// The unit of a recorded variable, from its name across the models.
fn variable_unit(variable: &str) -> &'static str {
    match variable {
        // Membrane potentials are `v` or `v_<where>` (compartments).
        v if v == "v" || v.starts_with("v_") => "mV",
        "g_exc" | "g_inh" => "pA or nS",
        "w" => "pA",
        "rate" => "Hz",
        "u" | "input" => "model units",
        "m" | "h" | "n" => "open fraction",
        _ => "",
    }
}

/// The f-I curve: steady rate against injected current.
pub fn fi_curve(path: &Path, points: &[FiPoint], unit: &str, model: &str) -> Result<()> {
    register_font();
    let root = BitMapBackend::new(path, (900, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let lo = points.first().map_or(0.0, |p| p.current);
    let hi = points.last().map_or(1.0, |p| p.current).max(lo + 1e-9);
    let top = points.iter().map(|p| p.steady_rate_hz).fold(1.0f64, f64::max) * 1.08;
    let mut chart = ChartBuilder::on(&root)
        .caption(format!("f-I curve of {model}"), ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(lo..hi, 0.0..top)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(format!("injected current ({unit})"))
        .y_desc("steady rate (Hz)")
        .draw()
        .map_err(err)?;
    let colour = COLOURS[0];
    let line: Vec<(f64, f64)> = points.iter().map(|p| (p.current, p.steady_rate_hz)).collect();
    chart.draw_series(LineSeries::new(line.clone(), colour)).map_err(err)?;
    chart
        .draw_series(line.into_iter().map(|c| Circle::new(c, 4, colour.filled())))
        .map_err(err)?;
    root.present().map_err(err)?;
    Ok(())
}

/// One panel per recorded trace, with the given captions.
pub fn labelled_traces(path: &Path, result: &RunResult, captions: &[String]) -> Result<()> {
    register_font();
    let panels = result.traces.len();
    let root = BitMapBackend::new(path, (1200, 260 * panels as u32)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    for ((trace, area), caption) in result.traces.iter().zip(root.split_evenly((panels, 1))).zip(captions) {
        let k = trace.neurons.len().max(1);
        let (lo, hi) = trace
            .values
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)));
        let (lo, hi) = if lo.is_finite() && hi > lo {
            (lo, hi)
        } else {
            (lo - 1.0, lo + 1.0)
        };
        let t_end = trace.times_ms.last().copied().unwrap_or(1.0);
        let unit = variable_unit(&trace.variable);
        let mut chart = ChartBuilder::on(&area)
            .caption(caption, ("sans-serif", 18))
            .margin(8)
            .x_label_area_size(28)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..t_end, lo..hi)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("time (ms)")
            .y_desc(format!("{} ({unit})", trace.variable))
            .disable_mesh()
            .draw()
            .map_err(err)?;
        for (i, neuron) in trace.neurons.iter().enumerate() {
            let colour = COLOURS[i % COLOURS.len()];
            let points = trace
                .times_ms
                .iter()
                .enumerate()
                .map(|(s, &t)| (t, trace.values[s * k + i]));
            chart
                .draw_series(LineSeries::new(points, colour))
                .map_err(err)?
                .label(format!("neuron {neuron}"))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(err)?;
    }
    root.present().map_err(err)?;
    Ok(())
}
