//! Semantic rules over a resolved policy: what the schema cannot express and the kernel
//! would refuse (or worse, accept and ignore). Errors for configurations that cannot work;
//! warnings for ones that work but can never do anything.

use std::collections::HashMap;

use crate::diag::Diagnostic;
use crate::kernel::{Action, Metric, MetricUnit, Ops};
use crate::key_path;
use crate::model::resolved::{Policy, Range, Scheme, Selector};
use crate::model::wire as model;
use crate::policy::source::KeyPath;

use super::Ctx;

/// The smallest region DAMON can have: one page.
const PAGE_SIZE: u64 = 4096;

/// 100% in basis points, the most a `*_bp` goal metric can measure.
const BP_MAX: u64 = 10_000;

pub fn check(ctx: &mut Ctx<'_>, wire: &model::PolicyFile, policy: &Policy) {
    monitoring(ctx, policy);
    target(ctx, policy);
    cgroup_paths(ctx, wire);
    let mut names: HashMap<&str, usize> = HashMap::new();
    for (i, (scheme, wire_scheme)) in policy.schemes.iter().zip(&wire.scheme).enumerate() {
        let path = key_path!["scheme", i];
        if let Some(first) = names.insert(&scheme.name, i) {
            ctx.report(
                Diagnostic::error(
                    "duplicate-name",
                    format!("scheme name `{}` is already used by scheme {first}", scheme.name),
                )
                .help("give each scheme of a policy a unique `name`"),
                &path.join("name"),
            );
        }
        ranges(ctx, scheme, &path);
        never_matches(ctx, policy, scheme, &path);
        action_fits_ops(ctx, policy.ops, scheme, &path);
        super::migration::check(ctx, policy.ops, scheme, wire_scheme, &path);
        quota(ctx, policy, scheme, &path);
        watermarks(ctx, scheme, &path);
        filters(ctx, policy, scheme, &path);
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
            Diagnostic::error(
                "region-count",
                format!("`regions.min` is {}; DAMON needs at least 3", mon.min_nr_regions),
            )
            .help("set `regions.min` to 3 or more (default 10)"),
            &regions.join("min"),
        );
    }
    if mon.min_nr_regions > mon.max_nr_regions {
        ctx.report(
            Diagnostic::error(
                "range-order",
                format!(
                    "`regions.min` ({}) is greater than `regions.max` ({})",
                    mon.min_nr_regions, mon.max_nr_regions
                ),
            )
            .help("make `regions.max` at least `regions.min`"),
            &regions,
        );
    }
    if let Some(goal) = &mon.intervals_goal {
        let at = path.join("autotune");
        if goal.min_sample_us > goal.max_sample_us {
            ctx.report(
                Diagnostic::error(
                    "range-order",
                    "`min_sample_interval` is greater than `max_sample_interval`",
                )
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
            Diagnostic::error(
                "ops-target",
                format!(
                    "physical memory is monitored by `paddr`, not `{}`",
                    policy.ops.keyword()
                ),
            )
            .help("remove `ops`, or select processes instead of `physical`"),
            &ops_path,
        );
    }
    if !physical && policy.ops == Ops::Paddr {
        ctx.report(
            Diagnostic::error(
                "ops-target",
                "`paddr` monitors physical memory and takes exactly one target, not processes",
            )
            .help("use `physical = true` (or a node or regions) with paddr, or remove `ops`"),
            &ops_path,
        );
    }
    if policy.ops == Ops::Fvaddr && policy.target.regions.is_empty() {
        ctx.report(
            Diagnostic::error(
                "fvaddr-regions",
                "`fvaddr` monitors fixed address ranges and needs `target.regions`",
            )
            .help("add `regions = [{ start = \"0x…\", end = \"0x…\" }]`, or use `vaddr`"),
            &ops_path,
        );
    }
}

/// Every cgroup path of a policy: the target's, and those of memcg filters and memcg goals.
///
/// A target's cgroup is read by damo-policy itself (`<cgroup mount>/<path>/cgroup.procs`):
/// a `..` there leaves the mount (`"../../etc"` reads below `/`), so it is refused outright
/// rather than resolved. A memcg path is written to the kernel (`memcg_path`), which looks
/// the cgroup up by comparing the text with each memcg's own path (`cgroup_path()` and
/// `sysfs_streq()` in mm/damon/sysfs-schemes.c): `..`, `.`, `//` or a trailing `/` never
/// match, and the kernel refuses the whole configuration at `on`/`commit` with EINVAL. Control
/// characters are refused in both: no cgroup this is meant for has one in its name (a
/// newline in particular is a pasting mistake), and the path is shown in `compile`'s one-line
/// `<path> <value>` output and the plan, which a newline would split.
fn cgroup_paths(ctx: &mut Ctx<'_>, wire: &model::PolicyFile) {
    if let Some(cgroup) = &wire.target.cgroup {
        cgroup_path(ctx, cgroup, false, &key_path!["target", "cgroup"]);
    }
    for (i, scheme) in wire.scheme.iter().enumerate() {
        let path = key_path!["scheme", i];
        for (f, filter) in scheme.filter.iter().enumerate() {
            if let Some(cgroup) = &filter.cgroup {
                cgroup_path(ctx, cgroup, true, &path.join("filter").join(f).join("cgroup"));
            }
        }
        for (g, goal) in scheme.quota.iter().flat_map(|q| q.goals.iter()).enumerate() {
            if let Some(cgroup) = &goal.cgroup {
                cgroup_path(
                    ctx,
                    cgroup,
                    true,
                    &path.join("quota").join("goals").join(g).join("cgroup"),
                );
            }
        }
    }
}

/// Checks one cgroup path; `exact` for a memcg path, which the kernel compares as text.
fn cgroup_path(ctx: &mut Ctx<'_>, cgroup: &str, exact: bool, at: &KeyPath) {
    let shown = cgroup.escape_debug();
    if let Some(c) = cgroup.chars().find(|c| c.is_control()) {
        ctx.report(
            Diagnostic::error("cgroup-path", format!("the cgroup path \"{shown}\" contains a control character (U+{:04X})", u32::from(c)))
                .label("control character")
                .help("cgroup names have no control characters: remove it (a `\\n` or `\\t` escape in the string, or a pasted line break)"),
            at,
        );
        return;
    }
    let components: Vec<&str> = cgroup.trim_start_matches('/').split('/').collect();
    // The root cgroup: `"/"` (or `""`, which the schema refuses).
    if components == [""] {
        return;
    }
    let canonical: Vec<&str> = components
        .iter()
        .copied()
        .filter(|c| !c.is_empty() && *c != "." && *c != "..")
        .collect();
    let suggestion = format!("/{}", canonical.join("/"));
    if components.contains(&"..") {
        let why = if exact {
            "the kernel looks a memcg up by its path as written and no cgroup's path has `..`: the kernel would refuse the policy"
        } else {
            "a target's cgroup is read below the cgroup mount, and `..` leads out of it"
        };
        ctx.report(
            Diagnostic::error(
                "cgroup-path",
                format!("the cgroup path \"{shown}\" has a `..` component; {why}"),
            )
            .label("`..` not allowed")
            .help("write the cgroup's path from the cgroup mount down, without `..`, e.g. `system.slice/app.service`"),
            at,
        );
    } else if exact && components.iter().any(|c| c.is_empty() || *c == ".") {
        ctx.report(
            Diagnostic::error("cgroup-path", format!(
                "the memcg path \"{shown}\" is not written as the kernel writes cgroup paths, so it matches no cgroup"
            ))
            .label("`.`, `//` or a trailing `/`")
            .help(format!(
                "the kernel compares the path with each cgroup's own path as text and refuses the policy when none is equal; write \"{suggestion}\""
            )),
            at,
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
                Diagnostic::error(
                    "range-order",
                    format!(
                        "`{key}.min` is greater than `{key}.max` ({} > {} {what})",
                        range.min, range.max
                    ),
                )
                .label("min > max")
                .help(format!(
                    "make `{key}.max` at least `{key}.min`; an inverted range matches nothing"
                )),
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
            Diagnostic::warning(
                "never-matches",
                format!(
                    "scheme `{}` can never match: `size.max` is {} bytes, smaller than a page (4 KiB)",
                    scheme.name, scheme.sz_bytes.max
                ),
            )
            .help("DAMON regions are at least one page; raise `size.max`"),
            &at.join("size").join("max"),
        );
    }
    if let Some(w) = &scheme.watermarks
        && w.mid_permil <= w.low_permil
        && w.high_permil >= w.mid_permil
    {
        ctx.report(
            Diagnostic::warning(
                "never-matches",
                format!(
                    "scheme `{}` is never active: `watermarks.mid` is not above `watermarks.low`",
                    scheme.name
                ),
            )
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
            Diagnostic::error(
                "action-ops",
                format!(
                    "`{}` is not implemented by `{}`; the kernel would accept it and never apply it",
                    scheme.action.keyword(),
                    ops.keyword()
                ),
            )
            .label(format!("needs {}", names.join(" or ")))
            .help(match scheme.action {
                Action::LruPrio | Action::LruDeprio => {
                    "LRU sorting works on physical memory: target `physical = true`".to_owned()
                }
                _ => format!(
                    "this action works on process address spaces ({}): target processes instead",
                    names.join(", ")
                ),
            }),
            &path.join("action"),
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
                Diagnostic::error(
                    "goal-argument",
                    format!("`cgroup` has no meaning for a `{keyword}` goal"),
                )
                .help("remove `cgroup`; only the node_memcg_* metrics take one"),
                &gp.join("cgroup"),
            );
        }
        if goal.metric == Metric::NodeEligibleMemBp && policy.ops != Ops::Paddr {
            ctx.report(
                Diagnostic::error(
                    "goal-argument",
                    "`node_eligible_mem_bp` works only on physical memory (paddr)",
                )
                .help("use another metric, or target `physical` memory"),
                &gp.join("metric"),
            );
        }
        // Every `*_bp` metric is a share of some memory, computed as part × 10000 / whole
        // (`damos_get_node_mem_bp()`, `damos_get_node_memcg_used_bp()`,
        // `damos_get_in_active_mem_bp()`, the eligible-memory ratio in mm/damon/core.c), so
        // it never exceeds 10000. The kernel takes any target and scores a goal as
        // current × 10000 / target: above 100% the score never reaches 10000, the `consist`
        // tuner keeps raising the effective quota to its limit and `temporal` never stops.
        if goal.metric.unit() == MetricUnit::BasisPoints && goal.target_value > BP_MAX {
            ctx.report(
                Diagnostic::error("goal-target", format!(
                    "the `{keyword}` goal's target {} can never be reached: the metric is a share of memory, at most 100%",
                    percent_of_bp(goal.target_value)
                ))
                .label("above 100%")
                .help("write a target from \"0.01%\" to \"100%\""),
                &gp.join("target"),
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
            Diagnostic::error(
                "watermark-order",
                format!(
                    "watermarks must satisfy high ≥ mid ≥ low (high {}‰, mid {}‰, low {}‰)",
                    w.high_permil, w.mid_permil, w.low_permil
                ),
            )
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

fn filters(ctx: &mut Ctx<'_>, policy: &Policy, scheme: &Scheme, path: &KeyPath) {
    let ops = policy.ops;
    for (f, filter) in scheme.filters.iter().enumerate() {
        let fp = path.join("filter").join(f);
        if let crate::model::resolved::FilterArg::Target(index) = filter.arg {
            target_index(ctx, policy, index, &fp.join("target"));
        }
        if !filter.kind.is_core() && ops != Ops::Paddr {
            ctx.report(
                Diagnostic::warning(
                    "filter-ops",
                    format!(
                        "`{}` filters are evaluated by the paddr operations set; with `{}` the kernel may ignore them",
                        filter.kind.keyword(),
                        ops.keyword()
                    ),
                )
                .help("use `addr` or `target` filters with process targets, or monitor physical memory"),
                &fp.join("type"),
            );
        }
        if let crate::model::resolved::FilterArg::HugepageSize(Range { min, max }) = filter.arg
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

/// A `target` filter names a DAMON target by its index in the context's target list, and the
/// kernel compares that index with each target's position (`damos_filter_match()` in
/// mm/damon/core.c), checking it against nothing: an index past the last target matches no
/// memory, so the filter silently does nothing (or, with `matching = false`, applies to all
/// memory). Where the number of targets is fixed by the file — one per listed pid, one for
/// physical memory — such an index is an error. A `process` or `cgroup` policy has one target
/// per process found at each apply (in ascending pid order), a number that changes as
/// processes come and go: an index beyond today's count may be meant for a busier moment, so
/// it is accepted without a warning that would fire on legitimate policies. Only an index no
/// number of processes reaches (there are fewer than `PID_MAX` of them) is refused there.
fn target_index(ctx: &mut Ctx<'_>, policy: &Policy, index: u32, at: &KeyPath) {
    let (count, what) = match &policy.target.selector {
        Selector::Pids(pids) => (
            pids.len(),
            format!(
                "{} target{}, one per pid of `target.pids`",
                pids.len(),
                if pids.len() == 1 { "" } else { "s" }
            ),
        ),
        Selector::PhysicalWhole | Selector::PhysicalNode(_) | Selector::PhysicalRegions => (
            1,
            "1 target: physical memory is monitored as a single target".to_owned(),
        ),
        Selector::Process(_) | Selector::Cgroup(_) => (
            model::PID_MAX as usize,
            format!("at most {} targets, one per running process", model::PID_MAX),
        ),
    };
    if (index as usize) < count {
        return;
    }
    ctx.report(
        Diagnostic::error("filter-target", format!("the `target` filter's index {index} names no target: this policy has {what}"))
            .label("no such target")
            .help(match count {
                1 => "the only target is number 0: write `target = 0`, or remove the filter (as written it matches no memory)".to_owned(),
                _ => format!("targets are numbered from 0 in the order DAMON gets them: use an index from 0 to {}, or remove the filter (as written it matches no memory)", count - 1),
            }),
        at,
    );
}

/// Basis points as the percentage a user writes: 15000 → `150%`, 10050 → `100.5%`.
fn percent_of_bp(bp: u64) -> String {
    let fraction = format!("{:02}", bp % 100);
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() {
        format!("{}%", bp / 100)
    } else {
        format!("{}.{fraction}%", bp / 100)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::kernel::Version;
    use crate::policy::source::SourceFile;
    use crate::validate::validate_file;

    /// The codes of every finding of a policy text, errors prefixed with `E:`, warnings `W:`.
    fn findings(text: &str) -> Vec<String> {
        let outcome = validate_file(Arc::new(SourceFile::new("p.toml", text)), Version::NEWEST_KNOWN);
        outcome
            .diagnostics
            .iter()
            .map(|d| format!("{}:{}", if d.is_error() { "E" } else { "W" }, d.code))
            .collect()
    }

    fn with_target_filter(target: &str, index: u32) -> String {
        format!(
            "[target]\n{target}\n[[scheme]]\naction = \"stat\"\n[[scheme.filter]]\ntype = \"target\"\ntarget = {index}\n"
        )
    }

    #[test]
    fn target_filter_index_within_the_targets_the_policy_can_have() {
        assert!(findings(&with_target_filter("pids = [10, 11]", 1)).is_empty());
        assert_eq!(findings(&with_target_filter("pids = [10, 11]", 2)), ["E:filter-target"]);
        assert!(findings(&with_target_filter("physical = true", 0)).is_empty());
        assert_eq!(
            findings(&with_target_filter("physical = { numa_node = 1 }", 1)),
            ["E:filter-target"]
        );
        // The processes of a name or cgroup are counted at each apply: any index some number
        // of processes reaches is accepted, one past every possible pid is not.
        assert!(findings(&with_target_filter("process = \"app\"", 7)).is_empty());
        assert!(
            findings(&with_target_filter(
                "cgroup = \"batch.slice\"",
                crate::model::wire::PID_MAX - 1
            ))
            .is_empty()
        );
        assert_eq!(
            findings(&with_target_filter(
                "cgroup = \"batch.slice\"",
                crate::model::wire::PID_MAX
            )),
            ["E:filter-target"]
        );
    }

    #[test]
    fn cgroup_paths() {
        let target = |cgroup: &str| findings(&format!("[target]\ncgroup = {cgroup:?}\n"));
        let memcg = |cgroup: &str| {
            findings(&format!(
                "[target]\nphysical = true\n[[scheme]]\naction = \"stat\"\n[[scheme.filter]]\ntype = \"memcg\"\ncgroup = {cgroup:?}\n"
            ))
        };
        for ok in [
            "batch.slice",
            "/batch.slice",
            "/",
            "system.slice/app.service",
            "a..b/.c",
        ] {
            assert!(target(ok).is_empty(), "{ok}");
            assert!(memcg(ok).is_empty(), "{ok}");
        }
        for bad in ["../../etc", "a/../b", "..", "a\nb", "a\tb", "a\rb"] {
            assert_eq!(target(bad), ["E:cgroup-path"], "{bad:?}");
            assert_eq!(memcg(bad), ["E:cgroup-path"], "{bad:?}");
        }
        // ESC and DEL, which TOML takes only as escapes.
        for escape in ["\\u001B", "\\u007F"] {
            assert_eq!(
                findings(&format!("[target]\ncgroup = \"a{escape}b\"\n")),
                ["E:cgroup-path"],
                "{escape}"
            );
        }
        // The kernel compares memcg paths as text; a target's directory is only read.
        for loose in ["./a", "a//b", "a/", "a/./b"] {
            assert!(target(loose).is_empty(), "{loose}");
            assert_eq!(memcg(loose), ["E:cgroup-path"], "{loose}");
        }
    }

    #[test]
    fn goal_targets_of_shares_of_memory_are_at_most_100_percent() {
        let goal = |metric: &str, target: &str| {
            findings(&format!(
                "[target]\nphysical = true\n[[scheme]]\naction = \"stat\"\nquota.goals = [{{ metric = {metric:?}, target = {target}, node = 0 }}]\n"
            ))
        };
        assert!(goal("node_mem_used_bp", "\"100%\"").is_empty());
        assert_eq!(goal("node_mem_used_bp", "\"100.01%\""), ["E:goal-target"]);
        assert_eq!(goal("node_eligible_mem_bp", "\"200%\""), ["E:goal-target"]);
        // Not a share: a user_input goal takes any integer, PSI any duration.
        let plain = |metric: &str, target: &str| {
            findings(&format!(
                "[target]\nphysical = true\n[[scheme]]\naction = \"stat\"\nquota.goals = [{{ metric = {metric:?}, target = {target} }}]\n"
            ))
        };
        assert!(plain("user_input", "20000").is_empty());
        assert!(plain("some_mem_psi_us", "\"20s\"").is_empty());
        assert_eq!(super::percent_of_bp(15_000), "150%");
        assert_eq!(super::percent_of_bp(10_050), "100.5%");
        assert_eq!(super::percent_of_bp(10_001), "100.01%");
    }
}
