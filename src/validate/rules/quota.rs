//! Rules of a scheme's `quota`: a reset interval to charge it over, and goals whose
//! arguments and targets the kernel can use.

use std::time::Duration;

use crate::diag::{Code, Diagnostic};
use crate::kernel::{Metric, MetricUnit, Ops};
use crate::model::defaults;
use crate::model::resolved::Scheme;
use crate::model::wire as model;
use crate::policy::source::KeyPath;
use crate::validate::shape;

use super::Ctx;

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
                format!("`{}` is not a target for `{keyword}`", goal.target.0),
            )
            .label(format!("expected {expected}"))
            .help(format!("the target of a `{keyword}` goal is {expected}")),
            &path.join("quota").join("goals").join(g).join("target"),
        );
    }
}

/// `ops` is `None` when the target does not say which memory is monitored.
pub(super) fn check(ctx: &mut Ctx<'_>, ops: Option<Ops>, scheme: &Scheme, path: &KeyPath) {
    let q = &scheme.quota;
    let at = path.join("quota");
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
