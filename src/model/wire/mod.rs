//! The policy file as written (wire types): serde + schemars only, no behaviour.
//!
//! These types are the source of `schema/damo-policy.schema.json`; their doc comments are
//! the descriptions editors show. Values stay as written (see [`scalar`]); [`crate::validate`]
//! turns a `PolicyFile` into the kernel-unit [`crate::model::resolved::Policy`].

pub mod scalar;
mod scheme;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use scalar::{AccessRate, Address, Age, Duration, GoalTarget, Percent, Raw, Size};
pub use scheme::{AccessPattern, Destination, Filter, Goal, Quota, RangeOf, Scheme, Watermarks, Weights};

use crate::kernel::Ops;

/// Linux's largest process id: pids are below `pid_max`, which is at most `PID_MAX_LIMIT`
/// (4194304). DAMON takes any other number and the kernel refuses it only at `on`.
pub const PID_MAX: u32 = 4 * 1024 * 1024 - 1;

/// A damo-policy file: one policy, which becomes one DAMON kdamond with one context.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "damo-policy policy file")]
pub struct PolicyFile {
    /// Unique name of the policy across its directory; default: the file name without `.toml`.
    #[schemars(length(min = 1, max = crate::model::name::MAX_LEN), regex(pattern = crate::model::name::PATTERN))]
    pub name: Option<String>,
    /// Free text for humans; not used by the engine.
    pub description: Option<String>,
    /// `false` keeps the file but runs nothing. Default: `true`.
    pub enabled: Option<bool>,
    /// `enforce` (default) applies the actions; `observe` runs every scheme as `stat`, so a
    /// policy can be tried on live memory without touching it.
    pub mode: Option<Mode>,
    /// What memory to monitor: exactly one of `pids`, `process`, `cgroup`, `physical`.
    pub target: Target,
    /// How to monitor: sampling and aggregation intervals, region counts, autotuning.
    pub monitoring: Option<Monitoring>,
    /// DAMOS schemes: what to do with memory of a given access pattern, in order.
    #[serde(default)]
    pub scheme: Vec<Scheme>,
}

/// Whether the actions of a policy are applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Apply every scheme's action.
    Enforce,
    /// Run every scheme as `stat`: count what would be done, change nothing.
    Observe,
}

impl Mode {
    /// The word a policy file writes.
    pub fn keyword(self) -> &'static str {
        match self {
            Mode::Enforce => "enforce",
            Mode::Observe => "observe",
        }
    }
}

/// What memory the policy monitors; exactly one selector.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// Explicit process ids (virtual address spaces), each once: from 1 (pid 0 is no
    /// process) to 4194303, the largest pid Linux allocates.
    #[schemars(length(min = 1), inner(range(min = 1, max = PID_MAX)))]
    pub pids: Option<Vec<u32>>,
    /// Every process with this name (`comm`, at most 15 bytes), re-resolved over time.
    #[schemars(length(min = 1, max = 15))]
    pub process: Option<String>,
    /// The processes of a cgroup v2 group, as a path below the cgroup mount (`batch.slice`),
    /// without `..`.
    #[schemars(length(min = 1))]
    pub cgroup: Option<String>,
    /// Physical memory: `true` for the largest System RAM range, `{ numa_node = N }` for a
    /// node's memory, or `{ regions = [...] }` for explicit ranges.
    pub physical: Option<Physical>,
    /// Address ranges to monitor in each process: required with `ops = "fvaddr"`, initial
    /// regions with `vaddr` (which then follows the mappings).
    pub regions: Option<Vec<Region>>,
    /// Override of the operations set inferred from the selector (`vaddr` for processes,
    /// `paddr` for physical memory).
    pub ops: Option<Ops>,
}

/// Physical memory selector.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Physical {
    /// `true`: the largest System RAM range of `/proc/iomem`.
    Whole(bool),
    /// A NUMA node's memory or explicit ranges.
    Select(PhysicalSelect),
}

/// Part of physical memory: exactly one of `numa_node` or `regions`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PhysicalSelect {
    /// The memory of this NUMA node (its contiguous ranges).
    pub numa_node: Option<u32>,
    /// Explicit physical address ranges, sorted and non-overlapping.
    #[schemars(length(min = 1))]
    pub regions: Option<Vec<Region>>,
}

/// An address range `[start, end)`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Region {
    /// First address of the range.
    pub start: Address,
    /// First address after the range; greater than `start`.
    pub end: Address,
}

/// Monitoring attributes of the policy's DAMON context.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Monitoring {
    /// How often each region is sampled for an access. Default: `5ms`.
    pub sample_interval: Option<Duration>,
    /// How often samples are aggregated into access rates; access rates and ages are
    /// counted per aggregation interval. At least `sample_interval`. Default: `100ms`.
    pub aggregation_interval: Option<Duration>,
    /// How often the operations set updates the monitored regions (vaddr re-reads the
    /// mappings). Default: `1s`.
    pub update_interval: Option<Duration>,
    /// Bounds of the number of monitoring regions. Default: `{ min = 10, max = 1000 }`.
    pub regions: Option<RegionCount>,
    /// Automatic tuning of the sampling and aggregation intervals (kernel 6.15+).
    pub autotune: Option<Autotune>,
}

/// Bounds of the number of monitoring regions.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RegionCount {
    /// Minimum number of regions; at least 3. Default: 10.
    pub min: Option<u64>,
    /// Maximum number of regions; at least `min`. Default: 1000.
    pub max: Option<u64>,
}

/// Interval autotuning goal (`intervals_goal`, kernel 6.15+).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Autotune {
    /// Target share of observed access events among the possible ones; `"4%"` is the
    /// kernel's recommendation.
    pub access: Percent,
    /// Length of the tuning window in aggregation intervals (non-zero). Default: 3.
    #[schemars(range(min = 1))]
    pub aggregations: Option<u64>,
    /// Lower bound of the tuned sampling interval. Default: `5ms`.
    pub min_sample_interval: Option<Duration>,
    /// Upper bound of the tuned sampling interval. Default: `10s`.
    pub max_sample_interval: Option<Duration>,
}
