//! The DAMON sysfs tree of a compiled configuration: every file a kernel of a given layout
//! must receive, in the order a kernel with zero kdamonds must receive them (`nr_*` before
//! the children it creates, `state` last), each addressed by a typed [`File`]. Every leaf is
//! written explicitly: nothing relies on the kernel's defaults, which differ from the
//! engine's (a new scheme's access pattern is `[0, 0]`, which matches nothing).

use std::fmt::Display;
use std::io;

use crate::kernel::{Feature, FilterType, GoalTuner, Layout};
use crate::model::resolved::{Filter, FilterArg, IntervalsGoal, Scheme};

use super::file::{File, FilterDir, Node};
use super::{Compiled, Kdamond};

/// One file write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    pub file: File,
    pub value: String,
}

/// All writes, in order, that build `compiled` on a kernel with no kdamonds (each kdamond in
/// the slot of its compile index).
pub fn writes(compiled: &Compiled, layout: Layout) -> Vec<Write> {
    let mut out = Collect { writes: Vec::new() };
    tree(&mut out, compiled, layout);
    out.writes
}

/// [`writes`] as `path value` lines: what `compile --format sysfs` prints, without
/// allocating each path and value as [`writes`] does (thousands for 100 schemes).
pub fn print(compiled: &Compiled, layout: Layout, out: &mut impl io::Write) -> io::Result<()> {
    let mut sink = Print {
        out,
        node: None,
        result: Ok(()),
    };
    tree(&mut sink, compiled, layout);
    sink.result
}

/// The writes that configure `kdamond` in slot `slot` (below `kdamonds/<slot>/`), without
/// its `state`.
pub fn kdamond_writes(kdamond: &Kdamond, slot: usize, layout: Layout) -> Vec<Write> {
    let mut out = Collect { writes: Vec::new() };
    kdamond_tree(&mut out, kdamond, slot, layout);
    out.writes
}

fn tree(out: &mut impl Sink, compiled: &Compiled, layout: Layout) {
    out.put(Node::Kdamonds, "nr_kdamonds", compiled.kdamonds.len());
    for kdamond in &compiled.kdamonds {
        kdamond_tree(out, kdamond, kdamond.index, layout);
    }
    for kdamond in &compiled.kdamonds {
        out.put(Node::Kdamond { kdamond: kdamond.index }, "state", "on");
    }
}

/// Where the writes of a tree go, in order.
trait Sink {
    /// Writes `value` to `leaf` in `node`.
    fn put(&mut self, node: Node, leaf: &'static str, value: impl Display);
}

struct Collect {
    writes: Vec<Write>,
}

impl Sink for Collect {
    fn put(&mut self, node: Node, leaf: &'static str, value: impl Display) {
        self.writes.push(Write {
            file: File { node, leaf },
            value: value.to_string(),
        });
    }
}

struct Print<'a, W> {
    out: &'a mut W,
    /// The directory of the last line and its rendered path: the leaves of one directory
    /// come together, so each directory is formatted once, not once per file.
    node: Option<(Node, String)>,
    /// The first error; later writes are skipped.
    result: io::Result<()>,
}

impl<W: io::Write> Sink for Print<'_, W> {
    fn put(&mut self, node: Node, leaf: &'static str, value: impl Display) {
        if self.result.is_err() {
            return;
        }
        if self.node.as_ref().is_none_or(|(last, _)| *last != node) {
            self.node = Some((node, node.to_string()));
        }
        let dir = self.node.as_ref().map_or("", |(_, path)| path.as_str());
        // Plain copies of the path: the formatting machinery costs several times more,
        // on thousands of lines.
        self.result = [dir, "/", leaf, " "]
            .iter()
            .try_for_each(|part| self.out.write_all(part.as_bytes()))
            .and_then(|()| writeln!(self.out, "{value}"));
    }
}

fn yes_no(value: bool) -> &'static str {
    if value { "Y" } else { "N" }
}

/// A cgroup path as the kernel resolves it: absolute below the cgroup mount.
pub fn cgroup_path(path: &str) -> String {
    format!("/{}", path.trim_start_matches('/'))
}

/// One number of an intervals goal.
type GoalField = fn(&IntervalsGoal) -> u64;

fn kdamond_tree(out: &mut impl Sink, kdamond: &Kdamond, slot: usize, layout: Layout) {
    out.put(Node::Kdamond { kdamond: slot }, "contexts/nr_contexts", 1);
    let ctx = Node::Context { kdamond: slot };
    out.put(ctx, "operations", kdamond.ops.keyword());
    if layout.has(Feature::AddrUnit) {
        out.put(ctx, "addr_unit", 1);
    }
    let mon = &kdamond.monitoring;
    out.put(ctx, "monitoring_attrs/intervals/sample_us", mon.sample_us);
    out.put(ctx, "monitoring_attrs/intervals/aggr_us", mon.aggr_us);
    out.put(ctx, "monitoring_attrs/intervals/update_us", mon.update_us);
    if layout.has(Feature::IntervalsGoal) {
        let goal = mon.intervals_goal.as_ref();
        let leaves: [(&'static str, GoalField); 4] = [
            ("monitoring_attrs/intervals/intervals_goal/access_bp", |g| g.access_bp),
            ("monitoring_attrs/intervals/intervals_goal/aggrs", |g| g.aggrs),
            ("monitoring_attrs/intervals/intervals_goal/min_sample_us", |g| {
                g.min_sample_us
            }),
            ("monitoring_attrs/intervals/intervals_goal/max_sample_us", |g| {
                g.max_sample_us
            }),
        ];
        // Zero throughout turns the kernel's auto-tuning off.
        for (leaf, value) in leaves {
            out.put(ctx, leaf, goal.map_or(0, value));
        }
    }
    out.put(ctx, "monitoring_attrs/nr_regions/min", mon.min_nr_regions);
    out.put(ctx, "monitoring_attrs/nr_regions/max", mon.max_nr_regions);
    out.put(ctx, "targets/nr_targets", kdamond.targets.len());
    for (t, target) in kdamond.targets.iter().enumerate() {
        let tp = Node::Target {
            kdamond: slot,
            target: t,
        };
        out.put(tp, "pid_target", target.pid.unwrap_or(0));
        if layout.has(Feature::ObsoleteTarget) {
            out.put(tp, "obsolete_target", "N");
        }
        out.put(tp, "regions/nr_regions", target.regions.len());
        for (r, region) in target.regions.iter().enumerate() {
            let rp = Node::Region {
                kdamond: slot,
                target: t,
                region: r,
            };
            out.put(rp, "start", region.start);
            out.put(rp, "end", region.end);
        }
    }
    out.put(ctx, "schemes/nr_schemes", kdamond.schemes.len());
    for (s, scheme) in kdamond.schemes.iter().enumerate() {
        scheme_tree(out, (slot, s), scheme, kdamond, layout);
    }
}

/// The files of the scheme at `(slot, index)`.
fn scheme_tree(out: &mut impl Sink, (slot, index): (usize, usize), scheme: &Scheme, kdamond: &Kdamond, layout: Layout) {
    let sp = Node::Scheme {
        kdamond: slot,
        scheme: index,
    };
    out.put(sp, "action", scheme.effective_action(kdamond.mode).keyword());
    out.put(sp, "access_pattern/sz/min", scheme.sz_bytes.min);
    out.put(sp, "access_pattern/sz/max", scheme.sz_bytes.max);
    out.put(sp, "access_pattern/nr_accesses/min", scheme.nr_accesses.min);
    out.put(sp, "access_pattern/nr_accesses/max", scheme.nr_accesses.max);
    out.put(sp, "access_pattern/age/min", scheme.age_aggrs.min);
    out.put(sp, "access_pattern/age/max", scheme.age_aggrs.max);
    if layout.has(Feature::ApplyInterval) {
        out.put(sp, "apply_interval_us", scheme.apply_interval_us);
    }
    if layout.has(Feature::TargetNid) {
        // With weighted destinations the kernel uses `dests/`; -1 means "no node".
        let nid = scheme.target_nid.map_or(-1, i64::from);
        out.put(sp, "target_nid", nid);
    }
    let q = &scheme.quota;
    out.put(sp, "quotas/ms", q.ms);
    out.put(sp, "quotas/bytes", q.bytes);
    out.put(sp, "quotas/reset_interval_ms", q.reset_interval_ms);
    out.put(sp, "quotas/weights/sz_permil", q.sz_permil);
    out.put(sp, "quotas/weights/nr_accesses_permil", q.nr_accesses_permil);
    out.put(sp, "quotas/weights/age_permil", q.age_permil);
    if layout.has(Feature::GoalTuner) {
        out.put(
            sp,
            "quotas/goal_tuner",
            q.goal_tuner.unwrap_or(GoalTuner::Consist).keyword(),
        );
    }
    if layout.has(Feature::QuotaGoals) {
        out.put(sp, "quotas/goals/nr_goals", q.goals.len());
        for (g, goal) in q.goals.iter().enumerate() {
            let gp = Node::Goal {
                kdamond: slot,
                scheme: index,
                goal: g,
            };
            if layout.has(Feature::GoalMetric) {
                out.put(gp, "target_metric", goal.metric.keyword());
            }
            out.put(gp, "target_value", goal.target_value);
            if layout.has(Feature::GoalNid) {
                out.put(gp, "nid", goal.nid.unwrap_or(0));
            }
            if let Some(path) = &goal.path {
                out.put(gp, "path", cgroup_path(path));
            }
        }
    }
    match &scheme.watermarks {
        None => {
            out.put(sp, "watermarks/metric", "none");
            for leaf in [
                "watermarks/interval_us",
                "watermarks/high",
                "watermarks/mid",
                "watermarks/low",
            ] {
                out.put(sp, leaf, 0);
            }
        }
        Some(w) => {
            out.put(sp, "watermarks/metric", w.metric.keyword());
            out.put(sp, "watermarks/interval_us", w.interval_us);
            out.put(sp, "watermarks/high", w.high_permil);
            out.put(sp, "watermarks/mid", w.mid_permil);
            out.put(sp, "watermarks/low", w.low_permil);
        }
    }
    filters(out, (slot, index), &scheme.filters, layout);
    if layout.has(Feature::Dests) {
        out.put(sp, "dests/nr_dests", scheme.dests.len());
        for (d, dest) in scheme.dests.iter().enumerate() {
            let dp = Node::Dest {
                kdamond: slot,
                scheme: index,
                dest: d,
            };
            out.put(dp, "id", dest.node);
            out.put(dp, "weight", dest.weight);
        }
    }
}

/// The filters of the scheme at `(kdamond, scheme)`.
fn filters(out: &mut impl Sink, at: (usize, usize), filters: &[Filter], layout: Layout) {
    if !layout.has(Feature::Filters) {
        return;
    }
    if !layout.has(Feature::SplitFilterDirs) {
        filter_dir(out, at, FilterDir::Filters, filters.iter(), layout);
        return;
    }
    // Since 6.15 core and ops filters have their own directories; the legacy one is
    // emptied so no stale filter is evaluated after them.
    filter_dir(
        out,
        at,
        FilterDir::Core,
        filters.iter().filter(|f| f.kind.is_core()),
        layout,
    );
    filter_dir(
        out,
        at,
        FilterDir::Ops,
        filters.iter().filter(|f| !f.kind.is_core()),
        layout,
    );
    let (kdamond, scheme) = at;
    out.put(Node::Scheme { kdamond, scheme }, "filters/nr_filters", 0);
}

fn filter_dir<'a>(
    out: &mut impl Sink,
    (kdamond, scheme): (usize, usize),
    dir: FilterDir,
    filters: impl Iterator<Item = &'a Filter> + Clone,
    layout: Layout,
) {
    out.put(Node::Scheme { kdamond, scheme }, dir.nr_leaf(), filters.clone().count());
    for (f, filter) in filters.enumerate() {
        let fp = Node::Filter {
            kdamond,
            scheme,
            dir,
            filter: f,
        };
        out.put(fp, "type", filter.kind.keyword());
        out.put(fp, "matching", yes_no(filter.matching));
        if layout.has(Feature::FilterAllow) {
            out.put(fp, "allow", yes_no(filter.allow));
        }
        match (&filter.arg, filter.kind) {
            (FilterArg::Memcg(path), FilterType::Memcg) => out.put(fp, "memcg_path", cgroup_path(path)),
            (FilterArg::Addr(range), _) => {
                out.put(fp, "addr_start", range.start);
                out.put(fp, "addr_end", range.end);
            }
            (FilterArg::Target(index), _) => out.put(fp, "damon_target_idx", index),
            (FilterArg::HugepageSize(range), _) => {
                out.put(fp, "min", range.min);
                out.put(fp, "max", range.max);
            }
            _ => {}
        }
    }
}
