//! Seeded random streams. Every stream is named by the experiment seed and a
//! few integers (purpose, population or projection, chunk), never by a thread,
//! so results do not depend on how work is split across threads.

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

pub type Stream = Xoshiro256PlusPlus;

/// What a stream is used for; part of its name.
#[derive(Debug, Clone, Copy)]
#[repr(u64)]
pub enum Purpose {
    Connectivity = 1,
    InitialState = 2,
    Noise = 3,
    Weights = 4,
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The stream for (seed, purpose, owner, chunk).
pub fn stream(seed: u64, purpose: Purpose, owner: usize, chunk: usize) -> Stream {
    let mut h = splitmix(seed);
    h = splitmix(h ^ purpose as u64);
    h = splitmix(h ^ owner as u64);
    h = splitmix(h ^ chunk as u64);
    Xoshiro256PlusPlus::seed_from_u64(h)
}

/// A uniform number in (0, 1], safe to take the logarithm of.
#[inline]
pub fn open_unit(rng: &mut Stream) -> f64 {
    use rand::RngCore;
    ((rng.next_u64() >> 11) as f64 + 1.0) * (1.0 / (1u64 << 53) as f64)
}

/// Poisson numbers of a fixed mean by inversion of a precomputed CDF (the
/// external drive uses one mean for the whole run).
#[derive(Debug, Clone)]
pub struct PoissonTable {
    cdf: Vec<f64>,
    large: Option<rand_distr::Poisson<f64>>,
}

impl PoissonTable {
    pub fn new(mean: f64) -> Self {
        if mean > 1000.0 {
            return PoissonTable {
                cdf: Vec::new(),
                large: Some(rand_distr::Poisson::new(mean).expect("positive mean")),
            };
        }
        let mut cdf = Vec::new();
        let mut p = (-mean).exp();
        let mut total = p;
        let mut k = 0.0;
        while total < 1.0 - 1e-15 && cdf.len() < 10_000 {
            cdf.push(total);
            k += 1.0;
            p *= mean / k;
            total += p;
        }
        cdf.push(1.0);
        PoissonTable { cdf, large: None }
    }

    #[inline]
    pub fn sample(&self, rng: &mut Stream) -> u32 {
        if let Some(dist) = &self.large {
            use rand::distributions::Distribution;
            return dist.sample(rng) as u32;
        }
        let u = 1.0 - open_unit(rng);
        let mut k = 0;
        while self.cdf[k] <= u && k + 1 < self.cdf.len() {
            k += 1;
        }
        k as u32
    }
}
