//! Wire types of a `[[scheme]]`: action, access pattern, quota and goals, watermarks,
//! filters and migration destinations.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::scalar::{
    AccessRate, Address, Age, Duration, GoalTarget, MillisecondDuration, Percent, Size, WatermarkPercent,
};
use crate::kernel::{Action, FilterType, GoalTuner, Metric, WatermarkMetric};

/// A DAMOS scheme: apply `action` to the regions whose access pattern matches.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scheme {
    /// Name of the scheme in diagnostics and status; default: its index.
    #[schemars(length(min = 1, max = 64))]
    pub name: Option<String>,
    /// What to do with the matching regions.
    pub action: Action,
    /// Which regions match: size, access rate and age ranges. Omitted bounds are unbounded.
    pub access_pattern: Option<AccessPattern>,
    /// How often the scheme is applied (kernel 6.7+). Default: every aggregation interval.
    pub apply_interval: Option<Duration>,
    /// Destination NUMA node of `migrate_hot` / `migrate_cold` (kernel 6.11+).
    pub target_node: Option<u32>,
    /// Weighted destination NUMA nodes of `migrate_hot` / `migrate_cold` (kernel 6.17+).
    #[schemars(length(min = 1))]
    pub destinations: Option<Vec<Destination>>,
    /// Limits on how much the action may do per reset interval, and feedback goals.
    pub quota: Option<Quota>,
    /// Activate the scheme only while a system metric is between watermarks.
    pub watermarks: Option<Watermarks>,
    /// Filters that allow or reject memory after it matched the access pattern; the first
    /// matching filter decides.
    #[serde(default)]
    pub filter: Vec<Filter>,
}

/// Ranges a region must be within to match; omitted bounds are unbounded.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessPattern {
    /// Size of the region.
    pub size: Option<RangeOf<Size>>,
    /// Share of samples per aggregation interval that saw an access.
    pub access_rate: Option<RangeOf<AccessRate>>,
    /// How long the region has kept its access rate.
    pub age: Option<RangeOf<Age>>,
}

/// A closed range; an omitted bound is unbounded.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "{T}Range")]
pub struct RangeOf<T> {
    /// Lower bound (inclusive). Default: `"min"`.
    pub min: Option<T>,
    /// Upper bound (inclusive). Default: `"max"`.
    pub max: Option<T>,
}

/// A weighted migration destination.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Destination {
    /// NUMA node id.
    pub node: u32,
    /// Relative weight of this node among the destinations; 0 lists the node but sends it
    /// nothing. Each node once. Default: 1.
    pub weight: Option<u32>,
}

/// Quota of a scheme: a budget per reset interval, prioritisation and goals.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Quota {
    /// CPU time the action may use per reset interval (kept in ms). Default: no limit.
    #[schemars(with = "Option<MillisecondDuration>")]
    pub time: Option<Duration>,
    /// Bytes the action may apply to per reset interval. Default: no limit.
    pub size: Option<Size>,
    /// Window over which `time` and `size` are charged (kept in ms). Default: `1s`.
    #[schemars(with = "Option<MillisecondDuration>")]
    pub reset_interval: Option<Duration>,
    /// Which regions go first when the quota cannot cover all. Default (table omitted):
    /// 1 / 1 / 1; inside the table an omitted weight is 0.
    pub weights: Option<Weights>,
    /// Feedback goals that tune the effective quota (kernel 6.9+).
    #[serde(default)]
    pub goals: Vec<Goal>,
    /// How the effective quota is tuned towards the goals (kernel 7.1+). Default: `consist`.
    pub goal_tuner: Option<GoalTuner>,
}

/// Prioritisation weights under a quota (permil files; need not add up to 1000).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Weights {
    /// Weight of the region size. Default: 0.
    pub size: Option<u32>,
    /// Weight of the access rate (colder first for cold actions, hotter for hot ones).
    /// Default: 0.
    pub access_rate: Option<u32>,
    /// Weight of the age. Default: 0.
    pub age: Option<u32>,
}

/// A quota goal: the kernel tunes the effective quota so that `metric` approaches `target`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Goal {
    /// The metric to steer.
    pub metric: Metric,
    /// The value to reach, in the metric's unit (a percentage of at most 100% for `*_bp`, a
    /// duration for `some_mem_psi_us`, an integer for `user_input`).
    pub target: GoalTarget,
    /// NUMA node of the `node_*` metrics (kernel 6.16+).
    pub node: Option<u32>,
    /// Memory cgroup of the `node_memcg_*` metrics, as a path below the cgroup mount
    /// (`/batch.slice`; no `.`, `..` or empty components: the kernel compares it as text;
    /// kernel 6.19+).
    #[schemars(length(min = 1))]
    pub cgroup: Option<String>,
}

/// Watermarks: the scheme is off while the metric is above `high` or below `low`; it turns
/// on once the metric falls below `mid` (and is above `low`), and then stays on up to `high`.
/// Values are percentages of the metric ("50%"; the kernel keeps permil).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Watermarks {
    /// The metric. Default: `free_mem_rate`.
    pub metric: Option<WatermarkMetric>,
    /// How often the metric is checked. Default: `5s`.
    pub interval: Option<Duration>,
    /// Turn off above this value, e.g. "80%".
    #[schemars(with = "WatermarkPercent")]
    pub high: Percent,
    /// Turn on below this value (when off), e.g. "50%".
    #[schemars(with = "WatermarkPercent")]
    pub mid: Percent,
    /// Turn off below this value, e.g. "5%".
    #[schemars(with = "WatermarkPercent")]
    pub low: Percent,
}

/// A DAMOS filter. Arguments depend on `type`: `cgroup` for memcg, `start`/`end` for addr,
/// `target` for target, `min`/`max` for hugepage_size.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    /// What memory the filter recognises.
    #[serde(rename = "type")]
    pub kind: FilterType,
    /// `true` (default): the filter applies to memory of that type; `false`: to all other
    /// memory.
    pub matching: Option<bool>,
    /// `true`: allow the memory the filter applies to; `false` (default): reject it
    /// (kernel 6.14+ for `true`).
    pub allow: Option<bool>,
    /// Memory cgroup path below the cgroup mount (`memcg` filters): `/batch.slice`, without
    /// `.`, `..` or empty components (the kernel compares it as text).
    #[schemars(length(min = 1))]
    pub cgroup: Option<String>,
    /// Start of the address range (`addr` filters).
    pub start: Option<Address>,
    /// End of the address range (`addr` filters).
    pub end: Option<Address>,
    /// Index of the DAMON target (`target` filters): from 0, below the number of targets
    /// (one per pid of `pids` or per process found, one for physical memory).
    pub target: Option<u32>,
    /// Smallest folio size (`hugepage_size` filters).
    pub min: Option<Size>,
    /// Largest folio size (`hugepage_size` filters).
    pub max: Option<Size>,
}
