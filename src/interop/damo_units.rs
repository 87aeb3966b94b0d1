//! damo's number grammar, exactly: the tokens of the legacy one-line scheme format and the
//! values of damo's kdamonds JSON (`"5 ms"`, `"1,234"`, `"4.000 KiB"`, `"0.3 %"`, `"max"`).
//!
//! damo parses these into Python floats and truncates them when it writes the kernel's
//! integer files. Here every value is an exact decimal and the truncation is explicit, so a
//! value becomes the integer damo meant without float artifacts (`0.1K` is 102 bytes, not
//! whatever `0.1 * 1024` rounds to). What damo's parser accepts by accident of Python
//! (signs, exponents, `inf`, underscores) is refused with an explanation.

use crate::model::units::{Decimal, UnitError};

/// damo's `max`: 2^64 - 1 (on the 64-bit hosts DAMON runs on).
pub const DAMO_MAX: u64 = u64::MAX;

fn error(message: String, help: &str) -> UnitError {
    UnitError {
        message,
        help: help.to_owned(),
    }
}

pub const NUMBER_HELP: &str =
    "damo numbers are digits with an optional fraction and thousands commas, such as 1,234 or 1.5";
pub const SIZE_HELP: &str = "write a size as bytes (4096, 1,234), with a 1024-based suffix B, K/KB/KiB, \
M/MB/MiB, G/GB/GiB, T/TB/TiB, P/PB/PiB or E/EB/EiB (case-sensitive, as damo reads them), or `min` / `max`";
pub const TIME_HELP: &str = "write a time as a number with one of the units ns, us, ms, s, m (minutes), \
h or d, such as 5s or 1.5ms, or `min` / `max`";
pub const PERCENT_HELP: &str = "write an access rate in percent of the samples per aggregation interval, \
such as 5, 5% or 12.5, or `min` / `max`";

/// Parses damo's plain number: digits, thousands commas, an optional fraction.
pub fn number(text: &str) -> Result<Decimal, UnitError> {
    let trimmed = text.trim();
    let cleaned: String = trimmed.chars().filter(|c| *c != ',').collect();
    let normalized = match (cleaned.strip_prefix('.'), cleaned.strip_suffix('.')) {
        (Some(rest), _) => format!("0.{rest}"),
        (None, Some(rest)) => rest.to_owned(),
        _ => cleaned.clone(),
    };
    if let Some(decimal) = Decimal::parse(&normalized) {
        return Ok(decimal);
    }
    let why = if cleaned.starts_with('-') {
        "damo values are never negative"
    } else if cleaned.parse::<f64>().is_ok() || cleaned.replace('_', "").parse::<u128>().is_ok() {
        "damo's parser takes this through Python by accident; write plain digits"
    } else if normalized.bytes().all(|b| b.is_ascii_digit() || b == b'.') && !normalized.is_empty() {
        "too many digits to hold exactly"
    } else {
        "not a number"
    };
    Err(error(format!("`{trimmed}` is not a number: {why}"), NUMBER_HELP))
}

/// `floor(value × factor)`, or `None` when it does not fit in u128.
pub fn floor_times(value: Decimal, factor: u128) -> Option<u128> {
    Some(value.digits.checked_mul(factor)? / 10u128.pow(value.scale))
}

fn to_u64(value: Option<u128>, text: &str, what: &str, help: &str) -> Result<u64, UnitError> {
    value
        .and_then(|v| u64::try_from(v).ok())
        .ok_or_else(|| error(format!("`{text}` is larger than the largest {what} (2^64 - 1)"), help))
}

/// Size suffixes as damo spells them (case-sensitive), longest first.
pub const SIZE_UNITS: &[(&str, u32)] = &[
    ("KiB", 10),
    ("MiB", 20),
    ("GiB", 30),
    ("TiB", 40),
    ("PiB", 50),
    ("EiB", 60),
    ("KB", 10),
    ("MB", 20),
    ("GB", 30),
    ("TB", 40),
    ("PB", 50),
    ("EB", 60),
    ("B", 0),
    ("K", 10),
    ("M", 20),
    ("G", 30),
    ("T", 40),
    ("P", 50),
    ("E", 60),
];

/// A size in bytes: `min` is 0, `max` is 2^64 - 1, fractions of a byte are truncated
/// (`1.5K` is 1536, `1.3K` is 1331) as damo truncates them.
pub fn size_bytes(text: &str) -> Result<u64, UnitError> {
    let trimmed = text.trim();
    match trimmed {
        "min" => return Ok(0),
        "max" => return Ok(DAMO_MAX),
        _ => {}
    }
    let (number_text, shift) = SIZE_UNITS
        .iter()
        .find_map(|(unit, shift)| {
            trimmed
                .strip_suffix(unit)
                .filter(|n| !n.trim().is_empty())
                .map(|n| (n, *shift))
        })
        .unwrap_or((trimmed, 0));
    let value = number(number_text).map_err(|e| {
        let suffix = trimmed.trim_start_matches(|c: char| c.is_ascii_digit() || matches!(c, '.' | ',' | ' '));
        let odd_number = e.message.contains("Python") || e.message.contains("negative");
        if odd_number || suffix.is_empty() || suffix.len() == trimmed.len() {
            let why = e.message.rsplit_once(": ").map_or("", |(_, why)| why);
            error(format!("`{trimmed}` is not a size: {why}"), SIZE_HELP)
        } else {
            error(format!("`{suffix}` is not a size suffix in `{trimmed}`"), SIZE_HELP)
        }
    })?;
    to_u64(
        floor_times(value, 1u128 << shift),
        trimmed,
        "size",
        "write `max` for an unbounded size",
    )
}

/// Nanoseconds per time unit, as damo spells them (case-sensitive; `m` is minutes).
fn time_unit_ns(unit: &str) -> Option<u128> {
    Some(match unit {
        "ns" => 1,
        "us" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        "d" => 86_400_000_000_000,
        _ => return None,
    })
}

/// A time in nanoseconds, `None` for `max`. A bare number is in `bare_unit_ns` (µs for
/// ages and intervals, ms for quota times). damo's JSON may split a time in words
/// (`"1 m 30 s"`, `"5 ms"`); the one-line format cannot, its fields have no spaces.
pub fn time_ns(text: &str, bare_unit_ns: u128) -> Result<Option<u128>, UnitError> {
    let trimmed = text.trim();
    match trimmed {
        "min" => return Ok(Some(0)),
        "max" => return Ok(None),
        _ => {}
    }
    if let Ok(value) = number(trimmed) {
        return floor_times(value, bare_unit_ns)
            .map(Some)
            .ok_or_else(|| too_long(trimmed));
    }
    let words: Vec<&str> = trimmed.split_whitespace().collect();
    let parts: Vec<String> = if words.len() > 1 {
        words.chunks(2).map(|pair| pair.concat()).collect()
    } else {
        vec![trimmed.to_owned()]
    };
    let mut total: u128 = 0;
    for part in &parts {
        let split = part.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(part.len());
        let (number_text, unit) = part.split_at(split);
        let Some(unit_ns) = time_unit_ns(unit) else {
            let message = if unit.is_empty() || number_text.is_empty() {
                format!("`{trimmed}` is not a time")
            } else {
                format!("`{unit}` is not a time unit in `{trimmed}`")
            };
            return Err(error(message, TIME_HELP));
        };
        let value = number(number_text).map_err(|_| error(format!("`{trimmed}` is not a time"), TIME_HELP))?;
        let ns = floor_times(value, unit_ns).ok_or_else(|| too_long(trimmed))?;
        total = total.checked_add(ns).ok_or_else(|| too_long(trimmed))?;
    }
    Ok(Some(total))
}

fn too_long(text: &str) -> UnitError {
    error(
        format!("`{text}` is longer than the longest time (2^64 - 1 µs)"),
        "write `max` for an unbounded time",
    )
}

/// A time in whole microseconds (truncated, as damo writes it), `None` for `max`.
pub fn time_us(text: &str, bare_unit_ns: u128) -> Result<Option<u64>, UnitError> {
    scaled_time(text, bare_unit_ns, 1_000)
}

/// A time in whole milliseconds (truncated, as damo writes it), `None` for `max`.
pub fn time_ms(text: &str, bare_unit_ns: u128) -> Result<Option<u64>, UnitError> {
    scaled_time(text, bare_unit_ns, 1_000_000)
}

fn scaled_time(text: &str, bare_unit_ns: u128, per_ns: u128) -> Result<Option<u64>, UnitError> {
    match time_ns(text, bare_unit_ns)? {
        None => Ok(None),
        Some(ns) => u64::try_from(ns / per_ns).map(Some).map_err(|_| too_long(text.trim())),
    }
}

pub const US: u128 = 1_000;
pub const MS: u128 = 1_000_000;

/// An access rate in percent, `None` for `max` (unbounded, not 100%: a region can exceed
/// 100% through timing noise). A trailing `%` is optional. damo prints its `max` as
/// `18,446,744,073,709,551,615 %`, so any rate of 2^64 - 1 percent or more is `max` too.
pub fn percent(text: &str) -> Result<Option<Decimal>, UnitError> {
    let trimmed = text.trim();
    match trimmed {
        "min" => return Ok(Some(Decimal { digits: 0, scale: 0 })),
        "max" => return Ok(None),
        _ => {}
    }
    let number_text = trimmed.strip_suffix('%').unwrap_or(trimmed);
    let value = number(number_text).map_err(|e| {
        let why = e.message.rsplit_once(": ").map_or("", |(_, why)| why);
        error(format!("`{trimmed}` is not an access rate: {why}"), PERCENT_HELP)
    })?;
    let whole = value.digits / 10u128.pow(value.scale);
    Ok((whole < u128::from(DAMO_MAX)).then_some(value))
}

/// A ratio in 1/`per_percent` of a percent (10: permil, 100: basis points): a bare number
/// is already in that unit, `"N %"` is converted; truncated as damo writes it.
pub fn per_percent(text: &str, per_percent: u128, help: &str) -> Result<u64, UnitError> {
    let trimmed = text.trim();
    if trimmed == "min" {
        return Ok(0);
    }
    let (number_text, factor) = match trimmed.strip_suffix('%') {
        Some(n) => (n, per_percent),
        None => (trimmed, 1),
    };
    let value = number(number_text).map_err(|e| error(e.message, help))?;
    to_u64(floor_times(value, factor), trimmed, "value", help)
}

/// damo's plain count (`text_to_nr`): digits and commas; `max` is 2^64 - 1.
pub fn count(text: &str) -> Result<u64, UnitError> {
    let trimmed = text.trim();
    if trimmed == "max" {
        return Ok(DAMO_MAX);
    }
    let value = number(trimmed)?;
    if value.scale > 0 && value.digits % 10u128.pow(value.scale) != 0 {
        return Err(error(format!("`{trimmed}` is not a whole number"), NUMBER_HELP));
    }
    to_u64(floor_times(value, 1), trimmed, "count", NUMBER_HELP)
}

/// A plain decimal integer, as Python's `int()` reads the weight and watermark fields of
/// the one-line format (no commas, no fraction, no unit).
pub fn integer(text: &str, help: &str) -> Result<u64, UnitError> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        let why = if text.starts_with('-') {
            ": damo values are never negative"
        } else {
            ""
        };
        return Err(error(format!("`{text}` is not a whole number{why}"), help));
    }
    text.parse()
        .map_err(|_| error(format!("`{text}` is larger than 2^64 - 1"), help))
}

/// A boolean as damo reads it: `y`, `yes`, `true`, `n`, `no`, `false` in any case.
pub fn boolean(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" | "true" => Some(true),
        "n" | "no" | "false" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pct(text: &str) -> Option<(u128, u32)> {
        percent(text).unwrap().map(|d| (d.digits, d.scale))
    }

    #[test]
    fn sizes_follow_damo() {
        assert_eq!(size_bytes("4K"), Ok(4096));
        assert_eq!(size_bytes("4KiB"), Ok(4096));
        assert_eq!(size_bytes("1GB"), Ok(1 << 30));
        assert_eq!(size_bytes("1,234"), Ok(1234));
        assert_eq!(size_bytes("1.5K"), Ok(1536));
        assert_eq!(size_bytes("1.3K"), Ok(1331));
        assert_eq!(size_bytes("0.1K"), Ok(102));
        assert_eq!(size_bytes("4.000 KiB"), Ok(4096));
        assert_eq!(size_bytes("min"), Ok(0));
        assert_eq!(size_bytes("max"), Ok(u64::MAX));
        assert_eq!(size_bytes("15E"), Ok(15 << 60));
        assert!(size_bytes("16E").unwrap_err().message.contains("largest size"));
        assert!(
            size_bytes("4k")
                .unwrap_err()
                .message
                .contains("`k` is not a size suffix")
        );
        assert!(size_bytes("KiB").is_err());
        assert!(size_bytes("-4K").is_err());
        assert!(size_bytes("1e3").unwrap_err().message.contains("Python"));
    }

    #[test]
    fn times_follow_damo() {
        assert_eq!(time_us("5s", US), Ok(Some(5_000_000)));
        assert_eq!(time_us("5", US), Ok(Some(5)));
        assert_eq!(time_ms("5", MS), Ok(Some(5)));
        assert_eq!(time_us("1.5s", US), Ok(Some(1_500_000)));
        assert_eq!(time_us("2m", US), Ok(Some(120_000_000)));
        assert_eq!(time_us("1h", US), Ok(Some(3_600_000_000)));
        assert_eq!(time_us("1 m 30 s", US), Ok(Some(90_000_000)));
        assert_eq!(time_us("5 ms", US), Ok(Some(5_000)));
        assert_eq!(time_us("1500ns", US), Ok(Some(1)));
        assert_eq!(time_ms("1500us", MS), Ok(Some(1)));
        assert_eq!(time_us("max", US), Ok(None));
        assert_eq!(time_us("min", US), Ok(Some(0)));
        assert!(
            time_us("5S", US)
                .unwrap_err()
                .message
                .contains("`S` is not a time unit")
        );
        assert!(time_us("1m30s", US).is_err());
        assert!(
            time_us("99999999999999999999d", US)
                .unwrap_err()
                .message
                .contains("longest")
        );
    }

    #[test]
    fn percents_follow_damo() {
        assert_eq!(pct("5"), Some((5, 0)));
        assert_eq!(pct("5%"), Some((5, 0)));
        assert_eq!(pct("5 %"), Some((5, 0)));
        assert_eq!(pct("12.5"), Some((125, 1)));
        assert_eq!(pct("min"), Some((0, 0)));
        assert_eq!(pct("max"), None);
        assert_eq!(pct("18,446,744,073,709,551,615 %"), None);
        assert!(percent("five").is_err());
    }

    #[test]
    fn ratios_counts_and_integers() {
        assert_eq!(per_percent("0.3 %", 10, ""), Ok(3));
        assert_eq!(per_percent("300", 10, ""), Ok(300));
        assert_eq!(per_percent("0.5%", 100, ""), Ok(50));
        assert_eq!(count("1,000"), Ok(1000));
        assert!(count("1.5").is_err());
        assert_eq!(integer("800", ""), Ok(800));
        assert!(integer("-1", "").unwrap_err().message.contains("negative"));
        assert!(integer("99999999999999999999", "").is_err());
        assert_eq!(boolean("Yes"), Some(true));
    }
}
