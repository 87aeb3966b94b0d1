//! The suite's one boot per kernel and the tests' access to it: every cached kernel boots
//! once, in parallel, the first time a test asks (`vm`); the run is summarised on stderr, and
//! a kernel that cannot run here is skipped with a banner saying why, or fails the tests with
//! `REQUIRE_VM=1`. `on_both_kernels!` declares a scenario's tests, one per kernel.

use crate::harness::{self, VmRun};
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
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("vm").join(series);
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
        host_damo: harness::host_damo(),
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
pub fn vm(series: &str) -> Option<&'static VmRun> {
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
/// `body(run)` when that kernel's run is available; `body` is a function of the module that
/// invokes the macro.
macro_rules! on_both_kernels {
    ($($(#[$doc:meta])* $name:ident => $body:ident;)*) => {$(
        $(#[$doc])*
        mod $name {
            #[test]
            fn kernel_6_12() {
                if let Some(run) = crate::suite::vm("6.12") {
                    super::$body(run);
                }
            }
            #[test]
            fn kernel_7() {
                if let Some(run) = crate::suite::vm("7") {
                    super::$body(run);
                }
            }
        }
    )*};
}
pub(crate) use on_both_kernels;
