//! Numbers as damo's record files hold them: JSON integers or floats, or text, raw
//! (`"8192"`) or with thousands separators (`"4,096"`), `max`, a size with a unit
//! (`"0 B"`, `"4 KiB"`) or a time with units (`"1 s 200 ms"`). damo writes all of these
//! forms into the same file, and its readers take each of them.

use std::fmt;

use serde::de::{Deserialize, Deserializer, Visitor};

/// A number field as read, before its unit is known.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Flex {
    Int(i128),
    Float(f64),
    Text(String),
}

impl<'de> Deserialize<'de> for Flex {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FlexVisitor;
        impl Visitor<'_> for FlexVisitor {
            type Value = Flex;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number or a number's text")
            }
            fn visit_i64<E>(self, v: i64) -> Result<Flex, E> {
                Ok(Flex::Int(v.into()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Flex, E> {
                Ok(Flex::Int(v.into()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Flex, E> {
                Ok(Flex::Float(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<Flex, E> {
                Ok(Flex::Text(v.to_owned()))
            }
        }
        deserializer.deserialize_any(FlexVisitor)
    }
}

/// What a number counts, for the units its text may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Unit {
    Count,
    Bytes,
    Nanoseconds,
    Microseconds,
}

const BYTE_UNITS: &[(&str, i128)] = &[
    ("B", 1),
    ("K", 1 << 10),
    ("KB", 1 << 10),
    ("KiB", 1 << 10),
    ("M", 1 << 20),
    ("MB", 1 << 20),
    ("MiB", 1 << 20),
    ("G", 1 << 30),
    ("GB", 1 << 30),
    ("GiB", 1 << 30),
    ("T", 1 << 40),
    ("TB", 1 << 40),
    ("TiB", 1 << 40),
    ("P", 1 << 50),
    ("PB", 1 << 50),
    ("PiB", 1 << 50),
    ("E", 1 << 60),
    ("EB", 1 << 60),
    ("EiB", 1 << 60),
];

const TIME_UNITS_NS: &[(&str, i128)] = &[
    ("ns", 1),
    ("us", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
    ("d", 86_400_000_000_000),
];

impl Flex {
    /// The value in `unit`, truncated to an integer as damo's `%d` does.
    pub(super) fn integer(&self, unit: Unit) -> Result<i128, String> {
        match self {
            Flex::Int(v) => Ok(*v),
            Flex::Float(v) => float_to_int(*v),
            Flex::Text(text) => parse_text(text.trim(), unit).ok_or_else(|| format!("`{text}` is not a number")),
        }
    }

    /// The value as an unsigned integer of `unit`.
    pub(super) fn unsigned(&self, unit: Unit, what: &str) -> Result<u64, String> {
        let value = self.integer(unit).map_err(|e| format!("{what}: {e}"))?;
        u64::try_from(value).map_err(|_| format!("{what}: {value} is out of range"))
    }

    pub(super) fn float(&self, unit: Unit) -> Result<f64, String> {
        match self {
            Flex::Float(v) => Ok(*v),
            Flex::Text(text) => match text.trim().replace(',', "").parse::<f64>() {
                Ok(v) => Ok(v),
                Err(_) => self.integer(unit).map(|v| v as f64),
            },
            Flex::Int(v) => Ok(*v as f64),
        }
    }
}

fn float_to_int(v: f64) -> Result<i128, String> {
    if v.is_finite() {
        Ok(v.trunc() as i128)
    } else {
        Err(format!("{v} is not a finite number"))
    }
}

fn parse_text(text: &str, unit: Unit) -> Option<i128> {
    if text == "max" {
        return Some(u64::MAX.into());
    }
    if let Some(v) = plain_number(text) {
        return Some(v);
    }
    match unit {
        Unit::Count => None,
        Unit::Bytes => with_unit(text, BYTE_UNITS, 1),
        Unit::Nanoseconds => time(text, 1),
        Unit::Microseconds => time(text, 1_000),
    }
}

/// `1,234`, `-1` or `12.5` (truncated).
fn plain_number(text: &str) -> Option<i128> {
    let digits: String = text.chars().filter(|&c| c != ',').collect();
    if let Ok(v) = digits.parse::<i128>() {
        return Some(v);
    }
    digits.parse::<f64>().ok().and_then(|v| float_to_int(v).ok())
}

/// `4 KiB` or `4KiB`, scaled to the field's unit (`per` of the table's unit).
fn with_unit(text: &str, units: &[(&str, i128)], per: i128) -> Option<i128> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, suffix) = text.split_at(split);
    let (_, factor) = units.iter().find(|(name, _)| *name == suffix.trim())?;
    let number = number.trim().replace(',', "");
    match number.parse::<i128>() {
        Ok(v) => Some(v.checked_mul(*factor)? / per),
        Err(_) => float_to_int(number.parse::<f64>().ok()? * *factor as f64 / per as f64).ok(),
    }
}

/// A time: one `NUMBER UNIT` or several (`1 s 200 ms`), in units of `per` ns.
fn time(text: &str, per: i128) -> Option<i128> {
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.len() <= 2 {
        return with_unit(&words.concat(), TIME_UNITS_NS, per);
    }
    let mut total: i128 = 0;
    for pair in words.chunks(2) {
        total = total.checked_add(with_unit(&pair.concat(), TIME_UNITS_NS, per)?)?;
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(v: &str) -> Flex {
        Flex::Text(v.into())
    }

    #[test]
    fn damo_number_forms() {
        assert_eq!(text("4,096").integer(Unit::Bytes), Ok(4096));
        assert_eq!(text("8192").integer(Unit::Count), Ok(8192));
        assert_eq!(text("0 B").integer(Unit::Bytes), Ok(0));
        assert_eq!(text("4 KiB").integer(Unit::Bytes), Ok(4096));
        assert_eq!(text("1.5 KiB").integer(Unit::Bytes), Ok(1536));
        assert_eq!(text("max").integer(Unit::Bytes), Ok(u64::MAX.into()));
        assert_eq!(text("-1").integer(Unit::Count), Ok(-1));
        assert_eq!(text("900.7").integer(Unit::Nanoseconds), Ok(900));
        assert_eq!(text("1 s 200 ms").integer(Unit::Nanoseconds), Ok(1_200_000_000));
        assert_eq!(text("100 ms").integer(Unit::Microseconds), Ok(100_000));
        assert_eq!(Flex::Float(966.67).integer(Unit::Nanoseconds), Ok(966));
        assert_eq!(Flex::Int(7).unsigned(Unit::Count, "age"), Ok(7));
        assert!(
            Flex::Int(-1)
                .unsigned(Unit::Count, "age")
                .unwrap_err()
                .contains("out of range")
        );
        assert!(text("lots").integer(Unit::Count).is_err());
        assert!(text("4 parsecs").integer(Unit::Bytes).is_err());
        assert!(Flex::Float(f64::NAN).integer(Unit::Count).is_err());
    }
}
