//! The schema and `check` agree on every value of every unit-bearing field: a table of values
//! per field kind, each judged by the committed schema (the jsonschema crate, as editors
//! judge it), by the field's typed parser ([`Grammar::judge`]) and by `check` on a whole
//! policy. A row is accepted by all three, refused by the schema and the parser, or — where
//! a schema cannot say it — accepted by the schema and refused by `check` alone.
//!
//! What only `check` can judge, and why a pattern cannot:
//! - a fraction whose exactness the last digit does not settle: `1.15K` (1177.6 bytes),
//!   `0.1111111115h`; a pattern would have to list every exact fraction;
//! - numbers beyond the parser's exact arithmetic: more than 18 decimal places, a duration
//!   beyond 2^64 microseconds;
//! - the total of a sum of durations: `1s 500ns` (not whole microseconds), `1ms 500us` where
//!   milliseconds are kept;
//! - conversions that depend on the monitoring intervals: an access rate in samples, an age
//!   in aggregation intervals, and the kernel's 32-bit bound on both;
//! - a goal target's form and range by metric (a percentage of at most 100% for `*_bp`, a
//!   duration for `some_mem_psi_us`, an integer for `user_input`): the reading of the
//!   schema that keeps `check` fast has no `if`/`then`;
//! - every rule across fields (range order, watermark order, intervals).

use std::sync::Arc;

use damo_policy::kernel::Version;
use damo_policy::model::wire::scalar::Grammar;
use damo_policy::policy::source::SourceFile;

use super::verdicts;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expected {
    /// Schema, parser and `check` accept.
    Accept,
    /// Schema and parser refuse (so `check` does too).
    Refuse,
    /// The schema accepts; `check` refuses (see the module's list of why).
    CheckOnly,
}

use Expected::{Accept, CheckOnly, Refuse};

/// A field kind: the grammar of its values and a policy with `VALUE` where the value goes.
struct Field {
    grammar: Grammar,
    policy: &'static str,
    rows: &'static [(&'static str, Expected)],
}

const SCHEME: &str = "[target]\npids = [1]\n[[scheme]]\naction = \"stat\"\n";

const FIELDS: &[Field] = &[
    Field {
        grammar: Grammar::Size,
        policy: "access_pattern.size = { min = VALUE }",
        rows: &[
            ("4KiB", Accept),
            ("1.5GiB", Accept),
            ("0.5K", Accept),
            ("0.0009765625K", Accept),
            ("15E", Accept),
            ("15.5EiB", Accept),
            ("16383P", Accept),
            ("1.0B", Accept),
            ("18446744073709551615", Accept),
            ("min", Accept),
            ("max", Accept),
            ("0.5B", Refuse),
            ("1.5", Refuse),
            ("16EiB", Refuse),
            ("16384P", Refuse),
            ("18446744073709551616", Refuse),
            ("1.3K", Refuse),
            ("0.00048828125K", Refuse),
            ("4KX", Refuse),
            ("-4K", Refuse),
            ("1.K", Refuse),
            ("1.15K", CheckOnly),
            ("0.5000000000000000000K", CheckOnly),
        ],
    },
    Field {
        grammar: Grammar::Duration,
        policy: "apply_interval = VALUE",
        rows: &[
            ("100ms", Accept),
            ("1.5ms", Accept),
            ("1m 30s", Accept),
            ("1.5w", Accept),
            ("0.000001s", Accept),
            ("5000ns", Accept),
            ("0.00000005m", Accept),
            ("0.111111115h", Accept),
            ("2 days", Accept),
            ("500ns 500ns", Accept),
            ("max", Refuse),
            ("min", Refuse),
            ("0", Refuse),
            ("5 samples", Refuse),
            ("5 parsecs", Refuse),
            ("2.5us", Refuse),
            ("5ns", Refuse),
            ("1.5ns", Refuse),
            ("0.0000001s", Refuse),
            ("0.000000001m", Refuse),
            ("1.x", Refuse),
            ("ms", Refuse),
            ("1000 1000s", Refuse),
            ("1s 1.5ms", Refuse),
            ("1s 500ns", CheckOnly),
            ("0.1111111115h", CheckOnly),
            ("99999999999999999999s", CheckOnly),
        ],
    },
    Field {
        grammar: Grammar::DurationMs,
        policy: "quota = { reset_interval = VALUE }",
        rows: &[
            ("1s", Accept),
            ("1.5s", Accept),
            ("250ms", Accept),
            ("0.001s", Accept),
            ("1000us", Accept),
            ("2000000ns", Accept),
            ("1.25ms", Refuse),
            ("0.0005s", Refuse),
            ("1500us", Refuse),
            ("5ns", Refuse),
            ("max", Refuse),
            ("1ms 500us", CheckOnly),
        ],
    },
    Field {
        grammar: Grammar::Age,
        policy: "access_pattern.age = { min = VALUE }",
        rows: &[
            ("60s", Accept),
            ("1.5s", Accept),
            ("50 aggregations", Accept),
            ("4294967295 aggrs", Accept),
            ("min", Accept),
            ("max", Accept),
            ("5 samples", Refuse),
            ("4294967296 aggregations", Refuse),
            ("1.5 aggregations", Refuse),
            ("2.5us", Refuse),
            ("60", Refuse),
            ("1000000000000s", CheckOnly),
        ],
    },
    Field {
        grammar: Grammar::AccessRate,
        policy: "access_pattern.access_rate = { max = VALUE }",
        rows: &[
            ("5%", Accept),
            ("12.345%", Accept),
            ("3 samples", Accept),
            ("4294967295 samples", Accept),
            ("max", Accept),
            ("4294967296 samples", Refuse),
            ("5", Refuse),
            ("1.5 samples", Refuse),
            ("5 aggregations", Refuse),
            ("1000000000000%", CheckOnly),
        ],
    },
    Field {
        grammar: Grammar::Watermark,
        policy: "watermarks = { high = VALUE, mid = \"0%\", low = \"0%\" }",
        rows: &[
            ("50%", Accept),
            ("12.5%", Accept),
            ("100%", Accept),
            ("100.0%", Accept),
            ("0%", Accept),
            ("50.05%", Refuse),
            ("100.5%", Refuse),
            ("150%", Refuse),
            ("50", Refuse),
        ],
    },
    Field {
        grammar: Grammar::Percent,
        policy: "[monitoring]\nautotune = { access = VALUE }",
        rows: &[
            ("4%", Accept),
            ("0.05%", Accept),
            ("12.50%", Accept),
            ("0.005%", Refuse),
            ("4", Refuse),
            ("4 %%", Refuse),
        ],
    },
    Field {
        grammar: Grammar::GoalTarget,
        policy: "quota = { goals = [{ metric = \"some_mem_psi_us\", target = VALUE }] }",
        rows: &[
            ("10ms", Accept),
            ("1.5ms", Accept),
            ("max", Refuse),
            ("5 parsecs", Refuse),
            ("0.5us", Refuse),
            ("0.001%", Refuse),
            ("30%", CheckOnly),
        ],
    },
    Field {
        grammar: Grammar::Address,
        policy: "filter = [{ type = \"addr\", start = VALUE, end = \"0xffffffffffffffff\" }]",
        rows: &[
            ("0x1000", Accept),
            ("4096", Accept),
            ("0x00000000000000000001", Accept),
            ("18446744073709551614", Accept),
            ("0x10000000000000000", Refuse),
            ("18446744073709551616", Refuse),
            ("+5", Refuse),
            ("0X1F", Refuse),
            ("1_000", Refuse),
        ],
    },
];

/// The policy of `field` with `value`; a `[monitoring]` part comes after the scheme.
fn policy(field: &Field, value: &str) -> String {
    let quoted = format!("\"{value}\"");
    let part = field.policy.replace("VALUE", &quoted);
    match part.strip_prefix("[monitoring]\n") {
        Some(monitoring) => format!("{SCHEME}[monitoring]\n{monitoring}\n"),
        None => format!("{SCHEME}{part}\n"),
    }
}

#[test]
fn schema_and_check_agree_on_every_field_kind() {
    let mut wrong = Vec::new();
    for field in FIELDS {
        for &(value, expected) in field.rows {
            let text = policy(field, value);
            let (_, schema_errors) = verdicts(&text).expect("the policy is TOML");
            let schema = schema_errors == 0;
            let parser = field.grammar.judge(value).is_ok();
            let outcome = damo_policy::validate::validate_file(
                Arc::new(SourceFile::new("p.toml", text.clone())),
                Version::NEWEST_KNOWN,
            );
            let errors: Vec<&str> = outcome
                .diagnostics
                .iter()
                .filter(|d| d.is_error())
                .map(|d| d.message.as_str())
                .collect();
            let check = errors.is_empty();
            let agrees = match expected {
                Accept => schema && parser && check,
                Refuse => !schema && !parser && !check,
                CheckOnly => schema && !check,
            };
            if !agrees {
                wrong.push(format!(
                    "{:?} {value:?}: expected {expected:?}, schema {schema}, parser {parser}, check {errors:?}",
                    field.grammar
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}
