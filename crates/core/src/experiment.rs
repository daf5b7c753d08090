//! TOML experiments: parse (unknown fields refused), apply `--set` overrides,
//! validate, and point every error at its file and line.

use crate::error::ModelError;
use crate::model::Network;
use crate::validate::validate;
use std::path::Path;

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
    let text = apply_overrides(text, overrides)?;
    let network: Network = toml::from_str(&text).map_err(|e| {
        let line = e.span().map(|span| line_of(&text, span.start));
        let mut err = ModelError::new("", "", e.message().to_string());
        err.line = line;
        if let Some(span) = e.span() {
            err.field = field_at(&text, span.start).unwrap_or_default();
        }
        err
    })?;
    validate(&network).map_err(|mut e| {
        e.line = find_line(&text, &e.field);
        e
    })?;
    Ok(network)
}

/// Applies `a.b.c=value` overrides to the TOML document. The value is read as
/// TOML (`3`, `0.5`, `"x"`, `[1, 2]`); anything that is not TOML is a string.
pub fn apply_overrides(text: &str, overrides: &[String]) -> Result<String, ModelError> {
    if overrides.is_empty() {
        return Ok(text.to_string());
    }
    let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
        let mut err = ModelError::new("", "", e.message().to_string());
        err.line = e.span().map(|s| line_of(text, s.start));
        err
    })?;
    for item in overrides {
        let (path, raw) = item
            .split_once('=')
            .ok_or_else(|| ModelError::new("--set", item, "expected KEY.PATH=VALUE"))?;
        let path = path.trim();
        let value = parse_value(raw.trim());
        let keys: Vec<&str> = path.split('.').collect();
        if keys.iter().any(|k| k.is_empty()) {
            return Err(ModelError::new("--set", item, "empty key in the path"));
        }
        let mut table: &mut toml_edit::Item = doc.as_item_mut();
        for key in &keys[..keys.len() - 1] {
            let like = table
                .as_table_like_mut()
                .ok_or_else(|| ModelError::new(path, raw, format!("`{key}` is not inside a table")))?;
            if like.get(key).is_none() {
                like.insert(key, toml_edit::Item::Table(toml_edit::Table::new()));
            }
            table = like.get_mut(key).expect("just inserted");
        }
        let like = table
            .as_table_like_mut()
            .ok_or_else(|| ModelError::new(path, raw, "the parent is not a table"))?;
        like.insert(keys[keys.len() - 1], toml_edit::Item::Value(value));
    }
    Ok(doc.to_string())
}

fn parse_value(raw: &str) -> toml_edit::Value {
    raw.parse::<toml_edit::Value>()
        .unwrap_or_else(|_| toml_edit::Value::from(raw.to_string()))
}

fn line_of(text: &str, byte: usize) -> usize {
    text[..byte.min(text.len())].matches('\n').count() + 1
}

/// The line of a dotted field path, or of its nearest enclosing table that
/// the file spells out (a defaulted field has no line of its own).
pub fn find_line(text: &str, field: &str) -> Option<usize> {
    let doc: toml_edit::ImDocument<&str> = toml_edit::ImDocument::parse(text).ok()?;
    let mut best: Option<std::ops::Range<usize>> = None;
    let mut item: &toml_edit::Item = doc.as_item();
    for key in field.split('.') {
        let next = if let Some(like) = item.as_table_like() {
            if let Some((k, child)) = like.get_key_value(key) {
                if let Some(span) = k.span() {
                    best = Some(span);
                }
                Some(child)
            } else {
                None
            }
        } else if let (Some(array), Ok(index)) = (item.as_array(), key.parse::<usize>()) {
            array.get(index).and_then(|v| {
                if let Some(span) = v.span() {
                    best = Some(span);
                }
                None
            })
        } else {
            None
        };
        match next {
            Some(child) => {
                if let Some(span) = child.span() {
                    if best.is_none() {
                        best = Some(span);
                    }
                }
                item = child;
            }
            None => break,
        }
    }
    best.map(|span| line_of(text, span.start))
}

/// The dotted path of the table header or key nearest before a byte offset,
/// used to name the field of a parse error that serde reported without one.
fn field_at(text: &str, byte: usize) -> Option<String> {
    let before = &text[..byte.min(text.len())];
    let mut table = String::new();
    for line in before.lines() {
        let t = line.trim();
        if t.starts_with('[') {
            table = t.trim_matches(|c| c == '[' || c == ']').trim().to_string();
        }
    }
    let rest = &text[byte.min(text.len())..];
    let key: String = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    match (table.is_empty(), key.is_empty()) {
        (true, true) => None,
        (true, false) => Some(key),
        (false, true) => Some(table),
        (false, false) => Some(format!("{table}.{key}")),
    }
}
