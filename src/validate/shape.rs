//! The shape a part of a policy file must have before its values can be converted: the one
//! selector a target gives, the form of a physical selector, the arguments a filter type
//! takes, the form a goal's target is written in. [`super::resolve`] converts only parts of
//! the right shape and leaves the others unresolved without a word; [`super::rules`] says
//! what is wrong with them. Both read the shape here, so they cannot disagree.

use crate::kernel::{FilterType, MetricUnit};
use crate::model::wire::{self as model, Physical, Raw, Region};

/// The selector of a target that gives exactly one.
pub enum Selected<'w> {
    Pids(&'w [u32]),
    Process(&'w str),
    Cgroup(&'w str),
    Physical(&'w Physical),
}

/// The selector keys a target gives, in the order the schema lists them.
pub fn selector_keys(target: &model::Target) -> Vec<&'static str> {
    [
        ("pids", target.pids.is_some()),
        ("process", target.process.is_some()),
        ("cgroup", target.cgroup.is_some()),
        ("physical", target.physical.is_some()),
    ]
    .into_iter()
    .filter_map(|(key, given)| given.then_some(key))
    .collect()
}

/// The target's selector, when it gives exactly one: a policy monitors one kind of memory.
pub fn selected(target: &model::Target) -> Option<Selected<'_>> {
    if selector_keys(target).len() != 1 {
        return None;
    }
    if let Some(pids) = &target.pids {
        Some(Selected::Pids(pids))
    } else if let Some(name) = &target.process {
        Some(Selected::Process(name))
    } else if let Some(cgroup) = &target.cgroup {
        Some(Selected::Cgroup(cgroup))
    } else {
        target.physical.as_ref().map(Selected::Physical)
    }
}

/// Which physical memory a `physical` selector names.
pub enum PhysicalShape<'w> {
    /// `true`: the largest System RAM range.
    Whole,
    Node(u32),
    Regions(&'w [Region]),
}

/// The memory a `physical` selector names; `None` for `false` and for a table with both or
/// neither of `numa_node` and `regions`.
pub fn physical(wire: &Physical) -> Option<PhysicalShape<'_>> {
    match wire {
        Physical::Whole(true) => Some(PhysicalShape::Whole),
        Physical::Whole(false) => None,
        Physical::Select(select) => match (&select.numa_node, &select.regions) {
            (Some(node), None) => Some(PhysicalShape::Node(*node)),
            (None, Some(list)) => Some(PhysicalShape::Regions(list)),
            _ => None,
        },
    }
}

/// The argument keys a filter type takes.
pub fn filter_takes(kind: FilterType) -> &'static [&'static str] {
    match kind {
        FilterType::Memcg => &["cgroup"],
        FilterType::Addr => &["start", "end"],
        FilterType::Target => &["target"],
        FilterType::HugepageSize => &["min", "max"],
        _ => &[],
    }
}

/// The argument keys a filter gives that its type does not take.
pub fn stray_filter_arguments(filter: &model::Filter) -> Vec<&'static str> {
    let takes = filter_takes(filter.kind);
    [
        ("cgroup", filter.cgroup.is_some()),
        ("start", filter.start.is_some()),
        ("end", filter.end.is_some()),
        ("target", filter.target.is_some()),
        ("min", filter.min.is_some()),
        ("max", filter.max.is_some()),
    ]
    .into_iter()
    .filter_map(|(key, given)| (given && !takes.contains(&key)).then_some(key))
    .collect()
}

/// Whether a goal's target is written in the form of its metric's unit: an integer for a
/// count, a string (a duration or a percentage) for the others.
pub fn goal_target_fits(unit: MetricUnit, target: &Raw) -> bool {
    matches!(
        (unit, target),
        (MetricUnit::Integer, Raw::Int(_)) | (MetricUnit::Microseconds | MetricUnit::BasisPoints, Raw::Text(_))
    )
}
