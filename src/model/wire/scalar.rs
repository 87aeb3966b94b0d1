//! Wire types of the unit-bearing scalars (sizes, durations, access rates, ages,
//! percentages, addresses): what a policy file may contain, as written, plus the JSON
//! schema each one publishes. Parsing into numbers happens in [`crate::validate`] with
//! [`crate::model::units`], so that every bad value of a file is reported, not only the first.

use std::borrow::Cow;
use std::sync::LazyLock;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

use crate::model::name;
use crate::model::units::{self, Bound, UnitError};

mod pattern;

/// A scalar as written: an integer or a string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Raw {
    Int(u64),
    Text(String),
}

impl std::fmt::Display for Raw {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Raw::Int(n) => write!(f, "{n}"),
            Raw::Text(s) => f.write_str(s),
        }
    }
}

/// The 1024-based size prefixes and their power of two, as [`units::parse_size`] reads them.
const SIZE_PREFIXES: &[(char, u32)] = &[('k', 10), ('m', 20), ('g', 30), ('t', 40), ('p', 50), ('e', 60)];

/// A pattern built once from the parsers' tables.
type Pattern = LazyLock<String>;

static SIZE_PATTERN: Pattern = LazyLock::new(|| pattern::anchored(&pattern::size(SIZE_PREFIXES)));
static DURATION_PATTERN: Pattern = LazyLock::new(|| pattern::anchored(&pattern::duration(pattern::MICROSECONDS)));
static DURATION_MS_PATTERN: Pattern = LazyLock::new(|| pattern::anchored(&pattern::duration(pattern::MILLISECONDS)));
static ACCESS_RATE_PATTERN: Pattern = LazyLock::new(|| {
    pattern::anchored(&[
        "min".to_owned(),
        "max".to_owned(),
        r"[0-9]+(\.[0-9]+)?\s*%".to_owned(),
        pattern::count("samples?"),
    ])
});
static AGE_PATTERN: Pattern = LazyLock::new(|| {
    let mut alternatives = vec![
        "min".to_owned(),
        "max".to_owned(),
        pattern::count("(aggregations?|aggrs?)"),
    ];
    alternatives.extend(pattern::duration(pattern::MICROSECONDS));
    pattern::anchored(&alternatives)
});
/// Basis points: two decimal places.
static PERCENT_PATTERN: Pattern = LazyLock::new(|| pattern::anchored(&[pattern::percent(2)]));
/// Permil, and at most 100% (of free memory).
static WATERMARK_PATTERN: Pattern = LazyLock::new(|| pattern::anchored(&[pattern::share(1)]));
static GOAL_TARGET_PATTERN: Pattern = LazyLock::new(|| {
    let mut alternatives = vec![pattern::percent(2)];
    alternatives.extend(pattern::duration(pattern::MICROSECONDS));
    pattern::anchored(&alternatives)
});
static ADDRESS_PATTERN: Pattern =
    LazyLock::new(|| pattern::anchored(&["0x0*[0-9a-fA-F]{1,16}".to_owned(), pattern::at_most(u64::MAX)]));

/// The grammar a schema pattern stands for, to turn a pattern mismatch into the sentence
/// `check`'s parser says of the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grammar {
    Size,
    /// Kept in microseconds.
    Duration,
    /// Kept in milliseconds (quota `time` and `reset_interval`).
    DurationMs,
    AccessRate,
    Age,
    /// A percentage kept in basis points.
    Percent,
    /// A watermark: permil, at most 100%.
    Watermark,
    GoalTarget,
    Address,
    PolicyName,
}

impl Grammar {
    /// The grammar whose schema pattern is `pattern`.
    pub fn of_pattern(pattern: &str) -> Option<Grammar> {
        [
            (&*SIZE_PATTERN, Grammar::Size),
            (&*DURATION_PATTERN, Grammar::Duration),
            (&*DURATION_MS_PATTERN, Grammar::DurationMs),
            (&*ACCESS_RATE_PATTERN, Grammar::AccessRate),
            (&*AGE_PATTERN, Grammar::Age),
            (&*PERCENT_PATTERN, Grammar::Percent),
            (&*WATERMARK_PATTERN, Grammar::Watermark),
            (&*GOAL_TARGET_PATTERN, Grammar::GoalTarget),
            (&*ADDRESS_PATTERN, Grammar::Address),
        ]
        .into_iter()
        .find(|(p, _)| p.as_str() == pattern)
        .map(|(_, grammar)| grammar)
        .or((pattern == name::PATTERN).then_some(Grammar::PolicyName))
    }

    /// The schema pattern of this grammar.
    pub fn pattern(self) -> &'static str {
        match self {
            Grammar::Size => &SIZE_PATTERN,
            Grammar::Duration => &DURATION_PATTERN,
            Grammar::DurationMs => &DURATION_MS_PATTERN,
            Grammar::AccessRate => &ACCESS_RATE_PATTERN,
            Grammar::Age => &AGE_PATTERN,
            Grammar::Percent => &PERCENT_PATTERN,
            Grammar::Watermark => &WATERMARK_PATTERN,
            Grammar::GoalTarget => &GOAL_TARGET_PATTERN,
            Grammar::Address => &ADDRESS_PATTERN,
            Grammar::PolicyName => name::PATTERN,
        }
    }

    /// What a value of this grammar is, after "expected".
    pub fn noun(self) -> &'static str {
        match self {
            Grammar::Size => "a size",
            Grammar::Duration | Grammar::DurationMs => "a duration",
            Grammar::AccessRate => "an access rate",
            Grammar::Age => "an age",
            Grammar::Percent | Grammar::Watermark => "a percentage",
            Grammar::GoalTarget => "a goal target",
            Grammar::Address => "an address",
            Grammar::PolicyName => "a valid policy name",
        }
    }

    /// How to write a value of this grammar.
    pub fn help(self) -> &'static str {
        match self {
            Grammar::Size => units::SIZE_HELP,
            Grammar::Duration | Grammar::DurationMs => units::DURATION_HELP,
            Grammar::AccessRate => units::ACCESS_RATE_HELP,
            Grammar::Age => units::AGE_HELP,
            Grammar::Percent | Grammar::Watermark => units::PERCENT_HELP,
            Grammar::GoalTarget => GOAL_TARGET_HELP,
            Grammar::Address => units::ADDRESS_HELP,
            Grammar::PolicyName => name::HELP,
        }
    }

    /// What `check` says of `text` as a value of this grammar on its own: its parser's
    /// verdict and the bounds that need no other value of the policy (the kernel's 32-bit
    /// counts, a watermark's 100%).
    pub fn judge(self, text: &str) -> Result<(), UnitError> {
        let not_a_bound = |text: &str| {
            UnitError::new(
                format!("{} is only meaningful as a range bound", units::echo(text)),
                units::DURATION_HELP,
            )
        };
        let duration_us = |text: &str| match units::parse_duration_us(text)? {
            Bound::Value(us) => Ok(us),
            _ => Err(not_a_bound(text)),
        };
        match self {
            Grammar::Size => units::parse_size(text).map(drop),
            Grammar::Duration => duration_us(text).map(drop),
            Grammar::DurationMs => duration_us(text)
                .and_then(|us| units::us_to_ms_exact(us, text))
                .map(drop),
            Grammar::AccessRate => match units::parse_access_rate(text)? {
                Bound::Value(units::AccessRate::Samples(n)) => within_count(n, text, "samples"),
                _ => Ok(()),
            },
            Grammar::Age => match units::parse_age(text)? {
                Bound::Value(units::Age::Aggregations(n)) => within_count(n, text, "aggregation intervals"),
                _ => Ok(()),
            },
            Grammar::Percent => units::parse_percent(text, 100).map(drop),
            Grammar::Watermark => match units::parse_percent(text, 10)? {
                permil if permil > 1000 => Err(UnitError::new(
                    format!("{} is above 100%", units::echo(text)),
                    "a watermark is a share of its metric: use at most \"100%\"",
                )),
                _ => Ok(()),
            },
            Grammar::GoalTarget => match units::split_number(text.trim()).1 {
                "%" => units::parse_percent(text, 100).map(drop),
                _ if matches!(text.trim(), "min" | "max") => Err(UnitError::new(
                    format!(
                        "{} is not a goal target: a goal steers towards one value",
                        units::echo(text)
                    ),
                    GOAL_TARGET_HELP,
                )),
                _ => duration_us(text)
                    .map(drop)
                    .map_err(|e| UnitError::new(e.message, GOAL_TARGET_HELP)),
            },
            Grammar::Address => units::parse_address(text).map(drop),
            Grammar::PolicyName => match name::is_valid(text) {
                true => Ok(()),
                false => Err(UnitError::new(
                    format!("{} is not a valid policy name", units::echo(text)),
                    name::HELP,
                )),
            },
        }
    }
}

const GOAL_TARGET_HELP: &str = "write a percentage (\"30%\") for the *_bp metrics, a duration (\"10ms\") for \
some_mem_psi_us, or an integer for user_input";

/// A count the kernel keeps in 32 bits.
fn within_count(n: u64, text: &str, unit: &str) -> Result<(), UnitError> {
    if n > units::U32_MAX_BOUND {
        return Err(UnitError::new(
            format!(
                "{} is {n} {unit}, more than the kernel's largest bound ({})",
                units::echo(text),
                units::U32_MAX_BOUND
            ),
            "use \"max\" for an unbounded range",
        ));
    }
    Ok(())
}

macro_rules! scalar {
    ($(#[$doc:meta])* $name:ident, $inner:ty, $schema_name:literal, $schema:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize, Serialize)]
        #[serde(transparent)]
        pub struct $name(pub $inner);

        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                $schema_name.into()
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                $schema
            }
        }
    };
}

scalar!(
    /// A size: integer bytes or a string with a 1024-based unit.
    Size, Raw, "Size",
    json_schema!({
        "description": "A size: integer bytes, or a string such as \"4KiB\", \"1.5GiB\", \"128M\" \
(K/KB/KiB, M/MB/MiB, G, T, P, E are all 1024-based, as in damo), \"min\" or \"max\" (2^64 - 1).",
        "type": ["integer", "string"],
        "minimum": 0,
        "pattern": &*SIZE_PATTERN,
        "examples": ["4KiB", "2MiB", "1.5GiB", "max"]
    })
);

scalar!(
    /// A duration in humantime form.
    Duration, String, "Duration",
    json_schema!({
        "description": "A duration such as \"5ms\", \"100us\", \"60s\", \"1m 30s\", \"2h\"; exact to \
the microsecond (to the millisecond where the kernel keeps milliseconds).",
        "type": "string",
        "pattern": &*DURATION_PATTERN,
        "examples": ["5ms", "100ms", "1s", "60s"]
    })
);

scalar!(
    /// An access rate: percent of samples, or a number of samples.
    AccessRate, String, "AccessRate",
    json_schema!({
        "description": "How often a region was seen accessed per aggregation interval: \"N%\" of the \
samples (decimals allowed; may exceed 100%, which matches nothing), \"N samples\", \"min\" or \"max\". \
Converted to samples as floor(N x aggregation_interval / sample_interval / 100).",
        "type": "string",
        "pattern": &*ACCESS_RATE_PATTERN,
        "examples": ["0%", "5%", "50%", "3 samples", "max"]
    })
);

scalar!(
    /// An age: a duration or a number of aggregation intervals.
    Age, String, "Age",
    json_schema!({
        "description": "How long a region has kept its access rate: a duration (\"60s\", \"2m\"), \
\"N aggregations\", \"min\" or \"max\". Converted to aggregation intervals as \
floor(duration / aggregation_interval).",
        "type": "string",
        "pattern": &*AGE_PATTERN,
        "examples": ["60s", "2m", "50 aggregations", "max"]
    })
);

scalar!(
    /// A percentage, converted exactly to permil or basis points.
    Percent, String, "Percent",
    json_schema!({
        "description": "A percentage such as \"40%\" or \"12.55%\"; the kernel keeps basis points, so \
at most two decimal places.",
        "type": "string",
        "pattern": &*PERCENT_PATTERN,
        "examples": ["5%", "40%", "12.5%"]
    })
);

scalar!(
    /// A physical or virtual address.
    Address, Raw, "Address",
    json_schema!({
        "description": "An address: an integer (TOML allows 0x100000000) or a string such as \
\"0x100000000\".",
        "type": ["integer", "string"],
        "minimum": 0,
        "pattern": &*ADDRESS_PATTERN,
        "examples": ["0x100000000", 4294967296u64]
    })
);

scalar!(
    /// The target value of a quota goal; its unit depends on the goal's metric.
    GoalTarget, Raw, "GoalTarget",
    json_schema!({
        "description": "The value the goal steers towards, in the unit of its metric: a percentage \
(\"N%\") for the *_bp metrics, a duration (\"10ms\") for some_mem_psi_us, a plain integer for \
user_input.",
        "type": ["integer", "string"],
        "minimum": 0,
        "pattern": &*GOAL_TARGET_PATTERN,
        "examples": ["10ms", "30%", 1000]
    })
);

/// The schema of a field that takes a [`Duration`] the kernel keeps in milliseconds; the
/// field's Rust type stays [`Duration`] (`#[schemars(with = …)]`).
pub struct MillisecondDuration;

impl JsonSchema for MillisecondDuration {
    fn schema_name() -> Cow<'static, str> {
        "MillisecondDuration".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A duration the kernel keeps in milliseconds, such as \"10ms\", \"1s\", \
        \"1.5s\"; a whole number of milliseconds.",
            "type": "string",
            "pattern": &*DURATION_MS_PATTERN,
            "examples": ["10ms", "1s"]
        })
    }
}

/// The schema of a watermark: a [`Percent`] of at most 100% the kernel keeps in permil.
pub struct WatermarkPercent;

impl JsonSchema for WatermarkPercent {
    fn schema_name() -> Cow<'static, str> {
        "WatermarkPercent".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A percentage of the watermark metric from \"0%\" to \"100%\", such as \
        \"50%\" or \"12.5%\"; the kernel keeps permil, so at most one decimal place.",
            "type": "string",
            "pattern": &*WATERMARK_PATTERN,
            "examples": ["5%", "50%", "80%"]
        })
    }
}

#[cfg(test)]
mod grammar_tests;
