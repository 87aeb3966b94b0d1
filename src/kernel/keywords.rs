//! The DAMON keywords a policy names: operations sets, actions, filter types, quota-goal
//! metrics, goal tuners and watermark metrics — with the kernel release that introduced each
//! and the operations sets that implement it. Written once here; the policy model and the
//! compiler use these types directly, so the keyword a user writes is the kernel's keyword.
//! Each enum lists its values in `ALL` and parses its keyword with `FromStr`, so readers of
//! other tools' files and of the kernel's own files need no list of their own.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Version;

/// A word that is not a keyword of its kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{found}`")]
pub struct UnknownKeyword {
    /// What the word was meant to name, e.g. "operations set".
    pub what: &'static str,
    pub found: String,
}

/// `a, b and c`: keywords as a message lists them.
pub fn and_list<'a>(words: impl IntoIterator<Item = &'a str>) -> String {
    let words: Vec<&str> = words.into_iter().collect();
    match words.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        Some((last, _)) => (*last).to_owned(),
        None => String::new(),
    }
}

/// `FromStr` by the enum's `ALL` and `keyword()`, and its keywords in `ALL`'s order.
macro_rules! keyword_enum {
    ($ty:ident, $what:literal) => {
        impl $ty {
            /// Its keywords, in the order of `ALL`.
            pub fn keywords() -> impl Iterator<Item = &'static str> {
                Self::ALL.iter().map(|value| value.keyword())
            }
        }

        impl std::str::FromStr for $ty {
            type Err = UnknownKeyword;

            fn from_str(text: &str) -> Result<Self, UnknownKeyword> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|value| value.keyword() == text)
                    .ok_or_else(|| UnknownKeyword {
                        what: $what,
                        found: text.to_owned(),
                    })
            }
        }
    };
}

/// DAMON operations set (`contexts/<C>/operations`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Ops {
    /// Virtual address spaces of processes; regions follow their mappings.
    Vaddr,
    /// Fixed virtual address ranges of processes (kernel 5.19+).
    Fvaddr,
    /// Physical memory.
    Paddr,
}

impl Ops {
    pub const ALL: &[Ops] = &[Ops::Vaddr, Ops::Fvaddr, Ops::Paddr];

    pub fn keyword(self) -> &'static str {
        match self {
            Ops::Vaddr => "vaddr",
            Ops::Fvaddr => "fvaddr",
            Ops::Paddr => "paddr",
        }
    }

    pub fn since(self) -> Version {
        match self {
            Ops::Vaddr | Ops::Paddr => Version::new(5, 18),
            Ops::Fvaddr => Version::new(5, 19),
        }
    }

    pub fn is_virtual(self) -> bool {
        !matches!(self, Ops::Paddr)
    }
}

/// DAMOS action applied to memory regions that match the access pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Advise the kernel to prefetch the region (MADV_WILLNEED). vaddr/fvaddr.
    Willneed,
    /// Advise the kernel the region is cold (MADV_COLD). vaddr/fvaddr.
    Cold,
    /// Reclaim the region (MADV_PAGEOUT / page reclaim). All operations sets.
    Pageout,
    /// Use transparent huge pages for the region (MADV_HUGEPAGE). vaddr/fvaddr.
    Hugepage,
    /// Stop using transparent huge pages for the region (MADV_NOHUGEPAGE). vaddr/fvaddr.
    Nohugepage,
    /// Prioritise the region on the LRU lists (kernel 6.0+). paddr.
    LruPrio,
    /// Deprioritise the region on the LRU lists (kernel 6.0+). paddr.
    LruDeprio,
    /// Migrate hot regions to the destination node(s) (kernel 6.11+).
    MigrateHot,
    /// Migrate cold regions to the destination node(s) (kernel 6.11+).
    MigrateCold,
    /// Collapse the region into huge pages synchronously (kernel 7.2+). vaddr/fvaddr.
    Collapse,
    /// Do nothing but count the regions in the scheme's statistics.
    Stat,
}

impl Action {
    pub const ALL: &[Action] = &[
        Action::Willneed,
        Action::Cold,
        Action::Pageout,
        Action::Hugepage,
        Action::Nohugepage,
        Action::LruPrio,
        Action::LruDeprio,
        Action::MigrateHot,
        Action::MigrateCold,
        Action::Collapse,
        Action::Stat,
    ];

    pub fn keyword(self) -> &'static str {
        match self {
            Action::Willneed => "willneed",
            Action::Cold => "cold",
            Action::Pageout => "pageout",
            Action::Hugepage => "hugepage",
            Action::Nohugepage => "nohugepage",
            Action::LruPrio => "lru_prio",
            Action::LruDeprio => "lru_deprio",
            Action::MigrateHot => "migrate_hot",
            Action::MigrateCold => "migrate_cold",
            Action::Collapse => "collapse",
            Action::Stat => "stat",
        }
    }

    pub fn since(self) -> Version {
        match self {
            Action::LruPrio | Action::LruDeprio => Version::new(6, 0),
            Action::MigrateHot | Action::MigrateCold => Version::new(6, 11),
            Action::Collapse => Version::new(7, 2),
            _ => Version::new(5, 18),
        }
    }

    /// The operations sets that implement the action; the kernel accepts the others but
    /// never applies the action there.
    pub fn implemented_by(self) -> &'static [Ops] {
        const VIRTUAL: &[Ops] = &[Ops::Vaddr, Ops::Fvaddr];
        const ALL: &[Ops] = &[Ops::Vaddr, Ops::Fvaddr, Ops::Paddr];
        match self {
            Action::Willneed | Action::Cold | Action::Hugepage | Action::Nohugepage | Action::Collapse => VIRTUAL,
            Action::LruPrio | Action::LruDeprio => &[Ops::Paddr],
            Action::Pageout | Action::MigrateHot | Action::MigrateCold | Action::Stat => ALL,
        }
    }

    pub fn is_migration(self) -> bool {
        matches!(self, Action::MigrateHot | Action::MigrateCold)
    }
}

/// DAMOS filter type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FilterType {
    /// Anonymous pages (kernel 6.3+).
    Anon,
    /// Pages of a memory cgroup; needs `cgroup` (kernel 6.3+).
    Memcg,
    /// Pages accessed since the last check (kernel 6.10+).
    Young,
    /// Folios whose size is within `min`..`max` (kernel 6.15+).
    HugepageSize,
    /// Pages not mapped to any process (kernel 6.15+).
    Unmapped,
    /// Pages on the active LRU list (kernel 6.15+).
    Active,
    /// An address range `start`..`end` (kernel 6.6+).
    Addr,
    /// A DAMON target, by its index in the policy's targets (kernel 6.6+).
    Target,
}

impl FilterType {
    pub const ALL: &[FilterType] = &[
        FilterType::Anon,
        FilterType::Memcg,
        FilterType::Young,
        FilterType::HugepageSize,
        FilterType::Unmapped,
        FilterType::Active,
        FilterType::Addr,
        FilterType::Target,
    ];

    pub fn keyword(self) -> &'static str {
        match self {
            FilterType::Anon => "anon",
            FilterType::Memcg => "memcg",
            FilterType::Young => "young",
            FilterType::HugepageSize => "hugepage_size",
            FilterType::Unmapped => "unmapped",
            FilterType::Active => "active",
            FilterType::Addr => "addr",
            FilterType::Target => "target",
        }
    }

    pub fn since(self) -> Version {
        match self {
            FilterType::Anon | FilterType::Memcg => Version::new(6, 3),
            FilterType::Addr | FilterType::Target => Version::new(6, 6),
            FilterType::Young => Version::new(6, 10),
            FilterType::HugepageSize | FilterType::Unmapped | FilterType::Active => Version::new(6, 15),
        }
    }

    /// Core filters are evaluated by DAMON's core for every operations set; the others are
    /// evaluated by the operations set (`ops_filters/` since 6.15), which only paddr does.
    pub fn is_core(self) -> bool {
        matches!(self, FilterType::Addr | FilterType::Target)
    }
}

/// Metric a quota goal steers towards (`quotas/goals/<G>/target_metric`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// A value the user feeds at run time; `target` is a plain integer.
    UserInput,
    /// System "some" memory pressure stall time per reset interval; `target` is a duration.
    SomeMemPsiUs,
    /// Used memory of NUMA `node`; `target` is a percentage (kernel 6.16+).
    NodeMemUsedBp,
    /// Free memory of NUMA `node`; `target` is a percentage (kernel 6.16+).
    NodeMemFreeBp,
    /// Memory of `cgroup` used on NUMA `node`; `target` is a percentage (kernel 6.19+).
    NodeMemcgUsedBp,
    /// Memory of NUMA `node` free for `cgroup`; `target` is a percentage (kernel 6.19+).
    NodeMemcgFreeBp,
    /// Active share of LRU memory; `target` is a percentage (kernel 7.0+).
    ActiveMemBp,
    /// Inactive share of LRU memory; `target` is a percentage (kernel 7.0+).
    InactiveMemBp,
    /// Pattern-eligible memory of NUMA `node`, paddr only; `target` is a percentage (7.2+).
    NodeEligibleMemBp,
}

/// What a goal metric's `target` is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricUnit {
    Integer,
    Microseconds,
    BasisPoints,
}

impl Metric {
    pub const ALL: &[Metric] = &[
        Metric::UserInput,
        Metric::SomeMemPsiUs,
        Metric::NodeMemUsedBp,
        Metric::NodeMemFreeBp,
        Metric::NodeMemcgUsedBp,
        Metric::NodeMemcgFreeBp,
        Metric::ActiveMemBp,
        Metric::InactiveMemBp,
        Metric::NodeEligibleMemBp,
    ];

    pub fn keyword(self) -> &'static str {
        match self {
            Metric::UserInput => "user_input",
            Metric::SomeMemPsiUs => "some_mem_psi_us",
            Metric::NodeMemUsedBp => "node_mem_used_bp",
            Metric::NodeMemFreeBp => "node_mem_free_bp",
            Metric::NodeMemcgUsedBp => "node_memcg_used_bp",
            Metric::NodeMemcgFreeBp => "node_memcg_free_bp",
            Metric::ActiveMemBp => "active_mem_bp",
            Metric::InactiveMemBp => "inactive_mem_bp",
            Metric::NodeEligibleMemBp => "node_eligible_mem_bp",
        }
    }

    pub fn since(self) -> Version {
        match self {
            Metric::UserInput | Metric::SomeMemPsiUs => Version::new(6, 9),
            Metric::NodeMemUsedBp | Metric::NodeMemFreeBp => Version::new(6, 16),
            Metric::NodeMemcgUsedBp | Metric::NodeMemcgFreeBp => Version::new(6, 19),
            Metric::ActiveMemBp | Metric::InactiveMemBp => Version::new(7, 0),
            Metric::NodeEligibleMemBp => Version::new(7, 2),
        }
    }

    pub fn unit(self) -> MetricUnit {
        match self {
            Metric::UserInput => MetricUnit::Integer,
            Metric::SomeMemPsiUs => MetricUnit::Microseconds,
            _ => MetricUnit::BasisPoints,
        }
    }

    pub fn needs_node(self) -> bool {
        matches!(
            self,
            Metric::NodeMemUsedBp
                | Metric::NodeMemFreeBp
                | Metric::NodeMemcgUsedBp
                | Metric::NodeMemcgFreeBp
                | Metric::NodeEligibleMemBp
        )
    }

    pub fn needs_cgroup(self) -> bool {
        matches!(self, Metric::NodeMemcgUsedBp | Metric::NodeMemcgFreeBp)
    }
}

/// How the kernel tunes the effective quota towards its goals (`quotas/goal_tuner`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GoalTuner {
    /// Proportional feedback that keeps adjusting continuously (the kernel's default).
    Consist,
    /// Full speed until the goal is reached, then stop (kernel 7.1+).
    Temporal,
}

impl GoalTuner {
    pub const ALL: &[GoalTuner] = &[GoalTuner::Consist, GoalTuner::Temporal];

    pub fn keyword(self) -> &'static str {
        match self {
            GoalTuner::Consist => "consist",
            GoalTuner::Temporal => "temporal",
        }
    }
}

/// Metric the watermarks compare against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WatermarkMetric {
    /// Free memory of the system in permil of total memory.
    FreeMemRate,
}

impl WatermarkMetric {
    pub const ALL: &[WatermarkMetric] = &[WatermarkMetric::FreeMemRate];

    pub fn keyword(self) -> &'static str {
        match self {
            WatermarkMetric::FreeMemRate => "free_mem_rate",
        }
    }
}

/// What a scheme's watermarks make of it at the metric's current value, as far as user
/// space can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activity {
    Active,
    Inactive,
    /// Between `mid` and `high` a scheme stays as it was, which user space cannot see.
    Unknown,
}

/// The kernel deactivates a scheme above `high` and below `low`, and activates it from
/// `low` up to (not including) `mid`.
pub fn watermark_activity(value: u64, high: u64, mid: u64, low: u64) -> Activity {
    if value > high || value < low {
        Activity::Inactive
    } else if value < mid {
        Activity::Active
    } else {
        Activity::Unknown
    }
}

keyword_enum!(Ops, "operations set");
keyword_enum!(Action, "action");
keyword_enum!(FilterType, "filter type");
keyword_enum!(Metric, "goal metric");
keyword_enum!(GoalTuner, "goal tuner");
keyword_enum!(WatermarkMetric, "watermark metric");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watermarks_switch_schemes_as_the_kernel_does() {
        // high 200‰, mid 150‰, low 50‰
        let at = |value| watermark_activity(value, 200, 150, 50);
        assert_eq!(at(201), Activity::Inactive);
        assert_eq!(at(49), Activity::Inactive);
        assert_eq!(at(50), Activity::Active);
        assert_eq!(at(149), Activity::Active);
        assert_eq!(at(150), Activity::Unknown);
        assert_eq!(at(200), Activity::Unknown);
    }

    /// The keywords the JSON schema derives from the variants: every one of them.
    fn schema_keywords<T: JsonSchema>() -> Vec<String> {
        fn walk(value: &serde_json::Value, out: &mut Vec<String>) {
            match value {
                serde_json::Value::Object(map) => {
                    for (key, item) in map {
                        match (key.as_str(), item) {
                            ("const", serde_json::Value::String(word)) => out.push(word.clone()),
                            ("enum", serde_json::Value::Array(words)) => {
                                out.extend(words.iter().filter_map(|w| w.as_str().map(str::to_owned)))
                            }
                            _ => walk(item, out),
                        }
                    }
                }
                serde_json::Value::Array(items) => items.iter().for_each(|item| walk(item, out)),
                _ => {}
            }
        }
        let mut out = Vec::new();
        walk(&serde_json::to_value(schemars::schema_for!(T)).unwrap(), &mut out);
        out
    }

    /// `ALL` holds every value once, in the schema's order, and each keyword parses back.
    fn complete<T>(all: &[T], keyword: fn(T) -> &'static str)
    where
        T: Copy + PartialEq + std::fmt::Debug + std::str::FromStr + JsonSchema,
        T::Err: std::fmt::Debug,
    {
        let words: Vec<&str> = all.iter().map(|value| keyword(*value)).collect();
        assert_eq!(words, schema_keywords::<T>());
        for value in all {
            assert_eq!(keyword(*value).parse::<T>().unwrap(), *value);
        }
    }

    #[test]
    fn keywords_are_all_listed_and_parse_back() {
        complete(Ops::ALL, Ops::keyword);
        complete(Action::ALL, Action::keyword);
        complete(FilterType::ALL, FilterType::keyword);
        complete(Metric::ALL, Metric::keyword);
        complete(GoalTuner::ALL, GoalTuner::keyword);
        complete(WatermarkMetric::ALL, WatermarkMetric::keyword);
        assert_eq!(
            "PAGEOUT".parse::<Action>(),
            Err(UnknownKeyword {
                what: "action",
                found: "PAGEOUT".into()
            })
        );
        assert_eq!(and_list(Ops::keywords()), "vaddr, fvaddr and paddr");
        assert_eq!(and_list(["one"]), "one");
    }
}
