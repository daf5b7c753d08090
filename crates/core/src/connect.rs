//! Building projections into synapse tables.
//!
//! A table is a CSR matrix by presynaptic neuron, each row cut into one
//! segment per chunk of the postsynaptic population; targets are 16-bit
//! offsets into their chunk. So a static synapse with a shared weight and delay
//! costs 2 bytes (plus the segment offsets), 6 with its own weight, 8 with its
//! own delay too. The segments of one row lie side by side, so delivering a
//! spike to every chunk touches one stretch of memory. Each chunk's segments
//! are drawn from the chunk's own random stream, so the table is the same
//! whatever the number of threads.

use crate::model::{Connector, Delay, Projection, Weight};
use crate::rng::{open_unit, stream, Purpose, Stream};
use rand::Rng;
use rayon::prelude::*;

/// Post-neuron range `[start, start + len)` of one chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkRange {
    pub start: usize,
    pub len: usize,
}

/// Chunk length for a population of `n` neurons: a function of `n` only (so
/// results do not depend on the thread count), at least 2048 (so per-chunk
/// overhead stays small) and at most 65,536 (16-bit offsets). Each chunk
/// looks up every presynaptic spike's segment into it, so fewer chunks mean
/// less delivery work per spike: 4 per large population, enough to balance 2
/// threads (at 100,000 neurons this took CUBA's run time down by a quarter
/// against 16). A chunk's state (20,000 neurons in double precision: 480 kB)
/// then still fits a core's L2 cache.
pub fn chunk_len(n: usize) -> usize {
    n.div_ceil(4).clamp(2048, 65_536)
}

pub fn chunk_ranges(n: usize) -> Vec<ChunkRange> {
    let len = chunk_len(n);
    (0..n.div_ceil(len))
        .map(|c| ChunkRange {
            start: c * len,
            len: len.min(n - c * len),
        })
        .collect()
}

/// The synapses of one projection that end in one post chunk (while building).
#[derive(Debug, Clone, Default)]
pub struct ChunkRows {
    /// `row_start[pre]..row_start[pre + 1]` indexes `targets`.
    pub row_start: Vec<u32>,
    /// Post neuron as an offset from the chunk's first neuron.
    pub targets: Vec<u16>,
    /// Per-synapse weights; empty when the projection has one weight.
    pub weights: Vec<f32>,
    /// Per-synapse delays in steps; empty when the projection has one delay.
    pub delays: Vec<u16>,
}

impl ChunkRows {
    pub fn len(&self) -> usize {
        self.targets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    pub fn bytes(&self) -> usize {
        self.row_start.len() * 4 + self.targets.len() * 2 + self.weights.len() * 4 + self.delays.len() * 2
    }
}

/// A built projection.
#[derive(Debug, Clone)]
pub struct SynapseTable {
    pub pre: usize,
    pub post: usize,
    pub exc: bool,
    /// Shared weight, when `weights` is empty.
    pub weight: f64,
    /// Shared delay in steps, when `delays` is empty.
    pub delay_steps: u16,
    pub max_delay_steps: u16,
    /// Number of post chunks.
    pub n_chunks: usize,
    /// `offsets[pre * n_chunks + c]..offsets[pre * n_chunks + c + 1]` indexes
    /// the synapses from `pre` into chunk `c`.
    pub offsets: Vec<u32>,
    /// Post neuron as an offset from its chunk's first neuron.
    pub targets: Vec<u16>,
    /// Per-synapse weights; empty when the projection has one weight.
    pub weights: Vec<f32>,
    /// Per-synapse delays in steps; empty when the projection has one delay.
    pub delays: Vec<u16>,
    /// Synapses leaving each presynaptic neuron (for synaptic-event counts).
    pub out_degree: Vec<u32>,
    /// For a plastic projection, its synapses, which its post chunks own
    /// (the arrays above are then empty).
    pub plastic_synapses: usize,
}

impl SynapseTable {
    pub fn synapses(&self) -> usize {
        self.targets.len() + self.plastic_synapses
    }

    pub fn is_plastic(&self) -> bool {
        self.offsets.is_empty()
    }

    pub fn bytes(&self) -> usize {
        self.offsets.len() * 4 + self.targets.len() * 2 + self.weights.len() * 4 + self.delays.len() * 2
    }

    /// Synapse indices from `pre` into post chunk `chunk`.
    #[inline]
    pub fn segment(&self, pre: usize, chunk: usize) -> std::ops::Range<usize> {
        let i = pre * self.n_chunks + chunk;
        self.offsets[i] as usize..self.offsets[i + 1] as usize
    }

    /// Packs the chunks' rows so that each presynaptic neuron's segments are
    /// adjacent.
    fn pack(n_pre: usize, chunks: Vec<ChunkRows>) -> (Vec<u32>, Vec<u16>, Vec<f32>, Vec<u16>) {
        let total: usize = chunks.iter().map(ChunkRows::len).sum();
        let has_weights = chunks.iter().any(|c| !c.weights.is_empty());
        let has_delays = chunks.iter().any(|c| !c.delays.is_empty());
        let mut offsets = Vec::with_capacity(n_pre * chunks.len() + 1);
        let mut targets = Vec::with_capacity(total);
        let mut weights = Vec::with_capacity(if has_weights { total } else { 0 });
        let mut delays = Vec::with_capacity(if has_delays { total } else { 0 });
        offsets.push(0u32);
        for pre in 0..n_pre {
            for chunk in &chunks {
                let (a, b) = (chunk.row_start[pre] as usize, chunk.row_start[pre + 1] as usize);
                targets.extend_from_slice(&chunk.targets[a..b]);
                if has_weights {
                    weights.extend_from_slice(&chunk.weights[a..b]);
                }
                if has_delays {
                    delays.extend_from_slice(&chunk.delays[a..b]);
                }
                offsets.push(targets.len() as u32);
            }
        }
        (offsets, targets, weights, delays)
    }
}

/// Everything `build` needs besides the projection itself.
pub struct BuildContext<'a> {
    pub projection: &'a Projection,
    pub index: usize,
    pub seed: u64,
    pub dt_ms: f64,
    pub n_pre: usize,
    pub n_post: usize,
    /// Pre and post are the same population (for autapses).
    pub same_population: bool,
    /// Divides fixed-probability `p` (network scaling).
    pub scale: f64,
    pub exc: bool,
}

fn delay_steps(delay_ms: f64, dt_ms: f64) -> u16 {
    (delay_ms / dt_ms).round().clamp(1.0, 65_535.0) as u16
}

/// Builds a projection's synapses, chunk by chunk in parallel: one set of
/// rows per chunk of the postsynaptic population.
pub fn build_rows(ctx: &BuildContext) -> Vec<ChunkRows> {
    chunk_ranges(ctx.n_post)
        .par_iter()
        .enumerate()
        .map(|(c, range)| build_chunk(ctx, c, *range))
        .collect()
}

/// Builds a projection's table, chunk by chunk in parallel.
pub fn build(ctx: &BuildContext) -> SynapseTable {
    let chunks = build_rows(ctx);
    table(ctx, chunks, true)
}

/// The table of a plastic projection: its counts and delay, with the
/// synapses themselves (`rows`, returned) left to the chunks that own them.
pub fn build_plastic(ctx: &BuildContext) -> (SynapseTable, Vec<ChunkRows>) {
    let mut chunks = build_rows(ctx);
    let shared = ctx.projection.weight.mean() as f32;
    for rows in &mut chunks {
        if rows.weights.is_empty() {
            rows.weights = vec![shared; rows.targets.len()];
        }
    }
    let table = table(ctx, chunks.clone(), false);
    (table, chunks)
}

fn table(ctx: &BuildContext, chunks: Vec<ChunkRows>, pack: bool) -> SynapseTable {
    let mut out_degree = vec![0u32; ctx.n_pre];
    for chunk in &chunks {
        for (pre, degree) in out_degree.iter_mut().enumerate() {
            *degree += chunk.row_start[pre + 1] - chunk.row_start[pre];
        }
    }
    let (weight, delay) = match &ctx.projection.connect {
        Connector::Explicit { synapses } if ctx.projection.plasticity.is_some() => {
            (0.0, synapses.first().map_or(1, |s| delay_steps(s.3, ctx.dt_ms)))
        }
        Connector::Explicit { .. } => (0.0, 1),
        _ => (
            ctx.projection.weight.mean(),
            match ctx.projection.delay_ms {
                Delay::Value(d) => delay_steps(d, ctx.dt_ms),
                Delay::Uniform { .. } => 1,
            },
        ),
    };
    let max_delay = chunks
        .iter()
        .flat_map(|c| c.delays.iter().copied())
        .max()
        .unwrap_or(delay)
        .max(delay);
    let n_chunks = chunks.len();
    let plastic_synapses = if pack {
        0
    } else {
        chunks.iter().map(ChunkRows::len).sum()
    };
    let (offsets, targets, weights, delays) = if pack {
        SynapseTable::pack(ctx.n_pre, chunks)
    } else {
        Default::default()
    };
    SynapseTable {
        pre: ctx.n_pre,
        post: ctx.n_post,
        exc: ctx.exc,
        weight,
        delay_steps: delay,
        max_delay_steps: max_delay,
        n_chunks,
        offsets,
        targets,
        weights,
        delays,
        out_degree,
        plastic_synapses,
    }
}

fn build_chunk(ctx: &BuildContext, chunk: usize, range: ChunkRange) -> ChunkRows {
    let mut rng = stream(ctx.seed, Purpose::Connectivity, ctx.index, chunk);
    let mut rows = match &ctx.projection.connect {
        Connector::FixedProbability { p, allow_autapses } => {
            let skip_same = !allow_autapses && ctx.same_population;
            fixed_probability(ctx, range, p / ctx.scale, skip_same, &mut rng)
        }
        Connector::AllToAll {
            allow_autapses,
            except_same_index,
        } => {
            let skip_same = (!allow_autapses && ctx.same_population) || *except_same_index;
            fixed_probability(ctx, range, 1.0, skip_same, &mut rng)
        }
        Connector::FixedIndegree {
            k,
            allow_autapses,
            allow_multapses,
        } => {
            let pairs = fixed_indegree(ctx, range, *k, *allow_autapses, *allow_multapses, &mut rng);
            from_pairs(ctx.n_pre, pairs)
        }
        Connector::OneToOne => {
            let pairs = (0..range.len).map(|j| ((range.start + j) as u32, j as u16)).collect();
            from_pairs(ctx.n_pre, pairs)
        }
        Connector::Explicit { synapses } => return explicit(ctx, range, synapses),
    };
    let mut wrng = stream(ctx.seed, Purpose::Weights, ctx.index, chunk);
    let n = rows.targets.len();
    match ctx.projection.weight {
        Weight::Value(_) => {}
        Weight::Uniform { uniform: [a, b] } => {
            rows.weights = (0..n).map(|_| (a + (b - a) * wrng.gen::<f64>()) as f32).collect();
        }
        Weight::Normal { normal: [m, s] } => {
            use rand_distr::{Distribution, Normal};
            let dist = Normal::new(m, s).expect("validated standard deviation");
            rows.weights = (0..n).map(|_| dist.sample(&mut wrng) as f32).collect();
        }
    }
    if let Delay::Uniform { uniform: [a, b] } = ctx.projection.delay_ms {
        rows.delays = (0..n)
            .map(|_| delay_steps(a + (b - a) * wrng.gen::<f64>(), ctx.dt_ms))
            .collect();
    }
    rows
}

/// Bernoulli(p) for every (pre, post) pair, by geometric skipping: the cost is
/// one draw per synapse plus one per row.
/// `skip_same`: no synapse from neuron i to neuron i.
fn fixed_probability(ctx: &BuildContext, range: ChunkRange, p: f64, skip_same: bool, rng: &mut Stream) -> ChunkRows {
    let mut row_start = Vec::with_capacity(ctx.n_pre + 1);
    let expected = (ctx.n_pre as f64 * range.len as f64 * p * 1.05) as usize + 16;
    let mut targets: Vec<u16> = Vec::with_capacity(expected);
    row_start.push(0u32);
    let log_q = (-p).ln_1p();
    for pre in 0..ctx.n_pre {
        if p >= 1.0 {
            targets.extend((0..range.len).map(|j| j as u16));
        } else if p > 0.0 {
            let mut j: f64 = -1.0;
            loop {
                j += 1.0 + (open_unit(rng).ln() / log_q).floor();
                if j >= range.len as f64 {
                    break;
                }
                targets.push(j as u16);
            }
        }
        if skip_same && pre >= range.start && pre < range.start + range.len {
            let begin = *row_start.last().unwrap() as usize;
            let local = (pre - range.start) as u16;
            if let Some(at) = targets[begin..].iter().position(|&t| t == local) {
                targets.remove(begin + at);
            }
        }
        row_start.push(targets.len() as u32);
    }
    ChunkRows {
        row_start,
        targets,
        weights: Vec::new(),
        delays: Vec::new(),
    }
}

fn fixed_indegree(
    ctx: &BuildContext,
    range: ChunkRange,
    k: usize,
    autapses: bool,
    multapses: bool,
    rng: &mut Stream,
) -> Vec<(u32, u16)> {
    let mut pairs = Vec::with_capacity(range.len * k);
    let mut chosen: Vec<u32> = Vec::with_capacity(k);
    for j in 0..range.len {
        let post = range.start + j;
        chosen.clear();
        while chosen.len() < k {
            let pre = rng.gen_range(0..ctx.n_pre) as u32;
            if !autapses && ctx.same_population && pre as usize == post {
                continue;
            }
            if !multapses && chosen.contains(&pre) {
                continue;
            }
            chosen.push(pre);
        }
        pairs.extend(chosen.iter().map(|&pre| (pre, j as u16)));
    }
    pairs
}

/// Packs (pre, local post) pairs into rows by a counting sort, keeping the
/// order of pairs within a row.
fn from_pairs(n_pre: usize, pairs: Vec<(u32, u16)>) -> ChunkRows {
    let mut row_start = vec![0u32; n_pre + 1];
    for &(pre, _) in &pairs {
        row_start[pre as usize + 1] += 1;
    }
    for i in 0..n_pre {
        row_start[i + 1] += row_start[i];
    }
    let mut fill = row_start.clone();
    let mut targets = vec![0u16; pairs.len()];
    for &(pre, post) in &pairs {
        targets[fill[pre as usize] as usize] = post;
        fill[pre as usize] += 1;
    }
    ChunkRows {
        row_start,
        targets,
        weights: Vec::new(),
        delays: Vec::new(),
    }
}

fn explicit(ctx: &BuildContext, range: ChunkRange, synapses: &[(u32, u32, f64, f64)]) -> ChunkRows {
    let mut mine: Vec<(u32, u16, f32, u16)> = synapses
        .iter()
        .filter(|s| (s.1 as usize) >= range.start && (s.1 as usize) < range.start + range.len)
        .map(|&(pre, post, w, d)| {
            (
                pre,
                (post as usize - range.start) as u16,
                w as f32,
                delay_steps(d, ctx.dt_ms),
            )
        })
        .collect();
    mine.sort_by_key(|s| s.0);
    let pairs = mine.iter().map(|s| (s.0, s.1)).collect();
    let mut rows = from_pairs(ctx.n_pre, pairs);
    rows.weights = mine.iter().map(|s| s.2).collect();
    rows.delays = mine.iter().map(|s| s.3).collect();
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::*;

    fn ctx(projection: &Projection, n_pre: usize, n_post: usize) -> BuildContext<'_> {
        BuildContext {
            projection,
            index: 0,
            seed: 7,
            dt_ms: 0.1,
            n_pre,
            n_post,
            same_population: true,
            scale: 1.0,
            exc: true,
        }
    }

    fn projection(connect: Connector) -> Projection {
        Projection {
            from: "a".into(),
            to: "a".into(),
            connect,
            weight: Weight::Value(1.0),
            delay_ms: Delay::Value(0.1),
            receptor: None,
            plasticity: None,
        }
    }

    #[test]
    fn fixed_probability_count_matches_binomial() {
        let p = projection(Connector::FixedProbability {
            p: 0.02,
            allow_autapses: true,
        });
        let table = build(&ctx(&p, 4000, 4000));
        let expected = 4000.0 * 4000.0 * 0.02;
        let sd = (expected * 0.98f64).sqrt();
        let got = table.synapses() as f64;
        assert!(
            (got - expected).abs() < 4.0 * sd,
            "{got} synapses, expected {expected} ± {sd}"
        );
        // Homogeneous weight and delay: 2 bytes per synapse plus row pointers.
        let per_synapse = table.bytes() as f64 / got;
        assert!(per_synapse < 3.0, "{per_synapse} bytes per synapse");
    }

    #[test]
    fn fixed_indegree_without_autapses_or_multapses() {
        let p = projection(Connector::FixedIndegree {
            k: 50,
            allow_autapses: false,
            allow_multapses: false,
        });
        let table = build(&ctx(&p, 1500, 1500));
        let mut indegree = vec![0usize; 1500];
        let mut seen = std::collections::HashSet::new();
        let ranges = chunk_ranges(1500);
        for (c, range) in ranges.iter().enumerate() {
            for pre in 0..1500 {
                for i in table.segment(pre, c) {
                    let post = range.start + table.targets[i] as usize;
                    assert_ne!(pre, post, "autapse");
                    assert!(seen.insert((pre, post)), "multapse {pre}->{post}");
                    indegree[post] += 1;
                }
            }
        }
        assert!(indegree.iter().all(|&k| k == 50));
    }

    #[test]
    fn one_to_one_and_all_to_all() {
        let p = projection(Connector::OneToOne);
        let t = build(&ctx(&p, 1000, 1000));
        assert_eq!(t.synapses(), 1000);
        assert!(t.out_degree.iter().all(|&d| d == 1));
        let p = projection(Connector::AllToAll {
            allow_autapses: false,
            except_same_index: false,
        });
        let t = build(&ctx(&p, 700, 700));
        assert_eq!(t.synapses(), 700 * 699);
    }
}
