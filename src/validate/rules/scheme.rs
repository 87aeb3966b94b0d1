//! Rules of one resolved `[[scheme]]` beyond its parts: a unique name, an access pattern
//! that can match, an action the operations set implements, and watermarks in order.

use std::time::Duration;

use crate::diag::{Code, Diagnostic};
use crate::kernel::{Action, Ops};
use crate::model::resolved::{Monitoring, Scheme};
use crate::policy::source::KeyPath;

use super::{Ctx, PAGE_SIZE};

/// The most a watermark of free memory can be: 100%, in permil.
const WATERMARK_PERMIL_MAX: u64 = 1000;

/// A scheme name used by an earlier scheme of the policy, `first` its index.
pub(super) fn duplicate_name(ctx: &mut Ctx<'_>, name: &str, first: usize, path: &KeyPath) {
    ctx.report(
        Diagnostic::error(
            Code::DuplicateName,
            format!("scheme name `{name}` is already used by scheme {first}"),
        )
        .help("give each scheme of a policy a unique `name`"),
        &path.join("name"),
    );
}

/// `mon` is `None` when the monitoring intervals do not convert: access rates are then not
/// judged.
pub(super) fn never_matches(ctx: &mut Ctx<'_>, mon: Option<&Monitoring>, scheme: &Scheme, path: &KeyPath) {
    let at = path.join("access_pattern");
    if let Some(mon) = mon
        && let samples_per_aggr = mon.aggr_us / mon.sample_us.max(1)
        && scheme.nr_accesses.min > samples_per_aggr
        && scheme.nr_accesses.min <= scheme.nr_accesses.max
    {
        ctx.report(
            Diagnostic::warning(Code::NeverMatches, format!(
                "scheme `{}` can never match: `access_rate.min` is {} samples but an aggregation interval has only {samples_per_aggr}",
                scheme.name, scheme.nr_accesses.min
            ))
            .help("access rates above 100% match nothing; lower `access_rate.min`"),
            &at.join("access_rate").join("min"),
        );
    }
    if scheme.sz_bytes.max < PAGE_SIZE && scheme.sz_bytes.min <= scheme.sz_bytes.max {
        ctx.report(
            Diagnostic::warning(
                Code::NeverMatches,
                format!(
                    "scheme `{}` can never match: `size.max` is {} bytes, smaller than a page (4 KiB)",
                    scheme.name, scheme.sz_bytes.max
                ),
            )
            .help("DAMON regions are at least one page; raise `size.max`"),
            &at.join("size").join("max"),
        );
    }
    if let Some(w) = &scheme.watermarks
        && w.mid_permil <= w.low_permil
        && w.high_permil >= w.mid_permil
    {
        ctx.report(
            Diagnostic::warning(
                Code::NeverMatches,
                format!(
                    "scheme `{}` is never active: `watermarks.mid` is not above `watermarks.low`",
                    scheme.name
                ),
            )
            .help("the scheme runs while the metric is below `mid` and above `low`; make `mid` greater than `low`"),
            &path.join("watermarks"),
        );
    }
}

pub(super) fn action_fits_ops(ctx: &mut Ctx<'_>, ops: Ops, scheme: &Scheme, path: &KeyPath) {
    let implemented = scheme.action.implemented_by();
    if !implemented.contains(&ops) {
        let names: Vec<&str> = implemented.iter().map(|o| o.keyword()).collect();
        ctx.report(
            Diagnostic::error(
                Code::ActionOps,
                format!(
                    "`{}` is not implemented by `{}`; the kernel would accept it and never apply it",
                    scheme.action.keyword(),
                    ops.keyword()
                ),
            )
            .label(format!("needs {}", names.join(" or ")))
            .help(match scheme.action {
                Action::LruPrio | Action::LruDeprio => {
                    "LRU sorting works on physical memory: target `physical = true`".to_owned()
                }
                _ => format!(
                    "this action works on process address spaces ({}): target processes instead",
                    names.join(", ")
                ),
            }),
            &path.join("action"),
        );
    }
}

pub(super) fn watermarks(ctx: &mut Ctx<'_>, scheme: &Scheme, path: &KeyPath) {
    let Some(w) = &scheme.watermarks else { return };
    let at = path.join("watermarks");
    if !(w.high_permil >= w.mid_permil && w.mid_permil >= w.low_permil) {
        ctx.report(
            Diagnostic::error(
                Code::WatermarkOrder,
                format!(
                    "watermarks must satisfy high ≥ mid ≥ low (high {}‰, mid {}‰, low {}‰)",
                    w.high_permil, w.mid_permil, w.low_permil
                ),
            )
            .help("the scheme is active below `mid` and above `low`, and stops above `high`; reorder the values"),
            &at,
        );
    }
    for (key, value) in [("high", w.high_permil), ("mid", w.mid_permil), ("low", w.low_permil)] {
        if value > WATERMARK_PERMIL_MAX {
            ctx.report(
                Diagnostic::error(Code::BadValue, format!("`{key}` is above 100% of free memory"))
                    .help("free_mem_rate is a share of total memory: use at most \"100%\""),
                &at.join(key),
            );
        }
    }
}

/// How often the kernel really applies a scheme. It counts the apply interval in whole
/// sampling intervals: a scheme is due once `apply_interval / sample_interval` (rounded
/// down) samples have passed since its last application (`kdamond_apply_schemes()` in
/// mm/damon/core.c, checked after every sample), so a remainder is dropped, and an interval
/// shorter than one sample applies the scheme at every sample. An interval shorter than the
/// aggregation interval is not rounded: the kernel judges access rates between aggregations
/// on a moving sum, for that very use. With interval autotuning the sampling interval
/// changes, so the rounding cannot be told from the file.
pub(super) fn apply_interval(ctx: &mut Ctx<'_>, mon: &Monitoring, scheme: &Scheme, path: &KeyPath) {
    let (apply_us, sample_us) = (scheme.apply_interval_us, mon.sample_us);
    if apply_us == 0 || sample_us == 0 || mon.intervals_goal.is_some() || apply_us % sample_us == 0 {
        return;
    }
    let samples = apply_us / sample_us;
    let written = |us: u64| humantime::format_duration(Duration::from_micros(us)).to_string();
    let (really, fix) = if samples == 0 {
        (
            format!("at every sampling interval ({})", written(sample_us)),
            written(sample_us),
        )
    } else {
        (
            format!(
                "every {samples} sampling interval{} ({})",
                if samples == 1 { "" } else { "s" },
                written(samples * sample_us)
            ),
            written(samples * sample_us),
        )
    };
    ctx.report(
        Diagnostic::warning(
            Code::ApplyInterval,
            format!(
                "scheme `{}` is applied {really}, not every {}: the kernel counts the apply interval in whole sampling intervals of {}",
                scheme.name,
                written(apply_us),
                written(sample_us)
            ),
        )
        .label("not a multiple of `sample_interval`")
        .help(format!("write a multiple of `sample_interval`, e.g. \"{fix}\"")),
        &path.join("apply_interval"),
    );
}

#[cfg(test)]
mod tests {
    use super::super::tests::findings;

    fn apply(monitoring: &str, interval: &str) -> Vec<String> {
        findings(&format!(
            "[target]\nprocess = \"a\"\n[monitoring]\n{monitoring}\n[[scheme]]\naction = \"stat\"\napply_interval = {interval:?}\n"
        ))
    }

    #[test]
    fn apply_intervals_in_whole_sampling_intervals() {
        // Shorter than the aggregation interval is what the kernel's moving sum is for.
        assert!(apply("", "50ms").is_empty());
        assert!(apply("", "1s").is_empty());
        assert_eq!(apply("", "12ms"), ["W:apply-interval"]);
        assert_eq!(apply("", "1ms"), ["W:apply-interval"]);
        assert!(apply("sample_interval = \"3ms\"", "12ms").is_empty());
        // Autotuning changes the sampling interval: the rounding is not known.
        assert!(apply("autotune = { access = \"4%\" }", "12ms").is_empty());
    }

    #[test]
    fn the_rounding_is_said_in_time() {
        let text = "[target]\nprocess = \"a\"\n[[scheme]]\naction = \"stat\"\napply_interval = \"12ms\"\n";
        let outcome = crate::validate::validate_file(
            std::sync::Arc::new(crate::policy::source::SourceFile::new("p.toml", text)),
            crate::kernel::Version::NEWEST_KNOWN,
        );
        assert_eq!(
            outcome.diagnostics[0].message,
            "scheme `0` is applied every 2 sampling intervals (10ms), not every 12ms: the kernel counts the apply interval in whole sampling intervals of 5ms"
        );
    }
}
