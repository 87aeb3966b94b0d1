//! Resolved policies: every default applied and every value in kernel units (µs, ms,
//! bytes, samples, aggregation intervals, permil, basis points). Independent of any kernel
//! version and of the running system; [`crate::compile`] lays them out for a kernel.

use serde::{Deserialize, Serialize};

use crate::kernel::keywords::{Activity, watermark_activity};
use crate::kernel::{Action, FilterType, GoalTuner, Metric, Ops, WatermarkMetric};
use crate::model::wire::Mode;

/// A policy ready to compile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    pub name: String,
    /// The file it came from, as the user named it.
    pub file: String,
    pub enabled: bool,
    pub mode: Mode,
    pub ops: Ops,
    pub target: Target,
    pub monitoring: Monitoring,
    pub schemes: Vec<Scheme>,
}

/// What memory the policy monitors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Selector {
    Pids(Vec<u32>),
    Process(String),
    Cgroup(String),
    /// The largest System RAM range.
    PhysicalWhole,
    PhysicalNode(u32),
    /// Explicit ranges (in `Target::regions`).
    PhysicalRegions,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Target {
    pub selector: Selector,
    /// Explicit address ranges: physical regions, or each process's initial/fixed regions.
    pub regions: Vec<AddrRange>,
}

/// `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddrRange {
    pub start: u64,
    pub end: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Monitoring {
    pub sample_us: u64,
    pub aggr_us: u64,
    pub update_us: u64,
    pub min_nr_regions: u64,
    pub max_nr_regions: u64,
    pub intervals_goal: Option<IntervalsGoal>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntervalsGoal {
    pub access_bp: u64,
    pub aggrs: u64,
    pub min_sample_us: u64,
    pub max_sample_us: u64,
}

/// A closed range in kernel units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    pub min: u64,
    pub max: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scheme {
    pub name: String,
    /// The action as written; the compiled action is `stat` in observe mode.
    pub action: Action,
    pub sz_bytes: Range,
    pub nr_accesses: Range,
    pub age_aggrs: Range,
    /// 0: every aggregation interval.
    pub apply_interval_us: u64,
    pub target_nid: Option<u32>,
    pub dests: Vec<Dest>,
    pub quota: Quota,
    pub watermarks: Option<Watermarks>,
    pub filters: Vec<Filter>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dest {
    pub node: u32,
    pub weight: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quota {
    pub ms: u64,
    pub bytes: u64,
    pub reset_interval_ms: u64,
    pub sz_permil: u32,
    pub nr_accesses_permil: u32,
    pub age_permil: u32,
    pub goals: Vec<Goal>,
    pub goal_tuner: Option<GoalTuner>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Goal {
    pub metric: Metric,
    pub target_value: u64,
    pub nid: Option<u32>,
    pub path: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Watermarks {
    pub metric: WatermarkMetric,
    pub interval_us: u64,
    pub high_permil: u64,
    pub mid_permil: u64,
    pub low_permil: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Filter {
    pub kind: FilterType,
    pub matching: bool,
    pub allow: bool,
    pub arg: FilterArg,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FilterArg {
    None,
    Memcg(String),
    Addr(AddrRange),
    Target(u32),
    HugepageSize(Range),
}

impl Scheme {
    /// What its watermarks make of it at free memory `free_mem_permil` (`None`: not known).
    pub fn activity(&self, free_mem_permil: Option<u64>) -> Activity {
        match (&self.watermarks, free_mem_permil) {
            (None, _) => Activity::Active,
            (Some(w), Some(free)) if w.metric == WatermarkMetric::FreeMemRate => {
                watermark_activity(free, w.high_permil, w.mid_permil, w.low_permil)
            }
            (Some(_), _) => Activity::Unknown,
        }
    }

    /// The action the kernel runs: `stat` when the policy only observes.
    pub fn effective_action(&self, mode: Mode) -> Action {
        match mode {
            Mode::Enforce => self.action,
            Mode::Observe => Action::Stat,
        }
    }
}
