//! Scenario `60-foreign.sh`: kdamonds another tool started are refused by `plan` and `apply`
//! and never touched, by `stop` neither, whichever slot they take.

use crate::harness::VmRun;
use crate::reports::policy;
use crate::suite::on_both_kernels;

on_both_kernels! {
    /// Another tool's kdamonds are refused and never touched, by apply, plan or stop.
    foreign_kdamonds_are_left_alone => foreign;
}

fn foreign(run: &VmRun) {
    let setup = run.passed("foreign_setup");
    let pid = setup.field("kdamond_pid");
    for name in ["foreign_plan", "foreign_apply"] {
        let step = run.passed(name);
        let message = step.field("message");
        let wanted = format!("kdamond 0 (running, pid {pid}, ops vaddr, 1 scheme(s))");
        run.check(
            step.field("exit") == "3" && message.contains(&wanted) && message.contains("--takeover"),
            || format!("{name}: {:?}", step.fields),
        );
    }
    run.passed("foreign_stop");
    run.passed("foreign_spare_setup");
    run.passed("foreign_spare_stop");
    let step = run.passed("foreign_spare_apply");
    run.check(step.field("message").contains("kdamond 1 (running"), || {
        format!("{:?}", step.fields)
    });
    let step = run.passed("foreign_reused_apply");
    run.check(step.field("message").contains("kdamond 0 (running"), || {
        format!("{:?}", step.fields)
    });
    let status = run.json("foreign_reused_status");
    let ours = policy(run, &status, "physical-stat");
    run.check(
        ours["state"] == "foreign" && ours["schemes"].as_array().is_some_and(Vec::is_empty),
        || format!("status: {status}"),
    );
}
