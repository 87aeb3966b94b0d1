//! `damo-policy plan` and `damo-policy apply`: validate against the probed kernel, plan the
//! reconcile, print it; `apply` then executes, verifies and records it.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, ValueEnum};

use super::live::LiveArgs;
use super::output::IO_ERROR;
use super::{Output, summary, usage_error};
use crate::diag::Renderer;
use crate::host::HostPaths;
use crate::kernel::probe::KernelInfo;
use crate::reconcile::TAKEN_OVER;
use crate::reconcile::apply::Applied;
use crate::reconcile::outcome::{ModuleNames, Outcome};
use crate::reconcile::run::{Report, Settings, blocking_modules, once};
use crate::reconcile::{Effect, Options, Plan, explain};

/// Exit status when the kernel refuses or another tool's kdamonds are in the way.
pub const KERNEL_REFUSED: u8 = 3;

/// The options of `plan`: what the reconcile is, and how it is printed. `apply` takes the
/// same, so that a plan run with an apply's options shows what that apply will do.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Policy files or directories of policy files: the whole desired state.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub live: LiveArgs,
    /// Stop and reuse kdamonds that other tools started (refused by default).
    #[arg(long)]
    pub takeover: bool,
    /// Disable the DAMON modules (damon_reclaim, damon_lru_sort, damon_stat) whose
    /// exclusive kdamond makes the kernel refuse ours (plan: say which apply would disable).
    #[arg(long)]
    pub disable_modules: bool,
    /// Load policy files and directories even if users other than root can write them.
    #[arg(long)]
    pub allow_insecure_permissions: bool,
    /// Output format: `json` is one document, the plan and, for apply, its outcome (`applied`)
    /// (not with --watch, which logs).
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,
    /// Print every write of the plan, not only each kdamond's effect (apply without --watch;
    /// plan always does).
    #[arg(long, short)]
    pub verbose: bool,
}

/// `apply`: the plan's options, and those of the service (`--watch`). The service's options
/// require `--watch` and its output is its log, so without it they, and with it the report's
/// options, would be ignored: clap refuses them instead.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub plan: PlanArgs,
    /// Keep running: reconcile whenever the directory changes.
    #[arg(long, conflicts_with_all = ["format", "verbose"])]
    pub watch: bool,
    /// With --watch: quiet time that ends a batch of file changes (0 to 10s).
    #[arg(long, default_value = "200ms", value_name = "DURATION", value_parser = debounce_time, requires = "watch")]
    pub debounce: Duration,
    /// With --watch: period of the full resync (re-resolves targets, repairs drift; 1s to 24h).
    #[arg(long, default_value = "60s", value_name = "DURATION", value_parser = resync_period, requires = "watch")]
    pub resync: Duration,
    /// With --watch: turn the policies' kdamonds off on exit (default: leave them running).
    #[arg(long, requires = "watch")]
    pub stop_on_exit: bool,
}

/// The longest debounce: every edit waits for it, and a stream of events for up to ten times
/// it (the batch limit); beyond 10 s an edit looks ignored. 0 is fine: each event is then its
/// own reconcile, which is idempotent, only more work.
const DEBOUNCE_MAX: Duration = Duration::from_secs(10);
/// The shortest resync: each is a full reconcile (every policy read and validated, the
/// kernel's tree read), so more often than each second is polling DAMON, not a safety net.
const RESYNC_MIN: Duration = Duration::from_secs(1);
/// The longest: the resync is what starts a pending policy once its process appears, so it
/// cannot be turned off, and a day is already a long wait for that.
const RESYNC_MAX: Duration = Duration::from_secs(24 * 3600);

/// A duration from `min` to `max` (both inclusive), `range` saying them as people write them.
fn duration_within(text: &str, min: Duration, max: Duration, range: &str) -> Result<Duration, String> {
    let duration = *text.parse::<humantime::Duration>().map_err(|e| e.to_string())?;
    if duration < min || duration > max {
        return Err(format!("must be from {range}"));
    }
    Ok(duration)
}

fn debounce_time(text: &str) -> Result<Duration, String> {
    duration_within(text, Duration::ZERO, DEBOUNCE_MAX, "0s to 10s")
}

fn resync_period(text: &str) -> Result<Duration, String> {
    duration_within(text, RESYNC_MIN, RESYNC_MAX, "1s to 24h")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    Text,
    Json,
}

pub(super) fn settings(args: &PlanArgs) -> Settings {
    Settings {
        paths: args.paths.clone(),
        host: args.live.host.host(),
        sysfs_root: args.live.host.sysfs_root.clone(),
        options: Options {
            takeover: args.takeover,
        },
        disable_modules: args.disable_modules,
        strict_permissions: !args.allow_insecure_permissions,
    }
}

/// Prints a report of a plan (`write == false`) or an apply; returns the exit status.
fn report(
    report: &Report,
    info: &KernelInfo,
    host: &HostPaths,
    args: &PlanArgs,
    write: bool,
    renderer: &Renderer,
    out: &mut Output,
) -> ExitCode {
    let format = args.format;
    let writes_too = !write || args.verbose;
    let mut err = std::io::stderr().lock();
    if let Some(checked) = &report.checked {
        let _ = renderer.write_all(&mut err, checked.all_diagnostics());
    }
    if let Some(compiled) = &report.compiled {
        for skipped in &compiled.skipped {
            let what = if skipped.pending { "pending" } else { "error" };
            let _ = writeln!(
                err,
                "{what}: policy `{}` ({}): {}",
                skipped.policy, skipped.file, skipped.reason
            );
        }
    }
    for module in &report.disabled_modules {
        let _ = writeln!(err, "disabled the DAMON module `{module}`");
    }
    if let Some(plan) = &report.plan {
        // In JSON, the outcome of an apply is part of the one document: `applied` is the
        // outcome when the kernel took everything, null when it refused (stderr says why).
        let applied = match &report.outcome {
            Outcome::Applied(applied) => Some(Some(applied)),
            Outcome::Failed(_) => Some(None),
            _ => None,
        };
        print_plan(plan, info, format, writes_too, applied, out);
    }
    match &report.outcome {
        Outcome::Invalid => {
            let checked = report.checked.as_ref().expect("invalid policies were checked");
            let _ = writeln!(err, "{}; nothing was written", summary(checked));
            ExitCode::from(1)
        }
        Outcome::Unreadable(unreadable) => usage_error(unreadable),
        // Policy paths that others can write are the user's to fix, like a usage error: the
        // kernel was not even asked.
        Outcome::Insecure(paths) => usage_error(paths),
        Outcome::Refused(refusal) => {
            let _ = writeln!(err, "error: {refusal}");
            ExitCode::from(KERNEL_REFUSED)
        }
        Outcome::Planned => {
            // Every one of them, as each runs its own exclusive kdamond: naming only the first
            // would have the user disable it and meet the next at apply.
            let blocking = report
                .plan
                .as_ref()
                .map(|p| blocking_modules(p, &info.modules))
                .unwrap_or_default();
            if !blocking.is_empty() {
                let ModuleNames { names, s, are, them } = ModuleNames::of(&blocking);
                let _ = if args.disable_modules {
                    writeln!(
                        err,
                        "note: the DAMON module{s} {names} {are} enabled; apply --disable-modules disables {them} first, as the kernel refuses to start a sysfs kdamond beside {them}"
                    )
                } else {
                    writeln!(
                        err,
                        "note: the DAMON module{s} {names} {are} enabled; the kernel refuses to start a sysfs kdamond beside {them} (apply with --disable-modules)"
                    )
                };
            }
            // As `apply` would: a policy whose targets cannot be resolved is a failure to see.
            if report.unresolved() > 0 {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            }
        }
        Outcome::Applied(applied) => {
            if format == PlanFormat::Text {
                let _ = writeln!(out, "applied: {applied}");
            }
            // The kernel and the state record are written before this report: a report that
            // cannot be printed fails the command (exit 2, an I/O error) but must not read as
            // a failed apply, which would be 3 with the previous configuration restored.
            out.note_if_lost(format!(
                "the policies were applied ({applied}) and recorded; only this report was lost"
            ));
            if report.unresolved() > 0 {
                ExitCode::from(IO_ERROR)
            } else {
                ExitCode::SUCCESS
            }
        }
        Outcome::Failed(failed) => {
            let plan = report.plan.as_ref().expect("a failed apply had a plan");
            let text = explain::describe(failed, plan, &info.modules, host);
            let _ = writeln!(err, "error: {}", text.refused);
            let _ = writeln!(err, "  cause: {}", text.cause);
            let _ = writeln!(err, "  {}", text.restored);
            ExitCode::from(KERNEL_REFUSED)
        }
    }
}

/// Prints the plan: each kdamond's effect, and with `writes_too` every write. `applied`:
/// for an apply, its outcome (JSON only; the text says it after the plan).
fn print_plan(
    plan: &Plan,
    info: &KernelInfo,
    format: PlanFormat,
    writes_too: bool,
    applied: Option<Option<&Applied>>,
    out: &mut Output,
) {
    if format == PlanFormat::Json {
        let mut json = serde_json::json!({
            "kernel": info.version.to_string(),
            "kdamonds": plan.kdamonds,
            "ops": plan.ops,
        });
        if let Some(applied) = applied {
            json["applied"] = applied.map_or(
                serde_json::Value::Null,
                |a| serde_json::json!({ "writes": a.writes, "verified": true }),
            );
        }
        let _ = writeln!(out, "{}", serde_json::to_string_pretty(&json).unwrap_or_default());
        return;
    }
    let _ = writeln!(
        out,
        "kernel {} ({}): {} write(s)",
        info.version,
        info.evidence,
        plan.ops.len()
    );
    for k in &plan.kdamonds {
        // Another tool's kdamond that `--takeover` stops belongs to no policy.
        let owner = if k.policy == TAKEN_OVER {
            "another tool's".to_owned()
        } else {
            format!("policy `{}`", k.policy)
        };
        let _ = writeln!(
            out,
            "kdamond {}: {owner}: {} ({})",
            k.slot,
            effect_word(k.effect),
            k.reason
        );
    }
    for op in plan.ops.iter().filter(|_| writes_too) {
        let old = op.old.as_deref().unwrap_or("(new)");
        let scheme = op.scheme.map(|s| format!("  [scheme {s}]")).unwrap_or_default();
        let _ = writeln!(out, "  {} : {old} -> {}{scheme}", op.file, op.new);
    }
}

fn effect_word(effect: Effect) -> &'static str {
    match effect {
        Effect::Unchanged => "unchanged",
        Effect::Commit => "commit online",
        Effect::Start => "start",
        Effect::Stop => "stop",
        Effect::Restart => "restart",
    }
}

fn run(args: &PlanArgs, renderer: &Renderer, write: bool, out: &mut Output) -> ExitCode {
    let mut live = match args.live.open() {
        Ok(live) => live,
        Err(message) => return usage_error(&message),
    };
    let result = once(
        &settings(args),
        live.kernel.sysfs(),
        &live.info,
        &live.store,
        &mut live.state,
        write,
    );
    let code = report(&result, &live.info, &live.host, args, write, renderer, out);
    match live.kernel.save() {
        Ok(()) => code,
        Err(message) => usage_error(&message),
    }
}

/// `damo-policy plan`.
pub fn run_plan(args: &PlanArgs, renderer: &Renderer, out: &mut Output) -> ExitCode {
    run(args, renderer, false, out)
}

/// `damo-policy apply`.
pub fn run_apply(args: &ApplyArgs, renderer: &Renderer, out: &mut Output) -> ExitCode {
    if args.watch {
        return super::watch::run(args);
    }
    run(&args.plan, renderer, true, out)
}
