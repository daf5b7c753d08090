//! Synaptic input shared by the neuron models other than LIF: delta
//! (a jump of v), exponentially decaying currents, or exponentially decaying
//! conductances with reversal potentials, one excitatory and one inhibitory
//! channel per neuron.
//!
//! As in LIF, the decaying variables are stored undecayed with one shared
//! decay factor per channel, so that a step's decay costs no write of the
//! arrays; `begin_step` rescales them when the factor gets small.

use crate::model::SynapseModel;

/// Below this the stored values are rescaled to true ones.
const RESCALE_BELOW: f64 = 1e-18;

/// Synaptic parameters as given in a model description.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SynapseParams {
    pub model: SynapseModel,
    pub tau_exc_ms: f64,
    pub tau_inh_ms: f64,
    pub e_exc_mv: f64,
    pub e_inh_mv: f64,
}

/// The synaptic state of a chunk of neurons.
#[derive(Debug, Clone)]
pub struct SynapticInput {
    pub model: SynapseModel,
    /// Stored (undecayed) excitatory and inhibitory currents (pA) or
    /// conductances (nS); true value = stored * `decay_exc` / `decay_inh`.
    g_exc: Vec<f64>,
    g_inh: Vec<f64>,
    /// Delta synapses: the jumps of v (mV) due in this step; cleared by `end_step`.
    jumps: Vec<f64>,
    /// Whether any jump arrived this step (most steps of most neurons have none).
    any_jump: bool,
    rate_exc: f64,
    rate_inh: f64,
    pub e_exc: f64,
    pub e_inh: f64,
    epoch: u64,
    now: u64,
    decay_exc: f64,
    decay_inh: f64,
}

impl SynapticInput {
    /// `g_exc`, `g_inh`: initial true values (pA or nS), one per neuron.
    pub fn new(params: &SynapseParams, dt: f64, g_exc: Vec<f64>, g_inh: Vec<f64>) -> Self {
        let len = g_exc.len();
        let delta = params.model == SynapseModel::Delta;
        SynapticInput {
            model: params.model,
            g_exc,
            g_inh,
            jumps: if delta { vec![0.0; len] } else { Vec::new() },
            any_jump: false,
            rate_exc: dt / params.tau_exc_ms,
            rate_inh: dt / params.tau_inh_ms,
            e_exc: params.e_exc_mv,
            e_inh: params.e_inh_mv,
            epoch: 0,
            now: 0,
            decay_exc: 1.0,
            decay_inh: 1.0,
        }
    }

    fn set_time(&mut self, step: u64) {
        self.now = step;
        let elapsed = (step - self.epoch) as f64;
        self.decay_exc = (-self.rate_exc * elapsed).exp();
        self.decay_inh = (-self.rate_inh * elapsed).exp();
    }

    /// Call at the start of each step, before its inputs are added.
    pub fn begin_step(&mut self, step: u64) {
        if step != self.now {
            self.set_time(step);
        }
        if self.decay_exc.min(self.decay_inh) < RESCALE_BELOW {
            let (de, di) = (self.decay_exc, self.decay_inh);
            self.g_exc.iter_mut().for_each(|g| *g *= de);
            self.g_inh.iter_mut().for_each(|g| *g *= di);
            self.epoch = step;
            self.decay_exc = 1.0;
            self.decay_inh = 1.0;
        }
    }

    /// Adds a synaptic event due in this step (mV for delta, pA or nS otherwise).
    #[inline]
    pub fn add(&mut self, exc: bool, j: usize, w: f64) {
        match (self.model, exc) {
            (SynapseModel::Delta, _) => {
                self.jumps[j] += w;
                self.any_jump = true;
            }
            (_, true) => self.g_exc[j] += w / self.decay_exc,
            (_, false) => self.g_inh[j] += w / self.decay_inh,
        }
    }

    /// The current into every neuron at membrane potentials `v` (pA; zero
    /// for delta synapses), held over this step, written to `out`.
    pub fn currents(&self, v: &[f64], out: &mut [f64]) {
        let (de, di) = (self.decay_exc, self.decay_inh);
        match self.model {
            SynapseModel::Delta => out.fill(0.0),
            SynapseModel::CurrentExp => {
                for ((o, &ge), &gi) in out.iter_mut().zip(&self.g_exc).zip(&self.g_inh) {
                    *o = ge * de + gi * di;
                }
            }
            SynapseModel::ConductanceExp => {
                let (ee, ei) = (self.e_exc, self.e_inh);
                for (((o, &ge), &gi), &v) in out.iter_mut().zip(&self.g_exc).zip(&self.g_inh).zip(v) {
                    *o = ge * de * (ee - v) + gi * di * (ei - v);
                }
            }
        }
    }

    /// The current into neuron `j` at membrane potential `v` (pA).
    #[inline]
    pub fn current(&self, j: usize, v: f64) -> f64 {
        match self.model {
            SynapseModel::Delta => 0.0,
            SynapseModel::CurrentExp => self.g_exc[j] * self.decay_exc + self.g_inh[j] * self.decay_inh,
            SynapseModel::ConductanceExp => {
                self.g_exc[j] * self.decay_exc * (self.e_exc - v) + self.g_inh[j] * self.decay_inh * (self.e_inh - v)
            }
        }
    }

    /// True excitatory and inhibitory conductances (nS) or currents (pA) of neuron `j`.
    #[inline]
    pub fn conductances(&self, j: usize) -> (f64, f64) {
        (self.g_exc[j] * self.decay_exc, self.g_inh[j] * self.decay_inh)
    }

    /// The stored excitatory and inhibitory values with their decay factors
    /// (true value = stored * factor), for update loops over all neurons.
    pub fn stored(&self) -> (&[f64], f64, &[f64], f64) {
        (&self.g_exc, self.decay_exc, &self.g_inh, self.decay_inh)
    }

    /// Delta synapses: the jumps of v (mV) due in this step (empty otherwise).
    pub fn jumps(&self) -> &[f64] {
        &self.jumps
    }

    /// Whether any delta-synapse jump arrived in this step (so that update
    /// loops can skip adding zeros).
    pub fn has_jumps(&self) -> bool {
        self.any_jump
    }

    /// Call at the end of each step: clears the jumps and lets the
    /// synaptic variables decay over the step.
    pub fn end_step(&mut self, step: u64) {
        if self.any_jump {
            self.jumps.fill(0.0);
            self.any_jump = false;
        }
        self.set_time(step + 1);
    }

    /// `g_exc` or `g_inh` of neuron `j` (true value), or None for another name.
    pub fn value(&self, variable: &str, j: usize) -> Option<f64> {
        match variable {
            "g_exc" => Some(self.g_exc[j] * self.decay_exc),
            "g_inh" => Some(self.g_inh[j] * self.decay_inh),
            _ => None,
        }
    }

    /// First non-finite value among a model's own state arrays (`(name,
    /// values)`, in that order), then among the synaptic variables.
    pub fn first_non_finite_after(&self, own: &[(&'static str, &[f64])]) -> Option<(usize, &'static str, f64)> {
        own.iter()
            .find_map(|&(name, values)| {
                let j = values.iter().position(|x| !x.is_finite())?;
                Some((j, name, values[j]))
            })
            .or_else(|| self.first_non_finite())
    }

    /// First non-finite synaptic variable.
    pub fn first_non_finite(&self) -> Option<(usize, &'static str, f64)> {
        for (name, values, factor) in [
            ("g_exc", &self.g_exc, self.decay_exc),
            ("g_inh", &self.g_inh, self.decay_inh),
        ] {
            if let Some(j) = values.iter().position(|x| !x.is_finite()) {
                return Some((j, name, values[j] * factor));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_decays_exactly_across_rescaling() {
        let params = SynapseParams {
            model: SynapseModel::CurrentExp,
            tau_exc_ms: 2.0,
            tau_inh_ms: 3.0,
            e_exc_mv: 0.0,
            e_inh_mv: -80.0,
        };
        let mut s = SynapticInput::new(&params, 0.1, vec![0.0], vec![0.0]);
        for step in 0..5000u64 {
            s.begin_step(step);
            if step == 10 {
                s.add(true, 0, 50.0);
                s.add(false, 0, -20.0);
            }
            if step >= 10 {
                let t = (step - 10) as f64 * 0.1;
                let want = 50.0 * (-t / 2.0).exp() - 20.0 * (-t / 3.0).exp();
                assert!((s.current(0, -65.0) - want).abs() < 1e-12 * 50.0, "step {step}");
            }
            s.end_step(step);
        }
    }
}
