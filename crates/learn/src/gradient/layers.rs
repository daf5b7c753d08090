//! Layers of a gradient-trained network, each with an explicit batched
//! forward and backward pass.
//!
//! A batch is `steps x batch` samples in time-major order (row `t * batch + b`
//! is sample b at time step t); an ANN has one step. Layers that do not
//! depend on time (dense, convolution, pooling, ReLU) treat all rows alike, so
//! a spiking network's dense layer is one large matrix product over all its
//! time steps; the LIF layer scans the rows in time order.

use super::gemm::{gemm, Op};
use rand::{Rng, SeedableRng};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// The shape of one sample at one time step: channels x height x width
/// (a flat vector of n is n x 1 x 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shape {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
}

impl Shape {
    pub fn flat(n: usize) -> Shape {
        Shape {
            channels: n,
            height: 1,
            width: 1,
        }
    }
    pub fn len(&self) -> usize {
        self.channels * self.height * self.width
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn is_flat(&self) -> bool {
        self.height == 1 && self.width == 1
    }
}

impl std::fmt::Display for Shape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_flat() {
            write!(f, "{}", self.channels)
        } else {
            write!(f, "{}x{}x{}", self.channels, self.height, self.width)
        }
    }
}

/// A trainable tensor and its gradient, accumulated over a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub value: Vec<f32>,
    pub grad: Vec<f32>,
}

impl Param {
    /// PyTorch's default initialisation of linear and convolution layers:
    /// uniform in +-1/sqrt(fan_in).
    fn uniform(len: usize, fan_in: usize, rng: &mut impl Rng) -> Param {
        let bound = 1.0 / (fan_in as f32).sqrt();
        Param {
            value: (0..len).map(|_| rng.gen_range(-bound..bound)).collect(),
            grad: vec![0.0; len],
        }
    }
}

/// Fixed random feedback weights of the shape of `weights`, for feedback
/// alignment (Lillicrap et al. 2016), drawn like the forward weights.
fn feedback(len: usize, fan_in: usize, rng: &mut impl Rng) -> Vec<f32> {
    Param::uniform(len, fan_in, rng).value
}

/// The surrogate derivative of the spike nonlinearity H(v - threshold).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Surrogate {
    /// 1 / (1 + slope |u|)^2 (Zenke & Ganguli 2018; snnTorch `fast_sigmoid`).
    FastSigmoid,
    /// (slope / 2) / (1 + (pi slope u / 2)^2) (snnTorch `atan`, slope = alpha).
    Arctan,
    /// max(0, 1 - slope |u|) (Esser et al. 2016; Bellec et al. 2018 use 0.3 x this).
    Triangle,
}

impl Surrogate {
    #[inline]
    pub fn derivative(self, slope: f32, u: f32) -> f32 {
        match self {
            Surrogate::FastSigmoid => {
                let d = 1.0 + slope * u.abs();
                1.0 / (d * d)
            }
            Surrogate::Arctan => {
                let x = std::f32::consts::FRAC_PI_2 * slope * u;
                0.5 * slope / (1.0 + x * x)
            }
            Surrogate::Triangle => (1.0 - slope * u.abs()).max(0.0),
        }
    }
    pub fn default_slope(self) -> f32 {
        match self {
            Surrogate::FastSigmoid => 25.0,
            Surrogate::Arctan => 2.0,
            Surrogate::Triangle => 1.0,
        }
    }
}

/// What a spike does to the membrane potential at the next step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reset {
    /// v <- beta v + x - threshold (snnTorch `subtract`).
    Subtract,
    /// v <- beta v (1 - s) + x: the spike sets the carried potential to zero.
    Zero,
    /// No reset (a leaky integrator that also reports threshold crossings).
    None,
}

// ---------------------------------------------------------------- dense

#[derive(Debug, Clone)]
pub struct Dense {
    pub inputs: usize,
    pub units: usize,
    /// [units, inputs], row-major (PyTorch's layout).
    pub weight: Param,
    pub bias: Param,
    /// Feedback alignment: the fixed matrix that replaces `weight` in the
    /// backward pass.
    pub feedback: Option<Vec<f32>>,
    pub path: DensePath,
    /// Whether the last forward pass took the event-driven path (the
    /// backward pass follows it, with the nonzero inputs it found).
    events: bool,
    sparse_input: SparseRows,
    /// [inputs, units]: `weight` transposed, so that an input's weights are
    /// one contiguous row. Rebuilt by every event-driven forward pass, as
    /// the optimiser changes `weight` between batches.
    weight_by_input: Vec<f32>,
    /// Working buffers of the event-driven weight gradient: the nonzero
    /// inputs column by column, dW transposed, and dW.
    input_by_column: SparseRows,
    grad_by_input: Vec<f32>,
    grad_by_unit: Vec<f32>,
}

/// How a dense layer computes its output and weight gradient: by matrix
/// products, or event by event (each nonzero input adds its column of
/// weights to the output), which pays for sparse inputs such as spikes.
/// The input gradient is a dense product either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DensePath {
    /// Event-driven for each batch sparse enough to pay.
    #[default]
    Auto,
    Dense,
    EventDriven,
}

/// Rows one task of a sparse matrix's scan compacts.
const SCAN_ROWS_PER_TASK: usize = 16;

/// Rows of a result one event-driven task sums: a few tasks per thread,
/// each large enough to use a block of weights many times while it is in
/// cache. (Each row is summed by one task in a fixed order, so the split
/// does not change the results.)
fn rows_per_task(rows: usize) -> usize {
    rows.div_ceil(4 * rayon::current_num_threads()).clamp(16, 256)
}

/// Floats of the sources `gather_blocked` keeps in cache at a time (128 KiB,
/// well inside a core's L2).
const GATHER_BLOCK_FLOATS: usize = 1 << 15;

/// For each row t of `targets` [n, width]: targets[t] += sum over (o, g) in
/// `sparse.row(first + t)` of g times row o of `sources` [_, width].
/// The sources go a block of rows at a time (its size fixed by the width
/// alone), every target taking its terms from the block while it is in
/// cache; each block's sum is added in order, so a target's sum does not
/// depend on how the targets are split into tasks.
fn gather_blocked(sparse: &SparseRows, first: usize, sources: &[f32], width: usize, targets: &mut [f32]) {
    let block = (GATHER_BLOCK_FLOATS / width).max(16);
    let mut remaining: Vec<&[(u32, f32)]> = (0..targets.len() / width).map(|t| sparse.row(first + t)).collect();
    let source_rows = sources.len() / width;
    for end in (block..source_rows + block).step_by(block) {
        for (target, entries) in targets.chunks_exact_mut(width).zip(remaining.iter_mut()) {
            let here = entries.iter().take_while(|&&(o, _)| (o as usize) < end).count();
            if here > 0 {
                gather_rows(&entries[..here], sources, width, target);
                *entries = &entries[here..];
            }
        }
    }
}

impl Dense {
    pub fn new(inputs: usize, units: usize, rng: &mut impl Rng) -> Dense {
        Dense {
            inputs,
            units,
            weight: Param::uniform(units * inputs, inputs, rng),
            bias: Param::uniform(units, inputs, rng),
            feedback: None,
            path: DensePath::Auto,
            events: false,
            sparse_input: SparseRows::default(),
            weight_by_input: Vec::new(),
            input_by_column: SparseRows::default(),
            grad_by_input: Vec::new(),
            grad_by_unit: Vec::new(),
        }
    }

    pub fn use_feedback_alignment(&mut self, rng: &mut impl Rng) {
        self.feedback = Some(feedback(self.units * self.inputs, self.inputs, rng));
    }

    /// Whether this batch takes the event-driven path: per nonzero input
    /// one row of `units` weights added, each add costing about four of the
    /// product's multiply-adds (the rows come from cache, not registers),
    /// plus some 24 per input to find the nonzeros (two passes over the
    /// input), against the product's `inputs x units` per row (measured:
    /// 3136 -> 128 breaks even near 20 % nonzero). Decided once per batch
    /// (forward and backward follow the same path); counts the nonzeros
    /// into `sparse_input` unless the path is fixed to dense.
    fn choose_path(&mut self, input: &[f32]) -> bool {
        if self.path == DensePath::Dense {
            return false;
        }
        let nonzeros = self.sparse_input.count(input, self.inputs);
        match self.path {
            DensePath::Auto => 4 * nonzeros * self.units + 24 * input.len() < input.len() * self.units,
            _ => true,
        }
    }

    pub fn forward(&mut self, input: &[f32], output: &mut [f32]) {
        self.events = self.choose_path(input);
        if self.events {
            self.forward_events(input, output);
            return;
        }
        let rows = input.len() / self.inputs;
        gemm(
            rows,
            self.inputs,
            self.units,
            input,
            Op::Normal,
            &self.weight.value,
            Op::Transposed,
            0.0,
            output,
        );
        output
            .par_chunks_mut(self.units * 64)
            .for_each(|rows| rows.chunks_mut(self.units).for_each(|row| add(row, &self.bias.value)));
    }

    /// Each output row: the bias plus, for every nonzero input, its value
    /// times its row of `weight_by_input`.
    fn forward_events(&mut self, input: &[f32], output: &mut [f32]) {
        let (inputs, units) = (self.inputs, self.units);
        self.weight_by_input.resize(inputs * units, 0.0);
        transpose_into(&self.weight.value, units, inputs, &mut self.weight_by_input);
        self.sparse_input.fill(input, inputs);
        let (sparse, weights, bias) = (&self.sparse_input, &self.weight_by_input, &self.bias.value);
        let rows_per_task = rows_per_task(output.len() / units);
        output
            .par_chunks_mut(rows_per_task * units)
            .enumerate()
            .for_each(|(task, rows)| {
                for row in rows.chunks_exact_mut(units) {
                    row.copy_from_slice(bias);
                }
                gather_blocked(sparse, task * rows_per_task, weights, units, rows);
            });
    }

    /// Accumulates the gradients of weight and bias; writes the gradient of
    /// the input if asked (through `feedback` under feedback alignment).
    pub fn backward(&mut self, input: &[f32], grad_output: &[f32], grad_input: Option<&mut [f32]>) {
        let rows = input.len() / self.inputs;
        if self.events {
            self.weight_grad_events(input, grad_output);
        } else {
            gemm(
                self.units,
                rows,
                self.inputs,
                grad_output,
                Op::Transposed,
                input,
                Op::Normal,
                1.0,
                &mut self.weight.grad,
            );
        }
        column_sums(grad_output, self.units, &mut self.bias.grad);
        if let Some(grad_input) = grad_input {
            let matrix = self.feedback.as_deref().unwrap_or(&self.weight.value);
            gemm(
                rows,
                self.units,
                self.inputs,
                grad_output,
                Op::Normal,
                matrix,
                Op::Normal,
                0.0,
                grad_input,
            );
        }
    }

    /// dW[u, i] += sum over rows r of grad_output[r, u] input[r, i], from the
    /// nonzero inputs the forward pass found: row i of dW's transpose sums
    /// the output gradients of the rows where input i is nonzero. Each task
    /// owns a block of inputs and walks the rows in order, so the sums do not
    /// depend on the threads.
    fn weight_grad_events(&mut self, input: &[f32], grad_output: &[f32]) {
        let (inputs, units) = (self.inputs, self.units);
        assert_eq!(
            self.sparse_input.rows() * inputs,
            input.len(),
            "the backward pass gets the forward pass's input"
        );
        self.sparse_input.transpose_into(inputs, &mut self.input_by_column);
        self.grad_by_input.resize(inputs * units, 0.0);
        let by_column = &self.input_by_column;
        let columns_per_task = rows_per_task(inputs);
        self.grad_by_input
            .par_chunks_mut(columns_per_task * units)
            .enumerate()
            .for_each(|(task, rows)| {
                rows.fill(0.0);
                gather_blocked(by_column, task * columns_per_task, grad_output, units, rows);
            });
        self.grad_by_unit.resize(inputs * units, 0.0);
        transpose_into(&self.grad_by_input, inputs, units, &mut self.grad_by_unit);
        self.weight
            .grad
            .par_chunks_mut(ELEMENTS_PER_TASK)
            .zip(self.grad_by_unit.par_chunks(ELEMENTS_PER_TASK))
            .for_each(|(grad, part)| add(grad, part));
    }
}

/// The nonzero entries of a row-major matrix, row by row (compressed
/// sparse rows).
#[derive(Debug, Clone, Default)]
struct SparseRows {
    /// Row r's entries are `entries[starts[r]..starts[r + 1]]`.
    starts: Vec<usize>,
    /// (column, value), in column order within a row.
    entries: Vec<(u32, f32)>,
}

impl SparseRows {
    fn rows(&self) -> usize {
        self.starts.len().saturating_sub(1)
    }

    fn row(&self, r: usize) -> &[(u32, f32)] {
        &self.entries[self.starts[r]..self.starts[r + 1]]
    }

    /// Sets `starts` from the nonzeros of each row of `matrix`; returns
    /// their total. `fill` then gathers them.
    fn count(&mut self, matrix: &[f32], columns: usize) -> usize {
        let rows = matrix.len() / columns;
        self.starts.resize(rows + 1, 0);
        self.starts[0] = 0;
        self.starts[1..]
            .par_iter_mut()
            .zip(matrix.par_chunks_exact(columns))
            .with_min_len(SCAN_ROWS_PER_TASK)
            .for_each(|(count, row)| *count = count_nonzero(row));
        for r in 0..rows {
            self.starts[r + 1] += self.starts[r];
        }
        self.starts[rows]
    }

    /// The entries of `matrix`, whose nonzeros `count` has counted.
    fn fill(&mut self, matrix: &[f32], columns: usize) {
        let rows = self.rows();
        assert_eq!(rows * columns, matrix.len(), "counted on another matrix");
        self.entries.resize(self.starts[rows], (0, 0.0));
        // Each task's rows and their entries.
        let mut tasks = Vec::with_capacity(rows.div_ceil(SCAN_ROWS_PER_TASK));
        let mut rest = &mut self.entries[..];
        for (task, values) in matrix.chunks(SCAN_ROWS_PER_TASK * columns).enumerate() {
            let first = task * SCAN_ROWS_PER_TASK;
            let last = first + values.len() / columns;
            let (entries, after) = rest.split_at_mut(self.starts[last] - self.starts[first]);
            tasks.push((values, entries));
            rest = after;
        }
        tasks.into_par_iter().for_each(|(values, entries)| {
            let mut next = 0;
            for row in values.chunks_exact(columns) {
                // 64 values at a time: a bit mask of the nonzero ones, then
                // one step per set bit (few, for spikes).
                let chunks = row.chunks_exact(64);
                let tail = row.len() - chunks.remainder().len();
                for (chunk_index, chunk) in chunks.enumerate() {
                    let mut mask = nonzero_mask(chunk.try_into().expect("64 values"));
                    while mask != 0 {
                        let j = mask.trailing_zeros() as usize;
                        mask &= mask - 1;
                        entries[next] = ((chunk_index * 64 + j) as u32, chunk[j]);
                        next += 1;
                    }
                }
                for (column, &x) in row.iter().enumerate().skip(tail) {
                    if x != 0.0 {
                        entries[next] = (column as u32, x);
                        next += 1;
                    }
                }
            }
        });
    }

    /// The same entries column by column (the transpose's rows, with the
    /// row as the index), in row order within a column.
    fn transpose_into(&self, columns: usize, out: &mut SparseRows) {
        out.starts.clear();
        out.starts.resize(columns + 1, 0);
        for &(column, _) in &self.entries {
            out.starts[column as usize + 1] += 1;
        }
        for c in 0..columns {
            out.starts[c + 1] += out.starts[c];
        }
        out.entries.resize(self.entries.len(), (0, 0.0));
        let mut next = out.starts[..columns].to_vec();
        for r in 0..self.rows() {
            for &(column, x) in self.row(r) {
                let at = &mut next[column as usize];
                out.entries[*at] = (r as u32, x);
                *at += 1;
            }
        }
    }
}

fn add(row: &mut [f32], values: &[f32]) {
    for (x, v) in row.iter_mut().zip(values) {
        *x += v;
    }
}

/// `sums[j] += sum over rows of matrix[row, j]`, in row order (so the same
/// bits whatever the thread count), parallel over blocks of columns.
fn column_sums(matrix: &[f32], columns: usize, sums: &mut [f32]) {
    const BLOCK: usize = 64;
    sums.par_chunks_mut(BLOCK).enumerate().for_each(|(block, sums)| {
        let start = block * BLOCK;
        for row in matrix.chunks_exact(columns) {
            add(sums, &row[start..start + sums.len()]);
        }
    });
}

// ---------------------------------------------------------- convolution

/// 2-D convolution, stride 1, zero padding, as im2col + one matrix product
/// per group of samples.
#[derive(Debug, Clone)]
pub struct Conv2d {
    pub input: Shape,
    pub output: Shape,
    pub kernel: usize,
    pub padding: usize,
    /// [out_channels, in_channels * kernel * kernel].
    pub weight: Param,
    pub bias: Param,
    pub feedback: Option<Vec<f32>>,
    pub path: ConvPath,
    /// The path the last forward pass took (the backward pass follows it).
    events: bool,
    /// On the event-driven path: each sample's nonzero inputs, found once
    /// by the forward pass and walked again by the backward pass.
    sparse_input: SparseRows,
    partial_grads: Vec<f32>,
}

/// Samples per im2col matrix: big enough for efficient products, small
/// enough to stay in cache. Fixed, so sums do not depend on threads.
const CONV_GROUP: usize = 8;

impl Conv2d {
    pub fn new(input: Shape, out_channels: usize, kernel: usize, padding: usize, rng: &mut impl Rng) -> Conv2d {
        let fan_in = input.channels * kernel * kernel;
        Conv2d {
            input,
            output: Shape {
                channels: out_channels,
                height: input.height + 2 * padding + 1 - kernel,
                width: input.width + 2 * padding + 1 - kernel,
            },
            kernel,
            padding,
            weight: Param::uniform(out_channels * fan_in, fan_in, rng),
            bias: Param::uniform(out_channels, fan_in, rng),
            feedback: None,
            path: ConvPath::Auto,
            events: false,
            sparse_input: SparseRows::default(),
            partial_grads: Vec::new(),
        }
    }

    pub fn use_feedback_alignment(&mut self, rng: &mut impl Rng) {
        let fan_in = self.patch();
        self.feedback = Some(feedback(self.output.channels * fan_in, fan_in, rng));
    }

    fn patch(&self) -> usize {
        self.input.channels * self.kernel * self.kernel
    }

    fn pixels(&self) -> usize {
        self.output.height * self.output.width
    }

    /// Unfolds `samples` into `cols` [patch, samples * pixels]: column
    /// s * pixels + p holds the patch under output pixel p of sample s.
    fn im2col(&self, samples: &[f32], cols: &mut [f32]) {
        let (k, pad) = (self.kernel, self.padding as isize);
        let (h, w) = (self.input.height as isize, self.input.width as isize);
        let (ho, wo) = (self.output.height, self.output.width);
        let n = samples.len() / self.input.len();
        let width = n * ho * wo;
        for c in 0..self.input.channels {
            for ky in 0..k {
                for kx in 0..k {
                    let row = (c * k + ky) * k + kx;
                    let out = &mut cols[row * width..(row + 1) * width];
                    for s in 0..n {
                        let plane = &samples[s * self.input.len() + c * (h * w) as usize..][..(h * w) as usize];
                        for oy in 0..ho {
                            let y = oy as isize + ky as isize - pad;
                            let dst = &mut out[s * ho * wo + oy * wo..][..wo];
                            if y < 0 || y >= h {
                                dst.fill(0.0);
                                continue;
                            }
                            let src = &plane[(y * w) as usize..][..w as usize];
                            // Output pixels ox in [lo, hi) read inside the row: one copy.
                            let (lo, hi) = valid_range(kx, pad, w, wo);
                            dst[..lo].fill(0.0);
                            dst[hi..].fill(0.0);
                            if lo < hi {
                                let x0 = (lo as isize + kx as isize - pad) as usize;
                                dst[lo..hi].copy_from_slice(&src[x0..x0 + hi - lo]);
                            }
                        }
                    }
                }
            }
        }
    }

    /// The adjoint of `im2col`: adds `cols` back into `samples`.
    fn col2im(&self, cols: &[f32], samples: &mut [f32]) {
        let (k, pad) = (self.kernel, self.padding as isize);
        let (h, w) = (self.input.height as isize, self.input.width as isize);
        let (ho, wo) = (self.output.height, self.output.width);
        let n = samples.len() / self.input.len();
        let width = n * ho * wo;
        samples.fill(0.0);
        for c in 0..self.input.channels {
            for ky in 0..k {
                for kx in 0..k {
                    let row = (c * k + ky) * k + kx;
                    let col = &cols[row * width..(row + 1) * width];
                    for s in 0..n {
                        let plane = &mut samples[s * self.input.len() + c * (h * w) as usize..][..(h * w) as usize];
                        for oy in 0..ho {
                            let y = oy as isize + ky as isize - pad;
                            if y < 0 || y >= h {
                                continue;
                            }
                            let src = &col[s * ho * wo + oy * wo..][..wo];
                            let dst = &mut plane[(y * w) as usize..][..w as usize];
                            let (lo, hi) = valid_range(kx, pad, w, wo);
                            if lo < hi {
                                let x0 = (lo as isize + kx as isize - pad) as usize;
                                for (d, v) in dst[x0..x0 + hi - lo].iter_mut().zip(&src[lo..hi]) {
                                    *d += v;
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Whether this batch takes the event-driven path: its work is one
    /// scattered add of `channels` weights per nonzero input and kernel
    /// position, against the dense product's `pixels x patch x channels`
    /// multiply-adds; a scattered add costs about four of the product's.
    /// Decided once per batch (forward and backward follow the same path);
    /// on the event-driven path, lists each sample's nonzero inputs into
    /// `sparse_input`.
    fn choose_path(&mut self, input: &[f32]) -> bool {
        if self.path == ConvPath::Dense {
            return false;
        }
        let nonzeros = self.sparse_input.count(input, self.input.len());
        let n = input.len() / self.input.len();
        let events = match self.path {
            ConvPath::Auto => 4 * nonzeros * self.kernel * self.kernel < n * self.pixels() * self.patch(),
            _ => true,
        };
        if events {
            self.sparse_input.fill(input, self.input.len());
        }
        events
    }

    /// The weights [kernel, kernel, in_channels, channels] (tap major): the
    /// `channels` weights that a nonzero input gives an output pixel it
    /// reaches through a tap (ky, kx) are one contiguous row.
    fn weight_by_tap(&self) -> Vec<f32> {
        let (taps, c_in, channels) = (self.kernel * self.kernel, self.input.channels, self.output.channels);
        let mut rows = vec![0.0; taps * c_in * channels];
        for o in 0..channels {
            for c in 0..c_in {
                for tap in 0..taps {
                    rows[(tap * c_in + c) * channels + o] = self.weight.value[(o * c_in + c) * taps + tap];
                }
            }
        }
        rows
    }

    /// Lists one sample's nonzero inputs (`events`: (index in the sample, x))
    /// by pixel of the zero-padded input [height + 2 padding, width + 2
    /// padding]: padded pixel P's are `terms[starts[P]..starts[P + 1]]`, in
    /// channel order, each as (((padded x) * in_channels + channel) *
    /// channels, x). For output pixel (oy, ox) and kernel row ky, the inputs
    /// under the patch are then the one run of padded pixels (oy + ky,
    /// ox..ox + kernel), and an entry's weights (`weight_by_tap`) start at
    /// the entry plus `tap_base(ky, ox)`, whatever its kx.
    fn input_terms(&self, events: &[(u32, f32)], starts: &mut Vec<u32>, terms: &mut Vec<(u32, f32)>) {
        let (pad, c_in, channels) = (self.padding, self.input.channels, self.output.channels);
        let (plane, w) = (self.input.height * self.input.width, self.input.width);
        let wp = w + 2 * pad;
        let padded_pixels = (self.input.height + 2 * pad) * wp;
        let place = |index: u32| {
            let (c, at) = (index as usize / plane, index as usize % plane);
            let (iy, ix) = (at / w, at % w);
            ((iy + pad) * wp + ix + pad, (((ix + pad) * c_in + c) * channels) as u32)
        };
        starts.clear();
        starts.resize(padded_pixels + 1, 0);
        for &(index, _) in events {
            starts[place(index).0 + 1] += 1;
        }
        for p in 0..padded_pixels {
            starts[p + 1] += starts[p];
        }
        terms.resize(events.len(), (0, 0.0));
        // starts[P] serves as pixel P's cursor, ending at the start of P + 1:
        // shifted back by one pixel afterwards.
        for &(index, x) in events {
            let (pixel, row) = place(index);
            terms[starts[pixel] as usize] = (row, x);
            starts[pixel] += 1;
        }
        starts.copy_within(..padded_pixels, 1);
        starts[0] = 0;
    }

    /// See `input_terms`.
    fn tap_base(&self, ky: usize, ox: usize) -> usize {
        let tap_row = self.input.channels * self.output.channels;
        (ky * self.kernel * tap_row).wrapping_sub(ox * tap_row)
    }

    /// One sample's outputs, pixel-major into `sums` [pixels, channels]: the
    /// bias plus the weights of every nonzero input (from `input_terms`)
    /// under each pixel's patch, each pixel's summed in registers. One
    /// kernel row at a time, so that its weights (a third of
    /// `weight_by_tap` for a 3 x 3 kernel) stay in the first-level cache.
    fn event_sums(&self, (starts, terms): (&[u32], &[(u32, f32)]), weight_by_tap: &[f32], sums: &mut [f32]) {
        let (k, channels, wo) = (self.kernel, self.output.channels, self.output.width);
        let wp = self.input.width + 2 * self.padding;
        for row in sums.chunks_exact_mut(channels) {
            row.copy_from_slice(&self.bias.value);
        }
        for ky in 0..k {
            for (pixel, row) in sums.chunks_exact_mut(channels).enumerate() {
                let (oy, ox) = (pixel / wo, pixel % wo);
                let first = (oy + ky) * wp + ox;
                let entries = &terms[starts[first] as usize..starts[first + k] as usize];
                if !entries.is_empty() {
                    gather_runs(std::iter::once((entries, self.tap_base(ky, ox))), weight_by_tap, row);
                }
            }
        }
    }

    /// This convolution followed by non-overlapping max pooling `pool`,
    /// without writing the convolution's output: on the event-driven path
    /// each output pixel's channels are summed in registers, where pooling
    /// is a maximum of whole vectors of channels. Returns false, doing
    /// nothing, if this batch is not sparse enough for the event-driven path
    /// (then run the two layers one after the other). `pool` keeps its
    /// argmax for `backward_max_pooled`, the same as its own forward pass
    /// would.
    pub fn forward_max_pooled(&mut self, input: &[f32], pool: &mut Pool, pooled: &mut [f32]) -> bool {
        assert!(pool.kind == PoolKind::Max && pool.input == self.output);
        self.events = self.choose_path(input);
        if !self.events {
            return false;
        }
        let channels = self.output.channels;
        let (size, wo) = (pool.size, self.output.width);
        let (pooled_len, pooled_pixels) = (pool.output.len(), pool.output.height * pool.output.width);
        let pooled_width = pool.output.width;
        let weight_by_tap = self.weight_by_tap();
        pool.argmax.resize(pooled.len(), 0);
        let this = &*self;
        pooled
            .par_chunks_mut(CONV_GROUP * pooled_len)
            .zip(pool.argmax.par_chunks_mut(CONV_GROUP * pooled_len))
            .enumerate()
            .for_each_init(ConvScratch::default, |scratch, (group, (out, argmax))| {
                let ConvScratch {
                    by_pixel: sums,
                    cols: maxima,
                    starts,
                    terms,
                    positions,
                    grad_by_channel: by_channel,
                    window,
                    ..
                } = scratch;
                sums.resize(this.pixels() * channels, 0.0);
                maxima.resize(pooled_pixels * channels, 0.0);
                positions.resize(pooled_pixels * channels, 0.0);
                by_channel.resize(pooled_pixels * channels, 0.0);
                let outs = out
                    .chunks_exact_mut(pooled_len)
                    .zip(argmax.chunks_exact_mut(pooled_len));
                for (s, (out, argmax)) in outs.enumerate() {
                    let events = this.sparse_input.row(group * CONV_GROUP + s);
                    this.input_terms(events, starts, terms);
                    this.event_sums((starts, terms), &weight_by_tap, sums);
                    for q in 0..pooled_pixels {
                        let (py, px) = (q / pooled_width, q % pooled_width);
                        let corner = py * size * wo + px * size;
                        // Window order as in `Pool::forward`.
                        window.clear();
                        window.extend((0..size * size).map(|i| corner + (i / size) * wo + i % size));
                        let best = &mut maxima[q * channels..][..channels];
                        let at = &mut positions[q * channels..][..channels];
                        window_maxima(sums, window, best, at);
                    }
                    transpose_into(maxima, pooled_pixels, channels, out);
                    transpose_into(positions, pooled_pixels, channels, by_channel);
                    for (a, &at) in argmax.iter_mut().zip(by_channel.iter()) {
                        *a = at as u32;
                    }
                }
            });
        true
    }

    pub fn forward(&mut self, input: &[f32], output: &mut [f32]) {
        self.events = self.choose_path(input);
        let events = self.events;
        let (patch, pixels, channels) = (self.patch(), self.pixels(), self.output.channels);
        let weight_by_tap = if events { self.weight_by_tap() } else { Vec::new() };
        let this = &*self;
        input
            .par_chunks(CONV_GROUP * this.input.len())
            .zip(output.par_chunks_mut(CONV_GROUP * this.output.len()))
            .enumerate()
            .for_each_init(ConvScratch::default, |scratch, (group, (samples, out))| {
                let n = samples.len() / this.input.len();
                let ConvScratch {
                    cols,
                    by_pixel: product,
                    starts,
                    terms,
                    ..
                } = scratch;
                if events {
                    // Pixel-major sums [pixels, channels], one sample at a time.
                    product.resize(pixels * channels, 0.0);
                    for (s, out) in out.chunks_exact_mut(this.output.len()).enumerate() {
                        let events = this.sparse_input.row(group * CONV_GROUP + s);
                        this.input_terms(events, starts, terms);
                        this.event_sums((starts, terms), &weight_by_tap, product);
                        transpose_into(product, pixels, channels, out);
                    }
                    return;
                }
                cols.resize(patch * n * pixels, 0.0);
                product.resize(channels * n * pixels, 0.0);
                this.im2col(samples, cols);
                gemm_here(
                    channels,
                    patch,
                    n * pixels,
                    &this.weight.value,
                    Op::Normal,
                    cols,
                    Op::Normal,
                    product,
                );
                // [channels, n * pixels] -> n x [channels, pixels], plus bias.
                for s in 0..n {
                    for c in 0..channels {
                        let src = &product[c * n * pixels + s * pixels..][..pixels];
                        let dst = &mut out[(s * channels + c) * pixels..][..pixels];
                        let b = this.bias.value[c];
                        for (d, v) in dst.iter_mut().zip(src) {
                            *d = v + b;
                        }
                    }
                }
            });
    }

    pub fn backward(&mut self, input: &[f32], grad_output: &[f32], grad_input: Option<&mut [f32]>) {
        self.backward_from(input, grad_output, None, grad_input)
    }

    /// The backward pass of this convolution and the max pooling `pool`
    /// fused into it by `forward_max_pooled`, from the gradient of the
    /// pooled output.
    pub fn backward_max_pooled(
        &mut self,
        input: &[f32],
        pool: &Pool,
        grad_pooled: &[f32],
        grad_input: Option<&mut [f32]>,
    ) {
        assert!(self.events, "fused only on the event-driven path");
        self.backward_from(input, grad_pooled, Some(pool), grad_input)
    }

    /// `grad_output` is the gradient of this layer's output or, with `pool`,
    /// of the max pooling fused into it.
    fn backward_from(
        &mut self,
        input: &[f32],
        grad_output: &[f32],
        pool: Option<&Pool>,
        grad_input: Option<&mut [f32]>,
    ) {
        let (patch, pixels, channels) = (self.patch(), self.pixels(), self.output.channels);
        let grad_len = pool.map_or(self.output.len(), |p| p.output.len());
        let groups = grad_output.len().div_ceil(CONV_GROUP * grad_len);
        // One partial weight and bias gradient per group, summed in group
        // order afterwards (deterministic whatever the threads); kept between
        // calls, as it is large.
        let stride = channels * patch + channels;
        let mut partial = std::mem::take(&mut self.partial_grads);
        partial.resize(groups * stride, 0.0);
        let matrix = self.feedback.as_deref().unwrap_or(&self.weight.value);
        let events = self.events;
        assert!(
            !events || self.sparse_input.rows() * self.input.len() == input.len(),
            "the backward pass gets the forward pass's input"
        );
        // Behind max pooling at most one value per window is nonzero.
        let sparse_grad = grad_input.is_some() && (pool.is_some() || self.sparse_gradient(grad_output));
        let rows_by_kernel_row = if sparse_grad {
            self.rows_by_kernel_row(matrix)
        } else {
            Vec::new()
        };
        // Where each output pixel lies in the gradient's grid with margins.
        let (margin, wo) = (self.grad_margin(), self.output.width);
        let grid_width = wo + 2 * margin;
        let grid_len = (self.output.height + 2 * margin) * grid_width * channels;
        let grid_pixel: Vec<u32> = (0..pixels)
            .map(|p| ((p / wo + margin) * grid_width + p % wo + margin) as u32)
            .collect();
        let this = &*self;
        let work = |group: usize,
                    (samples, grad): (&[f32], &[f32]),
                    partial: &mut [f32],
                    mut grad_in: Option<&mut [f32]>,
                    scratch: &mut ConvScratch| {
            let first_sample = group * CONV_GROUP;
            let n = samples.len() / this.input.len();
            let (dw, db) = partial.split_at_mut(channels * patch);
            db.fill(0.0);
            for grad in grad.chunks_exact(grad_len) {
                for (db, plane) in db.iter_mut().zip(grad.chunks_exact(grad_len / channels)) {
                    *db += sum(plane);
                }
            }
            // The dense products need the gradient channel-major over the
            // group: n x [channels, pixels] -> [channels, n * pixels].
            let ConvScratch {
                cols,
                grad_by_channel: g,
                by_pixel,
                grad_grid: grids,
                image,
                terms,
                starts,
                positions,
                ..
            } = scratch;
            if !events || (grad_in.is_some() && !sparse_grad) {
                g.resize(channels * n * pixels, 0.0);
                for s in 0..n {
                    for c in 0..channels {
                        g[c * n * pixels + s * pixels..][..pixels]
                            .copy_from_slice(&grad[(s * channels + c) * pixels..][..pixels]);
                    }
                }
            }
            // The sparse paths go sample by sample, with the output gradient
            // pixel-major [pixels, channels].
            if events || sparse_grad {
                // Every sample writes every pixel inside the margins.
                grids.resize(n * grid_len, 0.0);
                grids.fill(0.0);
                if events {
                    // dW in pixel-major sums [patch, channels].
                    cols.resize(patch * channels, 0.0);
                    cols.fill(0.0);
                }
                for (s, (grad, grid)) in grad
                    .chunks_exact(grad_len)
                    .zip(grids.chunks_exact_mut(grid_len))
                    .enumerate()
                {
                    match pool {
                        None => {
                            by_pixel.resize(pixels * channels, 0.0);
                            transpose_into(grad, channels, pixels, by_pixel);
                            for (p, values) in by_pixel.chunks_exact(channels).enumerate() {
                                grid[grid_pixel[p] as usize * channels..][..channels].copy_from_slice(values);
                            }
                        }
                        Some(pool) => {
                            // Each pooled gradient goes to its window's maximum:
                            // window by window, pixel-major, a select of whole
                            // vectors of channels.
                            let argmax = &pool.argmax[(first_sample + s) * grad_len..][..grad_len];
                            let (at_by_channel, at_by_pixel) = (&mut *image, &mut *positions);
                            at_by_channel.clear();
                            at_by_channel.extend(argmax.iter().map(|&at| at as f32));
                            at_by_pixel.resize(grad_len, 0.0);
                            by_pixel.resize(grad_len, 0.0);
                            let windows = grad_len / channels;
                            transpose_into(at_by_channel, channels, windows, at_by_pixel);
                            transpose_into(grad, channels, windows, by_pixel);
                            let (size, pooled_width) = (pool.size, pool.output.width);
                            for (q, (grads, ats)) in by_pixel
                                .chunks_exact(channels)
                                .zip(at_by_pixel.chunks_exact(channels))
                                .enumerate()
                            {
                                let corner = (q / pooled_width) * size * wo + (q % pooled_width) * size;
                                for dy in 0..size {
                                    for dx in 0..size {
                                        let pixel = corner + dy * wo + dx;
                                        let row = &mut grid[grid_pixel[pixel] as usize * channels..][..channels];
                                        let pixel = pixel as f32;
                                        for ((r, &g), &at) in row.iter_mut().zip(grads).zip(ats) {
                                            *r = if at == pixel { g } else { 0.0 };
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                if events {
                    // Sample by sample: the grids of several at once overflow
                    // the cache (measured: no faster).
                    for (i, grid) in grids.chunks_exact(grid_len).enumerate() {
                        let sample = first_sample + i;
                        this.weight_grad_group(sample..sample + 1, grid, (starts, terms), cols);
                    }
                }
                if let (true, Some(grad_in)) = (sparse_grad, grad_in.as_deref_mut()) {
                    for (grid, grad_in) in grids
                        .chunks_exact(grid_len)
                        .zip(grad_in.chunks_exact_mut(this.input.len()))
                    {
                        this.gather_grad_input(grid, &rows_by_kernel_row, (starts, terms), (image, by_pixel), grad_in);
                    }
                }
                if events {
                    transpose_into(cols, patch, channels, dw);
                }
            }
            if !events {
                cols.resize(patch * n * pixels, 0.0);
                this.im2col(samples, cols);
                gemm_here(channels, n * pixels, patch, g, Op::Normal, cols, Op::Transposed, dw);
            }
            if let (false, Some(grad_in)) = (sparse_grad, grad_in) {
                cols.resize(patch * n * pixels, 0.0);
                gemm_here(patch, channels, n * pixels, matrix, Op::Transposed, g, Op::Normal, cols);
                this.col2im(cols, grad_in);
            }
        };
        let group_in = CONV_GROUP * self.input.len();
        let group_out = CONV_GROUP * grad_len;
        match grad_input {
            Some(grad_input) => input
                .par_chunks(group_in)
                .zip(grad_output.par_chunks(group_out))
                .zip(partial.par_chunks_mut(stride))
                .zip(grad_input.par_chunks_mut(group_in))
                .enumerate()
                .for_each_init(ConvScratch::default, |scratch, (group, ((job, partial), grad_in))| {
                    work(group, job, partial, Some(grad_in), scratch)
                }),
            None => input
                .par_chunks(group_in)
                .zip(grad_output.par_chunks(group_out))
                .zip(partial.par_chunks_mut(stride))
                .enumerate()
                .for_each_init(ConvScratch::default, |scratch, (group, (job, partial))| {
                    work(group, job, partial, None, scratch)
                }),
        }
        for part in partial.chunks_exact(stride) {
            add(&mut self.weight.grad, &part[..channels * patch]);
            add(&mut self.bias.grad, &part[channels * patch..]);
        }
        self.partial_grads = partial;
    }

    /// Whether the output gradient is sparse enough (as behind max pooling,
    /// which passes it to one input per window) to send back nonzero by
    /// nonzero rather than by the dense product.
    fn sparse_gradient(&self, grad_output: &[f32]) -> bool {
        match self.path {
            ConvPath::Dense => false,
            ConvPath::EventDriven => true,
            ConvPath::Auto => 3 * nonzeros(grad_output) < grad_output.len(),
        }
    }

    /// The margin of zeros around the output gradient's grid (`kernel - 1 -
    /// padding` pixels each side, or none) that puts the pixel every
    /// nonzero input reaches through every tap inside the grid.
    fn grad_margin(&self) -> usize {
        (self.kernel - 1).saturating_sub(self.padding)
    }

    /// dW (`dw_rows`, [patch, channels]) += the share of the `samples`: x
    /// times the output gradient at the pixel that each nonzero input x
    /// reaches through each tap. `grids`: each sample's output gradient,
    /// pixel-major with `grad_margin` margins of zeros, so that no tap needs
    /// a bounds test. Each row of dW (an input channel and a tap) is summed in
    /// registers over the inputs of its channel in all the samples.
    fn weight_grad_group(
        &self,
        samples: std::ops::Range<usize>,
        grids: &[f32],
        (starts, terms): (&mut Vec<u32>, &mut Vec<(u32, f32)>),
        dw_rows: &mut [f32],
    ) {
        let (k, pad, c_in, channels) = (self.kernel, self.padding, self.input.channels, self.output.channels);
        let (plane, w) = (self.input.height * self.input.width, self.input.width);
        let margin = self.grad_margin();
        let grid_width = self.output.width + 2 * margin;
        let grid_len = grids.len() / samples.len();
        assert!(grids.len() <= u32::MAX as usize, "grid offsets are 32-bit");
        // Each input as (its tap (0, 0) pixel in its sample's grid, as an
        // offset in `grids`; x); the inputs of channel c of the i-th sample
        // are terms[starts[i * (c_in + 1) + c]..starts[i * (c_in + 1) + c + 1]].
        terms.clear();
        starts.clear();
        for (i, sample) in samples.enumerate() {
            // A sample's events are in index order: channel by channel.
            let events = self.sparse_input.row(sample);
            let first = terms.len() as u32;
            starts.extend((0..=c_in).map(|c| {
                let end = (c * plane) as u32;
                first + events.partition_point(|&(index, _)| index < end) as u32
            }));
            terms.extend(events.iter().map(|&(index, x)| {
                let at = index as usize % plane;
                let (iy, ix) = (at / w, at % w);
                let pixel = (iy + pad + margin) * grid_width + ix + pad + margin;
                ((i * grid_len + pixel * channels) as u32, x)
            }));
        }
        let groups = starts.len() / (c_in + 1);
        for c in 0..c_in {
            for ky in 0..k {
                for kx in 0..k {
                    let shift = ((ky * grid_width + kx) * channels).wrapping_neg();
                    let runs = (0..groups).map(|i| {
                        let at = i * (c_in + 1) + c;
                        (&terms[starts[at] as usize..starts[at + 1] as usize], shift)
                    });
                    let row = &mut dw_rows[((c * k + ky) * k + kx) * channels..][..channels];
                    gather_runs(runs, grids, row);
                }
            }
        }
    }

    /// The weights [kernel, channels, run] an output gradient sends back to
    /// one row of the padded input: for each kernel row and output channel,
    /// its `kernel x in_channels` weights contiguous (x major, channel minor),
    /// padded with zeros to `run`, a whole number of vectors. A kernel row's
    /// weights are one block (small enough for the first-level cache).
    fn rows_by_kernel_row(&self, matrix: &[f32]) -> Vec<f32> {
        let (k, c_in, channels) = (self.kernel, self.input.channels, self.output.channels);
        let run = (k * c_in).next_multiple_of(LANES);
        let mut rows = vec![0.0f32; k * channels * run];
        for o in 0..channels {
            for c in 0..c_in {
                for ky in 0..k {
                    for kx in 0..k {
                        rows[(ky * channels + o) * run + kx * c_in + c] = matrix[((o * c_in + c) * k + ky) * k + kx];
                    }
                }
            }
        }
        rows
    }

    /// One sample's input gradient from its output gradient `grid` (as for
    /// `weight_grad_sample`): each output pixel's nonzero gradients weight
    /// their channels' kernel rows (`rows`, from `rows_by_kernel_row`),
    /// summed in registers and added once per kernel row into the padded
    /// pixel-major `image`, which is then cropped into `grad_input`
    /// [in_channels, height, width]. One kernel row at a time, so that its
    /// weights stay in cache.
    fn gather_grad_input(
        &self,
        grid: &[f32],
        rows: &[f32],
        (starts, terms): (&mut Vec<u32>, &mut Vec<(u32, f32)>),
        (image, by_channel): (&mut Vec<f32>, &mut Vec<f32>),
        grad_input: &mut [f32],
    ) {
        let (k, pad, c_in, channels) = (self.kernel, self.padding, self.input.channels, self.output.channels);
        let (h, w) = (self.input.height, self.input.width);
        let wp = w + 2 * pad;
        let (ho, wo) = (self.output.height, self.output.width);
        let margin = self.grad_margin();
        let grid_width = wo + 2 * margin;
        let run = (k * c_in).next_multiple_of(LANES);
        // Each output pixel's nonzero gradients as (channel * run, g): 64
        // channels at a time, a bit mask of the nonzero ones, then one step
        // per set bit (a quarter of them behind 2 x 2 max pooling).
        starts.resize(ho * wo + 1, 0);
        terms.resize(ho * wo * channels, (0, 0.0));
        let mut count = 0;
        for oy in 0..ho {
            let grads = &grid[((oy + margin) * grid_width + margin) * channels..][..wo * channels];
            for (ox, grads) in grads.chunks_exact(channels).enumerate() {
                let chunks = grads.chunks_exact(64);
                let tail = channels - chunks.remainder().len();
                for (chunk_index, chunk) in chunks.enumerate() {
                    let mut mask = nonzero_mask(chunk.try_into().expect("64 values"));
                    while mask != 0 {
                        let j = mask.trailing_zeros() as usize;
                        mask &= mask - 1;
                        terms[count] = (((chunk_index * 64 + j) * run) as u32, chunk[j]);
                        count += 1;
                    }
                }
                for (o, &g) in grads.iter().enumerate().skip(tail) {
                    terms[count] = ((o * run) as u32, g);
                    count += (g != 0.0) as usize;
                }
                starts[oy * wo + ox + 1] = count as u32;
            }
        }
        // The padded runs spill past the image's last pixel: room for them
        // (they add zeros).
        image.resize((h + 2 * pad) * wp * c_in + run, 0.0);
        image.fill(0.0);
        for ky in 0..k {
            let base = ky * channels * run;
            for oy in 0..ho {
                for ox in 0..wo {
                    let pixel = oy * wo + ox;
                    let (first, last) = (starts[pixel] as usize, starts[pixel + 1] as usize);
                    if first == last {
                        continue;
                    }
                    let start = ((oy + ky) * wp + ox) * c_in;
                    let runs = std::iter::once((&terms[first..last], base));
                    gather_runs(runs, rows, &mut image[start..start + run]);
                }
            }
        }
        // Channel-major, then cropped row by row.
        let padded_pixels = (h + 2 * pad) * wp;
        by_channel.resize(padded_pixels * c_in, 0.0);
        transpose_into(image, padded_pixels, c_in, by_channel);
        for (c, planes) in grad_input.chunks_exact_mut(h * w).enumerate() {
            for (y, dst) in planes.chunks_exact_mut(w).enumerate() {
                dst.copy_from_slice(&by_channel[c * padded_pixels + (y + pad) * wp + pad..][..w]);
            }
        }
    }
}

/// Floats per vector of the widest unit worth targeting (AVX-512).
const LANES: usize = 16;

/// target[..N] += sum over (o, g) in `nonzero` of g rows[o * stride + at..][..N],
/// with the N sums in registers.
#[inline]
fn gather_block<const N: usize>(nonzero: &[(u32, f32)], rows: &[f32], stride: usize, at: usize, target: &mut [f32]) {
    #[cfg(target_feature = "avx512f")]
    if N == 64 {
        // The compiler keeps to 256-bit vectors; this hot loop is worth the
        // full width (the same fused multiply-adds in the same order, so the
        // same bits as the portable loop below).
        use std::arch::x86_64::*;
        let target = &mut target[..64];
        // SAFETY: every load reads a 64-float slice checked by indexing, and
        // the stores write `target`, 64 floats; unaligned accesses.
        unsafe {
            let mut sums = [_mm512_setzero_ps(); 4];
            for &(o, g) in nonzero {
                let row = &rows[o as usize * stride + at..][..64];
                let g = _mm512_set1_ps(g);
                for (k, sum) in sums.iter_mut().enumerate() {
                    *sum = _mm512_fmadd_ps(g, _mm512_loadu_ps(row.as_ptr().add(16 * k)), *sum);
                }
            }
            for (k, sum) in sums.iter().enumerate() {
                let t = target.as_mut_ptr().add(16 * k);
                _mm512_storeu_ps(t, _mm512_add_ps(_mm512_loadu_ps(t), *sum));
            }
        }
        return;
    }
    let mut sums = [0.0f32; N];
    for &(o, g) in nonzero {
        let row: &[f32; N] = rows[o as usize * stride + at..][..N].try_into().expect("N");
        for i in 0..N {
            sums[i] = g.mul_add(row[i], sums[i]);
        }
    }
    for (t, s) in target[..N].iter_mut().zip(sums) {
        *t += s;
    }
}

/// target += sum over (o, g) in `nonzero` of g rows[o * stride..][..target.len()]:
/// `gather_block` over whole vectors, then the ragged rest.
fn gather_rows(nonzero: &[(u32, f32)], rows: &[f32], stride: usize, target: &mut [f32]) {
    let width = target.len();
    let mut at = 0;
    while at + 4 * LANES <= width {
        gather_block::<{ 4 * LANES }>(nonzero, rows, stride, at, &mut target[at..]);
        at += 4 * LANES;
    }
    while at + LANES <= width {
        gather_block::<LANES>(nonzero, rows, stride, at, &mut target[at..]);
        at += LANES;
    }
    if at < width {
        let rest = width - at;
        let mut sums = [0.0f32; LANES];
        for &(o, g) in nonzero {
            let row = &rows[o as usize * stride + at..][..rest];
            for (s, w) in sums.iter_mut().zip(row) {
                *s = g.mul_add(*w, *s);
            }
        }
        add(&mut target[at..], &sums[..rest]);
    }
}

/// Terms of a gathered sum: entries (offset, value) whose rows start at
/// `offset + base` (wrapping: a base may be negative).
type Run<'a> = (&'a [(u32, f32)], usize);

/// target[..N] += sum over the runs, over their entries (offset, value), of
/// value times rows[offset + base + at..][..N]: the N sums in registers, each
/// in the order of the runs and entries.
#[inline]
fn gather_runs_block<'a, const N: usize>(
    runs: impl Iterator<Item = Run<'a>>,
    rows: &[f32],
    at: usize,
    target: &mut [f32],
) {
    let mut sums = [0.0f32; N];
    for (entries, base) in runs {
        for &(offset, value) in entries {
            let row: &[f32; N] = rows[(offset as usize).wrapping_add(base) + at..][..N]
                .try_into()
                .expect("N floats");
            for i in 0..N {
                sums[i] = value.mul_add(row[i], sums[i]);
            }
        }
    }
    for (t, s) in target[..N].iter_mut().zip(sums) {
        *t += s;
    }
}

/// `gather_runs_block` across a target of any width: blocks of 96 or 64
/// floats (12 or 8 AVX2 vectors: independent chains of fused multiply-adds
/// enough to hide their latency), then narrower ones.
fn gather_runs<'a>(runs: impl Iterator<Item = Run<'a>> + Clone, rows: &[f32], target: &mut [f32]) {
    let width = target.len();
    let mut at = 0;
    while width - at >= 96 && width - at != 128 {
        gather_runs_block::<96>(runs.clone(), rows, at, &mut target[at..]);
        at += 96;
    }
    while width - at >= 64 {
        gather_runs_block::<64>(runs.clone(), rows, at, &mut target[at..]);
        at += 64;
    }
    if width - at >= 32 {
        gather_runs_block::<32>(runs.clone(), rows, at, &mut target[at..]);
        at += 32;
    }
    if width - at >= 16 {
        gather_runs_block::<16>(runs.clone(), rows, at, &mut target[at..]);
        at += 16;
    }
    if width - at >= 8 {
        gather_runs_block::<8>(runs.clone(), rows, at, &mut target[at..]);
        at += 8;
    }
    if at < width {
        let rest = width - at;
        let mut sums = [0.0f32; 8];
        for (entries, base) in runs {
            for &(offset, value) in entries {
                let row = &rows[(offset as usize).wrapping_add(base) + at..][..rest];
                for (s, r) in sums.iter_mut().zip(row) {
                    *s = value.mul_add(*r, *s);
                }
            }
        }
        add(&mut target[at..], &sums[..rest]);
    }
}

/// How many of `values` are not zero, counted in 32-bit lanes (vectorised).
fn count_nonzero(values: &[f32]) -> usize {
    let mut lanes = [0u32; 16];
    let chunks = values.chunks_exact(16);
    let rest = chunks.remainder().iter().filter(|&&x| x != 0.0).count();
    for chunk in chunks {
        for (lane, &x) in lanes.iter_mut().zip(chunk) {
            *lane += (x != 0.0) as u32;
        }
    }
    lanes.iter().map(|&n| n as usize).sum::<usize>() + rest
}

/// Bit j set where `values[j]` is not zero (NaN included, as `!=` says).
#[inline]
fn nonzero_mask(values: &[f32; 64]) -> u64 {
    #[cfg(target_feature = "avx")]
    {
        use std::arch::x86_64::*;
        let mut mask = 0u64;
        // SAFETY: eight unaligned loads of 8 floats, all within `values`.
        unsafe {
            let zero = _mm256_setzero_ps();
            for k in 0..8 {
                let v = _mm256_loadu_ps(values.as_ptr().add(8 * k));
                let bits = _mm256_movemask_ps(_mm256_cmp_ps::<_CMP_NEQ_UQ>(v, zero)) as u32 as u64;
                mask |= bits << (8 * k);
            }
        }
        mask
    }
    #[cfg(not(target_feature = "avx"))]
    {
        values
            .iter()
            .enumerate()
            .fold(0u64, |mask, (j, &x)| mask | (((x != 0.0) as u64) << j))
    }
}

/// How many of `values` are not zero (in parallel).
fn nonzeros(values: &[f32]) -> usize {
    values.par_chunks(1 << 16).map(count_nonzero).sum()
}

/// A thread's working buffers for the convolution's backward pass.
#[derive(Default)]
struct ConvScratch {
    cols: Vec<f32>,
    grad_by_channel: Vec<f32>,
    by_pixel: Vec<f32>,
    /// The output gradient, pixel-major with margins (`Conv2d::grad_margin`).
    grad_grid: Vec<f32>,
    image: Vec<f32>,
    /// Lists of nonzero values (inputs or gradients) and where each list starts.
    terms: Vec<(u32, f32)>,
    starts: Vec<u32>,
    /// Where each maximum of a pooling window was, as a float.
    positions: Vec<f32>,
    /// The pixels of a pooling window.
    window: Vec<usize>,
}

/// A sum in eight interleaved lanes (vectorised, and a fixed order).
fn sum(values: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let chunks = values.chunks_exact(8);
    let rest: f32 = chunks.remainder().iter().sum();
    for chunk in chunks {
        for (l, x) in lanes.iter_mut().zip(chunk) {
            *l += x;
        }
    }
    lanes.iter().sum::<f32>() + rest
}

/// How a convolution computes: by im2col and a matrix product, or event by
/// event (each nonzero input adds its weights to the outputs it reaches),
/// which pays for sparse inputs such as the spikes of a LIF layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConvPath {
    /// Event-driven for each group of samples sparse enough to pay.
    #[default]
    Auto,
    Dense,
    EventDriven,
}

/// The maximum over one pooling window of pixel-major `sums` [pixels,
/// channels] for each channel into `best`, and the pixel it is at (as a
/// float) into `at`: the window's `pixels` in order, a strict comparison (the
/// first of equals wins), the first pixel if none exceeds minus infinity.
/// Eight channels at a time, kept in registers over the window.
fn window_maxima(sums: &[f32], window: &[usize], best: &mut [f32], at: &mut [f32]) {
    let channels = best.len();
    let mut done = 0;
    while done + 8 <= channels {
        keep_window_maxima::<8>(sums, channels, window, done, &mut best[done..], &mut at[done..]);
        done += 8;
    }
    while done < channels {
        keep_window_maxima::<1>(sums, channels, window, done, &mut best[done..], &mut at[done..]);
        done += 1;
    }
}

#[inline]
fn keep_window_maxima<const N: usize>(
    sums: &[f32],
    channels: usize,
    window: &[usize],
    first: usize,
    best: &mut [f32],
    at: &mut [f32],
) {
    let mut b = [f32::NEG_INFINITY; N];
    let mut a = [window[0] as f32; N];
    for &pixel in window {
        let values: &[f32; N] = sums[pixel * channels + first..][..N].try_into().expect("N");
        let mark = pixel as f32;
        for i in 0..N {
            let better = values[i] > b[i];
            b[i] = if better { values[i] } else { b[i] };
            a[i] = if better { mark } else { a[i] };
        }
    }
    best[..N].copy_from_slice(&b);
    at[..N].copy_from_slice(&a);
}

fn transpose_into(matrix: &[f32], rows: usize, columns: usize, out: &mut [f32]) {
    assert!(matrix.len() >= rows * columns && out.len() >= rows * columns);
    // 8 x 8 blocks by vector shuffles where the machine has them, then the
    // ragged edges element by element.
    const B: usize = 8;
    let (whole_rows, whole_columns) = if cfg!(target_feature = "avx") {
        (rows / B * B, columns / B * B)
    } else {
        (0, 0)
    };
    for r0 in (0..whole_rows).step_by(B) {
        for c0 in (0..whole_columns).step_by(B) {
            // SAFETY: rows r0..r0 + 8 and columns c0..c0 + 8 lie inside both
            // matrices (asserted above); unaligned loads and stores.
            #[cfg(target_feature = "avx")]
            unsafe {
                transpose_8x8(
                    matrix.as_ptr().add(r0 * columns + c0),
                    columns,
                    out.as_mut_ptr().add(c0 * rows + r0),
                    rows,
                )
            };
        }
    }
    for r in 0..rows {
        let start = if r < whole_rows { whole_columns } else { 0 };
        for c in start..columns {
            out[c * rows + r] = matrix[r * columns + c];
        }
    }
}

/// The transpose of the 8 x 8 block at `src` (rows `src_stride` apart)
/// into `dst` (rows `dst_stride` apart): 8 loads, 24 shuffles, 8 stores.
#[cfg(target_feature = "avx")]
#[inline]
unsafe fn transpose_8x8(src: *const f32, src_stride: usize, dst: *mut f32, dst_stride: usize) {
    use std::arch::x86_64::*;
    let r = |i: usize| _mm256_loadu_ps(src.add(i * src_stride));
    let (r0, r1, r2, r3, r4, r5, r6, r7) = (r(0), r(1), r(2), r(3), r(4), r(5), r(6), r(7));
    let t0 = _mm256_unpacklo_ps(r0, r1);
    let t1 = _mm256_unpackhi_ps(r0, r1);
    let t2 = _mm256_unpacklo_ps(r2, r3);
    let t3 = _mm256_unpackhi_ps(r2, r3);
    let t4 = _mm256_unpacklo_ps(r4, r5);
    let t5 = _mm256_unpackhi_ps(r4, r5);
    let t6 = _mm256_unpacklo_ps(r6, r7);
    let t7 = _mm256_unpackhi_ps(r6, r7);
    let s0 = _mm256_shuffle_ps::<0x44>(t0, t2);
    let s1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
    let s2 = _mm256_shuffle_ps::<0x44>(t1, t3);
    let s3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
    let s4 = _mm256_shuffle_ps::<0x44>(t4, t6);
    let s5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
    let s6 = _mm256_shuffle_ps::<0x44>(t5, t7);
    let s7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
    let w = |i: usize, v: __m256| _mm256_storeu_ps(dst.add(i * dst_stride), v);
    w(0, _mm256_permute2f128_ps::<0x20>(s0, s4));
    w(1, _mm256_permute2f128_ps::<0x20>(s1, s5));
    w(2, _mm256_permute2f128_ps::<0x20>(s2, s6));
    w(3, _mm256_permute2f128_ps::<0x20>(s3, s7));
    w(4, _mm256_permute2f128_ps::<0x31>(s0, s4));
    w(5, _mm256_permute2f128_ps::<0x31>(s1, s5));
    w(6, _mm256_permute2f128_ps::<0x31>(s2, s6));
    w(7, _mm256_permute2f128_ps::<0x31>(s3, s7));
}

#[cfg(test)]
mod tests {
    #[test]
    fn transpose_matches_the_definition() {
        for (rows, columns) in [(64, 64), (19, 37), (8, 16), (3, 5), (300, 64)] {
            let m: Vec<f32> = (0..rows * columns).map(|i| i as f32).collect();
            let mut out = vec![-1.0; rows * columns];
            super::transpose_into(&m, rows, columns, &mut out);
            for r in 0..rows {
                for c in 0..columns {
                    assert_eq!(out[c * rows + r], m[r * columns + c], "{rows}x{columns} at {r},{c}");
                }
            }
        }
    }
}

/// The output columns ox in [lo, hi) whose input column ox + kx - pad lies
/// inside a row of `width` (the rest read the zero padding).
fn valid_range(kx: usize, pad: isize, width: isize, out_width: usize) -> (usize, usize) {
    let shift = kx as isize - pad;
    let lo = (-shift).clamp(0, out_width as isize) as usize;
    let hi = (width - shift).clamp(0, out_width as isize) as usize;
    (lo, hi.max(lo))
}

/// A product on the calling thread (inside a parallel loop already).
#[allow(clippy::too_many_arguments)]
fn gemm_here(m: usize, k: usize, n: usize, a: &[f32], op_a: Op, b: &[f32], op_b: Op, c: &mut [f32]) {
    super::gemm::gemm_serial(m, k, n, a, op_a, b, op_b, 0.0, c);
}

// -------------------------------------------------------------- pooling

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PoolKind {
    Max,
    Average,
}

/// Non-overlapping pooling over size x size windows (stride = size).
#[derive(Debug, Clone)]
pub struct Pool {
    pub kind: PoolKind,
    pub size: usize,
    pub input: Shape,
    pub output: Shape,
    /// Max pooling: where in its input plane each output's maximum was.
    argmax: Vec<u32>,
}

impl Pool {
    pub fn new(kind: PoolKind, size: usize, input: Shape) -> Pool {
        Pool {
            kind,
            size,
            input,
            output: Shape {
                channels: input.channels,
                height: input.height / size,
                width: input.width / size,
            },
            argmax: Vec::new(),
        }
    }

    pub fn forward(&mut self, input: &[f32], output: &mut [f32]) {
        let (size, inp, out) = (self.size, self.input, self.output);
        let scale = 1.0 / (size * size) as f32;
        let kind = self.kind;
        let (plane_in, plane_out) = (inp.height * inp.width, out.height * out.width);
        // Average pooling does not need it, but one layout keeps one loop.
        self.argmax.resize(output.len(), 0);
        input
            .par_chunks(plane_in * 16)
            .zip(output.par_chunks_mut(plane_out * 16))
            .zip(self.argmax.par_chunks_mut(plane_out * 16))
            .for_each(|((x, y), arg)| {
                for (p, (x, y)) in x.chunks_exact(plane_in).zip(y.chunks_exact_mut(plane_out)).enumerate() {
                    for oy in 0..out.height {
                        for ox in 0..out.width {
                            let corner = oy * size * inp.width + ox * size;
                            let o = oy * out.width + ox;
                            match kind {
                                PoolKind::Max => {
                                    // Selects, not branches (any input can be the maximum);
                                    // the first of equals wins.
                                    let (mut best, mut at) = (f32::NEG_INFINITY, corner as u32);
                                    for dy in 0..size {
                                        for dx in 0..size {
                                            let v = x[corner + dy * inp.width + dx];
                                            let better = v > best;
                                            best = if better { v } else { best };
                                            at = if better {
                                                (corner + dy * inp.width + dx) as u32
                                            } else {
                                                at
                                            };
                                        }
                                    }
                                    y[o] = best;
                                    arg[p * plane_out + o] = at;
                                }
                                PoolKind::Average => {
                                    let mut sum = 0.0;
                                    for dy in 0..size {
                                        sum += x[corner + dy * inp.width..][..size].iter().sum::<f32>();
                                    }
                                    y[o] = sum * scale;
                                }
                            }
                        }
                    }
                }
            });
    }

    /// Max pooling sends each output's gradient to its window's maximum
    /// (the first, if several are equal).
    pub fn backward(&self, grad_output: &[f32], grad_input: &mut [f32]) {
        let (size, inp, out) = (self.size, self.input, self.output);
        let scale = 1.0 / (size * size) as f32;
        let (plane_in, plane_out) = (inp.height * inp.width, out.height * out.width);
        grad_input
            .par_chunks_mut(plane_in * 16)
            .zip(grad_output.par_chunks(plane_out * 16))
            .enumerate()
            .for_each(|(chunk, (gi, go))| {
                gi.fill(0.0);
                let planes = gi.chunks_exact_mut(plane_in).zip(go.chunks_exact(plane_out));
                for (p, (gi, go)) in planes.enumerate() {
                    let first = (chunk * 16 + p) * plane_out;
                    for oy in 0..out.height {
                        for ox in 0..out.width {
                            let o = oy * out.width + ox;
                            match self.kind {
                                PoolKind::Max => {
                                    gi[self.argmax[first + o] as usize] += go[o];
                                }
                                PoolKind::Average => {
                                    let corner = oy * size * inp.width + ox * size;
                                    for dy in 0..size {
                                        for dx in 0..size {
                                            gi[corner + dy * inp.width + dx] += go[o] * scale;
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            });
    }
}

// ------------------------------------------------------------------ LIF

/// A layer of leaky integrate-and-fire neurons in discrete time, one per
/// input feature (any shape), optionally with all-to-all recurrent weights:
///
/// m[t] = beta m[t-1] + x[t] + V s[t-1] - reset,  s[t] = H(m[t] - threshold)
///
/// where the reset acts one step after the spike (`Reset`). Its output is the
/// spikes (0 or 1). The backward pass is backprop through time with the
/// surrogate derivative in place of H'; with `detach_reset` the reset is
/// treated as a constant (snnTorch's default), otherwise its gradient flows too.
#[derive(Debug, Clone)]
pub struct Lif {
    pub shape: Shape,
    pub beta: f32,
    pub threshold: f32,
    pub reset: Reset,
    pub surrogate: Surrogate,
    pub slope: f32,
    pub detach_reset: bool,
    /// A readout of leaky integrators: no threshold, and the output is the
    /// membrane potential instead of spikes.
    pub readout: bool,
    /// e-prop (Bellec et al. 2020): the gradient reaching a spike comes only
    /// from the layer above at the same step, not back through the recurrent
    /// weights from later steps. What remains of backprop through time, the
    /// membrane's own decay, is exactly the e-prop eligibility trace, so the
    /// weight changes equal e-prop's online sums of learning signal times
    /// eligibility trace.
    pub eprop: bool,
    /// Recurrent weights [n, n]: row i holds the inputs of neuron i.
    pub recurrent: Option<Param>,
    /// The membrane potential of every row from the last forward pass.
    pub membrane: Vec<f32>,
    /// The loss's gradient with respect to `membrane` (set by a membrane
    /// loss on the output layer; empty when there is none).
    pub membrane_grad: Vec<f32>,
    current: Vec<f32>,
    delta: Vec<f32>,
}

/// One task's piece of one step: membrane, spikes, input current.
type StepPiece<'a> = (&'a mut [f32], &'a mut [f32], &'a [f32]);

/// Elements per parallel task of the elementwise loops.
const ELEMENTS_PER_TASK: usize = 8192;

impl Lif {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        shape: Shape,
        beta: f32,
        threshold: f32,
        reset: Reset,
        surrogate: Surrogate,
        slope: f32,
        detach_reset: bool,
        recurrent: bool,
        rng: &mut impl Rng,
    ) -> Lif {
        let n = shape.len();
        Lif {
            shape,
            beta,
            threshold,
            reset,
            surrogate,
            slope,
            detach_reset,
            readout: false,
            eprop: false,
            recurrent: recurrent.then(|| Param::uniform(n * n, n, rng)),
            membrane: Vec::new(),
            membrane_grad: Vec::new(),
            current: Vec::new(),
            delta: Vec::new(),
        }
    }

    /// A layer of leaky integrators with decay `beta` whose output is their
    /// membrane potential (a readout).
    pub fn readout(shape: Shape, beta: f32) -> Lif {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(0);
        let mut lif = Lif::new(
            shape,
            beta,
            f32::INFINITY,
            Reset::None,
            Surrogate::FastSigmoid,
            1.0,
            true,
            false,
            &mut rng,
        );
        lif.readout = true;
        lif
    }

    /// `input` holds one block per step, or a single block (a static
    /// input) that drives every step.
    pub fn forward(&mut self, input: &[f32], spikes: &mut [f32], steps: usize) {
        let block = spikes.len() / steps;
        let static_input = input.len() == block && steps > 1;
        let x_at = |t: usize| {
            if static_input {
                input
            } else {
                &input[t * block..(t + 1) * block]
            }
        };
        let n = self.shape.len();
        let batch = block / n;
        self.membrane.resize(spikes.len(), 0.0);
        if self.recurrent.is_some() {
            self.current.resize(block, 0.0);
        }
        let (beta, threshold, reset) = (self.beta, self.threshold, self.reset);
        // One step of a piece of the layer from its state at the previous step.
        // (The reset is matched outside the loops so that they vectorise.)
        let step = |m: &mut [f32], s: &mut [f32], x: &[f32], m0: &[f32], s0: &[f32]| match reset {
            Reset::Subtract => lif_row(m, s, x, m0, s0, threshold, |m0, s0| beta * m0 - threshold * s0),
            Reset::Zero => lif_row(m, s, x, m0, s0, threshold, |m0, s0| beta * m0 * (1.0 - s0)),
            Reset::None => lif_row(m, s, x, m0, s0, threshold, |m0, _| beta * m0),
        };
        if self.recurrent.is_none() {
            // Without recurrence each element depends only on itself at the
            // previous step: one task scans its elements through all steps
            // (one dispatch per layer, and the state stays in cache).
            let chunks = block.div_ceil(ELEMENTS_PER_TASK);
            let mut tasks: Vec<Vec<StepPiece>> = (0..chunks).map(|_| Vec::with_capacity(steps)).collect();
            for (t, (m, s)) in self
                .membrane
                .chunks_mut(block)
                .zip(spikes.chunks_mut(block))
                .enumerate()
            {
                let x = x_at(t);
                let pieces = m
                    .chunks_mut(ELEMENTS_PER_TASK)
                    .zip(s.chunks_mut(ELEMENTS_PER_TASK))
                    .zip(x.chunks(ELEMENTS_PER_TASK));
                for (task, ((m, s), x)) in tasks.iter_mut().zip(pieces) {
                    task.push((m, s, x));
                }
            }
            tasks.into_par_iter().for_each(|mut task| {
                for t in 0..task.len() {
                    let (done, rest) = task.split_at_mut(t);
                    let (m, s, x) = &mut rest[0];
                    match done.last() {
                        None => {
                            for ((m, s), x) in m.iter_mut().zip(s.iter_mut()).zip(x.iter()) {
                                *m = *x;
                                *s = if *m > threshold { 1.0 } else { 0.0 };
                            }
                        }
                        Some((m0, s0, _)) => step(m, s, x, m0, s0),
                    }
                }
            });
            if self.readout {
                spikes.copy_from_slice(&self.membrane);
            }
            return;
        }
        for t in 0..steps {
            let (before, now) = self.membrane.split_at_mut(t * block);
            let membrane = &mut now[..block];
            let (spikes_before, spikes_now) = spikes.split_at_mut(t * block);
            let spikes_now = &mut spikes_now[..block];
            let mut x = x_at(t);
            if t > 0 {
                if let Some(v) = &self.recurrent {
                    self.current.copy_from_slice(x);
                    let previous = &spikes_before[(t - 1) * block..];
                    gemm(
                        batch,
                        n,
                        n,
                        previous,
                        Op::Normal,
                        &v.value,
                        Op::Transposed,
                        1.0,
                        &mut self.current,
                    );
                    x = &self.current;
                }
            }
            if t == 0 {
                membrane
                    .par_chunks_mut(ELEMENTS_PER_TASK)
                    .zip(spikes_now.par_chunks_mut(ELEMENTS_PER_TASK))
                    .zip(x.par_chunks(ELEMENTS_PER_TASK))
                    .for_each(|((m, s), x)| {
                        for ((m, s), x) in m.iter_mut().zip(s.iter_mut()).zip(x) {
                            *m = *x;
                            *s = if *m > threshold { 1.0 } else { 0.0 };
                        }
                    });
                continue;
            }
            let m_before = &before[(t - 1) * block..];
            let s_before = &spikes_before[(t - 1) * block..];
            membrane
                .par_chunks_mut(ELEMENTS_PER_TASK)
                .zip(spikes_now.par_chunks_mut(ELEMENTS_PER_TASK))
                .zip(x.par_chunks(ELEMENTS_PER_TASK))
                .zip(
                    m_before
                        .par_chunks(ELEMENTS_PER_TASK)
                        .zip(s_before.par_chunks(ELEMENTS_PER_TASK)),
                )
                .for_each(|(((m, s), x), (m0, s0))| step(m, s, x, m0, s0));
        }
        if self.readout {
            spikes.copy_from_slice(&self.membrane);
        }
    }

    /// Backprop through time: from the gradient of the spikes (and of the
    /// membrane, if a loss set it) to the gradient of the input current;
    /// accumulates the recurrent weights' gradient.
    pub fn backward(&mut self, spikes: &[f32], grad_spikes: &[f32], grad_input: Option<&mut [f32]>, steps: usize) {
        let rows_len = spikes.len();
        let block = rows_len / steps;
        let n = self.shape.len();
        let batch = block / n;
        self.delta.resize(rows_len, 0.0);
        let has_membrane_grad = self.membrane_grad.len() == rows_len;
        let (beta, threshold, reset) = (self.beta, self.threshold, self.reset);
        let detach = self.detach_reset || self.eprop;
        let readout = self.readout;
        let (surrogate, slope) = (self.surrogate, self.slope);
        let zeros = [0.0f32; 0];
        // delta[k] from the gradient reaching the spike (g), the membrane's
        // own gradient (g_m) and delta at the next step (dn).
        let element = |m: f32, s: f32, mut g: f32, g_m: f32, dn: Option<f32>| -> f32 {
            let mut carry = 0.0;
            if let Some(dn) = dn {
                carry = match reset {
                    Reset::Zero => beta * (1.0 - s) * dn,
                    _ => beta * dn,
                };
                if !detach {
                    g += match reset {
                        Reset::Subtract => -threshold * dn,
                        Reset::Zero => -beta * m * dn,
                        Reset::None => 0.0,
                    };
                }
            }
            let through_spike = if readout {
                g
            } else {
                g * surrogate.derivative(slope, m - threshold)
            };
            through_spike + carry + g_m
        };
        // The common case (a spiking layer whose reset is detached or absent)
        // has a branch-free loop.
        let fast = !readout && detach && matches!(reset, Reset::Subtract | Reset::None);
        if self.recurrent.is_none() {
            // As in `forward`: one task scans its elements through all steps.
            let chunks = block.div_ceil(ELEMENTS_PER_TASK);
            let mut tasks: Vec<Vec<&mut [f32]>> = (0..chunks).map(|_| Vec::with_capacity(steps)).collect();
            for d in self.delta.chunks_mut(block) {
                for (task, piece) in tasks.iter_mut().zip(d.chunks_mut(ELEMENTS_PER_TASK)) {
                    task.push(piece);
                }
            }
            let (membrane, membrane_grad) = (&self.membrane, &self.membrane_grad);
            tasks.into_par_iter().enumerate().for_each(|(chunk, mut task)| {
                let start = chunk * ELEMENTS_PER_TASK;
                for t in (0..steps).rev() {
                    let (now, after) = task.split_at_mut(t + 1);
                    let delta = &mut now[t];
                    let next = after.first().map(|d| &d[..]);
                    let base = t * block + start;
                    let range = base..base + delta.len();
                    if fast {
                        let (m, g) = (&membrane[range.clone()], &grad_spikes[range.clone()]);
                        match surrogate {
                            Surrogate::FastSigmoid => delta_row(delta, m, g, next, beta, |u| {
                                let d = 1.0 + slope * (u - threshold).abs();
                                1.0 / (d * d)
                            }),
                            other => delta_row(delta, m, g, next, beta, |u| other.derivative(slope, u - threshold)),
                        }
                        if has_membrane_grad {
                            add(delta, &membrane_grad[range]);
                        }
                        continue;
                    }
                    for (i, d) in delta.iter_mut().enumerate() {
                        let k = base + i;
                        let g_m = if has_membrane_grad { membrane_grad[k] } else { 0.0 };
                        *d = element(membrane[k], spikes[k], grad_spikes[k], g_m, next.map(|n| n[i]));
                    }
                }
            });
            write_grad_input(&self.delta, grad_input, steps);
            return;
        }
        for t in (0..steps).rev() {
            let (now, after) = self.delta.split_at_mut((t + 1) * block);
            let delta = &mut now[t * block..];
            let next: &[f32] = if t + 1 < steps { &after[..block] } else { &zeros };
            // Gradient reaching s[t]: from the layer above, and through the
            // recurrent weights from m[t+1].
            let mut g_s = &grad_spikes[t * block..(t + 1) * block];
            if let (Some(v), false, false) = (&self.recurrent, next.is_empty(), self.eprop) {
                self.current.resize(block, 0.0);
                self.current.copy_from_slice(g_s);
                gemm(
                    batch,
                    n,
                    n,
                    next,
                    Op::Normal,
                    &v.value,
                    Op::Normal,
                    1.0,
                    &mut self.current,
                );
                g_s = &self.current;
            }
            let m = &self.membrane[t * block..(t + 1) * block];
            let s = &spikes[t * block..(t + 1) * block];
            let g_m = if has_membrane_grad {
                &self.membrane_grad[t * block..(t + 1) * block]
            } else {
                &zeros[..]
            };
            delta
                .par_chunks_mut(ELEMENTS_PER_TASK)
                .enumerate()
                .for_each(|(chunk, delta)| {
                    let start = chunk * ELEMENTS_PER_TASK;
                    for (i, d) in delta.iter_mut().enumerate() {
                        let k = start + i;
                        let g_m = if g_m.is_empty() { 0.0 } else { g_m[k] };
                        let dn = if next.is_empty() { None } else { Some(next[k]) };
                        *d = element(m[k], s[k], g_s[k], g_m, dn);
                    }
                });
        }
        if let Some(v) = &mut self.recurrent {
            if steps > 1 {
                gemm(
                    n,
                    (steps - 1) * batch,
                    n,
                    &self.delta[block..],
                    Op::Transposed,
                    &spikes[..(steps - 1) * block],
                    Op::Normal,
                    1.0,
                    &mut v.grad,
                );
            }
        }
        write_grad_input(&self.delta, grad_input, steps);
    }
}

/// The gradient of a LIF layer's input from its membrane deltas: the same
/// rows, or for a static input (one block for all steps) their sum over steps.
/// One step of a row of LIF neurons: m = carried(m0, s0) + x, s = H(m - threshold).
#[inline]
fn lif_row(
    m: &mut [f32],
    s: &mut [f32],
    x: &[f32],
    m0: &[f32],
    s0: &[f32],
    threshold: f32,
    carried: impl Fn(f32, f32) -> f32,
) {
    for ((((m, s), x), m0), s0) in m.iter_mut().zip(s.iter_mut()).zip(x).zip(m0).zip(s0) {
        *m = carried(*m0, *s0) + x;
        *s = if *m > threshold { 1.0 } else { 0.0 };
    }
}

/// delta = g surrogate'(m) + beta delta_next, for a spiking layer whose
/// reset passes no gradient.
#[inline]
fn delta_row(
    delta: &mut [f32],
    m: &[f32],
    g: &[f32],
    next: Option<&[f32]>,
    beta: f32,
    derivative: impl Fn(f32) -> f32,
) {
    match next {
        Some(next) => {
            for (((d, m), g), n) in delta.iter_mut().zip(m).zip(g).zip(next) {
                *d = g * derivative(*m) + beta * n;
            }
        }
        None => {
            for ((d, m), g) in delta.iter_mut().zip(m).zip(g) {
                *d = g * derivative(*m);
            }
        }
    }
}

fn write_grad_input(delta: &[f32], grad_input: Option<&mut [f32]>, steps: usize) {
    let Some(grad_input) = grad_input else { return };
    if grad_input.len() == delta.len() {
        grad_input.copy_from_slice(delta);
        return;
    }
    let block = grad_input.len();
    grad_input
        .par_chunks_mut(ELEMENTS_PER_TASK)
        .enumerate()
        .for_each(|(chunk, g)| {
            let start = chunk * ELEMENTS_PER_TASK;
            g.copy_from_slice(&delta[start..start + g.len()]);
            for t in 1..steps {
                let d = &delta[t * block + start..][..g.len()];
                for (g, d) in g.iter_mut().zip(d) {
                    *g += d;
                }
            }
        });
}

// ------------------------------------------------------------- ReLU

pub fn relu_forward(input: &[f32], output: &mut [f32]) {
    output
        .par_chunks_mut(ELEMENTS_PER_TASK)
        .zip(input.par_chunks(ELEMENTS_PER_TASK))
        .for_each(|(y, x)| {
            for (y, x) in y.iter_mut().zip(x) {
                *y = x.max(0.0);
            }
        });
}

pub fn relu_backward(input: &[f32], grad_output: &[f32], grad_input: &mut [f32]) {
    grad_input
        .par_chunks_mut(ELEMENTS_PER_TASK)
        .zip(
            input
                .par_chunks(ELEMENTS_PER_TASK)
                .zip(grad_output.par_chunks(ELEMENTS_PER_TASK)),
        )
        .for_each(|(gi, (x, go))| {
            for ((gi, x), go) in gi.iter_mut().zip(x).zip(go) {
                *gi = if *x > 0.0 { *go } else { 0.0 };
            }
        });
}

// -------------------------------------------------------------- dropout

/// Inverted dropout (Srivastava et al. 2014): while training, each element
/// is zeroed with probability `rate` and the others scaled by 1 / (1 - rate);
/// at test time the layer passes its input through. Each row's mask comes
/// from its own stream (seed, row), so masks do not depend on the threads.
#[derive(Debug, Clone)]
pub struct Dropout {
    pub rate: f32,
    pub shape: Shape,
    mask: Vec<f32>,
}

impl Dropout {
    pub fn new(rate: f32, shape: Shape) -> Dropout {
        Dropout {
            rate,
            shape,
            mask: Vec::new(),
        }
    }

    /// `seed`: Some while training (a fresh one per batch), None to pass through.
    pub fn forward(&mut self, input: &[f32], output: &mut [f32], seed: Option<u64>) {
        let Some(seed) = seed.filter(|_| self.rate > 0.0) else {
            self.mask.clear();
            output.copy_from_slice(input);
            return;
        };
        let n = self.shape.len();
        let (rate, scale) = (self.rate, 1.0 / (1.0 - self.rate));
        self.mask.resize(input.len(), 0.0);
        self.mask
            .par_chunks_mut(n)
            .zip(output.par_chunks_mut(n).zip(input.par_chunks(n)))
            .enumerate()
            .for_each(|(row, (mask, (y, x)))| {
                let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(
                    seed ^ (row as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
                );
                for ((m, y), x) in mask.iter_mut().zip(y.iter_mut()).zip(x) {
                    *m = if rng.gen::<f32>() < rate { 0.0 } else { scale };
                    *y = x * *m;
                }
            });
    }

    pub fn backward(&self, grad_output: &[f32], grad_input: &mut [f32]) {
        if self.mask.is_empty() {
            grad_input.copy_from_slice(grad_output);
            return;
        }
        for ((g, go), m) in grad_input.iter_mut().zip(grad_output).zip(&self.mask) {
            *g = go * m;
        }
    }
}
