//! End-to-end tests on real kernels: each cached Debian kernel (6.12 LTS and the newest 7.x) is
//! booted once under qemu with the freshly built `damo-policy` and `damo-workload`, runs the
//! guest scenarios of `tests/vm/guest/scenarios/`, and every test below asserts on what one
//! scenario reported. Both kernels boot in parallel on first use; the runner is
//! `tests/vm/harness.rs`.
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
    let kernel = harness::find_kernel(series)
        .map_err(|e| missing.push(e))
        .ok();
    let Some(kernel) = kernel.filter(|_| missing.is_empty()) else {
        return Outcome::Skipped(missing.join("; "));
    };
    let work = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("vm-e2e")
        .join(series);
    let binaries = (
        Path::new(env!("CARGO_BIN_EXE_damo-policy")),
        Path::new(env!("CARGO_BIN_EXE_damo-workload")),
    );
    match harness::boot(&kernel, &work, binaries.0, binaries.1) {
        Ok(run) => Outcome::Ran(run),
        Err(err) => Outcome::Failed(err),
    }
}

/// One block for the test output (`--nocapture` shows it): per kernel, the boot time and every
/// measure the guest reported.
fn summary(outcomes: &BTreeMap<&'static str, Outcome>, wall_s: f64) -> String {
    let mut text = format!(
        "VM suite: {wall_s:.1}s wall time for {} kernels\n",
        outcomes.len()
    );
    for (series, outcome) in outcomes {
        match outcome {
            Outcome::Skipped(why) => writeln!(text, "  {series}: skipped ({why})"),
            Outcome::Failed(_) => writeln!(text, "  {series}: FAILED to complete"),
            Outcome::Ran(run) => {
                let measures: Vec<String> = run
                    .measures
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                writeln!(
                    text,
                    "  {series} ({}): {:.1}s, {}",
                    run.release,
                    run.elapsed.as_secs_f64(),
                    measures.join(" ")
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

fn probe(series: &str) {
    let Some(run) = vm(series) else { return };
    let step = run.passed("probe");
    let ops: Vec<&str> = step.field("avail_operations").split(',').collect();
    for wanted in ["vaddr", "fvaddr", "paddr"] {
        run.check(ops.contains(&wanted), || {
            format!("avail_operations {ops:?} lacks {wanted}")
        });
    }
}

#[test]
fn probe_finds_damon_sysfs_with_all_operations_6_12() {
    probe("6.12");
}

#[test]
fn probe_finds_damon_sysfs_with_all_operations_7() {
    probe("7");
}

/// The binary starts in the guest (its libraries were found). Its exit code is recorded, not
/// judged: the CLI is still taking shape.
fn binary_runs(series: &str) {
    let Some(run) = vm(series) else { return };
    let step = run.passed("damo_policy_runs");
    eprintln!(
        "damo-policy --version in the guest: exit {} output {:?}",
        step.field("exit"),
        step.field("output")
    );
}

#[test]
fn damo_policy_binary_runs_in_guest_6_12() {
    binary_runs("6.12");
}

#[test]
fn damo_policy_binary_runs_in_guest_7() {
    binary_runs("7");
}

/// Checks common to both kernels: swap, workload and kdamond came up, the scheme paged
/// something out, and the hot region stayed resident. Returns (RSS before, RSS after) in KiB.
fn seed_pageout_common(run: &VmRun) -> (u64, u64) {
    run.passed("zram");
    let workload = run.passed("workload");
    run.check(workload.field("comm") == "seed-workload", || {
        format!(
            "workload comm is {:?}, not the --name given",
            workload.field("comm")
        )
    });
    run.passed("kdamond_on");
    run.passed("seed_pageout");
    let applied = run.measure("seed_sz_applied");
    run.check(applied > 0, || {
        "the pageout scheme applied to 0 bytes".into()
    });
    let hot_kib = 8 * 1024;
    let hot_after = run.measure("seed_hot0_resident_after_kib");
    run.check(hot_after >= hot_kib * 7 / 8, || {
        format!("hot region not resident after pageout: {hot_after} KiB of {hot_kib}")
    });
    (
        run.measure("seed_rss_before_kib"),
        run.measure("seed_rss_after_kib"),
    )
}

/// On 6.12 the scheme takes the cold 64 MiB almost entirely out of the process.
#[test]
fn seed_pageout_swaps_out_most_of_the_cold_region_6_12() {
    let Some(run) = vm("6.12") else { return };
    let (before, after) = seed_pageout_common(run);
    let half_cold_kib = 32 * 1024;
    run.check(before.saturating_sub(after) >= half_cold_kib, || {
        format!("RSS went from {before} KiB to {after} KiB, less than {half_cold_kib} KiB freed")
    });
    let swap_after = run.measure("seed_swap_after_kib");
    run.check(swap_after >= half_cold_kib, || {
        format!("only {swap_after} KiB of the workload in swap")
    });
}

/// Newer kernels split and age regions differently and page out more slowly: the scheme must
/// apply and the cold region must shrink, without a figure to reach.
#[test]
fn seed_pageout_shrinks_the_cold_region_7() {
    let Some(run) = vm("7") else { return };
    seed_pageout_common(run);
    let (before, after) = (
        run.measure("seed_cold0_resident_before_kib"),
        run.measure("seed_cold0_resident_after_kib"),
    );
    run.check(after < before, || {
        format!("cold region resident {before} KiB before, {after} KiB after")
    });
}

/// Debian 7.x boots with damon_stat running, which refuses a sysfs kdamond with EBUSY until
/// `enabled` is written N; then the same configuration starts.
#[test]
fn damon_stat_refuses_sysfs_kdamond_until_disabled_7() {
    let Some(run) = vm("7") else { return };
    let refusal = run.passed("damon_stat_refusal");
    run.check(refusal.field("error").contains("busy"), || {
        format!("refused, but not with EBUSY: {:?}", refusal.field("error"))
    });
    let disable = run.passed("damon_stat_disable");
    run.check(disable.field("enabled") == "N", || {
        format!("damon_stat enabled={:?}", disable.field("enabled"))
    });
    run.passed("kdamond_on");
}
