//! Rules of one resolved `[[scheme]]` beyond its parts: a unique name, an access pattern
//! that can match, an action the operations set implements, and watermarks in order.

use crate::diag::{Code, Diagnostic};
use crate::kernel::{Action, Ops};
use crate::model::resolved::{Monitoring, Scheme};
use crate::policy::source::KeyPath;

use super::Ctx;

/// The smallest region DAMON can have: one page.
const PAGE_SIZE: u64 = 4096;

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
