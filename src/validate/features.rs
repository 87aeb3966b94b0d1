//! Kernel-feature rules: every field or keyword of a policy that the target kernel lacks is
//! an error naming the release that introduced it, so a policy is refused before any write
//! rather than half-applied. Releases and the names of fields come from the kernel table
//! ([`crate::kernel::features`]) and the keywords' own releases.

use crate::diag::{Code, Diagnostic};
use crate::kernel::{Feature, Ops, Version};
use crate::key_path;
use crate::model::wire as model;
use crate::policy::source::KeyPath;

use super::Ctx;

/// `ops` is `None` when the target does not say which memory is monitored.
pub fn check(ctx: &mut Ctx<'_>, wire: &model::PolicyFile, ops: Option<Ops>, kernel: Version) {
    let need = |ctx: &mut Ctx<'_>, what: String, since: Version, path: KeyPath| {
        if kernel < since {
            ctx.report(
                Diagnostic::error(
                    Code::KernelFeature,
                    format!("{what} needs kernel {since} or later; the target kernel is {kernel}"),
                )
                .label(format!("since {since}"))
                .help("remove it, or target a newer kernel (`--kernel`, or `kernel` in damo-policy.toml)"),
                &path,
            );
        }
    };
    let need_feature = |ctx: &mut Ctx<'_>, feature: Feature, path: KeyPath| {
        need(ctx, feature.described().to_owned(), feature.since(), path);
    };
    if let Some(ops) = ops {
        need(
            ctx,
            format!("operations set `{}`", ops.keyword()),
            ops.since(),
            key_path!["target", "ops"],
        );
    }
    if wire.monitoring.as_ref().is_some_and(|m| m.autotune.is_some()) {
        need_feature(ctx, Feature::IntervalsGoal, key_path!["monitoring", "autotune"]);
    }
    for (i, scheme) in wire.scheme.iter().enumerate() {
        let path = key_path!["scheme", i];
        need(
            ctx,
            format!("action `{}`", scheme.action.keyword()),
            scheme.action.since(),
            path.join("action"),
        );
        if scheme.apply_interval.is_some() {
            need_feature(ctx, Feature::ApplyInterval, path.join("apply_interval"));
        }
        if scheme.target_node.is_some() {
            need_feature(ctx, Feature::TargetNid, path.join("target_node"));
        }
        if scheme.destinations.is_some() {
            need_feature(ctx, Feature::Dests, path.join("destinations"));
        }
        if let Some(quota) = &scheme.quota {
            let qp = path.join("quota");
            for (g, goal) in quota.goals.iter().enumerate() {
                let gp = qp.join("goals").join(g);
                need(
                    ctx,
                    format!("goal metric `{}`", goal.metric.keyword()),
                    goal.metric.since(),
                    gp.join("metric"),
                );
                if goal.node.is_some() {
                    need_feature(ctx, Feature::GoalNid, gp.join("node"));
                }
                if goal.cgroup.is_some() {
                    need_feature(ctx, Feature::GoalPath, gp.join("cgroup"));
                }
            }
            if quota.goal_tuner.is_some() {
                need_feature(ctx, Feature::GoalTuner, qp.join("goal_tuner"));
            }
        }
        for (f, filter) in scheme.filter.iter().enumerate() {
            let fp = path.join("filter").join(f);
            need(
                ctx,
                format!("filter type `{}`", filter.kind.keyword()),
                filter.kind.since(),
                fp.join("type"),
            );
            if filter.allow == Some(true) {
                need_feature(ctx, Feature::FilterAllow, fp.join("allow"));
            }
        }
    }
}
