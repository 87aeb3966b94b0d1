//! Every rule on the order of a range's ends (`range-order`) and of a list of address ranges
//! (`region-overlap`): address regions and filters as written, region counts, the autotune
//! sampling range, access patterns and hugepage filters once resolved.

use crate::diag::{Code, Diagnostic};
use crate::kernel::FilterType;
use crate::model::resolved::{IntervalsGoal, Monitoring, Range, Scheme};
use crate::model::wire as model;
use crate::policy::source::KeyPath;
use crate::validate::resolve::address_value;

use super::Ctx;

fn range_order(message: impl Into<String>) -> Diagnostic {
    Diagnostic::error(Code::RangeOrder, message)
}

/// Address ranges as written: each non-empty, sorted and apart, as the kernel requires.
/// Ranges with an address that is not one are skipped (resolution reports them).
pub(super) fn regions(ctx: &mut Ctx<'_>, list: &[model::Region], path: &KeyPath) {
    let mut previous_end = None;
    for (i, region) in list.iter().enumerate() {
        let at = path.join(i);
        let (Some(start), Some(end)) = (address_value(&region.start.0), address_value(&region.end.0)) else {
            continue;
        };
        if start >= end {
            ctx.report(
                range_order(format!(
                    "region {i} is empty or inverted: start {start:#x} ≥ end {end:#x}"
                ))
                .help("`end` is the first address after the region; make it greater than `start`"),
                &at,
            );
        } else if let Some(previous_end) = previous_end.filter(|&previous_end| previous_end > start) {
            ctx.report(
                Diagnostic::error(
                    Code::RegionOverlap,
                    format!(
                        "region {i} starts at {start:#x}, inside or before the previous region (ends {previous_end:#x})"
                    ),
                )
                .help("list regions sorted by address without overlaps, as the kernel requires"),
                &at,
            );
        }
        previous_end = Some(end);
    }
}

/// An `addr` filter's range as written: not empty.
pub(super) fn address_filter(ctx: &mut Ctx<'_>, wire: &model::Filter, path: &KeyPath) {
    let (FilterType::Addr, Some(start), Some(end)) = (wire.kind, wire.start.as_ref(), wire.end.as_ref()) else {
        return;
    };
    if let (Some(start), Some(end)) = (address_value(&start.0), address_value(&end.0))
        && start >= end
    {
        ctx.report(
            range_order("the filter's address range is empty or inverted").help("make `end` greater than `start`"),
            &path.join("end"),
        );
    }
}

/// `monitoring.regions`: `min` at most `max`.
pub(super) fn region_count(ctx: &mut Ctx<'_>, mon: &Monitoring, path: &KeyPath) {
    if mon.min_nr_regions > mon.max_nr_regions {
        ctx.report(
            range_order(format!(
                "`regions.min` ({}) is greater than `regions.max` ({})",
                mon.min_nr_regions, mon.max_nr_regions
            ))
            .help("make `regions.max` at least `regions.min`"),
            path,
        );
    }
}

/// The autotune sampling range: `min_sample_interval` at most `max_sample_interval`.
/// Whether it is in order.
pub(super) fn autotune_sample_range(ctx: &mut Ctx<'_>, goal: &IntervalsGoal, path: &KeyPath) -> bool {
    if goal.min_sample_us <= goal.max_sample_us {
        return true;
    }
    ctx.report(
        range_order("`min_sample_interval` is greater than `max_sample_interval`")
            .help("swap them, or widen the range"),
        path,
    );
    false
}

/// A scheme's access pattern: each range's `min` at most its `max`.
pub(super) fn access_pattern(ctx: &mut Ctx<'_>, scheme: &Scheme, path: &KeyPath) {
    let at = path.join("access_pattern");
    for (key, range, what) in [
        ("size", scheme.sz_bytes, "bytes"),
        ("access_rate", scheme.nr_accesses, "samples"),
        ("age", scheme.age_aggrs, "aggregation intervals"),
    ] {
        if range.min > range.max {
            ctx.report(
                range_order(format!(
                    "`{key}.min` is greater than `{key}.max` ({} > {} {what})",
                    range.min, range.max
                ))
                .label("min > max")
                .help(format!(
                    "make `{key}.max` at least `{key}.min`; an inverted range matches nothing"
                )),
                &at.join(key),
            );
        }
    }
}

/// A `hugepage_size` filter's range: `min` at most `max`.
pub(super) fn hugepage_filter(ctx: &mut Ctx<'_>, range: Range, path: &KeyPath) {
    if range.min > range.max {
        ctx.report(
            range_order("the filter's `min` is greater than its `max`").help("make `max` at least `min`"),
            path,
        );
    }
}
