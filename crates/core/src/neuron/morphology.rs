//! Neuron morphology: a tree of unbranched cylindrical sections (soma,
//! dendrite, axon), each attached at a position of its parent, as in NEURON
//! (Hines & Carnevale 1997). Given inline in an experiment or read from an
//! SWC file (`super::swc`).

use serde::{Deserialize, Serialize};

/// What a section is; decides which channels it gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SectionKind {
    Soma,
    Dendrite,
    Axon,
}

impl SectionKind {
    pub fn name(self) -> &'static str {
        match self {
            SectionKind::Soma => "soma",
            SectionKind::Dendrite => "dendrite",
            SectionKind::Axon => "axon",
        }
    }
}

/// A parent given by its index in the section list or by its name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ParentRef {
    Index(usize),
    Name(String),
}

/// One section as written in an experiment (`[[populations.x.sections]]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SectionSpec {
    pub name: String,
    pub kind: SectionKind,
    /// Length (um).
    pub length_um: f64,
    /// Diameter (um).
    pub diameter_um: f64,
    /// The parent section (index or name); none for the root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<ParentRef>,
    /// Where on the parent this section starts, 0..1 along it; its end (1) by default.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub parent_x: f64,
    /// Number of compartments; by default from the d_lambda rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compartments: Option<usize>,
}

fn one() -> f64 {
    1.0
}
fn is_one(x: &f64) -> bool {
    *x == 1.0
}

impl SectionSpec {
    pub fn new(name: &str, kind: SectionKind, length_um: f64, diameter_um: f64) -> Self {
        SectionSpec {
            name: name.to_string(),
            kind,
            length_um,
            diameter_um,
            parent: None,
            parent_x: 1.0,
            compartments: None,
        }
    }

    /// Attached to `parent` (a name) at `x` along it.
    pub fn child_of(mut self, parent: &str, x: f64) -> Self {
        self.parent = Some(ParentRef::Name(parent.to_string()));
        self.parent_x = x;
        self
    }

    pub fn with_compartments(mut self, n: usize) -> Self {
        self.compartments = Some(n);
        self
    }
}

/// A checked section: its parent resolved to an index that precedes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub name: String,
    pub kind: SectionKind,
    pub length_um: f64,
    pub diameter_um: f64,
    pub parent: Option<usize>,
    pub parent_x: f64,
    pub compartments: Option<usize>,
}

/// A checked tree of sections: exactly one root (the first), every parent
/// listed before its children.
#[derive(Debug, Clone, PartialEq)]
pub struct Morphology {
    pub sections: Vec<Section>,
}

/// A morphology problem: which section (index), which field, the value, why.
#[derive(Debug, Clone, PartialEq)]
pub struct MorphologyError {
    pub section: usize,
    pub field: &'static str,
    pub value: String,
    pub reason: String,
}

impl std::fmt::Display for MorphologyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "section {} field `{}` = {}: {}",
            self.section, self.field, self.value, self.reason
        )
    }
}

/// Upper bound on compartments per cell (memory and time per step).
pub const MAX_COMPARTMENTS: usize = 100_000;

impl Morphology {
    /// Checks the sections and resolves their parents.
    pub fn from_specs(specs: &[SectionSpec]) -> Result<Morphology, MorphologyError> {
        let err = |section: usize, field: &'static str, value: String, reason: &str| MorphologyError {
            section,
            field,
            value,
            reason: reason.to_string(),
        };
        if specs.is_empty() {
            return Err(err(
                0,
                "sections",
                "[]".into(),
                "a morphology needs at least one section",
            ));
        }
        let mut sections = Vec::with_capacity(specs.len());
        for (i, s) in specs.iter().enumerate() {
            for (field, value) in [("length_um", s.length_um), ("diameter_um", s.diameter_um)] {
                if !(value.is_finite() && value > 0.0) {
                    return Err(err(i, field, value.to_string(), "must be a positive, finite number"));
                }
            }
            if !(0.0..=1.0).contains(&s.parent_x) {
                return Err(err(i, "parent_x", s.parent_x.to_string(), "must lie in [0, 1]"));
            }
            if let Some(n) = s.compartments {
                if n == 0 || n > MAX_COMPARTMENTS {
                    return Err(err(
                        i,
                        "compartments",
                        n.to_string(),
                        &format!("must be between 1 and {MAX_COMPARTMENTS}"),
                    ));
                }
            }
            if specs[..i].iter().any(|o| o.name == s.name) {
                return Err(err(i, "name", s.name.clone(), "two sections have this name"));
            }
            let parent = match &s.parent {
                None if i == 0 => None,
                None => {
                    return Err(err(
                        i,
                        "parent",
                        "(none)".into(),
                        "only the first section (the root) may lack a parent",
                    ))
                }
                Some(ParentRef::Index(p)) if *p < i => Some(*p),
                Some(ParentRef::Index(p)) => {
                    return Err(err(
                        i,
                        "parent",
                        p.to_string(),
                        "a parent must be listed before its children",
                    ))
                }
                Some(ParentRef::Name(name)) => match specs[..i].iter().position(|o| &o.name == name) {
                    Some(p) => Some(p),
                    None if specs.iter().any(|o| &o.name == name) => {
                        return Err(err(
                            i,
                            "parent",
                            name.clone(),
                            "a parent must be listed before its children",
                        ))
                    }
                    None => return Err(err(i, "parent", name.clone(), "no section has this name")),
                },
            };
            sections.push(Section {
                name: s.name.clone(),
                kind: s.kind,
                length_um: s.length_um,
                diameter_um: s.diameter_um,
                parent,
                parent_x: s.parent_x,
                compartments: s.compartments,
            });
        }
        Ok(Morphology { sections })
    }

    pub fn total_length_um(&self) -> f64 {
        self.sections.iter().map(|s| s.length_um).sum()
    }

    pub fn section_index(&self, name: &str) -> Option<usize> {
        self.sections.iter().position(|s| s.name == name)
    }

    /// Compartments of each section: as given, or NEURON's d_lambda rule
    /// (Hines & Carnevale 2001, "NEURON: a tool for neuroscientists"): the
    /// odd number of compartments no longer than `d_lambda` times the AC
    /// length constant at 100 Hz, lambda_f = sqrt(d / (4 pi f R_a C_m)).
    pub fn compartment_counts(&self, d_lambda: f64, r_a_ohm_cm: f64, c_m_uf_cm2: f64) -> Vec<usize> {
        self.sections
            .iter()
            .map(|s| {
                s.compartments.unwrap_or_else(|| {
                    // lambda_f in um: 1e5 * sqrt(d[um] / (4 pi f[Hz] R_a[ohm cm] C_m[uF/cm^2])).
                    let lambda_f =
                        1e5 * (s.diameter_um / (4.0 * std::f64::consts::PI * 100.0 * r_a_ohm_cm * c_m_uf_cm2)).sqrt();
                    let n = ((s.length_um / (d_lambda * lambda_f) + 0.9) / 2.0).floor() * 2.0 + 1.0;
                    (n as usize).clamp(1, MAX_COMPARTMENTS)
                })
            })
            .collect()
    }
}
