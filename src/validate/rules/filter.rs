//! Rules of a scheme's filters: the arguments of each type, an operations set that
//! evaluates the filter, and a `target` index that names a target.

use crate::diag::{Code, Diagnostic};
use crate::kernel::{FilterType, Ops};
use crate::model::resolved::{FilterArg, Scheme, Selector, Target};
use crate::model::wire as model;
use crate::policy::source::KeyPath;
use crate::validate::shape;

use super::{Ctx, ranges};

/// A filter as written: the arguments its type takes, present, and no others.
pub(super) fn written(ctx: &mut Ctx<'_>, wire: &model::Filter, path: &KeyPath) {
    let kind = wire.kind.keyword();
    let a_filter = a_filter(kind);
    let takes = shape::filter_takes(wire.kind);
    for key in shape::stray_filter_arguments(wire) {
        let fix = if takes.is_empty() {
            format!("{a_filter} takes no arguments; remove `{key}`")
        } else {
            let takes: Vec<String> = takes.iter().map(|k| format!("`{k}`")).collect();
            format!("{a_filter} takes {}; remove `{key}`", takes.join(" and "))
        };
        ctx.report_key(
            Diagnostic::error(
                Code::FilterArgument,
                format!("`{key}` is not an argument of {a_filter}"),
            )
            .label("not for this filter type")
            .help(fix),
            &path.join(key),
        );
    }
    let missing: &[(&str, &str)] = match wire.kind {
        FilterType::Memcg if wire.cgroup.is_none() => &[("cgroup", "\"system.slice/app.service\"")],
        FilterType::Addr => match (&wire.start, &wire.end) {
            (None, None) => &[("start", "\"0x100000000\""), ("end", "\"0x200000000\"")],
            (None, Some(_)) => &[("start", "\"0x100000000\"")],
            (Some(_), None) => &[("end", "\"0x200000000\"")],
            (Some(_), Some(_)) => &[],
        },
        FilterType::Target if wire.target.is_none() => &[("target", "0")],
        FilterType::HugepageSize if wire.min.is_none() && wire.max.is_none() => &[("min", "\"2MiB\"")],
        _ => &[],
    };
    if !missing.is_empty() {
        let keys: Vec<String> = missing.iter().map(|(key, _)| format!("`{key}`")).collect();
        let adds: Vec<String> = missing
            .iter()
            .map(|(key, example)| format!("`{key} = {example}`"))
            .collect();
        let keys = keys.join(" and ");
        ctx.report_key(
            Diagnostic::error(Code::FilterArgument, format!("{a_filter} needs {keys}"))
                .label(format!(
                    "{keys} {} missing",
                    if missing.len() == 1 { "is" } else { "are" }
                ))
                .help(format!("add {}", adds.join(" and "))),
            path,
        );
    }
    ranges::address_filter(ctx, wire, path);
}

/// "a `memcg` filter", "an `addr` filter": the article the keyword's first sound takes.
fn a_filter(kind: &str) -> String {
    let article = if kind.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} `{kind}` filter")
}

/// `target` and `ops` are `None` when the target does not resolve.
pub(super) fn check(ctx: &mut Ctx<'_>, target: Option<&Target>, ops: Option<Ops>, scheme: &Scheme, path: &KeyPath) {
    for (f, filter) in scheme.filters.iter().enumerate() {
        let fp = path.join("filter").join(f);
        if let (FilterArg::Target(index), Some(target)) = (&filter.arg, target) {
            target_index(ctx, target, *index, &fp.join("target"));
        }
        if let Some(ops) = ops
            && !filter.kind.is_core()
            && ops != Ops::Paddr
        {
            ctx.report(
                Diagnostic::warning(
                    Code::FilterOps,
                    format!(
                        "`{}` filters are evaluated by the paddr operations set; with `{}` the kernel may ignore them",
                        filter.kind.keyword(),
                        ops.keyword()
                    ),
                )
                .help("use `addr` or `target` filters with process targets, or monitor physical memory"),
                &fp.join("type"),
            );
        }
        if let FilterArg::HugepageSize(range) = filter.arg {
            ranges::hugepage_filter(ctx, range, &fp);
        }
    }
}

/// A `target` filter names a DAMON target by its index in the context's target list, and the
/// kernel compares that index with each target's position (`damos_filter_match()` in
/// mm/damon/core.c), checking it against nothing: an index past the last target matches no
/// memory, so the filter silently does nothing (or, with `matching = false`, applies to all
/// memory). Where the number of targets is fixed by the file — one per listed pid, one for
/// physical memory — such an index is an error. A `process` or `cgroup` policy has one target
/// per process found at each apply (in ascending pid order), a number that changes as
/// processes come and go: an index beyond today's count may be meant for a busier moment, so
/// it is accepted without a warning that would fire on legitimate policies. Only an index no
/// number of processes reaches (there are fewer than `PID_MAX` of them) is refused there.
fn target_index(ctx: &mut Ctx<'_>, target: &Target, index: u32, at: &KeyPath) {
    let (count, what) = match &target.selector {
        Selector::Pids(pids) => (
            pids.len(),
            format!(
                "{} target{}, one per pid of `target.pids`",
                pids.len(),
                if pids.len() == 1 { "" } else { "s" }
            ),
        ),
        Selector::PhysicalWhole | Selector::PhysicalNode(_) | Selector::PhysicalRegions => (
            1,
            "1 target: physical memory is monitored as a single target".to_owned(),
        ),
        Selector::Process(_) | Selector::Cgroup(_) => (
            model::PID_MAX as usize,
            format!("at most {} targets, one per running process", model::PID_MAX),
        ),
    };
    if (index as usize) < count {
        return;
    }
    ctx.report(
        Diagnostic::error(Code::FilterTarget, format!("the `target` filter's index {index} names no target: this policy has {what}"))
            .label("no such target")
            .help(match count {
                1 => "the only target is number 0: write `target = 0`, or remove the filter (as written it matches no memory)".to_owned(),
                _ => format!("targets are numbered from 0 in the order DAMON gets them: use an index from 0 to {}, or remove the filter (as written it matches no memory)", count - 1),
            }),
        at,
    );
}
