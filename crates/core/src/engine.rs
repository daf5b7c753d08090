//! The clock-driven engine: a `Network` is built once for its time step into a
//! `Simulation` (propagators, synapse tables, chunked state), then stepped.
//!
//! Step order for step `t` (one parallel pass over chunks, then monitors):
//! 1. deliver: every chunk adds the spikes emitted in step `t - 1` by the
//!    populations projecting to it into its ring buffer, at slot
//!    `t - 1 + delay` (delays are at least one step, so nothing is due now);
//! 2. update: the inputs due in step `t` are taken from the ring, the state is
//!    advanced over dt, and neurons crossing threshold spike and reset;
//! 3. swap: the spikes of step `t` become the ones delivered in `t + 1`;
//! 4. monitors: spikes, rates and state samples of step `t` are recorded.
//!
//! A spike emitted in step `t` with a delay of `d` steps first acts in step
//! `t + d`. Each chunk owns its state, ring buffer and random stream, and a
//! postsynaptic neuron receives inputs in the order of the presynaptic
//! indices, so the results are bit-identical for any number of threads.

use crate::connect::{self, chunk_ranges, BuildContext, ChunkRows, SynapseTable};
use crate::error::SimulationError;
use crate::model::{Network, NeuronSelection, Population, Precision, Receptor, SynapseModel};
use crate::neuron::{LifChunk, LifKernel, LifState, NeuronChunk, Real};
use crate::plasticity::PlasticityKernel;
use crate::rng::{open_unit, stream, Purpose, Stream};
use crate::team::Team;
use rayon::prelude::*;
use std::time::Instant;

/// Below this much work per step (in current-based LIF neuron updates, see
/// `update_cost`) a step is too short to be worth splitting across threads;
/// chunking (and so every result) stays the same. Measured with 2 threads:
/// CUBA at 4,000 neurons gains nothing, COBA at 4,000 (an exponential per
/// neuron) runs 1.3x faster.
const PARALLEL_MIN_WORK: usize = 6_000;

// One per population and one state per chunk: their sizes do not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
enum Kernel {
    Lif(LifKernel),
    /// Any other neuron model: its chunks carry their compiled parameters.
    Model,
    Poisson {
        /// (first step, spike probability per step), in time order.
        schedule: Vec<(u64, f64)>,
    },
    SpikeTimes,
}

#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
enum ChunkState {
    Lif(LifChunk),
    Model {
        neurons: Box<dyn NeuronChunk>,
        delayed: DelayedInput,
    },
    Poisson {
        cursor: usize,
        /// Rates set at run time (`Simulation::set_rates`): the neurons
        /// that can fire, with their spike probability per step.
        per_neuron: Option<Vec<(u32, f64)>>,
    },
    SpikeTimes {
        events: Vec<(u64, u32)>,
        cursor: usize,
    },
}

/// Rough cost of one neuron's step relative to a current-based LIF neuron
/// (three multiply-adds): conductance-based LIF and the other models take an
/// exponential or more per neuron; generators next to nothing.
fn update_cost(kernel: &Kernel) -> usize {
    match kernel {
        Kernel::Lif(lif) if lif.synapse == SynapseModel::ConductanceExp => 4,
        Kernel::Lif(_) => 1,
        Kernel::Model => 4,
        Kernel::Poisson { .. } | Kernel::SpikeTimes => 0,
    }
}

/// Spike statistics of one neuron, kept online so that rates and CVs need no
/// spike recording. One record per neuron, not one array per field: a spike
/// touches one cache line instead of four.
#[derive(Debug, Clone, Copy, Default)]
struct NeuronStats {
    count: u32,
    last: u64,
    isi_sum: f64,
    isi_sq: f64,
}

#[derive(Debug, Clone)]
struct SpikeStats(Vec<NeuronStats>);

impl SpikeStats {
    fn new(len: usize) -> Self {
        SpikeStats(vec![NeuronStats::default(); len])
    }

    #[inline]
    fn record(&mut self, j: usize, step: u64) {
        let s = &mut self.0[j];
        if s.count > 0 {
            let isi = (step - s.last) as f64;
            s.isi_sum += isi;
            s.isi_sq += isi * isi;
        }
        s.count += 1;
        s.last = step;
    }
}

/// Buffers reused by every step's delivery (they stop growing after the
/// first busy steps, so the step loop does not allocate).
#[derive(Debug, Clone, Default)]
struct DeliveryScratch {
    segments: Vec<std::ops::Range<usize>>,
}

/// Inputs of a `NeuronChunk` due in later steps (delays of two steps or
/// more): `slots` rows of `len` neurons per receptor, row `t % slots` due in
/// step `t`.
#[derive(Debug)]
struct DelayedInput {
    slots: usize,
    exc: Vec<f64>,
    inh: Vec<f64>,
}

impl DelayedInput {
    fn new(slots: usize, len: usize) -> Self {
        DelayedInput {
            slots,
            exc: vec![0.0; slots * len],
            inh: vec![0.0; slots * len],
        }
    }

    fn add(&mut self, exc: bool, arrival_step: u64, j: usize, len: usize, w: f64) {
        let at = (arrival_step % self.slots as u64) as usize * len + j;
        if exc {
            self.exc[at] += w;
        } else {
            self.inh[at] += w;
        }
    }

    /// Hands the inputs due in `step` to the neurons and clears their row.
    fn release(&mut self, step: u64, neurons: &mut dyn NeuronChunk) {
        if self.slots == 0 {
            return;
        }
        let len = neurons.len();
        let row = (step % self.slots as u64) as usize * len..((step % self.slots as u64) as usize + 1) * len;
        for (j, (e, i)) in self.exc[row.clone()].iter_mut().zip(&mut self.inh[row]).enumerate() {
            if *e != 0.0 {
                neurons.add_input(true, j, *e);
                *e = 0.0;
            }
            if *i != 0.0 {
                neurons.add_input(false, j, *i);
                *i = 0.0;
            }
        }
    }
}

#[derive(Debug)]
struct Chunk {
    population: usize,
    /// Index of this chunk within its population.
    index: usize,
    start: usize,
    len: usize,
    rng: Stream,
    state: ChunkState,
    stats: SpikeStats,
    /// Population indices of the neurons that spiked in the current step.
    out: Vec<u32>,
    scratch: DeliveryScratch,
    fault: bool,
    /// The plastic synapses ending in this chunk, one entry per incoming
    /// plastic projection.
    plastic: Vec<PlasticSynapses>,
    /// This step's plastic input per neuron, excitatory and inhibitory.
    plastic_input: [Vec<f64>; 2],
}

/// The synapses of one plastic projection that end in one chunk. The chunk
/// owns them, so that both depression (at presynaptic arrivals) and
/// potentiation (at its own neurons' spikes) change them without locks.
#[derive(Debug)]
struct PlasticSynapses {
    projection: usize,
    /// Presynaptic-major rows: `row_start[pre]..row_start[pre + 1]`.
    row_start: Vec<u32>,
    /// Postsynaptic neuron as an offset into the chunk.
    targets: Vec<u16>,
    weights: Vec<f32>,
    /// Postsynaptic-major index into the rows: the synapses onto local
    /// neuron j are `by_post_synapse[by_post_start[j]..by_post_start[j + 1]]`,
    /// with their presynaptic neurons in `by_post_pre`.
    by_post_start: Vec<u32>,
    by_post_synapse: Vec<u32>,
    by_post_pre: Vec<u32>,
    /// Postsynaptic traces (o1, o2) of the chunk's neurons at the current step.
    post_traces: [Vec<f64>; 2],
    /// The neurons whose o1 is not zero: those that spiked since the last reset.
    active: Vec<u32>,
    /// Every row targets every neuron of the chunk in order (all-to-all):
    /// delivery is then a vectorised add of the row.
    dense: bool,
}

impl PlasticSynapses {
    fn new(projection: usize, rows: ChunkRows, len: usize) -> Self {
        let mut by_post_start = vec![0u32; len + 1];
        for &t in &rows.targets {
            by_post_start[t as usize + 1] += 1;
        }
        for j in 0..len {
            by_post_start[j + 1] += by_post_start[j];
        }
        let mut fill = by_post_start.clone();
        let mut by_post_synapse = vec![0u32; rows.targets.len()];
        let mut by_post_pre = vec![0u32; rows.targets.len()];
        for pre in 0..rows.row_start.len() - 1 {
            for i in rows.row_start[pre]..rows.row_start[pre + 1] {
                let t = rows.targets[i as usize] as usize;
                by_post_synapse[fill[t] as usize] = i;
                by_post_pre[fill[t] as usize] = pre as u32;
                fill[t] += 1;
            }
        }
        let dense = rows.row_start.windows(2).all(|r| {
            let row = &rows.targets[r[0] as usize..r[1] as usize];
            row.len() == len && row.iter().enumerate().all(|(j, &t)| t as usize == j)
        });
        PlasticSynapses {
            dense,
            projection,
            row_start: rows.row_start,
            targets: rows.targets,
            weights: rows.weights,
            by_post_start,
            by_post_synapse,
            by_post_pre,
            post_traces: [vec![0.0; len], vec![0.0; len]],
            active: Vec::new(),
        }
    }

    fn bytes(&self) -> usize {
        self.row_start.len() * 4
            + self.targets.len() * 2
            + self.weights.len() * 4
            + self.by_post_start.len() * 4
            + self.by_post_synapse.len() * 4
            + self.by_post_pre.len() * 4
    }

    /// Decays the postsynaptic traces to the current step.
    fn begin_step(&mut self, kernel: &PlasticityKernel) {
        for (k, traces) in self.post_traces.iter_mut().enumerate().take(kernel.traces) {
            let decay = kernel.post_decay[k];
            traces.iter_mut().for_each(|x| *x *= decay);
        }
    }

    /// Adds this step's presynaptic arrivals to `input` (one entry per
    /// neuron of the chunk), then depresses their synapses when learning.
    ///
    /// Every rule's depression is proportional to the target's trace o1,
    /// so only synapses onto neurons that have spiked since the last reset
    /// (`active`) can change. When those are few (training with a reset per
    /// image), each arrival finds their synapses by binary search in the
    /// postsynaptic index instead of visiting its whole row; the result is
    /// the same.
    fn deliver(&mut self, shared: &PlasticProjection, learning: bool, input: &mut [f64]) {
        let k = &shared.kernel;
        let sign = shared.sign as f32;
        let arrivals = shared.arrivals();
        for &pre in arrivals {
            let pre = pre as usize;
            let rows = self.row_start[pre] as usize..self.row_start[pre + 1] as usize;
            if self.dense {
                for (x, &w) in input.iter_mut().zip(&self.weights[rows]) {
                    *x += (sign * w) as f64;
                }
            } else {
                for (&t, &w) in self.targets[rows.clone()].iter().zip(&self.weights[rows]) {
                    input[t as usize] += (sign * w) as f64;
                }
            }
        }
        if !learning || self.active.is_empty() {
            return;
        }
        let row_len = self.targets.len() / (self.row_start.len() - 1).max(1);
        let sparse = self.active.len() * 16 < row_len;
        for &pre in arrivals {
            let r2_before = shared.r2_before[pre as usize];
            if sparse {
                for &t in &self.active {
                    let t = t as usize;
                    let range = self.by_post_start[t] as usize..self.by_post_start[t + 1] as usize;
                    let pres = &self.by_post_pre[range.clone()];
                    // Several synapses from one neuron (multapses) sit side by side.
                    let first = pres.partition_point(|&p| p < pre);
                    let same = pres[first..].iter().take_while(|&&p| p == pre).count();
                    for at in first..first + same {
                        let i = self.by_post_synapse[range.start + at] as usize;
                        let post = [self.post_traces[0][t], self.post_traces[1][t]];
                        self.weights[i] = k.on_pre(self.weights[i], post, r2_before);
                    }
                }
            } else {
                let rows = self.row_start[pre as usize] as usize..self.row_start[pre as usize + 1] as usize;
                let (o1, o2) = (&self.post_traces[0], &self.post_traces[1]);
                for (&t, w) in self.targets[rows.clone()].iter().zip(&mut self.weights[rows]) {
                    let t = t as usize;
                    if o1[t] != 0.0 {
                        *w = k.on_pre(*w, [o1[t], o2[t]], r2_before);
                    }
                }
            }
        }
    }

    /// Potentiates the synapses onto this step's spiking neurons (chunk
    /// offsets in `spikes`) and adds the spikes to their traces.
    fn potentiate(&mut self, shared: &PlasticProjection, learning: bool, spikes: &[u32]) {
        let k = &shared.kernel;
        for &j in spikes {
            let j = j as usize;
            let before = [self.post_traces[0][j], self.post_traces[1][j]];
            if learning {
                let range = self.by_post_start[j] as usize..self.by_post_start[j + 1] as usize;
                for (&i, &pre) in self.by_post_synapse[range.clone()].iter().zip(&self.by_post_pre[range]) {
                    let pre = pre as usize;
                    let x = [shared.pre_traces[0][pre], shared.pre_traces[1][pre]];
                    self.weights[i as usize] = k.on_post(self.weights[i as usize], x, before);
                }
            }
            if before[0] == 0.0 {
                self.active.push(j as u32);
            }
            self.post_traces[0][j] = k.bump(before[0]);
            self.post_traces[1][j] = k.bump(before[1]);
        }
    }

    /// Scales the weights onto each neuron to sum to `target`. Two
    /// sequential passes over the presynaptic-major rows (sums, then
    /// scaling) rather than the scattered postsynaptic index.
    fn normalize(&mut self, target: f64) {
        let len = self.by_post_start.len() - 1;
        let mut sums = vec![0.0f64; len];
        if self.dense {
            for row in self.weights.chunks_exact(len) {
                for (s, &w) in sums.iter_mut().zip(row) {
                    *s += w as f64;
                }
            }
        } else {
            for (&t, &w) in self.targets.iter().zip(&self.weights) {
                sums[t as usize] += w as f64;
            }
        }
        let scale: Vec<f64> = sums.iter().map(|&s| if s > 0.0 { target / s } else { 1.0 }).collect();
        if self.dense {
            for row in self.weights.chunks_exact_mut(len) {
                for (w, &f) in row.iter_mut().zip(&scale) {
                    *w = (*w as f64 * f) as f32;
                }
            }
        } else {
            for (&t, w) in self.targets.iter().zip(self.weights.iter_mut()) {
                *w = (*w as f64 * scale[t as usize]) as f32;
            }
        }
    }

    fn reset(&mut self) {
        self.post_traces.iter_mut().for_each(|t| t.fill(0.0));
        self.active.clear();
    }
}

/// The presynaptic side of a plastic projection: its traces and the spikes
/// arriving in the current step, read by every chunk during a step and
/// updated between steps.
#[derive(Debug)]
struct PlasticProjection {
    kernel: PlasticityKernel,
    exc: bool,
    /// +1, or -1 for inhibitory weights onto current or delta synapses
    /// (plastic weights are magnitudes).
    sign: f64,
    from: usize,
    delay_steps: usize,
    /// Presynaptic traces (r1, r2) at the current step, this step's
    /// arrivals included.
    pre_traces: [Vec<f64>; 2],
    /// r2 just before this step's arrival, for the neurons arriving now.
    r2_before: Vec<f64>,
    /// Spikes by emission step modulo the delay; the entry of step
    /// `t - delay` is what arrives in step `t`.
    history: Vec<Vec<u32>>,
    arrival_slot: usize,
    /// (target sum, interval in steps) of periodic normalisation.
    normalize_every: Option<(f64, u64)>,
    normalize_sum: Option<f64>,
}

impl PlasticProjection {
    fn arrivals(&self) -> &[u32] {
        &self.history[self.arrival_slot]
    }

    /// Between steps `step` and `step + 1`: records the spikes just emitted
    /// and advances the presynaptic traces to step + 1 with its arrivals.
    fn prepare(&mut self, step: u64, emitted: &[Vec<u32>]) {
        let d = self.delay_steps as u64;
        let slot = (step % d) as usize;
        self.history[slot].clear();
        for spikes in emitted {
            self.history[slot].extend_from_slice(spikes);
        }
        self.arrival_slot = ((step + 1) % d) as usize;
        let k = &self.kernel;
        for (t, traces) in self.pre_traces.iter_mut().enumerate().take(k.traces) {
            let decay = k.pre_decay[t];
            traces.iter_mut().for_each(|x| *x *= decay);
        }
        let arrivals = &self.history[self.arrival_slot];
        for &j in arrivals {
            let j = j as usize;
            self.r2_before[j] = self.pre_traces[1][j];
            for t in 0..k.traces {
                self.pre_traces[t][j] = k.bump(self.pre_traces[t][j]);
            }
        }
    }

    fn reset(&mut self) {
        self.pre_traces.iter_mut().for_each(|t| t.fill(0.0));
        self.r2_before.fill(0.0);
        self.history.iter_mut().for_each(Vec::clear);
    }
}

#[derive(Debug, Clone)]
struct PopulationInfo {
    name: String,
    n: usize,
    kernel: Kernel,
    /// Global indices of this population's chunks.
    chunks: std::ops::Range<usize>,
    /// Static projections ending here.
    incoming: Vec<usize>,
    /// Its description, for resets.
    spec: Population,
}

#[derive(Debug, Clone)]
struct ProjectionInfo {
    name: String,
    from: usize,
}

struct SpikeRecorder {
    population: usize,
    /// None records every neuron.
    mask: Option<Vec<bool>>,
    steps: Vec<u32>,
    neurons: Vec<u32>,
}

struct StateRecorder {
    population: usize,
    variable: String,
    neurons: Vec<u32>,
    interval_steps: u64,
    times_ms: Vec<f64>,
    /// One row per sample, one column per neuron.
    values: Vec<f64>,
}

/// A built network, ready to run.
pub struct Simulation {
    dt_ms: f64,
    total_steps: u64,
    step: u64,
    populations: Vec<PopulationInfo>,
    projections: Vec<ProjectionInfo>,
    tables: Vec<SynapseTable>,
    /// Plastic projections, and the index of each projection among them.
    plastic: Vec<PlasticProjection>,
    plastic_index: Vec<Option<usize>>,
    learning: bool,
    chunks: Vec<Chunk>,
    /// Spikes of the previous step, per global chunk.
    previous: Vec<Vec<u32>>,
    spike_recorders: Vec<SpikeRecorder>,
    state_recorders: Vec<StateRecorder>,
    rate_bin_steps: u64,
    rate_counts: Vec<Vec<u32>>,
    build_s: f64,
    run_s: f64,
    parallel: bool,
    /// The step threads, started by the first parallel step.
    team: Option<Team>,
    /// Chunk indices, largest chunk first: the order the team hands them out.
    chunk_order: Vec<usize>,
}

/// Spikes and statistics of one population after a run.
#[derive(Debug, Clone)]
pub struct PopulationResult {
    pub name: String,
    pub n: usize,
    pub spikes: u64,
    /// Mean rate per neuron (Hz).
    pub rate_hz: f64,
    /// Mean coefficient of variation of inter-spike intervals over neurons
    /// with at least 3 spikes; None if there are none.
    pub cv_isi: Option<f64>,
    pub neurons_with_cv: usize,
    /// Spike count of each neuron.
    pub counts: Vec<u32>,
    /// Recorded spikes (step index and neuron); empty if not recorded.
    pub spike_steps: Vec<u32>,
    pub spike_neurons: Vec<u32>,
    pub recorded: bool,
    /// Spike counts per rate bin of the whole population.
    pub rate_counts: Vec<u32>,
}

#[derive(Debug, Clone)]
pub struct Trace {
    pub population: String,
    pub variable: String,
    pub neurons: Vec<u32>,
    pub times_ms: Vec<f64>,
    /// Row-major: `values[sample * neurons.len() + i]`.
    pub values: Vec<f64>,
}

/// The synapses of a plastic projection: `pre[i] -> post[i]` with `weights[i]`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlasticWeights {
    pub pre: Vec<u32>,
    pub post: Vec<u32>,
    pub weights: Vec<f32>,
}

#[derive(Debug, Clone)]
pub struct ProjectionSummary {
    pub name: String,
    pub synapses: usize,
    pub bytes: usize,
}

/// Everything a run produced.
#[derive(Debug, Clone)]
pub struct RunResult {
    pub dt_ms: f64,
    pub steps: u64,
    pub duration_ms: f64,
    pub populations: Vec<PopulationResult>,
    pub traces: Vec<Trace>,
    pub projections: Vec<ProjectionSummary>,
    pub synaptic_events: u64,
    pub rate_bin_ms: f64,
    pub build_s: f64,
    pub run_s: f64,
    pub threads: usize,
    /// The final weights of each plastic projection, by name.
    pub plastic: Vec<(String, PlasticWeights)>,
}

impl RunResult {
    pub fn population(&self, name: &str) -> &PopulationResult {
        self.populations
            .iter()
            .find(|p| p.name == name)
            .unwrap_or_else(|| panic!("no population `{name}`"))
    }
}

struct StepView<'a> {
    step: u64,
    populations: &'a [PopulationInfo],
    tables: &'a [SynapseTable],
    projections: &'a [ProjectionInfo],
    previous: &'a [Vec<u32>],
    plastic: &'a [PlasticProjection],
    learning: bool,
}

impl Simulation {
    /// Builds a validated network. Call `crate::validate::validate` (or load
    /// through `crate::experiment`) first: `build` trusts its input.
    pub fn build(network: &Network) -> Simulation {
        let started = Instant::now();
        let dt = network.simulation.dt_ms;
        let seed = network.simulation.seed;
        let names: Vec<&String> = network.populations.keys().collect();
        let index_of = |name: &str| names.iter().position(|n| *n == name).expect("validated name");

        let projections: Vec<ProjectionInfo> = network
            .projections
            .iter()
            .map(|(name, p)| ProjectionInfo {
                name: name.clone(),
                from: index_of(&p.from),
            })
            .collect();
        let mut plastic_rows: Vec<Option<Vec<ChunkRows>>> = Vec::new();
        let mut plastic = Vec::new();
        let mut plastic_index = Vec::new();
        let mut tables: Vec<SynapseTable> = Vec::new();
        for (i, p) in network.projections.values().enumerate() {
            let pre = &network.populations[&p.from];
            let post = &network.populations[&p.to];
            let exc = p.receptor() == Receptor::Exc;
            let ctx = BuildContext {
                projection: p,
                index: i,
                seed,
                dt_ms: dt,
                n_pre: network.scaled_size(pre),
                n_post: network.scaled_size(post),
                same_population: p.from == p.to,
                scale: network.network.scale,
                exc,
            };
            match &p.plasticity {
                None => {
                    tables.push(connect::build(&ctx));
                    plastic_rows.push(None);
                    plastic_index.push(None);
                }
                Some(rule) => {
                    let (table, rows) = connect::build_plastic(&ctx);
                    let bounds = rule.bounds();
                    let conductance = post.synapse() == Some(SynapseModel::ConductanceExp);
                    let d = table.delay_steps as usize;
                    plastic_index.push(Some(plastic.len()));
                    plastic.push(PlasticProjection {
                        kernel: PlasticityKernel::new(rule, dt),
                        exc,
                        sign: if exc || conductance { 1.0 } else { -1.0 },
                        from: index_of(&p.from),
                        delay_steps: d,
                        pre_traces: [vec![0.0; ctx.n_pre], vec![0.0; ctx.n_pre]],
                        r2_before: vec![0.0; ctx.n_pre],
                        history: vec![Vec::new(); d],
                        arrival_slot: 0,
                        normalize_every: bounds
                            .normalize_sum
                            .zip(bounds.normalize_interval_ms)
                            .map(|(sum, t)| (sum, ((t / dt).round() as u64).max(1))),
                        normalize_sum: bounds.normalize_sum,
                    });
                    tables.push(table);
                    plastic_rows.push(Some(rows));
                }
            }
        }

        let mut populations = Vec::new();
        let mut chunks = Vec::new();
        for (pi, (name, population)) in network.populations.iter().enumerate() {
            let n = network.scaled_size(population);
            let incoming: Vec<usize> = network
                .projections
                .values()
                .enumerate()
                .filter(|(i, p)| p.to == *name && plastic_index[*i].is_none())
                .map(|(i, _)| i)
                .collect();
            let incoming_plastic: Vec<usize> = network
                .projections
                .values()
                .enumerate()
                .filter(|(i, p)| p.to == *name && plastic_index[*i].is_some())
                .map(|(i, _)| i)
                .collect();
            // Ring slots for delays of two steps or more (one-step inputs are
            // applied directly): a delay of d steps lands d - 1 slots ahead.
            let max_delay = incoming
                .iter()
                .map(|&i| tables[i].max_delay_steps as usize)
                .max()
                .unwrap_or(0);
            let slots = if max_delay >= 2 { max_delay } else { 0 };
            let kernel = match population {
                Population::Lif(lif) => Kernel::Lif(LifKernel::new(lif, dt)),
                Population::Poisson(source) => {
                    let points: Vec<[f64; 2]> = match source.rate_hz {
                        Some(rate) => vec![[0.0, rate]],
                        None => source.schedule.clone(),
                    };
                    Kernel::Poisson {
                        schedule: points
                            .iter()
                            .map(|[t, rate]| ((t / dt).round() as u64, (rate * dt * 1e-3).min(1.0)))
                            .collect(),
                    }
                }
                Population::SpikeTimes(_) => Kernel::SpikeTimes,
                _ => Kernel::Model,
            };
            let first = chunks.len();
            for (ci, range) in chunk_ranges(n).into_iter().enumerate() {
                let mut init_rng = stream(seed, Purpose::InitialState, pi, ci);
                let state = match population {
                    Population::Lif(lif) => ChunkState::Lif(match network.simulation.precision {
                        Precision::Double => LifChunk::Double(LifState::new(lif, range.len, slots, &mut init_rng)),
                        Precision::Single => LifChunk::Single(LifState::new(lif, range.len, slots, &mut init_rng)),
                    }),
                    Population::Poisson(_) => ChunkState::Poisson {
                        cursor: 0,
                        per_neuron: None,
                    },
                    Population::SpikeTimes(source) => {
                        let mut events: Vec<(u64, u32)> = source
                            .spikes
                            .iter()
                            .filter(|(i, _)| (*i as usize) >= range.start && (*i as usize) < range.start + range.len)
                            .map(|&(i, t)| ((t / dt).round() as u64, i))
                            .collect();
                        events.sort_unstable();
                        events.dedup();
                        ChunkState::SpikeTimes { events, cursor: 0 }
                    }
                    model => ChunkState::Model {
                        neurons: model
                            .neuron_spec()
                            .expect("a neuron model")
                            .build(range.len, dt, &mut init_rng),
                        delayed: DelayedInput::new(slots, range.len),
                    },
                };
                let plastic: Vec<PlasticSynapses> = incoming_plastic
                    .iter()
                    .map(|&i| {
                        let rows = std::mem::take(&mut plastic_rows[i].as_mut().expect("plastic")[ci]);
                        PlasticSynapses::new(plastic_index[i].expect("plastic"), rows, range.len)
                    })
                    .collect();
                chunks.push(Chunk {
                    population: pi,
                    index: ci,
                    start: range.start,
                    len: range.len,
                    rng: stream(seed, Purpose::Noise, pi, ci),
                    state,
                    stats: SpikeStats::new(range.len),
                    out: Vec::with_capacity(range.len / 8 + 8),
                    scratch: DeliveryScratch::default(),
                    fault: false,
                    plastic_input: if plastic.is_empty() {
                        [Vec::new(), Vec::new()]
                    } else {
                        [vec![0.0; range.len], vec![0.0; range.len]]
                    },
                    plastic,
                });
            }
            populations.push(PopulationInfo {
                name: name.clone(),
                n,
                kernel,
                chunks: first..chunks.len(),
                incoming,
                spec: population.clone(),
            });
        }

        let spikes_selected = &network.monitors.spikes;
        let spike_recorders = populations
            .iter()
            .enumerate()
            .filter_map(|(pi, p)| {
                let mask = match spikes_selected.get(&p.name) {
                    None if spikes_selected.is_empty() => None,
                    None => return None,
                    Some(NeuronSelection::Keyword(k)) if k == "none" => return None,
                    Some(NeuronSelection::Keyword(_)) => None,
                    Some(NeuronSelection::Indices(ids)) => {
                        let mut mask = vec![false; p.n];
                        for &i in ids {
                            mask[i as usize] = true;
                        }
                        Some(mask)
                    }
                };
                Some(SpikeRecorder {
                    population: pi,
                    mask,
                    steps: Vec::new(),
                    neurons: Vec::new(),
                })
            })
            .collect();
        let state_recorders = network
            .monitors
            .state
            .iter()
            .flat_map(|m| {
                let population = index_of(&m.population);
                m.variables.iter().map(move |variable| StateRecorder {
                    population,
                    variable: variable.clone(),
                    neurons: m.neurons.clone(),
                    interval_steps: ((m.interval_ms / dt).round() as u64).max(1),
                    times_ms: Vec::new(),
                    values: Vec::new(),
                })
            })
            .collect();
        let total_steps = (network.simulation.duration_ms / dt).round() as u64;
        let rate_bin_steps = ((network.monitors.rate_bin_ms / dt).round() as u64).max(1);
        let bins = total_steps.div_ceil(rate_bin_steps) as usize;
        let work: usize = populations.iter().map(|p| p.n * update_cost(&p.kernel)).sum();
        let mut chunk_order: Vec<usize> = (0..chunks.len()).collect();
        chunk_order.sort_by_key(|&c| std::cmp::Reverse(chunks[c].len));
        Simulation {
            dt_ms: dt,
            total_steps,
            step: 0,
            rate_counts: vec![vec![0; bins]; populations.len()],
            previous: vec![Vec::new(); chunks.len()],
            populations,
            projections,
            tables,
            plastic,
            plastic_index,
            learning: true,
            chunks,
            spike_recorders,
            state_recorders,
            rate_bin_steps,
            build_s: started.elapsed().as_secs_f64(),
            run_s: 0.0,
            parallel: work >= PARALLEL_MIN_WORK && rayon::current_num_threads() > 1,
            team: None,
            chunk_order,
        }
    }

    pub fn total_steps(&self) -> u64 {
        self.total_steps
    }

    pub fn current_step(&self) -> u64 {
        self.step
    }

    pub fn dt_ms(&self) -> f64 {
        self.dt_ms
    }

    /// Total synapses and the bytes their tables take (plastic synapses
    /// with their post-to-pre index and traces).
    pub fn synapse_memory(&self) -> (usize, usize) {
        let plastic: usize = (0..self.plastic.len()).map(|index| self.plastic_bytes(index)).sum();
        (
            self.tables.iter().map(SynapseTable::synapses).sum(),
            self.tables.iter().map(SynapseTable::bytes).sum::<usize>() + plastic,
        )
    }

    /// Bytes of one plastic projection: its synapses in every chunk and its
    /// presynaptic traces.
    fn plastic_bytes(&self, index: usize) -> usize {
        let p = &self.plastic[index];
        self.chunks
            .iter()
            .flat_map(|c| c.plastic.iter().filter(|s| s.projection == index))
            .map(PlasticSynapses::bytes)
            .sum::<usize>()
            + p.pre_traces[0].len() * p.kernel.traces * 8
    }

    /// Runs to the end, calling `progress(steps_done)` now and then.
    pub fn run(mut self, mut progress: impl FnMut(u64)) -> Result<RunResult, SimulationError> {
        let started = Instant::now();
        while self.step < self.total_steps {
            let until = (self.step + 1000).min(self.total_steps);
            self.advance(until - self.step)?;
            progress(self.step);
        }
        self.run_s += started.elapsed().as_secs_f64();
        Ok(self.finish())
    }

    /// Advances `steps` steps (stopping at the end of the configured duration).
    pub fn advance(&mut self, steps: u64) -> Result<(), SimulationError> {
        let end = (self.step + steps).min(self.total_steps);
        while self.step < end {
            self.step_once()?;
        }
        Ok(())
    }

    fn step_once(&mut self) -> Result<(), SimulationError> {
        let view = StepView {
            step: self.step,
            populations: &self.populations,
            tables: &self.tables,
            projections: &self.projections,
            previous: &self.previous,
            plastic: &self.plastic,
            learning: self.learning,
        };
        if self.parallel {
            let team = self.team.get_or_insert_with(|| Team::new(rayon::current_num_threads()));
            team.for_each_mut(&mut self.chunks, &self.chunk_order, |c| c.step(&view));
        } else {
            self.chunks.iter_mut().for_each(|c| c.step(&view));
        }
        if let Some(chunk) = self.chunks.iter().find(|c| c.fault) {
            let first = match &chunk.state {
                ChunkState::Lif(state) => state.first_non_finite(),
                ChunkState::Model { neurons, .. } => neurons.first_non_finite(),
                _ => unreachable!("only neurons have state"),
            };
            let (j, variable, value) = first.unwrap_or((0, "v", f64::NAN));
            return Err(SimulationError::NonFinite {
                time_ms: (self.step + 1) as f64 * self.dt_ms,
                population: self.populations[chunk.population].name.clone(),
                neuron: chunk.start + j,
                variable,
                value,
            });
        }
        for (previous, chunk) in self.previous.iter_mut().zip(self.chunks.iter_mut()) {
            std::mem::swap(previous, &mut chunk.out);
            chunk.out.clear();
        }
        self.prepare_plastic();
        self.record();
        self.step += 1;
        Ok(())
    }

    /// Between steps: the plastic projections' arrivals and presynaptic
    /// traces for the next step, and their periodic normalisation.
    fn prepare_plastic(&mut self) {
        for p in &mut self.plastic {
            let source = &self.populations[p.from];
            p.prepare(self.step, &self.previous[source.chunks.clone()]);
        }
        for index in 0..self.plastic.len() {
            if let Some((sum, every)) = self.plastic[index].normalize_every {
                if (self.step + 1).is_multiple_of(every) {
                    self.normalize_plastic(index, sum);
                }
            }
        }
    }

    fn normalize_plastic(&mut self, index: usize, sum: f64) {
        self.chunks.par_iter_mut().for_each(|c| {
            for syn in c.plastic.iter_mut().filter(|p| p.projection == index) {
                syn.normalize(sum);
            }
        });
    }

    fn record(&mut self) {
        let step = self.step;
        let bin = (step / self.rate_bin_steps) as usize;
        for (pi, population) in self.populations.iter().enumerate() {
            let count: usize = self.previous[population.chunks.clone()].iter().map(Vec::len).sum();
            // Runs continued past the configured duration (training) are not binned.
            if let Some(c) = self.rate_counts[pi].get_mut(bin) {
                *c += count as u32;
            }
        }
        for recorder in &mut self.spike_recorders {
            for spikes in &self.previous[self.populations[recorder.population].chunks.clone()] {
                for &i in spikes {
                    if recorder.mask.as_ref().is_none_or(|m| m[i as usize]) {
                        recorder.steps.push(step as u32);
                        recorder.neurons.push(i);
                    }
                }
            }
        }
        for recorder in &mut self.state_recorders {
            if !(step + 1).is_multiple_of(recorder.interval_steps) {
                continue;
            }
            recorder.times_ms.push((step + 1) as f64 * self.dt_ms);
            let population = &self.populations[recorder.population];
            for &i in &recorder.neurons {
                let chunk = &self.chunks[population.chunks.start + i as usize / connect::chunk_len(population.n)];
                let j = i as usize - chunk.start;
                recorder.values.push(match &chunk.state {
                    ChunkState::Lif(state) => state.value(&recorder.variable, j),
                    ChunkState::Model { neurons, .. } => neurons.value(&recorder.variable, j),
                    _ => unreachable!("validated"),
                });
            }
        }
    }

    /// Advances `steps` steps, past the configured duration if need be
    /// (training runs: the rate monitor covers only the configured duration).
    pub fn run_steps(&mut self, steps: u64) -> Result<(), SimulationError> {
        let started = Instant::now();
        for _ in 0..steps {
            self.step_once()?;
        }
        self.run_s += started.elapsed().as_secs_f64();
        Ok(())
    }

    fn population_index(&self, population: &str) -> Result<usize, String> {
        self.populations
            .iter()
            .position(|p| p.name == population)
            .ok_or_else(|| format!("no population `{population}`"))
    }

    fn plastic_projection(&self, projection: &str) -> Result<usize, String> {
        let i = self
            .projections
            .iter()
            .position(|p| p.name == projection)
            .ok_or_else(|| format!("no projection `{projection}`"))?;
        self.plastic_index[i].ok_or_else(|| format!("projection `{projection}` is not plastic"))
    }

    /// Restarts every random stream (Poisson inputs, noise) from `seed`, so
    /// that what follows depends only on the state and `seed` (training
    /// reseeds per image, which makes a resumed run identical to an
    /// uninterrupted one).
    pub fn reseed(&mut self, seed: u64) {
        for chunk in &mut self.chunks {
            chunk.rng = stream(seed, Purpose::Noise, chunk.population, chunk.index);
        }
    }

    /// Turns learning on or off: plastic weights and adaptive thresholds
    /// change only while it is on (the default).
    pub fn set_learning(&mut self, on: bool) {
        self.learning = on;
        for chunk in &mut self.chunks {
            match &mut chunk.state {
                ChunkState::Lif(LifChunk::Double(s)) => s.adapt = on,
                ChunkState::Lif(LifChunk::Single(s)) => s.adapt = on,
                _ => {}
            }
        }
    }

    /// Gives each neuron of a Poisson population its own rate (Hz) from now
    /// on, e.g. the pixels of an image; replaces the population's schedule.
    pub fn set_rates(&mut self, population: &str, rates_hz: &[f64]) -> Result<(), String> {
        let pi = self.population_index(population)?;
        let info = &self.populations[pi];
        if !matches!(info.kernel, Kernel::Poisson { .. }) {
            return Err(format!("`{population}` is not a Poisson population"));
        }
        if rates_hz.len() != info.n {
            return Err(format!(
                "{} rates for the {} neurons of `{population}`",
                rates_hz.len(),
                info.n
            ));
        }
        if let Some(bad) = rates_hz.iter().find(|r| !(r.is_finite() && **r >= 0.0)) {
            return Err(format!(
                "rate {bad} Hz for `{population}`: rates must be finite and >= 0"
            ));
        }
        let dt = self.dt_ms;
        for chunk in &mut self.chunks[info.chunks.clone()] {
            let active = (0..chunk.len)
                .filter(|&j| rates_hz[chunk.start + j] > 0.0)
                .map(|j| (j as u32, (rates_hz[chunk.start + j] * dt * 1e-3).min(1.0)))
                .collect();
            if let ChunkState::Poisson { per_neuron, .. } = &mut chunk.state {
                *per_neuron = Some(active);
            }
        }
        Ok(())
    }

    /// Brings every neuron back to rest (LIF: v = e_l, no synaptic input;
    /// other models: their initial state) and clears spikes in flight and
    /// plasticity traces, as between two presentations. Weights and adaptive
    /// thresholds are kept.
    pub fn reset_state(&mut self) {
        let (dt, seed) = (self.dt_ms, 0);
        for chunk in &mut self.chunks {
            let population = &self.populations[chunk.population];
            match (&mut chunk.state, &population.kernel) {
                (ChunkState::Lif(LifChunk::Double(s)), Kernel::Lif(k)) => s.reset(k),
                (ChunkState::Lif(LifChunk::Single(s)), Kernel::Lif(k)) => s.reset(k),
                (ChunkState::Model { neurons, delayed }, _) => {
                    let mut rng = stream(seed, Purpose::InitialState, chunk.population, chunk.index);
                    *neurons = population
                        .spec
                        .neuron_spec()
                        .expect("a neuron model")
                        .build(chunk.len, dt, &mut rng);
                    neurons.begin_step(self.step);
                    delayed.exc.fill(0.0);
                    delayed.inh.fill(0.0);
                }
                _ => {}
            }
            chunk.plastic.iter_mut().for_each(PlasticSynapses::reset);
            chunk.out.clear();
        }
        self.previous.iter_mut().for_each(Vec::clear);
        self.plastic.iter_mut().for_each(PlasticProjection::reset);
    }

    /// Spikes of each neuron of a population since the start.
    pub fn spike_counts(&self, population: &str) -> Result<Vec<u32>, String> {
        let pi = self.population_index(population)?;
        Ok(self.chunks[self.populations[pi].chunks.clone()]
            .iter()
            .flat_map(|c| c.stats.0.iter().map(|s| s.count))
            .collect())
    }

    /// The synapses of a plastic projection with their current weights, in
    /// a fixed order (by chunk of the postsynaptic population, then by
    /// presynaptic neuron).
    pub fn plastic_synapses(&self, projection: &str) -> Result<PlasticWeights, String> {
        let index = self.plastic_projection(projection)?;
        let mut out = PlasticWeights::default();
        for chunk in &self.chunks {
            for syn in chunk.plastic.iter().filter(|p| p.projection == index) {
                for pre in 0..syn.row_start.len() - 1 {
                    for i in syn.row_start[pre] as usize..syn.row_start[pre + 1] as usize {
                        out.pre.push(pre as u32);
                        out.post.push((chunk.start + syn.targets[i] as usize) as u32);
                        out.weights.push(syn.weights[i]);
                    }
                }
            }
        }
        Ok(out)
    }

    /// Sets a plastic projection's weights, in the order of `plastic_synapses`.
    pub fn set_plastic_weights(&mut self, projection: &str, weights: &[f32]) -> Result<(), String> {
        let index = self.plastic_projection(projection)?;
        let total: usize = self
            .chunks
            .iter()
            .flat_map(|c| c.plastic.iter().filter(|p| p.projection == index))
            .map(|p| p.weights.len())
            .sum();
        if weights.len() != total {
            return Err(format!(
                "{} weights for the {total} synapses of `{projection}`",
                weights.len()
            ));
        }
        if let Some(bad) = weights.iter().find(|w| !w.is_finite()) {
            return Err(format!("weight {bad} for `{projection}`: weights must be finite"));
        }
        let mut at = 0;
        for chunk in &mut self.chunks {
            for syn in chunk.plastic.iter_mut().filter(|p| p.projection == index) {
                let n = syn.weights.len();
                syn.weights.copy_from_slice(&weights[at..at + n]);
                at += n;
            }
        }
        Ok(())
    }

    /// Scales each postsynaptic neuron's weights in a plastic projection to
    /// the rule's `normalize_sum`; does nothing without one.
    pub fn normalize(&mut self, projection: &str) -> Result<(), String> {
        let index = self.plastic_projection(projection)?;
        if let Some(sum) = self.plastic[index].normalize_sum {
            self.normalize_plastic(index, sum);
        }
        Ok(())
    }

    /// Sets a LIF state variable (`v` or `theta`) of every neuron of a population.
    pub fn set_state(&mut self, population: &str, variable: &str, values: &[f64]) -> Result<(), String> {
        let pi = self.population_index(population)?;
        let info = &self.populations[pi];
        if values.len() != info.n {
            return Err(format!(
                "{} values for the {} neurons of `{population}`",
                values.len(),
                info.n
            ));
        }
        if let Some(bad) = values.iter().find(|x| !x.is_finite()) {
            return Err(format!("{variable} = {bad} for `{population}`: values must be finite"));
        }
        fn set<R: Real>(state: &mut LifState<R>, variable: &str, values: &[f64]) -> Result<(), String> {
            let target = match variable {
                "v" => &mut state.v,
                "theta" if !state.theta.is_empty() => &mut state.theta,
                _ => return Err(format!("cannot set `{variable}`")),
            };
            for (t, &x) in target.iter_mut().zip(values) {
                *t = R::from_f64(x);
            }
            Ok(())
        }
        for chunk in &mut self.chunks[info.chunks.clone()] {
            let part = &values[chunk.start..chunk.start + chunk.len];
            match &mut chunk.state {
                ChunkState::Lif(LifChunk::Double(s)) => set(s, variable, part)?,
                ChunkState::Lif(LifChunk::Single(s)) => set(s, variable, part)?,
                _ => return Err(format!("`{population}` is not a LIF population")),
            }
        }
        Ok(())
    }

    /// Current values of a state variable of a population (`v`, `g_exc`, `g_inh`).
    pub fn state(&self, population: &str, variable: &str) -> Vec<f64> {
        let p = self
            .populations
            .iter()
            .find(|p| p.name == population)
            .expect("population");
        self.chunks[p.chunks.clone()]
            .iter()
            .flat_map(|c| match &c.state {
                ChunkState::Lif(state) => state.values(variable),
                ChunkState::Model { neurons, .. } => (0..c.len).map(|j| neurons.value(variable, j)).collect(),
                _ => panic!("not a neuron population"),
            })
            .collect()
    }

    fn finish(self) -> RunResult {
        let plastic = self
            .projections
            .iter()
            .zip(&self.plastic_index)
            .filter(|(_, index)| index.is_some())
            .map(|(p, _)| (p.name.clone(), self.plastic_synapses(&p.name).expect("plastic")))
            .collect();
        let dt = self.dt_ms;
        let duration_ms = self.step as f64 * dt;
        let mut synaptic_events = 0u64;
        let mut counts_by_population: Vec<Vec<u32>> = Vec::new();
        for population in &self.populations {
            let counts: Vec<u32> = self.chunks[population.chunks.clone()]
                .iter()
                .flat_map(|c| c.stats.0.iter().map(|s| s.count))
                .collect();
            counts_by_population.push(counts);
        }
        for (table, info) in self.tables.iter().zip(&self.projections) {
            let counts = &counts_by_population[info.from];
            synaptic_events += counts
                .iter()
                .zip(&table.out_degree)
                .map(|(&c, &d)| c as u64 * d as u64)
                .sum::<u64>();
        }
        let plastic_bytes: Vec<usize> = self
            .plastic_index
            .iter()
            .map(|index| index.map_or(0, |index| self.plastic_bytes(index)))
            .collect();
        let mut spike_recorders = self.spike_recorders;
        let populations = self
            .populations
            .iter()
            .enumerate()
            .map(|(pi, population)| {
                let chunks = &self.chunks[population.chunks.clone()];
                let (mut cv_sum, mut cv_n) = (0.0, 0usize);
                for chunk in chunks {
                    for s in &chunk.stats.0 {
                        if s.count >= 3 {
                            let intervals = (s.count - 1) as f64;
                            let mean = s.isi_sum / intervals;
                            let var = (s.isi_sq / intervals - mean * mean).max(0.0);
                            cv_sum += var.sqrt() / mean;
                            cv_n += 1;
                        }
                    }
                }
                let counts = std::mem::take(&mut counts_by_population[pi]);
                let spikes: u64 = counts.iter().map(|&c| c as u64).sum();
                let recorder = spike_recorders.iter_mut().find(|r| r.population == pi);
                let recorded = recorder.is_some();
                let (spike_steps, spike_neurons) = recorder
                    .map(|r| (std::mem::take(&mut r.steps), std::mem::take(&mut r.neurons)))
                    .unwrap_or_default();
                PopulationResult {
                    name: population.name.clone(),
                    n: population.n,
                    spikes,
                    rate_hz: spikes as f64 / (population.n as f64 * duration_ms * 1e-3),
                    cv_isi: (cv_n > 0).then(|| cv_sum / cv_n as f64),
                    neurons_with_cv: cv_n,
                    counts,
                    spike_steps,
                    spike_neurons,
                    recorded,
                    rate_counts: self.rate_counts[pi].clone(),
                }
            })
            .collect();
        let traces = self
            .state_recorders
            .into_iter()
            .map(|r| Trace {
                population: self.populations[r.population].name.clone(),
                variable: r.variable,
                neurons: r.neurons,
                times_ms: r.times_ms,
                values: r.values,
            })
            .collect();
        let projections = self
            .projections
            .iter()
            .zip(&self.tables)
            .enumerate()
            .map(|(i, (p, t))| ProjectionSummary {
                name: p.name.clone(),
                synapses: t.synapses(),
                bytes: t.bytes() + plastic_bytes[i],
            })
            .collect();
        RunResult {
            dt_ms: dt,
            steps: self.step,
            duration_ms,
            populations,
            traces,
            projections,
            synaptic_events,
            rate_bin_ms: self.rate_bin_steps as f64 * dt,
            build_s: self.build_s,
            run_s: self.run_s,
            threads: if self.parallel { rayon::current_num_threads() } else { 1 },
            plastic,
        }
    }
}

impl Chunk {
    /// Counts this step's spikes (chunk offsets in `out`) and turns them into
    /// population indices.
    fn record_spikes(&mut self, step: u64) {
        for j in self.out.iter_mut() {
            self.stats.record(*j as usize, step);
            *j += self.start as u32;
        }
    }

    fn step(&mut self, view: &StepView) {
        let population = &view.populations[self.population];
        match (&mut self.state, &population.kernel) {
            (ChunkState::Lif(lif), Kernel::Lif(kernel)) => {
                let (index, rng, out, scratch) = (self.index, &mut self.rng, &mut self.out, &mut self.scratch);
                let plastic = (&mut self.plastic[..], &mut self.plastic_input);
                let finite = match lif {
                    LifChunk::Double(state) => {
                        step_lif(state, kernel, index, population, view, rng, out, scratch, plastic)
                    }
                    LifChunk::Single(state) => {
                        step_lif(state, kernel, index, population, view, rng, out, scratch, plastic)
                    }
                };
                self.fault = !finite;
                potentiate(&mut self.plastic, view, &self.out);
                self.record_spikes(view.step);
            }
            (ChunkState::Model { neurons, delayed }, Kernel::Model) => {
                neurons.begin_step(view.step);
                if view.step > 0 {
                    deliver_to_model(neurons.as_mut(), delayed, self.index, population, view);
                }
                delayed.release(view.step, neurons.as_mut());
                if deliver_plastic(&mut self.plastic, &mut self.plastic_input, view) {
                    for (k, exc) in [(0, true), (1, false)] {
                        for (j, x) in self.plastic_input[k].iter_mut().enumerate() {
                            if *x != 0.0 {
                                neurons.add_input(exc, j, *x);
                                *x = 0.0;
                            }
                        }
                    }
                }
                self.fault = !neurons.update(view.step, &mut self.rng, &mut self.out);
                potentiate(&mut self.plastic, view, &self.out);
                self.record_spikes(view.step);
            }
            (
                ChunkState::Poisson {
                    cursor,
                    per_neuron: Some(active),
                },
                Kernel::Poisson { .. },
            ) => {
                let _ = cursor;
                for &(j, p) in active.iter() {
                    if open_unit(&mut self.rng) < p {
                        self.stats.record(j as usize, view.step);
                        self.out.push(self.start as u32 + j);
                    }
                }
            }
            (
                ChunkState::Poisson {
                    cursor,
                    per_neuron: None,
                },
                Kernel::Poisson { schedule },
            ) => {
                while *cursor + 1 < schedule.len() && schedule[*cursor + 1].0 <= view.step {
                    *cursor += 1;
                }
                let p = schedule[*cursor].1;
                if p > 0.0 {
                    // Geometric skipping: one draw per spike, not per neuron.
                    let log_q = (-p).ln_1p();
                    let mut j: f64 = -1.0;
                    loop {
                        j += if p >= 1.0 {
                            1.0
                        } else {
                            1.0 + (open_unit(&mut self.rng).ln() / log_q).floor()
                        };
                        if j >= self.len as f64 {
                            break;
                        }
                        let j = j as usize;
                        self.stats.record(j, view.step);
                        self.out.push((self.start + j) as u32);
                    }
                }
            }
            (ChunkState::SpikeTimes { events, cursor }, Kernel::SpikeTimes) => {
                while *cursor < events.len() && events[*cursor].0 <= view.step {
                    let i = events[*cursor].1;
                    self.stats.record(i as usize - self.start, view.step);
                    self.out.push(i);
                    *cursor += 1;
                }
            }
            _ => unreachable!("a chunk's state matches its population's kernel"),
        }
    }
}

/// Delivers the previous step's spikes to one chunk of LIF neurons and
/// advances it; false if its state became non-finite.
#[allow(clippy::too_many_arguments)]
fn step_lif<R: Real>(
    state: &mut LifState<R>,
    kernel: &LifKernel,
    chunk_index: usize,
    population: &PopulationInfo,
    view: &StepView,
    rng: &mut Stream,
    out: &mut Vec<u32>,
    scratch: &mut DeliveryScratch,
    (plastic, plastic_input): (&mut [PlasticSynapses], &mut [Vec<f64>; 2]),
) -> bool {
    state.begin_step(kernel, view.step);
    let delta = kernel.synapse == SynapseModel::Delta;
    if view.step > 0 {
        deliver(state, delta, chunk_index, population, view, scratch);
    }
    if deliver_plastic(plastic, plastic_input, view) {
        for (k, exc) in [(0, true), (1, false)] {
            for (j, x) in plastic_input[k].iter_mut().enumerate() {
                if *x != 0.0 {
                    state.add_input(delta, exc, j, R::from_f64(*x), view.step);
                    *x = 0.0;
                }
            }
        }
    }
    state.update(kernel, view.step, rng, out)
}

/// Decays the plastic synapses' postsynaptic traces and sums their
/// arrivals into `input` (excitatory, inhibitory); true if any arrived.
fn deliver_plastic(plastic: &mut [PlasticSynapses], input: &mut [Vec<f64>; 2], view: &StepView) -> bool {
    let mut any = false;
    for syn in plastic.iter_mut() {
        let shared = &view.plastic[syn.projection];
        syn.begin_step(&shared.kernel);
        if !shared.arrivals().is_empty() {
            any = true;
            let receptor = if shared.exc { 0 } else { 1 };
            syn.deliver(shared, view.learning, &mut input[receptor]);
        }
    }
    any
}

/// Potentiates the plastic synapses onto the neurons that spiked in this
/// step (chunk offsets in `spikes`).
fn potentiate(plastic: &mut [PlasticSynapses], view: &StepView, spikes: &[u32]) {
    for syn in plastic.iter_mut() {
        syn.potentiate(&view.plastic[syn.projection], view.learning, spikes);
    }
}

/// Adds the spikes of the previous step from every incoming projection to one
/// chunk: straight into the state when due now (a one-step delay), otherwise
/// into the ring buffer.
fn deliver<R: Real>(
    state: &mut LifState<R>,
    delta: bool,
    chunk_index: usize,
    population: &PopulationInfo,
    view: &StepView,
    scratch: &mut DeliveryScratch,
) {
    let emitted = view.step - 1;
    for &pi in &population.incoming {
        let table = &view.tables[pi];
        let exc = table.exc;
        let shared_weight = R::from_f64(table.weight);
        let source = &view.populations[view.projections[pi].from];
        if table.weights.is_empty() && table.delays.is_empty() && table.delay_steps == 1 {
            deliver_batched(
                state,
                delta,
                exc,
                shared_weight,
                chunk_index,
                table,
                source,
                view,
                scratch,
            );
            continue;
        }
        for spikes in &view.previous[source.chunks.clone()] {
            for &pre in spikes {
                let range = table.segment(pre as usize, chunk_index);
                if range.is_empty() {
                    continue;
                }
                let homogeneous_weight = table.weights.is_empty();
                if table.delays.is_empty() && table.delay_steps == 1 {
                    if homogeneous_weight {
                        for &t in &table.targets[range] {
                            state.add_input(delta, exc, t as usize, shared_weight, view.step);
                        }
                    } else {
                        for (&t, &w) in table.targets[range.clone()].iter().zip(&table.weights[range]) {
                            state.add_input(delta, exc, t as usize, R::from_f64(w as f64), view.step);
                        }
                    }
                    continue;
                }
                for i in range {
                    let d = if table.delays.is_empty() {
                        table.delay_steps
                    } else {
                        table.delays[i]
                    } as u64;
                    let w = if homogeneous_weight {
                        shared_weight
                    } else {
                        R::from_f64(table.weights[i] as f64)
                    };
                    let t = table.targets[i] as usize;
                    if d == 1 {
                        state.add_input(delta, exc, t, w, view.step);
                    } else {
                        state.add_delayed(exc, emitted + d, t, w);
                    }
                }
            }
        }
    }
}

/// The common case (one weight, a one-step delay) in two passes, so that
/// the cache misses do not form one chain per spike (offset, then targets,
/// then state): find the segments and prefetch their targets; then add each
/// segment's inputs while prefetching the state that a segment a few places
/// later will change. Each neuron receives its inputs in the same order as in
/// a single pass.
#[allow(clippy::too_many_arguments)]
fn deliver_batched<R: Real>(
    state: &mut LifState<R>,
    delta: bool,
    exc: bool,
    weight: R,
    chunk_index: usize,
    table: &SynapseTable,
    source: &PopulationInfo,
    view: &StepView,
    scratch: &mut DeliveryScratch,
) {
    /// How many segments ahead the state is prefetched: enough to cover a
    /// miss to L3 at a few targets per segment.
    const AHEAD: usize = 4;
    scratch.segments.clear();
    for spikes in &view.previous[source.chunks.clone()] {
        for &pre in spikes {
            let segment = table.segment(pre as usize, chunk_index);
            if !segment.is_empty() {
                crate::prefetch(&table.targets[segment.start]);
                scratch.segments.push(segment);
            }
        }
    }
    let segments = &scratch.segments;
    let prefetch_state = |state: &LifState<R>, segment: &std::ops::Range<usize>| {
        for &t in &table.targets[segment.clone()] {
            state.prefetch_input(delta, exc, t as usize);
        }
    };
    for segment in segments.iter().take(AHEAD) {
        prefetch_state(state, segment);
    }
    for (i, segment) in segments.iter().enumerate() {
        if let Some(later) = segments.get(i + AHEAD) {
            prefetch_state(state, later);
        }
        for &t in &table.targets[segment.clone()] {
            state.add_input(delta, exc, t as usize, weight, view.step);
        }
    }
}

/// Adds the spikes of the previous step to a chunk of a `NeuronChunk` model:
/// directly when due now, otherwise into its delayed-input rows.
fn deliver_to_model(
    neurons: &mut dyn NeuronChunk,
    delayed: &mut DelayedInput,
    chunk_index: usize,
    population: &PopulationInfo,
    view: &StepView,
) {
    let emitted = view.step - 1;
    let len = neurons.len();
    for &pi in &population.incoming {
        let table = &view.tables[pi];
        let source = &view.populations[view.projections[pi].from];
        for spikes in &view.previous[source.chunks.clone()] {
            for &pre in spikes {
                for i in table.segment(pre as usize, chunk_index) {
                    let d = if table.delays.is_empty() {
                        table.delay_steps
                    } else {
                        table.delays[i]
                    } as u64;
                    let w = if table.weights.is_empty() {
                        table.weight
                    } else {
                        table.weights[i] as f64
                    };
                    let t = table.targets[i] as usize;
                    if d == 1 {
                        neurons.add_input(table.exc, t, w);
                    } else {
                        delayed.add(table.exc, emitted + d, t, len, w);
                    }
                }
            }
        }
    }
}
