//! The DAMON sysfs tree of a compiled configuration: every file a kernel of a given layout
//! must receive, in the order a kernel with zero kdamonds must receive them (`nr_*` before
//! the children it creates, `state` last). Paths are relative to
//! `/sys/kernel/mm/damon/admin`. Every leaf is written explicitly: nothing relies on the
//! kernel's defaults, which differ from the engine's (a new scheme's access pattern is
//! `[0, 0]`, which matches nothing).

use crate::kernel::{Feature, FilterType, GoalTuner, Layout};
use crate::resolved::{Filter, FilterArg, Scheme};

use super::{Compiled, Kdamond};

/// One file write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    pub path: String,
    pub value: String,
    /// Index of the kdamond it configures, if any.
    pub kdamond: Option<usize>,
}

/// All writes, in order, that build `compiled` on a kernel with no kdamonds.
pub fn writes(compiled: &Compiled, layout: Layout) -> Vec<Write> {
    let mut out = Writer { writes: Vec::new(), kdamond: None };
    out.put("kdamonds/nr_kdamonds".into(), compiled.kdamonds.len());
    for kdamond in &compiled.kdamonds {
        out.writes.extend(kdamond_writes(kdamond, layout));
    }
    for kdamond in &compiled.kdamonds {
        out.kdamond = Some(kdamond.index);
        out.put(format!("kdamonds/{}/state", kdamond.index), "on");
    }
    out.writes
}

/// The writes that configure one kdamond (at `kdamond.index`) below `kdamonds/<index>/`,
/// without its `state`.
pub fn kdamond_writes(kdamond: &Kdamond, layout: Layout) -> Vec<Write> {
    let mut out = Writer { writes: Vec::new(), kdamond: Some(kdamond.index) };
    kdamond_tree(&mut out, kdamond, layout);
    out.writes
}

struct Writer {
    writes: Vec<Write>,
    kdamond: Option<usize>,
}

impl Writer {
    fn put(&mut self, path: String, value: impl ToString) {
        self.writes.push(Write { path, value: value.to_string(), kdamond: self.kdamond });
    }
}

fn yes_no(value: bool) -> &'static str {
    if value { "Y" } else { "N" }
}

/// A cgroup path as the kernel resolves it: absolute below the cgroup mount.
pub fn cgroup_path(path: &str) -> String {
    format!("/{}", path.trim_start_matches('/'))
}

fn kdamond_tree(out: &mut Writer, kdamond: &Kdamond, layout: Layout) {
    let k = format!("kdamonds/{}", kdamond.index);
    out.put(format!("{k}/contexts/nr_contexts"), 1);
    let ctx = format!("{k}/contexts/0");
    out.put(format!("{ctx}/operations"), kdamond.ops.keyword());
    if layout.has(Feature::AddrUnit) {
        out.put(format!("{ctx}/addr_unit"), 1);
    }
    let mon = &kdamond.monitoring;
    let intervals = format!("{ctx}/monitoring_attrs/intervals");
    out.put(format!("{intervals}/sample_us"), mon.sample_us);
    out.put(format!("{intervals}/aggr_us"), mon.aggr_us);
    out.put(format!("{intervals}/update_us"), mon.update_us);
    if layout.has(Feature::IntervalsGoal) {
        let goal = mon.intervals_goal.as_ref();
        let g = format!("{intervals}/intervals_goal");
        out.put(format!("{g}/access_bp"), goal.map_or(0, |g| g.access_bp));
        out.put(format!("{g}/aggrs"), goal.map_or(0, |g| g.aggrs));
        out.put(format!("{g}/min_sample_us"), goal.map_or(0, |g| g.min_sample_us));
        out.put(format!("{g}/max_sample_us"), goal.map_or(0, |g| g.max_sample_us));
    }
    out.put(format!("{ctx}/monitoring_attrs/nr_regions/min"), mon.min_nr_regions);
    out.put(format!("{ctx}/monitoring_attrs/nr_regions/max"), mon.max_nr_regions);
    out.put(format!("{ctx}/targets/nr_targets"), kdamond.targets.len());
    for (t, target) in kdamond.targets.iter().enumerate() {
        let tp = format!("{ctx}/targets/{t}");
        out.put(format!("{tp}/pid_target"), target.pid.unwrap_or(0));
        if layout.has(Feature::ObsoleteTarget) {
            out.put(format!("{tp}/obsolete_target"), "N");
        }
        out.put(format!("{tp}/regions/nr_regions"), target.regions.len());
        for (r, region) in target.regions.iter().enumerate() {
            out.put(format!("{tp}/regions/{r}/start"), region.start);
            out.put(format!("{tp}/regions/{r}/end"), region.end);
        }
    }
    out.put(format!("{ctx}/schemes/nr_schemes"), kdamond.schemes.len());
    for (s, scheme) in kdamond.schemes.iter().enumerate() {
        scheme_tree(out, &format!("{ctx}/schemes/{s}"), scheme, kdamond, layout);
    }
}

fn scheme_tree(out: &mut Writer, sp: &str, scheme: &Scheme, kdamond: &Kdamond, layout: Layout) {
    out.put(format!("{sp}/action"), scheme.effective_action(kdamond.mode).keyword());
    let ap = format!("{sp}/access_pattern");
    for (dir, range) in [("sz", scheme.sz_bytes), ("nr_accesses", scheme.nr_accesses), ("age", scheme.age_aggrs)] {
        out.put(format!("{ap}/{dir}/min"), range.min);
        out.put(format!("{ap}/{dir}/max"), range.max);
    }
    if layout.has(Feature::ApplyInterval) {
        out.put(format!("{sp}/apply_interval_us"), scheme.apply_interval_us);
    }
    if layout.has(Feature::TargetNid) {
        // With weighted destinations the kernel uses `dests/`; -1 means "no node".
        let nid = scheme.target_nid.map_or(-1, i64::from);
        out.put(format!("{sp}/target_nid"), nid);
    }
    let q = &scheme.quota;
    let qp = format!("{sp}/quotas");
    out.put(format!("{qp}/ms"), q.ms);
    out.put(format!("{qp}/bytes"), q.bytes);
    out.put(format!("{qp}/reset_interval_ms"), q.reset_interval_ms);
    out.put(format!("{qp}/weights/sz_permil"), q.sz_permil);
    out.put(format!("{qp}/weights/nr_accesses_permil"), q.nr_accesses_permil);
    out.put(format!("{qp}/weights/age_permil"), q.age_permil);
    if layout.has(Feature::GoalTuner) {
        out.put(format!("{qp}/goal_tuner"), q.goal_tuner.unwrap_or(GoalTuner::Consist).keyword());
    }
    if layout.has(Feature::QuotaGoals) {
        out.put(format!("{qp}/goals/nr_goals"), q.goals.len());
        for (g, goal) in q.goals.iter().enumerate() {
            let gp = format!("{qp}/goals/{g}");
            if layout.has(Feature::GoalMetric) {
                out.put(format!("{gp}/target_metric"), goal.metric.keyword());
            }
            out.put(format!("{gp}/target_value"), goal.target_value);
            if layout.has(Feature::GoalNid) {
                out.put(format!("{gp}/nid"), goal.nid.unwrap_or(0));
            }
            if let Some(path) = &goal.path {
                out.put(format!("{gp}/path"), cgroup_path(path));
            }
        }
    }
    let wp = format!("{sp}/watermarks");
    match &scheme.watermarks {
        None => {
            out.put(format!("{wp}/metric"), "none");
            for leaf in ["interval_us", "high", "mid", "low"] {
                out.put(format!("{wp}/{leaf}"), 0);
            }
        }
        Some(w) => {
            out.put(format!("{wp}/metric"), w.metric.keyword());
            out.put(format!("{wp}/interval_us"), w.interval_us);
            out.put(format!("{wp}/high"), w.high_permil);
            out.put(format!("{wp}/mid"), w.mid_permil);
            out.put(format!("{wp}/low"), w.low_permil);
        }
    }
    filters(out, sp, &scheme.filters, layout);
    if layout.has(Feature::Dests) {
        out.put(format!("{sp}/dests/nr_dests"), scheme.dests.len());
        for (d, dest) in scheme.dests.iter().enumerate() {
            out.put(format!("{sp}/dests/{d}/id"), dest.node);
            out.put(format!("{sp}/dests/{d}/weight"), dest.weight);
        }
    }
}

fn filters(out: &mut Writer, sp: &str, filters: &[Filter], layout: Layout) {
    if !layout.has(Feature::Filters) {
        return;
    }
    if !layout.has(Feature::SplitFilterDirs) {
        filter_dir(out, &format!("{sp}/filters"), filters.iter(), layout);
        return;
    }
    // Since 6.15 core and ops filters have their own directories; the legacy one is
    // emptied so no stale filter is evaluated after them.
    filter_dir(out, &format!("{sp}/core_filters"), filters.iter().filter(|f| f.kind.is_core()), layout);
    filter_dir(out, &format!("{sp}/ops_filters"), filters.iter().filter(|f| !f.kind.is_core()), layout);
    out.put(format!("{sp}/filters/nr_filters"), 0);
}

fn filter_dir<'a>(out: &mut Writer, dir: &str, filters: impl Iterator<Item = &'a Filter> + Clone, layout: Layout) {
    out.put(format!("{dir}/nr_filters"), filters.clone().count());
    for (f, filter) in filters.enumerate() {
        let fp = format!("{dir}/{f}");
        out.put(format!("{fp}/type"), filter.kind.keyword());
        out.put(format!("{fp}/matching"), yes_no(filter.matching));
        if layout.has(Feature::FilterAllow) {
            out.put(format!("{fp}/allow"), yes_no(filter.allow));
        }
        match (&filter.arg, filter.kind) {
            (FilterArg::Memcg(path), FilterType::Memcg) => out.put(format!("{fp}/memcg_path"), cgroup_path(path)),
            (FilterArg::Addr(range), _) => {
                out.put(format!("{fp}/addr_start"), range.start);
                out.put(format!("{fp}/addr_end"), range.end);
            }
            (FilterArg::Target(index), _) => out.put(format!("{fp}/damon_target_idx"), index),
            (FilterArg::HugepageSize(range), _) => {
                out.put(format!("{fp}/min"), range.min);
                out.put(format!("{fp}/max"), range.max);
            }
            _ => {}
        }
    }
}
