//! SWC morphology files, the NeuroMorpho.Org standard (Cannon et al. 1998,
//! J Neurosci Methods 84:49; Ascoli et al. 2007): one point per line,
//! `id type x y z radius parent`, `#` comments, parent -1 for the root.
//! Types: 1 soma, 2 axon, 3 basal dendrite, 4 apical dendrite, others
//! (0 undefined, 5+ custom) are read as dendrite.
//!
//! Conversion to sections: the soma points become one soma section, a
//! cylinder whose length and diameter are the root's diameter (the
//! NeuroMorpho three-point soma convention: same area as the sphere). Every
//! other point becomes one section, the cylinder from its parent point to it
//! with the point's diameter, attached at the end of its parent's section
//! (at the middle of the soma). Sections are ordered parents first.

use super::morphology::{Morphology, ParentRef, SectionKind, SectionSpec};
use std::collections::HashMap;
use std::path::Path;

/// A malformed SWC file: where (file, line), the offending value, why.
#[derive(Debug, Clone, PartialEq)]
pub struct SwcError {
    pub file: String,
    pub line: usize,
    pub value: String,
    pub reason: String,
}

impl std::fmt::Display for SwcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.value.is_empty() {
            write!(f, "{}:{}: {}", self.file, self.line, self.reason)
        } else {
            write!(f, "{}:{}: `{}`: {}", self.file, self.line, self.value, self.reason)
        }
    }
}

impl std::error::Error for SwcError {}

struct Point {
    line: usize,
    id: i64,
    kind: i64,
    xyz: [f64; 3],
    radius: f64,
    parent: i64,
}

/// Reads and converts an SWC file.
pub fn load(path: &Path) -> Result<Morphology, SwcError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| SwcError {
        file: file.clone(),
        line: 0,
        value: String::new(),
        reason: format!("cannot read the SWC file: {e}"),
    })?;
    parse(&text, &file)
}

/// Parses SWC text; `file` names it in errors.
pub fn parse(text: &str, file: &str) -> Result<Morphology, SwcError> {
    let err = |line: usize, value: &str, reason: String| SwcError {
        file: file.to_string(),
        line,
        value: value.to_string(),
        reason,
    };
    const COLUMNS: [&str; 7] = ["id", "type", "x", "y", "z", "radius", "parent"];
    let mut points: Vec<Point> = Vec::new();
    let mut index_of: HashMap<i64, usize> = HashMap::new();
    for (number, raw) in text.lines().enumerate() {
        let line = number + 1;
        let content = raw.split('#').next().unwrap_or("").trim();
        if content.is_empty() {
            continue;
        }
        let fields: Vec<&str> = content.split_whitespace().collect();
        if fields.len() != 7 {
            return Err(err(
                line,
                content,
                format!(
                    "expected 7 columns (id type x y z radius parent), found {}",
                    fields.len()
                ),
            ));
        }
        let mut numbers = [0.0; 7];
        for (k, field) in fields.iter().enumerate() {
            numbers[k] = field
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| err(line, field, format!("column `{}` must be a finite number", COLUMNS[k])))?;
        }
        let integer = |k: usize| -> Result<i64, SwcError> {
            let x = numbers[k];
            if x.fract() != 0.0 || x.abs() > 1e15 {
                return Err(err(
                    line,
                    fields[k],
                    format!("column `{}` must be an integer", COLUMNS[k]),
                ));
            }
            Ok(x as i64)
        };
        let (id, kind, parent) = (integer(0)?, integer(1)?, integer(6)?);
        if id < 0 {
            return Err(err(line, fields[0], "ids must be non-negative".into()));
        }
        if numbers[5] <= 0.0 {
            return Err(err(line, fields[5], "the radius must be positive".into()));
        }
        if parent < -1 {
            return Err(err(
                line,
                fields[6],
                "the parent must be -1 (root) or a point id".into(),
            ));
        }
        if let Some(&other) = index_of.get(&id) {
            return Err(err(
                line,
                fields[0],
                format!("duplicate id (first on line {})", points[other].line),
            ));
        }
        index_of.insert(id, points.len());
        points.push(Point {
            line,
            id,
            kind,
            xyz: [numbers[2], numbers[3], numbers[4]],
            radius: numbers[5],
            parent,
        });
    }
    if points.is_empty() {
        return Err(err(0, "", "no points: the file has no data lines".into()));
    }

    // Structure: exactly one root, every parent present, no cycles.
    let mut root = None;
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); points.len()];
    for (i, p) in points.iter().enumerate() {
        if p.parent == -1 {
            if let Some(r) = root {
                let first: &Point = &points[r];
                return Err(err(
                    p.line,
                    &p.id.to_string(),
                    format!(
                        "a second root (parent -1); the first is id {} on line {}",
                        first.id, first.line
                    ),
                ));
            }
            root = Some(i);
        } else {
            match index_of.get(&p.parent) {
                Some(&q) => children[q].push(i),
                None => {
                    return Err(err(
                        p.line,
                        &p.parent.to_string(),
                        format!("point {} has a parent id that no point has", p.id),
                    ))
                }
            }
        }
    }
    let Some(root) = root else {
        let first = &points[0];
        return Err(err(
            first.line,
            &first.parent.to_string(),
            "no root (parent -1): the parent links form a cycle".into(),
        ));
    };
    // Breadth-first from the root: points not reached lie on a cycle.
    let mut order = Vec::with_capacity(points.len());
    let mut reached = vec![false; points.len()];
    order.push(root);
    reached[root] = true;
    let mut head = 0;
    while head < order.len() {
        let i = order[head];
        head += 1;
        for &c in &children[i] {
            if !reached[c] {
                reached[c] = true;
                order.push(c);
            }
        }
    }
    if let Some(i) = reached.iter().position(|r| !r) {
        let p = &points[i];
        return Err(err(
            p.line,
            &p.parent.to_string(),
            format!(
                "point {} is not connected to the root: its parent links form a cycle",
                p.id
            ),
        ));
    }
    let r = &points[root];
    if r.kind != 1 {
        return Err(err(
            r.line,
            &r.kind.to_string(),
            "the root point must be a soma point (type 1)".into(),
        ));
    }

    // Sections, in breadth-first order (parents first).
    let mut section_of = vec![usize::MAX; points.len()];
    let mut specs = vec![SectionSpec::new(
        "soma",
        SectionKind::Soma,
        2.0 * r.radius,
        2.0 * r.radius,
    )];
    section_of[root] = 0;
    for &i in &order[1..] {
        let p = &points[i];
        let q = index_of[&p.parent];
        let parent = &points[q];
        if p.kind == 1 && parent.kind == 1 {
            section_of[i] = 0; // part of the soma
            continue;
        }
        let length = (0..3).map(|k| (p.xyz[k] - parent.xyz[k]).powi(2)).sum::<f64>().sqrt();
        if length <= 0.0 {
            return Err(err(
                p.line,
                &p.id.to_string(),
                format!(
                    "point {} lies at the same position as its parent {}: a segment of zero length",
                    p.id, parent.id
                ),
            ));
        }
        let kind = match p.kind {
            1 => {
                return Err(err(
                    p.line,
                    &p.kind.to_string(),
                    "a soma point (type 1) whose parent is not a soma point".into(),
                ))
            }
            2 => SectionKind::Axon,
            _ => SectionKind::Dendrite,
        };
        let parent_section = section_of[q];
        let name = match kind {
            SectionKind::Axon => format!("axon_{}", p.id),
            _ => format!("dend_{}", p.id),
        };
        let mut spec = SectionSpec::new(&name, kind, length, 2.0 * p.radius);
        spec.parent = Some(ParentRef::Index(parent_section));
        spec.parent_x = if parent_section == 0 { 0.5 } else { 1.0 };
        section_of[i] = specs.len();
        specs.push(spec);
    }
    Morphology::from_specs(&specs).map_err(|e| err(0, &e.value, format!("converted sections: {e}")))
}
