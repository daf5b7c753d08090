//! Shared by the integration tests.

/// Overrides turning `experiments/brunel.toml` (the paper's Fig. 8, J = 0.2 mV)
/// into NEST's brunel_delta_nest.py variant: J = 0.1 mV, -g J = -0.5 mV and an
/// external rate of 2 nu_thr = 20 Hz (the variant of Brian2's reference run).
pub const BRUNEL_J01: [&str; 8] = [
    "projections.exc_exc.weight=0.1",
    "projections.exc_inh.weight=0.1",
    "projections.inh_exc.weight=-0.5",
    "projections.inh_inh.weight=-0.5",
    "populations.exc.external.weight=0.1",
    "populations.inh.external.weight=0.1",
    "populations.exc.external.rate_hz=20",
    "populations.inh.external.rate_hz=20",
];
