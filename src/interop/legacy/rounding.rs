//! The kernel value damo itself writes for a one-line field, computed as damo computes it:
//! in Python floats (`_damo_fmt_str.text_to_*`, then `_damon.py`'s unit conversions, then
//! `'%d' %` into sysfs, which truncates). The translation keeps the exact value; where the
//! two differ (`4.1s` of age is 41 aggregation intervals, damo's floats make it 40), the
//! translator warns and names damo's value, so that nobody is surprised by the difference.
//!
//! Python's arithmetic is IEEE 754 double arithmetic, which Rust's `f64` is too; the one
//! operation Rust lacks is Python's correctly rounded division of two integers
//! ([`int_true_div`]).

use crate::interop::damo_units::SIZE_UNITS;
use crate::model::units::percent_to_samples;

use super::parse::Role;
use crate::interop::scheme::{Access, AgeBound, DamoScheme};

/// damo's default intervals, with which it converts percentages and ages.
const SAMPLE_US: u64 = 5_000;
const AGGR_US: u64 = 100_000;

/// A Python number as damo's `text_to_nr` returns it: `int()` of the text if it is one,
/// else `float()`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum PyNum {
    Int(u128),
    Float(f64),
}

impl PyNum {
    fn as_f64(self) -> f64 {
        match self {
            // Python converts an int to the nearest float, as `as` does.
            PyNum::Int(n) => n as f64,
            PyNum::Float(f) => f,
        }
    }

    fn times(self, factor: u128) -> Option<PyNum> {
        Some(match self {
            PyNum::Int(n) => PyNum::Int(n.checked_mul(factor)?),
            PyNum::Float(f) => PyNum::Float(f * factor as f64),
        })
    }

    /// Python's `/`: true division, a float.
    fn divided(self, divisor: u128) -> f64 {
        match self {
            PyNum::Int(n) => int_true_div(n, divisor),
            PyNum::Float(f) => f / divisor as f64,
        }
    }

    /// `int()` of the number (`'%d' %` truncates the same way); `None` if not finite.
    fn truncated(self) -> Option<u128> {
        match self {
            PyNum::Int(n) => Some(n),
            PyNum::Float(f) => truncate(f),
        }
    }
}

fn truncate(value: f64) -> Option<u128> {
    // `as` saturates; a value beyond u128 is no kernel value either.
    (value.is_finite() && value >= 0.0 && value < u128::MAX as f64).then_some(value.trunc() as u128)
}

/// damo's `text_to_nr` of a text that damo-policy's exact parser already accepted (digits,
/// thousands commas, an optional fraction).
fn text_to_nr(text: &str) -> Option<PyNum> {
    let cleaned: String = text.chars().filter(|c| *c != ',').collect();
    if !cleaned.is_empty() && cleaned.bytes().all(|b| b.is_ascii_digit()) {
        return cleaned.parse().ok().map(PyNum::Int);
    }
    // Python's float() and Rust's parse are both correctly rounded, and both take `4.` and `.5`.
    cleaned.parse().ok().map(PyNum::Float)
}

/// Python's `int / int`: the exact quotient rounded once to the nearest float (ties to
/// even), which `a as f64 / b as f64` is not when `a` has more than 53 bits.
pub fn int_true_div(numerator: u128, divisor: u128) -> f64 {
    if numerator == 0 || divisor == 0 {
        return 0.0;
    }
    let bits = |n: u128| 128 - n.leading_zeros();
    // Scale the numerator so that the quotient has at least 55 bits: 53 kept, a rounding
    // bit and more, the remainder telling whether anything lies beyond.
    let scale = (55 + bits(divisor)).saturating_sub(bits(numerator));
    if bits(numerator) + scale > 127 {
        return numerator as f64 / divisor as f64;
    }
    let scaled = numerator << scale;
    let (quotient, remainder) = (scaled / divisor, scaled % divisor);
    let shift = bits(quotient).saturating_sub(53);
    let mut mantissa = quotient >> shift;
    if shift > 0 {
        let rest = quotient & ((1u128 << shift) - 1);
        let half = 1u128 << (shift - 1);
        let above_half = rest > half || (rest == half && remainder != 0);
        if above_half || (rest == half && remainder == 0 && mantissa & 1 == 1) {
            mantissa += 1;
        }
    }
    // `mantissa` has at most 54 bits and is exact as a float; powers of two scale exactly.
    mantissa as f64 * 2f64.powi(shift as i32 - scale as i32)
}

/// damo's `try_common_input`: `min`/`max`, or a plain number. `None`: neither.
fn common_input(text: &str) -> Option<PyNum> {
    match text {
        "min" => Some(PyNum::Int(0)),
        "max" => Some(PyNum::Int(u128::from(u64::MAX))),
        _ => text_to_nr(text),
    }
}

/// `text_to_bytes`.
fn bytes(text: &str) -> Option<PyNum> {
    if let Some(number) = common_input(text) {
        return Some(number);
    }
    let (number, shift) = SIZE_UNITS
        .iter()
        .find_map(|(unit, shift)| text.strip_suffix(unit).map(|n| (n, *shift)))?;
    let product = text_to_nr(number)?.times(1u128 << shift)?;
    // `min(ulong_max, int(number * unit))`.
    Some(PyNum::Int(product.truncated()?.min(u128::from(u64::MAX))))
}

/// `text_to_ns` of a text with a unit (damo's one-line fields have no spaces).
fn ns(text: &str) -> Option<PyNum> {
    let (number, unit_ns): (&str, u128) = if let Some(n) = text.strip_suffix("ns") {
        (n, 1)
    } else if let Some(n) = text.strip_suffix("us") {
        (n, 1_000)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1_000_000)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1_000_000_000)
    } else if let Some(n) = text.strip_suffix('m') {
        (n, 60_000_000_000)
    } else if let Some(n) = text.strip_suffix('h') {
        (n, 3_600_000_000_000)
    } else {
        (text.strip_suffix('d')?, 86_400_000_000_000)
    };
    text_to_nr(number)?.times(unit_ns)
}

/// `text_to_us`: a plain number is µs already; a time with a unit is divided into a float.
fn us(text: &str) -> Option<PyNum> {
    common_input(text).or_else(|| Some(PyNum::Float(ns(text)?.divided(1_000))))
}

/// `text_to_ms`.
fn ms(text: &str) -> Option<PyNum> {
    common_input(text).or_else(|| Some(PyNum::Float(us(text)?.divided(1_000))))
}

/// `text_to_percent`: a plain number is percent; `N%` goes through a ratio and back.
fn percent(text: &str) -> Option<PyNum> {
    if let Some(number) = common_input(text) {
        return Some(number);
    }
    let ratio = text_to_nr(text.strip_suffix('%')?)?.as_f64() / 100.0;
    Some(PyNum::Float(ratio * 100.0))
}

/// What damo writes and what the translation means, when they differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rounded {
    pub damo: u128,
    pub exact: u128,
    /// The kernel unit, plural (`aggregation intervals`, `ms`).
    pub unit: &'static str,
}

/// The kernel value damo writes for the field `text` of `role` (at damo's default
/// intervals), for the fields damo computes in floats. `None` for `min` and `max`, whose
/// translation is explained elsewhere, and for the fields damo reads as integers.
pub fn damo_value(role: Role, text: &str) -> Option<u128> {
    if matches!(text, "min" | "max") {
        return None;
    }
    match role {
        Role::MinSize | Role::MaxSize | Role::QuotaSize => bytes(text)?.truncated(),
        Role::MinAccess | Role::MaxAccess => {
            let max_samples = int_true_div(u128::from(AGGR_US), u128::from(SAMPLE_US));
            truncate(percent(text)?.as_f64() * max_samples / 100.0)
        }
        Role::MinAge | Role::MaxAge => truncate(us(text)?.divided(u128::from(AGGR_US))),
        Role::QuotaTime | Role::ResetInterval => ms(text)?.truncated(),
        Role::Interval => us(text)?.truncated(),
        _ => None,
    }
}

/// The kernel value the translation of the field of `role` compiles to, from `scheme`
/// (the line's exact parse).
fn exact_value(role: Role, scheme: &DamoScheme) -> Option<u128> {
    let max = |r: Role| usize::from(role == r);
    Some(match role {
        Role::MinSize | Role::MaxSize => u128::from(scheme.sz_bytes[max(Role::MaxSize)]),
        Role::QuotaSize => u128::from(scheme.quota.sz_bytes),
        Role::MinAccess | Role::MaxAccess => match scheme.nr_accesses[max(Role::MaxAccess)] {
            Access::Percent(exact) => percent_to_samples(exact, SAMPLE_US, AGGR_US).0,
            _ => return None,
        },
        Role::MinAge | Role::MaxAge => match scheme.age[max(Role::MaxAge)] {
            AgeBound::Micros(us) => u128::from(us / AGGR_US),
            _ => return None,
        },
        Role::QuotaTime => u128::from(scheme.quota.time_ms),
        Role::ResetInterval => u128::from(scheme.quota.reset_interval_ms?),
        Role::Interval => u128::from(scheme.watermarks.interval_us),
        _ => return None,
    })
}

/// The kernel unit of a field damo computes in floats, plural.
fn unit(role: Role) -> &'static str {
    match role {
        Role::MinAccess | Role::MaxAccess => "samples per aggregation interval",
        Role::MinAge | Role::MaxAge => "aggregation intervals (of 100ms)",
        Role::QuotaTime | Role::ResetInterval => "ms",
        Role::Interval => "µs",
        _ => "bytes",
    }
}

/// Compares damo's kernel value for the field `text` of `role` with the exact one that
/// `scheme` (the field's exact parse) compiles to: what damo writes, when they differ.
pub fn rounded(role: Role, text: &str, scheme: &DamoScheme) -> Option<Rounded> {
    let damo = damo_value(role, text)?;
    let exact = exact_value(role, scheme)?;
    (damo != exact).then_some(Rounded {
        damo,
        exact,
        unit: unit(role),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scheme_with(role: Role, text: &str) -> DamoScheme {
        let roles = super::super::parse::layout(18).unwrap_or_default();
        let mut fields = [
            "min", "max", "min", "max", "min", "max", "stat", "0", "0", "max", "0", "0", "0", "none", "0", "0", "0",
            "0",
        ];
        fields[roles.iter().position(|r| *r == role).unwrap_or(0)] = text;
        let file = std::sync::Arc::new(crate::policy::source::SourceFile::new("t", fields.join(" ")));
        let (schemes, diags) = super::super::parse::parse(&file);
        assert!(diags.is_empty(), "{diags:?}");
        schemes[0].scheme.clone()
    }

    fn check(role: Role, text: &str) -> Option<(u128, u128)> {
        rounded(role, text, &scheme_with(role, text)).map(|r| (r.damo, r.exact))
    }

    #[test]
    fn python_integer_division_rounds_once() {
        assert_eq!(int_true_div(100_000, 5_000), 20.0);
        assert_eq!(int_true_div(1, 3), 1.0 / 3.0);
        // 2^53 + 1 is not a float: `as f64` rounds it down before dividing, Python does not.
        let n = (1u128 << 53) + 1;
        assert_eq!(int_true_div(n * 2 + 1, 2), 9_007_199_254_740_994.0);
        assert_eq!(int_true_div(u128::from(u64::MAX), 1), 18_446_744_073_709_551_616.0);
    }

    #[test]
    fn damo_rounds_what_the_translation_keeps() {
        // Values damo 3.4.3 prints for these fields (see tests/interop/damo.rs).
        assert_eq!(check(Role::MinAge, "4.1s"), Some((40, 41)));
        assert_eq!(check(Role::QuotaTime, "1.001s"), Some((1000, 1001)));
        assert_eq!(check(Role::MinAge, "5s"), None);
        assert_eq!(check(Role::QuotaTime, "10ms"), None);
        assert_eq!(check(Role::QuotaTime, "1.5"), None);
        assert_eq!(check(Role::MinSize, "1.5K"), None);
        assert_eq!(
            check(Role::MinSize, "1.1E"),
            Some((1_268_213_655_067_531_776, 1_268_213_655_067_531_673))
        );
        assert_eq!(check(Role::MinAccess, "5%"), None);
        assert_eq!(check(Role::MinAccess, "35%"), None);
        assert_eq!(check(Role::Interval, "1.001s"), Some((1_000_999, 1_001_000)));
        assert_eq!(check(Role::Interval, "4."), None);
    }
}
