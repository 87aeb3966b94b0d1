//! Scenario `30-seed-pageout.sh`: `apply` of the seed policy pages a workload's cold memory
//! out into zram, re-applying writes nothing, one changed field is one write and a `commit`;
//! where damon_stat runs, apply refuses until `--disable-modules`.

use crate::harness::VmRun;
use crate::reports::{damon_stat_enabled, effect, int, ops, policy};
use crate::suite::on_both_kernels;

on_both_kernels! {
    /// `apply` of the seed policy pages the workload's cold memory out; `status` shows it.
    seed_pageout_by_apply => seed_pageout;
    /// Re-applying the seed policy plans no operation and writes nothing.
    seed_reapply_writes_nothing => seed_reapply;
    /// One changed field of the seed policy is that write and a `commit`, same kdamond.
    seed_one_field_is_one_write_and_commit => seed_change;
    /// Where damon_stat runs (Debian 7.x), apply refuses, naming it and the fix, and
    /// succeeds with --disable-modules; elsewhere nothing is refused.
    damon_stat_refused_then_disabled => damon_stat;
}

/// Sizes of the workload's cold and hot regions (`COLD` and `HOT` of the scenario).
const COLD_KIB: u64 = 64 * 1024;
const HOT_KIB: u64 = 8 * 1024;

/// On every kernel: the scheme applied, the cold region shrank, the hot one stayed, and
/// `status` shows the kdamond, its target and statistics. On 6.12 the cold 64 MiB leave the
/// process almost entirely; newer kernels split and age regions differently, so there only
/// the direction is asserted. `sz_applied` counts whole regions the action succeeded on: on
/// 6.12 vaddr pageout is madvise(), which fails for a region that spans an unmapped gap even
/// though it paged out the mapped part, so `sz_applied` can be far below what left memory.
fn seed_pageout(run: &VmRun) {
    run.passed("zram");
    let workload = run.passed("workload");
    run.check(workload.field("comm") == "seed-workload", || {
        format!("workload comm is {:?}, not the --name given", workload.field("comm"))
    });
    let apply = run.passed("seed_apply");
    run.passed("seed_pageout");

    let plan = run.json("seed_plan");
    run.check(effect(run, &plan, "seed") == "start", || {
        format!("plan from scratch: {plan}")
    });
    let planned = ops(&plan);
    run.check(
        planned
            .last()
            .is_some_and(|(p, _, new)| p == "kdamonds/0/state" && new == "on"),
        || format!("the plan does not end with `on`: {planned:?}"),
    );
    run.check(planned.len() as u64 == run.measure("seed_apply_writes"), || {
        format!(
            "apply made {} writes, the plan has {}",
            run.measure("seed_apply_writes"),
            planned.len()
        )
    });

    let status = run.json("seed_status");
    let seed = policy(run, &status, "seed");
    run.check(seed["slot"] == 0 && seed["state"] == "on", || format!("status: {seed}"));
    run.check(seed["pid"].as_str() == Some(apply.field("kdamond_pid")), || {
        format!(
            "status pid {} is not the kdamond's {}",
            seed["pid"],
            apply.field("kdamond_pid")
        )
    });
    let target = format!("pid {}", workload.field("pid"));
    run.check(seed["targets"] == serde_json::json!([target]), || {
        format!("status targets: {}", seed["targets"])
    });
    // What the host says of the target process, beside the kernel's statistics.
    let process = &seed["processes"][0];
    run.check(
        process["pid"]
            .as_u64()
            .is_some_and(|pid| pid.to_string() == workload.field("pid"))
            && process["name"] == "seed-workload"
            && process["rss_bytes"].as_u64().is_some_and(|b| b > 0)
            && process["swap_bytes"].as_u64().is_some_and(|b| b > 0),
        || format!("status processes: {}", seed["processes"]),
    );
    let scheme = &seed["schemes"][0];
    run.check(scheme["action"] == "pageout", || format!("status scheme: {scheme}"));
    run.check(int(run, &scheme["nr_tried"], "nr_tried") > 0, || {
        format!("nothing tried: {scheme}")
    });
    run.check(int(run, &scheme["sz_applied"], "sz_applied") > 0, || {
        format!("the pageout scheme applied to 0 bytes: {scheme}")
    });

    let hot_after = run.measure("seed_hot0_resident_after_kib");
    run.check(hot_after >= HOT_KIB * 7 / 8, || {
        format!("hot region not resident after pageout: {hot_after} KiB of {HOT_KIB}")
    });
    let (cold_before, cold_after) = (
        run.measure("seed_cold0_resident_before_kib"),
        run.measure("seed_cold0_resident_after_kib"),
    );
    run.check(cold_after < cold_before, || {
        format!("cold region resident {cold_before} KiB before, {cold_after} KiB after")
    });
    if run.series == "6.12" {
        let (before, after) = (run.measure("seed_rss_before_kib"), run.measure("seed_rss_after_kib"));
        run.check(before.saturating_sub(after) >= COLD_KIB / 2, || {
            format!(
                "RSS went from {before} KiB to {after} KiB, less than {} KiB freed",
                COLD_KIB / 2
            )
        });
        let swap_after = run.measure("seed_swap_after_kib");
        run.check(swap_after >= COLD_KIB / 2, || {
            format!("only {swap_after} KiB of the workload in swap")
        });
    }

    run.passed("seed_stop");
    let stopped = run.json("seed_status_stopped");
    let seed = policy(run, &stopped, "seed");
    run.check(seed["state"] == "off" && seed["note"].is_string(), || {
        format!("status after stop: {seed}")
    });
}

fn seed_reapply(run: &VmRun) {
    let step = run.passed("seed_reapply");
    run.check(step.field("plan_ops") == "0" && step.field("writes") == "0", || {
        format!("re-apply: {:?}", step.fields)
    });
}

fn seed_change(run: &VmRun) {
    let step = run.passed("seed_change");
    run.check(
        step.field("kdamond_pid_before") == step.field("kdamond_pid_after"),
        || format!("the kdamond changed: {:?}", step.fields),
    );
    run.check(step.field("age_min") == "40", || {
        format!("age not committed: {:?}", step.fields)
    });
    let plan = run.json("seed_change_plan");
    run.check(effect(run, &plan, "seed") == "commit", || format!("plan: {plan}"));
    let expected = vec![
        (
            "kdamonds/0/contexts/0/schemes/0/access_pattern/age/min".to_owned(),
            Some("30".to_owned()),
            "40".to_owned(),
        ),
        (
            "kdamonds/0/state".to_owned(),
            Some("on".to_owned()),
            "commit".to_owned(),
        ),
    ];
    run.check(ops(&plan) == expected, || {
        format!("plan of a one-field change: {:?}", ops(&plan))
    });
    run.check(run.measure("seed_change_writes") == 2, || {
        format!("{} writes for one field", run.measure("seed_change_writes"))
    });
}

fn damon_stat(run: &VmRun) {
    if !damon_stat_enabled(run) {
        run.check(run.step("damon_stat_refusal").is_none(), || {
            "a refusal was tested without damon_stat".into()
        });
        return;
    }
    let refusal = run.passed("damon_stat_refusal");
    let message = refusal.field("message");
    for wanted in ["damon_stat", "--disable-modules", "Nothing was written"] {
        run.check(message.contains(wanted), || {
            format!("refusal does not say {wanted:?}: {message}")
        });
    }
    let disable = run.passed("damon_stat_disable");
    run.check(disable.field("enabled") == "N", || {
        format!("damon_stat enabled={:?}", disable.field("enabled"))
    });
    run.passed("seed_apply");
}
