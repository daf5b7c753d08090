//! Leaky integrate-and-fire neurons: parameters compiled into exact
//! propagators for one step, and the per-chunk update over struct-of-arrays
//! state (double or single precision).

use super::{convert, draw_init, Real};
use crate::model::{Init, Lif, Receptor, SynapseModel};
use crate::rng::{PoissonTable, Stream};

/// LIF parameters compiled for one time step.
#[derive(Debug, Clone)]
pub struct LifKernel {
    pub synapse: SynapseModel,
    pub e_l: f64,
    pub v_th: f64,
    pub v_reset: f64,
    pub refractory_steps: u32,
    /// exp(-dt / tau_m): decay of v towards e_l.
    pub p22: f64,
    /// Effect of a unit synaptic current held over the step on v (mV/pA).
    pub p21_exc: f64,
    pub p21_inh: f64,
    /// exp(-dt / tau_syn).
    pub p11_exc: f64,
    pub p11_inh: f64,
    /// dt / tau_syn: the synaptic variables decay by exp(-k dt / tau_syn) in k steps.
    pub decay_rate_exc: f64,
    pub decay_rate_inh: f64,
    /// Where v would go in one step from 0 mV without synaptic input:
    /// `(e_l + R i_bias)(1 - p22)`, so that v' = v p22 + v_const + synaptic terms.
    pub v_const: f64,
    /// Conductance model: leak conductance (nS), dt / C (ms/pF), reversal potentials, bias (pA).
    pub g_l: f64,
    pub dt_over_c: f64,
    pub e_exc: f64,
    pub e_inh: f64,
    pub i_bias: f64,
    pub external: Option<External>,
    /// Adaptive threshold: the jump per spike (mV, 0 = none) and the
    /// per-step decay exp(-dt / tau_theta).
    pub theta_plus: f64,
    pub theta_decay: f64,
    /// Per-step fall of theta for intrinsic plasticity (mV).
    pub theta_drift: f64,
    /// At most one spike per step (`wta = "hard"`).
    pub one_spike: bool,
    /// Soft winner-take-all: v drop of the others per spike (mV), 0 = off.
    pub lateral_inhibition: f64,
}

#[derive(Debug, Clone)]
pub struct External {
    pub counts: PoissonTable,
    pub weight: f64,
    pub exc: bool,
}

/// Exact propagator from an exponentially decaying current with time
/// constant `tau_s` to the membrane potential over one step (NEST's P21,
/// Rotter & Diesmann 1999), in mV per pA.
fn current_to_voltage(dt: f64, tau_m: f64, tau_s: f64, c_m: f64) -> f64 {
    if (tau_m - tau_s).abs() < 1e-9 * tau_m {
        dt / c_m * (-dt / tau_m).exp()
    } else {
        tau_s * tau_m / (c_m * (tau_m - tau_s)) * ((-dt / tau_m).exp() - (-dt / tau_s).exp())
    }
}

impl LifKernel {
    pub fn new(lif: &Lif, dt: f64) -> Self {
        let p22 = (-dt / lif.tau_m_ms).exp();
        let external = lif.external.as_ref().map(|e| External {
            counts: PoissonTable::new(e.count as f64 * e.rate_hz * dt * 1e-3),
            weight: e.weight,
            exc: e.receptor == Receptor::Exc,
        });
        LifKernel {
            synapse: lif.synapse,
            e_l: lif.e_l_mv,
            v_th: lif.v_th_mv,
            v_reset: lif.v_reset_mv,
            refractory_steps: (lif.t_ref_ms / dt).round() as u32,
            p22,
            p21_exc: current_to_voltage(dt, lif.tau_m_ms, lif.tau_exc_ms, lif.c_m_pf),
            p21_inh: current_to_voltage(dt, lif.tau_m_ms, lif.tau_inh_ms, lif.c_m_pf),
            p11_exc: (-dt / lif.tau_exc_ms).exp(),
            p11_inh: (-dt / lif.tau_inh_ms).exp(),
            decay_rate_exc: dt / lif.tau_exc_ms,
            decay_rate_inh: dt / lif.tau_inh_ms,
            v_const: (lif.e_l_mv + lif.i_bias_pa * lif.tau_m_ms / lif.c_m_pf) * (1.0 - p22),
            g_l: lif.c_m_pf / lif.tau_m_ms,
            dt_over_c: dt / lif.c_m_pf,
            e_exc: lif.e_exc_mv,
            e_inh: lif.e_inh_mv,
            i_bias: lif.i_bias_pa,
            external,
            theta_plus: lif.theta_plus_mv,
            theta_decay: (-dt / lif.tau_theta_ms).exp(),
            theta_drift: lif.theta_plus_mv * lif.target_rate_hz * dt * 1e-3,
            one_spike: lif.wta == Some(crate::model::Wta::Hard),
            lateral_inhibition: if lif.wta == Some(crate::model::Wta::Soft) {
                lif.wta_inhibition_mv
            } else {
                0.0
            },
        }
    }
}

/// Below this the stored synaptic variables are rescaled (see `LifState::g_exc`):
/// every ~2,000 steps for tau_syn = 5 ms and dt = 0.1 ms, and stored values stay
/// within 1e18 of the true ones, far inside even f32's range.
const RESCALE_BELOW: f64 = 1e-18;

/// State of one chunk of LIF neurons, struct-of-arrays.
#[derive(Debug, Clone)]
pub struct LifState<R: Real> {
    pub v: Vec<R>,
    /// Synaptic current (pA) or conductance (nS), unused for delta synapses,
    /// stored undecayed: the true value is `g_exc[j] * decay_exc`, where the
    /// shared factor `decay_exc` = exp(-(steps since `epoch`) dt / tau_exc).
    /// The decay of every neuron's synaptic variable is then one scalar per
    /// step instead of a write of the whole array, so the update only writes
    /// v: a third of the memory traffic it had (the update is memory-bound).
    /// Inputs are added divided by the factor; when it gets small, the arrays
    /// are rescaled to true values and `epoch` restarts.
    pub g_exc: Vec<R>,
    pub g_inh: Vec<R>,
    /// Step at which the stored synaptic values were last the true ones.
    epoch: u64,
    /// Step the state is at: the next update advances it from this step.
    now: u64,
    /// The factors turning stored into true synaptic values at step `now`,
    /// and their inverses for the inputs added in this step.
    decay_exc: f64,
    decay_inh: f64,
    input_scale_exc: R,
    input_scale_inh: R,
    /// First step in which each neuron integrates again after a spike.
    pub free_from: Vec<u64>,
    /// Neurons clamped at reset, with their `free_from`, oldest first. All
    /// neurons of a population share one refractory period, so the queue is
    /// sorted by release step and the update loop itself needs no
    /// refractory test: it updates everyone, then resets the few clamped.
    pub clamped: std::collections::VecDeque<(u32, u64)>,
    /// Input arriving in later steps: `slots` rows of `len` neurons, row
    /// `t % slots` due in step `t`. Inputs with a one-step delay go straight
    /// into the state (`add_input`), so a network without longer delays has
    /// no ring and its update touches only v and g.
    pub ring_exc: Vec<R>,
    pub ring_inh: Vec<R>,
    pub slots: usize,
    /// Threshold increase of each neuron (mV); empty without an adaptive threshold.
    pub theta: Vec<R>,
    /// Whether theta adapts (off while a trained network is tested).
    pub adapt: bool,
    /// Neurons that crossed threshold in this step (one-spike populations).
    crossed: Vec<u32>,
    /// Blocks of `THRESHOLD_BLOCK` neurons in which some v ended this
    /// step's update at or above threshold (or non-finite), before the
    /// refractory neurons were clamped: the only blocks the threshold scan
    /// has to look at.
    candidate_blocks: Vec<u32>,
    /// Spikes of the previous step, for soft winner-take-all.
    last_spikes: u32,
}

impl<R: Real> LifState<R> {
    pub fn new(lif: &Lif, len: usize, slots: usize, rng: &mut Stream) -> Self {
        let v = draw_init(lif.v_init_mv.as_ref().unwrap_or(&Init::Value(lif.e_l_mv)), len, rng);
        let g_exc = draw_init(&lif.g_exc_init, len, rng);
        let g_inh = draw_init(&lif.g_inh_init, len, rng);
        LifState {
            v: convert(v),
            g_exc: convert(g_exc),
            g_inh: convert(g_inh),
            free_from: vec![0; len],
            epoch: 0,
            now: 0,
            decay_exc: 1.0,
            decay_inh: 1.0,
            input_scale_exc: R::from_f64(1.0),
            input_scale_inh: R::from_f64(1.0),
            clamped: std::collections::VecDeque::new(),
            ring_exc: vec![R::ZERO; slots * len],
            ring_inh: vec![R::ZERO; slots * len],
            slots,
            theta: if lif.theta_plus_mv != 0.0 {
                vec![R::ZERO; len]
            } else {
                Vec::new()
            },
            adapt: true,
            crossed: Vec::new(),
            candidate_blocks: Vec::new(),
            last_spikes: 0,
        }
    }

    /// Back to rest: v at `e_l`, no synaptic input, nothing refractory or
    /// pending. The adaptive thresholds are kept: they are what was learned.
    pub fn reset(&mut self, k: &LifKernel) {
        self.v.fill(R::from_f64(k.e_l));
        self.g_exc.fill(R::ZERO);
        self.g_inh.fill(R::ZERO);
        self.free_from.fill(0);
        self.clamped.clear();
        self.last_spikes = 0;
        self.ring_exc.fill(R::ZERO);
        self.ring_inh.fill(R::ZERO);
        self.epoch = self.now;
        self.decay_exc = 1.0;
        self.decay_inh = 1.0;
    }

    pub fn len(&self) -> usize {
        self.v.len()
    }

    pub fn is_empty(&self) -> bool {
        self.v.is_empty()
    }

    /// The stored values of `v`, `g_exc` or `g_inh` and the factor that
    /// turns them into true values.
    fn variable(&self, name: &str) -> (&[R], f64) {
        match name {
            "v" => (&self.v, 1.0),
            "g_exc" => (&self.g_exc, self.decay_exc),
            "g_inh" => (&self.g_inh, self.decay_inh),
            "theta" => (&self.theta, 1.0),
            _ => panic!("unknown state variable `{name}`"),
        }
    }

    /// True value of `v`, `g_exc` or `g_inh` of neuron `j`.
    pub fn value(&self, name: &str, j: usize) -> f64 {
        let (values, factor) = self.variable(name);
        values[j].to_f64() * factor
    }

    /// True values of `v`, `g_exc` or `g_inh`.
    pub fn values(&self, name: &str) -> Vec<f64> {
        let (values, factor) = self.variable(name);
        values.iter().map(|x| x.to_f64() * factor).collect()
    }

    fn set_time(&mut self, k: &LifKernel, step: u64) {
        self.now = step;
        // From the step count, not by repeated multiplication: no drift.
        let elapsed = (step - self.epoch) as f64;
        self.decay_exc = (-k.decay_rate_exc * elapsed).exp();
        self.decay_inh = (-k.decay_rate_inh * elapsed).exp();
    }

    /// Sets the decay factors for step `step` (rescaling the stored
    /// synaptic values when they get small). Call before adding this step's
    /// inputs.
    pub fn begin_step(&mut self, k: &LifKernel, step: u64) {
        if step != self.now {
            self.set_time(k, step);
        }
        if self.decay_exc.min(self.decay_inh) < RESCALE_BELOW {
            let (de, di) = (R::from_f64(self.decay_exc), R::from_f64(self.decay_inh));
            self.g_exc.iter_mut().for_each(|g| *g = *g * de);
            self.g_inh.iter_mut().for_each(|g| *g = *g * di);
            self.epoch = step;
            self.decay_exc = 1.0;
            self.decay_inh = 1.0;
        }
        self.input_scale_exc = R::from_f64(1.0 / self.decay_exc);
        self.input_scale_inh = R::from_f64(1.0 / self.decay_inh);
    }

    /// Applies an input due in the current step: a jump of v (delta
    /// synapses, lost during refractoriness as in NEST's iaf_psc_delta) or of
    /// the synaptic current or conductance.
    #[inline(always)]
    pub fn add_input(&mut self, delta: bool, exc: bool, j: usize, w: R, step: u64) {
        if delta {
            if step >= self.free_from[j] {
                self.v[j] += w;
            }
        } else if exc {
            self.g_exc[j] += w * self.input_scale_exc;
        } else {
            self.g_inh[j] += w * self.input_scale_inh;
        }
    }

    /// Starts loading the variable that `add_input` will change.
    #[inline(always)]
    pub fn prefetch_input(&self, delta: bool, exc: bool, j: usize) {
        crate::prefetch(if delta {
            &self.v[j]
        } else if exc {
            &self.g_exc[j]
        } else {
            &self.g_inh[j]
        });
    }

    /// Adds an input due in a later step (`arrival_step`, less than `slots`
    /// steps ahead) to the ring buffer.
    #[inline(always)]
    pub fn add_delayed(&mut self, exc: bool, arrival_step: u64, j: usize, w: R) {
        let len = self.v.len();
        let at = (arrival_step % self.slots as u64) as usize * len + j;
        if exc {
            self.ring_exc[at] += w;
        } else {
            self.ring_inh[at] += w;
        }
    }

    /// Advances every neuron by one step, after the inputs due in this step
    /// have been applied: the direct ones by `add_input`, the delayed ones
    /// from ring slot `step % slots` here. Spiking neurons' offsets within the
    /// chunk are pushed to `spikes`. Returns false if any state became
    /// non-finite.
    ///
    /// Passes: a branch-free update of every neuron that the compiler
    /// vectorises and that flags the blocks where v reached threshold, the
    /// reset of the clamped (refractory) neurons, then a scan of the flagged
    /// blocks for crossings, which are rare.
    // `!(v < v_th)` is meant: it is true for NaN as well as for a crossing.
    #[allow(clippy::neg_cmp_op_on_partial_ord)]
    pub fn update(&mut self, k: &LifKernel, step: u64, rng: &mut Stream, spikes: &mut Vec<u32>) -> bool {
        self.begin_step(k, step);
        let len = self.v.len();
        let delta = k.synapse == SynapseModel::Delta;
        if self.slots > 0 {
            let slot = (step % self.slots as u64) as usize;
            let row = slot * len..(slot + 1) * len;
            let (in_exc, in_inh) = (&mut self.ring_exc[row.clone()], &mut self.ring_inh[row]);
            if delta {
                for j in 0..len {
                    let input = in_exc[j] + in_inh[j];
                    // Clamped neurons are reset below, which drops this input.
                    self.v[j] += input;
                }
            } else {
                let (se, si) = (self.input_scale_exc, self.input_scale_inh);
                for j in 0..len {
                    self.g_exc[j] += in_exc[j] * se;
                    self.g_inh[j] += in_inh[j] * si;
                }
            }
            in_exc.fill(R::ZERO);
            in_inh.fill(R::ZERO);
        }
        if k.lateral_inhibition != 0.0 && self.last_spikes > 0 {
            // The previous step's spikes inhibit every neuron not refractory
            // (those that spiked are), as a delta synapse from each would.
            let drop = R::from_f64(k.lateral_inhibition * self.last_spikes as f64);
            for (v, &free) in self.v.iter_mut().zip(&self.free_from) {
                if step >= free {
                    *v = *v - drop;
                }
            }
            // A neuron is not inhibited by its own spike.
            let own = R::from_f64(k.lateral_inhibition);
            for &j in &self.crossed {
                if step >= self.free_from[j as usize] {
                    self.v[j as usize] += own;
                }
            }
        }
        let spikes_before = spikes.len();
        if let Some(ext) = &k.external {
            for j in 0..len {
                let count = ext.counts.sample(rng);
                if count > 0 {
                    self.add_input(delta, ext.exc, j, R::from_f64(count as f64 * ext.weight), step);
                }
            }
        }
        let c = |x: f64| R::from_f64(x);
        let (p22, v_const) = (c(k.p22), c(k.v_const));
        let (v_th, v_reset) = (c(k.v_th), c(k.v_reset));
        let (decay_exc, decay_inh) = (self.decay_exc, self.decay_inh);
        let (v, ge, gi) = (&mut self.v[..len], &self.g_exc[..len], &self.g_inh[..len]);
        let candidates = &mut self.candidate_blocks;
        match k.synapse {
            SynapseModel::Delta => {
                update_flagging_crossings(v, ge, gi, v_th, candidates, |x, _, _| x.mul_add(p22, v_const));
            }
            SynapseModel::CurrentExp => {
                // The stored currents' decay factors folded into the propagators.
                let (p21_exc, p21_inh) = (c(k.p21_exc * decay_exc), c(k.p21_inh * decay_inh));
                update_flagging_crossings(v, ge, gi, v_th, candidates, |x, gej, gij| {
                    // Three fused multiply-adds per neuron.
                    x.mul_add(p22, gej.mul_add(p21_exc, gij.mul_add(p21_inh, v_const)))
                });
            }
            SynapseModel::ConductanceExp => {
                let (g_l, leak_drive) = (c(k.g_l), c(k.g_l * k.e_l + k.i_bias));
                let minus_dt_over_c = c(-k.dt_over_c);
                // The stored conductances' decay factors folded into the coefficients.
                let (drive_exc, drive_inh) = (c(k.e_exc * decay_exc), c(k.e_inh * decay_inh));
                let (decay_exc, decay_inh) = (c(decay_exc), c(decay_inh));
                // Exponential Euler: with the conductances held over the step,
                // v relaxes exactly towards their weighted reversal.
                let conductance = |gej: R, gij: R| gej.mul_add(decay_exc, gij.mul_add(decay_inh, g_l));
                let drive = |gej: R, gij: R| gej.mul_add(drive_exc, gij.mul_add(drive_inh, leak_drive));
                let dt_over_c = c(k.dt_over_c);
                update_conductance_flagging_crossings(
                    v,
                    ge,
                    gi,
                    v_th,
                    candidates,
                    // The usual step: no division, no range reduction.
                    |x, gej, gij| {
                        let g_total = conductance(gej, gij);
                        let z = dt_over_c * g_total;
                        let gain = dt_over_c * z.phi1_small();
                        (gain.mul_add((R::ZERO - x).mul_add(g_total, drive(gej, gij)), x), z)
                    },
                    // For conductances beyond phi1_small's range.
                    |x, gej, gij| {
                        let g_total = conductance(gej, gij);
                        let v_inf = drive(gej, gij) / g_total;
                        v_inf + (x - v_inf) * (minus_dt_over_c * g_total).exp_negative()
                    },
                );
            }
        }
        while self.clamped.front().is_some_and(|&(_, free)| free <= step) {
            self.clamped.pop_front();
        }
        for &(j, _) in &self.clamped {
            v[j as usize] = v_reset;
        }
        if !self.theta.is_empty() || k.one_spike || k.lateral_inhibition != 0.0 {
            let finite = self.scan_adaptive(k, step, rng, spikes);
            self.last_spikes = (spikes.len() - spikes_before) as u32;
            self.set_time(k, step + 1);
            return finite;
        }
        // Only the flagged blocks can hold a crossing; clamped neurons in them
        // now sit at reset, below threshold. `!(v < v_th)` is true for a
        // crossing and for NaN: one test for both.
        let mut finite = true;
        for &b in self.candidate_blocks.iter() {
            let first = b as usize * THRESHOLD_BLOCK;
            for j in first..(first + THRESHOLD_BLOCK).min(len) {
                let x = &mut self.v[j];
                if !(*x < v_th) {
                    if x.is_finite() {
                        *x = v_reset;
                        let free = step + 1 + k.refractory_steps as u64;
                        self.free_from[j] = free;
                        if k.refractory_steps > 0 {
                            self.clamped.push_back((j as u32, free));
                        }
                        spikes.push(j as u32);
                    } else {
                        finite = false;
                    }
                }
            }
        }
        self.set_time(k, step + 1);
        finite
    }

    /// The threshold scan with per-neuron adaptive thresholds and/or one
    /// spike per step. Every neuron that crosses resets, turns refractory
    /// and raises its threshold; with `one_spike` only one of them, drawn
    /// at random, is reported as a spike (BindsNET's `one_spike`).
    #[allow(clippy::neg_cmp_op_on_partial_ord)]
    fn scan_adaptive(&mut self, k: &LifKernel, step: u64, rng: &mut Stream, spikes: &mut Vec<u32>) -> bool {
        let c = |x: f64| R::from_f64(x);
        let (v_th, v_reset) = (c(k.v_th), c(k.v_reset));
        let adaptive = !self.theta.is_empty();
        if adaptive && self.adapt {
            let (decay, drift) = (c(k.theta_decay), c(k.theta_drift));
            self.theta.iter_mut().for_each(|t| *t = *t * decay - drift);
        }
        let mut finite = true;
        self.crossed.clear();
        for j in 0..self.v.len() {
            let threshold = if adaptive { v_th + self.theta[j] } else { v_th };
            if !(self.v[j] < threshold) {
                if self.v[j].is_finite() {
                    self.crossed.push(j as u32);
                } else {
                    finite = false;
                }
            }
        }
        let free = step + 1 + k.refractory_steps as u64;
        for &j in &self.crossed {
            let j = j as usize;
            self.v[j] = v_reset;
            self.free_from[j] = free;
            if k.refractory_steps > 0 {
                self.clamped.push_back((j as u32, free));
            }
            if adaptive && self.adapt {
                self.theta[j] += c(k.theta_plus);
            }
        }
        if k.one_spike && self.crossed.len() > 1 {
            use rand::Rng;
            let winner = self.crossed[rng.gen_range(0..self.crossed.len())];
            spikes.push(winner);
        } else {
            spikes.extend_from_slice(&self.crossed);
        }
        finite
    }

    /// First non-finite variable, for the error report.
    pub fn first_non_finite(&self) -> Option<(usize, &'static str, f64)> {
        for name in ["v", "g_exc", "g_inh"] {
            let (values, factor) = self.variable(name);
            if let Some((j, &x)) = values.iter().enumerate().find(|(_, x)| !x.is_finite()) {
                return Some((j, name, x.to_f64() * factor));
            }
        }
        None
    }
}

/// Neurons per block of the fused threshold test: long enough for the
/// vectorised loop to amortise its set-up, short enough that rescanning a
/// block per crossing costs little.
const THRESHOLD_BLOCK: usize = 128;

/// Sets `v[j] = next(v[j], ge[j], gi[j])` for every neuron and lists in `candidates`
/// the blocks where some new v is not below `v_th` (a crossing or NaN).
/// Testing while v is still in registers spares the threshold scan a second
/// pass over v; blocks are few enough per crossing that rescanning them is
/// cheap.
#[allow(clippy::neg_cmp_op_on_partial_ord)]
#[inline(always)]
fn update_flagging_crossings<R: Real>(
    v: &mut [R],
    ge: &[R],
    gi: &[R],
    v_th: R,
    candidates: &mut Vec<u32>,
    next: impl Fn(R, R, R) -> R,
) {
    candidates.clear();
    let blocks = v
        .chunks_mut(THRESHOLD_BLOCK)
        .zip(ge.chunks(THRESHOLD_BLOCK))
        .zip(gi.chunks(THRESHOLD_BLOCK));
    for (b, ((vb, geb), gib)) in blocks.enumerate() {
        let mut any = false;
        for ((x, &gej), &gij) in vb.iter_mut().zip(geb).zip(gib) {
            let updated = next(*x, gej, gij);
            *x = updated;
            any |= !(updated < v_th);
        }
        if any {
            candidates.push(b as u32);
        }
    }
}

/// `update_flagging_crossings` for conductance-based synapses: `small`
/// returns the new v and the step's z = dt g / C, valid while |z| <=
/// `R::PHI1_MAX`; a block where some |z| is larger (or NaN) is redone from
/// its old values with `general`.
#[allow(clippy::neg_cmp_op_on_partial_ord)]
#[inline(always)]
fn update_conductance_flagging_crossings<R: Real>(
    v: &mut [R],
    ge: &[R],
    gi: &[R],
    v_th: R,
    candidates: &mut Vec<u32>,
    small: impl Fn(R, R, R) -> (R, R),
    general: impl Fn(R, R, R) -> R,
) {
    candidates.clear();
    // Keeping the old values costs a store per neuron; checking the block
    // first would cost a second pass over the conductances.
    let mut old = [R::ZERO; THRESHOLD_BLOCK];
    let blocks = v
        .chunks_mut(THRESHOLD_BLOCK)
        .zip(ge.chunks(THRESHOLD_BLOCK))
        .zip(gi.chunks(THRESHOLD_BLOCK));
    for (b, ((vb, geb), gib)) in blocks.enumerate() {
        let old = &mut old[..vb.len()];
        let mut any = false;
        let mut out_of_range = false;
        for (((x, kept), &gej), &gij) in vb.iter_mut().zip(old.iter_mut()).zip(geb).zip(gib) {
            *kept = *x;
            let (updated, z) = small(*x, gej, gij);
            *x = updated;
            any |= !(updated < v_th);
            // Two-sided: negative weights can make a conductance negative.
            out_of_range |= !(z <= R::PHI1_MAX && R::ZERO - z <= R::PHI1_MAX);
        }
        if out_of_range {
            any = false;
            for (((x, &kept), &gej), &gij) in vb.iter_mut().zip(old.iter()).zip(geb).zip(gib) {
                let updated = general(kept, gej, gij);
                *x = updated;
                any |= !(updated < v_th);
            }
        }
        if any {
            candidates.push(b as u32);
        }
    }
}

/// A chunk's LIF state in the precision the experiment asked for.
#[derive(Debug, Clone)]
pub enum LifChunk {
    Double(LifState<f64>),
    Single(LifState<f32>),
}

impl LifChunk {
    pub fn value(&self, variable: &str, j: usize) -> f64 {
        match self {
            LifChunk::Double(s) => s.value(variable, j),
            LifChunk::Single(s) => s.value(variable, j),
        }
    }

    pub fn values(&self, variable: &str) -> Vec<f64> {
        match self {
            LifChunk::Double(s) => s.values(variable),
            LifChunk::Single(s) => s.values(variable),
        }
    }

    pub fn first_non_finite(&self) -> Option<(usize, &'static str, f64)> {
        match self {
            LifChunk::Double(s) => s.first_non_finite(),
            LifChunk::Single(s) => s.first_non_finite(),
        }
    }
}
