//! Rules for migrating schemes (`migrate_hot`, `migrate_cold`): a destination, one way of
//! naming it, and weighted destinations the kernel will follow as written.

use std::collections::HashMap;

use crate::diag::{Code, Diagnostic};
use crate::kernel::Ops;
use crate::model::resolved::Scheme;
use crate::model::wire as model;
use crate::policy::source::KeyPath;

use super::Ctx;

/// A migrating scheme needs exactly one of `target_node` and `destinations`; other actions
/// take neither.
pub fn check(ctx: &mut Ctx<'_>, ops: Option<Ops>, scheme: &Scheme, wire: &model::Scheme, path: &KeyPath) {
    let has_dest = wire.target_node.is_some() || wire.destinations.is_some();
    if scheme.action.is_migration() {
        if !has_dest {
            ctx.report(
                Diagnostic::error(
                    Code::MigrateDestination,
                    format!("`{}` needs a destination node", scheme.action.keyword()),
                )
                .help("add `target_node = N`, or `destinations = [{ node = N, weight = 1 }]`"),
                &path.join("action"),
            );
        }
        if wire.target_node.is_some() && wire.destinations.is_some() {
            ctx.report_key(
                Diagnostic::error(
                    Code::MigrateDestination,
                    "`target_node` and `destinations` are alternatives",
                )
                .help("keep one: `target_node` for a single node, `destinations` for weighted nodes"),
                &path.join("destinations"),
            );
        }
        // Physical memory migrates every folio to `target_nid` (`damon_pa_migrate()` in
        // mm/damon/paddr.c); only the virtual address operations read `dests/`. Written for
        // paddr, the destinations would be ignored and `target_nid` stay -1: nothing moves.
        if ops == Some(Ops::Paddr) && wire.destinations.is_some() && wire.target_node.is_none() {
            ctx.report_key(
                Diagnostic::error(
                    Code::MigrateDestination,
                    "physical memory migrates to `target_node` only: the kernel ignores `destinations` for `paddr`",
                )
                .help("write `target_node = N` for one node, or target processes to spread pages over weighted nodes"),
                &path.join("destinations"),
            );
        }
        destinations(ctx, scheme, &path.join("destinations"));
    } else if has_dest {
        let key = if wire.target_node.is_some() {
            "target_node"
        } else {
            "destinations"
        };
        ctx.report_key(
            Diagnostic::error(
                Code::MigrateDestination,
                format!("`{key}` has no effect on a `{}` scheme", scheme.action.keyword()),
            )
            .help("destinations are for `migrate_hot` and `migrate_cold`; remove it"),
            &path.join(key),
        );
    }
}

/// Weighted destinations (`dests/`, 6.17+). The kernel spreads the folios of a region over
/// the destinations like weighted interleaving: the folio's index modulo the sum of the
/// weights picks a destination (`damos_va_migrate_dests_add()` in mm/damon/vaddr.c).
///
/// - A node listed twice takes no error from the kernel and works as one entry with the
///   summed weight, so the repetition says nothing the file could not say once: it is a
///   mistyped node id far more often than intent. Error.
/// - A weight of 0 is meaningful and documented ("the weight can be any integer"): the node
///   gets no share, which keeps it listed while sending it nothing. Accepted. But when every
///   weight is 0 the kernel skips migration altogether ("If the total weights are somehow 0,
///   don't migrate at all"): the scheme can never do anything. Warning, as for schemes
///   that can never match.
/// - The sum is an `unsigned int` in the kernel: weights adding up past 2^32 - 1 wrap, and
///   the shares are no longer the ones written. Error.
fn destinations(ctx: &mut Ctx<'_>, scheme: &Scheme, path: &KeyPath) {
    if scheme.dests.is_empty() {
        return;
    }
    let mut first = HashMap::new();
    for (d, dest) in scheme.dests.iter().enumerate() {
        let Some(&earlier) = first.get(&dest.node) else {
            first.insert(dest.node, d);
            continue;
        };
        let mut diagnostic = Diagnostic::error(
            Code::MigrateDestination,
            format!("node {} is listed twice in `destinations`", dest.node),
        )
        .label("listed again")
        .help("list each node once; to give a node a larger share, raise its `weight` instead");
        if let Some(span) = ctx.span(&path.join(earlier).join("node")) {
            diagnostic.related.push((span, "first listed here".to_owned()));
        }
        ctx.report(diagnostic, &path.join(d).join("node"));
    }
    let total: u64 = scheme.dests.iter().map(|d| u64::from(d.weight)).sum();
    if total == 0 {
        ctx.report(
            Diagnostic::warning(Code::NeverMigrates, format!("scheme `{}` never migrates anything: every destination has weight 0", scheme.name))
                .help("the kernel migrates nothing when the weights add up to 0; give at least one destination a non-zero `weight`"),
            path,
        );
    } else if total > u64::from(u32::MAX) {
        ctx.report(
            Diagnostic::error(
                Code::MigrateDestination,
                format!(
                    "the destination weights add up to {total}, more than the kernel's 32-bit sum holds (4294967295)"
                ),
            )
            .help("weights are relative: scale them down (e.g. 3 and 1 instead of 3000000000 and 1000000000)"),
            path,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::findings;

    #[test]
    fn destinations() {
        let dests = |list: &str| {
            findings(&format!(
                "[target]\nprocess = \"app\"\n[[scheme]]\naction = \"migrate_hot\"\ndestinations = {list}\n"
            ))
        };
        assert!(dests("[{ node = 0 }, { node = 1, weight = 3 }]").is_empty());
        // A weight of 0 keeps a node listed and sends it nothing.
        assert!(dests("[{ node = 0, weight = 0 }, { node = 1 }]").is_empty());
        assert_eq!(
            dests("[{ node = 0, weight = 0 }, { node = 1, weight = 0 }]"),
            ["W:never-migrates"]
        );
        assert_eq!(dests("[{ node = 1 }, { node = 1 }]"), ["E:migrate-destination"]);
        assert_eq!(
            dests("[{ node = 0, weight = 4294967295 }, { node = 1 }]"),
            ["E:migrate-destination"]
        );
    }

    #[test]
    fn physical_memory_migrates_to_one_node() {
        let physical = |dest: &str| {
            findings(&format!(
                "[target]\nphysical = true\n[[scheme]]\naction = \"migrate_cold\"\n{dest}\n"
            ))
        };
        assert!(physical("target_node = 1").is_empty());
        assert_eq!(physical("destinations = [{ node = 1 }]"), ["E:migrate-destination"]);
    }
}
