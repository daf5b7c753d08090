//! Neuron models. Each model compiles its parameters for the time step and
//! keeps the state of a chunk of neurons as struct-of-arrays.
//!
//! LIF (`lif`) has its own fast path in the engine (both precisions, exact
//! propagators). Every other model implements `NeuronChunk`, which the
//! engine drives through one call per chunk and step (`update`) and one per
//! synaptic event (`add_input`).

pub mod adex;
pub mod channels;
pub mod compartmental;
pub mod hh;
pub mod izhikevich;
pub mod lif;
pub mod morphology;
pub mod pinsky_rinzel;
pub mod relu;
pub mod swc;
pub mod synapse;

pub use adex::{Adex, AdexMethod, AdexPreset};
pub use compartmental::Compartmental;
pub use hh::Hh;
pub use izhikevich::Izhikevich;
pub use lif::{LifChunk, LifKernel, LifState};
pub use pinsky_rinzel::PinskyRinzel;
pub use relu::Relu;
pub use synapse::{SynapseParams, SynapticInput};

use crate::error::ModelError;
use crate::model::{Init, SynapseModel};
use crate::rng::Stream;
use rand::Rng;
use rand_distr::{Distribution, Normal};

/// The description of a population of one neuron model (other than LIF):
/// what the engine, the validator and the TOML schema need to know about it.
/// Adding a model: a module here with its parameter struct implementing
/// this and its state implementing `NeuronChunk`, a variant of
/// `model::Population`, its name in `model::NEURON_MODELS`, and arms in
/// `Population::neuron_spec` and `model::model_fields`.
pub trait NeuronSpec {
    /// Number of neurons (before `network.scale`).
    fn size(&self) -> usize;

    /// How synaptic weights act on it (their unit).
    fn synapse(&self) -> SynapseModel;

    /// Recordable state variables.
    fn variables(&self) -> &'static [&'static str];

    /// Range and consistency checks; `at(field)` is the field's path for errors.
    fn validate(&self, dt: f64, at: &dyn Fn(&str) -> String) -> Result<(), ModelError>;

    /// The state of `len` neurons, initial values drawn from `rng`.
    fn build(&self, len: usize, dt: f64, rng: &mut Stream) -> Box<dyn NeuronChunk>;
}

/// A chunk of neurons of one model (other than LIF), advanced by the engine.
///
/// Implementations keep struct-of-arrays state and vectorisable update
/// loops; `update` must not allocate.
pub trait NeuronChunk: Send + Sync + std::fmt::Debug {
    /// Number of neurons in the chunk.
    fn len(&self) -> usize;

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Called once per step before that step's inputs are added.
    fn begin_step(&mut self, _step: u64) {}

    /// Adds an input due in this step to neuron `j`: a jump of the
    /// receptor's synaptic variable by `w`, in the unit of the population's
    /// synapse model (mV for delta, pA for current_exp, nS for conductance_exp).
    fn add_input(&mut self, exc: bool, j: usize, w: f64);

    /// Advances every neuron by one step and pushes the offsets (within the
    /// chunk) of the neurons that spiked. Returns false if the state became
    /// non-finite.
    fn update(&mut self, step: u64, rng: &mut Stream, spikes: &mut Vec<u32>) -> bool;

    /// The recordable state variables, e.g. `["v", "u"]`.
    fn variables(&self) -> &'static [&'static str];

    /// True value of `variable` for neuron `j` (one of `variables()`).
    fn value(&self, variable: &str, j: usize) -> f64;

    /// First non-finite variable (neuron, name, value), for the error report.
    fn first_non_finite(&self) -> Option<(usize, &'static str, f64)>;
}

/// Floating-point type of the neuron state: `f64` (the default, as in
/// Brian2 and NEST) or `f32` (`precision = "single"`: half the memory traffic
/// and twice the vector width; propagators are computed in f64 and rounded).
pub trait Real:
    Copy
    + Send
    + Sync
    + PartialOrd
    + std::fmt::Debug
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::Div<Output = Self>
    + std::ops::AddAssign
    + 'static
{
    const ZERO: Self;
    fn from_f64(x: f64) -> Self;
    fn to_f64(self) -> f64;
    fn mul_add(self, a: Self, b: Self) -> Self;
    /// e^self for self <= 0, vectorisable.
    fn exp_negative(self) -> Self;
    /// phi1(self) = (1 - e^-self) / self for |self| <= `PHI1_MAX`, to
    /// within 2 ulp, vectorisable, with no division or range reduction.
    fn phi1_small(self) -> Self;
    /// Largest |argument| of `phi1_small`.
    const PHI1_MAX: Self;
    fn is_finite(self) -> bool;
}

impl Real for f64 {
    const ZERO: Self = 0.0;
    #[inline(always)]
    fn from_f64(x: f64) -> Self {
        x
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }
    #[inline(always)]
    fn mul_add(self, a: Self, b: Self) -> Self {
        f64::mul_add(self, a, b)
    }
    #[inline(always)]
    fn exp_negative(self) -> Self {
        exp_negative(self)
    }
    const PHI1_MAX: Self = PHI1_MAX;
    #[inline(always)]
    fn phi1_small(self) -> Self {
        phi1_small(self)
    }
    #[inline(always)]
    fn is_finite(self) -> bool {
        f64::is_finite(self)
    }
}

impl Real for f32 {
    const ZERO: Self = 0.0;
    #[inline(always)]
    fn from_f64(x: f64) -> Self {
        x as f32
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }
    #[inline(always)]
    fn mul_add(self, a: Self, b: Self) -> Self {
        f32::mul_add(self, a, b)
    }
    #[inline(always)]
    fn exp_negative(self) -> Self {
        exp_negative_f32(self)
    }
    const PHI1_MAX: Self = PHI1_MAX as f32;
    #[inline(always)]
    fn phi1_small(self) -> Self {
        phi1_small_f32(self)
    }
    #[inline(always)]
    fn is_finite(self) -> bool {
        f32::is_finite(self)
    }
}

/// True when `v` has reached `threshold`, and for NaN: one test for both.
#[inline(always)]
#[allow(clippy::neg_cmp_op_on_partial_ord)]
pub fn crossed(v: f64, threshold: f64) -> bool {
    !(v < threshold)
}

/// Pushes to `spikes` the offsets of the neurons whose `v` reached
/// `threshold`; returns false if any `v` or `other` (a second state
/// variable) is not finite, in which case those neurons are not pushed.
/// Crossings are rare: blocks of 16 without any are skipped by one
/// vectorised test.
pub fn scan_crossings(v: &[f64], other: &[f64], threshold: f64, spikes: &mut Vec<u32>) -> bool {
    const BLOCK: usize = 16;
    let mut finite = true;
    for (b, (vs, os)) in v.chunks(BLOCK).zip(other.chunks(BLOCK)).enumerate() {
        let any = vs
            .iter()
            .zip(os)
            .fold(false, |any, (&v, &o)| any | crossed(v, threshold) | !o.is_finite());
        if !any {
            continue;
        }
        for (i, (&v, &o)) in vs.iter().zip(os).enumerate() {
            if !(v.is_finite() && o.is_finite()) {
                finite = false;
            } else if crossed(v, threshold) {
                spikes.push((b * BLOCK + i) as u32);
            }
        }
    }
    finite
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

fn convert<R: Real>(values: Vec<f64>) -> Vec<R> {
    values.into_iter().map(R::from_f64).collect()
}

/// e^x for x <= 0, to within about 2 ulp, written so that loops calling it
/// vectorise (std's `exp` is a library call that does not). Range reduction
/// x = k ln 2 + r with |r| <= ln 2 / 2, then a degree-12 Taylor polynomial
/// (truncation error below 2e-16), then scaling by 2^k through the exponent
/// bits. Arguments below -700 give e^-700 (about 1e-304), not 0. Fused
/// multiply-adds throughout: half the instructions of separate multiplies
/// and adds (the exponential was 40 % of COBA's run time).
#[inline(always)]
pub fn exp_negative(x: f64) -> f64 {
    const ROUND: f64 = 6_755_399_441_055_744.0; // 1.5 * 2^52: adding it rounds to an integer
    const LN2_HI: f64 = 0.693_147_180_369_123_8;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    let x = x.max(-700.0);
    let shifted = x.mul_add(std::f64::consts::LOG2_E, ROUND);
    let k = shifted - ROUND;
    let r = (-k).mul_add(LN2_LO, (-k).mul_add(LN2_HI, x));
    let mut p = 1.0 / 479_001_600.0;
    p = p.mul_add(r, 1.0 / 39_916_800.0);
    p = p.mul_add(r, 1.0 / 3_628_800.0);
    p = p.mul_add(r, 1.0 / 362_880.0);
    p = p.mul_add(r, 1.0 / 40_320.0);
    p = p.mul_add(r, 1.0 / 5_040.0);
    p = p.mul_add(r, 1.0 / 720.0);
    p = p.mul_add(r, 1.0 / 120.0);
    p = p.mul_add(r, 1.0 / 24.0);
    p = p.mul_add(r, 1.0 / 6.0);
    p = p.mul_add(r, 0.5);
    p = p.mul_add(r, 1.0);
    p = p.mul_add(r, 1.0);
    let exponent = shifted.to_bits().wrapping_sub(ROUND.to_bits()).wrapping_add(1023) << 52;
    p * f64::from_bits(exponent)
}

/// e^x for x <= 0 in single precision, to within about 2 ulp (see
/// `exp_negative`; degree-7 polynomial, truncation error below 5e-9).
/// Arguments below -87 give e^-87 (about 1.6e-38).
#[inline(always)]
pub fn exp_negative_f32(x: f32) -> f32 {
    const ROUND: f32 = 12_582_912.0; // 1.5 * 2^23
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    let x = x.max(-87.0);
    let shifted = x.mul_add(std::f32::consts::LOG2_E, ROUND);
    let k = shifted - ROUND;
    let r = (-k).mul_add(LN2_LO, (-k).mul_add(LN2_HI, x));
    let mut p = 1.0 / 5_040.0;
    p = p.mul_add(r, 1.0 / 720.0);
    p = p.mul_add(r, 1.0 / 120.0);
    p = p.mul_add(r, 1.0 / 24.0);
    p = p.mul_add(r, 1.0 / 6.0);
    p = p.mul_add(r, 0.5);
    p = p.mul_add(r, 1.0);
    p = p.mul_add(r, 1.0);
    let exponent = shifted.to_bits().wrapping_sub(ROUND.to_bits()).wrapping_add(127) << 23;
    p * f32::from_bits(exponent)
}

/// Largest |argument| of `phi1_small`: there its truncation error is below
/// 1 / 19! (8e-18, f64) and 1 / 11! (3e-8, f32). It covers conductances up
/// to C / dt (2 uS for C = 200 pF and dt = 0.1 ms: ten times what the COBA
/// benchmark's neurons reach).
pub const PHI1_MAX: f64 = 1.0;

/// phi1(z) = (1 - e^-z) / z for |z| <= `PHI1_MAX`: its Taylor series
/// sum_k (-z)^k / (k + 1)! to degree 17, evaluated by Estrin's scheme (five
/// levels of fused multiply-adds instead of Horner's seventeen: the
/// conductance-based update it serves is bound by latency).
///
/// Exponential Euler for dv/dt = (drive - g v) / C over a step dt is
/// v + a phi1(a g) (drive - g v) with a = dt / C: the same result as
/// v_inf + (v - v_inf) e^(-a g) with v_inf = drive / g, without the division
/// and the exponential's range reduction.
#[inline(always)]
pub fn phi1_small(z: f64) -> f64 {
    let c = &PHI1_COEFFICIENTS;
    let y = -z;
    let y2 = y * y;
    let y4 = y2 * y2;
    let y8 = y4 * y4;
    let y16 = y8 * y8;
    let pair = |k: usize| c[k + 1].mul_add(y, c[k]);
    let quad = |k: usize| pair(k + 2).mul_add(y2, pair(k));
    let octet = |k: usize| quad(k + 4).mul_add(y4, quad(k));
    let low = octet(8).mul_add(y8, octet(0));
    pair(16).mul_add(y16, low)
}

/// `phi1_small` in single precision: degree 9.
#[inline(always)]
pub fn phi1_small_f32(z: f32) -> f32 {
    let c = &PHI1_COEFFICIENTS_F32;
    let y = -z;
    let y2 = y * y;
    let y4 = y2 * y2;
    let y8 = y4 * y4;
    let pair = |k: usize| c[k + 1].mul_add(y, c[k]);
    let quad = |k: usize| pair(k + 2).mul_add(y2, pair(k));
    let low = quad(4).mul_add(y4, quad(0));
    pair(8).mul_add(y8, low)
}

/// phi1's Taylor coefficients 1 / (k + 1)!, k = 0..=17 (exact factorials:
/// 18! < 2^53).
const PHI1_COEFFICIENTS: [f64; 18] = {
    let mut c = [0.0; 18];
    let mut factorial = 1.0;
    let mut k = 0;
    while k < 18 {
        factorial *= (k + 1) as f64;
        c[k] = 1.0 / factorial;
        k += 1;
    }
    c
};

/// The first ten, rounded to f32 (the same values as dividing in f32).
const PHI1_COEFFICIENTS_F32: [f32; 10] = {
    let mut c = [0.0; 10];
    let mut k = 0;
    while k < 10 {
        c[k] = PHI1_COEFFICIENTS[k] as f32;
        k += 1;
    }
    c
};

#[cfg(test)]
mod tests {
    use super::{exp_negative, exp_negative_f32, phi1_small, phi1_small_f32, PHI1_MAX};

    /// phi1 against (1 - e^-z) / z, computed where that is accurate: by
    /// -expm1(-z) / z in f64 (and for f32 against the f64 value).
    #[test]
    fn phi1_small_matches_its_definition() {
        let (mut worst, mut worst_f32) = (0.0f64, 0.0f64);
        for i in -100_000..=100_000 {
            let z = PHI1_MAX * i as f64 / 100_000.0;
            let exact = if z == 0.0 { 1.0 } else { -(-z).exp_m1() / z };
            worst = worst.max(((phi1_small(z) - exact) / exact).abs());
            worst_f32 = worst_f32.max(((phi1_small_f32(z as f32) as f64 - exact) / exact).abs());
        }
        // phi1_small is within 2 ulp of the exact value (checked in exact
        // rational arithmetic); the reference here adds its own rounding.
        assert!(worst < 6e-16, "worst relative error {worst:e}");
        assert!(worst_f32 < 3e-7, "worst relative error (f32) {worst_f32:e}");
        assert_eq!(phi1_small(0.0), 1.0);
    }

    #[test]
    fn exp_negative_f32_matches_std_exp() {
        let mut worst = 0.0f64;
        for i in 0..200_000 {
            let x = -(i as f32) * 0.0004;
            let exact = (x as f64).exp();
            worst = worst.max(((exp_negative_f32(x) as f64 - exact) / exact).abs());
        }
        assert!(worst < 3e-7, "worst relative error {worst:e}");
        assert_eq!(exp_negative_f32(0.0), 1.0);
    }

    #[test]
    fn exp_negative_matches_std_exp() {
        let mut worst = 0.0f64;
        for i in 0..200_000 {
            let x = -(i as f64) * 0.0035 - 1e-9 * i as f64;
            let exact = x.exp();
            let rel = ((exp_negative(x) - exact) / exact).abs();
            worst = worst.max(rel);
        }
        assert!(worst < 1e-15, "worst relative error {worst:e}");
        assert_eq!(exp_negative(0.0), 1.0);
        assert!(exp_negative(-1e6) > 0.0 && exp_negative(-1e6) < 1e-300);
    }
}
