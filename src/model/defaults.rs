//! The value of every key a policy file may omit, in kernel units: what resolution puts in
//! a [`crate::model::resolved::Policy`] when the file says nothing. The wire model's doc
//! comments (and so the JSON schema editors show) state these values in words; a test below
//! keeps the two equal.

use crate::kernel::WatermarkMetric;
use crate::model::resolved::{Quota, Range};
use crate::model::units::U32_MAX_BOUND;
use crate::model::wire::Mode;

/// `enabled`: a policy file runs unless it says otherwise.
pub const ENABLED: bool = true;
/// `mode`: the actions are applied.
pub const MODE: Mode = Mode::Enforce;

/// `monitoring.sample_interval`: 5 ms, as damo.
pub const SAMPLE_INTERVAL_US: u64 = 5_000;
/// `monitoring.aggregation_interval`: 100 ms, as damo.
pub const AGGREGATION_INTERVAL_US: u64 = 100_000;
/// `monitoring.update_interval`: 1 s, as damo.
pub const UPDATE_INTERVAL_US: u64 = 1_000_000;
/// `monitoring.regions.min`.
pub const MIN_NR_REGIONS: u64 = 10;
/// `monitoring.regions.max`.
pub const MAX_NR_REGIONS: u64 = 1000;
/// `monitoring.autotune.aggregations`: the tuning window, in aggregation intervals.
pub const AUTOTUNE_AGGREGATIONS: u64 = 3;
/// `monitoring.autotune.min_sample_interval`.
pub const AUTOTUNE_MIN_SAMPLE_US: u64 = 5_000;
/// `monitoring.autotune.max_sample_interval`.
pub const AUTOTUNE_MAX_SAMPLE_US: u64 = 10_000_000;

/// `access_pattern.size` and a `hugepage_size` filter's bounds: every size.
pub const SIZE_RANGE: Range = Range { min: 0, max: u64::MAX };
/// `access_pattern.access_rate` and `access_pattern.age`: every count the kernel keeps.
pub const COUNT_RANGE: Range = Range {
    min: 0,
    max: U32_MAX_BOUND,
};
/// `apply_interval`: 0, which the kernel reads as every aggregation interval.
pub const APPLY_INTERVAL_US: u64 = 0;

/// A scheme without a `quota` table: nothing limited and nothing weighted, which are the
/// kernel's own values for a new scheme.
pub const NO_QUOTA: Quota = Quota {
    ms: 0,
    bytes: 0,
    reset_interval_ms: 0,
    sz_permil: 0,
    nr_accesses_permil: 0,
    age_permil: 0,
    goals: Vec::new(),
    goal_tuner: None,
};
/// `quota.time`: 0, no limit.
pub const QUOTA_MS: u64 = 0;
/// `quota.size`: 0, no limit.
pub const QUOTA_BYTES: u64 = 0;
/// `quota.reset_interval`: 1 s.
pub const QUOTA_RESET_INTERVAL_MS: u64 = 1000;
/// Each prioritisation weight when `quota.weights` is omitted: all three count alike.
pub const WEIGHT_PERMIL_WITHOUT_TABLE: u32 = 1;
/// A weight omitted inside a `quota.weights` table: the table names the ones that count.
pub const WEIGHT_PERMIL_IN_TABLE: u32 = 0;

/// `watermarks.metric`.
pub const WATERMARK_METRIC: WatermarkMetric = WatermarkMetric::FreeMemRate;
/// `watermarks.interval`: 5 s.
pub const WATERMARK_INTERVAL_US: u64 = 5_000_000;

/// A filter's `matching`: the filter applies to memory of its type.
pub const FILTER_MATCHING: bool = true;
/// A filter's `allow`: the memory it applies to is rejected.
pub const FILTER_ALLOW: bool = false;
/// A migration destination's `weight`.
pub const DESTINATION_WEIGHT: u32 = 1;

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// A duration as the wire docs write it (`5ms`, `1s`).
    fn written(us: u64) -> String {
        humantime::format_duration(Duration::from_micros(us)).to_string()
    }

    /// The schema's description at `pointer`, which must exist.
    fn description(schema: &serde_json::Value, pointer: &str) -> String {
        schema
            .pointer(&format!("{pointer}/description"))
            .and_then(serde_json::Value::as_str)
            .unwrap_or_else(|| panic!("no description at {pointer}"))
            .to_owned()
    }

    /// Each default the schema states in words is the value resolution applies.
    #[test]
    fn the_schema_states_the_defaults_resolution_applies() {
        let schema: serde_json::Value = serde_json::from_str(&crate::validate::schema::generate()).unwrap();
        let mode = serde_json::to_value(MODE).unwrap();
        let expected = [
            ("/properties/enabled", format!("Default: `{ENABLED}`")),
            ("/properties/mode", format!("`{}` (default)", mode.as_str().unwrap())),
            (
                "/definitions/Monitoring/properties/sample_interval",
                format!("Default: `{}`", written(SAMPLE_INTERVAL_US)),
            ),
            (
                "/definitions/Monitoring/properties/aggregation_interval",
                format!("Default: `{}`", written(AGGREGATION_INTERVAL_US)),
            ),
            (
                "/definitions/Monitoring/properties/update_interval",
                format!("Default: `{}`", written(UPDATE_INTERVAL_US)),
            ),
            (
                "/definitions/Monitoring/properties/regions",
                format!("Default: `{{ min = {MIN_NR_REGIONS}, max = {MAX_NR_REGIONS} }}`"),
            ),
            (
                "/definitions/RegionCount/properties/min",
                format!("Default: {MIN_NR_REGIONS}."),
            ),
            (
                "/definitions/RegionCount/properties/max",
                format!("Default: {MAX_NR_REGIONS}."),
            ),
            (
                "/definitions/Autotune/properties/aggregations",
                format!("Default: {AUTOTUNE_AGGREGATIONS}."),
            ),
            (
                "/definitions/Autotune/properties/min_sample_interval",
                format!("Default: `{}`", written(AUTOTUNE_MIN_SAMPLE_US)),
            ),
            (
                "/definitions/Autotune/properties/max_sample_interval",
                format!("Default: `{}`", written(AUTOTUNE_MAX_SAMPLE_US)),
            ),
            (
                "/definitions/Quota/properties/reset_interval",
                format!("Default: `{}`", written(QUOTA_RESET_INTERVAL_MS * 1000)),
            ),
            (
                "/definitions/Quota/properties/weights",
                format!(
                    "Default (table omitted):\n{w} / {w} / {w}; inside the table an omitted weight is {WEIGHT_PERMIL_IN_TABLE}.",
                    w = WEIGHT_PERMIL_WITHOUT_TABLE
                ),
            ),
            (
                "/definitions/Weights/properties/size",
                format!("Default: {WEIGHT_PERMIL_IN_TABLE}."),
            ),
            (
                "/definitions/Weights/properties/age",
                format!("Default: {WEIGHT_PERMIL_IN_TABLE}."),
            ),
            (
                "/definitions/Watermarks/properties/metric",
                format!("Default: `{}`", WATERMARK_METRIC.keyword()),
            ),
            (
                "/definitions/Watermarks/properties/interval",
                format!("Default: `{}`", written(WATERMARK_INTERVAL_US)),
            ),
            (
                "/definitions/Filter/properties/matching",
                format!("`{FILTER_MATCHING}` (default)"),
            ),
            (
                "/definitions/Filter/properties/allow",
                format!("`{FILTER_ALLOW}` (default)"),
            ),
            (
                "/definitions/Destination/properties/weight",
                format!("Default: {DESTINATION_WEIGHT}."),
            ),
        ];
        for (pointer, words) in expected {
            let text = description(&schema, pointer);
            assert!(text.contains(&words), "{pointer}: {text:?} does not say {words:?}");
        }
    }
}
