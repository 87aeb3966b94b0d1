//! The DAMON sysfs tree of a compiled configuration: every file a kernel of a given layout
//! must receive, in the order a kernel with zero kdamonds must receive them (`nr_*` before
//! the children it creates, `state` last). Paths are relative to
//! `/sys/kernel/mm/damon/admin`. Every leaf is written explicitly: nothing relies on the
//! kernel's defaults, which differ from the engine's (a new scheme's access pattern is
//! `[0, 0]`, which matches nothing).

use std::fmt::Display;
use std::io;

use crate::kernel::{Feature, FilterType, GoalTuner, Layout};
use crate::model::resolved::{Filter, FilterArg, Scheme};

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
    let mut out = Collect {
        writes: Vec::new(),
        kdamond: None,
    };
    tree(&mut out, compiled, layout);
    out.writes
}

/// [`writes`] as `path value` lines: what `compile --format sysfs` prints, without
/// allocating each path and value as [`writes`] does (thousands for 100 schemes).
pub fn print(compiled: &Compiled, layout: Layout, out: &mut impl io::Write) -> io::Result<()> {
    let mut sink = Print { out, result: Ok(()) };
    tree(&mut sink, compiled, layout);
    sink.result
}

/// The writes that configure one kdamond (at `kdamond.index`) below `kdamonds/<index>/`,
/// without its `state`.
pub fn kdamond_writes(kdamond: &Kdamond, layout: Layout) -> Vec<Write> {
    let mut out = Collect {
        writes: Vec::new(),
        kdamond: Some(kdamond.index),
    };
    kdamond_tree(&mut out, kdamond, layout);
    out.writes
}

fn tree(out: &mut impl Sink, compiled: &Compiled, layout: Layout) {
    out.put("kdamonds", "nr_kdamonds", compiled.kdamonds.len());
    for kdamond in &compiled.kdamonds {
        out.kdamond(kdamond.index);
        kdamond_tree(out, kdamond, layout);
    }
    for kdamond in &compiled.kdamonds {
        out.kdamond(kdamond.index);
        out.put(&format!("kdamonds/{}", kdamond.index), "state", "on");
    }
}

/// Where the writes of a tree go, in order.
trait Sink {
    /// Writes `value` to `dir/leaf`.
    fn put(&mut self, dir: &str, leaf: &str, value: impl Display);
    /// The writes that follow configure the kdamond at `index`.
    fn kdamond(&mut self, index: usize);
}

struct Collect {
    writes: Vec<Write>,
    kdamond: Option<usize>,
}

impl Sink for Collect {
    fn put(&mut self, dir: &str, leaf: &str, value: impl Display) {
        self.writes.push(Write {
            path: join(dir, leaf),
            value: value.to_string(),
            kdamond: self.kdamond,
        });
    }

    fn kdamond(&mut self, index: usize) {
        self.kdamond = Some(index);
    }
}

struct Print<'a, W> {
    out: &'a mut W,
    /// The first error; later writes are skipped.
    result: io::Result<()>,
}

impl<W: io::Write> Sink for Print<'_, W> {
    fn put(&mut self, dir: &str, leaf: &str, value: impl Display) {
        if self.result.is_ok() {
            // Plain copies of the path: the formatting machinery costs several times more,
            // on thousands of lines.
            self.result = [dir, "/", leaf, " "]
                .iter()
                .try_for_each(|part| self.out.write_all(part.as_bytes()))
                .and_then(|()| writeln!(self.out, "{value}"));
        }
    }

    fn kdamond(&mut self, _: usize) {}
}

/// `dir/name`, allocated once at its final length (`format!` grows its string as it goes,
/// a cost that thousands of paths make visible).
fn join(dir: &str, name: &str) -> String {
    let mut path = String::with_capacity(dir.len() + 1 + name.len());
    path.push_str(dir);
    path.push('/');
    path.push_str(name);
    path
}

fn yes_no(value: bool) -> &'static str {
    if value { "Y" } else { "N" }
}

/// A cgroup path as the kernel resolves it: absolute below the cgroup mount.
pub fn cgroup_path(path: &str) -> String {
    format!("/{}", path.trim_start_matches('/'))
}

fn kdamond_tree(out: &mut impl Sink, kdamond: &Kdamond, layout: Layout) {
    let k = format!("kdamonds/{}", kdamond.index);
    out.put(&k, "contexts/nr_contexts", 1);
    let ctx = join(&k, "contexts/0");
    out.put(&ctx, "operations", kdamond.ops.keyword());
    if layout.has(Feature::AddrUnit) {
        out.put(&ctx, "addr_unit", 1);
    }
    let mon = &kdamond.monitoring;
    let intervals = join(&ctx, "monitoring_attrs/intervals");
    out.put(&intervals, "sample_us", mon.sample_us);
    out.put(&intervals, "aggr_us", mon.aggr_us);
    out.put(&intervals, "update_us", mon.update_us);
    if layout.has(Feature::IntervalsGoal) {
        let goal = mon.intervals_goal.as_ref();
        let g = join(&intervals, "intervals_goal");
        out.put(&g, "access_bp", goal.map_or(0, |g| g.access_bp));
        out.put(&g, "aggrs", goal.map_or(0, |g| g.aggrs));
        out.put(&g, "min_sample_us", goal.map_or(0, |g| g.min_sample_us));
        out.put(&g, "max_sample_us", goal.map_or(0, |g| g.max_sample_us));
    }
    out.put(&ctx, "monitoring_attrs/nr_regions/min", mon.min_nr_regions);
    out.put(&ctx, "monitoring_attrs/nr_regions/max", mon.max_nr_regions);
    out.put(&ctx, "targets/nr_targets", kdamond.targets.len());
    for (t, target) in kdamond.targets.iter().enumerate() {
        let tp = format!("{ctx}/targets/{t}");
        out.put(&tp, "pid_target", target.pid.unwrap_or(0));
        if layout.has(Feature::ObsoleteTarget) {
            out.put(&tp, "obsolete_target", "N");
        }
        out.put(&tp, "regions/nr_regions", target.regions.len());
        for (r, region) in target.regions.iter().enumerate() {
            let rp = format!("{tp}/regions/{r}");
            out.put(&rp, "start", region.start);
            out.put(&rp, "end", region.end);
        }
    }
    out.put(&ctx, "schemes/nr_schemes", kdamond.schemes.len());
    for (s, scheme) in kdamond.schemes.iter().enumerate() {
        scheme_tree(out, &format!("{ctx}/schemes/{s}"), scheme, kdamond, layout);
    }
}

fn scheme_tree(out: &mut impl Sink, sp: &str, scheme: &Scheme, kdamond: &Kdamond, layout: Layout) {
    out.put(sp, "action", scheme.effective_action(kdamond.mode).keyword());
    let ap = join(sp, "access_pattern");
    for (dir, range) in [
        ("sz", scheme.sz_bytes),
        ("nr_accesses", scheme.nr_accesses),
        ("age", scheme.age_aggrs),
    ] {
        let dir = join(&ap, dir);
        out.put(&dir, "min", range.min);
        out.put(&dir, "max", range.max);
    }
    if layout.has(Feature::ApplyInterval) {
        out.put(sp, "apply_interval_us", scheme.apply_interval_us);
    }
    if layout.has(Feature::TargetNid) {
        // With weighted destinations the kernel uses `dests/`; -1 means "no node".
        let nid = scheme.target_nid.map_or(-1, i64::from);
        out.put(sp, "target_nid", nid);
    }
    let q = &scheme.quota;
    let qp = join(sp, "quotas");
    out.put(&qp, "ms", q.ms);
    out.put(&qp, "bytes", q.bytes);
    out.put(&qp, "reset_interval_ms", q.reset_interval_ms);
    out.put(&qp, "weights/sz_permil", q.sz_permil);
    out.put(&qp, "weights/nr_accesses_permil", q.nr_accesses_permil);
    out.put(&qp, "weights/age_permil", q.age_permil);
    if layout.has(Feature::GoalTuner) {
        out.put(&qp, "goal_tuner", q.goal_tuner.unwrap_or(GoalTuner::Consist).keyword());
    }
    if layout.has(Feature::QuotaGoals) {
        out.put(&qp, "goals/nr_goals", q.goals.len());
        for (g, goal) in q.goals.iter().enumerate() {
            let gp = format!("{qp}/goals/{g}");
            if layout.has(Feature::GoalMetric) {
                out.put(&gp, "target_metric", goal.metric.keyword());
            }
            out.put(&gp, "target_value", goal.target_value);
            if layout.has(Feature::GoalNid) {
                out.put(&gp, "nid", goal.nid.unwrap_or(0));
            }
            if let Some(path) = &goal.path {
                out.put(&gp, "path", cgroup_path(path));
            }
        }
    }
    let wp = join(sp, "watermarks");
    match &scheme.watermarks {
        None => {
            out.put(&wp, "metric", "none");
            for leaf in ["interval_us", "high", "mid", "low"] {
                out.put(&wp, leaf, 0);
            }
        }
        Some(w) => {
            out.put(&wp, "metric", w.metric.keyword());
            out.put(&wp, "interval_us", w.interval_us);
            out.put(&wp, "high", w.high_permil);
            out.put(&wp, "mid", w.mid_permil);
            out.put(&wp, "low", w.low_permil);
        }
    }
    filters(out, sp, &scheme.filters, layout);
    if layout.has(Feature::Dests) {
        out.put(sp, "dests/nr_dests", scheme.dests.len());
        for (d, dest) in scheme.dests.iter().enumerate() {
            let dp = format!("{sp}/dests/{d}");
            out.put(&dp, "id", dest.node);
            out.put(&dp, "weight", dest.weight);
        }
    }
}

fn filters(out: &mut impl Sink, sp: &str, filters: &[Filter], layout: Layout) {
    if !layout.has(Feature::Filters) {
        return;
    }
    if !layout.has(Feature::SplitFilterDirs) {
        filter_dir(out, &join(sp, "filters"), filters.iter(), layout);
        return;
    }
    // Since 6.15 core and ops filters have their own directories; the legacy one is
    // emptied so no stale filter is evaluated after them.
    filter_dir(
        out,
        &join(sp, "core_filters"),
        filters.iter().filter(|f| f.kind.is_core()),
        layout,
    );
    filter_dir(
        out,
        &join(sp, "ops_filters"),
        filters.iter().filter(|f| !f.kind.is_core()),
        layout,
    );
    out.put(sp, "filters/nr_filters", 0);
}

fn filter_dir<'a>(out: &mut impl Sink, dir: &str, filters: impl Iterator<Item = &'a Filter> + Clone, layout: Layout) {
    out.put(dir, "nr_filters", filters.clone().count());
    for (f, filter) in filters.enumerate() {
        let fp = format!("{dir}/{f}");
        out.put(&fp, "type", filter.kind.keyword());
        out.put(&fp, "matching", yes_no(filter.matching));
        if layout.has(Feature::FilterAllow) {
            out.put(&fp, "allow", yes_no(filter.allow));
        }
        match (&filter.arg, filter.kind) {
            (FilterArg::Memcg(path), FilterType::Memcg) => out.put(&fp, "memcg_path", cgroup_path(path)),
            (FilterArg::Addr(range), _) => {
                out.put(&fp, "addr_start", range.start);
                out.put(&fp, "addr_end", range.end);
            }
            (FilterArg::Target(index), _) => out.put(&fp, "damon_target_idx", index),
            (FilterArg::HugepageSize(range), _) => {
                out.put(&fp, "min", range.min);
                out.put(&fp, "max", range.max);
            }
            _ => {}
        }
    }
}
