//! Voltage-gated channel kinetics shared by the conductance-based models
//! (point Hodgkin-Huxley neurons and active compartments): opening and
//! closing rates alpha(v), beta(v) in 1/ms, v in mV.
//!
//! A gate x with rates alpha, beta follows dx/dt = alpha (1 - x) - beta x;
//! over a step dt with v held fixed it relaxes exactly to
//! x_inf = alpha / (alpha + beta) with time constant 1 / (alpha + beta)
//! (the Rush-Larsen / exponential-Euler gate update, `relax_gate`).

/// e^x to within about 2 ulp for |x| <= 700 (arguments are clamped there),
/// without a library call, so that loops over neurons evaluating the rates
/// vectorise (see `super::exp_negative`, whose range reduction also holds
/// for positive x up to ~709).
#[inline(always)]
pub fn exp(x: f64) -> f64 {
    super::exp_negative(x.min(700.0))
}

/// x / (e^x - 1), continuous at x = 0 (where the rate expressions of the
/// form a (v - v0) / (1 - e^{-(v - v0)/k}) have a removable singularity).
/// Both branches are computed and one selected, which keeps it branch-free.
#[inline(always)]
pub fn x_over_expm1(x: f64) -> f64 {
    // Series to x^4 (truncation below 2e-15 for |x| < 1e-3); beyond, the
    // cancellation in e^x - 1 costs at most ~1e-13 relative.
    let x2 = x * x;
    let series = 1.0 - x / 2.0 + x2 / 12.0 - x2 * x2 / 720.0;
    let direct = x / (exp(x) - 1.0);
    if x.abs() < 1e-3 {
        series
    } else {
        direct
    }
}

/// Temperature factor of the rates: q10^((celsius - reference) / 10).
pub fn q10_factor(q10: f64, celsius: f64, reference_celsius: f64) -> f64 {
    q10.powf((celsius - reference_celsius) / 10.0)
}

/// Gate value after `dt` with constant rates: exact exponential relaxation.
#[inline(always)]
pub fn relax_gate(x: f64, alpha: f64, beta: f64, dt: f64) -> f64 {
    let sum = alpha + beta;
    let x_inf = alpha / sum;
    x_inf + (x - x_inf) * super::exp_negative(-dt * sum)
}

/// Steady state of a gate at constant v.
#[inline]
pub fn gate_steady_state((alpha, beta): (f64, f64)) -> f64 {
    alpha / (alpha + beta)
}

/// Hodgkin & Huxley (1952), J Physiol 117:500, squid giant axon at 6.3 °C,
/// in the modern convention (rest near -65 mV, depolarisation positive).
/// Multiply the rates by `q10_factor(3.0, celsius, 6.3)` at other temperatures.
pub mod squid {
    use super::{exp, x_over_expm1};

    /// Sodium activation m.
    #[inline(always)]
    pub fn m(v: f64) -> (f64, f64) {
        // 0.1 (v + 40) / (1 - e^{-(v + 40)/10}) = x / (e^x - 1) with x = -(v + 40)/10.
        (x_over_expm1(-(v + 40.0) / 10.0), 4.0 * exp(-(v + 65.0) / 18.0))
    }

    /// Sodium inactivation h.
    #[inline(always)]
    pub fn h(v: f64) -> (f64, f64) {
        (0.07 * exp(-(v + 65.0) / 20.0), 1.0 / (1.0 + exp(-(v + 35.0) / 10.0)))
    }

    /// Potassium activation n.
    #[inline(always)]
    pub fn n(v: f64) -> (f64, f64) {
        // 0.01 (v + 55) / (1 - e^{-(v + 55)/10}) = 0.1 x / (e^x - 1) with x = -(v + 55)/10.
        (0.1 * x_over_expm1(-(v + 55.0) / 10.0), 0.125 * exp(-(v + 65.0) / 80.0))
    }

    /// Maximal conductances (mS/cm^2), reversal potentials (mV) and membrane
    /// capacitance (uF/cm^2) of the squid axon.
    pub const G_NA: f64 = 120.0;
    pub const G_K: f64 = 36.0;
    pub const G_LEAK: f64 = 0.3;
    pub const E_NA: f64 = 50.0;
    pub const E_K: f64 = -77.0;
    pub const E_LEAK: f64 = -54.387;
    pub const C_M: f64 = 1.0;
}

/// Traub & Miles (1991) kinetics as used by Brette et al. (2007),
/// benchmark 3 (the COBA-HH network), with the threshold-shift parameter
/// `v_t` (-63 mV there).
pub mod traub_miles {
    use super::{exp, x_over_expm1};

    #[inline(always)]
    pub fn m(v: f64, v_t: f64) -> (f64, f64) {
        // 0.32 (13 - v + v_t) / (e^{(13 - v + v_t)/4} - 1) = 1.28 x / (e^x - 1), x = (13 - v + v_t)/4.
        let alpha = 1.28 * x_over_expm1((13.0 - v + v_t) / 4.0);
        // 0.28 (v - v_t - 40) / (e^{(v - v_t - 40)/5} - 1) = 1.4 x / (e^x - 1), x = (v - v_t - 40)/5.
        let beta = 1.4 * x_over_expm1((v - v_t - 40.0) / 5.0);
        (alpha, beta)
    }

    #[inline(always)]
    pub fn h(v: f64, v_t: f64) -> (f64, f64) {
        (
            0.128 * exp((17.0 - v + v_t) / 18.0),
            4.0 / (1.0 + exp((40.0 - v + v_t) / 5.0)),
        )
    }

    #[inline(always)]
    pub fn n(v: f64, v_t: f64) -> (f64, f64) {
        // 0.032 (15 - v + v_t) / (e^{(15 - v + v_t)/5} - 1) = 0.16 x / (e^x - 1), x = (15 - v + v_t)/5.
        (
            0.16 * x_over_expm1((15.0 - v + v_t) / 5.0),
            0.5 * exp((10.0 - v + v_t) / 40.0),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removable_singularities_are_continuous() {
        for x in [-1e-3, -1e-7, 0.0, 1e-7, 1e-3] {
            let exact = if x == 0.0 { 1.0 } else { x / f64::exp_m1(x) };
            assert!((x_over_expm1(x) - exact).abs() < 1e-12, "x = {x}");
        }
        // The squid m rate at v = -40 mV: 0.1 * 10 = 1/ms.
        assert!((squid::m(-40.0).0 - 1.0).abs() < 1e-12);
        assert!((squid::n(-55.0).0 - 0.1).abs() < 1e-12);
    }

    #[test]
    fn squid_resting_gates_match_hodgkin_huxley() {
        // Resting values at -65 mV quoted throughout the literature
        // (e.g. Dayan & Abbott 2001, ch. 5): m 0.0529, h 0.5961, n 0.3177.
        let v = -65.0;
        assert!((gate_steady_state(squid::m(v)) - 0.0529).abs() < 5e-4);
        assert!((gate_steady_state(squid::h(v)) - 0.5961).abs() < 5e-4);
        assert!((gate_steady_state(squid::n(v)) - 0.3177).abs() < 5e-4);
    }

    #[test]
    fn traub_miles_rates_match_the_published_formulas() {
        let v_t = -63.0;
        for v in [-80.0, -63.0, -50.0, -23.0, 0.0, 20.0] {
            let (am, bm) = traub_miles::m(v, v_t);
            let want_am = 0.32 * (13.0 - v + v_t) / (((13.0 - v + v_t) / 4.0_f64).exp() - 1.0);
            let want_bm = 0.28 * (v - v_t - 40.0) / (((v - v_t - 40.0) / 5.0_f64).exp() - 1.0);
            let (an, _) = traub_miles::n(v, v_t);
            let want_an = 0.032 * (15.0 - v + v_t) / (((15.0 - v + v_t) / 5.0_f64).exp() - 1.0);
            for (got, want) in [(am, want_am), (bm, want_bm), (an, want_an)] {
                if want.is_finite() {
                    assert!(
                        (got - want).abs() < 1e-9 * want.abs().max(1.0),
                        "v = {v}: {got} vs {want}"
                    );
                }
            }
        }
    }

    #[test]
    fn vectorisable_exp_matches_std_exp() {
        let mut worst = 0.0f64;
        for i in -69_999..=69_999 {
            let x = i as f64 * 0.01 + 1e-7;
            worst = worst.max(((exp(x) - x.exp()) / x.exp()).abs());
        }
        assert!(worst < 1e-15, "worst relative error {worst:e}");
        for x in [-2e-3, -1.0001e-3, -0.9999e-3, 0.9999e-3, 1.0001e-3, 0.5, -3.0] {
            let exact = x / f64::exp_m1(x);
            assert!((x_over_expm1(x) - exact).abs() < 1e-12, "x = {x}");
        }
    }

    #[test]
    fn relax_gate_reaches_the_steady_state() {
        let (a, b) = squid::n(-30.0);
        let mut x = 0.0;
        for _ in 0..10_000 {
            x = relax_gate(x, a, b, 0.01);
        }
        assert!((x - a / (a + b)).abs() < 1e-12);
    }
}
