//! Checks a model before anything is built: every error names the field (as a
//! dotted path) and the value. Called for TOML and builder models alike.

use crate::error::ModelError;
use crate::model::*;
use crate::neuron::SynapseParams;

/// Bytes the engine stores per synapse, for the memory estimate: a 16-bit
/// target index, plus 4 for a per-synapse weight, plus 2 for a per-synapse
/// delay; a plastic synapse has its own weight and 8 bytes of
/// postsynaptic index.
pub fn bytes_per_synapse(projection: &Projection) -> f64 {
    if projection.plasticity.is_some() {
        return 14.0;
    }
    let mut bytes = 2.0;
    let explicit = matches!(projection.connect, Connector::Explicit { .. });
    if explicit || !matches!(projection.weight, Weight::Value(_)) {
        bytes += 4.0;
    }
    if explicit || matches!(projection.delay_ms, Delay::Uniform { .. }) {
        bytes += 2.0;
    }
    bytes
}

/// Expected number of synapses of a projection after scaling.
pub fn expected_synapses(network: &Network, projection: &Projection) -> f64 {
    let size = |name: &str| {
        network
            .populations
            .get(name)
            .map(|p| network.scaled_size(p) as f64)
            .unwrap_or(0.0)
    };
    let (n_pre, n_post) = (size(&projection.from), size(&projection.to));
    match &projection.connect {
        Connector::FixedProbability { p, .. } => n_pre * n_post * p / network.network.scale,
        Connector::FixedIndegree { k, .. } => n_post * *k as f64,
        Connector::OneToOne => n_post,
        Connector::AllToAll { .. } => n_pre * n_post,
        Connector::Explicit { synapses } => synapses.len() as f64,
    }
}

/// Estimated peak memory of the built network (bytes): synapses, neuron state,
/// ring buffers, per-neuron statistics and recordings of fixed size.
pub fn estimate_memory(network: &Network) -> f64 {
    memory_parts(network).iter().map(|part| part.bytes).sum()
}

/// One contribution to the memory estimate, with the field that controls it.
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryPart {
    pub field: String,
    pub value: String,
    pub bytes: f64,
}

/// The memory estimate, part by part: each projection (`projections.NAME.connect`),
/// each population's state and input ring (`populations.NAME.n`), the rate
/// histogram and the state monitors.
pub fn memory_parts(network: &Network) -> Vec<MemoryPart> {
    let dt = network.simulation.dt_ms;
    let steps = (network.simulation.duration_ms / dt).max(0.0);
    let mut parts = Vec::new();
    for (name, projection) in &network.projections {
        let n_pre = network
            .populations
            .get(&projection.from)
            .map_or(0.0, |p| network.scaled_size(p) as f64);
        let n_post = network
            .populations
            .get(&projection.to)
            .map_or(0, |p| network.scaled_size(p));
        let chunks = n_post.div_ceil(crate::connect::chunk_len(n_post.max(1))) as f64;
        // Construction holds (pre, post) pairs before packing: about 8 more
        // bytes per synapse at the peak. Row offsets: one per (pre, chunk).
        let bytes =
            expected_synapses(network, projection) * (bytes_per_synapse(projection) + 8.0) + n_pre * chunks * 4.0;
        parts.push(MemoryPart {
            field: format!("projections.{name}.connect"),
            value: describe_connector(&projection.connect),
            bytes,
        });
    }
    for (name, population) in &network.populations {
        let n = network.scaled_size(population) as f64;
        // Slots of the input ring: the longest delay (in steps) into it.
        let longest = network
            .projections
            .values()
            .filter(|p| p.to == *name)
            .map(|p| {
                let ms = match (&p.connect, &p.delay_ms) {
                    (Connector::Explicit { synapses }, _) => synapses.iter().map(|s| s.3).fold(0.0, f64::max),
                    (_, Delay::Value(d)) => *d,
                    (_, Delay::Uniform { uniform }) => uniform[1],
                };
                (ms / dt).round().clamp(1.0, 65535.0)
            })
            .fold(0.0, f64::max);
        let slots = if longest >= 2.0 { longest } else { 0.0 };
        let ring = if population.is_input() { 0.0 } else { slots * n * 16.0 };
        parts.push(MemoryPart {
            field: format!("populations.{name}.n"),
            value: population.size().to_string(),
            bytes: n * 160.0 + ring,
        });
    }
    let bin_steps = (network.monitors.rate_bin_ms / dt).round().max(1.0);
    parts.push(MemoryPart {
        field: "monitors.rate_bin_ms".into(),
        value: network.monitors.rate_bin_ms.to_string(),
        bytes: network.populations.len() as f64 * (steps / bin_steps).ceil() * 4.0,
    });
    for (i, monitor) in network.monitors.state.iter().enumerate() {
        let interval = (monitor.interval_ms / dt).round().max(1.0);
        let samples = (steps / interval).ceil();
        parts.push(MemoryPart {
            field: format!("monitors.state.{i}.interval_ms"),
            value: monitor.interval_ms.to_string(),
            bytes: samples * (monitor.variables.len() * monitor.neurons.len() + 1) as f64 * 8.0,
        });
    }
    parts
}

/// A connector as TOML-like text, without the synapse list of `explicit`.
fn describe_connector(connect: &Connector) -> String {
    match connect {
        Connector::FixedProbability { p, allow_autapses } => {
            format!("{{ rule = \"fixed_probability\", p = {p}, allow_autapses = {allow_autapses} }}")
        }
        Connector::FixedIndegree {
            k,
            allow_autapses,
            allow_multapses,
        } => format!(
            "{{ rule = \"fixed_indegree\", k = {k}, allow_autapses = {allow_autapses}, allow_multapses = {allow_multapses} }}"
        ),
        Connector::OneToOne => "{ rule = \"one_to_one\" }".into(),
        Connector::AllToAll {
            allow_autapses,
            except_same_index,
        } => {
            let except = if *except_same_index { ", except_same_index = true" } else { "" };
            format!("{{ rule = \"all_to_all\", allow_autapses = {allow_autapses}{except} }}")
        }
        Connector::Explicit { synapses } => {
            format!("{{ rule = \"explicit\", synapses = [{} entries] }}", synapses.len())
        }
    }
}

/// Memory this process may still use (bytes): the system's available memory,
/// capped by the cgroup limit when there is one.
pub fn available_memory() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    let mut available = kb * 1024.0;
    let read = |path: &str| -> Option<f64> { std::fs::read_to_string(path).ok()?.trim().parse().ok() };
    if let (Some(max), Some(current)) = (read("/sys/fs/cgroup/memory.max"), read("/sys/fs/cgroup/memory.current")) {
        available = available.min((max - current).max(0.0));
    }
    Some(available)
}

const GIB: f64 = 1073741824.0;

/// Smallest non-zero connection probability (after scaling) that is sampled.
pub const MIN_PROBABILITY: f64 = 1e-12;

pub(crate) fn positive(field: String, value: f64) -> Result<(), ModelError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(ModelError::new(field, value, "must be a positive, finite number"))
    }
}

pub(crate) fn finite(field: String, value: f64) -> Result<(), ModelError> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(ModelError::new(field, value, "must be a finite number"))
    }
}

pub(crate) fn check_init(field: String, init: &Init, non_negative: bool) -> Result<(), ModelError> {
    let values: Vec<f64> = match init {
        Init::Value(v) => vec![*v],
        Init::Uniform { uniform } => {
            if uniform[0] > uniform[1] || !(uniform[1] - uniform[0]).is_finite() {
                return Err(ModelError::new(
                    field,
                    format!("{uniform:?}"),
                    "uniform range must be [low, high] with low <= high, both finite",
                ));
            }
            uniform.to_vec()
        }
        Init::Normal { normal, min } => {
            if normal[1] < 0.0 {
                return Err(ModelError::new(
                    field,
                    format!("{normal:?}"),
                    "standard deviation must be >= 0",
                ));
            }
            if non_negative && min.is_none_or(|m| m < 0.0) {
                return Err(ModelError::new(
                    field,
                    format!("{normal:?}"),
                    "a conductance drawn from a normal distribution needs `min = 0` (or higher)",
                ));
            }
            normal.to_vec()
        }
    };
    for v in values {
        finite(field.clone(), v)?;
        if non_negative && matches!(init, Init::Value(_) | Init::Uniform { .. }) && v < 0.0 {
            return Err(ModelError::new(field, v, "a conductance cannot be negative"));
        }
    }
    Ok(())
}

/// Checks a neuron model's synapse fields: positive time constants that
/// dt resolves, finite reversal potentials, non-negative initial conductances.
pub(crate) fn check_synapse(
    at: &dyn Fn(&str) -> String,
    dt: f64,
    synapse: &SynapseParams,
    g_exc_init: &Init,
    g_inh_init: &Init,
) -> Result<(), ModelError> {
    if synapse.model != SynapseModel::Delta {
        for (field, tau) in [("tau_exc_ms", synapse.tau_exc_ms), ("tau_inh_ms", synapse.tau_inh_ms)] {
            positive(at(field), tau)?;
            check_resolved(at(field), dt, tau)?;
        }
    }
    let conductance = synapse.model == SynapseModel::ConductanceExp;
    if conductance {
        finite(at("e_exc_mv"), synapse.e_exc_mv)?;
        finite(at("e_inh_mv"), synapse.e_inh_mv)?;
    }
    check_init(at("g_exc_init"), g_exc_init, conductance)?;
    check_init(at("g_inh_init"), g_inh_init, conductance)
}

/// A time constant `tau` that the step `dt` resolves (dt <= tau / 2).
pub(crate) fn check_resolved(field: String, dt: f64, tau: f64) -> Result<(), ModelError> {
    // Exact propagators stay stable for any dt, but a step longer than half a
    // time constant cannot resolve the dynamics (and the conductance step
    // freezes g over dt).
    if dt > 0.5 * tau {
        return Err(ModelError::new(
            field,
            tau,
            format!("the time step dt_ms = {dt} is too coarse for this time constant (need dt <= tau / 2)"),
        ));
    }
    Ok(())
}

/// Validates the whole model; the first problem found is returned.
pub fn validate(network: &Network) -> Result<(), ModelError> {
    let sim = &network.simulation;
    positive("simulation.dt_ms".into(), sim.dt_ms)?;
    positive("simulation.duration_ms".into(), sim.duration_ms)?;
    let steps = sim.duration_ms / sim.dt_ms;
    if steps > u32::MAX as f64 / 2.0 {
        return Err(ModelError::new(
            "simulation.duration_ms",
            sim.duration_ms,
            format!(
                "{steps:.0} steps of dt_ms = {} is more than the engine counts",
                sim.dt_ms
            ),
        ));
    }
    positive("network.scale".into(), network.network.scale)?;
    if network.populations.is_empty() {
        return Err(ModelError::new(
            "populations",
            "{}",
            "an experiment needs at least one population",
        ));
    }
    let dt = sim.dt_ms;
    for (name, population) in &network.populations {
        let at = |field: &str| format!("populations.{name}.{field}");
        let n = network.scaled_size(population);
        if n == 0 {
            return Err(ModelError::new(
                at("n"),
                population.size(),
                "a population needs at least one neuron",
            ));
        }
        if n > u32::MAX as usize / 2 {
            return Err(ModelError::new(at("n"), n, "too many neurons for one population"));
        }
        if let Some(spec) = population.neuron_spec() {
            spec.validate(dt, &at)?;
        }
        match population {
            Population::Lif(lif) => {
                positive(at("tau_m_ms"), lif.tau_m_ms)?;
                positive(at("c_m_pf"), lif.c_m_pf)?;
                finite(at("e_l_mv"), lif.e_l_mv)?;
                finite(at("v_th_mv"), lif.v_th_mv)?;
                finite(at("v_reset_mv"), lif.v_reset_mv)?;
                finite(at("i_bias_pa"), lif.i_bias_pa)?;
                if !(lif.t_ref_ms.is_finite() && lif.t_ref_ms >= 0.0) {
                    return Err(ModelError::new(at("t_ref_ms"), lif.t_ref_ms, "must be >= 0"));
                }
                finite(at("theta_plus_mv"), lif.theta_plus_mv)?;
                if !(lif.target_rate_hz.is_finite() && lif.target_rate_hz >= 0.0) {
                    return Err(ModelError::new(
                        at("target_rate_hz"),
                        lif.target_rate_hz,
                        "must be >= 0",
                    ));
                }
                if lif.target_rate_hz > 0.0 && lif.theta_plus_mv <= 0.0 {
                    return Err(ModelError::new(
                        at("target_rate_hz"),
                        lif.target_rate_hz,
                        "intrinsic plasticity adapts the threshold: it needs theta_plus_mv > 0",
                    ));
                }
                if lif.wta == Some(crate::model::Wta::Soft)
                    && !(lif.wta_inhibition_mv.is_finite() && lif.wta_inhibition_mv > 0.0)
                {
                    return Err(ModelError::new(
                        at("wta_inhibition_mv"),
                        lif.wta_inhibition_mv,
                        "soft winner-take-all needs an inhibition > 0 mV per spike",
                    ));
                }
                positive(at("tau_theta_ms"), lif.tau_theta_ms)?;
                if lif.wta.is_some() && n > crate::connect::chunk_len(n) {
                    return Err(ModelError::new(
                        at("wta"),
                        "\"hard\"",
                        format!(
                            "winner-take-all needs the population in one chunk (at most {} neurons; it has {n})",
                            crate::connect::chunk_len(1)
                        ),
                    ));
                }
                if lif.v_reset_mv >= lif.v_th_mv {
                    return Err(ModelError::new(
                        at("v_reset_mv"),
                        lif.v_reset_mv,
                        format!("reset must lie below the threshold v_th_mv = {}", lif.v_th_mv),
                    ));
                }
                let mut taus = vec![("tau_m_ms", lif.tau_m_ms)];
                if lif.synapse != SynapseModel::Delta {
                    positive(at("tau_exc_ms"), lif.tau_exc_ms)?;
                    positive(at("tau_inh_ms"), lif.tau_inh_ms)?;
                    taus.push(("tau_exc_ms", lif.tau_exc_ms));
                    taus.push(("tau_inh_ms", lif.tau_inh_ms));
                }
                if lif.synapse == SynapseModel::ConductanceExp {
                    finite(at("e_exc_mv"), lif.e_exc_mv)?;
                    finite(at("e_inh_mv"), lif.e_inh_mv)?;
                }
                for (field, tau) in taus {
                    check_resolved(at(field), dt, tau)?;
                }
                if let Some(v) = &lif.v_init_mv {
                    check_init(at("v_init_mv"), v, false)?;
                }
                let conductance = lif.synapse == SynapseModel::ConductanceExp;
                check_init(at("g_exc_init"), &lif.g_exc_init, conductance)?;
                check_init(at("g_inh_init"), &lif.g_inh_init, conductance)?;
                if let Some(ext) = &lif.external {
                    if !(ext.rate_hz.is_finite() && ext.rate_hz >= 0.0) {
                        return Err(ModelError::new(at("external.rate_hz"), ext.rate_hz, "must be >= 0"));
                    }
                    let mean = ext.count as f64 * ext.rate_hz * dt * 1e-3;
                    if mean > 1e9 {
                        return Err(ModelError::new(
                            at("external.rate_hz"),
                            ext.rate_hz,
                            format!(
                                "{} inputs at this rate give {mean:.3e} spikes per neuron and step of {dt} ms (at most 1e9)",
                                ext.count
                            ),
                        ));
                    }
                    finite(at("external.weight"), ext.weight)?;
                    if conductance && ext.weight < 0.0 {
                        return Err(ModelError::new(
                            at("external.weight"),
                            ext.weight,
                            "a conductance weight cannot be negative",
                        ));
                    }
                }
            }
            Population::Poisson(source) => match (&source.rate_hz, source.schedule.is_empty()) {
                (Some(rate), true) => {
                    if !(rate.is_finite() && *rate >= 0.0) {
                        return Err(ModelError::new(at("rate_hz"), rate, "must be >= 0"));
                    }
                    if rate * dt * 1e-3 > 1.0 {
                        return Err(ModelError::new(
                            at("rate_hz"),
                            rate,
                            format!("more than one spike per step of {dt} ms"),
                        ));
                    }
                }
                (None, false) => {
                    let mut last = -1.0;
                    for (i, [t, rate]) in source.schedule.iter().enumerate() {
                        if !(t.is_finite() && *t > last) || (i == 0 && *t != 0.0) {
                            return Err(ModelError::new(
                                at(&format!("schedule.{i}")),
                                format!("[{t}, {rate}]"),
                                "times must start at 0 and increase",
                            ));
                        }
                        if !(rate.is_finite() && *rate >= 0.0) {
                            return Err(ModelError::new(
                                at(&format!("schedule.{i}")),
                                format!("[{t}, {rate}]"),
                                "rate must be >= 0",
                            ));
                        }
                        last = *t;
                    }
                }
                _ => {
                    return Err(ModelError::new(
                        at("rate_hz"),
                        "",
                        "give exactly one of `rate_hz` and `schedule`",
                    ));
                }
            },
            Population::SpikeTimes(source) => {
                for (i, (neuron, t)) in source.spikes.iter().enumerate() {
                    if *neuron as usize >= source.n {
                        return Err(ModelError::new(
                            at(&format!("spikes.{i}")),
                            format!("[{neuron}, {t}]"),
                            format!("neuron index out of range (n = {})", source.n),
                        ));
                    }
                    if !(t.is_finite() && *t >= 0.0) {
                        return Err(ModelError::new(
                            at(&format!("spikes.{i}")),
                            format!("[{neuron}, {t}]"),
                            "time must be >= 0",
                        ));
                    }
                }
            }
            // The other neuron models validated themselves above.
            _ => {}
        }
    }
    for (name, projection) in &network.projections {
        let at = |field: &str| format!("projections.{name}.{field}");
        let pre = network.populations.get(&projection.from).ok_or_else(|| {
            ModelError::new(
                at("from"),
                format!("\"{}\"", projection.from),
                "no population of that name",
            )
        })?;
        let post = network
            .populations
            .get(&projection.to)
            .ok_or_else(|| ModelError::new(at("to"), format!("\"{}\"", projection.to), "no population of that name"))?;
        let Some(target_synapse) = post.synapse() else {
            return Err(ModelError::new(
                at("to"),
                format!("\"{}\"", projection.to),
                "an input population cannot receive synapses",
            ));
        };
        let (n_pre, n_post) = (network.scaled_size(pre), network.scaled_size(post));
        let conductance = target_synapse == SynapseModel::ConductanceExp;
        let check_delay = |field: String, d: f64| -> Result<(), ModelError> {
            if !d.is_finite() || d < dt * 0.999 {
                return Err(ModelError::new(
                    field,
                    d,
                    format!("a delay must be at least one time step ({dt} ms)"),
                ));
            }
            if d / dt > 65535.0 {
                return Err(ModelError::new(field, d, "delay too long (at most 65535 steps)"));
            }
            Ok(())
        };
        match &projection.delay_ms {
            Delay::Value(d) => check_delay(at("delay_ms"), *d)?,
            Delay::Uniform { uniform } => {
                check_delay(at("delay_ms"), uniform[0])?;
                check_delay(at("delay_ms"), uniform[1])?;
                if uniform[0] > uniform[1] {
                    return Err(ModelError::new(
                        at("delay_ms"),
                        format!("{uniform:?}"),
                        "range must be [low, high]",
                    ));
                }
            }
        }
        let weight_values: Vec<f64> = match &projection.weight {
            Weight::Value(w) => vec![*w],
            Weight::Uniform { uniform } => {
                if uniform[0] > uniform[1] || !(uniform[1] - uniform[0]).is_finite() {
                    return Err(ModelError::new(
                        at("weight"),
                        format!("{uniform:?}"),
                        "uniform range must be [low, high] with low <= high, both finite",
                    ));
                }
                uniform.to_vec()
            }
            Weight::Normal { normal } => {
                if normal[1] < 0.0 {
                    return Err(ModelError::new(
                        at("weight"),
                        format!("{normal:?}"),
                        "standard deviation must be >= 0",
                    ));
                }
                if conductance && normal[1] > 0.0 {
                    return Err(ModelError::new(
                        at("weight"),
                        format!("{normal:?}"),
                        "conductance weights cannot be drawn from a normal distribution (they could be negative); use uniform",
                    ));
                }
                normal.to_vec()
            }
        };
        let per_synapse = !matches!(projection.weight, Weight::Value(_));
        for w in weight_values {
            finite(at("weight"), w)?;
            if per_synapse && w.abs() > f32::MAX as f64 {
                return Err(ModelError::new(
                    at("weight"),
                    w,
                    "per-synapse weights are stored as 32-bit floats (at most 3.4e38 in magnitude)",
                ));
            }
            if conductance && w < 0.0 {
                return Err(ModelError::new(
                    at("weight"),
                    w,
                    format!("a conductance weight (nS) cannot be negative; inhibition into `{}` is set with receptor = \"inh\"", projection.to),
                ));
            }
        }
        if let Some(rule) = &projection.plasticity {
            let field = |name: &str| at(&format!("plasticity.{name}"));
            if let Some((name, value, reason)) = rule.problems().into_iter().next() {
                return Err(ModelError::new(field(name), value, reason));
            }
            let bounds = rule.bounds();
            if bounds.w_min < 0.0 {
                return Err(ModelError::new(
                    field("w_min"),
                    bounds.w_min,
                    "plastic weights are magnitudes (>= 0); `receptor` sets excitation or inhibition",
                ));
            }
            if let Delay::Uniform { uniform } = &projection.delay_ms {
                return Err(ModelError::new(
                    at("delay_ms"),
                    format!("{{ uniform = {uniform:?} }}"),
                    "a plastic projection has one delay for all its synapses",
                ));
            }
            let range = match &projection.weight {
                Weight::Value(w) => Some((*w, *w)),
                Weight::Uniform { uniform } => Some((uniform[0], uniform[1])),
                Weight::Normal { .. } => None,
            };
            match range {
                None => {
                    return Err(ModelError::new(
                        at("weight"),
                        format!("{:?}", projection.weight),
                        "plastic weights start from a value or a uniform range within [w_min, w_max]",
                    ))
                }
                Some((lo, hi))
                    if !matches!(projection.connect, Connector::Explicit { .. })
                        && (lo < bounds.w_min || hi > bounds.w_max) =>
                {
                    return Err(ModelError::new(
                        at("weight"),
                        if lo == hi {
                            format!("{lo}")
                        } else {
                            format!("[{lo}, {hi}]")
                        },
                        format!(
                            "initial plastic weights must lie within [w_min, w_max] = [{}, {}]",
                            bounds.w_min, bounds.w_max
                        ),
                    ));
                }
                _ => {}
            }
        }
        match &projection.connect {
            Connector::FixedProbability { p, .. } => {
                if !(p.is_finite() && (0.0..=1.0).contains(p)) {
                    return Err(ModelError::new(at("connect.p"), p, "a probability must lie in [0, 1]"));
                }
                let effective = p / network.network.scale;
                if effective > 1.0 {
                    return Err(ModelError::new(
                        at("connect.p"),
                        p,
                        "probability exceeds 1 after scaling",
                    ));
                }
                // Geometric skipping divides by ln(1 - p), which is 0 in
                // double precision for p below about 1e-16.
                if effective > 0.0 && effective < MIN_PROBABILITY {
                    return Err(ModelError::new(
                        at("connect.p"),
                        p,
                        format!(
                            "probability {effective:e} (after scaling) is too small to sample; use 0 or at least {MIN_PROBABILITY:e}"
                        ),
                    ));
                }
            }
            Connector::FixedIndegree {
                k,
                allow_multapses,
                allow_autapses,
            } => {
                let available = if !allow_autapses && projection.from == projection.to {
                    n_pre - 1
                } else {
                    n_pre
                };
                if !allow_multapses && *k > available {
                    return Err(ModelError::new(
                        at("connect.k"),
                        k,
                        format!(
                            "more inputs than `{}` has distinct neurons ({available}) without multapses",
                            projection.from
                        ),
                    ));
                }
                if *k > 0 && available == 0 {
                    return Err(ModelError::new(
                        at("connect.k"),
                        k,
                        "no presynaptic neuron to choose from",
                    ));
                }
            }
            Connector::OneToOne => {
                if n_pre != n_post {
                    return Err(ModelError::new(
                        at("connect.rule"),
                        "\"one_to_one\"",
                        format!(
                            "`{}` has {n_pre} neurons but `{}` has {n_post}",
                            projection.from, projection.to
                        ),
                    ));
                }
            }
            Connector::AllToAll { .. } => {}
            Connector::Explicit { synapses } => {
                if projection.plasticity.is_some() {
                    if let Some(&(a, b, w, d)) = synapses.iter().find(|s| s.3 != synapses[0].3) {
                        return Err(ModelError::new(
                            at("connect.synapses"),
                            format!("[{a}, {b}, {w}, {d}]"),
                            format!(
                                "a plastic projection has one delay for all its synapses (the first has {} ms)",
                                synapses[0].3
                            ),
                        ));
                    }
                    if let Some(&(a, b, w, d)) = synapses.iter().find(|s| s.2 < 0.0) {
                        return Err(ModelError::new(
                            at("connect.synapses"),
                            format!("[{a}, {b}, {w}, {d}]"),
                            "plastic weights are magnitudes (>= 0); `receptor` sets excitation or inhibition",
                        ));
                    }
                }
                for (i, &(a, b, w, d)) in synapses.iter().enumerate() {
                    let field = at(&format!("connect.synapses.{i}"));
                    let shown = format!("[{a}, {b}, {w}, {d}]");
                    if a as usize >= n_pre || b as usize >= n_post {
                        return Err(ModelError::new(
                            field,
                            shown,
                            format!(
                                "index out of range (`{}` has {n_pre}, `{}` has {n_post})",
                                projection.from, projection.to
                            ),
                        ));
                    }
                    if !w.is_finite() || w.abs() > f32::MAX as f64 || (conductance && w < 0.0) {
                        return Err(ModelError::new(
                            field,
                            shown,
                            "weight must be finite (and >= 0 for conductances)",
                        ));
                    }
                    check_delay(field, d)?;
                }
            }
        }
    }
    let monitors = &network.monitors;
    positive("monitors.rate_bin_ms".into(), monitors.rate_bin_ms)?;
    for (name, selection) in &monitors.spikes {
        let field = format!("monitors.spikes.{name}");
        let population = network
            .populations
            .get(name)
            .ok_or_else(|| ModelError::new(field.clone(), format!("\"{name}\""), "no population of that name"))?;
        match selection {
            NeuronSelection::Keyword(k) if k == "all" || k == "none" => {}
            NeuronSelection::Keyword(k) => {
                return Err(ModelError::new(
                    field,
                    format!("\"{k}\""),
                    "expected \"all\", \"none\" or a list of neuron indices",
                ));
            }
            NeuronSelection::Indices(ids) => {
                let n = network.scaled_size(population);
                if let Some(bad) = ids.iter().find(|&&i| i as usize >= n) {
                    return Err(ModelError::new(
                        field,
                        bad,
                        format!("neuron index out of range (n = {n})"),
                    ));
                }
            }
        }
    }
    for (i, monitor) in monitors.state.iter().enumerate() {
        let at = |field: &str| format!("monitors.state.{i}.{field}");
        let population = network.populations.get(&monitor.population).ok_or_else(|| {
            ModelError::new(
                at("population"),
                format!("\"{}\"", monitor.population),
                "no population of that name",
            )
        })?;
        if population.is_input() {
            return Err(ModelError::new(
                at("population"),
                format!("\"{}\"", monitor.population),
                "input populations have no state",
            ));
        }
        let known = population.variables();
        for v in &monitor.variables {
            if !known.contains(&v.as_str()) {
                let names: Vec<String> = known.iter().map(|k| format!("\"{k}\"")).collect();
                return Err(ModelError::new(
                    at("variables"),
                    format!("\"{v}\""),
                    format!("expected one of {}", names.join(", ")),
                ));
            }
        }
        let n = network.scaled_size(population);
        if let Some(bad) = monitor.neurons.iter().find(|&&k| k as usize >= n) {
            return Err(ModelError::new(
                at("neurons"),
                bad,
                format!("neuron index out of range (n = {n})"),
            ));
        }
        positive(at("interval_ms"), monitor.interval_ms)?;
        if monitor.interval_ms < dt * 0.999 {
            return Err(ModelError::new(
                at("interval_ms"),
                monitor.interval_ms,
                format!("shorter than the time step ({dt} ms)"),
            ));
        }
    }
    check_memory(network, available_memory())
}

/// Refuses a network whose estimated memory exceeds `available` bytes,
/// blaming the part that needs the most (usually the projection with the
/// most synapses).
pub fn check_memory(network: &Network, available: Option<f64>) -> Result<(), ModelError> {
    let parts = memory_parts(network);
    let needed: f64 = parts.iter().map(|p| p.bytes).sum();
    if let Some(available) = available {
        if needed > available {
            let biggest = parts
                .iter()
                .max_by(|a, b| a.bytes.total_cmp(&b.bytes))
                .expect("a validated network has a population");
            let share = if biggest.field.starts_with("projections.") {
                let name = &biggest.field["projections.".len()..biggest.field.len() - ".connect".len()];
                let synapses = expected_synapses(network, &network.projections[name]);
                format!("about {synapses:.3e} synapses, {:.1} GiB", biggest.bytes / GIB)
            } else {
                format!("{:.1} GiB", biggest.bytes / GIB)
            };
            return Err(ModelError::new(
                biggest.field.clone(),
                biggest.value.clone(),
                format!(
                    "the network needs about {:.1} GiB ({share} here) but this machine has {:.1} GiB available",
                    needed / GIB,
                    available / GIB
                ),
            ));
        }
    }
    Ok(())
}
