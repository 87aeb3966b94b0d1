//! Human units → exact integers.
//!
//! Owns the grammar of every unit a policy file may contain (sizes, durations, access
//! rates, ages, percentages) and their conversion to kernel units with exact integer
//! arithmetic. Nothing here rounds silently: a value that cannot be represented exactly,
//! or that overflows, is an error whose message says why and what to write instead.
//! Where the kernel itself floors (samples, aggregation intervals), [`floor_ratio`] floors
//! and reports whether anything was lost, so callers can warn.

use std::fmt;

/// A unit error: what is wrong with a value, and how to write it correctly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitError {
    pub message: String,
    pub help: String,
}

impl UnitError {
    pub fn new(message: impl Into<String>, help: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            help: help.into(),
        }
    }
}

impl fmt::Display for UnitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Characters of a value a message shows before cutting it short.
const ECHO_CHARS: usize = 40;

/// A value as a message shows it, between backticks: in full when short, else its first
/// characters and its length, so that a hostile 100,000-digit value does not flood the output.
pub fn echo(text: &str) -> String {
    let length = text.chars().count();
    if length <= ECHO_CHARS {
        return format!("`{text}`");
    }
    let head: String = text.chars().take(ECHO_CHARS).collect();
    format!("`{head}…` ({length} characters)")
}

pub const SIZE_HELP: &str = "write a size as integer bytes or a string such as \"4KiB\", \"1.5GiB\", \"128M\" \
(K/KB/KiB, M/MB/MiB, … are all 1024-based), or \"min\" / \"max\"";
pub const DURATION_HELP: &str = "write a duration such as \"5ms\", \"100us\", \"60s\", \"1m 30s\", \"2h\"";
pub const ACCESS_RATE_HELP: &str = "write an access rate as \"N%\" of the samples per aggregation interval \
(decimals allowed, may exceed 100%), \"N samples\", \"min\" or \"max\"";
pub const AGE_HELP: &str = "write an age as a duration (\"60s\", \"2m\"), \"N aggregations\", \"min\" or \"max\"";
pub const PERCENT_HELP: &str = "write a percentage such as \"40%\" or \"12.5%\"";
pub const ADDRESS_HELP: &str = "write an address as an integer (TOML allows 0x100000000) or a string \
such as \"0x100000000\"";

/// Largest value the kernel keeps for `nr_accesses` and `age` bounds (C `unsigned int`).
pub const U32_MAX_BOUND: u64 = u32::MAX as u64;

/// An exact non-negative decimal: `digits / 10^scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decimal {
    pub digits: u128,
    pub scale: u32,
}

impl Decimal {
    /// Parses `123`, `1.5`, `0.25`; no sign, no exponent. `None` if not of that form or
    /// too long to hold exactly.
    pub fn parse(text: &str) -> Option<Decimal> {
        let (int, frac) = match text.split_once('.') {
            Some((i, f)) => (i, f),
            None => (text, ""),
        };
        if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        if !frac.bytes().all(|b| b.is_ascii_digit()) || (text.contains('.') && frac.is_empty()) {
            return None;
        }
        let scale = u32::try_from(frac.len()).ok().filter(|s| *s <= 18)?;
        let mut digits: u128 = 0;
        for b in int.bytes().chain(frac.bytes()) {
            digits = digits.checked_mul(10)?.checked_add(u128::from(b - b'0'))?;
        }
        Some(Decimal { digits, scale })
    }

    /// `self × factor` if that is a whole number.
    pub fn times_exact(self, factor: u128) -> Result<u128, Inexact> {
        let num = self.digits.checked_mul(factor).ok_or(Inexact::Overflow)?;
        let den = 10u128.pow(self.scale);
        if num % den != 0 {
            return Err(Inexact::Fraction);
        }
        Ok(num / den)
    }
}

/// Why a decimal could not be converted exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inexact {
    Overflow,
    Fraction,
}

/// Splits `"12.5 KiB"` into the number and the trimmed unit text.
pub(crate) fn split_number(text: &str) -> (&str, &str) {
    let end = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    (&text[..end], text[end..].trim())
}

/// A bound that may be the keyword `min` or `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound<T> {
    Min,
    Max,
    Value(T),
}

impl<T> Bound<T> {
    /// `"min"` and `"max"`, which every range bound accepts whatever its unit.
    fn keyword(text: &str) -> Option<Self> {
        match text {
            "min" => Some(Bound::Min),
            "max" => Some(Bound::Max),
            _ => None,
        }
    }
}

/// Parses a size: integer bytes or `"<decimal>[ ]<unit>"`, all units 1024-based.
pub fn parse_size(text: &str) -> Result<Bound<u64>, UnitError> {
    let shown = echo(text);
    let trimmed = text.trim();
    if let Some(bound) = Bound::keyword(trimmed) {
        return Ok(bound);
    }
    let (number, unit) = split_number(trimmed);
    let bad = || UnitError::new(format!("{shown} is not a size"), SIZE_HELP);
    let value = Decimal::parse(number).ok_or_else(bad)?;
    let shift = size_unit_shift(unit)
        .ok_or_else(|| UnitError::new(format!("{} is not a size unit in {shown}", echo(unit)), SIZE_HELP))?;
    match value.times_exact(1u128 << shift) {
        Ok(bytes) => u64::try_from(bytes).map(Bound::Value).map_err(|_| size_overflow(text)),
        Err(Inexact::Overflow) => Err(size_overflow(text)),
        Err(Inexact::Fraction) => Err(UnitError::new(
            format!("{shown} is not a whole number of bytes"),
            "use a smaller unit or a value that is a whole number of bytes (\"1.5KiB\" is 1536 bytes)",
        )),
    }
}

fn size_overflow(text: &str) -> UnitError {
    let shown = echo(text);
    UnitError::new(
        format!("{shown} is larger than the largest size (2^64 - 1 bytes)"),
        "use a smaller value, or \"max\" for an unbounded size",
    )
}

/// Power-of-two shift for a size unit; damo treats K, KB and KiB alike (1024).
fn size_unit_shift(unit: &str) -> Option<u32> {
    let lower = unit.to_ascii_lowercase();
    let prefix = lower
        .strip_suffix("ib")
        .or_else(|| lower.strip_suffix('b'))
        .unwrap_or(&lower);
    let shift = match prefix {
        "" => 0,
        "k" => 10,
        "m" => 20,
        "g" => 30,
        "t" => 40,
        "p" => 50,
        "e" => 60,
        _ => return None,
    };
    // "B" alone is bytes; "iB" alone is not a unit.
    if prefix.is_empty() && lower.ends_with("ib") {
        return None;
    }
    Some(shift)
}

mod duration;

pub use duration::{TIME_UNITS, parse_duration_us, us_to_ms_exact};

/// An access-rate bound as written: a percentage of the samples, or samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessRate {
    Percent(Decimal),
    Samples(u64),
}

/// Parses `"N%"`, `"N samples"`, `"min"`, `"max"`.
pub fn parse_access_rate(text: &str) -> Result<Bound<AccessRate>, UnitError> {
    let shown = echo(text);
    let trimmed = text.trim();
    if let Some(bound) = Bound::keyword(trimmed) {
        return Ok(bound);
    }
    let bad = || UnitError::new(format!("{shown} is not an access rate"), ACCESS_RATE_HELP);
    let (number, unit) = split_number(trimmed);
    match unit {
        "%" => Decimal::parse(number)
            .map(|d| Bound::Value(AccessRate::Percent(d)))
            .ok_or_else(bad),
        "sample" | "samples" => parse_whole(number, text).map(|n| Bound::Value(AccessRate::Samples(n))),
        _ => Err(bad()),
    }
}

/// An age bound as written: a duration or a count of aggregation intervals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Age {
    Micros(u64),
    Aggregations(u64),
}

/// Parses a duration, `"N aggregations"`, `"min"`, `"max"`.
pub fn parse_age(text: &str) -> Result<Bound<Age>, UnitError> {
    let shown = echo(text);
    let trimmed = text.trim();
    let (number, unit) = split_number(trimmed);
    if matches!(unit, "aggregation" | "aggregations" | "aggr" | "aggrs") {
        return parse_whole(number, text).map(|n| Bound::Value(Age::Aggregations(n)));
    }
    match parse_duration_us(trimmed) {
        Ok(bound) => Ok(match bound {
            Bound::Min => Bound::Min,
            Bound::Max => Bound::Max,
            Bound::Value(us) => Bound::Value(Age::Micros(us)),
        }),
        // Why the duration failed (too long, not whole microseconds) says more than "not an
        // age" when the text looks like one.
        Err(e) => {
            let why = e
                .message
                .strip_prefix(&format!("{shown} is not a duration: "))
                .unwrap_or(&e.message);
            let why = why.strip_prefix(&format!("{shown} ")).unwrap_or(why);
            Err(UnitError::new(format!("{shown} is not an age: {why}"), AGE_HELP))
        }
    }
}

fn parse_whole(number: &str, text: &str) -> Result<u64, UnitError> {
    let shown = echo(text);
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(UnitError::new(
            format!("{shown} needs a whole number"),
            "counts of samples and aggregations are whole numbers",
        ));
    }
    number
        .parse::<u64>()
        .map_err(|_| UnitError::new(format!("{shown} is too large"), "use a value below 2^64"))
}

/// Parses `"N%"` into units of `1/scale_per_percent` percent: 10 → permil, 100 → basis points.
pub fn parse_percent(text: &str, per_percent: u64) -> Result<u64, UnitError> {
    let shown = echo(text);
    let unit_name = if per_percent == 10 {
        "permil (0.1%)"
    } else {
        "basis points (0.01%)"
    };
    let trimmed = text.trim();
    let (number, unit) = split_number(trimmed);
    let value = match (unit, Decimal::parse(number)) {
        ("%", Some(value)) => value,
        _ => return Err(UnitError::new(format!("{shown} is not a percentage"), PERCENT_HELP)),
    };
    match value.times_exact(u128::from(per_percent)) {
        Ok(v) => {
            u64::try_from(v).map_err(|_| UnitError::new(format!("{shown} is too large"), "use a smaller percentage"))
        }
        Err(Inexact::Overflow) => Err(UnitError::new(
            format!("{shown} is too large"),
            "use a smaller percentage",
        )),
        Err(Inexact::Fraction) => Err(UnitError::new(
            format!("{shown} cannot be represented exactly in {unit_name}"),
            format!(
                "the kernel keeps this value in {unit_name}; use at most {} decimal place{}",
                if per_percent == 10 { 1 } else { 2 },
                if per_percent == 10 { "" } else { "s" }
            ),
        )),
    }
}

/// Parses an address: decimal digits, or `0x` and hex digits; no sign, no separators.
pub fn parse_address(text: &str) -> Result<u64, UnitError> {
    let shown = echo(text);
    let trimmed = text.trim();
    let (digits, radix) = match trimmed.strip_prefix("0x") {
        Some(hex) => (hex, 16),
        None => (trimmed, 10),
    };
    // `from_str_radix` alone would also take a leading `+`, which the schema refuses.
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return Err(UnitError::new(format!("{shown} is not an address"), ADDRESS_HELP));
    }
    u64::from_str_radix(digits, radix)
        .map_err(|_| UnitError::new(format!("{shown} is not an address below 2^64"), ADDRESS_HELP))
}

/// `floor(numerator / denominator)` on u128, and whether the division was exact.
pub fn floor_ratio(numerator: u128, denominator: u128) -> (u128, bool) {
    (numerator / denominator, numerator.is_multiple_of(denominator))
}

/// Samples per aggregation interval for an access-rate percentage, floored as the kernel
/// counts whole samples: `floor(pct × aggr_us / sample_us / 100)`.
pub fn percent_to_samples(pct: Decimal, sample_us: u64, aggr_us: u64) -> (u128, bool) {
    let numerator = pct.digits.saturating_mul(u128::from(aggr_us));
    let denominator = u128::from(sample_us) * 100 * 10u128.pow(pct.scale);
    floor_ratio(numerator, denominator)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_are_echoed_cut() {
        assert_eq!(echo("4KiB"), "`4KiB`");
        let long = "9".repeat(100_000);
        assert_eq!(echo(&long), format!("`{}…` (100000 characters)", "9".repeat(40)));
        assert!(parse_size(&long).unwrap_err().message.len() < 100);
    }

    #[test]
    fn sizes_are_1024_based_and_exact() {
        assert_eq!(parse_size("4K"), Ok(Bound::Value(4096)));
        assert_eq!(parse_size("4KB"), Ok(Bound::Value(4096)));
        assert_eq!(parse_size("4 KiB"), Ok(Bound::Value(4096)));
        assert_eq!(parse_size("4k"), Ok(Bound::Value(4096)));
        assert_eq!(parse_size("1.5GiB"), Ok(Bound::Value(1_610_612_736)));
        assert_eq!(parse_size("128M"), Ok(Bound::Value(128 << 20)));
        assert_eq!(parse_size("7"), Ok(Bound::Value(7)));
        assert_eq!(parse_size("7B"), Ok(Bound::Value(7)));
        assert_eq!(parse_size("15E"), Ok(Bound::Value(15 << 60)));
        assert_eq!(parse_size("max"), Ok(Bound::Max));
        assert_eq!(parse_size("min"), Ok(Bound::Min));
    }

    #[test]
    fn size_errors_are_explained() {
        assert!(
            parse_size("16E")
                .unwrap_err()
                .message
                .contains("larger than the largest size")
        );
        assert!(
            parse_size("1.3K")
                .unwrap_err()
                .message
                .contains("whole number of bytes")
        );
        assert!(parse_size("4KX").unwrap_err().message.contains("not a size unit"));
        assert!(parse_size("iB").is_err());
        assert!(parse_size("4iB").is_err());
        assert!(parse_size("-4K").is_err());
        assert!(parse_size("1.").is_err());
        assert!(parse_size("99999999999999999999999999999999999999999K").is_err());
    }

    #[test]
    fn every_number_of_a_sum_needs_its_unit() {
        assert!(parse_duration_us("1000 1000s").is_err());
        assert!(parse_duration_us("1m 30s").is_ok());
        assert!(parse_age("5 5s").is_err());
    }

    #[test]
    fn durations_are_whole_microseconds() {
        assert_eq!(parse_duration_us("5ms"), Ok(Bound::Value(5000)));
        assert_eq!(parse_duration_us("1m 30s"), Ok(Bound::Value(90_000_000)));
        assert_eq!(parse_duration_us("100us"), Ok(Bound::Value(100)));
        assert_eq!(parse_duration_us("max"), Ok(Bound::Max));
        assert!(parse_duration_us("5ns").unwrap_err().message.contains("microseconds"));
        assert!(parse_duration_us("5 parsecs").is_err());
        assert_eq!(us_to_ms_exact(1_000_000, "1s"), Ok(1000));
        assert!(us_to_ms_exact(1500, "1500us").is_err());
    }

    #[test]
    fn durations_take_decimals_as_sizes_do() {
        assert_eq!(parse_duration_us("1.5ms"), Ok(Bound::Value(1500)));
        assert_eq!(parse_duration_us("0.25 s"), Ok(Bound::Value(250_000)));
        assert_eq!(parse_duration_us("1.5h"), Ok(Bound::Value(5_400_000_000)));
        assert_eq!(
            parse_duration_us("2.5us").unwrap_err().message,
            "`2.5us` is not a whole number of microseconds"
        );
        assert!(
            parse_duration_us("1.0000000000001s")
                .unwrap_err()
                .message
                .contains("nanoseconds")
        );
        assert_eq!(
            parse_duration_us("99999999999999999999.5d").unwrap_err().message,
            "`99999999999999999999.5d` is too long"
        );
        assert!(parse_duration_us("1.5 parsecs").is_err());
        // humantime would read a fraction inside a sum; the schema does not.
        assert!(
            parse_duration_us("1s 1.5ms")
                .unwrap_err()
                .message
                .contains("single value")
        );
    }

    #[test]
    fn an_age_that_is_a_bad_duration_says_why() {
        let error = parse_age("100000000000000h").unwrap_err();
        assert!(
            error.message.starts_with("`100000000000000h` is not an age: ") && !error.message.ends_with("age: "),
            "{}",
            error.message
        );
        assert_eq!(
            parse_age("2.5us").unwrap_err().message,
            "`2.5us` is not an age: is not a whole number of microseconds"
        );
    }

    #[test]
    fn access_rates_and_ages() {
        let five = Decimal { digits: 5, scale: 0 };
        assert_eq!(parse_access_rate("5%"), Ok(Bound::Value(AccessRate::Percent(five))));
        assert_eq!(parse_access_rate("3 samples"), Ok(Bound::Value(AccessRate::Samples(3))));
        assert_eq!(parse_access_rate("max"), Ok(Bound::Max));
        assert!(parse_access_rate("5").is_err());
        assert_eq!(parse_age("60s"), Ok(Bound::Value(Age::Micros(60_000_000))));
        assert_eq!(parse_age("50 aggregations"), Ok(Bound::Value(Age::Aggregations(50))));
        assert!(parse_age("five").is_err());
    }

    #[test]
    fn percentages_are_exact_or_refused() {
        assert_eq!(parse_percent("40%", 10), Ok(400));
        assert_eq!(parse_percent("12.5%", 10), Ok(125));
        assert!(parse_percent("12.55%", 10).unwrap_err().message.contains("permil"));
        assert_eq!(parse_percent("12.55%", 100), Ok(1255));
        assert!(parse_percent("40", 10).is_err());
    }

    #[test]
    fn addresses_are_digits_without_a_sign() {
        assert_eq!(parse_address(" 0x1F "), Ok(31));
        assert_eq!(parse_address("4096"), Ok(4096));
        for bad in ["+5", "0x+1F", "-1", "0x", "", "1_000", "0X1F"] {
            assert!(parse_address(bad).is_err(), "{bad:?}");
        }
        assert!(
            parse_address("0x10000000000000000")
                .unwrap_err()
                .message
                .contains("below 2^64")
        );
    }

    #[test]
    fn samples_floor_like_the_kernel() {
        let pct = Decimal::parse("50").unwrap();
        assert_eq!(percent_to_samples(pct, 5000, 100_000), (10, true));
        let pct = Decimal::parse("1").unwrap();
        assert_eq!(percent_to_samples(pct, 5000, 100_000), (0, false));
        let pct = Decimal::parse("200").unwrap();
        assert_eq!(percent_to_samples(pct, 5000, 100_000), (40, true));
    }
}
