//! The fake kernel's own model of DAMON's sysfs tree: the files of every directory an `nr_*`
//! write creates, their fresh values, the release each appeared in, and the keywords each
//! release takes. Written from the kernel's documentation
//! (Documentation/admin-guide/mm/damon/usage.rst) and its sysfs sources (mm/damon/sysfs*.c),
//! not from [`crate::kernel`]: the reconcile tests use `kernel::defaults` as their oracle, so
//! a fake built from it could not disagree with it. The test below compares the two for
//! every release the engine knows, so a wrong default in either fails.

use crate::kernel::Version;

/// The kinds of numbered directories an `nr_*` file creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    Kdamond,
    Context,
    Target,
    Region,
    Scheme,
    Goal,
    Filter,
    Dest,
}

/// A file of a fresh directory.
#[derive(Debug, Clone, Copy)]
struct Fresh {
    /// Its path below the directory.
    leaf: &'static str,
    value: &'static str,
    since: Version,
    /// The directories it creates, if it is an `nr_*` file.
    creates: Option<Dir>,
}

const fn file(leaf: &'static str, value: &'static str, since: Version) -> Fresh {
    Fresh {
        leaf,
        value,
        since,
        creates: None,
    }
}

const fn nr(leaf: &'static str, creates: Dir, since: Version) -> Fresh {
    Fresh {
        leaf,
        value: "0",
        since,
        creates: Some(creates),
    }
}

const V5_18: Version = Version::new(5, 18);
const V5_19: Version = Version::new(5, 19);
const V6_0: Version = Version::new(6, 0);
const V6_3: Version = Version::new(6, 3);
const V6_6: Version = Version::new(6, 6);
const V6_7: Version = Version::new(6, 7);
const V6_8: Version = Version::new(6, 8);
const V6_9: Version = Version::new(6, 9);
const V6_10: Version = Version::new(6, 10);
const V6_11: Version = Version::new(6, 11);
const V6_14: Version = Version::new(6, 14);
const V6_15: Version = Version::new(6, 15);
const V6_16: Version = Version::new(6, 16);
const V6_17: Version = Version::new(6, 17);
const V6_18: Version = Version::new(6, 18);
const V6_19: Version = Version::new(6, 19);
const V7_0: Version = Version::new(7, 0);
const V7_1: Version = Version::new(7, 1);
const V7_2: Version = Version::new(7, 2);

/// From this release a `commit` whose inputs the kernel refuses fails and leaves the kdamond
/// running; before it, the write succeeded and the kdamond terminated.
pub const BAD_COMMIT_REFUSED: Version = V6_15;
/// `update_schemes_tried_regions` and `tried_regions/` entries.
pub const TRIED_REGIONS: Version = Version::new(6, 2);
/// From this release a kdamond whose schemes all wait for their watermarks still handles
/// `commit`; before it, the write blocks until a scheme activates.
pub const COMMIT_WHILE_INACTIVE: Version = V6_16;

/// `admin/`: the one `nr_*` file above every numbered directory.
const ROOT: &[Fresh] = &[nr("kdamonds/nr_kdamonds", Dir::Kdamond, V5_18)];

const KDAMOND: &[Fresh] = &[
    file("state", "off", V5_18),
    file("pid", "-1", V5_18),
    nr("contexts/nr_contexts", Dir::Context, V5_18),
    file("refresh_ms", "0", V6_17),
];

const CONTEXT: &[Fresh] = &[
    file("operations", "vaddr", V5_18),
    // Lists the registered operations sets; all three from the release that added it.
    file("avail_operations", "vaddr\nfvaddr\npaddr", V5_19),
    file("monitoring_attrs/intervals/sample_us", "5000", V5_18),
    file("monitoring_attrs/intervals/aggr_us", "100000", V5_18),
    file("monitoring_attrs/intervals/update_us", "60000000", V5_18),
    file("monitoring_attrs/nr_regions/min", "10", V5_18),
    file("monitoring_attrs/nr_regions/max", "1000", V5_18),
    file("monitoring_attrs/intervals/intervals_goal/access_bp", "0", V6_15),
    file("monitoring_attrs/intervals/intervals_goal/aggrs", "0", V6_15),
    file("monitoring_attrs/intervals/intervals_goal/min_sample_us", "0", V6_15),
    file("monitoring_attrs/intervals/intervals_goal/max_sample_us", "0", V6_15),
    file("addr_unit", "1", V6_18),
    nr("targets/nr_targets", Dir::Target, V5_18),
    nr("schemes/nr_schemes", Dir::Scheme, V5_18),
];

const TARGET: &[Fresh] = &[
    file("pid_target", "0", V5_18),
    nr("regions/nr_regions", Dir::Region, V5_18),
    file("obsolete_target", "N", V6_19),
];

const REGION: &[Fresh] = &[file("start", "0", V5_18), file("end", "0", V5_18)];

const SCHEME: &[Fresh] = &[
    file("action", "stat", V5_18),
    file("access_pattern/sz/min", "0", V5_18),
    file("access_pattern/sz/max", "0", V5_18),
    file("access_pattern/nr_accesses/min", "0", V5_18),
    file("access_pattern/nr_accesses/max", "0", V5_18),
    file("access_pattern/age/min", "0", V5_18),
    file("access_pattern/age/max", "0", V5_18),
    file("quotas/ms", "0", V5_18),
    file("quotas/bytes", "0", V5_18),
    file("quotas/reset_interval_ms", "0", V5_18),
    file("quotas/weights/sz_permil", "0", V5_18),
    file("quotas/weights/nr_accesses_permil", "0", V5_18),
    file("quotas/weights/age_permil", "0", V5_18),
    file("watermarks/metric", "none", V5_18),
    file("watermarks/interval_us", "0", V5_18),
    file("watermarks/high", "0", V5_18),
    file("watermarks/mid", "0", V5_18),
    file("watermarks/low", "0", V5_18),
    file("stats/nr_tried", "0", V5_18),
    file("stats/sz_tried", "0", V5_18),
    file("stats/nr_applied", "0", V5_18),
    file("stats/sz_applied", "0", V5_18),
    file("stats/qt_exceeds", "0", V5_18),
    nr("filters/nr_filters", Dir::Filter, V6_3),
    file("tried_regions/total_bytes", "0", V6_6),
    file("apply_interval_us", "0", V6_7),
    nr("quotas/goals/nr_goals", Dir::Goal, V6_8),
    file("quotas/effective_bytes", "0", V6_9),
    // NUMA_NO_NODE: no node until one is written.
    file("target_nid", "-1", V6_11),
    file("stats/sz_ops_filter_passed", "0", V6_14),
    nr("core_filters/nr_filters", Dir::Filter, V6_15),
    nr("ops_filters/nr_filters", Dir::Filter, V6_15),
    nr("dests/nr_dests", Dir::Dest, V6_17),
    file("stats/nr_snapshots", "0", V7_0),
    file("stats/max_nr_snapshots", "0", V7_0),
    file("quotas/goal_tuner", "consist", V7_1),
    file("quotas/fail_charge_num", "0", V7_2),
    file("quotas/fail_charge_denom", "0", V7_2),
];

const GOAL: &[Fresh] = &[
    file("target_value", "0", V6_8),
    file("current_value", "0", V6_8),
    file("target_metric", "user_input", V6_9),
    file("nid", "0", V6_16),
    file("path", "", V6_19),
];

const FILTER: &[Fresh] = &[
    file("type", "anon", V6_3),
    file("matching", "N", V6_3),
    file("memcg_path", "", V6_3),
    file("addr_start", "0", V6_6),
    file("addr_end", "0", V6_6),
    file("damon_target_idx", "0", V6_6),
    file("allow", "N", V6_14),
    file("min", "0", V6_15),
    file("max", "0", V6_15),
];

const DEST: &[Fresh] = &[file("id", "0", V6_17), file("weight", "0", V6_17)];

impl Dir {
    fn files(self) -> &'static [Fresh] {
        match self {
            Dir::Kdamond => KDAMOND,
            Dir::Context => CONTEXT,
            Dir::Target => TARGET,
            Dir::Region => REGION,
            Dir::Scheme => SCHEME,
            Dir::Goal => GOAL,
            Dir::Filter => FILTER,
            Dir::Dest => DEST,
        }
    }
}

/// The files of a fresh `dir` of release `version`, relative to it, with their values.
pub fn fresh(dir: Dir, version: Version) -> impl Iterator<Item = (&'static str, &'static str)> + Clone {
    dir.files()
        .iter()
        .filter(move |f| f.since <= version)
        .map(|f| (f.leaf, f.value))
}

/// The kind of directories the `nr_*` file at `path` (below `admin/`) creates, found by
/// walking down from `kdamonds/` through the numbered directories of the tree.
pub fn created_by(path: &str) -> Option<Dir> {
    let mut files = ROOT;
    let mut rest = path;
    'down: loop {
        for (leaf, child) in files.iter().filter_map(|f| Some((f.leaf, f.creates?))) {
            if rest == leaf {
                return Some(child);
            }
            let Some((dir, _)) = leaf.rsplit_once('/') else {
                continue;
            };
            let below = rest.strip_prefix(dir).and_then(|r| r.strip_prefix('/'));
            if let Some((index, below)) = below.and_then(|r| r.split_once('/'))
                && index.parse::<usize>().is_ok()
            {
                files = child.files();
                rest = below;
                continue 'down;
            }
        }
        return None;
    }
}

/// The keywords a file takes, each with the release that added it.
pub fn keywords(file: &str, path: &str) -> Option<&'static [(&'static str, Version)]> {
    Some(match file {
        "operations" => &[("vaddr", V5_18), ("fvaddr", V5_19), ("paddr", V5_18)],
        "action" => &[
            ("willneed", V5_18),
            ("cold", V5_18),
            ("pageout", V5_18),
            ("hugepage", V5_18),
            ("nohugepage", V5_18),
            ("collapse", V7_2),
            ("lru_prio", V6_0),
            ("lru_deprio", V6_0),
            ("migrate_hot", V6_11),
            ("migrate_cold", V6_11),
            ("stat", V5_18),
        ],
        // The core layer handles address and target filters, the operations set the others.
        "type" if path.contains("/core_filters/") => CORE_FILTER_TYPES,
        "type" if path.contains("/ops_filters/") => OPS_FILTER_TYPES,
        "type" => &[
            ("anon", V6_3),
            ("memcg", V6_3),
            ("addr", V6_6),
            ("target", V6_6),
            ("young", V6_10),
            ("hugepage_size", V6_15),
            ("unmapped", V6_15),
            ("active", V6_15),
        ],
        "metric" => &[("none", V5_18), ("free_mem_rate", V5_18)],
        "goal_tuner" => &[("consist", V7_1), ("temporal", V7_1)],
        "target_metric" => &[
            ("user_input", V6_9),
            ("some_mem_psi_us", V6_9),
            ("node_mem_used_bp", V6_16),
            ("node_mem_free_bp", V6_16),
            ("node_memcg_used_bp", V6_19),
            ("node_memcg_free_bp", V6_19),
            ("active_mem_bp", V7_0),
            ("inactive_mem_bp", V7_0),
            ("node_eligible_mem_bp", V7_2),
        ],
        _ => return None,
    })
}

const CORE_FILTER_TYPES: &[(&str, Version)] = &[("addr", V6_15), ("target", V6_15)];
const OPS_FILTER_TYPES: &[(&str, Version)] = &[
    ("anon", V6_15),
    ("memcg", V6_15),
    ("young", V6_15),
    ("hugepage_size", V6_15),
    ("unmapped", V6_15),
    ("active", V6_15),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::defaults::{Child, fresh_leaves};
    use crate::kernel::{Layout, releases};

    #[test]
    fn nr_files_name_the_directories_they_create() {
        let scheme = "kdamonds/0/contexts/0/schemes/2";
        assert_eq!(created_by("kdamonds/nr_kdamonds"), Some(Dir::Kdamond));
        assert_eq!(
            created_by("kdamonds/0/contexts/0/targets/1/regions/nr_regions"),
            Some(Dir::Region)
        );
        assert_eq!(created_by(&format!("{scheme}/quotas/goals/nr_goals")), Some(Dir::Goal));
        assert_eq!(
            created_by(&format!("{scheme}/ops_filters/nr_filters")),
            Some(Dir::Filter)
        );
        assert_eq!(created_by(&format!("{scheme}/dests/nr_dests")), Some(Dir::Dest));
        assert_eq!(created_by(&format!("{scheme}/action")), None);
        assert_eq!(
            created_by("kdamonds/0/contexts/0/monitoring_attrs/nr_regions/min"),
            None
        );
        assert_eq!(created_by("kdamonds/x/contexts/nr_contexts"), None);
    }

    /// The engine's defaults and this model agree on every file and value of every fresh
    /// directory of every release the engine knows.
    #[test]
    fn the_engines_defaults_match_this_model_for_every_known_release() {
        let kinds = [
            (Dir::Kdamond, Child::Kdamond),
            (Dir::Context, Child::Context),
            (Dir::Target, Child::Target),
            (Dir::Region, Child::Region),
            (Dir::Scheme, Child::Scheme),
            (Dir::Goal, Child::Goal),
            (Dir::Filter, Child::Filter),
            (Dir::Dest, Child::Dest),
        ];
        // Whether release `version` has an `nr_*` file creating `dir` at all.
        let created = |dir: Dir, version: Version| {
            kinds
                .iter()
                .flat_map(|(parent, _)| parent.files())
                .chain(ROOT)
                .any(|f| f.creates == Some(dir) && f.since <= version)
        };
        for version in releases::known() {
            for (dir, child) in kinds.into_iter().filter(|(dir, _)| created(*dir, version)) {
                let mut model: Vec<(String, String)> = fresh(dir, version)
                    .map(|(leaf, value)| (leaf.into(), value.into()))
                    .collect();
                let mut engine = fresh_leaves(Layout::new(version), child);
                model.sort();
                engine.sort();
                assert_eq!(
                    engine, model,
                    "{dir:?} of {version}: the engine's defaults, then the model's"
                );
            }
        }
    }
}
