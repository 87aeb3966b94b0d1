//! Each unit's grammar is written twice: as the schema pattern here, which editors and the
//! first validation layer use, and as the parser in [`crate::model::units`], which converts.
//! These properties prove the two accept the same strings, on strings that look like values
//! and on near misses.
//!
//! A number's magnitude decides whether a value can be kept (overflow, a fraction of a byte
//! or a microsecond), never whether the text has the unit's form, and only the parser knows
//! it. So the parser is asked about the text with each number replaced by one every unit
//! keeps exactly ([`with_numbers`]); the pattern about the text as written.
//!
//! The duration and age patterns take any word as a unit on purpose: the parser then names
//! the unknown unit and lists the known ones (`5 parsecs`), which says more than a pattern
//! mismatch. For them the parser is also asked with every word replaced by a known unit
//! ([`with_seconds`]): what is proven is that both take the same arrangement of numbers,
//! words, spaces and keywords.

use std::cell::RefCell;
use std::collections::HashMap;

use proptest::prelude::*;
use proptest::strategy::BoxedStrategy;

use super::*;
use crate::model::units::{self, Bound};

/// Whether the schema's `pattern` accepts `text`, as the validator of policy files decides.
fn schema_accepts(pattern: &'static str, text: &str) -> bool {
    thread_local! {
        static VALIDATORS: RefCell<HashMap<&'static str, jsonschema::Validator>> = RefCell::default();
    }
    VALIDATORS.with_borrow_mut(|validators| {
        validators
            .entry(pattern)
            .or_insert_with(|| {
                let schema = serde_json::json!({ "type": "string", "pattern": pattern });
                jsonschema::options()
                    .with_draft(jsonschema::Draft::Draft7)
                    .build(&schema)
                    .expect("a unit's pattern compiles")
            })
            .is_valid(&serde_json::json!(text))
    })
}

/// `text` with every word but a lone `min` or `max` replaced by the unit `s`.
fn with_seconds(text: &str) -> String {
    if matches!(text.trim(), "min" | "max") {
        return text.to_owned();
    }
    let mut out = String::new();
    let mut in_word = false;
    for c in text.chars() {
        let letter = c.is_ascii_alphabetic() || c == 'µ';
        if !letter {
            out.push(c);
        } else if !in_word {
            out.push('s');
        }
        in_word = letter;
    }
    out
}

/// `text` with every run of digits before a `.` or without one replaced by `whole`, and
/// every run after a `.` by `0`.
fn with_numbers(text: &str, whole: &str) -> String {
    let mut out = String::new();
    let mut previous = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            while chars.peek().is_some_and(char::is_ascii_digit) {
                chars.next();
            }
            out.push_str(if previous == Some('.') { "0" } else { whole });
            previous = Some('0');
        } else {
            out.push(c);
            previous = Some(c);
        }
    }
    out
}

/// Strings shaped like a value of a unit (`units` an alternation of unit words, right and
/// wrong), and strings of the characters values are made of.
fn values(units: &str) -> BoxedStrategy<String> {
    let space = "[ \t\u{a0}]{0,2}";
    let number = r"[0-9]{1,3}(\.[0-9]{0,2})?";
    let strings = |regex: &str| proptest::string::string_regex(regex).expect("a generator regex compiles");
    prop_oneof![
        strings(&format!("{space}(min|max|mini|{number}{space}({units})?){space}")),
        strings(&format!("{space}({number}{space}({units}){space}){{1,3}}")),
        strings(r"[0-9a-zA-Z.%µ +_-]{0,10}"),
    ]
    .boxed()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn sizes(text in values("B|b|K|k|KB|kb|KiB|kib|KIB|M|MiB|G|GB|T|P|E|EiB|iB|ib|Z|ZiB|KX|bytes|Ki")) {
        let parsed = units::parse_size(&with_numbers(&text, "1")).is_ok();
        prop_assert_eq!(schema_accepts(SIZE_PATTERN, &text), parsed, "{:?}", text);
    }

    #[test]
    fn durations(text in values("ns|us|µs|usec|ms|msec|s|sec|secs|second|m|min|minutes|h|hr|hours|d|days|w|weeks|M|y|parsecs|S|MS")) {
        let parsed = matches!(
            units::parse_duration_us(&with_seconds(&with_numbers(&text, "1000"))),
            Ok(Bound::Value(_))
        );
        prop_assert_eq!(schema_accepts(DURATION_PATTERN, &text), parsed, "{:?}", text);
    }

    #[test]
    fn access_rates(text in values("%|%%|sample|samples|Samples|s|sampl|percent")) {
        let parsed = units::parse_access_rate(&with_numbers(&text, "1")).is_ok();
        prop_assert_eq!(schema_accepts(ACCESS_RATE_PATTERN, &text), parsed, "{:?}", text);
    }

    #[test]
    fn ages(text in values("aggregation|aggregations|aggr|aggrs|aggregate|ns|us|ms|s|m|h|d|w|parsecs")) {
        let parsed = units::parse_age(&with_seconds(&with_numbers(&text, "1000"))).is_ok();
        prop_assert_eq!(schema_accepts(AGE_PATTERN, &text), parsed, "{:?}", text);
    }

    #[test]
    fn percentages(text in values("%|%%|percent|‰")) {
        let parsed = units::parse_percent(&with_numbers(&text, "1"), 100).is_ok();
        prop_assert_eq!(schema_accepts(PERCENT_PATTERN, &text), parsed, "{:?}", text);
    }

    #[test]
    fn addresses(text in r"[ \t]{0,2}(0[xX])?[+-]?[0-9a-fA-FxX_]{0,17}[ \t]{0,2}") {
        let parsed = units::parse_address(&text).is_ok();
        prop_assert_eq!(schema_accepts(ADDRESS_PATTERN, &text), parsed, "{:?}", text);
    }
}
