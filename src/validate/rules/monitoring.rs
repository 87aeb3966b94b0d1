//! Rules of `[monitoring]`: intervals the kernel accepts and enough regions to work with.

use std::time::Duration;

use crate::diag::{Code, Diagnostic};
use crate::key_path;
use crate::model::defaults;
use crate::model::resolved::Monitoring;
use crate::policy::source::KeyPath;

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
        autotune_access(ctx, goal.access_bp, &at.join("access"));
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

/// 100% in basis points: every sample of every region found accessed.
const ACCESS_BP_MAX: u64 = 10_000;

/// The autotuner steers the intervals until the share of observed access events is the
/// target, scoring `events × 10000 / (possible events × target / 10000)`
/// (`damon_get_intervals_score()` in mm/damon/core.c). Above 100% the target can never be
/// reached: the tuner only grows the intervals, to `max_sample_interval`. At 0% the score
/// divides by zero, which crashed kdamond in 6.15 until a stable fix (July 2025) that counts
/// the target as one event: the tuner then only shrinks the intervals, to
/// `min_sample_interval`.
fn autotune_access(ctx: &mut Ctx<'_>, access_bp: u64, at: &KeyPath) {
    let (message, label) = if access_bp == 0 {
        (
            "an autotune target of 0% of access events makes the kernel divide by zero (6.15 without its stable fix crashes kdamond); fixed kernels shrink the intervals to their minimum".to_owned(),
            "0%",
        )
    } else if access_bp > ACCESS_BP_MAX {
        (
            format!(
                "an autotune target of {} of access events can never be reached: at most every sample of every region sees an access (100%)",
                super::quota::percent_of_bp(access_bp)
            ),
            "above 100%",
        )
    } else {
        return;
    };
    ctx.report(
        Diagnostic::error(Code::AutotuneTarget, message)
            .label(label)
            .help("write a share of access events from \"0.01%\" to \"100%\"; the kernel recommends \"4%\""),
        at,
    );
}

#[cfg(test)]
mod tests {
    use super::super::tests::findings;

    #[test]
    fn autotune_targets_are_shares_above_0_and_at_most_100_percent() {
        let access = |target: &str| {
            findings(&format!(
                "[target]\nprocess = \"a\"\n[monitoring]\nautotune = {{ access = {target:?} }}\n[[scheme]]\naction = \"stat\"\n"
            ))
        };
        assert!(access("4%").is_empty());
        assert!(access("0.01%").is_empty());
        assert!(access("100%").is_empty());
        assert_eq!(access("0%"), ["E:autotune-target"]);
        assert_eq!(access("100.5%"), ["E:autotune-target"]);
        assert_eq!(access("250%"), ["E:autotune-target"]);
    }
}
