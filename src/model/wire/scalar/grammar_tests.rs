//! Each unit's grammar is written twice: as the schema pattern, which editors and the first
//! validation layer use, and as the parser in [`crate::model::units`] (with the bounds that
//! need no other value, [`Grammar::judge`]), which converts. These properties prove, on
//! strings that look like values and on near misses, that the schema never refuses what the
//! parser accepts, and that it accepts only what has the parser's form: a value the schema
//! accepts is accepted once each number is replaced by one every unit keeps exactly
//! ([`with_numbers`]) and each word by a unit ([`with_seconds`]). For the grammars of one
//! number (access rates, percentages, addresses) the two agree exactly.
//!
//! What a pattern cannot see (a sum's exactness, a long fraction's, a number too large for
//! the parser's arithmetic) `check` judges alone; `tests/schema.rs` lists those cases.

use std::cell::RefCell;
use std::collections::HashMap;

use proptest::prelude::*;
use proptest::strategy::BoxedStrategy;

use super::*;

/// Whether the schema's pattern of `grammar` accepts `text`, as the validator of policy
/// files decides.
fn schema_accepts(grammar: Grammar, text: &str) -> bool {
    let pattern = grammar.pattern();
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

/// `text` with every word but a lone `min` or `max` replaced by the unit `s` (a `%` stays).
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

/// The two properties every grammar has, and exact agreement where claimed.
/// `normalize` gives a value's form with numbers (and words) every unit keeps exactly;
/// `None` for the exact grammars.
fn agree(grammar: Grammar, text: &str, normalize: Option<fn(&str) -> String>) -> Result<(), TestCaseError> {
    let schema = schema_accepts(grammar, text);
    let parsed = grammar.judge(text).is_ok();
    prop_assert!(
        schema || !parsed,
        "{grammar:?}: the schema refuses {text:?}, which the parser accepts"
    );
    let Some(normalize) = normalize else {
        prop_assert_eq!(schema, parsed, "{:?}: {:?}", grammar, text);
        return Ok(());
    };
    if schema {
        let normalized = normalize(text);
        prop_assert!(
            grammar.judge(&normalized).is_ok(),
            "{grammar:?}: the schema accepts {text:?}, whose form ({normalized:?}) the parser refuses"
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn sizes(text in values("B|b|K|k|KB|kb|KiB|kib|KIB|M|MiB|G|GB|T|P|E|EiB|iB|ib|Z|ZiB|KX|bytes|Ki")) {
        agree(Grammar::Size, &text, Some(|text| with_numbers(text, "1")))?;
    }

    #[test]
    fn durations(text in values("ns|us|µs|usec|ms|msec|s|sec|secs|second|m|min|minutes|h|hr|hours|d|days|w|weeks|M|y|parsecs|S|MS|samples")) {
        agree(Grammar::Duration, &text, Some(|text| with_seconds(&with_numbers(text, "1000"))))?;
        agree(Grammar::DurationMs, &text, Some(|text| with_seconds(&with_numbers(text, "1000"))))?;
    }

    #[test]
    fn access_rates(text in values("%|%%|sample|samples|Samples|s|sampl|percent")) {
        agree(Grammar::AccessRate, &text, None)?;
    }

    #[test]
    fn ages(text in values("aggregation|aggregations|aggr|aggrs|aggregate|ns|us|ms|s|m|h|d|w|parsecs|samples")) {
        agree(Grammar::Age, &text, Some(|text| with_seconds(&with_numbers(text, "1000"))))?;
    }

    #[test]
    fn percentages(text in values("%|%%|percent|‰")) {
        agree(Grammar::Percent, &text, None)?;
        agree(Grammar::Watermark, &text, None)?;
    }

    #[test]
    fn goal_targets(text in values("%|ms|s|us|ns|samples")) {
        agree(Grammar::GoalTarget, &text, Some(|text| with_seconds(&with_numbers(text, "1000"))))?;
    }

    #[test]
    fn addresses(text in r"[ \t]{0,2}(0[xX])?[+-]?[0-9a-fA-FxX_]{0,22}[ \t]{0,2}") {
        agree(Grammar::Address, &text, None)?;
    }
}
