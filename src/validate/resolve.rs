//! Wire model → resolved policy: applies defaults and converts every human unit to kernel
//! units, reporting each value that cannot be converted (bad unit, overflow, inexact) and
//! warning where the kernel's flooring changes what the user wrote.

use crate::diag::Diagnostic;
use crate::kernel::{FilterType, MetricUnit, Ops};
use crate::key_path;
use crate::model::defaults;
use crate::model::resolved::{
    AddrRange, Dest, Filter, FilterArg, Goal, IntervalsGoal, Monitoring, Policy, Quota, Range, Scheme, Selector,
    Target, Watermarks,
};
use crate::model::units::{self, Bound, U32_MAX_BOUND, UnitError};
use crate::model::wire::{self as model, Physical, Raw};
use crate::policy::source::KeyPath;

use super::Ctx;

/// Resolves a whole policy; `None` when something could not be resolved at all.
pub fn policy(ctx: &mut Ctx<'_>, wire: &model::PolicyFile) -> Option<Policy> {
    let name = wire.name.clone().unwrap_or_else(|| ctx.file.stem());
    if wire.name.is_none() && !is_valid_name(&name) {
        ctx.report(
            Diagnostic::error("bad-name", format!("the file name `{name}` is not a valid policy name")).help(format!(
                "add `name = \"…\"` or rename the file; {}",
                model::scalar::NAME_HELP
            )),
            &KeyPath::root(),
        );
    }
    let target = target(ctx, &wire.target);
    let ops = wire.target.ops.unwrap_or(match target.as_ref().map(|t| &t.selector) {
        Some(Selector::PhysicalWhole | Selector::PhysicalNode(_) | Selector::PhysicalRegions) => Ops::Paddr,
        _ => Ops::Vaddr,
    });
    let monitoring = monitoring(ctx, wire.monitoring.as_ref().unwrap_or(&Default::default()));
    let schemes: Vec<Option<Scheme>> = wire
        .scheme
        .iter()
        .enumerate()
        .map(|(i, s)| scheme(ctx, s, i, monitoring.as_ref()))
        .collect();
    Some(Policy {
        name,
        file: ctx.file.display_path(),
        enabled: wire.enabled.unwrap_or(defaults::ENABLED),
        mode: wire.mode.unwrap_or(defaults::MODE),
        ops,
        target: target?,
        monitoring: monitoring?,
        schemes: schemes.into_iter().collect::<Option<Vec<_>>>()?,
    })
}

pub fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && name.len() <= 64
}

fn target(ctx: &mut Ctx<'_>, wire: &model::Target) -> Option<Target> {
    let path = key_path!["target"];
    let given: Vec<&str> = [
        ("pids", wire.pids.is_some()),
        ("process", wire.process.is_some()),
        ("cgroup", wire.cgroup.is_some()),
        ("physical", wire.physical.is_some()),
    ]
    .into_iter()
    .filter_map(|(k, set)| set.then_some(k))
    .collect();
    if given.len() != 1 {
        let message = if given.is_empty() {
            "`target` selects no memory".to_owned()
        } else {
            format!(
                "`target` has {} selectors ({}); a policy monitors one",
                given.len(),
                given.join(", ")
            )
        };
        ctx.report_key(
            Diagnostic::error("target-selector", message)
                .label("exactly one of pids, process, cgroup, physical")
                .help("keep exactly one of `pids`, `process`, `cgroup` or `physical`; use one policy per target"),
            &path,
        );
        return None;
    }
    let regions = match &wire.regions {
        Some(list) => regions(ctx, list, &path.join("regions"))?,
        None => Vec::new(),
    };
    let selector = if let Some(pids) = &wire.pids {
        unique_pids(ctx, pids);
        Selector::Pids(pids.clone())
    } else if let Some(name) = &wire.process {
        Selector::Process(name.clone())
    } else if let Some(cgroup) = &wire.cgroup {
        Selector::Cgroup(cgroup.clone())
    } else {
        return physical(ctx, wire.physical.as_ref()?, regions);
    };
    Some(Target { selector, regions })
}

/// A pid listed twice is a mistake the kernel takes: two DAMON targets over one address
/// space, each region sampled and acted on twice and counted twice in the statistics.
fn unique_pids(ctx: &mut Ctx<'_>, pids: &[u32]) {
    let path = key_path!["target", "pids"];
    let mut first = std::collections::HashMap::new();
    for (i, pid) in pids.iter().enumerate() {
        let Some(&earlier) = first.get(pid) else {
            first.insert(*pid, i);
            continue;
        };
        let mut diagnostic = Diagnostic::error("duplicate-pid", format!("pid {pid} is listed twice in `target.pids`"))
            .label("listed again")
            .help(
                "remove the repeated pid: DAMON would monitor the process twice, as two targets over one address space",
            );
        if let Some(span) = ctx.index.value(&path.join(earlier)) {
            diagnostic.related.push((span, "first listed here".to_owned()));
        }
        ctx.report(diagnostic, &path.join(i));
    }
}

fn physical(ctx: &mut Ctx<'_>, wire: &Physical, virtual_regions: Vec<AddrRange>) -> Option<Target> {
    let path = key_path!["target", "physical"];
    if !virtual_regions.is_empty() {
        ctx.report_key(
            Diagnostic::error("regions-placement", "`target.regions` are process address ranges")
                .help("for physical memory write `physical = { regions = [...] }` instead"),
            &key_path!["target", "regions"],
        );
    }
    match wire {
        Physical::Whole(true) => Some(Target {
            selector: Selector::PhysicalWhole,
            regions: Vec::new(),
        }),
        Physical::Whole(false) => {
            ctx.report(
                Diagnostic::error("target-selector", "`physical = false` selects no memory")
                    .help("write `physical = true`, or choose another selector"),
                &path,
            );
            None
        }
        Physical::Select(select) => match (&select.numa_node, &select.regions) {
            (Some(node), None) => Some(Target {
                selector: Selector::PhysicalNode(*node),
                regions: Vec::new(),
            }),
            (None, Some(list)) => Some(Target {
                selector: Selector::PhysicalRegions,
                regions: regions(ctx, list, &path.join("regions"))?,
            }),
            _ => {
                ctx.report(
                    Diagnostic::error(
                        "target-selector",
                        "`physical` needs exactly one of `numa_node` or `regions`",
                    )
                    .help("write `physical = { numa_node = 0 }` or `physical = { regions = [...] }`"),
                    &path,
                );
                None
            }
        },
    }
}

fn regions(ctx: &mut Ctx<'_>, list: &[model::Region], path: &KeyPath) -> Option<Vec<AddrRange>> {
    let mut out = Vec::new();
    for (i, region) in list.iter().enumerate() {
        let at = path.join(i);
        let start = address(ctx, &region.start.0, &at.join("start"));
        let end = address(ctx, &region.end.0, &at.join("end"));
        let (Some(start), Some(end)) = (start, end) else {
            continue;
        };
        if start >= end {
            ctx.report(
                Diagnostic::error(
                    "range-order",
                    format!("region {i} is empty or inverted: start {start:#x} ≥ end {end:#x}"),
                )
                .help("`end` is the first address after the region; make it greater than `start`"),
                &at,
            );
        } else if let Some(prev) = out.last().filter(|p: &&AddrRange| p.end > start) {
            ctx.report(
                Diagnostic::error(
                    "region-overlap",
                    format!(
                        "region {i} starts at {start:#x}, inside or before the previous region (ends {:#x})",
                        prev.end
                    ),
                )
                .help("list regions sorted by address without overlaps, as the kernel requires"),
                &at,
            );
        }
        out.push(AddrRange { start, end });
    }
    (out.len() == list.len()).then_some(out)
}

fn address(ctx: &mut Ctx<'_>, raw: &Raw, path: &KeyPath) -> Option<u64> {
    let parsed = match raw {
        Raw::Int(n) => Some(*n),
        Raw::Text(text) => {
            let text = text.trim();
            match text.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16).ok(),
                None => text.parse().ok(),
            }
        }
    };
    if parsed.is_none() {
        ctx.report(
            Diagnostic::error("bad-value", format!("`{raw}` is not an address below 2^64"))
                .help(model::scalar::ADDRESS_HELP),
            path,
        );
    }
    parsed
}

fn unit_error(ctx: &mut Ctx<'_>, error: UnitError, path: &KeyPath) {
    ctx.report(
        Diagnostic::error("bad-value", error.message)
            .label("here")
            .help(error.help),
        path,
    );
}

/// A duration in µs where `min`/`max` have no meaning.
fn duration_us(ctx: &mut Ctx<'_>, wire: Option<&model::Duration>, default_us: u64, path: &KeyPath) -> Option<u64> {
    let Some(wire) = wire else { return Some(default_us) };
    match units::parse_duration_us(&wire.0) {
        Ok(Bound::Value(us)) => Some(us),
        Ok(_) => {
            ctx.report(
                Diagnostic::error("bad-value", format!("`{}` is only meaningful as a range bound", wire.0))
                    .help(units::DURATION_HELP),
                path,
            );
            None
        }
        Err(error) => {
            unit_error(ctx, error, path);
            None
        }
    }
}

fn duration_ms(ctx: &mut Ctx<'_>, wire: Option<&model::Duration>, default_ms: u64, path: &KeyPath) -> Option<u64> {
    let us = duration_us(ctx, wire, default_ms * 1000, path)?;
    let text = wire.map_or("", |w| w.0.as_str());
    units::us_to_ms_exact(us, text)
        .map_err(|e| unit_error(ctx, e, path))
        .ok()
}

fn size(ctx: &mut Ctx<'_>, wire: &model::Size, path: &KeyPath) -> Option<Bound<u64>> {
    match &wire.0 {
        Raw::Int(n) => Some(Bound::Value(*n)),
        Raw::Text(text) => units::parse_size(text).map_err(|e| unit_error(ctx, e, path)).ok(),
    }
}

fn percent(ctx: &mut Ctx<'_>, wire: &model::Percent, per_percent: u64, path: &KeyPath) -> Option<u64> {
    units::parse_percent(&wire.0, per_percent)
        .map_err(|e| unit_error(ctx, e, path))
        .ok()
}

fn monitoring(ctx: &mut Ctx<'_>, wire: &model::Monitoring) -> Option<Monitoring> {
    let path = key_path!["monitoring"];
    let sample_us = duration_us(
        ctx,
        wire.sample_interval.as_ref(),
        defaults::SAMPLE_INTERVAL_US,
        &path.join("sample_interval"),
    );
    let aggr_us = duration_us(
        ctx,
        wire.aggregation_interval.as_ref(),
        defaults::AGGREGATION_INTERVAL_US,
        &path.join("aggregation_interval"),
    );
    let update_us = duration_us(
        ctx,
        wire.update_interval.as_ref(),
        defaults::UPDATE_INTERVAL_US,
        &path.join("update_interval"),
    );
    let regions = wire.regions.as_ref();
    let intervals_goal = match &wire.autotune {
        None => Some(None),
        Some(tune) => {
            let at = path.join("autotune");
            let access_bp = percent(ctx, &tune.access, 100, &at.join("access"));
            let min = duration_us(
                ctx,
                tune.min_sample_interval.as_ref(),
                defaults::AUTOTUNE_MIN_SAMPLE_US,
                &at.join("min_sample_interval"),
            );
            let max = duration_us(
                ctx,
                tune.max_sample_interval.as_ref(),
                defaults::AUTOTUNE_MAX_SAMPLE_US,
                &at.join("max_sample_interval"),
            );
            match (access_bp, min, max) {
                (Some(access_bp), Some(min_sample_us), Some(max_sample_us)) => Some(Some(IntervalsGoal {
                    access_bp,
                    aggrs: tune.aggregations.unwrap_or(defaults::AUTOTUNE_AGGREGATIONS),
                    min_sample_us,
                    max_sample_us,
                })),
                _ => None,
            }
        }
    };
    Some(Monitoring {
        sample_us: sample_us?,
        aggr_us: aggr_us?,
        update_us: update_us?,
        min_nr_regions: regions.and_then(|r| r.min).unwrap_or(defaults::MIN_NR_REGIONS),
        max_nr_regions: regions.and_then(|r| r.max).unwrap_or(defaults::MAX_NR_REGIONS),
        intervals_goal: intervals_goal?,
    })
}

fn scheme(ctx: &mut Ctx<'_>, wire: &model::Scheme, i: usize, mon: Option<&Monitoring>) -> Option<Scheme> {
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
    let (nr_accesses, age_aggrs) = match mon {
        Some(mon) => (
            access_range(ctx, pattern.access_rate.as_ref(), mon, &at.join("access_rate")),
            age_range(ctx, pattern.age.as_ref(), mon, &at.join("age")),
        ),
        None => (None, None),
    };
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
    let filters: Option<Vec<Filter>> = wire
        .filter
        .iter()
        .enumerate()
        .map(|(f, filter)| self::filter(ctx, filter, &path.join("filter").join(f)))
        .collect::<Vec<_>>()
        .into_iter()
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
        name: wire.name.clone().unwrap_or_else(|| i.to_string()),
        action: wire.action,
        sz_bytes: sz_bytes?,
        nr_accesses: nr_accesses?,
        age_aggrs: age_aggrs?,
        apply_interval_us: apply_interval_us?,
        target_nid: wire.target_node,
        dests,
        quota: quota?,
        watermarks: watermarks?,
        filters: filters?,
    })
}

fn bound_or<T: Copy>(bound: Option<Bound<T>>, min: u64, max: u64, value: impl FnOnce(T) -> Option<u64>) -> Option<u64> {
    match bound {
        Some(Bound::Min) => Some(min),
        Some(Bound::Max) => Some(max),
        Some(Bound::Value(v)) => value(v),
        None => None,
    }
}

/// A range of sizes in bytes; an omitted bound is unbounded.
fn size_range(
    ctx: &mut Ctx<'_>,
    min: Option<&model::Size>,
    max: Option<&model::Size>,
    path: &KeyPath,
) -> Option<Range> {
    let every = defaults::SIZE_RANGE;
    let mut one = |text: Option<&model::Size>, default: u64, at: KeyPath| match text {
        None => Some(default),
        Some(s) => bound_or(size(ctx, s, &at), every.min, every.max, Some),
    };
    let lo = one(min, every.min, path.join("min"));
    let hi = one(max, every.max, path.join("max"));
    Some(Range { min: lo?, max: hi? })
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
    if count > u128::from(U32_MAX_BOUND) {
        ctx.report(
            Diagnostic::error(
                "bad-value",
                format!("`{text}` is {count} {unit_note}, more than the kernel's largest bound (4294967295)"),
            )
            .help("use \"max\" for an unbounded range"),
            path,
        );
        return None;
    }
    if count == 0 && !exact {
        ctx.report(
            Diagnostic::warning("rounds-to-zero", format!("`{text}` rounds down to 0 {unit_note}"))
                .label("becomes 0")
                .help("the kernel counts whole units; use a larger value or shorter monitoring intervals"),
            path,
        );
    }
    Some(count as u64)
}

fn access_range(
    ctx: &mut Ctx<'_>,
    wire: Option<&model::RangeOf<model::AccessRate>>,
    mon: &Monitoring,
    path: &KeyPath,
) -> Option<Range> {
    let mut one = |text: Option<&model::AccessRate>, default: u64, at: KeyPath| -> Option<u64> {
        let Some(text) = text else { return Some(default) };
        let bound = units::parse_access_rate(&text.0)
            .map_err(|e| unit_error(ctx, e, &at))
            .ok()?;
        match bound {
            Bound::Min => Some(defaults::COUNT_RANGE.min),
            Bound::Max => Some(defaults::COUNT_RANGE.max),
            Bound::Value(units::AccessRate::Samples(n)) => {
                checked_count(ctx, u128::from(n), true, &text.0, "samples".into(), &at)
            }
            Bound::Value(units::AccessRate::Percent(pct)) => {
                let (samples, exact) = units::percent_to_samples(pct, mon.sample_us.max(1), mon.aggr_us);
                let note = format!("samples per aggregation interval (1 sample = {})", sample_share(mon));
                checked_count(ctx, samples, exact, &text.0, note, &at)
            }
        }
    };
    let every = defaults::COUNT_RANGE;
    let lo = one(wire.and_then(|r| r.min.as_ref()), every.min, path.join("min"));
    let hi = one(wire.and_then(|r| r.max.as_ref()), every.max, path.join("max"));
    Some(Range { min: lo?, max: hi? })
}

fn sample_share(mon: &Monitoring) -> String {
    let per_aggr = mon.aggr_us / mon.sample_us.max(1);
    if per_aggr == 0 {
        return "more than 100%".to_owned();
    }
    let hundredths = 10_000 / per_aggr;
    format!("{}.{:02}%", hundredths / 100, hundredths % 100)
}

fn age_range(
    ctx: &mut Ctx<'_>,
    wire: Option<&model::RangeOf<model::Age>>,
    mon: &Monitoring,
    path: &KeyPath,
) -> Option<Range> {
    let mut one = |text: Option<&model::Age>, default: u64, at: KeyPath| -> Option<u64> {
        let Some(text) = text else { return Some(default) };
        let bound = units::parse_age(&text.0).map_err(|e| unit_error(ctx, e, &at)).ok()?;
        match bound {
            Bound::Min => Some(defaults::COUNT_RANGE.min),
            Bound::Max => Some(defaults::COUNT_RANGE.max),
            Bound::Value(units::Age::Aggregations(n)) => {
                checked_count(ctx, u128::from(n), true, &text.0, "aggregation intervals".into(), &at)
            }
            Bound::Value(units::Age::Micros(us)) => {
                let (aggrs, exact) = units::floor_ratio(u128::from(us), u128::from(mon.aggr_us.max(1)));
                let note = format!(
                    "aggregation intervals (1 interval = {})",
                    humantime::format_duration(std::time::Duration::from_micros(mon.aggr_us))
                );
                checked_count(ctx, aggrs, exact, &text.0, note, &at)
            }
        }
    };
    let every = defaults::COUNT_RANGE;
    let lo = one(wire.and_then(|r| r.min.as_ref()), every.min, path.join("min"));
    let hi = one(wire.and_then(|r| r.max.as_ref()), every.max, path.join("max"));
    Some(Range { min: lo?, max: hi? })
}

fn quota(ctx: &mut Ctx<'_>, wire: Option<&model::Quota>, path: &KeyPath) -> Option<Quota> {
    let Some(wire) = wire else {
        return Some(defaults::NO_QUOTA);
    };
    let ms = duration_ms(ctx, wire.time.as_ref(), defaults::QUOTA_MS, &path.join("time"));
    let bytes = match &wire.size {
        None => Some(defaults::QUOTA_BYTES),
        Some(s) => bound_or(size(ctx, s, &path.join("size")), 0, u64::MAX, Some),
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
    let goals: Option<Vec<Goal>> = wire
        .goals
        .iter()
        .enumerate()
        .map(|(g, goal)| self::goal(ctx, goal, &path.join("goals").join(g)))
        .collect::<Vec<_>>()
        .into_iter()
        .collect();
    Some(Quota {
        ms: ms?,
        bytes: bytes?,
        reset_interval_ms: reset_interval_ms?,
        sz_permil: sz,
        nr_accesses_permil: acc,
        age_permil: age,
        goals: goals?,
        goal_tuner: wire.goal_tuner,
    })
}

fn goal(ctx: &mut Ctx<'_>, wire: &model::Goal, path: &KeyPath) -> Option<Goal> {
    let at = path.join("target");
    let target_value = match (wire.metric.unit(), &wire.target.0) {
        (MetricUnit::Integer, Raw::Int(n)) => Some(*n),
        (MetricUnit::Microseconds, Raw::Text(text)) => duration_us(ctx, Some(&model::Duration(text.clone())), 0, &at),
        (MetricUnit::BasisPoints, Raw::Text(text)) => percent(ctx, &model::Percent(text.clone()), 100, &at),
        (unit, raw) => {
            let expected = match unit {
                MetricUnit::Integer => "a plain integer",
                MetricUnit::Microseconds => "a duration such as \"10ms\"",
                MetricUnit::BasisPoints => "a percentage such as \"30%\"",
            };
            ctx.report(
                Diagnostic::error(
                    "goal-target",
                    format!("`{raw}` is not a target for `{}`", wire.metric.keyword()),
                )
                .label(format!("expected {expected}"))
                .help(format!(
                    "the target of a `{}` goal is {expected}",
                    wire.metric.keyword()
                )),
                &at,
            );
            None
        }
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

fn filter(ctx: &mut Ctx<'_>, wire: &model::Filter, path: &KeyPath) -> Option<Filter> {
    let kind = wire.kind;
    // Which argument keys each type takes; any other argument is a mistake.
    let wants: &[&str] = match kind {
        FilterType::Memcg => &["cgroup"],
        FilterType::Addr => &["start", "end"],
        FilterType::Target => &["target"],
        FilterType::HugepageSize => &["min", "max"],
        _ => &[],
    };
    let present = [
        ("cgroup", wire.cgroup.is_some()),
        ("start", wire.start.is_some()),
        ("end", wire.end.is_some()),
        ("target", wire.target.is_some()),
        ("min", wire.min.is_some()),
        ("max", wire.max.is_some()),
    ];
    let mut ok = true;
    for (key, set) in present {
        if set && !wants.contains(&key) {
            ok = false;
            let fix = if wants.is_empty() {
                format!("a `{}` filter takes no arguments; remove `{key}`", kind.keyword())
            } else {
                format!(
                    "a `{}` filter takes {}; remove `{key}`",
                    kind.keyword(),
                    wants.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(" and ")
                )
            };
            ctx.report_key(
                Diagnostic::error(
                    "filter-argument",
                    format!("`{key}` is not an argument of a `{}` filter", kind.keyword()),
                )
                .label("not for this filter type")
                .help(fix),
                &path.join(key),
            );
        }
    }
    let missing = |ctx: &mut Ctx<'_>, key: &str, example: &str| {
        ctx.report_key(
            Diagnostic::error(
                "filter-argument",
                format!("a `{}` filter needs `{key}`", kind.keyword()),
            )
            .label(format!("`{key}` is missing"))
            .help(format!("add `{key} = {example}`")),
            path,
        );
    };
    let arg = match kind {
        FilterType::Memcg => match &wire.cgroup {
            Some(cgroup) => Some(FilterArg::Memcg(cgroup.clone())),
            None => {
                missing(ctx, "cgroup", "\"system.slice/app.service\"");
                None
            }
        },
        FilterType::Addr => match (&wire.start, &wire.end) {
            (Some(start), Some(end)) => {
                let start = address(ctx, &start.0, &path.join("start"));
                let end = address(ctx, &end.0, &path.join("end"));
                match (start, end) {
                    (Some(start), Some(end)) if start < end => Some(FilterArg::Addr(AddrRange { start, end })),
                    (Some(_), Some(_)) => {
                        ctx.report(
                            Diagnostic::error("range-order", "the filter's address range is empty or inverted")
                                .help("make `end` greater than `start`"),
                            &path.join("end"),
                        );
                        None
                    }
                    _ => None,
                }
            }
            (None, _) => {
                missing(ctx, "start", "\"0x100000000\"");
                None
            }
            (_, None) => {
                missing(ctx, "end", "\"0x200000000\"");
                None
            }
        },
        FilterType::Target => match wire.target {
            Some(t) => Some(FilterArg::Target(t)),
            None => {
                missing(ctx, "target", "0");
                None
            }
        },
        FilterType::HugepageSize => {
            let range = size_range(ctx, wire.min.as_ref(), wire.max.as_ref(), path);
            if wire.min.is_none() && wire.max.is_none() {
                missing(ctx, "min", "\"2MiB\"");
                None
            } else {
                range.map(FilterArg::HugepageSize)
            }
        }
        _ => Some(FilterArg::None),
    };
    if !ok {
        return None;
    }
    Some(Filter {
        kind,
        matching: wire.matching.unwrap_or(defaults::FILTER_MATCHING),
        allow: wire.allow.unwrap_or(defaults::FILTER_ALLOW),
        arg: arg?,
    })
}
