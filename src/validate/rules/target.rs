//! Rules of `[target]`: one selector of a known form, each pid once, address ranges only
//! where they mean something, and an operations set that monitors the selected memory.

use std::collections::HashMap;

use crate::diag::{Code, Diagnostic};
use crate::kernel::Ops;
use crate::key_path;
use crate::model::resolved::{Selector, Target};
use crate::model::wire::{self as model, Physical};
use crate::validate::shape::{self, PhysicalShape, Selected};

use super::{Ctx, ranges};

/// The target as written: its shape, its pids and the order of its address ranges.
pub(super) fn written(ctx: &mut Ctx<'_>, wire: &model::Target) {
    let path = key_path!["target"];
    let Some(selected) = shape::selected(wire) else {
        let given = shape::selector_keys(wire);
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
            Diagnostic::error(Code::TargetSelector, message)
                .label("exactly one of pids, process, cgroup, physical")
                .help("keep exactly one of `pids`, `process`, `cgroup` or `physical`; use one policy per target"),
            &path,
        );
        return;
    };
    if let Some(list) = &wire.regions {
        ranges::regions(ctx, list, &path.join("regions"));
    }
    match selected {
        Selected::Pids(pids) => unique_pids(ctx, pids),
        Selected::Physical(physical) => {
            if wire.regions.as_ref().is_some_and(|list| !list.is_empty()) {
                ctx.report_key(
                    Diagnostic::error(Code::RegionsPlacement, "`target.regions` are process address ranges")
                        .help("for physical memory write `physical = { regions = [...] }` instead"),
                    &path.join("regions"),
                );
            }
            self::physical(ctx, physical);
        }
        Selected::Process(name) => process_name(ctx, name),
        Selected::Cgroup(_) => {}
    }
}

/// The most bytes of a process name: `comm` is `TASK_COMM_LEN` (16) bytes with its NUL.
const COMM_MAX_BYTES: usize = 15;

/// A process is found by its `comm`, which the kernel cuts to 15 bytes: a longer name (in
/// bytes: a non-ASCII character takes 2 to 4) is the name of no process.
fn process_name(ctx: &mut Ctx<'_>, name: &str) {
    if name.len() <= COMM_MAX_BYTES {
        return;
    }
    let mut cut = COMM_MAX_BYTES;
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    ctx.report(
        Diagnostic::error(
            Code::ProcessName,
            format!(
                "the process name is {} bytes; the kernel keeps at most {COMM_MAX_BYTES} bytes of a name (`comm`), so no process has this one",
                name.len()
            ),
        )
        .label(format!("longer than {COMM_MAX_BYTES} bytes"))
        .help(format!(
            "write the name as /proc/<pid>/comm shows it, cut to {COMM_MAX_BYTES} bytes (a non-ASCII character takes 2 to 4): \"{}\"",
            name[..cut].escape_debug()
        )),
        &key_path!["target", "process"],
    );
}

fn physical(ctx: &mut Ctx<'_>, wire: &Physical) {
    let path = key_path!["target", "physical"];
    match (wire, shape::physical(wire)) {
        (_, Some(PhysicalShape::Regions(list))) => ranges::regions(ctx, list, &path.join("regions")),
        (_, Some(_)) => {}
        (Physical::Whole(_), None) => ctx.report(
            Diagnostic::error(Code::TargetSelector, "`physical = false` selects no memory")
                .help("write `physical = true`, or choose another selector"),
            &path,
        ),
        (Physical::Select(_), None) => ctx.report(
            Diagnostic::error(
                Code::TargetSelector,
                "`physical` needs exactly one of `numa_node` or `regions`",
            )
            .help("write `physical = { numa_node = 0 }` or `physical = { regions = [...] }`"),
            &path,
        ),
    }
}

/// A pid listed twice is a mistake the kernel takes: two DAMON targets over one address
/// space, each region sampled and acted on twice and counted twice in the statistics.
fn unique_pids(ctx: &mut Ctx<'_>, pids: &[u32]) {
    let path = key_path!["target", "pids"];
    let mut first = HashMap::new();
    for (i, pid) in pids.iter().enumerate() {
        let Some(&earlier) = first.get(pid) else {
            first.insert(*pid, i);
            continue;
        };
        let mut diagnostic = Diagnostic::error(
            Code::DuplicatePid,
            format!("pid {pid} is listed twice in `target.pids`"),
        )
        .label("listed again")
        .help("remove the repeated pid: DAMON would monitor the process twice, as two targets over one address space");
        if let Some(span) = ctx.span(&path.join(earlier)) {
            diagnostic.related.push((span, "first listed here".to_owned()));
        }
        ctx.report(diagnostic, &path.join(i));
    }
}

/// The operations set monitors the memory the target selects.
pub(super) fn ops(ctx: &mut Ctx<'_>, target: &Target, ops: Ops) {
    let physical = matches!(
        target.selector,
        Selector::PhysicalWhole | Selector::PhysicalNode(_) | Selector::PhysicalRegions
    );
    let ops_path = key_path!["target", "ops"];
    if physical && ops != Ops::Paddr {
        ctx.report(
            Diagnostic::error(
                Code::OpsTarget,
                format!("physical memory is monitored by `paddr`, not `{}`", ops.keyword()),
            )
            .help("remove `ops`, or select processes instead of `physical`"),
            &ops_path,
        );
    }
    if !physical && ops == Ops::Paddr {
        ctx.report(
            Diagnostic::error(
                Code::OpsTarget,
                "`paddr` monitors physical memory and takes exactly one target, not processes",
            )
            .help("use `physical = true` (or a node or regions) with paddr, or remove `ops`"),
            &ops_path,
        );
    }
    if ops == Ops::Fvaddr && target.regions.is_empty() {
        ctx.report(
            Diagnostic::error(
                Code::FvaddrRegions,
                "`fvaddr` monitors fixed address ranges and needs `target.regions`",
            )
            .help("add `regions = [{ start = \"0x…\", end = \"0x…\" }]`, or use `vaddr`"),
            &ops_path,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::findings;

    #[test]
    fn process_names_are_at_most_15_bytes() {
        let process = |name: &str| {
            findings(&format!(
                "[target]\nprocess = {name:?}\n[[scheme]]\naction = \"stat\"\n"
            ))
        };
        assert!(process("kworker-abcdefg").is_empty());
        assert!(process("éééééé").is_empty());
        // 15 characters, 30 bytes: longer than any `comm`.
        assert_eq!(process("ééééééééééééééé"), ["E:process-name"]);
        assert_eq!(process("aaaaaaaaaaaaaaé"), ["E:process-name"]);
    }
}
