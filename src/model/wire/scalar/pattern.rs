//! The schema patterns of the unit-bearing scalars, built from the same tables the parsers
//! in [`crate::model::units`] read (time units, size prefixes, the kernel's bounds), so that
//! a pattern says of a value what `check` says wherever a regular expression can: the form,
//! the exactness of a fraction in the kernel's unit (as far as its last digit tells), and the
//! largest value where that is a bound on the digits.
//!
//! Every pattern avoids `.`, `(?…)` and negated classes, so that the quick reading of the
//! schema ([`crate::validate::schema`]) may use it.

use crate::model::units::{TIME_UNITS, U32_MAX_BOUND};

/// Nanoseconds of the unit a duration is kept in: microseconds, or milliseconds.
pub const MICROSECONDS: u128 = 1_000;
pub const MILLISECONDS: u128 = 1_000_000;

/// `^…$` around alternatives, with the spaces the parsers trim.
pub fn anchored(alternatives: &[String]) -> String {
    format!(r"^\s*({})\s*$", alternatives.join("|"))
}

/// Decimal integers from 0 to `max`, leading zeros allowed.
pub fn at_most(max: u64) -> String {
    let digits = max.to_string();
    let length = digits.len();
    let mut alternatives = Vec::new();
    if length > 1 {
        alternatives.push(format!("[0-9]{{1,{}}}", length - 1));
    }
    for (i, digit) in digits.bytes().enumerate() {
        if digit > b'0' {
            let below = if digit == b'1' {
                "0".to_owned()
            } else {
                format!("[0-{}]", char::from(digit - 1))
            };
            alternatives.push(format!("{}{below}{}", &digits[..i], any_digits(length - i - 1)));
        }
    }
    alternatives.push(digits);
    format!("0*({})", alternatives.join("|"))
}

fn any_digits(count: usize) -> String {
    match count {
        0 => String::new(),
        n => format!("[0-9]{{{n}}}"),
    }
}

/// How often `prime` divides `n`.
fn valuation(mut n: u128, prime: u128) -> usize {
    let mut count = 0;
    while n > 0 && n.is_multiple_of(prime) {
        n /= prime;
        count += 1;
    }
    count
}

/// The fraction digits (after the `.`) a decimal number of units may have when one unit is
/// `factor` kernel units: `0.d₁…d_L × factor` is whole only if `10^L` divides
/// `d₁…d_L × factor`. Up to `min(v₂, v₅)` significant digits always are (the powers of 2 and
/// 5 in `factor`); up to `max(v₂, v₅)` only if the last one supplies the missing 5 (or 2);
/// beyond, never. The last-digit test is necessary, not sufficient: `check` still judges
/// `1.15K`.
fn fraction(factor: u128) -> String {
    let (twos, fives) = (valuation(factor, 2), valuation(factor, 5));
    let (always, at_most) = (twos.min(fives), twos.max(fives));
    let mut alternatives = vec!["0+".to_owned()];
    if always > 0 {
        alternatives.push(format!("[0-9]{{1,{always}}}0*"));
    }
    if at_most > always {
        let last = if twos > fives { "5" } else { "[2468]" };
        alternatives.push(format!("[0-9]{{{always},{}}}{last}0*", at_most - 1));
    }
    format!(r"\.({})", alternatives.join("|"))
}

/// `( word | word … )`, for a regex.
fn words(words: &[&str]) -> String {
    format!("({})", words.join("|"))
}

/// The alternatives of a duration kept in units of `precision_ns`: one value (a decimal
/// allowed, a multiple of the kept unit where its unit is smaller), or a sum of whole values
/// (whose exactness, when it mixes in smaller units, is left to `check`).
pub fn duration(precision_ns: u128) -> Vec<String> {
    let mut alternatives = Vec::new();
    for (unit_words, unit_ns) in TIME_UNITS {
        let number = if *unit_ns >= precision_ns {
            format!("[0-9]+({})?", fraction(unit_ns / precision_ns))
        } else {
            let zeros = valuation(precision_ns / unit_ns, 10);
            format!(r"([0-9]*0{{{zeros}}}|0+)(\.0+)?")
        };
        alternatives.push(format!(r"{number}\s*{}", words(unit_words)));
    }
    let every_unit: Vec<&str> = TIME_UNITS.iter().flat_map(|(w, _)| w.iter().copied()).collect();
    alternatives.push(format!(r"([0-9]+\s*{}\s*){{2,}}", words(&every_unit)));
    alternatives
}

/// The alternatives of a size: bytes, or a decimal with a 1024-based unit, each at most
/// 2^64 - 1 bytes.
pub fn size(prefixes: &[(char, u32)]) -> Vec<String> {
    let mut alternatives = vec![
        "min".to_owned(),
        "max".to_owned(),
        format!(r"{}(\.0+)?\s*[bB]?", at_most(u64::MAX)),
    ];
    for (prefix, shift) in prefixes {
        let largest = u64::MAX >> shift;
        let letters = format!("[{}{}]", prefix.to_ascii_uppercase(), prefix.to_ascii_lowercase());
        alternatives.push(format!(
            r"{}({})?\s*{letters}([iI]?[bB])?",
            at_most(largest),
            fraction(1u128 << shift)
        ));
    }
    alternatives
}

/// A decimal percentage with at most `decimals` significant decimal places.
pub fn percent(decimals: usize) -> String {
    format!(r"[0-9]+(\.[0-9]{{1,{decimals}}}0*)?\s*%")
}

/// A percentage of at most 100% with at most `decimals` significant decimal places.
pub fn share(decimals: usize) -> String {
    format!(r"0*(100(\.0+)?|[0-9]{{1,2}}(\.[0-9]{{1,{decimals}}}0*)?)\s*%")
}

/// A count of samples or aggregation intervals: the kernel keeps 32 bits.
pub fn count(unit: &str) -> String {
    format!(r"{}\s*{unit}", at_most(U32_MAX_BOUND))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, text: &str) -> bool {
        regex_lite::Regex::new(&format!("^({pattern})$"))
            .unwrap()
            .is_match(text)
    }

    #[test]
    fn at_most_is_exact_at_its_bound() {
        for max in [0, 1, 9, 10, 15, 100, 16383, 4_294_967_295, u64::MAX] {
            let pattern = at_most(max);
            assert!(matches(&pattern, &max.to_string()), "{max}");
            assert!(matches(&pattern, &format!("00{max}")), "{max}");
            assert!(matches(&pattern, "0"), "{max}");
            assert!(!matches(&pattern, &(u128::from(max) + 1).to_string()), "{max}");
            if max > 0 {
                assert!(matches(&pattern, &(max - 1).to_string()), "{max}");
            }
        }
    }

    #[test]
    fn fractions_follow_the_factor() {
        let kib = fraction(1024);
        for ok in [".5", ".25", ".0", ".50", ".0009765625"] {
            assert!(matches(&kib, ok), "{ok}");
        }
        for bad in [".3", ".", ".00048828125"] {
            assert!(!matches(&kib, bad), "{bad}");
        }
        let ms = fraction(1000);
        assert!(matches(&ms, ".125") && matches(&ms, ".001"));
        assert!(!matches(&ms, ".0001"));
        assert_eq!(fraction(1), r"\.(0+)");
    }
}
