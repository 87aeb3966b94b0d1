//! What DAMON's sysfs files hold right after an `nr_*` write creates their directory.
//!
//! Every `nr_*` write replaces its children with fresh ones holding the kernel's defaults.
//! The planner leaves a fresh file alone when the desired value is its default (writing it
//! would change nothing, and damo's staging does not write it either); the fake kernel
//! creates its directories from the same table. The apply's read-back checks every desired
//! file, so a default that some kernel does not share is reported, never silently kept.

use super::{Feature, Layout};

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

impl Child {
    /// The children a directory named `dir` holds, below `parent` (its own parent's name).
    fn of_dir(parent: Option<&str>, dir: &str) -> Option<Child> {
        Some(match dir {
            "kdamonds" => Child::Kdamond,
            "contexts" => Child::Context,
            "targets" => Child::Target,
            // `tried_regions/` of a scheme are the kernel's, not created by a count.
            "regions" if parent.is_some_and(|p| p.parse::<usize>().is_ok()) => Child::Region,
            "schemes" => Child::Scheme,
            "goals" => Child::Goal,
            "filters" | "core_filters" | "ops_filters" => Child::Filter,
            "dests" => Child::Dest,
            _ => return None,
        })
    }

    /// The children the `nr_*` file at `path` creates, if it is one.
    pub fn of_nr_file(path: &str) -> Option<Child> {
        let (dir, file) = path.rsplit_once('/')?;
        if !file.starts_with("nr_") {
            return None;
        }
        let mut segments = dir.rsplit('/');
        let name = segments.next()?;
        Child::of_dir(segments.next(), name)
    }
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

/// The value the file at `path` (relative to the sysfs root) holds when the numbered
/// directory nearest above it was just created; `None` for files no `nr_*` write creates.
pub fn fresh_value(layout: Layout, path: &str) -> Option<String> {
    let segments: Vec<&str> = path.split('/').collect();
    let child_at = (1..segments.len().saturating_sub(1)).rev().find(|&i| {
        segments[i].parse::<usize>().is_ok()
            && Child::of_dir(i.checked_sub(2).map(|p| segments[p]), segments[i - 1]).is_some()
    })?;
    let child = Child::of_dir(child_at.checked_sub(2).map(|p| segments[p]), segments[child_at - 1])?;
    let leaf = segments[child_at + 1..].join("/");
    fresh_leaves(layout, child)
        .into_iter()
        .find(|(name, _)| *name == leaf)
        .map(|(_, value)| value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::Version;

    const V6_12: Layout = Layout {
        version: Version::new(6, 12),
    };

    #[test]
    fn nr_files_name_their_children() {
        assert_eq!(Child::of_nr_file("kdamonds/nr_kdamonds"), Some(Child::Kdamond));
        assert_eq!(
            Child::of_nr_file("kdamonds/0/contexts/0/targets/1/regions/nr_regions"),
            Some(Child::Region)
        );
        assert_eq!(
            Child::of_nr_file("kdamonds/0/contexts/0/schemes/2/quotas/goals/nr_goals"),
            Some(Child::Goal)
        );
        assert_eq!(
            Child::of_nr_file("kdamonds/0/contexts/0/schemes/2/ops_filters/nr_filters"),
            Some(Child::Filter)
        );
        assert_eq!(Child::of_nr_file("kdamonds/0/contexts/0/schemes/2/action"), None);
        assert_eq!(
            Child::of_nr_file("kdamonds/0/contexts/0/monitoring_attrs/nr_regions/min"),
            None
        );
    }

    #[test]
    fn fresh_values_come_from_the_nearest_numbered_directory() {
        let scheme = "kdamonds/0/contexts/0/schemes/3";
        assert_eq!(
            fresh_value(V6_12, &format!("{scheme}/target_nid")).as_deref(),
            Some("-1")
        );
        assert_eq!(
            fresh_value(V6_12, &format!("{scheme}/quotas/goals/nr_goals")).as_deref(),
            Some("0")
        );
        assert_eq!(
            fresh_value(V6_12, &format!("{scheme}/quotas/goals/0/target_metric")).as_deref(),
            Some("user_input")
        );
        assert_eq!(
            fresh_value(V6_12, "kdamonds/1/contexts/0/targets/0/pid_target").as_deref(),
            Some("0")
        );
        assert_eq!(
            fresh_value(V6_12, "kdamonds/1/contexts/0/monitoring_attrs/nr_regions/min").as_deref(),
            Some("10")
        );
        assert_eq!(
            fresh_value(V6_12, "kdamonds/1/contexts/nr_contexts").as_deref(),
            Some("0")
        );
        // Files of later releases are no defaults of 6.12.
        assert_eq!(fresh_value(V6_12, "kdamonds/1/contexts/0/addr_unit"), None);
        assert_eq!(fresh_value(V6_12, "kdamonds/nr_kdamonds"), None);
    }
}
