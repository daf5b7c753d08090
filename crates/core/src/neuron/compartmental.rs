//! Multi-compartment neurons (`model = "compartmental"`): the cable
//! equation on a tree of sections (`morphology`), discretised into
//! isopotential compartments and integrated with backward Euler, the
//! tree-structured linear system solved in O(n) by Hines' (1984) ordering
//! (parents before children), as in NEURON (Hines & Carnevale 1997).
//!
//! Each compartment i: `C_i dV_i/dt = -sum_ch g_ch (V_i - E_ch)
//! + sum_j g_ij (V_j - V_i) + I_i`, with C_i = c_m * area, leak and channel
//! conductances = density * area, and axial conductances g_ij = 1 / (R_a *
//! (path between the two centres) / cross-section). Hodgkin-Huxley (1952)
//! squid Na and K channels are optional per section kind (`hh_sections`);
//! their gates are advanced first, exactly for the step's voltage
//! (`channels::relax_gate`), which makes the voltage system linear.
//!
//! Units inside: um, pF, nS, mV, ms, pA (C dV/dt in pF mV/ms = pA).
//! Recordable: `v` (soma), `v_syn` (the compartment where synapses land),
//! `v_probe` (the compartment at `probe_section`/`probe_x`), `g_exc`, `g_inh`.
//! Spikes are upward crossings of `spike_threshold_mv` at the soma.

use super::channels::{gate_steady_state, q10_factor, relax_gate, squid};
use super::morphology::{Morphology, SectionKind, SectionSpec};
use super::synapse::{SynapseParams, SynapticInput};
use super::{crossed, draw_init, NeuronChunk, NeuronSpec};
use crate::error::ModelError;
use crate::model::{FieldKind, FieldSpec, Init, SynapseModel};
use crate::rng::Stream;
use crate::validate::{check_synapse, finite, positive};
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;
use std::sync::Arc;

/// Membrane and channel parameters of a cable (densities per membrane area).
#[derive(Debug, Clone, PartialEq)]
pub struct CableParams {
    /// Specific capacitance (uF/cm^2).
    pub c_m_uf_cm2: f64,
    /// Axial resistivity (ohm cm).
    pub r_a_ohm_cm: f64,
    /// Passive leak conductance density (mS/cm^2) = 1000 / R_m[ohm cm^2].
    pub g_leak_ms_cm2: f64,
    pub e_leak_mv: f64,
    /// Section kinds with squid HH channels (Na, K and the HH leak instead of the passive one).
    pub hh_sections: Vec<SectionKind>,
    pub g_na_ms_cm2: f64,
    pub g_k_ms_cm2: f64,
    pub g_leak_hh_ms_cm2: f64,
    pub e_leak_hh_mv: f64,
    pub e_na_mv: f64,
    pub e_k_mv: f64,
    /// Temperature (°C); rates scale with Q10 = 3 from 6.3 °C.
    pub celsius: f64,
    /// d_lambda rule for sections without a compartment count.
    pub d_lambda: f64,
}

impl Default for CableParams {
    fn default() -> Self {
        CableParams {
            c_m_uf_cm2: 1.0,
            r_a_ohm_cm: 100.0,
            g_leak_ms_cm2: 0.1,
            e_leak_mv: -65.0,
            hh_sections: vec![SectionKind::Soma, SectionKind::Axon],
            g_na_ms_cm2: squid::G_NA,
            g_k_ms_cm2: squid::G_K,
            g_leak_hh_ms_cm2: squid::G_LEAK,
            e_leak_hh_mv: squid::E_LEAK,
            e_na_mv: squid::E_NA,
            e_k_mv: squid::E_K,
            celsius: 6.3,
            d_lambda: 0.1,
        }
    }
}

/// The discretised cell: structure and conductances shared by all neurons
/// of a population. Compartments are numbered section by section (parents
/// first), from the 0 end to the 1 end, so every parent precedes its child.
#[derive(Debug, Clone)]
pub struct Cable {
    /// Parent compartment (`usize::MAX` for compartment 0).
    pub parent: Vec<usize>,
    /// Axial conductance to the parent (nS).
    pub g_axial_ns: Vec<f64>,
    pub capacitance_pf: Vec<f64>,
    pub area_um2: Vec<f64>,
    g_leak_ns: Vec<f64>,
    e_leak_mv: Vec<f64>,
    /// Sum of the axial conductances of each compartment (to its parent and
    /// its children, nS): their part of the diagonal, the same every step.
    g_axial_sum_ns: Vec<f64>,
    /// Compartments with HH channels and their maximal conductances (nS).
    active: Vec<usize>,
    g_na_ns: Vec<f64>,
    g_k_ns: Vec<f64>,
    e_na_mv: f64,
    e_k_mv: f64,
    rate_scale: f64,
    /// First compartment and compartment count of each section.
    pub first: Vec<usize>,
    pub counts: Vec<usize>,
    pub lengths_um: Vec<f64>,
}

/// Voltages, gates and solver scratch of one cell.
#[derive(Debug, Clone)]
pub struct CellState {
    pub v: Vec<f64>,
    /// Gates of the active compartments, in `Cable::active` order.
    pub m: Vec<f64>,
    pub h: Vec<f64>,
    pub n: Vec<f64>,
    diag: Vec<f64>,
    rhs: Vec<f64>,
    /// Scratch: v of the active compartments, gathered so that the gate
    /// loop runs over contiguous arrays (and vectorises).
    v_active: Vec<f64>,
}

impl Cable {
    pub fn new(morphology: &Morphology, p: &CableParams) -> Cable {
        let counts = morphology.compartment_counts(p.d_lambda, p.r_a_ohm_cm, p.c_m_uf_cm2);
        let total: usize = counts.iter().sum();
        let mut cable = Cable {
            parent: Vec::with_capacity(total),
            g_axial_ns: Vec::with_capacity(total),
            capacitance_pf: Vec::with_capacity(total),
            area_um2: Vec::with_capacity(total),
            g_leak_ns: Vec::with_capacity(total),
            e_leak_mv: Vec::with_capacity(total),
            g_axial_sum_ns: Vec::new(),
            active: Vec::new(),
            g_na_ns: Vec::new(),
            g_k_ns: Vec::new(),
            e_na_mv: p.e_na_mv,
            e_k_mv: p.e_k_mv,
            rate_scale: q10_factor(3.0, p.celsius, 6.3),
            first: Vec::with_capacity(counts.len()),
            counts: counts.clone(),
            lengths_um: morphology.sections.iter().map(|s| s.length_um).collect(),
        };
        // Axial resistance (MOhm-free form): R [ohm] = R_a[ohm cm] * l[um] / A[um^2] * 1e4,
        // so g [nS] = 1e5 * A / (R_a l); `resistance` below is R_a l / A (ohm cm / um).
        let g_from = |resistance: f64| 1e5 / resistance;
        for (s, section) in morphology.sections.iter().enumerate() {
            let n = counts[s];
            let dx = section.length_um / n as f64;
            let cross = PI * section.diameter_um * section.diameter_um / 4.0;
            let area = PI * section.diameter_um * dx;
            let hh = p.hh_sections.contains(&section.kind);
            cable.first.push(cable.parent.len());
            for k in 0..n {
                let i = cable.parent.len();
                if k > 0 {
                    cable.parent.push(i - 1);
                    cable.g_axial_ns.push(g_from(p.r_a_ohm_cm * dx / cross));
                } else if let Some(ps) = section.parent {
                    let parent = &morphology.sections[ps];
                    let pn = counts[ps];
                    let pdx = parent.length_um / pn as f64;
                    let pk = ((section.parent_x * pn as f64) as usize).min(pn - 1);
                    // From the parent compartment's centre to the attachment point, then half of ours.
                    let along_parent = (section.parent_x * parent.length_um - (pk as f64 + 0.5) * pdx).abs();
                    let parent_cross = PI * parent.diameter_um * parent.diameter_um / 4.0;
                    let resistance = p.r_a_ohm_cm * (along_parent / parent_cross + 0.5 * dx / cross);
                    cable.parent.push(cable.first[ps] + pk);
                    cable.g_axial_ns.push(g_from(resistance));
                } else {
                    cable.parent.push(usize::MAX);
                    cable.g_axial_ns.push(0.0);
                }
                // mS/cm^2 * um^2 = 1e-8 mS = 1e-2 nS; uF/cm^2 * um^2 = 1e-2 pF.
                cable.capacitance_pf.push(1e-2 * p.c_m_uf_cm2 * area);
                cable.area_um2.push(area);
                if hh {
                    cable.g_leak_ns.push(1e-2 * p.g_leak_hh_ms_cm2 * area);
                    cable.e_leak_mv.push(p.e_leak_hh_mv);
                    cable.active.push(i);
                    cable.g_na_ns.push(1e-2 * p.g_na_ms_cm2 * area);
                    cable.g_k_ns.push(1e-2 * p.g_k_ms_cm2 * area);
                } else {
                    cable.g_leak_ns.push(1e-2 * p.g_leak_ms_cm2 * area);
                    cable.e_leak_mv.push(p.e_leak_mv);
                }
            }
        }
        cable.g_axial_sum_ns = cable.g_axial_ns.clone();
        for i in 1..cable.len() {
            cable.g_axial_sum_ns[cable.parent[i]] += cable.g_axial_ns[i];
        }
        cable
    }

    pub fn len(&self) -> usize {
        self.parent.len()
    }

    pub fn is_empty(&self) -> bool {
        self.parent.is_empty()
    }

    /// The compartment containing position `x` (0..1) of `section`.
    pub fn compartment(&self, section: usize, x: f64) -> usize {
        let n = self.counts[section];
        self.first[section] + ((x.clamp(0.0, 1.0) * n as f64) as usize).min(n - 1)
    }

    /// Distance (um) of compartment `k`'s centre from the 0 end of its section.
    pub fn centre_um(&self, section: usize, k: usize) -> f64 {
        (k as f64 + 0.5) * self.lengths_um[section] / self.counts[section] as f64
    }

    /// A cell at uniform `v_mv`, gates at their steady state there.
    pub fn rest_state(&self, v_mv: f64) -> CellState {
        let na = self.active.len();
        CellState {
            v: vec![v_mv; self.len()],
            m: vec![gate_steady_state(squid::m(v_mv)); na],
            h: vec![gate_steady_state(squid::h(v_mv)); na],
            n: vec![gate_steady_state(squid::n(v_mv)); na],
            diag: vec![0.0; self.len()],
            rhs: vec![0.0; self.len()],
            v_active: vec![0.0; na],
        }
    }

    /// Advances `cell` by `dt` (ms). `extra` adds, per compartment, a
    /// conductance g (nS) and a current i (pA): the current `i - g V`,
    /// taken implicitly (synapses, electrodes). Does not allocate.
    pub fn step(&self, cell: &mut CellState, dt: f64, extra: &[(usize, f64, f64)]) {
        let q = self.rate_scale;
        let na = self.active.len();
        let v_active = &mut cell.v_active[..na];
        for (x, &i) in v_active.iter_mut().zip(&self.active) {
            *x = cell.v[i];
        }
        let (m, h, n) = (&mut cell.m[..na], &mut cell.h[..na], &mut cell.n[..na]);
        for a in 0..na {
            let v = v_active[a];
            let (am, bm) = squid::m(v);
            let (ah, bh) = squid::h(v);
            let (an, bn) = squid::n(v);
            m[a] = relax_gate(m[a], q * am, q * bm, dt);
            h[a] = relax_gate(h[a], q * ah, q * bh, dt);
            n[a] = relax_gate(n[a], q * an, q * bn, dt);
        }
        let (diag, rhs) = (&mut cell.diag, &mut cell.rhs);
        for i in 0..self.len() {
            let c = self.capacitance_pf[i] / dt;
            diag[i] = c + self.g_leak_ns[i] + self.g_axial_sum_ns[i];
            rhs[i] = c * cell.v[i] + self.g_leak_ns[i] * self.e_leak_mv[i];
        }
        for (a, &i) in self.active.iter().enumerate() {
            let (m, h, n) = (cell.m[a], cell.h[a], cell.n[a]);
            let g_na = self.g_na_ns[a] * m * m * m * h;
            let g_k = self.g_k_ns[a] * (n * n) * (n * n);
            diag[i] += g_na + g_k;
            rhs[i] += g_na * self.e_na_mv + g_k * self.e_k_mv;
        }
        for &(i, g, current) in extra {
            diag[i] += g;
            rhs[i] += current;
        }
        // Hines elimination, leaves to root: row i is d_i V_i - g_i V_p = b_i.
        // Row i is final when reached (children come after parents), so its
        // d_i is replaced by 1 / d_i: one division per compartment, and none
        // in the back substitution's chain of dependent steps.
        for i in (1..self.len()).rev() {
            let p = self.parent[i];
            let inv = 1.0 / diag[i];
            let f = self.g_axial_ns[i] * inv;
            diag[p] -= f * self.g_axial_ns[i];
            rhs[p] += f * rhs[i];
            diag[i] = inv;
        }
        cell.v[0] = rhs[0] / diag[0];
        for i in 1..self.len() {
            cell.v[i] = (rhs[i] + self.g_axial_ns[i] * cell.v[self.parent[i]]) * diag[i];
        }
    }
}

/// A population of multi-compartment neurons (`model = "compartmental"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Compartmental {
    pub n: usize,
    /// The morphology inline (`[[populations.x.sections]]`)...
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sections: Vec<SectionSpec>,
    /// ...or an SWC file (path relative to the working directory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swc: Option<String>,
    #[serde(default = "default_d_lambda")]
    pub d_lambda: f64,
    #[serde(default = "default_c_m")]
    pub c_m_uf_cm2: f64,
    #[serde(default = "default_r_a")]
    pub r_a_ohm_cm: f64,
    #[serde(default = "default_g_leak")]
    pub g_leak_ms_cm2: f64,
    #[serde(default = "default_e_leak")]
    pub e_leak_mv: f64,
    #[serde(default = "default_hh_sections")]
    pub hh_sections: Vec<SectionKind>,
    #[serde(default = "default_g_na")]
    pub g_na_ms_cm2: f64,
    #[serde(default = "default_g_k")]
    pub g_k_ms_cm2: f64,
    #[serde(default = "default_g_leak_hh")]
    pub g_leak_hh_ms_cm2: f64,
    #[serde(default = "default_e_leak_hh")]
    pub e_leak_hh_mv: f64,
    #[serde(default = "default_e_na")]
    pub e_na_mv: f64,
    #[serde(default = "default_e_k")]
    pub e_k_mv: f64,
    #[serde(default = "default_celsius")]
    pub celsius: f64,
    /// Section where synapses land (name); the last section by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub synapse_section: Option<String>,
    #[serde(default = "default_half")]
    pub synapse_x: f64,
    /// Section of the `v_probe` variable; the synapse section by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe_section: Option<String>,
    #[serde(default = "default_half")]
    pub probe_x: f64,
    /// Constant current into the soma (pA).
    #[serde(default)]
    pub i_soma_pa: f64,
    #[serde(default)]
    pub spike_threshold_mv: f64,
    #[serde(default = "default_e_leak")]
    pub v_init_mv: f64,
    #[serde(default = "default_synapse")]
    pub synapse: SynapseModel,
    #[serde(default = "default_tau_exc")]
    pub tau_exc_ms: f64,
    #[serde(default = "default_tau_inh")]
    pub tau_inh_ms: f64,
    #[serde(default)]
    pub e_exc_mv: f64,
    #[serde(default = "default_e_inh")]
    pub e_inh_mv: f64,
    #[serde(default, skip_serializing_if = "Init::is_zero")]
    pub g_exc_init: Init,
    #[serde(default, skip_serializing_if = "Init::is_zero")]
    pub g_inh_init: Init,
}

fn default_d_lambda() -> f64 {
    0.1
}
fn default_c_m() -> f64 {
    1.0
}
fn default_r_a() -> f64 {
    100.0
}
fn default_g_leak() -> f64 {
    0.1
}
fn default_e_leak() -> f64 {
    -65.0
}
fn default_hh_sections() -> Vec<SectionKind> {
    vec![SectionKind::Soma, SectionKind::Axon]
}
fn default_g_na() -> f64 {
    squid::G_NA
}
fn default_g_k() -> f64 {
    squid::G_K
}
fn default_g_leak_hh() -> f64 {
    squid::G_LEAK
}
fn default_e_leak_hh() -> f64 {
    squid::E_LEAK
}
fn default_e_na() -> f64 {
    squid::E_NA
}
fn default_e_k() -> f64 {
    squid::E_K
}
fn default_celsius() -> f64 {
    6.3
}
fn default_half() -> f64 {
    0.5
}
fn default_synapse() -> SynapseModel {
    SynapseModel::ConductanceExp
}
fn default_tau_exc() -> f64 {
    2.0
}
fn default_tau_inh() -> f64 {
    5.0
}
fn default_e_inh() -> f64 {
    -80.0
}

const SECTION_KINDS: &[&str] = &["soma", "dendrite", "axon"];

/// The fields of one section (`morphology::SectionSpec`).
pub const SECTION_FIELDS: &[FieldSpec] = &[
    FieldSpec::required("name", FieldKind::Text, "section name"),
    FieldSpec::required("kind", FieldKind::Choice(SECTION_KINDS), "soma, dendrite or axon"),
    FieldSpec::required("length_um", FieldKind::Number, "length (um)"),
    FieldSpec::required("diameter_um", FieldKind::Number, "diameter (um)"),
    FieldSpec::optional(
        "parent",
        FieldKind::Any,
        "parent section: name or index; none for the root",
    ),
    FieldSpec::optional(
        "parent_x",
        FieldKind::Number,
        "position on the parent (0..1), 1 (its end)",
    ),
    FieldSpec::optional(
        "compartments",
        FieldKind::Integer,
        "compartments, default from the d_lambda rule",
    ),
];

/// The TOML fields of `model = "compartmental"`, besides the shared `SYNAPSE_FIELDS`.
pub const FIELDS: &[FieldSpec] = &[
    FieldSpec::required("n", FieldKind::Integer, "number of neurons"),
    FieldSpec::optional(
        "sections",
        FieldKind::Tables(SECTION_FIELDS),
        "inline morphology: [[populations.x.sections]], parents before children",
    ),
    FieldSpec::optional(
        "swc",
        FieldKind::Text,
        "SWC morphology file (NeuroMorpho standard), relative to the working directory",
    ),
    FieldSpec::optional(
        "d_lambda",
        FieldKind::Number,
        "d_lambda rule at 100 Hz (Hines & Carnevale 2001), 0.1",
    ),
    FieldSpec::optional("c_m_uf_cm2", FieldKind::Number, "specific capacitance (uF/cm^2), 1"),
    FieldSpec::optional("r_a_ohm_cm", FieldKind::Number, "axial resistivity (ohm cm), 100"),
    FieldSpec::optional(
        "g_leak_ms_cm2",
        FieldKind::Number,
        "passive leak (mS/cm^2) = 1000 / R_m[ohm cm^2], 0.1",
    ),
    FieldSpec::optional("e_leak_mv", FieldKind::Number, "passive leak reversal (mV), -65"),
    FieldSpec::optional(
        "hh_sections",
        FieldKind::Choices(SECTION_KINDS),
        "section kinds with Hodgkin-Huxley (1952) squid channels, [\"soma\", \"axon\"]",
    ),
    FieldSpec::optional("g_na_ms_cm2", FieldKind::Number, "HH sodium (mS/cm^2), 120 (HH 1952)"),
    FieldSpec::optional("g_k_ms_cm2", FieldKind::Number, "HH potassium (mS/cm^2), 36 (HH 1952)"),
    FieldSpec::optional(
        "g_leak_hh_ms_cm2",
        FieldKind::Number,
        "leak of HH sections (mS/cm^2), 0.3 (HH 1952)",
    ),
    FieldSpec::optional(
        "e_leak_hh_mv",
        FieldKind::Number,
        "leak reversal of HH sections (mV), -54.387",
    ),
    FieldSpec::optional("e_na_mv", FieldKind::Number, "sodium reversal (mV), 50"),
    FieldSpec::optional("e_k_mv", FieldKind::Number, "potassium reversal (mV), -77"),
    FieldSpec::optional(
        "celsius",
        FieldKind::Number,
        "temperature (°C); HH rates x 3^((T - 6.3)/10), 6.3",
    ),
    FieldSpec::optional(
        "synapse_section",
        FieldKind::Text,
        "section where synapses land, the last one",
    ),
    FieldSpec::optional("synapse_x", FieldKind::Number, "position on it (0..1), 0.5"),
    FieldSpec::optional(
        "probe_section",
        FieldKind::Text,
        "section recorded as v_probe, the synapse section",
    ),
    FieldSpec::optional("probe_x", FieldKind::Number, "position on it (0..1), 0.5"),
    FieldSpec::optional("i_soma_pa", FieldKind::Number, "constant current into the soma (pA)"),
    FieldSpec::optional(
        "spike_threshold_mv",
        FieldKind::Number,
        "somatic spike detection (upward crossing, mV), 0",
    ),
    FieldSpec::optional(
        "v_init_mv",
        FieldKind::Number,
        "initial v everywhere (mV), gates at steady state, -65",
    ),
];

impl Compartmental {
    /// `n` cells of the given morphology, default membrane (HH soma and
    /// axon, passive dendrites), conductance synapses at the last section's middle.
    pub fn new(n: usize, sections: Vec<SectionSpec>) -> Self {
        let c = CableParams::default();
        Compartmental {
            n,
            sections,
            swc: None,
            d_lambda: c.d_lambda,
            c_m_uf_cm2: c.c_m_uf_cm2,
            r_a_ohm_cm: c.r_a_ohm_cm,
            g_leak_ms_cm2: c.g_leak_ms_cm2,
            e_leak_mv: c.e_leak_mv,
            hh_sections: c.hh_sections,
            g_na_ms_cm2: c.g_na_ms_cm2,
            g_k_ms_cm2: c.g_k_ms_cm2,
            g_leak_hh_ms_cm2: c.g_leak_hh_ms_cm2,
            e_leak_hh_mv: c.e_leak_hh_mv,
            e_na_mv: c.e_na_mv,
            e_k_mv: c.e_k_mv,
            celsius: c.celsius,
            synapse_section: None,
            synapse_x: 0.5,
            probe_section: None,
            probe_x: 0.5,
            i_soma_pa: 0.0,
            spike_threshold_mv: 0.0,
            v_init_mv: default_e_leak(),
            synapse: default_synapse(),
            tau_exc_ms: default_tau_exc(),
            tau_inh_ms: default_tau_inh(),
            e_exc_mv: 0.0,
            e_inh_mv: default_e_inh(),
            g_exc_init: Init::Value(0.0),
            g_inh_init: Init::Value(0.0),
        }
    }

    pub fn cable_params(&self) -> CableParams {
        CableParams {
            c_m_uf_cm2: self.c_m_uf_cm2,
            r_a_ohm_cm: self.r_a_ohm_cm,
            g_leak_ms_cm2: self.g_leak_ms_cm2,
            e_leak_mv: self.e_leak_mv,
            hh_sections: self.hh_sections.clone(),
            g_na_ms_cm2: self.g_na_ms_cm2,
            g_k_ms_cm2: self.g_k_ms_cm2,
            g_leak_hh_ms_cm2: self.g_leak_hh_ms_cm2,
            e_leak_hh_mv: self.e_leak_hh_mv,
            e_na_mv: self.e_na_mv,
            e_k_mv: self.e_k_mv,
            celsius: self.celsius,
            d_lambda: self.d_lambda,
        }
    }

    fn synapse_params(&self) -> SynapseParams {
        SynapseParams {
            model: self.synapse,
            tau_exc_ms: self.tau_exc_ms,
            tau_inh_ms: self.tau_inh_ms,
            e_exc_mv: self.e_exc_mv,
            e_inh_mv: self.e_inh_mv,
        }
    }

    /// The morphology: inline, or read from the SWC file.
    pub fn morphology(&self, at: &dyn Fn(&str) -> String) -> Result<Morphology, ModelError> {
        match (&self.swc, self.sections.is_empty()) {
            (Some(path), true) => super::swc::load(std::path::Path::new(path))
                .map_err(|e| ModelError::new(at("swc"), format!("\"{path}\""), e.to_string())),
            (None, false) => Morphology::from_specs(&self.sections)
                .map_err(|e| ModelError::new(at(&format!("sections.{}.{}", e.section, e.field)), e.value, e.reason)),
            (Some(path), false) => Err(ModelError::new(
                at("swc"),
                format!("\"{path}\""),
                "give either `swc` or `sections`, not both",
            )),
            (None, true) => Err(ModelError::new(
                at("sections"),
                "[]",
                "a compartmental neuron needs a morphology: `sections` or `swc`",
            )),
        }
    }

    /// The synapse, probe and soma compartments.
    fn sites(&self, morphology: &Morphology, cable: &Cable) -> Result<[usize; 3], ModelError> {
        let find = |field: &str, name: &Option<String>, default: usize| match name {
            None => Ok(default),
            Some(name) => morphology
                .section_index(name)
                .ok_or_else(|| ModelError::new(field.to_string(), format!("\"{name}\""), "no section has this name")),
        };
        let last = morphology.sections.len() - 1;
        let synapse = find("synapse_section", &self.synapse_section, last)?;
        let probe = find("probe_section", &self.probe_section, synapse)?;
        Ok([
            cable.compartment(synapse, self.synapse_x),
            cable.compartment(probe, self.probe_x),
            cable.compartment(0, 0.5),
        ])
    }
}

impl NeuronSpec for Compartmental {
    fn size(&self) -> usize {
        self.n
    }

    fn synapse(&self) -> SynapseModel {
        self.synapse
    }

    fn variables(&self) -> &'static [&'static str] {
        &["v", "v_syn", "v_probe", "g_exc", "g_inh"]
    }

    fn validate(&self, dt: f64, at: &dyn Fn(&str) -> String) -> Result<(), ModelError> {
        for (field, value) in [
            ("d_lambda", self.d_lambda),
            ("c_m_uf_cm2", self.c_m_uf_cm2),
            ("r_a_ohm_cm", self.r_a_ohm_cm),
            ("g_leak_ms_cm2", self.g_leak_ms_cm2),
        ] {
            positive(at(field), value)?;
        }
        for (field, value) in [
            ("g_na_ms_cm2", self.g_na_ms_cm2),
            ("g_k_ms_cm2", self.g_k_ms_cm2),
            ("g_leak_hh_ms_cm2", self.g_leak_hh_ms_cm2),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(ModelError::new(at(field), value, "must be >= 0 and finite"));
            }
        }
        for (field, value) in [
            ("e_leak_mv", self.e_leak_mv),
            ("e_leak_hh_mv", self.e_leak_hh_mv),
            ("e_na_mv", self.e_na_mv),
            ("e_k_mv", self.e_k_mv),
            ("i_soma_pa", self.i_soma_pa),
            ("spike_threshold_mv", self.spike_threshold_mv),
            ("v_init_mv", self.v_init_mv),
        ] {
            finite(at(field), value)?;
        }
        if !(self.celsius.is_finite() && (-20.0..=60.0).contains(&self.celsius)) {
            return Err(ModelError::new(at("celsius"), self.celsius, "must lie in [-20, 60] °C"));
        }
        for (field, x) in [("synapse_x", self.synapse_x), ("probe_x", self.probe_x)] {
            if !(0.0..=1.0).contains(&x) {
                return Err(ModelError::new(at(field), x, "must lie in [0, 1]"));
            }
        }
        let morphology = self.morphology(at)?;
        let total: usize = morphology
            .compartment_counts(self.d_lambda, self.r_a_ohm_cm, self.c_m_uf_cm2)
            .iter()
            .sum();
        if total > super::morphology::MAX_COMPARTMENTS {
            return Err(ModelError::new(
                at("d_lambda"),
                self.d_lambda,
                format!(
                    "gives {total} compartments per cell, more than {}",
                    super::morphology::MAX_COMPARTMENTS
                ),
            ));
        }
        let cable = Cable::new(&morphology, &self.cable_params());
        self.sites(&morphology, &cable).map_err(|mut e| {
            e.field = at(&e.field);
            e
        })?;
        if !self.hh_sections.is_empty() && dt > 0.1 {
            return Err(ModelError::new(
                "simulation.dt_ms",
                dt,
                "Hodgkin-Huxley compartments need dt_ms <= 0.1 to resolve the spike",
            ));
        }
        check_synapse(at, dt, &self.synapse_params(), &self.g_exc_init, &self.g_inh_init)
    }

    fn build(&self, len: usize, dt: f64, rng: &mut Stream) -> Box<dyn NeuronChunk> {
        let at = |f: &str| f.to_string();
        let morphology = self.morphology(&at).expect("a validated morphology");
        let cable = Cable::new(&morphology, &self.cable_params());
        let [syn, probe, soma] = self.sites(&morphology, &cable).expect("validated sites");
        let rest = cable.rest_state(self.v_init_mv);
        let g_exc = draw_init(&self.g_exc_init, len, rng);
        let g_inh = draw_init(&self.g_inh_init, len, rng);
        Box::new(CompartmentalChunk {
            cells: vec![rest; len],
            cable: Arc::new(cable),
            synapses: SynapticInput::new(&self.synapse_params(), dt, g_exc, g_inh),
            syn,
            probe,
            soma,
            dt,
            i_soma_pa: self.i_soma_pa,
            threshold: self.spike_threshold_mv,
        })
    }
}

/// State of a chunk of compartmental neurons.
#[derive(Debug, Clone)]
pub struct CompartmentalChunk {
    cells: Vec<CellState>,
    cable: Arc<Cable>,
    synapses: SynapticInput,
    syn: usize,
    probe: usize,
    soma: usize,
    dt: f64,
    i_soma_pa: f64,
    threshold: f64,
}

impl NeuronChunk for CompartmentalChunk {
    fn len(&self) -> usize {
        self.cells.len()
    }

    fn begin_step(&mut self, step: u64) {
        self.synapses.begin_step(step);
    }

    fn add_input(&mut self, exc: bool, j: usize, w: f64) {
        self.synapses.add(exc, j, w);
    }

    fn update(&mut self, step: u64, _rng: &mut Stream, spikes: &mut Vec<u32>) -> bool {
        let mut finite = true;
        let delta = self.synapses.model == SynapseModel::Delta;
        let conductance = self.synapses.model == SynapseModel::ConductanceExp;
        for (j, cell) in self.cells.iter_mut().enumerate() {
            if delta {
                cell.v[self.syn] += self.synapses.jumps()[j];
            }
            let (ge, gi) = self.synapses.conductances(j);
            let synaptic = if conductance {
                (self.syn, ge + gi, ge * self.synapses.e_exc + gi * self.synapses.e_inh)
            } else if delta {
                (self.syn, 0.0, 0.0)
            } else {
                (self.syn, 0.0, ge + gi)
            };
            let before = cell.v[self.soma];
            self.cable
                .step(cell, self.dt, &[synaptic, (self.soma, 0.0, self.i_soma_pa)]);
            let after = cell.v[self.soma];
            if crossed(after, self.threshold) && !crossed(before, self.threshold) {
                spikes.push(j as u32);
            }
            finite &= after.is_finite() && cell.v[self.syn].is_finite();
        }
        self.synapses.end_step(step);
        finite
    }

    fn variables(&self) -> &'static [&'static str] {
        &["v", "v_syn", "v_probe", "g_exc", "g_inh"]
    }

    fn value(&self, variable: &str, j: usize) -> f64 {
        match variable {
            "v" => self.cells[j].v[self.soma],
            "v_syn" => self.cells[j].v[self.syn],
            "v_probe" => self.cells[j].v[self.probe],
            _ => self
                .synapses
                .value(variable, j)
                .unwrap_or_else(|| panic!("unknown variable `{variable}`")),
        }
    }

    fn first_non_finite(&self) -> Option<(usize, &'static str, f64)> {
        for (j, cell) in self.cells.iter().enumerate() {
            if let Some(&v) = cell.v.iter().find(|v| !v.is_finite()) {
                return Some((j, "v", v));
            }
        }
        self.synapses.first_non_finite()
    }
}
