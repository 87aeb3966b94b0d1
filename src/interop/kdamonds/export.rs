//! Compiled policies → damo's kdamonds JSON (`{"kdamonds": [...]}`), the tree damo reads
//! with `damo start --kdamonds FILE` and prints with `damo args damon --format json`.
//!
//! Every value is written in a unit damo reads exactly: integers in the unit of the key
//! (`_us`, `_ms`, bytes, permil, basis points), access rates as `"N samples"` and ages as
//! `"N aggr_intervals"`. damo would turn percentages and times back into samples and
//! aggregation intervals through floats; kernel units skip that, so damo stages the same
//! integers damo-policy compiles. Observe mode is written as its effective `stat` action.
//! The tree's types are [`super::format`]'s, which import reads too.

use serde::Serialize;

use super::format::{
    self, AccessPattern, Context, DamoValue, Dest, Filter, Goal, Intervals, IntervalsGoal, List, MinMax, Node, Quotas,
    Region, Target, Tree, Watermarks, Weights,
};
use crate::compile::sysfs::cgroup_path;
use crate::compile::{Compiled, Kdamond};
use crate::kernel::GoalTuner;
use crate::model::resolved::{self, AddrRange, FilterArg, Scheme};

/// The damo kdamonds JSON of a compiled configuration, indented by 4 like damo's.
pub fn kdamonds(compiled: &Compiled) -> String {
    let tree = Tree {
        kdamonds: Some(List::Items(compiled.kdamonds.iter().map(kdamond).collect())),
    };
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    // Serializing plain values into memory cannot fail.
    let _ = tree.serialize(&mut serializer);
    String::from_utf8(out).unwrap_or_default()
}

/// A key that is written.
fn set(value: impl Into<DamoValue>) -> Option<DamoValue> {
    Some(value.into())
}

fn text(text: impl Into<String>) -> Option<DamoValue> {
    Some(DamoValue::text(text))
}

fn object<T>(fields: T) -> Option<Node<T>> {
    Some(Node::Object(fields))
}

fn list<T>(items: impl IntoIterator<Item = T>) -> Option<List<T>> {
    Some(List::Items(items.into_iter().collect()))
}

fn min_max(min: DamoValue, max: DamoValue) -> Option<Node<MinMax>> {
    object(MinMax {
        min: Some(min),
        max: Some(max),
    })
}

fn kdamond(k: &Kdamond) -> Node<format::Kdamond> {
    let m = &k.monitoring;
    let goal = m.intervals_goal.as_ref();
    let context = Context {
        ops: text(k.ops.keyword()),
        targets: list(k.targets.iter().map(|t| {
            Node::Object(Target {
                pid: Some(t.pid.map_or(DamoValue::Null, DamoValue::from)),
                obsolete: set(false),
                regions: list(t.regions.iter().map(region)),
            })
        })),
        intervals: object(Intervals {
            sample_us: set(m.sample_us),
            aggr_us: set(m.aggr_us),
            ops_update_us: set(m.update_us),
            intervals_goal: object(IntervalsGoal {
                access_bp: set(goal.map_or(0, |g| g.access_bp)),
                aggrs: set(goal.map_or(0, |g| g.aggrs)),
                min_sample_us: set(goal.map_or(0, |g| g.min_sample_us)),
                max_sample_us: set(goal.map_or(0, |g| g.max_sample_us)),
            }),
        }),
        nr_regions: min_max(m.min_nr_regions.into(), m.max_nr_regions.into()),
        schemes: list(k.schemes.iter().map(|s| scheme(s, k))),
        ..Context::default()
    };
    Node::Object(format::Kdamond {
        refresh_ms: set(0u64),
        contexts: list([Node::Object(context)]),
    })
}

fn region(r: &AddrRange) -> Node<Region> {
    Node::Object(Region {
        start: set(r.start),
        end: set(r.end),
    })
}

fn scheme(s: &Scheme, k: &Kdamond) -> Node<format::Scheme> {
    let q = &s.quota;
    Node::Object(format::Scheme {
        action: text(s.effective_action(k.mode).keyword()),
        dests: list(s.dests.iter().map(|d| {
            Node::Object(Dest {
                id: set(d.node),
                weight: set(d.weight),
            })
        })),
        target_nid: s.target_nid.map(DamoValue::from),
        access_pattern: object(AccessPattern {
            sz_bytes: min_max(s.sz_bytes.min.into(), s.sz_bytes.max.into()),
            nr_accesses: min_max(
                DamoValue::text(format!("{} samples", s.nr_accesses.min)),
                DamoValue::text(format!("{} samples", s.nr_accesses.max)),
            ),
            age: min_max(
                DamoValue::text(format!("{} aggr_intervals", s.age_aggrs.min)),
                DamoValue::text(format!("{} aggr_intervals", s.age_aggrs.max)),
            ),
        }),
        apply_interval_us: set(s.apply_interval_us),
        quotas: object(Quotas {
            time_ms: set(q.ms),
            sz_bytes: set(q.bytes),
            reset_interval_ms: set(q.reset_interval_ms),
            fail_charge_num: set(0u64),
            fail_charge_denom: set(0u64),
            goals: list(q.goals.iter().map(|g| {
                Node::Object(Goal {
                    metric: text(g.metric.keyword()),
                    nid: g.nid.map(DamoValue::from),
                    memcg_path: g.path.as_deref().map(|path| DamoValue::text(cgroup_path(path))),
                    target_value: set(g.target_value),
                    current_value: set(0u64),
                    ..Goal::default()
                })
            })),
            goal_tuner: text(q.goal_tuner.unwrap_or(GoalTuner::Consist).keyword()),
            weights: object(Weights {
                sz_permil: set(q.sz_permil),
                nr_accesses_permil: set(q.nr_accesses_permil),
                age_permil: set(q.age_permil),
            }),
        }),
        watermarks: object(watermarks(s.watermarks.as_ref())),
        filters: list(s.filters.iter().map(filter)),
    })
}

fn watermarks(w: Option<&resolved::Watermarks>) -> Watermarks {
    match w {
        None => Watermarks {
            metric: text("none"),
            interval_us: set(0u64),
            high_permil: set(0u64),
            mid_permil: set(0u64),
            low_permil: set(0u64),
        },
        Some(w) => Watermarks {
            metric: text(w.metric.keyword()),
            interval_us: set(w.interval_us),
            high_permil: set(w.high_permil),
            mid_permil: set(w.mid_permil),
            low_permil: set(w.low_permil),
        },
    }
}

fn filter(f: &resolved::Filter) -> Node<Filter> {
    let mut out = Filter {
        filter_type: text(f.kind.keyword()),
        matching: set(f.matching),
        allow: set(f.allow),
        ..Filter::default()
    };
    match &f.arg {
        FilterArg::None => {}
        FilterArg::Memcg(path) => out.memcg_path = text(cgroup_path(path)),
        FilterArg::Addr(range) => out.address_range = Some(region(range)),
        FilterArg::Target(index) => out.damon_target_idx = set(*index),
        FilterArg::HugepageSize(range) => out.hugepage_size = list([range.min.into(), range.max.into()]),
    }
    Node::Object(out)
}
