//! Durations: humantime's grammar (`"1m 30s"`) plus one decimal value (`"1.5ms"`), converted
//! exactly to microseconds. humantime's own errors speak of character offsets; every error
//! here names the part of the value that is wrong instead.

use super::{Bound, DURATION_HELP, Decimal, Inexact, UnitError, echo, split_number};

/// Every time unit a duration may have (humantime's words), with its length in nanoseconds.
/// The schema's duration patterns are built from this table too.
pub const TIME_UNITS: &[(&[&str], u128)] = &[
    (&["ns", "nsec", "nanos"], 1),
    (&["us", "µs", "usec"], 1_000),
    (&["ms", "msec", "millis"], 1_000_000),
    (&["s", "sec", "secs", "second", "seconds"], 1_000_000_000),
    (&["m", "min", "mins", "minute", "minutes"], 60_000_000_000),
    (&["h", "hr", "hrs", "hour", "hours"], 3_600_000_000_000),
    (&["d", "day", "days"], 86_400_000_000_000),
    (&["w", "wk", "wks", "week", "weeks"], 7 * 86_400_000_000_000),
    // humantime's month (30.44 days) and year (365.25 days).
    (&["M", "month", "months"], 2_630_016_000_000_000),
    (&["y", "yr", "yrs", "year", "years"], 31_557_600_000_000_000),
];

/// The length of a time unit in nanoseconds.
fn unit_ns(unit: &str) -> Option<u128> {
    TIME_UNITS
        .iter()
        .find(|(words, _)| words.contains(&unit))
        .map(|(_, ns)| *ns)
}

const KNOWN_UNITS: &str = "the time units are ns, us (µs), ms, s (sec), m (min), h (hr), d (day), w (week), \
M (month) and y (year)";

const WHOLE_US_HELP: &str = "the kernel counts time in microseconds; use \"us\" or a larger unit";

/// Parses a duration (humantime grammar) into whole microseconds.
pub fn parse_duration_us(text: &str) -> Result<Bound<u64>, UnitError> {
    let shown = echo(text);
    let trimmed = text.trim();
    if let Some(bound) = Bound::keyword(trimmed) {
        return Ok(bound);
    }
    // humantime takes a lone `0` without a unit; the schema, and every other number, needs one.
    if trimmed.bytes().all(|b| b.is_ascii_digit()) && !trimmed.is_empty() {
        return Err(UnitError::new(
            format!("{shown} is not a duration: the number needs a unit, as in \"{trimmed}ms\""),
            DURATION_HELP,
        ));
    }
    if let Some(us) = decimal_duration_us(trimmed, text) {
        return us.map(Bound::Value);
    }
    // humantime also reads fractions inside a sum (`1s 1.5ms`), truncating them: a fraction
    // is for a single value only, which is converted exactly above.
    if trimmed.contains('.') && split_number(trimmed).1.contains(|c: char| c.is_ascii_digit()) {
        return Err(UnitError::new(
            format!("{shown} is not a duration: only a single value may have a fraction, as in \"1.5ms\""),
            DURATION_HELP,
        ));
    }
    // humantime reads a number without a unit inside a sum (`1000 1000s`) as if the digits
    // ran on; the schema (and anyone reading it) takes every number to need its unit.
    if number_without_unit(trimmed) {
        return Err(UnitError::new(
            format!("{shown} is not a duration: every number needs its unit, as in \"1m 30s\""),
            DURATION_HELP,
        ));
    }
    let duration = humantime::parse_duration(trimmed).map_err(|err| humantime_error(text, trimmed, &err))?;
    if duration.subsec_nanos() % 1000 != 0 {
        return Err(UnitError::new(
            format!("{shown} is not a whole number of microseconds"),
            WHOLE_US_HELP,
        ));
    }
    u64::try_from(duration.as_micros())
        .map(Bound::Value)
        .map_err(|_| too_long(text))
}

fn too_long(text: &str) -> UnitError {
    UnitError::new(format!("{} is too long", echo(text)), "use a shorter duration")
}

/// humantime's error in the words of the value (`trimmed` is what humantime read).
fn humantime_error(text: &str, trimmed: &str, error: &humantime::DurationError) -> UnitError {
    use humantime::DurationError as E;
    let shown = echo(text);
    let why = match error {
        E::InvalidCharacter(at) => match trimmed.get(*at..).and_then(|rest| rest.chars().next()) {
            Some('.') => "a decimal point needs digits after it, as in \"1.5ms\"".to_owned(),
            Some(c) => format!("`{c}` cannot appear in a duration"),
            None => "it ends too early".to_owned(),
        },
        E::NumberExpected(_) => "every unit needs a number before it, as in \"5ms\"".to_owned(),
        E::UnknownUnit { unit, value, .. } if unit.is_empty() => {
            format!("the number needs a unit, as in \"{value}ms\"")
        }
        E::UnknownUnit { unit, .. } => {
            return UnitError::new(
                format!("{shown} is not a duration: {} is not a time unit", echo(unit)),
                format!("{KNOWN_UNITS}; {DURATION_HELP}"),
            );
        }
        E::NumberOverflow => return too_long(text),
        E::Empty => "it is empty".to_owned(),
    };
    UnitError::new(format!("{shown} is not a duration: {why}"), DURATION_HELP)
}

/// Whether a run of digits in `text` is followed (after spaces) by another number instead of
/// its unit (a number without a unit at the end humantime reports itself).
fn number_without_unit(text: &str) -> bool {
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if !c.is_ascii_digit() {
            continue;
        }
        while chars.peek().is_some_and(|c| c.is_ascii_digit() || *c == '.') {
            chars.next();
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_some_and(char::is_ascii_digit) {
            return true;
        }
    }
    false
}

/// A single decimal duration such as `"1.5ms"` or `"0.25 s"`, converted exactly (humantime
/// truncates fractions of hours and longer units): `None` if `trimmed` is not of that shape.
fn decimal_duration_us(trimmed: &str, text: &str) -> Option<Result<u64, UnitError>> {
    let (number, unit) = split_number(trimmed);
    if !number.contains('.') {
        return None;
    }
    let value = Decimal::parse(number)?;
    let ns_per_unit = unit_ns(unit)?;
    let shown = echo(text);
    Some(match value.times_exact(ns_per_unit) {
        Ok(ns) if ns % 1000 != 0 => Err(UnitError::new(
            format!("{shown} is not a whole number of microseconds"),
            WHOLE_US_HELP,
        )),
        Ok(ns) => u64::try_from(ns / 1000).map_err(|_| too_long(text)),
        Err(Inexact::Overflow) => Err(too_long(text)),
        Err(Inexact::Fraction) => Err(UnitError::new(
            format!("{shown} is not a whole number of nanoseconds"),
            WHOLE_US_HELP,
        )),
    })
}

/// Converts microseconds to whole milliseconds for the kernel files kept in ms.
pub fn us_to_ms_exact(us: u64, text: &str) -> Result<u64, UnitError> {
    if !us.is_multiple_of(1000) {
        return Err(UnitError::new(
            format!("{} is not a whole number of milliseconds", echo(text)),
            "the kernel keeps this value in milliseconds; use \"ms\" or a larger unit",
        ));
    }
    Ok(us / 1000)
}
