//! Scenario `95-crash.sh`: SIGKILL to `apply` of four policies at points spread over its run
//! and at exact kernel writes, and between a write and its commit; SIGKILL to the `--watch`
//! service after an edit; a full and a read-only state directory. After each fault the
//! next apply converges (same slots, four kdamonds on, the record naming their pids, nothing
//! left to do), the service adopts its kdamonds with the same pids, and a state directory
//! that cannot be written stops apply before it writes, with the fix in the message. The
//! figures (faults by kind, outcomes) are the scenario's `crash_*` measures.

use crate::harness::VmRun;
use crate::suite::on_both_kernels;

on_both_kernels! {
    /// An apply killed anywhere converges on the next apply, to the same slots.
    killed_apply_converges => killed_apply;
    /// An apply killed between a write and its commit: the next one commits, restarts none.
    killed_commit_is_completed => killed_commit;
    /// The service killed mid-reload, started again, adopts its kdamonds and applies the edit.
    killed_service_adopts_its_kdamonds => killed_service;
    /// A full or read-only state directory: a clear error, the kernel untouched, then repaired.
    unwritable_state_directory_is_refused_then_repaired => state_directory;
}

/// Every step of the scenario whose name starts with `prefix`, each of which must pass.
fn trials<'a>(run: &'a VmRun, prefix: &str) -> Vec<&'a crate::harness::Step> {
    let steps: Vec<_> = run
        .steps
        .iter()
        .filter(|s| s.name.starts_with(prefix) && s.name[prefix.len()..].parse::<u32>().is_ok())
        .collect();
    for step in &steps {
        run.passed(&step.name);
    }
    steps
}

fn killed_apply(run: &VmRun) {
    run.passed("crash_reference");
    let steps = trials(run, "crash_apply_");
    run.check(steps.len() == 7, || format!("{} apply trials", steps.len()));
    // The exact points always kill; a timed one may come after a fast apply ended.
    let exact_kills = steps
        .iter()
        .filter(|s| s.field("mode") == "write" && s.field("killed") == "yes");
    run.check(exact_kills.count() == 4, || format!("{steps:?}"));
    run.check(run.measure("crash_apply_kills") >= 5, || {
        format!("too few timed kills landed in the apply: {steps:?}")
    });
    run.check(run.measure("crash_apply_failed") == 0, || format!("{steps:?}"));
}

fn killed_commit(run: &VmRun) {
    let steps = trials(run, "crash_commit_");
    run.check(steps.len() == 2, || format!("{} commit trials", steps.len()));
    run.check(
        run.measure("crash_commit_kills") == 2 && run.measure("crash_commit_failed") == 0,
        || format!("{steps:?}"),
    );
}

fn killed_service(run: &VmRun) {
    run.passed("crash_watch_start");
    let steps = trials(run, "crash_watch_");
    run.check(steps.len() == 3, || format!("{} service trials", steps.len()));
    run.check(
        run.measure("crash_watch_adopted_same_pids") == 3 && run.measure("crash_watch_failed") == 0,
        || format!("{steps:?}"),
    );
    // Paused before its commit, the service was killed with the edit written but not taken:
    // the service started again commits it.
    let paused = steps
        .iter()
        .find(|s| s.field("mode") == "write")
        .expect("the paused trial");
    run.check(paused.field("start").contains("alpha=commit"), || {
        format!("{:?}", paused.fields)
    });
}

fn state_directory(run: &VmRun) {
    let full = run.passed("crash_state_full");
    run.check(
        full.field("message")
            .contains("cannot record the kdamonds this apply would change, so nothing was written"),
        || format!("{:?}", full.fields),
    );
    run.passed("crash_state_full_repaired");
    let read_only = run.passed("crash_state_read_only");
    run.check(
        read_only.field("message").contains("lock: Read-only file system"),
        || format!("{:?}", read_only.fields),
    );
    run.passed("crash_state_read_only_repaired");
    run.check(
        run.measure("crash_state_dir_faults") == 2 && run.measure("crash_state_dir_repaired") == 2,
        || format!("{:?}", run.measures),
    );
}
