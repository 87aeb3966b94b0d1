//! The kernel table: every DAMON sysfs feature the engine knows, with the release that added
//! it, the file whose presence proves it on a live kernel, and the policy keys it enables.
//!
//! Everything else is derived from this one table: [`super::Layout::has`] (which files the
//! compiler writes and which defaults a fresh directory holds), the probe's evidence list,
//! the policy fields `damo-policy kernel` lists, and how validation names a field the target
//! kernel lacks. A release that adds a sysfs file is one new row here.

use super::Version;

/// A policy key a feature enables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolicyKey {
    /// The key as `damo-policy kernel` lists it, e.g. `scheme.apply_interval`.
    pub key: &'static str,
    /// How a finding names it, e.g. "`apply_interval`".
    pub described: &'static str,
}

/// One row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeatureInfo {
    pub feature: Feature,
    /// The first release with it.
    pub since: Version,
    /// A file or directory, relative to a kdamond's directory, whose presence proves it.
    /// Paths below `schemes/0/quotas/goals/0` need a goal, which a probe stages only on an
    /// idle kernel.
    pub evidence: &'static str,
    /// The policy keys it enables. Filter types, goal metrics and actions are judged by their
    /// keyword's own release ([`super::keywords`]), so `scheme.filter` and
    /// `scheme.quota.goals` are listed here only to be shown.
    pub keys: &'static [PolicyKey],
}

const fn key(key: &'static str, described: &'static str) -> PolicyKey {
    PolicyKey { key, described }
}

/// Declares [`Feature`] and [`FEATURES`] from one list, so that the enum and its rows cannot
/// disagree: row `i` is the `i`-th variant.
macro_rules! feature_table {
    ($( $(#[doc = $doc:literal])* $name:ident: ($major:literal, $minor:literal), $evidence:literal, [$($key:expr),*]; )*) => {
        /// DAMON sysfs files and directories, by the release that added them.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Feature {
            $( $(#[doc = $doc])* $name, )*
        }

        /// The table, oldest release first.
        pub const FEATURES: &[FeatureInfo] = &[
            $( FeatureInfo {
                feature: Feature::$name,
                since: Version::new($major, $minor),
                evidence: $evidence,
                keys: &[$($key),*],
            }, )*
        ];
    };
}

feature_table! {
    /// The sysfs interface itself: kdamonds, contexts, targets, regions and schemes.
    Sysfs: (5, 18), "contexts/0/schemes/0/action", [];
    /// `avail_operations` of a context.
    AvailOperations: (5, 19), "contexts/0/avail_operations", [];
    /// `filters/` of a scheme: filters with `type`, `matching` and `memcg_path`.
    Filters: (6, 3), "contexts/0/schemes/0/filters", [key("scheme.filter", "a filter")];
    /// `tried_regions/total_bytes` of a scheme. (`tried_regions/` itself is of 6.2, but it is
    /// empty until asked for, so its presence proves nothing a fresh tree can show.)
    TriedBytes: (6, 6), "contexts/0/schemes/0/tried_regions/total_bytes", [];
    /// `addr_start`, `addr_end` and `damon_target_idx` of a filter.
    AddrFilter: (6, 6), "contexts/0/schemes/0/filters/0/damon_target_idx", [];
    /// `apply_interval_us` of a scheme.
    ApplyInterval: (6, 7), "contexts/0/schemes/0/apply_interval_us",
        [key("scheme.apply_interval", "`apply_interval`")];
    /// `quotas/goals/` of a scheme, goals with `target_value` and `current_value`.
    QuotaGoals: (6, 8), "contexts/0/schemes/0/quotas/goals", [];
    /// `quotas/effective_bytes` of a scheme.
    EffectiveQuota: (6, 9), "contexts/0/schemes/0/quotas/effective_bytes", [];
    /// `target_metric` of a quota goal.
    GoalMetric: (6, 9), "contexts/0/schemes/0/quotas/goals/0/target_metric",
        [key("scheme.quota.goals", "a quota goal")];
    /// `target_nid` of a scheme.
    TargetNid: (6, 11), "contexts/0/schemes/0/target_nid", [key("scheme.target_node", "`target_node`")];
    /// `stats/sz_ops_filter_passed` of a scheme.
    OpsFilterPassedStat: (6, 14), "contexts/0/schemes/0/stats/sz_ops_filter_passed", [];
    /// `allow` of a filter.
    FilterAllow: (6, 14), "contexts/0/schemes/0/filters/0/allow",
        [key("scheme.filter.allow = true", "`allow = true` (filters that allow)")];
    /// `core_filters/` and `ops_filters/` of a scheme, and `min`/`max` of a filter.
    SplitFilterDirs: (6, 15), "contexts/0/schemes/0/core_filters", [];
    /// `monitoring_attrs/intervals/intervals_goal/` of a context.
    IntervalsGoal: (6, 15), "contexts/0/monitoring_attrs/intervals/intervals_goal",
        [key("monitoring.autotune", "interval autotuning")];
    /// `nid` of a quota goal.
    GoalNid: (6, 16), "contexts/0/schemes/0/quotas/goals/0/nid", [key("scheme.quota.goals.node", "a goal's `node`")];
    /// `dests/` of a scheme.
    Dests: (6, 17), "contexts/0/schemes/0/dests", [key("scheme.destinations", "`destinations`")];
    /// `refresh_ms` of a kdamond.
    RefreshMs: (6, 17), "refresh_ms", [];
    /// `addr_unit` of a context.
    AddrUnit: (6, 18), "contexts/0/addr_unit", [];
    /// `obsolete_target` of a target.
    ObsoleteTarget: (6, 19), "contexts/0/targets/0/obsolete_target", [];
    /// `path` of a quota goal.
    GoalPath: (6, 19), "contexts/0/schemes/0/quotas/goals/0/path",
        [key("scheme.quota.goals.cgroup", "a goal's `cgroup`")];
    /// `stats/nr_snapshots` and `stats/max_nr_snapshots` of a scheme.
    Snapshots: (7, 0), "contexts/0/schemes/0/stats/max_nr_snapshots", [];
    /// `quotas/goal_tuner` of a scheme.
    GoalTuner: (7, 1), "contexts/0/schemes/0/quotas/goal_tuner", [key("scheme.quota.goal_tuner", "`goal_tuner`")];
    /// `quotas/fail_charge_num` and `quotas/fail_charge_denom` of a scheme.
    FailCharge: (7, 2), "contexts/0/schemes/0/quotas/fail_charge_denom", [];
}

impl Feature {
    /// Its row of [`FEATURES`].
    pub const fn info(self) -> &'static FeatureInfo {
        // In bounds: the table has one row per variant, in variant order (`feature_table!`).
        &FEATURES[self as usize]
    }

    pub const fn since(self) -> Version {
        self.info().since
    }

    /// How a finding names the policy field it enables; a feature that enables none is named
    /// by its evidence file.
    pub fn described(self) -> &'static str {
        self.info()
            .keys
            .first()
            .map_or(self.info().evidence, |key| key.described)
    }
}

/// The policy keys the features enable, oldest release first.
pub fn policy_keys() -> impl Iterator<Item = (&'static PolicyKey, Version)> {
    FEATURES
        .iter()
        .flat_map(|info| info.keys.iter().map(move |key| (key, info.since)))
}

/// The evidence files, newest release first: the order a probe looks for them in.
pub fn evidence_newest_first() -> Vec<(&'static str, Version)> {
    let mut out: Vec<(&str, Version)> = FEATURES.iter().map(|info| (info.evidence, info.since)).collect();
    out.sort_by_key(|(_, since)| std::cmp::Reverse(*since));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_follow_the_variants_oldest_release_first() {
        for (i, info) in FEATURES.iter().enumerate() {
            assert_eq!(info.feature as usize, i);
            assert_eq!(info.feature.info(), info);
        }
        assert!(FEATURES.windows(2).all(|pair| pair[0].since <= pair[1].since));
        assert_eq!(FEATURES[0].since, Version::OLDEST_SUPPORTED);
        assert!(FEATURES.iter().all(|info| info.since <= Version::NEWEST_KNOWN));
    }

    #[test]
    fn evidence_is_newest_first_and_one_file_each() {
        let evidence = evidence_newest_first();
        assert_eq!(evidence.len(), FEATURES.len());
        assert!(evidence.windows(2).all(|pair| pair[0].1 >= pair[1].1));
        let mut paths: Vec<&str> = evidence.iter().map(|(path, _)| *path).collect();
        paths.sort_unstable();
        paths.dedup();
        assert_eq!(paths.len(), FEATURES.len(), "two features share an evidence file");
    }

    #[test]
    fn findings_name_the_key_a_feature_enables() {
        assert_eq!(Feature::ApplyInterval.described(), "`apply_interval`");
        assert_eq!(Feature::GoalPath.since(), Version::new(6, 19));
        let keys: Vec<&str> = policy_keys().map(|(key, _)| key.key).collect();
        assert_eq!(keys.first(), Some(&"scheme.filter"));
        assert_eq!(keys.last(), Some(&"scheme.quota.goal_tuner"));
    }
}
