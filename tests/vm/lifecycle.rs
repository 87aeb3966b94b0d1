//! Scenario `50-lifecycle.sh`: three policies through their lifecycle: one field changed,
//! one policy of three removed, a process that exits and comes back, `stop` of one policy, and
//! slots reused as policies come and go.

use crate::harness::VmRun;
use crate::reports::{effect, kdamonds, ops, policy};
use crate::suite::on_both_kernels;
use std::collections::BTreeMap;

on_both_kernels! {
    /// Change one field, remove one policy of three, a process that exits and comes back,
    /// `stop` of one policy.
    policy_lifecycle => lifecycle;
}

fn lifecycle(run: &VmRun) {
    run.passed("lifecycle_apply");
    let slots: BTreeMap<String, String> = run.measures["lifecycle_slots"]
        .split(',')
        .filter_map(|kv| kv.split_once(':'))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let (reclaim, thp) = (&slots["proactive-reclaim"], &slots["thp-hot-cold"]);

    let change = run.passed("lifecycle_change");
    run.check(
        change.field("kdamonds_before") == change.field("kdamonds_after"),
        || format!("a kdamond changed: {:?}", change.fields),
    );
    let plan = run.json("lifecycle_change_plan");
    let expected = vec![
        (
            format!("kdamonds/{reclaim}/contexts/0/schemes/0/access_pattern/age/min"),
            Some("600".to_owned()),
            "300".to_owned(),
        ),
        (
            format!("kdamonds/{reclaim}/state"),
            Some("on".to_owned()),
            "commit".to_owned(),
        ),
    ];
    run.check(ops(&plan) == expected, || format!("one-field plan: {:?}", ops(&plan)));
    run.check(effect(run, &plan, "proactive-reclaim") == "commit", || {
        format!("plan: {plan}")
    });
    for other in ["thp-hot-cold", "physical-stat"] {
        run.check(effect(run, &plan, other) == "unchanged", || format!("plan: {plan}"));
    }

    let remove = run.passed("lifecycle_remove");
    let plan = run.json("lifecycle_remove_plan");
    run.check(
        ops(&plan) == vec![(format!("kdamonds/{thp}/state"), Some("on".to_owned()), "off".to_owned())],
        || format!("removal plan: {:?}", ops(&plan)),
    );
    run.check(effect(run, &plan, "thp-hot-cold") == "stop", || format!("plan: {plan}"));
    let (before, after) = (
        kdamonds(remove.field("kdamonds_before")),
        kdamonds(remove.field("kdamonds_after")),
    );
    for (slot, kdamond) in &before {
        if slot == thp {
            run.check(after[slot].0 == "off", || {
                format!("removed policy still runs: {after:?}")
            });
        } else {
            run.check(after[slot] == *kdamond, || {
                format!("kdamond {slot} changed: {before:?} -> {after:?}")
            });
        }
    }

    run.passed("lifecycle_exit");
    let status = run.json("lifecycle_status_exited");
    let exited = policy(run, &status, "proactive-reclaim");
    run.check(
        exited["state"] == "off" && exited["note"].as_str().is_some_and(|n| n.contains("processes exited")),
        || format!("status after the process exited: {exited}"),
    );
    run.check(policy(run, &status, "physical-stat")["state"] == "on", || {
        format!("status: {status}")
    });
    run.passed("lifecycle_pending");

    let restart = run.passed("lifecycle_restart");
    let plan = run.json("lifecycle_restart_plan");
    run.check(effect(run, &plan, "proactive-reclaim") == "start", || {
        format!("restart plan: {plan}")
    });
    let worker = restart.field("worker");
    run.check(
        ops(&plan)
            .iter()
            .any(|(path, _, new)| path.ends_with("/targets/0/pid_target") && new == worker),
        || {
            format!(
                "the restart plan does not target the new process {worker}: {:?}",
                ops(&plan)
            )
        },
    );
    let status = run.json("lifecycle_status_restarted");
    let restarted = policy(run, &status, "proactive-reclaim");
    run.check(
        restarted["state"] == "on" && restarted["targets"] == serde_json::json!([format!("pid {worker}")]),
        || format!("status after restart: {restarted}"),
    );
    run.passed("lifecycle_stop_one");
    run.passed("lifecycle_grow_reuse");
}
