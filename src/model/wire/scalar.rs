//! Wire types of the unit-bearing scalars (sizes, durations, access rates, ages,
//! percentages, addresses): what a policy file may contain, as written, plus the JSON
//! schema each one publishes. Parsing into numbers happens in [`crate::validate`] with
//! [`crate::model::units`], so that every bad value of a file is reported, not only the first.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

use crate::model::{name, units};

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

const SIZE_PATTERN: &str = r"^\s*(min|max|[0-9]+(\.[0-9]+)?\s*([KMGTPEkmgtpe]([iI]?[bB])?|[bB])?)\s*$";
/// Whole numbers with units (`"1m 30s"`), or one decimal number with a unit (`"1.5ms"`).
/// Any word is taken as a unit here: the parser names an unknown one and lists the others.
const DURATION_PATTERN: &str = r"^\s*([0-9]+\.[0-9]+\s*[a-zA-Zµ]+\s*|([0-9]+\s*[a-zA-Zµ]+\s*)+)$";
const ACCESS_RATE_PATTERN: &str = r"^\s*(min|max|[0-9]+(\.[0-9]+)?\s*%|[0-9]+\s*samples?)\s*$";
const AGE_PATTERN: &str =
    r"^\s*(min|max|[0-9]+\s*(aggregations?|aggrs?)|[0-9]+\.[0-9]+\s*[a-zA-Zµ]+|([0-9]+\s*[a-zA-Zµ]+\s*)+)\s*$";
const PERCENT_PATTERN: &str = r"^\s*[0-9]+(\.[0-9]+)?\s*%\s*$";
const ADDRESS_PATTERN: &str = r"^\s*(0x[0-9a-fA-F]+|[0-9]+)\s*$";

/// What a schema pattern stands for, to turn a pattern mismatch into a sentence a user
/// understands: `(noun, help)`.
pub fn pattern_meaning(pattern: &str) -> Option<(&'static str, &'static str)> {
    Some(match pattern {
        SIZE_PATTERN => ("a size", units::SIZE_HELP),
        DURATION_PATTERN => ("a duration", units::DURATION_HELP),
        ACCESS_RATE_PATTERN => ("an access rate", units::ACCESS_RATE_HELP),
        AGE_PATTERN => ("an age", units::AGE_HELP),
        PERCENT_PATTERN => ("a percentage", units::PERCENT_HELP),
        ADDRESS_PATTERN => ("an address", units::ADDRESS_HELP),
        name::PATTERN => ("a valid policy name", name::HELP),
        _ => return None,
    })
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
        "pattern": SIZE_PATTERN,
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
        "pattern": DURATION_PATTERN,
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
        "pattern": ACCESS_RATE_PATTERN,
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
        "pattern": AGE_PATTERN,
        "examples": ["60s", "2m", "50 aggregations", "max"]
    })
);

scalar!(
    /// A percentage, converted exactly to permil or basis points.
    Percent, String, "Percent",
    json_schema!({
        "description": "A percentage such as \"40%\" or \"12.5%\"; converted exactly to the kernel's \
unit (permil or basis points) or refused if it cannot be.",
        "type": "string",
        "pattern": PERCENT_PATTERN,
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
        "pattern": ADDRESS_PATTERN,
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
        "examples": ["10ms", "30%", 1000]
    })
);

#[cfg(test)]
mod grammar_tests;
