//! A feed-forward stack of layers (spiking layers may be recurrent within
//! themselves), its forward pass over `steps x batch` rows, and its backward
//! pass by the chosen credit assignment.

use super::gemm::{gemm, Op};
use super::layers::{relu_backward, relu_forward, Conv2d, Dense, Dropout, Lif, Param, Pool, PoolKind, Shape};
use rand::Rng;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone)]
pub enum Layer {
    Dense(Dense),
    Conv(Conv2d),
    Pool(Pool),
    Relu(Shape),
    Flatten(Shape),
    Dropout(Dropout),
    Lif(Lif),
}

impl Layer {
    pub fn kind(&self) -> &'static str {
        match self {
            Layer::Dense(_) => "dense",
            Layer::Conv(_) => "conv2d",
            Layer::Pool(p) => match p.kind {
                super::layers::PoolKind::Max => "max_pool",
                super::layers::PoolKind::Average => "avg_pool",
            },
            Layer::Relu(_) => "relu",
            Layer::Flatten(_) => "flatten",
            Layer::Dropout(_) => "dropout",
            Layer::Lif(l) if l.readout => "leaky",
            Layer::Lif(l) if l.recurrent.is_some() => "lif (recurrent)",
            Layer::Lif(_) => "lif",
        }
    }

    pub fn output_shape(&self) -> Shape {
        match self {
            Layer::Dense(d) => Shape::flat(d.units),
            Layer::Conv(c) => c.output,
            Layer::Pool(p) => p.output,
            Layer::Relu(s) | Layer::Flatten(s) => *s,
            Layer::Dropout(d) => d.shape,
            Layer::Lif(l) => l.shape,
        }
    }

    /// Its trainable tensors, in a fixed order.
    pub fn params_mut(&mut self) -> Vec<&mut Param> {
        match self {
            Layer::Dense(d) => vec![&mut d.weight, &mut d.bias],
            Layer::Conv(c) => vec![&mut c.weight, &mut c.bias],
            Layer::Lif(l) => l.recurrent.iter_mut().collect(),
            _ => Vec::new(),
        }
    }

    pub fn params(&self) -> Vec<&Param> {
        match self {
            Layer::Dense(d) => vec![&d.weight, &d.bias],
            Layer::Conv(c) => vec![&c.weight, &c.bias],
            Layer::Lif(l) => l.recurrent.iter().collect(),
            _ => Vec::new(),
        }
    }

    fn has_weights(&self) -> bool {
        matches!(self, Layer::Dense(_) | Layer::Conv(_))
    }

    /// A nonlinearity: where direct feedback alignment delivers the error.
    fn is_nonlinear(&self) -> bool {
        matches!(self, Layer::Relu(_) | Layer::Lif(_))
    }
}

/// How the error reaches the hidden layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CreditAssignment {
    /// Exact gradients (through time for spiking layers).
    Backprop,
    /// Lillicrap et al. 2016: the backward pass through each weight layer
    /// uses a fixed random matrix instead of the transposed weights.
    FeedbackAlignment,
    /// Nøkland 2016: the output error goes straight to each hidden layer's
    /// output through a fixed random matrix; nothing passes between hidden
    /// layers.
    DirectFeedbackAlignment,
    /// Bellec et al. 2020 (symmetric e-prop): each spiking layer learns from
    /// eligibility traces times the learning signal its neurons get at the
    /// same step; nothing is propagated back in time through recurrent weights.
    Eprop,
    /// Local losses (Mostafa, Ramesh & Cauwenberghs 2018; DECOLLE, Kaiser
    /// et al. 2020): each hidden block learns from its own cost on a fixed
    /// random readout of its output (its `local_loss`: cross-entropy or
    /// squared error), the last block from the network's loss; no error
    /// passes between blocks.
    LocalLosses,
}

/// The cost a hidden layer's fixed random readout minimises under local losses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocalLoss {
    CrossEntropy,
    /// Squared error against the one-hot label.
    MeanSquaredError,
}

pub struct Network {
    pub input: Shape,
    pub steps: usize,
    pub layers: Vec<Layer>,
    pub credit: CreditAssignment,
    /// Direct feedback alignment: for the output of layer i (a hidden
    /// nonlinearity), the fixed matrix [classes, size] that carries the error.
    direct_feedback: Vec<Option<Vec<f32>>>,
    /// activations[0] is the input; activations[i + 1] the output of layer i.
    activations: Vec<Vec<f32>>,
    /// grads[i]: the loss's gradient with respect to activations[i].
    grads: Vec<Vec<f32>>,
    /// With an input that is the same at every step (analog encoding), the
    /// layers before the first LIF layer see one row per sample, not one per
    /// step: the LIF layer takes their output as the input of every step and
    /// returns the gradient summed over the steps.
    static_prefix: usize,
    /// Direct feedback alignment into the static prefix: the error summed over steps.
    summed_error: Vec<f32>,
    /// Local losses: for the output of layer i, its cost and fixed readout
    /// [classes, size].
    local_readouts: Vec<Option<(LocalLoss, Vec<f32>)>>,
    /// The labels of the batch (for local losses).
    labels: Vec<u8>,
    /// While training: the seed of this batch's dropout masks.
    dropout_seed: Option<u64>,
    /// fused[i]: the last forward pass ran layer i (a convolution) and
    /// layer i + 1 (max pooling) as one (its output, activations[i + 1], is
    /// empty), and the backward pass does the same.
    fused: Vec<bool>,
    /// Seconds spent in each layer's forward and backward pass since
    /// `reset_profile`: where a network's time goes.
    profile: Vec<LayerTime>,
}

/// A layer's share of the time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct LayerTime {
    pub forward_s: f64,
    pub backward_s: f64,
}

impl Network {
    pub fn new(
        input: Shape,
        steps: usize,
        layers: Vec<Layer>,
        credit: CreditAssignment,
        rng: &mut impl Rng,
    ) -> Network {
        let mut layers = layers;
        let classes = layers.last().map(|l| l.output_shape().len()).unwrap_or(0);
        let last_weights = layers.iter().rposition(Layer::has_weights).unwrap_or(0);
        let mut direct_feedback = vec![None; layers.len()];
        match credit {
            CreditAssignment::Backprop => {}
            CreditAssignment::Eprop => {
                for layer in &mut layers {
                    if let Layer::Lif(l) = layer {
                        l.eprop = true;
                    }
                }
            }
            CreditAssignment::FeedbackAlignment => {
                for layer in &mut layers {
                    match layer {
                        Layer::Dense(d) => d.use_feedback_alignment(rng),
                        Layer::Conv(c) => c.use_feedback_alignment(rng),
                        _ => {}
                    }
                }
            }
            CreditAssignment::LocalLosses => {}
            CreditAssignment::DirectFeedbackAlignment => {
                for (i, layer) in layers.iter().enumerate().take(last_weights) {
                    if layer.is_nonlinear() {
                        let size = layer.output_shape().len();
                        let bound = 1.0 / (classes as f32).sqrt();
                        direct_feedback[i] = Some((0..classes * size).map(|_| rng.gen_range(-bound..bound)).collect());
                    }
                }
            }
        }
        let n = layers.len();
        Network {
            input,
            steps,
            layers,
            credit,
            direct_feedback,
            activations: vec![Vec::new(); n + 1],
            grads: vec![Vec::new(); n + 1],
            static_prefix: 0,
            summed_error: Vec::new(),
            local_readouts: vec![None; n],
            labels: Vec::new(),
            dropout_seed: None,
            profile: vec![LayerTime::default(); n],
            fused: vec![false; n],
        }
    }

    pub fn reset_profile(&mut self) {
        self.profile.fill(LayerTime::default());
    }

    /// Per layer, the seconds of its forward and backward passes since `reset_profile`.
    pub fn profile(&self) -> &[LayerTime] {
        &self.profile
    }

    /// Local losses: the cost of each layer's readout (`None` for the default,
    /// cross-entropy); a fixed random readout is drawn for every hidden
    /// nonlinearity below the last weight layer.
    pub fn set_local_losses(&mut self, costs: &[Option<LocalLoss>], rng: &mut impl Rng) {
        let classes = self.classes();
        let last_weights = self.layers.iter().rposition(Layer::has_weights).unwrap_or(0);
        for (i, layer) in self.layers.iter().enumerate().take(last_weights) {
            if layer.is_nonlinear() {
                let size = layer.output_shape().len();
                let bound = 1.0 / (size as f32).sqrt();
                let readout = (0..classes * size).map(|_| rng.gen_range(-bound..bound)).collect();
                let cost = costs.get(i).copied().flatten().unwrap_or(LocalLoss::CrossEntropy);
                self.local_readouts[i] = Some((cost, readout));
            }
        }
    }

    /// Some(seed) while training a batch (dropout draws its masks from it),
    /// None for testing (dropout passes its input through).
    pub fn set_dropout_seed(&mut self, seed: Option<u64>) {
        self.dropout_seed = seed;
    }

    /// The fixed readout [classes, size] of layer i's local loss, if any.
    pub fn local_readout(&self, i: usize) -> Option<&[f32]> {
        self.local_readouts[i].as_ref().map(|(_, r)| &r[..])
    }

    /// The labels of the batch being trained (local losses need them).
    pub fn set_labels(&mut self, labels: &[u8]) {
        self.labels.clear();
        self.labels.extend_from_slice(labels);
    }

    /// Declares the input the same at every step (or not): the layers before
    /// the first LIF layer then run once per sample instead of once per step.
    /// The results are the same; the work of those layers is `steps` times less.
    pub fn set_static_input(&mut self, on: bool) {
        self.static_prefix = match self.layers.iter().position(|l| matches!(l, Layer::Lif(_))) {
            Some(first_lif) if on && self.steps > 1 => first_lif,
            _ => 0,
        };
    }

    /// Rows of the input of layer i for `batch` samples.
    fn rows_into(&self, i: usize, batch: usize) -> usize {
        if i < self.static_prefix {
            batch
        } else {
            self.steps * batch
        }
    }

    pub fn classes(&self) -> usize {
        self.layers.last().map(|l| l.output_shape().len()).unwrap_or(0)
    }

    /// The input buffer for `batch` samples (steps x batch rows), to fill
    /// before `forward`.
    /// With a static input (`set_static_input`), one row per sample.
    pub fn input_mut(&mut self, batch: usize) -> &mut [f32] {
        let len = self.rows_into(0, batch) * self.input.len();
        self.activations[0].resize(len, 0.0);
        &mut self.activations[0]
    }

    /// Runs the input through every layer; returns the output rows.
    pub fn forward(&mut self, batch: usize) -> &[f32] {
        let prefix = self.static_prefix;
        self.fused.fill(false);
        for i in 0..self.layers.len() {
            let rows = if i < prefix { batch } else { self.steps * batch };
            if i > 0 && self.fused[i - 1] {
                continue;
            }
            if self.try_fused_conv_pool(i, rows) {
                continue;
            }
            let (before, after) = self.activations.split_at_mut(i + 1);
            // The first LIF layer takes a static prefix's one row per sample
            // as the input of every step.
            let input = &before[i];
            let layer = &mut self.layers[i];
            let output = &mut after[0];
            output.resize(rows * layer.output_shape().len(), 0.0);
            let started = std::time::Instant::now();
            match layer {
                Layer::Dense(d) => d.forward(input, output),
                Layer::Conv(c) => c.forward(input, output),
                Layer::Pool(p) => p.forward(input, output),
                Layer::Relu(_) => relu_forward(input, output),
                Layer::Flatten(_) => output.copy_from_slice(input),
                Layer::Dropout(d) => d.forward(input, output, self.dropout_seed),
                Layer::Lif(l) => l.forward(input, output, self.steps),
            }
            self.profile[i].forward_s += started.elapsed().as_secs_f64();
        }
        &self.activations[self.layers.len()]
    }

    /// A convolution at layer i followed by max pooling, on a sparse
    /// batch: both in one pass (`Conv2d::forward_max_pooled`); the
    /// convolution's own output is then not written.
    fn try_fused_conv_pool(&mut self, i: usize, rows: usize) -> bool {
        let (layer, above) = self.layers[i..].split_at_mut(1);
        let (Layer::Conv(conv), Some(Layer::Pool(pool))) = (&mut layer[0], above.first_mut()) else {
            return false;
        };
        if pool.kind != PoolKind::Max
            || pool.size == 0
            || pool.input.height % pool.size != 0
            || pool.input.width % pool.size != 0
        {
            return false;
        }
        let started = std::time::Instant::now();
        let (before, after) = self.activations.split_at_mut(i + 1);
        let pooled = &mut after[1];
        pooled.resize(rows * pool.output.len(), 0.0);
        if !conv.forward_max_pooled(&before[i], pool, pooled) {
            return false;
        }
        after[0].clear();
        self.fused[i] = true;
        self.profile[i].forward_s += started.elapsed().as_secs_f64();
        true
    }

    pub fn output(&self) -> &[f32] {
        &self.activations[self.layers.len()]
    }

    /// The output layer's membrane potentials, if it is a spiking LIF layer.
    pub fn output_membrane(&self) -> Option<&[f32]> {
        match self.layers.last() {
            Some(Layer::Lif(l)) if !l.readout => Some(&l.membrane),
            _ => None,
        }
    }

    /// The buffers a loss writes: the gradient of the output, and of the
    /// output layer's membrane (if it is a LIF layer).
    pub fn loss_grads_mut(&mut self) -> (&mut Vec<f32>, Option<&mut Vec<f32>>) {
        let n = self.layers.len();
        let len = self.activations[n].len();
        self.grads[n].resize(len, 0.0);
        let membrane = match self.layers.last_mut() {
            Some(Layer::Lif(l)) if !l.readout => Some(&mut l.membrane_grad),
            _ => None,
        };
        (&mut self.grads[n], membrane)
    }

    pub fn zero_grads(&mut self) {
        for layer in &mut self.layers {
            for p in layer.params_mut() {
                p.grad.fill(0.0);
            }
        }
    }

    /// Accumulates the parameter gradients from the loss's gradients (set
    /// through `loss_grads_mut`) by the network's credit assignment.
    pub fn backward(&mut self) {
        let n = self.layers.len();
        match self.credit {
            CreditAssignment::Backprop | CreditAssignment::FeedbackAlignment | CreditAssignment::Eprop => {
                self.backward_range(0, n)
            }
            CreditAssignment::LocalLosses => {
                let last_weights = self.layers.iter().rposition(Layer::has_weights).unwrap_or(0);
                let block_start = self.block_start(last_weights);
                self.backward_range(block_start, n);
                let mut end = block_start;
                while end > 0 {
                    let top = end - 1;
                    let start = self.block_start(top);
                    self.local_loss_gradient(top);
                    self.backward_range(start, end);
                    end = start;
                }
            }
            CreditAssignment::DirectFeedbackAlignment => {
                // The output block: from the output down to the last weight
                // layer, whose output gradient is the error e.
                let last_weights = self.layers.iter().rposition(Layer::has_weights).unwrap_or(0);
                let block_start = self.block_start(last_weights);
                self.backward_range(block_start, n);
                let rows = self.activations[last_weights + 1].len() / self.classes().max(1);
                let classes = self.classes();
                // Each hidden block gets B_i e at its nonlinearity's output.
                let mut end = block_start;
                while end > 0 {
                    let top = end - 1;
                    let start = self.block_start(top);
                    if let Some(b) = &self.direct_feedback[top] {
                        let size = self.layers[top].output_shape().len();
                        let (lower, upper) = self.grads.split_at_mut(last_weights + 1);
                        let mut error = &upper[0];
                        let mut rows = rows;
                        if top < self.static_prefix {
                            // A layer that runs once per sample gets the error summed over steps.
                            sum_over_steps(error, self.steps, &mut self.summed_error);
                            error = &self.summed_error;
                            rows /= self.steps;
                        }
                        let target = &mut lower[top + 1];
                        target.resize(rows * size, 0.0);
                        gemm(rows, classes, size, error, Op::Normal, b, Op::Normal, 0.0, target);
                        self.backward_range(start, end);
                    }
                    end = start;
                }
            }
        }
        if let Some(Layer::Lif(l)) = self.layers.last_mut() {
            l.membrane_grad.clear();
        }
    }

    /// The first layer of the block that ends at layer `end` (blocks are cut
    /// after each nonlinearity: where DFA and local losses deliver errors).
    fn block_start(&self, end: usize) -> usize {
        self.layers[..end]
            .iter()
            .rposition(Layer::is_nonlinear)
            .map_or(0, |i| i + 1)
    }

    /// grads[top + 1] from the local loss of layer top's readout.
    fn local_loss_gradient(&mut self, top: usize) {
        let classes = self.classes();
        let (cost, readout) = self.local_readouts[top]
            .as_ref()
            .expect("drawn for every hidden nonlinearity");
        let h = &self.activations[top + 1];
        let size = self.layers[top].output_shape().len();
        let rows = h.len() / size;
        let batch = self.labels.len();
        let mut logits = vec![0.0f32; rows * classes];
        gemm(
            rows,
            size,
            classes,
            h,
            Op::Normal,
            readout,
            Op::Transposed,
            0.0,
            &mut logits,
        );
        for (row, z) in logits.chunks_exact_mut(classes).enumerate() {
            let label = self.labels[row % batch] as usize;
            match cost {
                LocalLoss::CrossEntropy => {
                    let max = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                    let sum: f32 = z.iter().map(|x| (x - max).exp()).sum();
                    for (c, x) in z.iter_mut().enumerate() {
                        let p = (*x - max).exp() / sum;
                        *x = (p - if c == label { 1.0 } else { 0.0 }) / rows as f32;
                    }
                }
                LocalLoss::MeanSquaredError => {
                    for (c, x) in z.iter_mut().enumerate() {
                        *x = 2.0 * (*x - if c == label { 1.0 } else { 0.0 }) / (rows * classes) as f32;
                    }
                }
            }
        }
        let target = &mut self.grads[top + 1];
        target.resize(rows * size, 0.0);
        gemm(
            rows,
            classes,
            size,
            &logits,
            Op::Normal,
            readout,
            Op::Normal,
            0.0,
            target,
        );
    }

    /// Backward through layers start..end, from grads[end]; the gradient of
    /// activations[start] is computed only if start > 0 is not a block edge
    /// (never for start = 0, the input).
    fn backward_range(&mut self, start: usize, end: usize) {
        let steps = self.steps;
        for i in (start..end).rev() {
            if i > 0 && self.fused[i - 1] {
                // Max pooling fused into the convolution below it.
                debug_assert!(i > start, "a block never starts between a convolution and its pooling");
                continue;
            }
            // The input's gradient only matters to parameters below.
            let want_input = self.layers[start..i].iter().any(|l| !l.params().is_empty());
            if self.fused[i] {
                let started = std::time::Instant::now();
                let (grads_lower, grads_upper) = self.grads.split_at_mut(i + 1);
                if want_input {
                    grads_lower[i].resize(self.activations[i].len(), 0.0);
                }
                let grad_in = want_input.then_some(&mut grads_lower[i][..]);
                let (layer, above) = self.layers[i..].split_at_mut(1);
                if let (Layer::Conv(conv), Layer::Pool(pool)) = (&mut layer[0], &above[0]) {
                    conv.backward_max_pooled(&self.activations[i], pool, &grads_upper[1], grad_in);
                }
                self.profile[i].backward_s += started.elapsed().as_secs_f64();
                continue;
            }
            let (grads_lower, grads_upper) = self.grads.split_at_mut(i + 1);
            let grad_output = &grads_upper[0];
            let (input, grad_input) = (&self.activations[i], &mut grads_lower[i]);
            if want_input {
                grad_input.resize(input.len(), 0.0);
            }
            let output = &self.activations[i + 1];
            let grad_in = want_input.then_some(&mut grad_input[..]);
            let started = std::time::Instant::now();
            match &mut self.layers[i] {
                Layer::Dense(d) => d.backward(input, grad_output, grad_in),
                Layer::Conv(c) => c.backward(input, grad_output, grad_in),
                Layer::Pool(p) => {
                    if let Some(g) = grad_in {
                        p.backward(grad_output, g)
                    }
                }
                Layer::Relu(_) => {
                    if let Some(g) = grad_in {
                        relu_backward(input, grad_output, g)
                    }
                }
                Layer::Flatten(_) => {
                    if let Some(g) = grad_in {
                        g.copy_from_slice(grad_output)
                    }
                }
                Layer::Dropout(d) => {
                    if let Some(g) = grad_in {
                        d.backward(grad_output, g)
                    }
                }
                Layer::Lif(l) => l.backward(output, grad_output, grad_in, steps),
            }
            self.profile[i].backward_s += started.elapsed().as_secs_f64();
        }
    }

    pub fn params_mut(&mut self) -> Vec<&mut Param> {
        self.layers.iter_mut().flat_map(Layer::params_mut).collect()
    }

    pub fn params(&self) -> Vec<&Param> {
        self.layers.iter().flat_map(Layer::params).collect()
    }

    /// Weights and biases in all.
    pub fn parameter_count(&self) -> usize {
        self.params().iter().map(|p| p.value.len()).sum()
    }

    /// A one-line description: `784 -> dense 800 -> relu -> dense 10`.
    pub fn describe(&self) -> String {
        let mut s = format!("{}", self.input);
        for layer in &self.layers {
            s.push_str(&format!(" -> {} {}", layer.kind(), layer.output_shape()));
        }
        s
    }
}

/// `out[b] = sum over t of rows[t * batch + b]`, in step order.
fn sum_over_steps(rows: &[f32], steps: usize, out: &mut Vec<f32>) {
    let block = rows.len() / steps;
    out.resize(block, 0.0);
    out.copy_from_slice(&rows[..block]);
    for t in 1..steps {
        for (o, x) in out.iter_mut().zip(&rows[t * block..(t + 1) * block]) {
            *o += x;
        }
    }
}
