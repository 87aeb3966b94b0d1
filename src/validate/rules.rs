//! Semantic rules over a resolved policy: what the schema cannot express and the kernel
//! would refuse (or worse, accept and ignore). Errors for configurations that cannot work;
//! warnings for ones that work but can never do anything.

use std::collections::HashMap;

use crate::diag::Diagnostic;
use crate::kernel::{Action, Metric, Ops};
use crate::key_path;
use crate::model;
use crate::resolved::{Policy, Range, Scheme, Selector};
use crate::source::KeyPath;

use super::Ctx;

/// The smallest region DAMON can have: one page.
const PAGE_SIZE: u64 = 4096;

pub fn check(ctx: &mut Ctx<'_>, wire: &model::PolicyFile, policy: &Policy) {
    monitoring(ctx, policy);
    target(ctx, policy);
    let mut names: HashMap<&str, usize> = HashMap::new();
    for (i, (scheme, wire_scheme)) in policy.schemes.iter().zip(&wire.scheme).enumerate() {
        let path = key_path!["scheme", i];
        if let Some(first) = names.insert(&scheme.name, i) {
            ctx.report(
                Diagnostic::error("duplicate-name", format!("scheme name `{}` is already used by scheme {first}", scheme.name))
                    .help("give each scheme of a policy a unique `name`"),
                &path.join("name"),
            );
        }
        ranges(ctx, scheme, &path);
        never_matches(ctx, policy, scheme, &path);
        action_fits_ops(ctx, policy.ops, scheme, &path);
        migration(ctx, scheme, wire_scheme, &path);
        quota(ctx, policy, scheme, &path);
        watermarks(ctx, scheme, &path);
        filters(ctx, policy.ops, scheme, &path);
    }
}

fn monitoring(ctx: &mut Ctx<'_>, policy: &Policy) {
    let mon = &policy.monitoring;
    let path = key_path!["monitoring"];
    if mon.sample_us == 0 {
        ctx.report(
            Diagnostic::error("interval-order", "`sample_interval` must be greater than zero")
                .help("use the default \"5ms\" or another positive duration"),
            &path.join("sample_interval"),
        );
    }
    if mon.sample_us > mon.aggr_us {
        ctx.report(
            Diagnostic::error("interval-order", "`aggregation_interval` is shorter than `sample_interval`")
                .label("shorter than one sample")
                .help("an aggregation interval collects samples: make it at least the sampling interval (the kernel refuses otherwise)"),
            &path.join("aggregation_interval"),
        );
    }
    let regions = path.join("regions");
    if mon.min_nr_regions < 3 {
        ctx.report(
            Diagnostic::error("region-count", format!("`regions.min` is {}; DAMON needs at least 3", mon.min_nr_regions))
                .help("set `regions.min` to 3 or more (default 10)"),
            &regions.join("min"),
        );
    }
    if mon.min_nr_regions > mon.max_nr_regions {
        ctx.report(
            Diagnostic::error("range-order", format!("`regions.min` ({}) is greater than `regions.max` ({})", mon.min_nr_regions, mon.max_nr_regions))
                .help("make `regions.max` at least `regions.min`"),
            &regions,
        );
    }
    if let Some(goal) = &mon.intervals_goal {
        let at = path.join("autotune");
        if goal.min_sample_us > goal.max_sample_us {
            ctx.report(
                Diagnostic::error("range-order", "`min_sample_interval` is greater than `max_sample_interval`")
                    .help("swap them, or widen the range"),
                &at,
            );
        } else if mon.sample_us < goal.min_sample_us || mon.sample_us > goal.max_sample_us {
            ctx.report(
                Diagnostic::error("interval-order", "`sample_interval` is outside the autotune range")
                    .help("the kernel refuses a sampling interval outside `min_sample_interval`..`max_sample_interval`; adjust one of them"),
                &path.join("sample_interval"),
            );
        }
    }
}

fn target(ctx: &mut Ctx<'_>, policy: &Policy) {
    let physical = matches!(
        policy.target.selector,
        Selector::PhysicalWhole | Selector::PhysicalNode(_) | Selector::PhysicalRegions
    );
    let ops_path = key_path!["target", "ops"];
    if physical && policy.ops != Ops::Paddr {
        ctx.report(
            Diagnostic::error("ops-target", format!("physical memory is monitored by `paddr`, not `{}`", policy.ops.keyword()))
                .help("remove `ops`, or select processes instead of `physical`"),
            &ops_path,
        );
    }
    if !physical && policy.ops == Ops::Paddr {
        ctx.report(
            Diagnostic::error("ops-target", "`paddr` monitors physical memory and takes exactly one target, not processes")
                .help("use `physical = true` (or a node or regions) with paddr, or remove `ops`"),
            &ops_path,
        );
    }
    if policy.ops == Ops::Fvaddr && policy.target.regions.is_empty() {
        ctx.report(
            Diagnostic::error("fvaddr-regions", "`fvaddr` monitors fixed address ranges and needs `target.regions`")
                .help("add `regions = [{ start = \"0x…\", end = \"0x…\" }]`, or use `vaddr`"),
            &ops_path,
        );
    }
}

fn ranges(ctx: &mut Ctx<'_>, scheme: &Scheme, path: &KeyPath) {
    let at = path.join("access_pattern");
    for (key, range, what) in [
        ("size", scheme.sz_bytes, "bytes"),
        ("access_rate", scheme.nr_accesses, "samples"),
        ("age", scheme.age_aggrs, "aggregation intervals"),
    ] {
        if range.min > range.max {
            ctx.report(
                Diagnostic::error("range-order", format!("`{key}.min` is greater than `{key}.max` ({} > {} {what})", range.min, range.max))
                    .label("min > max")
                    .help(format!("make `{key}.max` at least `{key}.min`; an inverted range matches nothing")),
                &at.join(key),
            );
        }
    }
}

fn never_matches(ctx: &mut Ctx<'_>, policy: &Policy, scheme: &Scheme, path: &KeyPath) {
    let at = path.join("access_pattern");
    let samples_per_aggr = policy.monitoring.aggr_us / policy.monitoring.sample_us.max(1);
    if scheme.nr_accesses.min > samples_per_aggr && scheme.nr_accesses.min <= scheme.nr_accesses.max {
        ctx.report(
            Diagnostic::warning("never-matches", format!(
                "scheme `{}` can never match: `access_rate.min` is {} samples but an aggregation interval has only {samples_per_aggr}",
                scheme.name, scheme.nr_accesses.min
            ))
            .help("access rates above 100% match nothing; lower `access_rate.min`"),
            &at.join("access_rate").join("min"),
        );
    }
    if scheme.sz_bytes.max < PAGE_SIZE && scheme.sz_bytes.min <= scheme.sz_bytes.max {
        ctx.report(
            Diagnostic::warning("never-matches", format!(
                "scheme `{}` can never match: `size.max` is {} bytes, smaller than a page (4 KiB)",
                scheme.name, scheme.sz_bytes.max
            ))
            .help("DAMON regions are at least one page; raise `size.max`"),
            &at.join("size").join("max"),
        );
    }
    if let Some(w) = &scheme.watermarks
        && w.mid_permil <= w.low_permil
        && w.high_permil >= w.mid_permil
    {
        ctx.report(
            Diagnostic::warning("never-matches", format!(
                "scheme `{}` is never active: `watermarks.mid` is not above `watermarks.low`",
                scheme.name
            ))
            .help("the scheme runs while the metric is below `mid` and above `low`; make `mid` greater than `low`"),
            &path.join("watermarks"),
        );
    }
}

fn action_fits_ops(ctx: &mut Ctx<'_>, ops: Ops, scheme: &Scheme, path: &KeyPath) {
    let implemented = scheme.action.implemented_by();
    if !implemented.contains(&ops) {
        let names: Vec<&str> = implemented.iter().map(|o| o.keyword()).collect();
        ctx.report(
            Diagnostic::error("action-ops", format!(
                "`{}` is not implemented by `{}`; the kernel would accept it and never apply it",
                scheme.action.keyword(),
                ops.keyword()
            ))
            .label(format!("needs {}", names.join(" or ")))
            .help(match scheme.action {
                Action::LruPrio | Action::LruDeprio => "LRU sorting works on physical memory: target `physical = true`".to_owned(),
                _ => format!("this action works on process address spaces ({}): target processes instead", names.join(", ")),
            }),
            &path.join("action"),
        );
    }
}

fn migration(ctx: &mut Ctx<'_>, scheme: &Scheme, wire: &model::Scheme, path: &KeyPath) {
    let has_dest = wire.target_node.is_some() || wire.destinations.is_some();
    if scheme.action.is_migration() {
        if !has_dest {
            ctx.report(
                Diagnostic::error("migrate-destination", format!("`{}` needs a destination node", scheme.action.keyword()))
                    .help("add `target_node = N`, or `destinations = [{ node = N, weight = 1 }]`"),
                &path.join("action"),
            );
        }
        if wire.target_node.is_some() && wire.destinations.is_some() {
            ctx.report_key(
                Diagnostic::error("migrate-destination", "`target_node` and `destinations` are alternatives")
                    .help("keep one: `target_node` for a single node, `destinations` for weighted nodes"),
                &path.join("destinations"),
            );
        }
    } else if has_dest {
        let key = if wire.target_node.is_some() { "target_node" } else { "destinations" };
        ctx.report_key(
            Diagnostic::error("migrate-destination", format!("`{key}` has no effect on a `{}` scheme", scheme.action.keyword()))
                .help("destinations are for `migrate_hot` and `migrate_cold`; remove it"),
            &path.join(key),
        );
    }
}

fn quota(ctx: &mut Ctx<'_>, policy: &Policy, scheme: &Scheme, path: &KeyPath) {
    let q = &scheme.quota;
    let at = path.join("quota");
    if (q.ms > 0 || q.bytes > 0 || !q.goals.is_empty()) && q.reset_interval_ms == 0 {
        ctx.report(
            Diagnostic::error("quota-reset", "a quota needs a non-zero `reset_interval`")
                .help("the quota is charged per reset interval; use e.g. \"1s\" (the default)"),
            &at.join("reset_interval"),
        );
    }
    for (g, goal) in q.goals.iter().enumerate() {
        let gp = at.join("goals").join(g);
        let keyword = goal.metric.keyword();
        if goal.metric.needs_node() && goal.nid.is_none() {
            ctx.report_key(
                Diagnostic::error("goal-argument", format!("a `{keyword}` goal needs `node`"))
                    .help("add `node = N`, the NUMA node the metric is measured on"),
                &gp,
            );
        }
        if !goal.metric.needs_node() && goal.nid.is_some() {
            ctx.report_key(
                Diagnostic::error("goal-argument", format!("`node` has no meaning for a `{keyword}` goal"))
                    .help("remove `node`; only the node_* metrics take one"),
                &gp.join("node"),
            );
        }
        if goal.metric.needs_cgroup() && goal.path.is_none() {
            ctx.report_key(
                Diagnostic::error("goal-argument", format!("a `{keyword}` goal needs `cgroup`"))
                    .help("add `cgroup = \"path/below/the/cgroup/mount\"`"),
                &gp,
            );
        }
        if !goal.metric.needs_cgroup() && goal.path.is_some() {
            ctx.report_key(
                Diagnostic::error("goal-argument", format!("`cgroup` has no meaning for a `{keyword}` goal"))
                    .help("remove `cgroup`; only the node_memcg_* metrics take one"),
                &gp.join("cgroup"),
            );
        }
        if goal.metric == Metric::NodeEligibleMemBp && policy.ops != Ops::Paddr {
            ctx.report(
                Diagnostic::error("goal-argument", "`node_eligible_mem_bp` works only on physical memory (paddr)")
                    .help("use another metric, or target `physical` memory"),
                &gp.join("metric"),
            );
        }
        if goal.target_value == 0 {
            ctx.report(
                Diagnostic::warning("goal-ignored", "a goal with target 0 is ignored by the kernel")
                    .help("set a non-zero target, or remove the goal"),
                &gp.join("target"),
            );
        }
    }
}

fn watermarks(ctx: &mut Ctx<'_>, scheme: &Scheme, path: &KeyPath) {
    let Some(w) = &scheme.watermarks else { return };
    let at = path.join("watermarks");
    if !(w.high_permil >= w.mid_permil && w.mid_permil >= w.low_permil) {
        ctx.report(
            Diagnostic::error("watermark-order", format!(
                "watermarks must satisfy high ≥ mid ≥ low (high {}‰, mid {}‰, low {}‰)",
                w.high_permil, w.mid_permil, w.low_permil
            ))
            .help("the scheme is active below `mid` and above `low`, and stops above `high`; reorder the values"),
            &at,
        );
    }
    for (key, value) in [("high", w.high_permil), ("mid", w.mid_permil), ("low", w.low_permil)] {
        if value > 1000 {
            ctx.report(
                Diagnostic::error("bad-value", format!("`{key}` is above 100% of free memory"))
                    .help("free_mem_rate is a share of total memory: use at most \"100%\""),
                &at.join(key),
            );
        }
    }
}

fn filters(ctx: &mut Ctx<'_>, ops: Ops, scheme: &Scheme, path: &KeyPath) {
    for (f, filter) in scheme.filters.iter().enumerate() {
        let fp = path.join("filter").join(f);
        if !filter.kind.is_core() && ops != Ops::Paddr {
            ctx.report(
                Diagnostic::warning("filter-ops", format!(
                    "`{}` filters are evaluated by the paddr operations set; with `{}` the kernel may ignore them",
                    filter.kind.keyword(),
                    ops.keyword()
                ))
                .help("use `addr` or `target` filters with process targets, or monitor physical memory"),
                &fp.join("type"),
            );
        }
        if let crate::resolved::FilterArg::HugepageSize(Range { min, max }) = filter.arg
            && min > max
        {
            ctx.report(
                Diagnostic::error("range-order", "the filter's `min` is greater than its `max`")
                    .help("make `max` at least `min`"),
                &fp,
            );
        }
    }
}
