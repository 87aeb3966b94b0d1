//! Scenario `70-memcg.sh`: a memcg filter naming a missing cgroup is refused, named, and the
//! previous configuration runs on.

use crate::harness::VmRun;
use crate::reports::policy;
use crate::suite::on_both_kernels;

on_both_kernels! {
    /// A memcg filter on a missing cgroup: refused, named, the previous configuration runs.
    bad_memcg_filter_keeps_the_previous_configuration => memcg;
}

/// 7.x checks a commit before applying it: the kdamond runs on, same pid. 6.12 reports a bad
/// commit by terminating the kdamond; apply then restores the previous files and starts it
/// again (a new pid).
fn memcg(run: &VmRun) {
    run.passed("memcg_apply");
    let bad = run.passed("memcg_bad");
    let message = bad.field("message");
    for wanted in [
        "cgroup `/no-such.slice` not found",
        "policy `memcg-filter`",
        "the previous configuration is restored",
    ] {
        run.check(message.contains(wanted), || {
            format!("message does not say {wanted:?}: {message}")
        });
    }
    if run.series != "6.12" {
        run.check(
            bad.field("kdamond_pid_before") == bad.field("kdamond_pid_after"),
            || format!("the kdamond was restarted: {:?}", bad.fields),
        );
        run.check(message.contains("[ENOMEM]"), || {
            format!("not the kernel's ENOMEM: {message}")
        });
    }
    let status = run.json("memcg_status");
    run.check(policy(run, &status, "memcg-filter")["state"] == "on", || {
        format!("status: {status}")
    });
}
