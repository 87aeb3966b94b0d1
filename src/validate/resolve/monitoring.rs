//! `[monitoring]` → [`Monitoring`]: intervals in µs, region counts and the autotuning goal,
//! each omitted value taken from [`defaults`].

use crate::key_path;
use crate::model::defaults;
use crate::model::resolved::{IntervalsGoal, Monitoring};
use crate::model::wire as model;

use super::{Ctx, duration_us, percent};

pub(super) fn monitoring(ctx: &mut Ctx<'_>, wire: &model::Monitoring) -> Option<Monitoring> {
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
        Some(tune) => autotune(ctx, tune).map(Some),
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

fn autotune(ctx: &mut Ctx<'_>, tune: &model::Autotune) -> Option<IntervalsGoal> {
    let at = key_path!["monitoring", "autotune"];
    let access_bp = percent(ctx, &tune.access, 100, &at.join("access"));
    let min_sample_us = duration_us(
        ctx,
        tune.min_sample_interval.as_ref(),
        defaults::AUTOTUNE_MIN_SAMPLE_US,
        &at.join("min_sample_interval"),
    );
    let max_sample_us = duration_us(
        ctx,
        tune.max_sample_interval.as_ref(),
        defaults::AUTOTUNE_MAX_SAMPLE_US,
        &at.join("max_sample_interval"),
    );
    Some(IntervalsGoal {
        access_bp: access_bp?,
        aggrs: tune.aggregations.unwrap_or(defaults::AUTOTUNE_AGGREGATIONS),
        min_sample_us: min_sample_us?,
        max_sample_us: max_sample_us?,
    })
}
