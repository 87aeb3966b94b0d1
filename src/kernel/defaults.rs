//! What DAMON's sysfs files hold right after an `nr_*` write creates their directory.
//!
//! Every `nr_*` write replaces its children with fresh ones holding the kernel's defaults.
//! The planner leaves a fresh file alone when the desired value is its default (writing it
//! would change nothing, and damo's staging does not write it either). The fake kernel has
//! a table of its own, written from the kernel's documentation, and a test holds the two
//! equal. The apply's read-back checks every desired file, so a default that some kernel
//! does not share is reported, never silently kept.

use super::{Feature, Layout};
use crate::compile::file::File;

/// The kinds of numbered directories an `nr_*` file creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Child {
    Kdamond,
    Context,
    Target,
    Region,
    Scheme,
    Goal,
    Filter,
    Dest,
}

fn leaves(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

/// The files of a fresh `child` directory, relative to it, with their values.
pub fn fresh_leaves(layout: Layout, child: Child) -> Vec<(String, String)> {
    match child {
        Child::Kdamond => {
            let mut out = leaves(&[("state", "off"), ("pid", "-1"), ("contexts/nr_contexts", "0")]);
            if layout.has(Feature::RefreshMs) {
                out.extend(leaves(&[("refresh_ms", "0")]));
            }
            out
        }
        Child::Context => context(layout),
        Child::Target => {
            let mut out = leaves(&[("pid_target", "0"), ("regions/nr_regions", "0")]);
            if layout.has(Feature::ObsoleteTarget) {
                out.extend(leaves(&[("obsolete_target", "N")]));
            }
            out
        }
        Child::Region => leaves(&[("start", "0"), ("end", "0")]),
        Child::Scheme => scheme(layout),
        Child::Goal => goal(layout),
        Child::Filter => filter(layout),
        Child::Dest => leaves(&[("id", "0"), ("weight", "0")]),
    }
}

fn context(layout: Layout) -> Vec<(String, String)> {
    let mut out = leaves(&[
        ("operations", "vaddr"),
        ("monitoring_attrs/intervals/sample_us", "5000"),
        ("monitoring_attrs/intervals/aggr_us", "100000"),
        ("monitoring_attrs/intervals/update_us", "60000000"),
        ("monitoring_attrs/nr_regions/min", "10"),
        ("monitoring_attrs/nr_regions/max", "1000"),
        ("targets/nr_targets", "0"),
        ("schemes/nr_schemes", "0"),
    ]);
    if layout.has(Feature::AvailOperations) {
        out.extend(leaves(&[("avail_operations", "vaddr\nfvaddr\npaddr")]));
    }
    if layout.has(Feature::AddrUnit) {
        out.extend(leaves(&[("addr_unit", "1")]));
    }
    if layout.has(Feature::IntervalsGoal) {
        for leaf in ["access_bp", "aggrs", "min_sample_us", "max_sample_us"] {
            out.push((format!("monitoring_attrs/intervals/intervals_goal/{leaf}"), "0".into()));
        }
    }
    out
}

fn scheme(layout: Layout) -> Vec<(String, String)> {
    let mut out = leaves(&[
        ("action", "stat"),
        ("quotas/ms", "0"),
        ("quotas/bytes", "0"),
        ("quotas/reset_interval_ms", "0"),
        ("quotas/weights/sz_permil", "0"),
        ("quotas/weights/nr_accesses_permil", "0"),
        ("quotas/weights/age_permil", "0"),
        ("watermarks/metric", "none"),
        ("watermarks/interval_us", "0"),
        ("watermarks/high", "0"),
        ("watermarks/mid", "0"),
        ("watermarks/low", "0"),
        ("stats/nr_tried", "0"),
        ("stats/sz_tried", "0"),
        ("stats/nr_applied", "0"),
        ("stats/sz_applied", "0"),
        ("stats/qt_exceeds", "0"),
    ]);
    for dir in ["sz", "nr_accesses", "age"] {
        out.push((format!("access_pattern/{dir}/min"), "0".into()));
        out.push((format!("access_pattern/{dir}/max"), "0".into()));
    }
    let optional: [(Feature, &[(&str, &str)]); 12] = [
        (Feature::TriedBytes, &[("tried_regions/total_bytes", "0")]),
        (Feature::ApplyInterval, &[("apply_interval_us", "0")]),
        (Feature::TargetNid, &[("target_nid", "-1")]),
        (Feature::QuotaGoals, &[("quotas/goals/nr_goals", "0")]),
        (Feature::EffectiveQuota, &[("quotas/effective_bytes", "0")]),
        (Feature::GoalTuner, &[("quotas/goal_tuner", "consist")]),
        (Feature::Filters, &[("filters/nr_filters", "0")]),
        (
            Feature::SplitFilterDirs,
            &[("core_filters/nr_filters", "0"), ("ops_filters/nr_filters", "0")],
        ),
        (Feature::Dests, &[("dests/nr_dests", "0")]),
        (Feature::OpsFilterPassedStat, &[("stats/sz_ops_filter_passed", "0")]),
        (
            Feature::Snapshots,
            &[("stats/nr_snapshots", "0"), ("stats/max_nr_snapshots", "0")],
        ),
        (
            Feature::FailCharge,
            &[("quotas/fail_charge_num", "0"), ("quotas/fail_charge_denom", "0")],
        ),
    ];
    for (feature, files) in optional {
        if layout.has(feature) {
            out.extend(leaves(files));
        }
    }
    out
}

fn goal(layout: Layout) -> Vec<(String, String)> {
    let mut out = leaves(&[("target_value", "0"), ("current_value", "0")]);
    if layout.has(Feature::GoalMetric) {
        out.extend(leaves(&[("target_metric", "user_input")]));
    }
    if layout.has(Feature::GoalNid) {
        out.extend(leaves(&[("nid", "0")]));
    }
    if layout.has(Feature::GoalPath) {
        out.extend(leaves(&[("path", "")]));
    }
    out
}

fn filter(layout: Layout) -> Vec<(String, String)> {
    let mut out = leaves(&[("type", "anon"), ("matching", "N"), ("memcg_path", "")]);
    if layout.has(Feature::AddrFilter) {
        out.extend(leaves(&[
            ("addr_start", "0"),
            ("addr_end", "0"),
            ("damon_target_idx", "0"),
        ]));
    }
    if layout.has(Feature::FilterAllow) {
        out.extend(leaves(&[("allow", "N")]));
    }
    if layout.has(Feature::SplitFilterDirs) {
        out.extend(leaves(&[("min", "0"), ("max", "0")]));
    }
    out
}

/// The value `file` holds when its numbered directory was just created; `None` for files
/// no `nr_*` write creates (`kdamonds/nr_kdamonds`) and files this layout does not have.
pub fn fresh_value(layout: Layout, file: File) -> Option<String> {
    let child = file.node.kind()?;
    fresh_leaves(layout, child)
        .into_iter()
        .find(|(name, _)| name == file.leaf)
        .map(|(_, value)| value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::file::Node;
    use crate::kernel::Version;

    const V6_12: Layout = Layout {
        version: Version::new(6, 12),
    };

    #[test]
    fn fresh_values_come_from_the_directory_of_the_file() {
        let scheme = Node::Scheme { kdamond: 0, scheme: 3 };
        let at = |node, leaf| fresh_value(V6_12, File { node, leaf });
        assert_eq!(at(scheme, "target_nid").as_deref(), Some("-1"));
        assert_eq!(at(scheme, "quotas/goals/nr_goals").as_deref(), Some("0"));
        let goal = Node::Goal {
            kdamond: 0,
            scheme: 3,
            goal: 0,
        };
        assert_eq!(at(goal, "target_metric").as_deref(), Some("user_input"));
        assert_eq!(
            at(Node::Target { kdamond: 1, target: 0 }, "pid_target").as_deref(),
            Some("0")
        );
        let context = Node::Context { kdamond: 1 };
        assert_eq!(at(context, "monitoring_attrs/nr_regions/min").as_deref(), Some("10"));
        assert_eq!(
            at(Node::Kdamond { kdamond: 1 }, "contexts/nr_contexts").as_deref(),
            Some("0")
        );
        // Files of later releases are no defaults of 6.12.
        assert_eq!(at(context, "addr_unit"), None);
        assert_eq!(fresh_value(V6_12, File::NR_KDAMONDS), None);
    }
}
