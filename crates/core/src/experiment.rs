//! TOML experiments: parse (unknown fields refused), apply `--set` overrides,
//! validate, and point every error at its file, line, field and value.
//!
//! Parsing runs in four steps, each of which refuses bad input with a
//! [`ModelError`] that names the dotted field and the value as written:
//! 1. TOML syntax of the file as written (line of the syntax error);
//! 2. `--set KEY.PATH=VALUE` overrides, applied to the document;
//! 3. a schema pass over the document ([`check_schema`]): unknown keys, missing
//!    keys, and values of the wrong type, for every table including the
//!    tagged (`model = ...`, `rule = ...`) and untagged (`{ uniform = [a, b] }`)
//!    forms that serde alone reports vaguely;
//!    (before it, quantity strings such as `tau_m = "20 ms"` are converted to
//!    numbers in the fields' units, and one of the wrong dimension is refused:
//!    see [`crate::units`]);
//! 4. serde into [`Network`], then [`validate`] (ranges and consistency).
//!
//! Lines always refer to the file as written: an error is located by its
//! dotted field path, and an error in (or under) a field set with `--set`
//! says so.

use crate::error::ModelError;
use crate::model::{model_fields, FieldKind, FieldSpec, Network, INPUT_MODELS, NEURON_MODELS};
use crate::validate::validate;
use std::path::Path;
use toml_edit::{Item, TableLike, Value};

/// Reads, overrides, parses and validates an experiment file.
pub fn load(path: &Path, overrides: &[String]) -> Result<Network, ModelError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ModelError {
        file: Some(file.clone()),
        line: None,
        field: String::new(),
        value: String::new(),
        reason: format!("cannot read the experiment: {e}"),
    })?;
    parse(&text, overrides).map_err(|mut e| {
        e.file = Some(file);
        e
    })
}

/// Parses experiment text (with `key.path=value` overrides) into a validated
/// network. Errors carry the line but not the file.
pub fn parse(text: &str, overrides: &[String]) -> Result<Network, ModelError> {
    // 1. The file's own syntax, so that a syntax error points at the file.
    if let Err(e) = text.parse::<toml_edit::DocumentMut>() {
        return Err(syntax_error(text, &e));
    }
    // 2. Overrides.
    let sets = parse_overrides(overrides)?;
    let resolved = apply_overrides(text, overrides).map_err(|e| locate(e, text, &sets))?;
    // 3. Schema: names, types, required keys.
    let mut doc: toml_edit::DocumentMut = resolved.parse().map_err(|e: toml_edit::TomlError| {
        // Overrides are parsed as values, so this should not happen; say where anyway.
        let mut err = syntax_error(&resolved, &e);
        err.line = None;
        err.reason = format!("{} (after applying --set)", err.reason);
        err
    })?;
    resolve_units(&mut doc).map_err(|e| locate(e, text, &sets))?;
    let resolved = doc.to_string();
    check_schema(doc.as_table()).map_err(|e| locate(e, text, &sets))?;
    // 4. Typed model, then ranges and consistency.
    let network: Network = toml::from_str(&resolved).map_err(|e: toml::de::Error| {
        let (field, value) = e
            .span()
            .and_then(|span| field_at(&resolved, span.start))
            .unwrap_or_default();
        let err = ModelError::new(field, value, one_line(e.message()));
        locate(err, text, &sets)
    })?;
    validate(&network).map_err(|e| locate(e, text, &sets))?;
    Ok(network)
}

/// Applies `a.b.c=value` overrides to the TOML document. The value is read as
/// TOML (`3`, `0.5`, `"x"`, `[1, 2]`); anything that is not TOML is a string.
pub fn apply_overrides(text: &str, overrides: &[String]) -> Result<String, ModelError> {
    if overrides.is_empty() {
        return Ok(text.to_string());
    }
    let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| syntax_error(text, &e))?;
    for (path, raw) in parse_overrides(overrides)? {
        let value = parse_value(&raw);
        let keys: Vec<&str> = path.split('.').collect();
        let mut item: &mut Item = doc.as_item_mut();
        for (depth, key) in keys[..keys.len() - 1].iter().enumerate() {
            let parent = keys[..depth].join(".");
            let like = match item.as_table_like_mut() {
                Some(like) => like,
                None => return Err(not_a_table(&path, &raw, &parent)),
            };
            if like.get(key).is_none() {
                like.insert(key, Item::Table(toml_edit::Table::new()));
            }
            item = like.get_mut(key).expect("present or just inserted");
        }
        let parent = keys[..keys.len() - 1].join(".");
        let like = item
            .as_table_like_mut()
            .ok_or_else(|| not_a_table(&path, &raw, &parent))?;
        like.insert(keys[keys.len() - 1], Item::Value(value));
    }
    Ok(doc.to_string())
}

const SIMULATION_FIELDS: &[&str] = &["dt_ms", "duration_ms", "seed", "precision"];
const PROJECTION_FIELDS: &[&str] = &["from", "to", "connect", "weight", "delay_ms", "receptor", "plasticity"];
/// The names of LIF's fields (documented in `crate::catalog::LIF_FIELDS`).
pub(crate) fn lif_field_names() -> Vec<&'static str> {
    crate::catalog::LIF_FIELDS.iter().map(|f| f.name).collect()
}

/// The fields a population table may have, by its `model`.
fn population_fields(model: &str) -> Vec<&'static str> {
    match model {
        "lif" => lif_field_names(),
        "poisson" => vec!["model", "n", "rate_hz", "schedule"],
        "spike_times" => vec!["model", "n", "spikes"],
        other => model_fields(other)
            .map(|fields| fields.iter().map(|f| f.name).collect())
            .unwrap_or_default(),
    }
}

/// Replaces quantity strings (`"20 ms"`) by numbers in the fields' units,
/// renaming `tau_m = "20 ms"` to `tau_m_ms = 20.0`; refuses a quantity of
/// the wrong dimension or an unknown unit.
fn resolve_units(doc: &mut toml_edit::DocumentMut) -> Result<(), ModelError> {
    let synapses: Vec<(String, Option<String>)> = doc
        .get("populations")
        .and_then(Item::as_table_like)
        .map(|t| {
            t.iter()
                .map(|(name, p)| {
                    let synapse = p.get("synapse").and_then(Item::as_str).map(str::to_string);
                    (name.to_string(), synapse)
                })
                .collect()
        })
        .unwrap_or_default();
    if let Some(simulation) = doc.get_mut("simulation").and_then(Item::as_table_like_mut) {
        resolve_table(simulation, "simulation", SIMULATION_FIELDS)?;
    }
    if let Some(populations) = doc.get_mut("populations").and_then(Item::as_table_like_mut) {
        for (name, population) in populations.iter_mut() {
            let Some(table) = population.as_table_like_mut() else {
                continue;
            };
            let model = table
                .get("model")
                .and_then(Item::as_str)
                .unwrap_or_default()
                .to_string();
            let path = format!("populations.{name}");
            resolve_table(table, &path, &population_fields(&model))?;
            if let Some(external) = table.get_mut("external").and_then(Item::as_table_like_mut) {
                resolve_table(
                    external,
                    &format!("{path}.external"),
                    &["count", "rate_hz", "weight", "receptor"],
                )?;
            }
        }
    }
    if let Some(projections) = doc.get_mut("projections").and_then(Item::as_table_like_mut) {
        for (name, projection) in projections.iter_mut() {
            let Some(table) = projection.as_table_like_mut() else {
                continue;
            };
            let path = format!("projections.{name}");
            resolve_table(table, &path, PROJECTION_FIELDS)?;
            if let Some(rule) = table.get_mut("plasticity").and_then(Item::as_table_like_mut) {
                let name = rule.get("rule").and_then(Item::as_str).unwrap_or_default().to_string();
                if let Some(fields) = crate::plasticity::rule_fields(&name) {
                    let known: Vec<&str> = fields.iter().map(|f| f.name).collect();
                    resolve_table(rule, &format!("{path}.plasticity"), &known)?;
                }
            }
            let to = table.get("to").and_then(Item::as_str).unwrap_or_default().to_string();
            let synapse = synapses.iter().find(|(n, _)| *n == to).and_then(|(_, s)| s.clone());
            resolve_weight(table, &path, &to, synapse.as_deref())?;
        }
    }
    if let Some(monitors) = doc.get_mut("monitors").and_then(Item::as_table_like_mut) {
        resolve_table(monitors, "monitors", &["spikes", "state", "rate_bin_ms"])?;
        if let Some(Item::ArrayOfTables(states)) = monitors.get_mut("state") {
            for (i, state) in states.iter_mut().enumerate() {
                let known = ["population", "variables", "neurons", "interval_ms"];
                resolve_table(state, &format!("monitors.state.{i}"), &known)?;
            }
        }
    }
    Ok(())
}

fn resolve_table(table: &mut dyn TableLike, path: &str, known: &[&str]) -> Result<(), ModelError> {
    use crate::units::{field_dimension, parse_quantity, symbols, QuantityError};
    let keys: Vec<String> = table.iter().map(|(k, _)| k.to_string()).collect();
    for key in keys {
        let Some(text) = table.get(&key).and_then(Item::as_str).map(str::to_string) else {
            continue;
        };
        let field = format!("{path}.{key}");
        let shown = format!("\"{text}\"");
        let parsed = parse_quantity(&text);
        if let Some((_, wanted)) = field_dimension(&key) {
            let needs = format!("`{key}` needs {} ({})", wanted.name(), symbols(wanted).join(", "));
            match parsed {
                Ok(q) if q.dimension == wanted => {
                    table.insert(&key, Item::Value(Value::from(q.value)));
                }
                Ok(q) => {
                    return Err(ModelError::new(
                        field,
                        shown,
                        format!("{} where {needs}", q.dimension.name()),
                    ))
                }
                Err(QuantityError::UnknownUnit(symbol)) => {
                    return Err(ModelError::new(
                        field,
                        shown,
                        format!("unknown unit `{symbol}`; {needs}"),
                    ))
                }
                // Not a quantity: the schema check reports the type.
                Err(QuantityError::NotAQuantity) => {}
            }
            continue;
        }
        // A field named without its unit: find the suffixed field it means.
        let suffixed: Vec<(&str, crate::units::Dimension)> = known
            .iter()
            .filter_map(|k| {
                field_dimension(k)
                    .filter(|(stem, _)| *stem == key)
                    .map(|(_, d)| (*k, d))
            })
            .collect();
        if suffixed.is_empty() {
            continue;
        }
        match parsed {
            Ok(q) => match suffixed.iter().find(|(_, d)| *d == q.dimension) {
                Some((target, _)) => {
                    if table.contains_key(target) {
                        return Err(ModelError::new(
                            field,
                            shown,
                            format!("given twice: `{target}` is also set"),
                        ));
                    }
                    table.remove(&key);
                    table.insert(target, Item::Value(Value::from(q.value)));
                }
                None => {
                    let (target, wanted) = suffixed[0];
                    return Err(ModelError::new(
                        field,
                        shown,
                        format!(
                            "{} where `{key}` (`{target}`) needs {} ({})",
                            q.dimension.name(),
                            wanted.name(),
                            symbols(wanted).join(", ")
                        ),
                    ));
                }
            },
            Err(QuantityError::UnknownUnit(symbol)) => {
                let (_, wanted) = suffixed[0];
                return Err(ModelError::new(
                    field,
                    shown,
                    format!(
                        "unknown unit `{symbol}`; `{key}` needs {} ({})",
                        wanted.name(),
                        symbols(wanted).join(", ")
                    ),
                ));
            }
            Err(QuantityError::NotAQuantity) => {
                let (target, wanted) = suffixed[0];
                return Err(ModelError::new(
                    field,
                    shown,
                    format!(
                        "expected {} with its unit, e.g. \"20 {}\" (or a number as `{target}`)",
                        wanted.name(),
                        wanted.canonical().0
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// A weight written as a quantity: in the unit of the target's synapse
/// model (mV for delta, pA for current_exp, nS for conductance_exp).
fn resolve_weight(table: &mut dyn TableLike, path: &str, to: &str, synapse: Option<&str>) -> Result<(), ModelError> {
    use crate::units::{parse_quantity, Dimension, QuantityError};
    let Some(text) = table.get("weight").and_then(Item::as_str).map(str::to_string) else {
        return Ok(());
    };
    let field = format!("{path}.weight");
    let shown = format!("\"{text}\"");
    let q = match parse_quantity(&text) {
        Ok(q) => q,
        Err(QuantityError::UnknownUnit(symbol)) => {
            return Err(ModelError::new(field, shown, format!("unknown unit `{symbol}`")))
        }
        Err(QuantityError::NotAQuantity) => return Ok(()), // the schema check reports the type
    };
    let wanted = match synapse {
        Some("delta") => Some(Dimension::Voltage),
        Some("current_exp") => Some(Dimension::Current),
        Some("conductance_exp") => Some(Dimension::Conductance),
        _ => None,
    };
    let fits = match wanted {
        Some(d) => q.dimension == d,
        None => matches!(
            q.dimension,
            Dimension::Voltage | Dimension::Current | Dimension::Conductance
        ),
    };
    if !fits {
        let reason = match (wanted, synapse) {
            (Some(d), Some(s)) => format!(
                "{} where population `{to}` (synapse = \"{s}\") takes weights in {}",
                q.dimension.name(),
                d.canonical().0
            ),
            _ => format!("{} is not a synaptic weight (mV, pA or nS)", q.dimension.name()),
        };
        return Err(ModelError::new(field, shown, reason));
    }
    table.insert("weight", Item::Value(Value::from(q.value)));
    Ok(())
}

fn not_a_table(path: &str, raw: &str, parent: &str) -> ModelError {
    ModelError::new(
        path,
        raw,
        format!("--set cannot set a field inside `{parent}`: it is a value or an array, not a table"),
    )
}

/// `KEY.PATH=VALUE` pairs, checked for shape.
fn parse_overrides(overrides: &[String]) -> Result<Vec<(String, String)>, ModelError> {
    overrides
        .iter()
        .map(|item| {
            let (path, raw) = item
                .split_once('=')
                .ok_or_else(|| ModelError::new("--set", item, "expected KEY.PATH=VALUE"))?;
            let path = path.trim();
            if path.is_empty() || path.split('.').any(|k| k.trim().is_empty()) {
                return Err(ModelError::new("--set", item, "empty key in the path"));
            }
            if let Some(bad) = path
                .split('.')
                .find(|k| !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            {
                return Err(ModelError::new(
                    "--set",
                    item,
                    format!("`{bad}` is not a plain key (letters, digits, `_`, `-`)"),
                ));
            }
            Ok((path.to_string(), raw.trim().to_string()))
        })
        .collect()
}

fn parse_value(raw: &str) -> Value {
    raw.parse::<Value>().unwrap_or_else(|_| Value::from(raw.to_string()))
}

/// Gives an error its line in the file as written (by its field path) and
/// says when the field, or one under it, came from `--set`.
fn locate(mut e: ModelError, text: &str, sets: &[(String, String)]) -> ModelError {
    if e.field == "--set" || e.field.is_empty() && e.line.is_some() {
        return e;
    }
    let related =
        |p: &str| e.field == p || e.field.starts_with(&format!("{p}.")) || p.starts_with(&format!("{}.", e.field));
    if let Some((path, raw)) = sets.iter().rev().find(|(p, _)| related(p)).cloned() {
        // An unknown key created by an override: name the override itself.
        if path.starts_with(&format!("{}.", e.field)) && !field_exists(text, &e.field) {
            e.field = path.clone();
            e.value = raw.clone();
        }
        e.reason = format!("{} (from --set {path}={raw})", e.reason);
    }
    if !e.field.is_empty() {
        e.line = find_line(text, &e.field);
    }
    e
}

fn syntax_error(text: &str, e: &toml_edit::TomlError) -> ModelError {
    let byte = e.span().map(|s| s.start).unwrap_or(0);
    let (field, value) = field_at(text, byte).unwrap_or_default();
    let mut err = ModelError::new(field, value, format!("invalid TOML: {}", one_line(e.message())));
    err.line = Some(line_of(text, byte));
    err
}

fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// The text before a byte offset, cut at a character boundary.
fn before(text: &str, byte: usize) -> &str {
    let mut end = byte.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn line_of(text: &str, byte: usize) -> usize {
    before(text, byte).matches('\n').count() + 1
}

/// A node of a parsed document, for walking dotted paths.
enum Node<'a> {
    Like(&'a dyn TableLike),
    Array(&'a toml_edit::Array),
    Tables(&'a toml_edit::ArrayOfTables),
    Leaf,
}

impl<'a> Node<'a> {
    fn of_item(item: &'a Item) -> Self {
        match item {
            Item::Table(t) => Node::Like(t),
            Item::ArrayOfTables(a) => Node::Tables(a),
            Item::Value(v) => Node::of_value(v),
            Item::None => Node::Leaf,
        }
    }

    fn of_value(value: &'a Value) -> Self {
        match value {
            Value::InlineTable(t) => Node::Like(t),
            Value::Array(a) => Node::Array(a),
            _ => Node::Leaf,
        }
    }

    /// The child named `key`, with the span that best shows where it is.
    fn child(&self, key: &str) -> Option<(Option<std::ops::Range<usize>>, Node<'a>)> {
        match self {
            Node::Like(like) => {
                let (k, item) = like.get_key_value(key)?;
                Some((k.span().or_else(|| item.span()), Node::of_item(item)))
            }
            Node::Array(array) => {
                let value = array.get(key.parse::<usize>().ok()?)?;
                Some((value.span(), Node::of_value(value)))
            }
            Node::Tables(tables) => {
                let table = tables.get(key.parse::<usize>().ok()?)?;
                Some((table.span(), Node::Like(table)))
            }
            Node::Leaf => None,
        }
    }
}

/// Walks a dotted path: the span of the deepest part the file spells out, and
/// whether the whole path was found.
fn walk(doc: &toml_edit::ImDocument<&str>, field: &str) -> (Option<std::ops::Range<usize>>, bool) {
    let mut best = None;
    let mut node = Node::of_item(doc.as_item());
    for key in field.split('.') {
        match node.child(key) {
            Some((span, child)) => {
                if span.is_some() {
                    best = span;
                }
                node = child;
            }
            None => return (best, false),
        }
    }
    (best, true)
}

/// The line of a dotted field path, or of its nearest enclosing table or
/// array element that the file spells out (a defaulted field has no line of
/// its own).
pub fn find_line(text: &str, field: &str) -> Option<usize> {
    let doc = toml_edit::ImDocument::parse(text).ok()?;
    walk(&doc, field).0.map(|span| line_of(text, span.start))
}

fn field_exists(text: &str, field: &str) -> bool {
    toml_edit::ImDocument::parse(text).is_ok_and(|doc| walk(&doc, field).1)
}

/// The dotted path of the key on the line of a byte offset (or of the table
/// header before it) and the value written there, to name the field of an
/// error reported without one.
fn field_at(text: &str, byte: usize) -> Option<(String, String)> {
    let head = before(text, byte);
    let line_start = head.rfind('\n').map_or(0, |i| i + 1);
    let line = text[line_start..].lines().next().unwrap_or("");
    let mut table = String::new();
    for l in text[..line_start].lines() {
        if let Some(header) = table_header(l) {
            table = header;
        }
    }
    let t = line.trim();
    let (key, value) = match t.split_once('=') {
        Some((k, v)) if table_header(t).is_none() => (k.trim().trim_matches('"').to_string(), v.trim().to_string()),
        _ => (String::new(), t.to_string()),
    };
    let field = match (table.is_empty(), key.is_empty()) {
        (true, true) => {
            return if value.is_empty() {
                None
            } else {
                Some((String::new(), value))
            }
        }
        (true, false) => key,
        (false, true) => table,
        (false, false) => format!("{table}.{key}"),
    };
    Some((field, shorten(&value)))
}

/// The dotted name of a `[table]` or `[[array.of.tables]]` header line
/// (not of a line of a multi-line array, which may also start with `[`).
fn table_header(line: &str) -> Option<String> {
    let t = line.split('#').next().unwrap_or("").trim();
    if !(t.starts_with('[') && t.ends_with(']')) {
        return None;
    }
    let name = t.trim_start_matches('[').trim_end_matches(']').trim();
    let plain = |c: char| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '"' | '\'' | ' ');
    (!name.is_empty() && name.chars().all(plain)).then(|| name.replace(['"', '\'', ' '], ""))
}

fn shorten(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > 80 {
        let cut: String = flat.chars().take(77).collect();
        format!("{cut}...")
    } else {
        flat
    }
}

// ---------------------------------------------------------------------------
// Schema pass: every table's keys and every value's type, with the dotted path
// of the offending field and its value as written. It mirrors the serde
// definitions of `crate::model`, and is stricter where serde is lenient
// (extra keys beside `uniform`/`normal`).
// ---------------------------------------------------------------------------

type Checked<T = ()> = Result<T, ModelError>;

const U32_MAX: i64 = u32::MAX as i64;

/// What a field holds.
#[derive(Clone, Copy)]
enum Src<'a> {
    Item(&'a Item),
    Value(&'a Value),
    Table(&'a toml_edit::Table),
}

/// One field of the document: its dotted path and what it holds.
struct Field<'a> {
    path: String,
    src: Src<'a>,
}

impl<'a> Field<'a> {
    fn value(&self) -> Option<&'a Value> {
        match self.src {
            Src::Item(item) => item.as_value(),
            Src::Value(v) => Some(v),
            Src::Table(_) => None,
        }
    }

    fn kind(&self) -> &'static str {
        match (self.value(), self.src) {
            (Some(Value::String(_)), _) => "a string",
            (Some(Value::Integer(_)), _) => "an integer",
            (Some(Value::Float(_)), _) => "a float",
            (Some(Value::Boolean(_)), _) => "a boolean",
            (Some(Value::Datetime(_)), _) => "a date-time",
            (Some(Value::Array(_)), _) => "an array",
            (Some(Value::InlineTable(_)), _) => "a table",
            (None, Src::Item(Item::ArrayOfTables(_))) => "an array of tables",
            (None, _) => "a table",
        }
    }

    fn text(&self) -> String {
        if let Some(v) = self.value() {
            let mut v = v.clone();
            v.decor_mut().clear();
            return shorten(&v.to_string());
        }
        match self.src {
            Src::Item(Item::ArrayOfTables(a)) => format!("[{} tables]", a.len()),
            Src::Item(Item::Table(t)) | Src::Table(t) => {
                let keys: Vec<&str> = t.iter().map(|(k, _)| k).collect();
                shorten(&format!("{{ {} }}", keys.join(", ")))
            }
            _ => String::new(),
        }
    }

    fn error(&self, reason: impl Into<String>) -> ModelError {
        ModelError::new(self.path.clone(), self.text(), reason)
    }

    fn wrong_type(&self, expected: &str) -> ModelError {
        self.error(format!("expected {expected}, found {}", self.kind()))
    }

    fn number(&self) -> Checked {
        match self.value() {
            Some(Value::Float(_) | Value::Integer(_)) => Ok(()),
            _ => Err(self.wrong_type("a number")),
        }
    }

    fn integer(&self, max: i64) -> Checked {
        match self.value() {
            Some(Value::Integer(i)) if (0..=max).contains(i.value()) => Ok(()),
            Some(Value::Integer(_)) if max == i64::MAX => Err(self.error("expected a whole number >= 0")),
            Some(Value::Integer(_)) => Err(self.error(format!("expected a whole number from 0 to {max}"))),
            _ => Err(self.wrong_type("a whole number")),
        }
    }

    fn boolean(&self) -> Checked {
        match self.value() {
            Some(Value::Boolean(_)) => Ok(()),
            _ => Err(self.wrong_type("true or false")),
        }
    }

    fn string(&self) -> Checked<&'a str> {
        match self.value() {
            Some(Value::String(s)) => Ok(s.value().as_str()),
            _ => Err(self.wrong_type("a string")),
        }
    }

    fn one_of(&self, options: &[&str]) -> Checked<&'a str> {
        let list = options
            .iter()
            .map(|o| format!("\"{o}\""))
            .collect::<Vec<_>>()
            .join(", ");
        match self.value() {
            Some(Value::String(s)) if options.contains(&s.value().as_str()) => Ok(s.value().as_str()),
            Some(Value::String(_)) => Err(self.error(format!("expected one of {list}"))),
            _ => Err(self.wrong_type(&format!("one of {list}"))),
        }
    }

    fn table(&self) -> Checked<Table<'a>> {
        let like: Option<&'a dyn TableLike> = match self.src {
            Src::Item(item) => item.as_table_like(),
            Src::Value(Value::InlineTable(t)) => Some(t),
            Src::Value(_) => None,
            Src::Table(t) => Some(t),
        };
        like.map(|like| Table {
            path: self.path.clone(),
            like,
        })
        .ok_or_else(|| self.wrong_type("a table"))
    }

    /// Elements of an array (or of an array of tables).
    fn array(&self) -> Checked<Vec<Field<'a>>> {
        let at = |i: usize| format!("{}.{i}", self.path);
        if let Src::Item(Item::ArrayOfTables(a)) = self.src {
            return Ok(a
                .iter()
                .enumerate()
                .map(|(i, t)| Field {
                    path: at(i),
                    src: Src::Table(t),
                })
                .collect());
        }
        match self.value() {
            Some(Value::Array(a)) => Ok(a
                .iter()
                .enumerate()
                .map(|(i, v)| Field {
                    path: at(i),
                    src: Src::Value(v),
                })
                .collect()),
            _ => Err(self.wrong_type("an array")),
        }
    }

    /// An array of exactly `len` elements, each checked by `each`; an error
    /// names the array and says which element is wrong.
    fn tuple(&self, len: usize, shape: &str, each: impl Fn(usize, &Field<'a>) -> Checked) -> Checked {
        let items = self.array().map_err(|_| self.wrong_type(shape))?;
        if items.len() != len {
            return Err(self.error(format!("expected {shape}, found {} elements", items.len())));
        }
        for (i, item) in items.iter().enumerate() {
            each(i, item).map_err(|e| self.error(format!("expected {shape}; element {}: {}", i + 1, e.reason)))?;
        }
        Ok(())
    }

    fn pair(&self, shape: &str) -> Checked {
        self.tuple(2, shape, |_, f| f.number())
    }

    /// `x` or `{ uniform = [low, high] }` (plus `normal` forms when allowed).
    fn distribution(&self, normal: bool, normal_min: bool) -> Checked {
        if self.number().is_ok() {
            return Ok(());
        }
        let expected = match (normal, normal_min) {
            (false, _) => "a number or { uniform = [low, high] }",
            (true, false) => "a number, { uniform = [low, high] } or { normal = [mean, sd] }",
            (true, true) => "a number, { uniform = [low, high] } or { normal = [mean, sd], min = x }",
        };
        let table = self.table().map_err(|_| self.wrong_type(expected))?;
        if table.get("uniform").is_some() {
            table.only(&["uniform"], " beside `uniform`")?;
            table.need("uniform")?.pair("[low, high]")
        } else if normal && table.get("normal").is_some() {
            if normal_min {
                table.only(&["normal", "min"], " beside `normal`")?;
                table.number("min")?;
            } else {
                table.only(&["normal"], " beside `normal`")?;
            }
            table.need("normal")?.pair("[mean, sd]")
        } else {
            Err(self.error(format!("expected {expected}")))
        }
    }
}

/// A table of the document with its dotted path.
struct Table<'a> {
    path: String,
    like: &'a dyn TableLike,
}

impl<'a> Table<'a> {
    fn at(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    fn get(&self, key: &str) -> Option<Field<'a>> {
        self.like.get(key).filter(|item| !item.is_none()).map(|item| Field {
            path: self.at(key),
            src: Src::Item(item),
        })
    }

    fn need(&self, key: &str) -> Checked<Field<'a>> {
        self.get(key).ok_or_else(|| {
            let what = if self.path.is_empty() {
                "the experiment".to_string()
            } else {
                format!("`{}`", self.path)
            };
            ModelError::new(self.at(key), "", format!("missing: {what} needs `{key}`"))
        })
    }

    fn entries(&self) -> Vec<Field<'a>> {
        self.like
            .iter()
            .filter(|(_, item)| !item.is_none())
            .map(|(k, item)| Field {
                path: self.at(k),
                src: Src::Item(item),
            })
            .collect()
    }

    fn keys(&self) -> Vec<&'a str> {
        self.like
            .iter()
            .filter(|(_, item)| !item.is_none())
            .map(|(k, _)| k)
            .collect()
    }

    /// Refuses keys not in `known`.
    fn only(&self, known: &[&str], context: &str) -> Checked {
        for (key, field) in self.keys().into_iter().zip(self.entries()) {
            if !known.contains(&key) {
                let list = known.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
                return Err(field.error(format!("unknown field{context}; expected one of {list}")));
            }
        }
        Ok(())
    }

    fn with(&self, key: &str, check: impl FnOnce(&Field<'a>) -> Checked) -> Checked {
        match self.get(key) {
            Some(field) => check(&field),
            None => Ok(()),
        }
    }

    fn numbers(&self, keys: &[&str]) -> Checked {
        keys.iter().try_for_each(|k| self.with(k, Field::number))
    }

    fn number(&self, key: &str) -> Checked {
        self.with(key, Field::number)
    }

    fn integer(&self, key: &str, max: i64) -> Checked {
        self.with(key, |f| f.integer(max))
    }

    fn booleans(&self, keys: &[&str]) -> Checked {
        keys.iter().try_for_each(|k| self.with(k, Field::boolean))
    }

    fn string(&self, key: &str) -> Checked {
        self.with(key, |f| f.string().map(|_| ()))
    }

    fn one_of(&self, key: &str, options: &[&str]) -> Checked {
        self.with(key, |f| f.one_of(options).map(|_| ()))
    }

    fn requires(&self, keys: &[&str]) -> Checked {
        keys.iter().try_for_each(|k| self.need(k).map(|_| ()))
    }
}

const RECEPTORS: &[&str] = &["exc", "inh"];

/// Checks the names and types of every field of an experiment document
/// (after overrides), before serde sees it.
pub fn check_schema(root: &toml_edit::Table) -> Result<(), ModelError> {
    let root = Table {
        path: String::new(),
        like: root,
    };
    root.only(
        &[
            "simulation",
            "network",
            "populations",
            "projections",
            "monitors",
            "training",
        ],
        "",
    )?;

    let simulation = root.need("simulation")?.table()?;
    simulation.only(&["dt_ms", "duration_ms", "seed", "precision"], "")?;
    simulation.need("duration_ms")?;
    simulation.numbers(&["dt_ms", "duration_ms"])?;
    simulation.integer("seed", i64::MAX)?;

    if let Some(network) = root.get("network") {
        let network = network.table()?;
        network.only(&["scale"], "")?;
        network.number("scale")?;
    }

    let populations = root.need("populations")?.table()?;
    for population in populations.entries() {
        check_population(&population.table()?)?;
    }

    if let Some(projections) = root.get("projections") {
        for projection in projections.table()?.entries() {
            check_projection(&projection.table()?)?;
        }
    }

    if let Some(monitors) = root.get("monitors") {
        let monitors = monitors.table()?;
        monitors.only(&["spikes", "state", "rate_bin_ms"], "")?;
        monitors.number("rate_bin_ms")?;
        if let Some(spikes) = monitors.get("spikes") {
            for selection in spikes.table()?.entries() {
                if selection.string().is_err() {
                    let expected = "\"all\", \"none\" or a list of neuron indices";
                    let indices = selection.array().map_err(|_| selection.wrong_type(expected))?;
                    for index in indices {
                        index
                            .integer(U32_MAX)
                            .map_err(|e| selection.error(format!("expected {expected}; {}", e.reason)))?;
                    }
                }
            }
        }
        if let Some(state) = monitors.get("state") {
            for monitor in state.array()? {
                let monitor = monitor.table()?;
                monitor.only(&["population", "variables", "neurons", "interval_ms"], "")?;
                monitor.requires(&["population", "variables", "neurons"])?;
                monitor.string("population")?;
                monitor.number("interval_ms")?;
                for variable in monitor.need("variables")?.array()? {
                    variable.string()?;
                }
                for neuron in monitor.need("neurons")?.array()? {
                    neuron.integer(U32_MAX)?;
                }
            }
        }
    }
    Ok(())
}

fn check_population(p: &Table) -> Checked {
    let models: Vec<&str> = NEURON_MODELS.iter().chain(INPUT_MODELS).copied().collect();
    let model = p.need("model")?.one_of(&models)?;
    let context = format!(" for model = \"{model}\"");
    if let Some(fields) = model_fields(model) {
        return check_fields(p, &fields, &context);
    }
    match model {
        "lif" => {
            p.only(&lif_field_names(), &context)?;
            p.requires(&["n", "tau_m_ms", "e_l_mv", "v_th_mv", "v_reset_mv", "synapse"])?;
            p.integer("n", i64::MAX)?;
            p.numbers(&[
                "tau_m_ms",
                "c_m_pf",
                "e_l_mv",
                "v_th_mv",
                "v_reset_mv",
                "t_ref_ms",
                "i_bias_pa",
                "tau_exc_ms",
                "tau_inh_ms",
                "e_exc_mv",
                "e_inh_mv",
            ])?;
            p.one_of("synapse", &["delta", "current_exp", "conductance_exp"])?;
            for init in ["v_init_mv", "g_exc_init", "g_inh_init"] {
                p.with(init, |f| f.distribution(true, true))?;
            }
            if let Some(external) = p.get("external") {
                let external = external.table()?;
                external.only(&["count", "rate_hz", "weight", "receptor"], "")?;
                external.requires(&["count", "rate_hz", "weight"])?;
                external.integer("count", U32_MAX)?;
                external.numbers(&["rate_hz", "weight"])?;
                external.one_of("receptor", RECEPTORS)?;
            }
        }
        "poisson" => {
            p.only(&["model", "n", "rate_hz", "schedule"], &context)?;
            p.need("n")?;
            p.integer("n", i64::MAX)?;
            p.number("rate_hz")?;
            p.with("schedule", |f| {
                f.array()?.iter().try_for_each(|point| point.pair("[t_ms, rate_hz]"))
            })?;
        }
        _ => {
            p.only(&["model", "n", "spikes"], &context)?;
            p.requires(&["n", "spikes"])?;
            p.integer("n", i64::MAX)?;
            for spike in p.need("spikes")?.array()? {
                spike.tuple(2, "[neuron, t_ms]", |i, f| {
                    if i == 0 {
                        f.integer(U32_MAX)
                    } else {
                        f.number()
                    }
                })?;
            }
        }
    }
    Ok(())
}

/// Checks a table against a model's field list: no unknown fields, the
/// required ones present, each of its kind.
fn check_fields(p: &Table, fields: &[&FieldSpec], context: &str) -> Checked {
    let names: Vec<&str> = fields.iter().map(|f| f.name).collect();
    p.only(&names, context)?;
    for field in fields {
        if field.required {
            p.need(field.name)?;
        }
        match field.kind {
            FieldKind::Number => p.number(field.name)?,
            FieldKind::Integer => p.integer(field.name, i64::MAX)?,
            FieldKind::Bool => p.booleans(&[field.name])?,
            FieldKind::Text => p.string(field.name)?,
            FieldKind::Init => p.with(field.name, |f| f.distribution(true, true))?,
            FieldKind::Choice(options) => p.one_of(field.name, options)?,
            FieldKind::Choices(options) => p.with(field.name, |f| {
                f.array()?.iter().try_for_each(|item| item.one_of(options).map(|_| ()))
            })?,
            FieldKind::Tables(fields) => p.with(field.name, |f| {
                let fields: Vec<&FieldSpec> = fields.iter().collect();
                f.array()?
                    .iter()
                    .try_for_each(|item| check_fields(&item.table()?, &fields, ""))
            })?,
            FieldKind::Pairs(shape) => p.with(field.name, |f| f.array()?.iter().try_for_each(|x| x.pair(shape)))?,
            FieldKind::Any => {}
        }
    }
    Ok(())
}

fn check_projection(p: &Table) -> Checked {
    p.only(PROJECTION_FIELDS, "")?;
    if let Some(rule) = p.get("plasticity") {
        let rule = rule.table()?;
        let name = rule.need("rule")?.one_of(crate::plasticity::RULES)?;
        let fields = crate::plasticity::rule_fields(name).expect("a known rule");
        check_fields(&rule, &fields, &format!(" for rule = \"{name}\""))?;
    }
    p.requires(&["from", "to", "connect"])?;
    p.string("from")?;
    p.string("to")?;
    p.with("weight", |f| f.distribution(true, false))?;
    p.with("delay_ms", |f| f.distribution(false, false))?;
    p.one_of("receptor", RECEPTORS)?;
    let connect = p.need("connect")?.table()?;
    let rule = connect.need("rule")?.one_of(&[
        "fixed_probability",
        "fixed_indegree",
        "one_to_one",
        "all_to_all",
        "explicit",
    ])?;
    let context = format!(" for rule = \"{rule}\"");
    match rule {
        "fixed_probability" => {
            connect.only(&["rule", "p", "allow_autapses"], &context)?;
            connect.need("p")?;
            connect.number("p")?;
            connect.booleans(&["allow_autapses"])?;
        }
        "fixed_indegree" => {
            connect.only(&["rule", "k", "allow_autapses", "allow_multapses"], &context)?;
            connect.need("k")?;
            connect.integer("k", i64::MAX)?;
            connect.booleans(&["allow_autapses", "allow_multapses"])?;
        }
        "one_to_one" => connect.only(&["rule"], &context)?,
        "all_to_all" => {
            connect.only(&["rule", "allow_autapses", "except_same_index"], &context)?;
            connect.booleans(&["allow_autapses", "except_same_index"])?;
        }
        _ => {
            connect.only(&["rule", "synapses"], &context)?;
            for synapse in connect.need("synapses")?.array()? {
                synapse.tuple(4, "[pre, post, weight, delay_ms]", |i, f| {
                    if i < 2 {
                        f.integer(U32_MAX)
                    } else {
                        f.number()
                    }
                })?;
            }
        }
    }
    Ok(())
}
