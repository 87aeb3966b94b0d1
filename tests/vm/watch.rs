//! Scenario `90-watch.sh`: the `apply --watch` service on a real kernel: edits committed
//! within 1 s on the same kdamond, a bad edit changing nothing, a deleted file stopping only
//! its kdamond, SIGTERM leaving the policies running.

use crate::harness::VmRun;
use crate::suite::on_both_kernels;

on_both_kernels! {
    /// `apply --watch`: an edit is committed within 1 s on the same kdamond, a bad edit
    /// changes nothing, a deleted file stops only its kdamond, SIGTERM leaves policies running.
    watch_service_reloads_on_edits => watch;
}

fn watch(run: &VmRun) {
    run.passed("watch_start");
    // The median of three edits, each from the file change to the value in the kernel.
    let edit = run.passed("watch_edit");
    let latency: u64 = edit.field("latency_ms").parse().unwrap_or(u64::MAX);
    run.check(
        latency <= 1000 && edit.field("pid_before") == edit.field("pid_after"),
        || format!("watch_edit: {:?}", edit.fields),
    );
    let bad = run.passed("watch_bad_edit");
    run.check(bad.field("digest_before") == bad.field("digest_after"), || {
        format!("watch_bad_edit: {:?}", bad.fields)
    });
    run.passed("watch_delete");
    run.passed("watch_sigterm");
}
