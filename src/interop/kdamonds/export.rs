//! Compiled policies → damo's kdamonds JSON (`{"kdamonds": [...]}`), the tree damo reads
//! with `damo start --kdamonds FILE` and prints with `damo args damon --format json`.
//!
//! Every value is written in a unit damo reads exactly: integers in the unit of the key
//! (`_us`, `_ms`, bytes, permil, basis points), access rates as `"N samples"` and ages as
//! `"N aggr_intervals"`. damo would turn percentages and times back into samples and
//! aggregation intervals through floats; kernel units skip that, so damo stages the same
//! integers damo-policy compiles. Observe mode is written as its effective `stat` action.

use crate::compile::sysfs::cgroup_path;
use serde::Serialize;

use crate::compile::{Compiled, Kdamond};
use crate::kernel::GoalTuner;
use crate::model::resolved::{AddrRange, Filter, FilterArg, Scheme, Watermarks};

/// The damo kdamonds JSON of a compiled configuration, indented by 4 like damo's.
pub fn kdamonds(compiled: &Compiled) -> String {
    let tree = Tree {
        kdamonds: compiled.kdamonds.iter().map(kdamond).collect(),
    };
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    // Serializing plain structs into memory cannot fail.
    let _ = tree.serialize(&mut serializer);
    String::from_utf8(out).unwrap_or_default()
}

// The tree in damo's key order (`_damon.py` `to_kvpairs`), so that it reads like damo's own.

#[derive(Serialize)]
struct Tree {
    kdamonds: Vec<DamoKdamond>,
}

#[derive(Serialize)]
struct DamoKdamond {
    refresh_ms: u64,
    contexts: Vec<Context>,
}

#[derive(Serialize)]
struct Context {
    ops: &'static str,
    targets: Vec<Target>,
    intervals: Intervals,
    nr_regions: MinMax<u64>,
    schemes: Vec<DamoScheme>,
}

#[derive(Serialize)]
struct Target {
    pid: Option<u32>,
    obsolete: bool,
    regions: Vec<Region>,
}

#[derive(Serialize)]
struct Region {
    start: u64,
    end: u64,
}

#[derive(Serialize)]
struct Intervals {
    sample_us: u64,
    aggr_us: u64,
    ops_update_us: u64,
    intervals_goal: IntervalsGoal,
}

#[derive(Serialize)]
struct IntervalsGoal {
    access_bp: u64,
    aggrs: u64,
    min_sample_us: u64,
    max_sample_us: u64,
}

#[derive(Serialize)]
struct MinMax<T> {
    min: T,
    max: T,
}

#[derive(Serialize)]
struct DamoScheme {
    action: &'static str,
    dests: Vec<Dest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    target_nid: Option<u32>,
    access_pattern: AccessPattern,
    apply_interval_us: u64,
    quotas: Quotas,
    watermarks: DamoWatermarks,
    filters: Vec<DamoFilter>,
}

#[derive(Serialize)]
struct Dest {
    id: u32,
    weight: u32,
}

#[derive(Serialize)]
struct AccessPattern {
    sz_bytes: MinMax<u64>,
    nr_accesses: MinMax<String>,
    age: MinMax<String>,
}

#[derive(Serialize)]
struct Quotas {
    time_ms: u64,
    sz_bytes: u64,
    reset_interval_ms: u64,
    fail_charge_num: u64,
    fail_charge_denom: u64,
    goals: Vec<Goal>,
    goal_tuner: &'static str,
    weights: Weights,
}

#[derive(Serialize)]
struct Goal {
    metric: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    nid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    memcg_path: Option<String>,
    target_value: u64,
    current_value: u64,
}

#[derive(Serialize)]
struct Weights {
    sz_permil: u32,
    nr_accesses_permil: u32,
    age_permil: u32,
}

#[derive(Serialize)]
struct DamoWatermarks {
    metric: &'static str,
    interval_us: u64,
    high_permil: u64,
    mid_permil: u64,
    low_permil: u64,
}

#[derive(Serialize)]
struct DamoFilter {
    filter_type: &'static str,
    matching: bool,
    allow: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    memcg_path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    address_range: Option<Region>,
    #[serde(skip_serializing_if = "Option::is_none")]
    damon_target_idx: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hugepage_size: Option<[u64; 2]>,
}

fn kdamond(k: &Kdamond) -> DamoKdamond {
    let m = &k.monitoring;
    let goal = m.intervals_goal.as_ref();
    let context = Context {
        ops: k.ops.keyword(),
        targets: k
            .targets
            .iter()
            .map(|t| Target {
                pid: t.pid,
                obsolete: false,
                regions: t.regions.iter().map(region).collect(),
            })
            .collect(),
        intervals: Intervals {
            sample_us: m.sample_us,
            aggr_us: m.aggr_us,
            ops_update_us: m.update_us,
            intervals_goal: IntervalsGoal {
                access_bp: goal.map_or(0, |g| g.access_bp),
                aggrs: goal.map_or(0, |g| g.aggrs),
                min_sample_us: goal.map_or(0, |g| g.min_sample_us),
                max_sample_us: goal.map_or(0, |g| g.max_sample_us),
            },
        },
        nr_regions: MinMax {
            min: m.min_nr_regions,
            max: m.max_nr_regions,
        },
        schemes: k.schemes.iter().map(|s| scheme(s, k)).collect(),
    };
    DamoKdamond {
        refresh_ms: 0,
        contexts: vec![context],
    }
}

fn region(r: &AddrRange) -> Region {
    Region {
        start: r.start,
        end: r.end,
    }
}

fn scheme(s: &Scheme, k: &Kdamond) -> DamoScheme {
    let q = &s.quota;
    DamoScheme {
        action: s.effective_action(k.mode).keyword(),
        dests: s
            .dests
            .iter()
            .map(|d| Dest {
                id: d.node,
                weight: d.weight,
            })
            .collect(),
        target_nid: s.target_nid,
        access_pattern: AccessPattern {
            sz_bytes: MinMax {
                min: s.sz_bytes.min,
                max: s.sz_bytes.max,
            },
            nr_accesses: MinMax {
                min: format!("{} samples", s.nr_accesses.min),
                max: format!("{} samples", s.nr_accesses.max),
            },
            age: MinMax {
                min: format!("{} aggr_intervals", s.age_aggrs.min),
                max: format!("{} aggr_intervals", s.age_aggrs.max),
            },
        },
        apply_interval_us: s.apply_interval_us,
        quotas: Quotas {
            time_ms: q.ms,
            sz_bytes: q.bytes,
            reset_interval_ms: q.reset_interval_ms,
            fail_charge_num: 0,
            fail_charge_denom: 0,
            goals: q
                .goals
                .iter()
                .map(|g| Goal {
                    metric: g.metric.keyword(),
                    nid: g.nid,
                    memcg_path: g.path.as_deref().map(cgroup_path),
                    target_value: g.target_value,
                    current_value: 0,
                })
                .collect(),
            goal_tuner: q.goal_tuner.unwrap_or(GoalTuner::Consist).keyword(),
            weights: Weights {
                sz_permil: q.sz_permil,
                nr_accesses_permil: q.nr_accesses_permil,
                age_permil: q.age_permil,
            },
        },
        watermarks: watermarks(s.watermarks.as_ref()),
        filters: s.filters.iter().map(filter).collect(),
    }
}

fn watermarks(w: Option<&Watermarks>) -> DamoWatermarks {
    match w {
        None => DamoWatermarks {
            metric: "none",
            interval_us: 0,
            high_permil: 0,
            mid_permil: 0,
            low_permil: 0,
        },
        Some(w) => DamoWatermarks {
            metric: w.metric.keyword(),
            interval_us: w.interval_us,
            high_permil: w.high_permil,
            mid_permil: w.mid_permil,
            low_permil: w.low_permil,
        },
    }
}

fn filter(f: &Filter) -> DamoFilter {
    let mut out = DamoFilter {
        filter_type: f.kind.keyword(),
        matching: f.matching,
        allow: f.allow,
        memcg_path: None,
        address_range: None,
        damon_target_idx: None,
        hugepage_size: None,
    };
    match &f.arg {
        FilterArg::None => {}
        FilterArg::Memcg(path) => out.memcg_path = Some(cgroup_path(path)),
        FilterArg::Addr(range) => out.address_range = Some(region(range)),
        FilterArg::Target(index) => out.damon_target_idx = Some(*index),
        FilterArg::HugepageSize(range) => out.hugepage_size = Some([range.min, range.max]),
    }
    out
}
