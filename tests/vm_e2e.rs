//! End-to-end tests on real kernels: each cached Debian kernel (6.12 LTS and the newest 7.x) is
//! booted once under qemu with the freshly built `damo-policy` and `damo-workload`, runs the
//! guest scenarios of `tests/vm/guest/scenarios/` (each drives `damo-policy` in the guest and
//! reports steps, measures and the JSON output of `plan` and `status`), and every test below
//! asserts on what one scenario reported, on each kernel (`<test>::kernel_6_12`,
//! `<test>::kernel_7`). Both kernels boot in parallel on first use; the runner is
//! `tests/vm/harness.rs`. `DAMO_POLICY_VM_ONLY=30,50` runs only the scenarios whose names
//! start with those prefixes (for work on one scenario; the other tests then fail);
//! `DAMO_POLICY_VM_BIN_DIR=target/release` boots the release binaries instead of this build's.
//!
//! Without qemu, cpio, a static busybox or the cached kernels the tests print a banner saying
//! what is missing and pass without running, unless `REQUIRE_VM=1`, which turns that into a
//! failure (CI sets it). Kernels: `tests/vm/fetch-kernels.sh`; cache:
//! `$DAMO_POLICY_VM_CACHE` or `~/.cache/damo-policy-vm`.

#[path = "vm/harness.rs"]
mod harness;

use harness::VmRun;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::sync::OnceLock;
use std::thread;
use std::time::Instant;

const SERIES: [&str; 2] = ["6.12", "7"];

enum Outcome {
    Skipped(String),
    Failed(String),
    Ran(VmRun),
}

/// Boots every kernel once, in parallel, the first time any test asks.
fn suite() -> &'static BTreeMap<&'static str, Outcome> {
    static SUITE: OnceLock<BTreeMap<&'static str, Outcome>> = OnceLock::new();
    SUITE.get_or_init(|| {
        let start = Instant::now();
        let missing_tools = harness::missing_tools();
        let outcomes: BTreeMap<_, _> = thread::scope(|scope| {
            let runs: Vec<_> = SERIES
                .map(|series| {
                    let missing_tools = &missing_tools;
                    scope.spawn(move || (series, run_series(series, missing_tools)))
                })
                .into_iter()
                .collect();
            runs.into_iter()
                .map(|h| h.join().expect("boot thread panicked"))
                .collect()
        });
        // Straight to stderr: the test harness captures eprintln! of passing tests, and a
        // skipped suite or its timings must show in every run.
        let mut report = summary(&outcomes, start.elapsed().as_secs_f64());
        for (series, outcome) in &outcomes {
            if let Outcome::Skipped(why) = outcome {
                report.push_str(&skip_banner(series, why));
                report.push('\n');
            }
        }
        let _ = std::io::stderr().write_all(report.as_bytes());
        outcomes
    })
}

fn run_series(series: &'static str, missing_tools: &[String]) -> Outcome {
    let mut missing = missing_tools.to_vec();
    let kernel = harness::find_kernel(series).map_err(|e| missing.push(e)).ok();
    let Some(kernel) = kernel.filter(|_| missing.is_empty()) else {
        return Outcome::Skipped(missing.join("; "));
    };
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("vm-e2e").join(series);
    // The binaries of this build, or those of DAMO_POLICY_VM_BIN_DIR (e.g. target/release,
    // to time the release build in the guest).
    let (damo_policy, damo_workload) = match std::env::var_os("DAMO_POLICY_VM_BIN_DIR") {
        Some(dir) => (
            Path::new(&dir).join("damo-policy"),
            Path::new(&dir).join("damo-workload"),
        ),
        None => (
            Path::new(env!("CARGO_BIN_EXE_damo-policy")).to_path_buf(),
            Path::new(env!("CARGO_BIN_EXE_damo-workload")).to_path_buf(),
        ),
    };
    let options = harness::BootOptions {
        only: std::env::var("DAMO_POLICY_VM_ONLY")
            .map(|v| v.split(',').map(str::to_owned).collect())
            .unwrap_or_default(),
        demo: false,
    };
    match harness::boot(&kernel, &work, &damo_policy, &damo_workload, &options) {
        Ok(run) => Outcome::Ran(run),
        Err(err) => Outcome::Failed(err),
    }
}

/// One block for the test output (`--nocapture` shows it): per kernel, the boot time, each
/// scenario's time, and every measure the guest reported, wrapped.
fn summary(outcomes: &BTreeMap<&'static str, Outcome>, wall_s: f64) -> String {
    let mut text = format!("VM suite: {wall_s:.1}s wall time for {} kernels\n", outcomes.len());
    for (series, outcome) in outcomes {
        match outcome {
            Outcome::Skipped(why) => writeln!(text, "  {series}: skipped ({why})"),
            Outcome::Failed(_) => writeln!(text, "  {series}: FAILED to complete"),
            Outcome::Ran(run) => {
                let (scenarios, measures): (Vec<_>, Vec<_>) =
                    run.measures.iter().partition(|(k, _)| k.starts_with("scenario_"));
                let scenarios: Vec<String> = scenarios
                    .iter()
                    .map(|(k, v)| format!("{}={v}s", &k["scenario_".len()..k.len() - 2]))
                    .collect();
                let mut lines = vec![String::new()];
                for (k, v) in measures {
                    let item = format!("{k}={v} ");
                    if lines.last().is_some_and(|l| l.len() + item.len() > 96) {
                        lines.push(String::new());
                    }
                    lines.last_mut().expect("one line at least").push_str(&item);
                }
                writeln!(
                    text,
                    "  {series} ({}): {:.1}s; scenarios: {}\n    {}",
                    run.release,
                    run.elapsed.as_secs_f64(),
                    scenarios.join(" "),
                    lines.join("\n    ").trim_end()
                )
            }
        }
        .expect("writing to a String");
    }
    text
}

/// Why the suite cannot run for `series` here, and how to fix it.
fn skip_banner(series: &str, why: &str) -> String {
    format!(
        "\n{line}\nVM SUITE NOT RUN for kernel {series}: {why}\n\
         To run it: apt-get install -y qemu-system-x86 busybox-static cpio\n\
         \x20          tests/vm/fetch-kernels.sh   (caches kernels in {cache})\n\
         REQUIRE_VM=1 turns this skip into a failure.\n{line}",
        line = "=".repeat(78),
        cache = harness::cache_dir().display()
    )
}

/// The run of one kernel; `None` when the suite cannot run here (the banner was printed once
/// by `suite`), a failure instead with `REQUIRE_VM=1`.
fn vm(series: &str) -> Option<&'static VmRun> {
    match &suite()[series] {
        Outcome::Ran(run) => Some(run),
        Outcome::Failed(err) => panic!("{err}"),
        Outcome::Skipped(why) if std::env::var("REQUIRE_VM").is_ok_and(|v| v == "1") => {
            panic!("{}", skip_banner(series, why))
        }
        Outcome::Skipped(_) => None,
    }
}

/// Declares one test per kernel series: `name::kernel_6_12` and `name::kernel_7`, each calling
/// `body(run)` when that kernel's run is available.
macro_rules! on_both_kernels {
    ($($(#[$doc:meta])* $name:ident => $body:ident;)*) => {$(
        $(#[$doc])*
        mod $name {
            #[test]
            fn kernel_6_12() {
                if let Some(run) = super::vm("6.12") {
                    super::$body(run);
                }
            }
            #[test]
            fn kernel_7() {
                if let Some(run) = super::vm("7") {
                    super::$body(run);
                }
            }
        }
    )*};
}

on_both_kernels! {
    /// DAMON's sysfs interface is there and offers every operations set.
    probe_finds_damon_sysfs_with_all_operations => probe;
    /// The binary runs in the guest, and `damo-policy kernel` describes the guest's DAMON.
    binary_and_kernel_command_run => binary_and_kernel_command;
    /// `apply` of the seed policy pages the workload's cold memory out; `status` shows it.
    seed_pageout_by_apply => seed_pageout;
    /// Re-applying the seed policy plans no operation and writes nothing.
    seed_reapply_writes_nothing => seed_reapply;
    /// One changed field of the seed policy is that write and a `commit`, same kdamond.
    seed_one_field_is_one_write_and_commit => seed_change;
    /// Where damon_stat runs (Debian 7.x), apply refuses, naming it and the fix, and
    /// succeeds with --disable-modules; elsewhere nothing is refused.
    damon_stat_refused_then_disabled => damon_stat;
    /// Every example policy the kernel supports runs at once; the rest are refused naming
    /// the release they need; re-applying writes nothing; `stop` stops them all.
    every_supported_example_policy_applies => examples;
    /// Change one field, remove one policy of three, a process that exits and comes back,
    /// `stop` of one policy.
    policy_lifecycle => lifecycle;
    /// Another tool's kdamonds are refused and never touched, by apply, plan or stop.
    foreign_kdamonds_are_left_alone => foreign;
    /// A memcg filter on a missing cgroup: refused, named, the previous configuration runs.
    bad_memcg_filter_keeps_the_previous_configuration => memcg;
    /// A 6.15 feature is refused before any write on older kernels, applied on newer ones.
    newer_feature_is_gated_by_the_running_kernel => feature_gate;
    /// `apply --watch`: an edit is committed within 1 s on the same kdamond, a bad edit
    /// changes nothing, a deleted file stops only its kdamond, SIGTERM leaves policies running.
    watch_service_reloads_on_edits => watch;
}

/// `major.minor` of a release string (`6.12.117+deb12-amd64` → `6.12`).
fn version_of(run: &VmRun) -> String {
    run.release.split('.').take(2).collect::<Vec<_>>().join(".")
}

/// Whether the kernel started with damon_stat enabled (Debian 7.x does).
fn damon_stat_enabled(run: &VmRun) -> bool {
    run.passed("probe").field("damon_stat") == "Y"
}

fn int(run: &VmRun, value: &serde_json::Value, what: &str) -> u64 {
    let parsed = match value {
        serde_json::Value::String(s) => s.parse().ok(),
        serde_json::Value::Number(n) => n.as_u64(),
        _ => None,
    };
    parsed.unwrap_or_else(|| run.fail(&format!("{what} is not a number: {value}")))
}

/// The policy named `name` of a `status --format json` document.
fn policy<'a>(run: &VmRun, status: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    status["policies"]
        .as_array()
        .and_then(|all| all.iter().find(|p| p["policy"] == name))
        .unwrap_or_else(|| run.fail(&format!("no policy {name} in status {status}")))
}

/// `(path, old, new)` of every op of a `plan --format json` document.
fn ops(plan: &serde_json::Value) -> Vec<(String, Option<String>, String)> {
    plan["ops"]
        .as_array()
        .map(|ops| {
            ops.iter()
                .map(|op| {
                    let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
                    (
                        text(&op["path"]).unwrap_or_default(),
                        text(&op["old"]),
                        text(&op["new"]).unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The effect the plan gives `policy`'s kdamond.
fn effect<'a>(run: &VmRun, plan: &'a serde_json::Value, policy: &str) -> &'a str {
    plan["kdamonds"]
        .as_array()
        .and_then(|all| all.iter().find(|k| k["policy"] == policy))
        .and_then(|k| k["effect"].as_str())
        .unwrap_or_else(|| run.fail(&format!("no kdamond for {policy} in plan {plan}")))
}

/// `slot:state:pid` words of a kdamonds summary, by slot.
fn kdamonds(summary: &str) -> BTreeMap<String, (String, String)> {
    summary
        .split_whitespace()
        .filter_map(|word| {
            let mut parts = word.split(':');
            Some((
                parts.next()?.to_owned(),
                (parts.next()?.to_owned(), parts.next()?.to_owned()),
            ))
        })
        .collect()
}

fn probe(run: &VmRun) {
    let step = run.passed("probe");
    let ops: Vec<&str> = step.field("avail_operations").split(',').collect();
    for wanted in ["vaddr", "fvaddr", "paddr"] {
        run.check(ops.contains(&wanted), || {
            format!("avail_operations {ops:?} lacks {wanted}")
        });
    }
}

fn binary_and_kernel_command(run: &VmRun) {
    run.passed("damo_policy_runs");
    let kernel = run.passed("kernel_command").field("output");
    let version = version_of(run);
    for wanted in [
        format!("DAMON features of {version}"),
        "operations sets: vaddr, fvaddr, paddr".into(),
    ] {
        run.check(kernel.contains(&wanted), || {
            format!("`damo-policy kernel` does not say {wanted:?}: {kernel}")
        });
    }
    if damon_stat_enabled(run) {
        run.check(kernel.contains("module damon_stat: enabled (blocks"), || {
            format!("`damo-policy kernel` does not warn about damon_stat: {kernel}")
        });
    }
}

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

fn feature_gate(run: &VmRun) {
    run.passed("gate_baseline");
    let step = run.passed("gate_apply");
    if run.series == "6.12" {
        let message = step.field("message");
        run.check(step.field("exit") == "1" && step.field("unchanged") == "yes", || {
            format!("a 6.15 feature on 6.12: {:?}", step.fields)
        });
        run.check(
            message.contains("interval autotuning needs kernel 6.15 or later; the target kernel is 6.12"),
            || format!("the refusal does not name the feature and release: {message}"),
        );
    } else {
        let after = kdamonds(step.field("kdamonds_after"));
        run.check(
            step.field("exit") == "0" && after.len() == 2 && after.values().all(|(s, _)| s == "on"),
            || format!("a 6.15 feature on {}: {:?}", run.release, step.fields),
        );
    }
}
