//! PNG pictures of learning results: the receptive fields of a weight matrix,
//! a confusion matrix, and learning curves. Every picture is drawn to a
//! temporary name and renamed into place, so an interrupted run never leaves a
//! half-written PNG under the final name.

use crate::plot::{err, register_font, COLOURS};
use anyhow::{bail, Context, Result};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::{Path, PathBuf};

/// Largest side (pixels) of the tile grid of receptive fields.
const GRID_MAX_PX: usize = 1500;
const TITLE_PX: usize = 50;
const MARGIN_PX: usize = 20;
/// Space right of the grid for the colour bar and its labels.
const COLOUR_BAR_AREA_PX: usize = 110;
const COLOUR_BAR_WIDTH_PX: usize = 20;

/// Viridis sampled at ten evenly spaced points (matplotlib/R `viridis(10)`);
/// interpolated linearly between them.
const VIRIDIS: [(u8, u8, u8); 10] = [
    (0x44, 0x01, 0x54),
    (0x48, 0x28, 0x78),
    (0x3e, 0x4a, 0x89),
    (0x31, 0x68, 0x8e),
    (0x26, 0x82, 0x8e),
    (0x1f, 0x9e, 0x89),
    (0x35, 0xb7, 0x79),
    (0x6d, 0xcd, 0x59),
    (0xb4, 0xde, 0x2c),
    (0xfd, 0xe7, 0x25),
];

fn lerp_rgb(a: (u8, u8, u8), b: (u8, u8, u8), t: f64) -> [u8; 3] {
    let mix = |x: u8, y: u8| (x as f64 + (y as f64 - x as f64) * t).round() as u8;
    [mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2)]
}

/// Viridis at `t` in [0, 1].
fn viridis(t: f64) -> [u8; 3] {
    let x = t.clamp(0.0, 1.0) * (VIRIDIS.len() - 1) as f64;
    let k = (x.floor() as usize).min(VIRIDIS.len() - 2);
    lerp_rgb(VIRIDIS[k], VIRIDIS[k + 1], x - k as f64)
}

/// White to dark blue, for fractions in [0, 1].
fn blues(t: f64) -> RGBColor {
    let [r, g, b] = lerp_rgb((247, 251, 255), (8, 48, 107), t.clamp(0.0, 1.0));
    RGBColor(r, g, b)
}

/// `raster.png` is drawn as `raster.partial.png`: plotters picks the encoder
/// from the extension, so the temporary name must still end in `.png`.
fn partial_path(path: &Path) -> PathBuf {
    path.with_extension(format!(
        "partial.{}",
        path.extension().and_then(|e| e.to_str()).unwrap_or("png")
    ))
}

/// Draws a bitmap of `size` through `draw` (which must `present` it) into a
/// temporary file, then renames it to `path`; on failure the temporary file
/// is removed.
fn render_atomic(path: &Path, size: (u32, u32), draw: impl FnOnce(BitMapBackend) -> Result<()>) -> Result<()> {
    register_font();
    let tmp = partial_path(path);
    if let Err(e) = draw(BitMapBackend::new(&tmp, size)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e.context(format!("cannot draw {}", path.display())));
    }
    std::fs::rename(&tmp, path).with_context(|| format!("cannot rename {} to {}", tmp.display(), path.display()))
}

/// Where the tiles of a receptive-field grid go.
#[derive(Debug, Clone, Copy, PartialEq)]
struct TileLayout {
    cols: usize,
    rows: usize,
    /// Image pixels per weight (each weight is an `scale` x `scale` block).
    scale: usize,
    gap: usize,
    tile_w: usize,
    tile_h: usize,
    width: usize,
    height: usize,
}

impl TileLayout {
    /// A near-square grid (10 x 10 for 100 neurons, 40 x 40 for 1600) whose
    /// tiles are scaled up by a whole factor while the grid stays within
    /// `GRID_MAX_PX`.
    fn new(n_neurons: usize, (side_h, side_w): (usize, usize)) -> Self {
        let cols = (n_neurons as f64).sqrt().ceil().max(1.0) as usize;
        let rows = n_neurons.div_ceil(cols).max(1);
        let scale = (GRID_MAX_PX / (cols.max(rows) * side_w.max(side_h))).max(1);
        let gap = if scale == 1 { 1 } else { 2 };
        let (tile_w, tile_h) = (side_w * scale, side_h * scale);
        let grid_w = cols * tile_w + (cols - 1) * gap;
        let grid_h = rows * tile_h + (rows - 1) * gap;
        TileLayout {
            cols,
            rows,
            scale,
            gap,
            tile_w,
            tile_h,
            width: MARGIN_PX + grid_w + COLOUR_BAR_AREA_PX,
            height: TITLE_PX + grid_h + MARGIN_PX,
        }
    }

    /// Top-left pixel of neuron `k`'s tile.
    fn origin(&self, k: usize) -> (usize, usize) {
        let (r, c) = (k / self.cols, k % self.cols);
        (
            MARGIN_PX + c * (self.tile_w + self.gap),
            TITLE_PX + r * (self.tile_h + self.gap),
        )
    }

    fn grid_height(&self) -> usize {
        self.height - TITLE_PX - MARGIN_PX
    }

    fn colour_bar_x(&self) -> usize {
        self.width - COLOUR_BAR_AREA_PX + 20
    }
}

/// The RGB image of all tiles and the colour bar on white, one shared scale
/// from `lo` to `hi`. Pixels are written straight into the buffer: one chart
/// element per weight would be far slower for 1600 neurons.
fn paint_tiles(
    layout: &TileLayout,
    weights: &[f32],
    n_neurons: usize,
    (side_h, side_w): (usize, usize),
    (lo, hi): (f64, f64),
) -> Vec<u8> {
    let lut: Vec<[u8; 3]> = (0..256).map(|i| viridis(i as f64 / 255.0)).collect();
    let level = |w: f32| (((w as f64 - lo) / (hi - lo) * 255.0).round().clamp(0.0, 255.0)) as usize;
    let stride = layout.width * 3;
    let mut rgb = vec![255u8; stride * layout.height];
    let s = layout.scale;
    for k in 0..n_neurons {
        let (x0, y0) = layout.origin(k);
        for y in 0..side_h {
            for x in 0..side_w {
                let colour = lut[level(weights[(y * side_w + x) * n_neurons + k])];
                for dy in 0..s {
                    let row = (y0 + y * s + dy) * stride + (x0 + x * s) * 3;
                    for px in rgb[row..row + 3 * s].chunks_exact_mut(3) {
                        px.copy_from_slice(&colour);
                    }
                }
            }
        }
    }
    // Colour bar: top is `hi`.
    let bar_h = layout.grid_height();
    let bar_x = layout.colour_bar_x();
    for y in 0..bar_h {
        let colour = lut[255 - (y * 255) / (bar_h - 1).max(1)];
        let row = (TITLE_PX + y) * stride + bar_x * 3;
        for px in rgb[row..row + 3 * COLOUR_BAR_WIDTH_PX].chunks_exact_mut(3) {
            px.copy_from_slice(&colour);
        }
    }
    rgb
}

/// Receptive fields: neuron `j`'s weights `weights[input * n_neurons + j]`
/// (input-major, an `n_inputs` x `n_neurons` matrix) reshaped to `side`
/// (rows, columns) and drawn as one viridis tile per neuron on a shared scale
/// from 0 (or the smallest weight, if negative) to the largest weight. With
/// `labels` (one per neuron), each assigned class is written in its tile's
/// top-left corner.
pub fn receptive_fields(
    path: &Path,
    weights: &[f32],
    n_inputs: usize,
    n_neurons: usize,
    side: (usize, usize),
    labels: Option<&[Option<u8>]>,
    title: &str,
) -> Result<()> {
    if n_neurons == 0 || n_inputs == 0 {
        bail!("receptive fields need at least one input and one neuron (got {n_inputs} inputs, {n_neurons} neurons)");
    }
    if weights.len() != n_inputs * n_neurons {
        bail!(
            "receptive fields: {} weights, but {n_inputs} inputs x {n_neurons} neurons need {}",
            weights.len(),
            n_inputs * n_neurons
        );
    }
    if side.0 * side.1 != n_inputs {
        bail!(
            "receptive fields: a {} x {} tile does not hold {n_inputs} inputs",
            side.0,
            side.1
        );
    }
    if let Some(i) = weights.iter().position(|w| !w.is_finite()) {
        bail!(
            "receptive fields: weight of input {} to neuron {} is {}",
            i / n_neurons,
            i % n_neurons,
            weights[i]
        );
    }
    if let Some(labels) = labels {
        if labels.len() != n_neurons {
            bail!("receptive fields: {} labels for {n_neurons} neurons", labels.len());
        }
    }
    let lo = weights.iter().fold(0.0f32, |a, &w| a.min(w)) as f64;
    let max = weights.iter().fold(f32::NEG_INFINITY, |a, &w| a.max(w)) as f64;
    let hi = if max > lo { max } else { lo + 1.0 };
    let layout = TileLayout::new(n_neurons, side);
    let rgb = paint_tiles(&layout, weights, n_neurons, side, (lo, hi));
    let size = (layout.width as u32, layout.height as u32);
    render_atomic(path, size, |mut backend| {
        backend.blit_bitmap((0, 0), size, &rgb).map_err(err)?;
        let root = backend.into_drawing_area();
        let caption = format!("{title} ({n_neurons} neurons, weights {lo:.3} to {max:.3})");
        root.draw(&Text::new(
            caption,
            (MARGIN_PX as i32, 14),
            ("sans-serif", 22).into_font().color(&BLACK),
        ))
        .map_err(err)?;
        if let Some(labels) = labels {
            let font_px = (layout.tile_h as f64 * 0.35).clamp(9.0, 18.0);
            let style = ("sans-serif", font_px).into_font().color(&WHITE);
            for (k, label) in labels.iter().enumerate() {
                if let Some(class) = label {
                    let (x, y) = layout.origin(k);
                    root.draw(&Text::new(class.to_string(), (x as i32 + 1, y as i32), style.clone()))
                        .map_err(err)?;
                }
            }
        }
        let bar_right = (layout.colour_bar_x() + COLOUR_BAR_WIDTH_PX + 4) as i32;
        let bar_bottom = (TITLE_PX + layout.grid_height()) as i32;
        let tick = ("sans-serif", 14).into_font().color(&BLACK);
        root.draw(&Text::new(
            format!("{hi:.3}"),
            (bar_right, TITLE_PX as i32),
            tick.pos(Pos::new(HPos::Left, VPos::Top)),
        ))
        .map_err(err)?;
        root.draw(&Text::new(
            format!("{lo:.3}"),
            (bar_right, bar_bottom),
            tick.pos(Pos::new(HPos::Left, VPos::Bottom)),
        ))
        .map_err(err)?;
        root.present().map_err(err)?;
        Ok(())
    })
}

/// Correct and total counts of a confusion matrix.
fn accuracy(counts: &[[u32; 10]; 10]) -> (u64, u64) {
    let correct = (0..10).map(|i| counts[i][i] as u64).sum();
    let total = counts.iter().flatten().map(|&c| c as u64).sum();
    (correct, total)
}

/// Confusion matrix: rows are the true class (0 at the top), columns the
/// predicted class; each cell is coloured by its fraction of the row and
/// shows its count. The title gets the overall accuracy.
pub fn confusion_matrix(path: &Path, counts: &[[u32; 10]; 10], class_names: &[&str], title: &str) -> Result<()> {
    if class_names.len() != 10 {
        bail!("confusion matrix: {} class names for 10 classes", class_names.len());
    }
    let (correct, total) = accuracy(counts);
    if total == 0 {
        bail!("confusion matrix: no samples counted");
    }
    let caption = format!(
        "{title}: accuracy {:.2}% ({correct}/{total})",
        100.0 * correct as f64 / total as f64
    );
    // Row r of the picture (from the bottom) is true class 9 - r.
    let row_of = |class: i32| 9 - class;
    // Room on the left for the longest class name.
    let longest = class_names.iter().map(|n| n.chars().count()).max().unwrap_or(1) as u32;
    let left = 40 + 9 * longest.max(2);
    render_atomic(path, (900 + left - 58, 860), |backend| {
        let root = backend.into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(caption, ("sans-serif", 22))
            .margin(16)
            .x_label_area_size(60)
            .y_label_area_size(left)
            .build_cartesian_2d(0..10, 0..10)
            .map_err(err)?;
        let name = |i: i32| class_names.get(i as usize).copied().unwrap_or("").to_string();
        // Tick labels would sit on cell edges; class names are drawn centred below.
        chart
            .configure_mesh()
            .disable_mesh()
            .set_all_tick_mark_size(0)
            .x_label_formatter(&|_| String::new())
            .y_label_formatter(&|_| String::new())
            .axis_desc_style(("sans-serif", 18))
            .x_desc("predicted class")
            .y_desc("true class")
            .draw()
            .map_err(err)?;
        let plot = chart.plotting_area();
        for (t, row) in counts.iter().enumerate() {
            let row_total: u64 = row.iter().map(|&c| c as u64).sum();
            for (p, &count) in row.iter().enumerate() {
                let fraction = if row_total > 0 {
                    count as f64 / row_total as f64
                } else {
                    0.0
                };
                let (x, y) = (p as i32, row_of(t as i32));
                plot.draw(&Rectangle::new([(x, y), (x + 1, y + 1)], blues(fraction).filled()))
                    .map_err(err)?;
                plot.draw(&Rectangle::new([(x, y), (x + 1, y + 1)], RGBColor(200, 200, 200)))
                    .map_err(err)?;
                let ink = if fraction > 0.5 { WHITE } else { BLACK };
                let (cx, cy) = chart.backend_coord(&(x, y + 1));
                let (ex, ey) = chart.backend_coord(&(x + 1, y));
                let centre = ((cx + ex) / 2, (cy + ey) / 2);
                root.draw(&Text::new(
                    count.to_string(),
                    centre,
                    ("sans-serif", 16)
                        .into_font()
                        .color(&ink)
                        .pos(Pos::new(HPos::Center, VPos::Center)),
                ))
                .map_err(err)?;
            }
        }
        // Class names centred under each column and left of each row.
        let axis = ("sans-serif", 16).into_font().color(&BLACK);
        for i in 0..10 {
            let (left, bottom) = chart.backend_coord(&(i, 0));
            let (right, _) = chart.backend_coord(&(i + 1, 0));
            root.draw(&Text::new(
                name(i),
                ((left + right) / 2, bottom + 6),
                axis.pos(Pos::new(HPos::Center, VPos::Top)),
            ))
            .map_err(err)?;
            let (x0, top) = chart.backend_coord(&(0, row_of(i) + 1));
            let (_, low) = chart.backend_coord(&(0, row_of(i)));
            root.draw(&Text::new(
                name(i),
                (x0 - 8, (top + low) / 2),
                axis.pos(Pos::new(HPos::Right, VPos::Center)),
            ))
            .map_err(err)?;
        }
        root.present().map_err(err)?;
        Ok(())
    })
}

/// The y range of a learning curve: the data padded by 5% of its span, and
/// not beyond [0, 100] when the data lie within it (percentages).
fn y_range(lo: f64, hi: f64) -> (f64, f64) {
    let pad = ((hi - lo) * 0.05).max(0.5);
    let (mut a, mut b) = (lo - pad, hi + pad);
    if lo >= 0.0 && hi <= 100.0 {
        a = a.max(0.0);
        b = b.min(100.0);
    }
    (a, b)
}

/// A tick value without trailing zeros: `60000`, `2.5`, `0.125`.
fn tick_label(v: &f64) -> String {
    let text = format!("{v:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Learning curves: one line per `(name, points)` series, with a legend; the
/// y range fits the data. Series with few points also show their points.
pub fn learning_curve(
    path: &Path,
    series: &[(&str, Vec<(f64, f64)>)],
    x_label: &str,
    y_label: &str,
    title: &str,
) -> Result<()> {
    let points = || series.iter().flat_map(|(_, v)| v.iter());
    if points().next().is_none() {
        bail!("learning curve: no points to draw");
    }
    if let Some((name, _)) = series
        .iter()
        .find(|(_, v)| v.iter().any(|p| !p.0.is_finite() || !p.1.is_finite()))
    {
        bail!("learning curve: series {name} has a non-finite point");
    }
    let fold = |f: fn(&(f64, f64)) -> f64| {
        points()
            .map(f)
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)))
    };
    let (x_lo, x_hi) = fold(|p| p.0);
    let (y_lo, y_hi) = fold(|p| p.1);
    let x_hi = if x_hi > x_lo { x_hi } else { x_lo + 1.0 };
    let (y_lo, y_hi) = y_range(y_lo, y_hi);
    render_atomic(path, (1000, 600), |backend| {
        let root = backend.into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 22))
            .margin(12)
            .margin_right(40)
            .x_label_area_size(45)
            .y_label_area_size(70)
            .build_cartesian_2d(x_lo..x_hi, y_lo..y_hi)
            .map_err(err)?;
        chart
            .configure_mesh()
            .light_line_style(RGBColor(238, 238, 238))
            .x_label_formatter(&tick_label)
            .y_label_formatter(&tick_label)
            .axis_desc_style(("sans-serif", 16))
            .x_desc(x_label)
            .y_desc(y_label)
            .draw()
            .map_err(err)?;
        for (k, (name, values)) in series.iter().enumerate() {
            let colour = COLOURS[k % COLOURS.len()];
            chart
                .draw_series(LineSeries::new(values.iter().copied(), colour.stroke_width(2)))
                .map_err(err)?
                .label(*name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2)));
            if values.len() <= 60 {
                chart
                    .draw_series(values.iter().map(|&p| Circle::new(p, 3, colour.filled())))
                    .map_err(err)?;
            }
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(err)?;
        root.present().map_err(err)?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("cognitron-plot-learning-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Width and height from the IHDR chunk, after checking the signature.
    fn png_size(path: &Path) -> (u32, u32) {
        let bytes = std::fs::read(path).unwrap();
        assert!(bytes.len() > 1000, "{} is only {} bytes", path.display(), bytes.len());
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&bytes[12..16], b"IHDR");
        let be = |b: &[u8]| u32::from_be_bytes(b.try_into().unwrap());
        (be(&bytes[16..20]), be(&bytes[20..24]))
    }

    /// Checks that no temporary file is left, then removes the test's folder.
    fn no_partial_files(dir: &Path) {
        let partial: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("partial"))
            .collect();
        assert!(partial.is_empty(), "left behind: {partial:?}");
        let _ = std::fs::remove_dir_all(dir);
    }

    /// Deterministic weights in [0, 1): a blob per neuron plus noise.
    fn fake_weights(n_neurons: usize) -> Vec<f32> {
        let mut state = 12345u64;
        let mut weights = vec![0.0f32; 784 * n_neurons];
        for (i, w) in weights.iter_mut().enumerate() {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let noise = (state >> 40) as f32 / (1u64 << 24) as f32;
            let (input, k) = (i / n_neurons, i % n_neurons);
            let (y, x) = ((input / 28) as f32, (input % 28) as f32);
            let (cy, cx) = (8.0 + (k % 12) as f32, 8.0 + (k % 7) as f32 * 2.0);
            let blob = (-((y - cy).powi(2) + (x - cx).powi(2)) / 30.0).exp();
            *w = 0.8 * blob + 0.2 * noise;
        }
        weights
    }

    #[test]
    fn grid_is_near_square_and_fits() {
        for (n, cols) in [(100, 10), (400, 20), (1600, 40), (1, 1), (101, 11)] {
            let layout = TileLayout::new(n, (28, 28));
            assert_eq!(layout.cols, cols, "{n} neurons");
            assert!(layout.rows * layout.cols >= n);
            assert!(layout.width <= 1700 && layout.height <= 1700, "{layout:?}");
            // The last tile ends inside the grid, left of the colour bar.
            let (x, y) = layout.origin(n - 1);
            assert!(x + layout.tile_w <= layout.colour_bar_x());
            assert!(y + layout.tile_h <= layout.height - MARGIN_PX);
        }
        assert_eq!(TileLayout::new(100, (28, 28)).scale, 5);
        assert_eq!(TileLayout::new(1600, (28, 28)).scale, 1);
    }

    #[test]
    fn tiles_put_each_weight_at_its_pixel() {
        // Neuron 7 of 9 has its only weight at row 3, column 5 of a 4 x 6 tile.
        let (n, side) = (9, (4, 6));
        let mut weights = vec![0.0f32; 24 * n];
        weights[(3 * 6 + 5) * n + 7] = 2.0;
        let layout = TileLayout::new(n, side);
        let rgb = paint_tiles(&layout, &weights, n, side, (0.0, 2.0));
        let at = |x: usize, y: usize| {
            let i = (y * layout.width + x) * 3;
            [rgb[i], rgb[i + 1], rgb[i + 2]]
        };
        let (x0, y0) = layout.origin(7);
        let s = layout.scale;
        let (top, bottom) = (viridis(1.0), viridis(0.0));
        assert_eq!(at(x0 + 5 * s, y0 + 3 * s), top);
        assert_eq!(at(x0 + 6 * s - 1, y0 + 4 * s - 1), top);
        assert_eq!(at(x0 + 5 * s - 1, y0 + 3 * s), bottom);
        assert_eq!(at(x0, y0), bottom);
        // The same pixel of another neuron is at the bottom of the scale.
        let (x1, y1) = layout.origin(6);
        assert_eq!(at(x1 + 5 * s, y1 + 3 * s), bottom);
        // The gap after a tile stays white.
        assert_eq!(at(x0 + layout.tile_w, y0), [255, 255, 255]);
    }

    #[test]
    fn receptive_fields_png_for_1600_neurons() {
        let dir = temp_dir("rf");
        for n in [100, 400, 1600] {
            let weights = fake_weights(n);
            let labels: Vec<Option<u8>> = (0..n).map(|k| (k % 11 != 10).then_some((k % 10) as u8)).collect();
            let path = dir.join(format!("rf{n}.png"));
            let start = Instant::now();
            receptive_fields(&path, &weights, 784, n, (28, 28), Some(&labels), "Receptive fields").unwrap();
            println!(
                "receptive_fields, {n} neurons: {:.1} ms",
                start.elapsed().as_secs_f64() * 1e3
            );
            let layout = TileLayout::new(n, (28, 28));
            assert_eq!(png_size(&path), (layout.width as u32, layout.height as u32));
        }
        receptive_fields(
            &dir.join("plain.png"),
            &fake_weights(100),
            784,
            100,
            (28, 28),
            None,
            "no labels",
        )
        .unwrap();
        png_size(&dir.join("plain.png"));
        no_partial_files(&dir);
    }

    #[test]
    fn receptive_fields_reject_bad_input() {
        let dir = temp_dir("rf-bad");
        let path = dir.join("rf.png");
        let short = vec![0.5f32; 784 * 10 - 1];
        let e = receptive_fields(&path, &short, 784, 10, (28, 28), None, "t").unwrap_err();
        assert!(e.to_string().contains("7839 weights"), "{e}");
        let mut weights = vec![0.5f32; 784 * 10];
        let e = receptive_fields(&path, &weights, 784, 10, (27, 28), None, "t").unwrap_err();
        assert!(e.to_string().contains("27 x 28"), "{e}");
        let e = receptive_fields(&path, &weights, 784, 10, (28, 28), Some(&[Some(1); 9]), "t").unwrap_err();
        assert!(e.to_string().contains("9 labels"), "{e}");
        weights[3 * 10 + 4] = f32::NAN;
        let e = receptive_fields(&path, &weights, 784, 10, (28, 28), None, "t").unwrap_err();
        assert!(e.to_string().contains("input 3 to neuron 4 is NaN"), "{e}");
        assert!(receptive_fields(&path, &[], 784, 0, (28, 28), None, "t").is_err());
        assert!(!path.exists());
        no_partial_files(&dir);
    }

    #[test]
    fn confusion_matrix_png() {
        let dir = temp_dir("confusion");
        let mut counts = [[0u32; 10]; 10];
        for (t, row) in counts.iter_mut().enumerate() {
            for (p, c) in row.iter_mut().enumerate() {
                *c = if t == p {
                    900 + 10 * t as u32
                } else {
                    ((t * 7 + p * 3) % 13) as u32
                };
            }
        }
        assert_eq!(accuracy(&counts).0, (0..10).map(|t| 900 + 10 * t as u64).sum::<u64>());
        let names: Vec<String> = (0..10).map(|i| i.to_string()).collect();
        let names: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
        let path = dir.join("confusion.png");
        confusion_matrix(&path, &counts, &names, "Test set").unwrap();
        assert_eq!(png_size(&path), (900, 860));
        let e = confusion_matrix(&path, &counts, &names[..9], "t").unwrap_err();
        assert!(e.to_string().contains("9 class names"), "{e}");
        let e = confusion_matrix(&path, &[[0; 10]; 10], &names, "t").unwrap_err();
        assert!(e.to_string().contains("no samples"), "{e}");
        no_partial_files(&dir);
    }

    #[test]
    fn learning_curve_png() {
        let dir = temp_dir("curve");
        let train: Vec<(f64, f64)> = (1..=60).map(|i| (i as f64 * 1000.0, 90.0 - 80.0 / i as f64)).collect();
        let test: Vec<(f64, f64)> = (1..=6).map(|i| (i as f64 * 10000.0, 88.0 - 40.0 / i as f64)).collect();
        let path = dir.join("curve.png");
        let series = [("training window", train), ("test set", test)];
        learning_curve(&path, &series, "training images", "accuracy (%)", "Learning").unwrap();
        assert_eq!(png_size(&path), (1000, 600));
        let single = [("one", vec![(0.0, 50.0)])];
        learning_curve(&dir.join("single.png"), &single, "x", "y", "one point").unwrap();
        png_size(&dir.join("single.png"));
        let e = learning_curve(&path, &[], "x", "y", "t").unwrap_err();
        assert!(e.to_string().contains("no points"), "{e}");
        let e = learning_curve(&path, &[("a", vec![])], "x", "y", "t").unwrap_err();
        assert!(e.to_string().contains("no points"), "{e}");
        let e = learning_curve(&path, &[("bad", vec![(1.0, f64::NAN)])], "x", "y", "t").unwrap_err();
        assert!(e.to_string().contains("series bad"), "{e}");
        no_partial_files(&dir);
    }

    #[test]
    fn tick_labels_drop_trailing_zeros() {
        assert_eq!(tick_label(&60000.0), "60000");
        assert_eq!(tick_label(&2.5), "2.5");
        assert_eq!(tick_label(&0.125), "0.125");
        assert_eq!(tick_label(&0.0), "0");
    }

    #[test]
    fn y_range_pads_within_percentages() {
        assert_eq!(y_range(10.0, 100.0), (5.5, 100.0));
        assert_eq!(y_range(0.0, 50.0), (0.0, 52.5));
        let (a, b) = y_range(-10.0, 110.0);
        assert!(a < -10.0 && b > 110.0);
        let (a, b) = y_range(50.0, 50.0);
        assert!(a < 50.0 && b > 50.0);
    }
}
