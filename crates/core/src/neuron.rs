//! Neuron models: compiled parameters (propagators computed once for dt) and
//! the per-chunk update over struct-of-arrays state.

use crate::model::{Init, Lif, Receptor, SynapseModel};
use crate::rng::{PoissonTable, Stream};
use rand::Rng;
use rand_distr::{Distribution, Normal};

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
    /// Change of v over a step from the bias current alone (mV).
    pub bias_step: f64,
    /// Conductance model: leak conductance (nS), dt / C (ms/pF), reversal potentials, bias (pA).
    pub g_l: f64,
    pub dt_over_c: f64,
    pub e_exc: f64,
    pub e_inh: f64,
    pub i_bias: f64,
    pub external: Option<External>,
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
            bias_step: lif.i_bias_pa * lif.tau_m_ms / lif.c_m_pf * (1.0 - p22),
            g_l: lif.c_m_pf / lif.tau_m_ms,
            dt_over_c: dt / lif.c_m_pf,
            e_exc: lif.e_exc_mv,
            e_inh: lif.e_inh_mv,
            i_bias: lif.i_bias_pa,
            external,
        }
    }
}

/// State of one chunk of LIF neurons, struct-of-arrays.
#[derive(Debug, Clone)]
pub struct LifState {
    pub v: Vec<f64>,
    /// Synaptic current (pA) or conductance (nS); unused for delta synapses.
    pub g_exc: Vec<f64>,
    pub g_inh: Vec<f64>,
    /// Steps of refractoriness left.
    pub refractory: Vec<u32>,
    /// Input arriving in future steps: `slots` rows of `len` neurons.
    pub ring_exc: Vec<f64>,
    pub ring_inh: Vec<f64>,
    pub slots: usize,
}

pub fn draw_init(init: &Init, n: usize, rng: &mut Stream) -> Vec<f64> {
    match *init {
        Init::Value(x) => vec![x; n],
        Init::Uniform { uniform: [a, b] } => (0..n).map(|_| a + (b - a) * rng.gen::<f64>()).collect(),
        Init::Normal { normal: [m, s], min } => {
            let dist = Normal::new(m, s).expect("validated standard deviation");
            let floor = min.unwrap_or(f64::NEG_INFINITY);
            (0..n).map(|_| dist.sample(rng).max(floor)).collect()
        }
    }
}

impl LifState {
    pub fn new(lif: &Lif, len: usize, slots: usize, rng: &mut Stream) -> Self {
        let v = draw_init(lif.v_init_mv.as_ref().unwrap_or(&Init::Value(lif.e_l_mv)), len, rng);
        let g_exc = draw_init(&lif.g_exc_init, len, rng);
        let g_inh = draw_init(&lif.g_inh_init, len, rng);
        LifState {
            v,
            g_exc,
            g_inh,
            refractory: vec![0; len],
            ring_exc: vec![0.0; slots * len],
            ring_inh: vec![0.0; slots * len],
            slots,
        }
    }

    /// Advances every neuron by one step, after the inputs arriving in this
    /// step (ring slot `slot`) have been added. Spiking neurons' offsets
    /// within the chunk are pushed to `spikes`. Returns false if any state
    /// became non-finite.
    pub fn update(&mut self, k: &LifKernel, slot: usize, rng: &mut Stream, spikes: &mut Vec<u32>) -> bool {
        let len = self.v.len();
        let row = slot * len..(slot + 1) * len;
        let (in_exc, in_inh) = (&mut self.ring_exc[row.clone()], &mut self.ring_inh[row]);
        if let Some(ext) = &k.external {
            let target = if ext.exc { &mut *in_exc } else { &mut *in_inh };
            for x in target.iter_mut() {
                let count = ext.counts.sample(rng);
                if count > 0 {
                    *x += count as f64 * ext.weight;
                }
            }
        }
        let mut finite = true;
        match k.synapse {
            SynapseModel::Delta => {
                let (v, refr) = (&mut self.v, &mut self.refractory);
                for j in 0..len {
                    let input = in_exc[j] + in_inh[j];
                    in_exc[j] = 0.0;
                    in_inh[j] = 0.0;
                    if refr[j] > 0 {
                        // Inputs during refractoriness are lost, as in NEST's iaf_psc_delta.
                        refr[j] -= 1;
                        continue;
                    }
                    let vj = k.e_l + (v[j] + input - k.e_l) * k.p22 + k.bias_step;
                    finite &= vj.is_finite();
                    if vj >= k.v_th {
                        v[j] = k.v_reset;
                        refr[j] = k.refractory_steps;
                        spikes.push(j as u32);
                    } else {
                        v[j] = vj;
                    }
                }
            }
            SynapseModel::CurrentExp => {
                let (v, ge, gi, refr) = (&mut self.v, &mut self.g_exc, &mut self.g_inh, &mut self.refractory);
                for j in 0..len {
                    let ie = ge[j] + in_exc[j];
                    let ii = gi[j] + in_inh[j];
                    in_exc[j] = 0.0;
                    in_inh[j] = 0.0;
                    ge[j] = ie * k.p11_exc;
                    gi[j] = ii * k.p11_inh;
                    if refr[j] > 0 {
                        refr[j] -= 1;
                        continue;
                    }
                    let vj = k.e_l + (v[j] - k.e_l) * k.p22 + ie * k.p21_exc + ii * k.p21_inh + k.bias_step;
                    finite &= vj.is_finite();
                    if vj >= k.v_th {
                        v[j] = k.v_reset;
                        refr[j] = k.refractory_steps;
                        spikes.push(j as u32);
                    } else {
                        v[j] = vj;
                    }
                }
            }
            SynapseModel::ConductanceExp => {
                let (v, ge, gi, refr) = (&mut self.v, &mut self.g_exc, &mut self.g_inh, &mut self.refractory);
                for j in 0..len {
                    let gej = ge[j] + in_exc[j];
                    let gij = gi[j] + in_inh[j];
                    in_exc[j] = 0.0;
                    in_inh[j] = 0.0;
                    ge[j] = gej * k.p11_exc;
                    gi[j] = gij * k.p11_inh;
                    if refr[j] > 0 {
                        refr[j] -= 1;
                        continue;
                    }
                    // Exponential Euler: with the conductances held over the
                    // step, v relaxes exactly towards their weighted reversal.
                    let g_total = k.g_l + gej + gij;
                    let v_inf = (k.g_l * k.e_l + gej * k.e_exc + gij * k.e_inh + k.i_bias) / g_total;
                    let vj = v_inf + (v[j] - v_inf) * (-k.dt_over_c * g_total).exp();
                    finite &= vj.is_finite();
                    if vj >= k.v_th {
                        v[j] = k.v_reset;
                        refr[j] = k.refractory_steps;
                        spikes.push(j as u32);
                    } else {
                        v[j] = vj;
                    }
                }
            }
        }
        finite
    }

    /// First non-finite variable, for the error report.
    pub fn first_non_finite(&self) -> Option<(usize, &'static str, f64)> {
        for (name, values) in [("v", &self.v), ("g_exc", &self.g_exc), ("g_inh", &self.g_inh)] {
            if let Some((j, &x)) = values.iter().enumerate().find(|(_, x)| !x.is_finite()) {
                return Some((j, name, x));
            }
        }
        None
    }
}
