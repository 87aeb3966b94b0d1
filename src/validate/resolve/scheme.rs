//! `[[scheme]]` → [`Scheme`]: the access pattern in bytes, samples and aggregation intervals
//! (which depend on the monitoring intervals), the quota and its goals, the watermarks, the
//! filters and the migration destinations.

use crate::diag::{Code, Diagnostic};
use crate::kernel::MetricUnit;
use crate::key_path;
use crate::model::defaults;
use crate::model::resolved::{Dest, Filter, Goal, Monitoring, Quota, Range, Scheme, Watermarks};
use crate::model::units::{self, Bound};
use crate::model::wire::{self as model, Raw};
use crate::policy::source::KeyPath;

use super::{Ctx, duration_ms, duration_us, percent, size_bytes, size_range, unit_error};

pub(super) fn scheme(ctx: &mut Ctx<'_>, wire: &model::Scheme, i: usize, mon: Option<&Monitoring>) -> Option<Scheme> {
    let path = key_path!["scheme", i];
    let pattern = wire.access_pattern.clone().unwrap_or_default();
    let at = path.join("access_pattern");
    let size = pattern.size.as_ref();
    let sz_bytes = size_range(
        ctx,
        size.and_then(|r| r.min.as_ref()),
        size.and_then(|r| r.max.as_ref()),
        &at.join("size"),
    );
    let nr_accesses = access_range(ctx, pattern.access_rate.as_ref(), mon, &at.join("access_rate"));
    let age_aggrs = age_range(ctx, pattern.age.as_ref(), mon, &at.join("age"));
    let apply_interval_us = duration_us(
        ctx,
        wire.apply_interval.as_ref(),
        defaults::APPLY_INTERVAL_US,
        &path.join("apply_interval"),
    );
    let quota = quota(ctx, wire.quota.as_ref(), &path.join("quota"));
    let watermarks = match &wire.watermarks {
        None => Some(None),
        Some(w) => watermarks(ctx, w, &path.join("watermarks")).map(Some),
    };
    let filters: Vec<Option<Filter>> = wire
        .filter
        .iter()
        .enumerate()
        .map(|(f, filter)| super::filter::filter(ctx, filter, &path.join("filter").join(f)))
        .collect();
    let dests = wire
        .destinations
        .iter()
        .flatten()
        .map(|d| Dest {
            node: d.node,
            weight: d.weight.unwrap_or(defaults::DESTINATION_WEIGHT),
        })
        .collect();
    Some(Scheme {
        name: wire.name.clone().unwrap_or_else(|| ctx.scheme_number(i).to_string()),
        action: wire.action,
        sz_bytes: sz_bytes?,
        nr_accesses: nr_accesses?,
        age_aggrs: age_aggrs?,
        apply_interval_us: apply_interval_us?,
        target_nid: wire.target_node,
        dests,
        quota: quota?,
        watermarks: watermarks?,
        filters: filters.into_iter().collect::<Option<Vec<_>>>()?,
    })
}

/// Converts one access-rate or age bound to a kernel count, refusing what the kernel's
/// 32-bit field cannot hold and warning when a non-zero value floors to zero.
fn checked_count(
    ctx: &mut Ctx<'_>,
    count: u128,
    exact: bool,
    text: &str,
    unit_note: String,
    path: &KeyPath,
) -> Option<u64> {
    let largest = defaults::COUNT_RANGE.max;
    if count > u128::from(largest) {
        ctx.report(
            Diagnostic::error(
                Code::BadValue,
                format!(
                    "{} is {count} {unit_note}, more than the kernel's largest bound ({largest})",
                    units::echo(text)
                ),
            )
            .help("use \"max\" for an unbounded range"),
            path,
        );
        return None;
    }
    if count == 0 && !exact {
        ctx.report(
            Diagnostic::warning(
                Code::RoundsToZero,
                format!("{} rounds down to 0 {unit_note}", units::echo(text)),
            )
            .label("becomes 0")
            .help("the kernel counts whole units; use a larger value or shorter monitoring intervals"),
            path,
        );
    }
    Some(count as u64)
}

/// A range of counts, each bound converted by `one`; an omitted bound is unbounded.
fn count_range<T>(
    ctx: &mut Ctx<'_>,
    wire: Option<&model::RangeOf<T>>,
    path: &KeyPath,
    mut one: impl FnMut(&mut Ctx<'_>, &T, &KeyPath) -> Option<u64>,
) -> Option<Range> {
    let every = defaults::COUNT_RANGE;
    let mut bound = |text: Option<&T>, default: u64, at: KeyPath| match text {
        None => Some(default),
        Some(text) => one(ctx, text, &at),
    };
    let lo = bound(wire.and_then(|r| r.min.as_ref()), every.min, path.join("min"));
    let hi = bound(wire.and_then(|r| r.max.as_ref()), every.max, path.join("max"));
    Some(Range { min: lo?, max: hi? })
}

/// Percentages count samples, which depend on the monitoring intervals: without them
/// (`mon` is `None` when they do not convert) such a bound has no value, without a word.
fn access_range(
    ctx: &mut Ctx<'_>,
    wire: Option<&model::RangeOf<model::AccessRate>>,
    mon: Option<&Monitoring>,
    path: &KeyPath,
) -> Option<Range> {
    count_range(ctx, wire, path, |ctx, text, at| {
        let bound = units::parse_access_rate(&text.0)
            .map_err(|e| unit_error(ctx, e, at))
            .ok()?;
        match bound {
            Bound::Min => Some(defaults::COUNT_RANGE.min),
            Bound::Max => Some(defaults::COUNT_RANGE.max),
            Bound::Value(units::AccessRate::Samples(n)) => {
                checked_count(ctx, u128::from(n), true, &text.0, "samples".into(), at)
            }
            Bound::Value(units::AccessRate::Percent(pct)) => {
                let mon = mon?;
                let (samples, exact) = units::percent_to_samples(pct, mon.sample_us.max(1), mon.aggr_us);
                let note = format!("samples per aggregation interval (1 sample = {})", sample_share(mon));
                checked_count(ctx, samples, exact, &text.0, note, at)
            }
        }
    })
}

/// The share of an aggregation interval's samples that one sample is, for messages.
fn sample_share(mon: &Monitoring) -> String {
    let per_aggr = mon.aggr_us / mon.sample_us.max(1);
    if per_aggr == 0 {
        return "more than 100%".to_owned();
    }
    let hundredths = 10_000 / per_aggr;
    format!("{}.{:02}%", hundredths / 100, hundredths % 100)
}

/// Durations count aggregation intervals: without the intervals (`mon` is `None`) such a
/// bound has no value, without a word.
fn age_range(
    ctx: &mut Ctx<'_>,
    wire: Option<&model::RangeOf<model::Age>>,
    mon: Option<&Monitoring>,
    path: &KeyPath,
) -> Option<Range> {
    count_range(ctx, wire, path, |ctx, text, at| {
        let bound = units::parse_age(&text.0).map_err(|e| unit_error(ctx, e, at)).ok()?;
        match bound {
            Bound::Min => Some(defaults::COUNT_RANGE.min),
            Bound::Max => Some(defaults::COUNT_RANGE.max),
            Bound::Value(units::Age::Aggregations(n)) => {
                checked_count(ctx, u128::from(n), true, &text.0, "aggregation intervals".into(), at)
            }
            Bound::Value(units::Age::Micros(us)) => {
                let mon = mon?;
                let (aggrs, exact) = units::floor_ratio(u128::from(us), u128::from(mon.aggr_us.max(1)));
                let note = format!(
                    "aggregation intervals (1 interval = {})",
                    humantime::format_duration(std::time::Duration::from_micros(mon.aggr_us))
                );
                checked_count(ctx, aggrs, exact, &text.0, note, at)
            }
        }
    })
}

fn quota(ctx: &mut Ctx<'_>, wire: Option<&model::Quota>, path: &KeyPath) -> Option<Quota> {
    let Some(wire) = wire else {
        return Some(defaults::NO_QUOTA);
    };
    let ms = duration_ms(ctx, wire.time.as_ref(), defaults::QUOTA_MS, &path.join("time"));
    let bytes = match &wire.size {
        None => Some(defaults::QUOTA_BYTES),
        Some(s) => size_bytes(ctx, s, &path.join("size")),
    };
    let reset_interval_ms = duration_ms(
        ctx,
        wire.reset_interval.as_ref(),
        defaults::QUOTA_RESET_INTERVAL_MS,
        &path.join("reset_interval"),
    );
    let (sz, acc, age) = match &wire.weights {
        None => {
            let weight = defaults::WEIGHT_PERMIL_WITHOUT_TABLE;
            (weight, weight, weight)
        }
        Some(w) => {
            let omitted = defaults::WEIGHT_PERMIL_IN_TABLE;
            (
                w.size.unwrap_or(omitted),
                w.access_rate.unwrap_or(omitted),
                w.age.unwrap_or(omitted),
            )
        }
    };
    let goals: Vec<Option<Goal>> = wire
        .goals
        .iter()
        .enumerate()
        .map(|(g, goal)| self::goal(ctx, goal, &path.join("goals").join(g)))
        .collect();
    Some(Quota {
        ms: ms?,
        bytes: bytes?,
        reset_interval_ms: reset_interval_ms?,
        sz_permil: sz,
        nr_accesses_permil: acc,
        age_permil: age,
        goals: goals.into_iter().collect::<Option<Vec<_>>>()?,
        goal_tuner: wire.goal_tuner,
    })
}

/// A goal's target in its metric's unit; a target written in another unit's form has none
/// (`rules` says which form the metric needs).
fn goal(ctx: &mut Ctx<'_>, wire: &model::Goal, path: &KeyPath) -> Option<Goal> {
    let at = path.join("target");
    let target_value = match (wire.metric.unit(), &wire.target.0) {
        (MetricUnit::Integer, Raw::Int(n)) => Some(*n),
        (MetricUnit::Microseconds, Raw::Text(text)) => duration_us(ctx, Some(&model::Duration(text.clone())), 0, &at),
        (MetricUnit::BasisPoints, Raw::Text(text)) => percent(ctx, &model::Percent(text.clone()), 100, &at),
        _ => None,
    };
    Some(Goal {
        metric: wire.metric,
        target_value: target_value?,
        nid: wire.node,
        path: wire.cgroup.clone(),
    })
}

fn watermarks(ctx: &mut Ctx<'_>, wire: &model::Watermarks, path: &KeyPath) -> Option<Watermarks> {
    let interval_us = duration_us(
        ctx,
        wire.interval.as_ref(),
        defaults::WATERMARK_INTERVAL_US,
        &path.join("interval"),
    );
    let high = percent(ctx, &wire.high, 10, &path.join("high"));
    let mid = percent(ctx, &wire.mid, 10, &path.join("mid"));
    let low = percent(ctx, &wire.low, 10, &path.join("low"));
    Some(Watermarks {
        metric: wire.metric.unwrap_or(defaults::WATERMARK_METRIC),
        interval_us: interval_us?,
        high_permil: high?,
        mid_permil: mid?,
        low_permil: low?,
    })
}
