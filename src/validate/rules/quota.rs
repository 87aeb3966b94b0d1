//! Rules of a scheme's `quota`: a reset interval to charge it over, and goals whose
//! arguments and targets the kernel can use.

use std::time::Duration;

use crate::diag::{Code, Diagnostic};
use crate::kernel::{Metric, MetricUnit, Ops};
use crate::model::resolved::Scheme;
use crate::model::wire as model;
use crate::model::{defaults, units};
use crate::policy::source::KeyPath;
use crate::validate::shape;

use super::{Ctx, PAGE_SIZE};

/// 100% in basis points, the most a `*_bp` goal metric can measure.
const BP_MAX: u64 = 10_000;

/// Goals as written: each target in the form of its metric's unit.
pub(super) fn written_goals(ctx: &mut Ctx<'_>, wire: &model::Scheme, path: &KeyPath) {
    for (g, goal) in wire.quota.iter().flat_map(|q| q.goals.iter()).enumerate() {
        let unit = goal.metric.unit();
        if shape::goal_target_fits(unit, &goal.target.0) {
            continue;
        }
        let keyword = goal.metric.keyword();
        let expected = match unit {
            MetricUnit::Integer => "a plain integer",
            MetricUnit::Microseconds => "a duration such as \"10ms\"",
            MetricUnit::BasisPoints => "a percentage such as \"30%\"",
        };
        ctx.report(
            Diagnostic::error(
                Code::GoalTarget,
                format!(
                    "{} is not a target for `{keyword}`",
                    units::echo(&goal.target.0.to_string())
                ),
            )
            .label(format!("expected {expected}"))
            .help(format!("the target of a `{keyword}` goal is {expected}")),
            &path.join("quota").join("goals").join(g).join("target"),
        );
    }
}

/// `ops` is `None` when the target does not say which memory is monitored.
pub(super) fn check(ctx: &mut Ctx<'_>, ops: Option<Ops>, scheme: &Scheme, wire: &model::Scheme, path: &KeyPath) {
    let q = &scheme.quota;
    let at = path.join("quota");
    if wire.quota.as_ref().is_some_and(|quota| quota.size.is_some()) {
        size(ctx, q.bytes, &at.join("size"));
    }
    if q.ms > q.reset_interval_ms && q.reset_interval_ms > 0 {
        let time = humantime::format_duration(Duration::from_millis(q.ms));
        let reset = humantime::format_duration(Duration::from_millis(q.reset_interval_ms));
        ctx.report(
            Diagnostic::warning(
                Code::QuotaTime,
                format!("the time quota ({time}) is longer than its reset interval ({reset}): it can never be reached, so it limits nothing"),
            )
            .label("longer than `reset_interval`")
            .help(format!(
                "the quota is the time the action may take per reset interval, which is at most the interval itself: write a `time` below {reset}, or omit `time` for no time limit"
            )),
            &at.join("time"),
        );
    }
    if (q.ms > 0 || q.bytes > 0 || !q.goals.is_empty()) && q.reset_interval_ms == 0 {
        let default = humantime::format_duration(Duration::from_millis(defaults::QUOTA_RESET_INTERVAL_MS));
        ctx.report(
            Diagnostic::error(Code::QuotaReset, "a quota needs a non-zero `reset_interval`").help(format!(
                "the quota is charged per reset interval; use e.g. \"{default}\" (the default)"
            )),
            &at.join("reset_interval"),
        );
    }
    for (g, goal) in q.goals.iter().enumerate() {
        let gp = at.join("goals").join(g);
        let keyword = goal.metric.keyword();
        if goal.metric.needs_node() && goal.nid.is_none() {
            ctx.report_key(
                Diagnostic::error(Code::GoalArgument, format!("a `{keyword}` goal needs `node`"))
                    .help("add `node = N`, the NUMA node the metric is measured on"),
                &gp,
            );
        }
        if !goal.metric.needs_node() && goal.nid.is_some() {
            ctx.report_key(
                Diagnostic::error(
                    Code::GoalArgument,
                    format!("`node` has no meaning for a `{keyword}` goal"),
                )
                .help("remove `node`; only the node_* metrics take one"),
                &gp.join("node"),
            );
        }
        if goal.metric.needs_cgroup() && goal.path.is_none() {
            ctx.report_key(
                Diagnostic::error(Code::GoalArgument, format!("a `{keyword}` goal needs `cgroup`"))
                    .help("add `cgroup = \"path/below/the/cgroup/mount\"`"),
                &gp,
            );
        }
        if !goal.metric.needs_cgroup() && goal.path.is_some() {
            ctx.report_key(
                Diagnostic::error(
                    Code::GoalArgument,
                    format!("`cgroup` has no meaning for a `{keyword}` goal"),
                )
                .help("remove `cgroup`; only the node_memcg_* metrics take one"),
                &gp.join("cgroup"),
            );
        }
        if goal.metric == Metric::NodeEligibleMemBp && ops.is_some_and(|ops| ops != Ops::Paddr) {
            ctx.report(
                Diagnostic::error(
                    Code::GoalArgument,
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
                Diagnostic::error(Code::GoalTarget, format!(
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
                Diagnostic::warning(Code::GoalIgnored, "a goal with target 0 is ignored by the kernel")
                    .help("set a non-zero target, or remove the goal"),
                &gp.join("target"),
            );
        }
    }
}

/// A size quota as written. The kernel charges whole pages: once what is left of the quota
/// is less than a page, it rounds it down to 0 and applies nothing (`damos_apply_scheme()`
/// in mm/damon/core.c), so a quota below one page never lets the scheme act: a warning, as
/// for schemes that can never match (the kernel takes it). A quota of 0 is no quota at all
/// (`quota->sz` 0 is unlimited): written out, it reads as "nothing" and means "everything",
/// and omitting `size` says the same without the ambiguity, so it is refused.
fn size(ctx: &mut Ctx<'_>, bytes: u64, at: &KeyPath) {
    if bytes == 0 {
        ctx.report(
            Diagnostic::error(
                Code::QuotaSize,
                "a size quota of 0 bytes is no limit to the kernel, not a limit of nothing",
            )
            .label("means unlimited")
            .help("omit `size` for no size limit; to keep the scheme from acting, remove it or set the policy's `mode = \"observe\"`"),
            at,
        );
    } else if bytes < PAGE_SIZE {
        ctx.report(
            Diagnostic::warning(
                Code::QuotaSize,
                format!("a size quota of {bytes} bytes is less than one page ({PAGE_SIZE} bytes): the kernel rounds it down to 0 and the scheme never acts"),
            )
            .label("below one page")
            .help("the kernel applies actions to whole pages: write at least \"4KiB\" (sizes without a unit are bytes: \"128MiB\", not 128), or omit `size` for no size limit"),
            at,
        );
    }
}

/// Basis points as the percentage a user writes: 15000 → `150%`, 10050 → `100.5%`.
pub(super) fn percent_of_bp(bp: u64) -> String {
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
    use super::super::tests::findings;

    fn quota(fields: &str) -> Vec<String> {
        findings(&format!(
            "[target]\nprocess = \"a\"\n[[scheme]]\naction = \"pageout\"\nquota = {{ {fields} }}\n"
        ))
    }

    #[test]
    fn size_quotas_are_at_least_a_page_and_never_zero() {
        assert!(quota("size = \"4KiB\"").is_empty());
        assert!(quota("size = 4096").is_empty());
        assert!(quota("size = \"max\"").is_empty());
        assert!(quota("time = \"10ms\"").is_empty());
        assert_eq!(quota("size = 4095"), ["W:quota-size"]);
        assert_eq!(quota("size = \"1KiB\""), ["W:quota-size"]);
        // 0 is no limit to the kernel: omitting `size` says so.
        assert_eq!(quota("size = 0"), ["E:quota-size"]);
        assert_eq!(quota("size = \"min\""), ["E:quota-size"]);
    }

    #[test]
    fn time_quotas_fit_their_reset_interval() {
        assert!(quota("time = \"1s\", reset_interval = \"1s\"").is_empty());
        assert_eq!(quota("time = \"2s\", reset_interval = \"1s\""), ["W:quota-time"]);
        // The default reset interval is 1s.
        assert_eq!(quota("time = \"1500ms\""), ["W:quota-time"]);
    }
}
