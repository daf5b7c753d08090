//! Physical units in experiment files.
//!
//! Every numeric field carries its unit in its name (`tau_m_ms`, `e_l_mv`,
//! `c_m_pf`, ...), and a plain number is taken in that unit. A value may also
//! be written as a quantity string in any unit of the same dimension,
//! `tau_m_ms = "0.02 s"`, or the field named without its suffix,
//! `tau_m = "20 ms"`; either is converted to the field's unit when the
//! experiment is loaded, and a quantity of the wrong dimension is refused
//! (`tau_m = "20 mV"`: a voltage where a time is needed). Symbols are case
//! sensitive: `ms` is milliseconds, `mS` millisiemens.

/// What a quantity measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    Time,
    Voltage,
    Current,
    Conductance,
    Capacitance,
    Frequency,
    Length,
}

impl Dimension {
    pub fn name(self) -> &'static str {
        match self {
            Dimension::Time => "a time",
            Dimension::Voltage => "a voltage",
            Dimension::Current => "a current",
            Dimension::Conductance => "a conductance",
            Dimension::Capacitance => "a capacitance",
            Dimension::Frequency => "a frequency",
            Dimension::Length => "a length",
        }
    }

    /// cognitron's unit for this dimension, and the field-name suffix that says it.
    pub fn canonical(self) -> (&'static str, &'static str) {
        match self {
            Dimension::Time => ("ms", "_ms"),
            Dimension::Voltage => ("mV", "_mv"),
            Dimension::Current => ("pA", "_pa"),
            Dimension::Conductance => ("nS", "_ns"),
            Dimension::Capacitance => ("pF", "_pf"),
            Dimension::Frequency => ("Hz", "_hz"),
            Dimension::Length => ("um", "_um"),
        }
    }
}

/// Unit symbols, their dimension and their size in the canonical unit.
const UNITS: &[(&str, Dimension, f64)] = &[
    ("ms", Dimension::Time, 1.0),
    ("s", Dimension::Time, 1e3),
    ("us", Dimension::Time, 1e-3),
    ("µs", Dimension::Time, 1e-3),
    ("min", Dimension::Time, 6e4),
    ("mV", Dimension::Voltage, 1.0),
    ("V", Dimension::Voltage, 1e3),
    ("uV", Dimension::Voltage, 1e-3),
    ("µV", Dimension::Voltage, 1e-3),
    ("pA", Dimension::Current, 1.0),
    ("fA", Dimension::Current, 1e-3),
    ("nA", Dimension::Current, 1e3),
    ("uA", Dimension::Current, 1e6),
    ("µA", Dimension::Current, 1e6),
    ("mA", Dimension::Current, 1e9),
    ("nS", Dimension::Conductance, 1.0),
    ("pS", Dimension::Conductance, 1e-3),
    ("uS", Dimension::Conductance, 1e3),
    ("µS", Dimension::Conductance, 1e3),
    ("mS", Dimension::Conductance, 1e6),
    ("S", Dimension::Conductance, 1e9),
    ("pF", Dimension::Capacitance, 1.0),
    ("fF", Dimension::Capacitance, 1e-3),
    ("nF", Dimension::Capacitance, 1e3),
    ("uF", Dimension::Capacitance, 1e6),
    ("µF", Dimension::Capacitance, 1e6),
    ("Hz", Dimension::Frequency, 1.0),
    ("kHz", Dimension::Frequency, 1e3),
    ("um", Dimension::Length, 1.0),
    ("µm", Dimension::Length, 1.0),
    ("nm", Dimension::Length, 1e-3),
    ("mm", Dimension::Length, 1e3),
    ("cm", Dimension::Length, 1e4),
    ("m", Dimension::Length, 1e6),
];

/// The dimension a field-name suffix declares (`tau_m_ms` -> time), with the
/// name without it.
pub fn field_dimension(name: &str) -> Option<(&str, Dimension)> {
    [
        Dimension::Time,
        Dimension::Voltage,
        Dimension::Current,
        Dimension::Conductance,
        Dimension::Capacitance,
        Dimension::Frequency,
        Dimension::Length,
    ]
    .into_iter()
    .find_map(|d| name.strip_suffix(d.canonical().1).map(|stem| (stem, d)))
    .filter(|(stem, _)| !stem.is_empty())
}

/// A quantity string: the value in canonical units and its dimension.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quantity {
    pub value: f64,
    pub dimension: Dimension,
}

/// Why a string is not a quantity.
#[derive(Debug, Clone, PartialEq)]
pub enum QuantityError {
    /// Not of the form `<number> <unit>` at all (an ordinary string).
    NotAQuantity,
    /// A number followed by a symbol that is not a known unit.
    UnknownUnit(String),
}

/// Parses `"20 ms"`, `"-65mV"`, `"1.5e-3 s"` into canonical units.
pub fn parse_quantity(text: &str) -> Result<Quantity, QuantityError> {
    let text = text.trim();
    let split = text
        .char_indices()
        .find(|&(i, c)| c.is_alphabetic() && !(matches!(c, 'e' | 'E') && is_exponent(text, i)))
        .map(|(i, _)| i)
        .ok_or(QuantityError::NotAQuantity)?;
    let number: f64 = text[..split].trim().parse().map_err(|_| QuantityError::NotAQuantity)?;
    let symbol = text[split..].trim();
    let &(_, dimension, factor) = UNITS
        .iter()
        .find(|(s, _, _)| *s == symbol)
        .ok_or_else(|| QuantityError::UnknownUnit(symbol.to_string()))?;
    Ok(Quantity {
        value: number * factor,
        dimension,
    })
}

/// Whether the `e` at byte `i` is a number's exponent (followed by a digit or sign and digit).
fn is_exponent(text: &str, i: usize) -> bool {
    let rest = &text[i + 1..];
    let rest = rest.strip_prefix(['+', '-']).unwrap_or(rest);
    i > 0 && rest.starts_with(|c: char| c.is_ascii_digit())
}

/// Every known unit symbol of a dimension, for error messages.
pub fn symbols(dimension: Dimension) -> Vec<&'static str> {
    UNITS
        .iter()
        .filter(|(s, d, _)| *d == dimension && s.is_ascii())
        .map(|(s, _, _)| *s)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_convert_to_canonical_units() {
        let q = |s| parse_quantity(s).unwrap();
        assert_eq!(
            q("20 ms"),
            Quantity {
                value: 20.0,
                dimension: Dimension::Time
            }
        );
        assert_eq!(q("0.02 s").value, 20.0);
        assert_eq!(q("-65mV").value, -65.0);
        assert_eq!(q("1.5e-3 s").value, 1.5);
        assert_eq!(q("2 nA").value, 2000.0);
        assert_eq!(q("1 uF").value, 1e6);
        assert_eq!(q("5 mS").dimension, Dimension::Conductance);
        assert_eq!(q("5 ms").dimension, Dimension::Time);
        assert_eq!(q("10 µm").value, 10.0);
        assert_eq!(parse_quantity("exc"), Err(QuantityError::NotAQuantity));
        assert_eq!(parse_quantity("20"), Err(QuantityError::NotAQuantity));
        assert_eq!(
            parse_quantity("20 parsecs"),
            Err(QuantityError::UnknownUnit("parsecs".into()))
        );
    }

    #[test]
    fn suffixes_declare_dimensions() {
        assert_eq!(field_dimension("tau_m_ms"), Some(("tau_m", Dimension::Time)));
        assert_eq!(field_dimension("g_na_ns"), Some(("g_na", Dimension::Conductance)));
        assert_eq!(field_dimension("n"), None);
        assert_eq!(field_dimension("_ms"), None);
    }
}
