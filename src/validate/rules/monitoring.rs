//! Rules of `[monitoring]`: intervals the kernel accepts and enough regions to work with.

use std::time::Duration;

use crate::diag::{Code, Diagnostic};
use crate::key_path;
use crate::model::defaults;
use crate::model::resolved::Monitoring;

use super::{Ctx, ranges};

/// The fewest regions DAMON works with (`damon_set_attrs()` refuses fewer).
const MIN_NR_REGIONS: u64 = 3;

pub(super) fn check(ctx: &mut Ctx<'_>, mon: &Monitoring) {
    let path = key_path!["monitoring"];
    if mon.sample_us == 0 {
        let default = humantime::format_duration(Duration::from_micros(defaults::SAMPLE_INTERVAL_US));
        ctx.report(
            Diagnostic::error(Code::IntervalOrder, "`sample_interval` must be greater than zero")
                .help(format!("use the default \"{default}\" or another positive duration")),
            &path.join("sample_interval"),
        );
    }
    if mon.sample_us > mon.aggr_us {
        ctx.report(
            Diagnostic::error(Code::IntervalOrder, "`aggregation_interval` is shorter than `sample_interval`")
                .label("shorter than one sample")
                .help("an aggregation interval collects samples: make it at least the sampling interval (the kernel refuses otherwise)"),
            &path.join("aggregation_interval"),
        );
    }
    let regions = path.join("regions");
    if mon.min_nr_regions < MIN_NR_REGIONS {
        ctx.report(
            Diagnostic::error(
                Code::RegionCount,
                format!(
                    "`regions.min` is {}; DAMON needs at least {MIN_NR_REGIONS}",
                    mon.min_nr_regions
                ),
            )
            .help(format!(
                "set `regions.min` to {MIN_NR_REGIONS} or more (default {})",
                defaults::MIN_NR_REGIONS
            )),
            &regions.join("min"),
        );
    }
    ranges::region_count(ctx, mon, &regions);
    if let Some(goal) = &mon.intervals_goal {
        let at = path.join("autotune");
        if ranges::autotune_sample_range(ctx, goal, &at)
            && (mon.sample_us < goal.min_sample_us || mon.sample_us > goal.max_sample_us)
        {
            ctx.report(
                Diagnostic::error(Code::IntervalOrder, "`sample_interval` is outside the autotune range")
                    .help("the kernel refuses a sampling interval outside `min_sample_interval`..`max_sample_interval`; adjust one of them"),
                &path.join("sample_interval"),
            );
        }
    }
}
