//! Spike codes for images: how intense a pixel is becomes when or how often
//! an input neuron fires.

use rand::Rng;

/// Rate code: pixel value x (0..255) fires as a Poisson process of rate
/// `x / 255 * max_rate_hz`. Diehl & Cook (2015) use a maximum of 63.75 Hz
/// (x / 4), raised when the network stays silent.
#[derive(Debug, Clone)]
pub struct PoissonEncoder {
    /// Spike probability of each input per step.
    probabilities: Vec<f64>,
}

impl PoissonEncoder {
    pub fn new(image: &[u8], max_rate_hz: f64, dt_ms: f64) -> Self {
        let scale = max_rate_hz * dt_ms * 1e-3 / 255.0;
        PoissonEncoder {
            probabilities: image.iter().map(|&x| (x as f64 * scale).min(1.0)).collect(),
        }
    }

    /// The rate of input `i` (Hz) given the step `dt_ms`.
    pub fn rate_hz(&self, i: usize, dt_ms: f64) -> f64 {
        self.probabilities[i] / (dt_ms * 1e-3)
    }

    /// Appends the inputs that fire in one step to `out`.
    pub fn step(&self, rng: &mut impl Rng, out: &mut Vec<u32>) {
        for (i, &p) in self.probabilities.iter().enumerate() {
            if p > 0.0 && rng.gen::<f64>() < p {
                out.push(i as u32);
            }
        }
    }
}

/// Latency code: one spike per pixel at `t_max_ms * (1 - x / 255)`, so the
/// brightest pixels fire first; pixels below `threshold` never fire.
pub fn latency_code(image: &[u8], t_max_ms: f64, threshold: u8) -> Vec<Option<f64>> {
    image
        .iter()
        .map(|&x| (x >= threshold && x > 0).then(|| t_max_ms * (1.0 - x as f64 / 255.0)))
        .collect()
}
