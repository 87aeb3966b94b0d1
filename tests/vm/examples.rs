//! Scenario `40-examples.sh`: every example policy the kernel supports runs at once, the rest
//! are refused naming their release; re-applying writes nothing; a watermark-gated edit;
//! apply beside a held lock; `stop` of them all.

use crate::harness::VmRun;
use crate::reports::{effect, int, kdamonds, ops, policy};
use crate::suite::on_both_kernels;

on_both_kernels! {
    /// Every example policy the kernel supports runs at once; the rest are refused naming
    /// the release they need; re-applying writes nothing; `stop` stops them all.
    every_supported_example_policy_applies => examples;
}

/// The example policies each kernel supports: all on 7.x; on 6.12 not the tiering pair,
/// whose quota goals name a NUMA node (6.16).
fn examples(run: &VmRun) {
    let setup = run.passed("examples_setup");
    run.check(setup.field("nodes") == "0-1", || {
        format!("NUMA nodes online: {:?}", setup.field("nodes"))
    });
    let all = [
        "lru-sort",
        "observe-web",
        "proactive-reclaim",
        "reclaim-under-pressure",
        "thp-hot-cold",
        "tier-demote",
        "tier-promote",
    ];
    let unsupported: &[&str] = if run.series == "6.12" {
        &["tier-demote", "tier-promote"]
    } else {
        &[]
    };
    for name in all {
        let check = run.passed(&format!("examples_check_{name}"));
        if unsupported.contains(&name) {
            let error = check.field("error");
            run.check(
                check.field("supported") == "no" && error.contains("needs kernel 6.16"),
                || format!("{name} should be refused for needing 6.16: {:?}", check.fields),
            );
        } else {
            run.check(check.field("supported") == "yes", || {
                format!("{name} refused: {:?}", check.fields)
            });
        }
    }
    let apply = run.passed("examples_apply");
    let status = run.json("examples_status");
    let policies = status["policies"].as_array().cloned().unwrap_or_default();
    run.check(policies.len() == all.len() - unsupported.len(), || {
        format!("status: {status}")
    });
    let mut slots = Vec::new();
    for p in &policies {
        let name = p["policy"].as_str().unwrap_or_default();
        run.check(p["state"] == "on" && int(run, &p["pid"], "pid") > 0, || {
            format!("{name} not running: {p}")
        });
        let targets = p["targets"].as_array().cloned().unwrap_or_default();
        let physical = ["lru-sort", "reclaim-under-pressure", "tier-demote", "tier-promote"].contains(&name);
        run.check(
            !targets.is_empty()
                && targets.iter().all(|t| {
                    let t = t.as_str().unwrap_or_default();
                    if physical {
                        t.starts_with("physical, ")
                    } else {
                        t.starts_with("pid ")
                    }
                }),
            || format!("{name} targets: {targets:?}"),
        );
        let schemes = p["schemes"].as_array().cloned().unwrap_or_default();
        run.check(!schemes.is_empty(), || format!("{name} has no scheme stats: {p}"));
        for scheme in &schemes {
            for stat in ["nr_tried", "sz_tried", "nr_applied", "sz_applied", "qt_exceeds"] {
                int(run, &scheme[stat], stat);
            }
            if name == "observe-web" {
                run.check(scheme["action"] == "stat", || {
                    format!("observe mode runs as stat: {scheme}")
                });
            }
        }
        slots.push(int(run, &p["slot"], "slot"));
    }
    slots.sort_unstable();
    slots.dedup();
    run.check(slots.len() == policies.len(), || format!("slots shared: {status}"));
    run.check(
        kdamonds(apply.field("kdamonds"))
            .values()
            .all(|(state, _)| state == "on"),
        || format!("kdamonds after apply: {}", apply.field("kdamonds")),
    );

    let reapply = run.passed("examples_reapply");
    run.check(
        reapply.field("writes") == "0" && reapply.field("plan_ops") == "0",
        || format!("re-apply: {:?}", reapply.fields),
    );
    let plan = run.json("examples_reapply_plan");
    run.check(
        plan["kdamonds"]
            .as_array()
            .is_some_and(|k| k.iter().all(|k| k["effect"] == "unchanged")),
        || format!("re-apply plan: {plan}"),
    );

    gated_change(run);
    let busy = run.passed("examples_busy_lock");
    // One changed file and its `commit`, made once the lock was free again.
    run.check(busy.field("writes") == "2", || {
        format!("apply beside a held lock: {:?}", busy.fields)
    });

    run.passed("examples_stop");
    let stopped = run.json("examples_status_stopped");
    run.check(
        stopped["policies"]
            .as_array()
            .is_some_and(|p| p.iter().all(|p| p["state"] == "off")),
        || format!("status after stop: {stopped}"),
    );
}

/// lru-sort edited while its watermarks keep every scheme inactive: restarted before 6.16
/// (the kernel would hold the `commit` write until a scheme activates), committed after.
fn gated_change(run: &VmRun) {
    let change = run.passed("examples_gated_change");
    let plan = run.json("examples_gated_plan");
    let (before, after) = (run.json("examples_gated_before"), run.json("examples_gated_after"));
    let pid = |status: &serde_json::Value| int(run, &policy(run, status, "lru-sort")["pid"], "pid");
    let quota_writes = ops(&plan)
        .iter()
        .filter(|(path, _, new)| path.ends_with("/quotas/ms") && new == "20")
        .count();
    run.check(quota_writes == 2, || format!("plan: {plan}"));
    let old_kernel = run.series == "6.12";
    let expected = if old_kernel { "restart" } else { "commit" };
    run.check(effect(run, &plan, "lru-sort") == expected, || {
        format!("lru-sort should {expected}: {plan}")
    });
    let others_unchanged = plan["kdamonds"].as_array().is_some_and(|all| {
        all.iter()
            .filter(|k| k["policy"] != "lru-sort")
            .all(|k| k["effect"] == "unchanged")
    });
    run.check(others_unchanged, || format!("only lru-sort changes: {plan}"));
    // Two quota files, then `commit`, or `off` and `on`.
    let writes = if old_kernel { "4" } else { "3" };
    run.check(change.field("writes") == writes, || {
        format!("gated change: {:?}", change.fields)
    });
    run.check(policy(run, &after, "lru-sort")["state"] == "on", || {
        format!("after: {after}")
    });
    run.check((pid(&before) == pid(&after)) != old_kernel, || {
        format!("lru-sort pid {} -> {} on {}", pid(&before), pid(&after), run.series)
    });
}
