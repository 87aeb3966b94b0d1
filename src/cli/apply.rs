//! `damo-policy plan` and `damo-policy apply`: validate against the probed kernel, plan the
//! reconcile, print it; `apply` then executes, verifies and records it.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use super::live::{Live, LiveArgs};
use super::{status, summary, usage_error};
use crate::compile;
use crate::diag::{Diagnostic, Renderer};
use crate::kernel::Layout;
use crate::pipeline::{self, KernelChoice};
use crate::reconcile::{self, Effect, Options, Plan, PlanError, apply::apply, explain};
use crate::sysfs::Sysfs as _;

/// Exit status when the kernel refuses or another tool's kdamonds are in the way.
pub const KERNEL_REFUSED: u8 = 3;

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Policy files or directories of policy files: the whole desired state.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub live: LiveArgs,
    /// Stop and reuse kdamonds that other tools started (refused by default).
    #[arg(long)]
    pub takeover: bool,
    /// Disable the DAMON modules (damon_reclaim, damon_lru_sort, damon_stat) whose
    /// exclusive kdamond makes the kernel refuse ours.
    #[arg(long)]
    pub disable_modules: bool,
    /// Output format of the plan.
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    Text,
    Json,
}

struct Prepared {
    live: Live,
    plan: Plan,
    /// Policies whose targets could not be resolved: left as they are.
    failed_targets: usize,
}

fn refused(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(KERNEL_REFUSED)
}

/// Validation, compilation and the plan; `Err` is the exit status, already reported.
fn prepare(args: &ApplyArgs, renderer: &Renderer) -> Result<Prepared, ExitCode> {
    let live = args.live.open().map_err(|m| usage_error(&m))?;
    let version = live.info.version;
    let checked = pipeline::check_paths(&args.paths, &KernelChoice::Version(version), &live.host, &args.live.host.sysfs_root)
        .map_err(|m| usage_error(&m))?;
    let mut err = std::io::stderr().lock();
    for diagnostic in checked.all_diagnostics() {
        let _ = write!(err, "{}", renderer.render(diagnostic));
    }
    if checked.error_count() > 0 {
        let _ = writeln!(err, "{}; nothing was written", summary(&checked));
        return Err(status(&checked, false));
    }
    let policies = checked.policies();
    if let Some(p) = policies.iter().find(|p| p.enabled && !live.info.avail_ops.contains(&p.ops)) {
        let d = Diagnostic::error("kernel-feature", format!("policy `{}` uses `{}`, which this kernel has not registered", p.name, p.ops.keyword()))
            .help("check `damo-policy kernel` for the available operations sets");
        let _ = write!(err, "{}", renderer.render(&d));
        return Err(ExitCode::from(1));
    }
    let compiled = compile::compile(&policies, version, &live.host);
    let keep: BTreeSet<String> = compiled.skipped.iter().filter(|s| !s.pending).map(|s| s.policy.clone()).collect();
    for skipped in &compiled.skipped {
        let what = if skipped.pending { "pending" } else { "error" };
        let _ = writeln!(err, "{what}: policy `{}` ({}): {}", skipped.policy, skipped.file, skipped.reason);
    }
    let options = Options { takeover: args.takeover };
    let plan = match reconcile::plan(&live.sysfs, &compiled, Layout::new(version), &live.state, &keep, options) {
        Ok(plan) => plan,
        Err(PlanError::Sysfs(e)) => return Err(usage_error(&e.to_string())),
        Err(PlanError::Foreign(foreign, why)) => {
            let list: Vec<String> = foreign
                .iter()
                .map(|f| format!("kdamond {} ({}, pid {}, ops {}, {} scheme(s))", f.slot, if f.running { "running" } else { "staged" }, f.pid, f.ops, f.schemes))
                .collect();
            let reason = if why == "running" {
                "damo-policy never changes or stops a kdamond it did not start"
            } else {
                "adding a kdamond rewrites nr_kdamonds, which would erase them"
            };
            return Err(refused(&format!(
                "kdamonds of another tool are in {}: {}; {reason}. Stop them with the tool that started them, or run again with --takeover",
                live.sysfs.describe(),
                list.join("; ")
            )));
        }
    };
    Ok(Prepared { failed_targets: keep.len(), live, plan })
}

fn print_plan(plan: &Prepared, format: PlanFormat) {
    let mut out = std::io::stdout().lock();
    let info = &plan.live.info;
    if format == PlanFormat::Json {
        let json = serde_json::json!({
            "kernel": info.version.to_string(),
            "kdamonds": plan.plan.kdamonds,
            "ops": plan.plan.ops,
        });
        let _ = writeln!(out, "{}", serde_json::to_string_pretty(&json).unwrap_or_default());
        return;
    }
    let _ = writeln!(out, "kernel {} ({}): {} write(s)", info.version, info.evidence, plan.plan.ops.len());
    for k in &plan.plan.kdamonds {
        let _ = writeln!(out, "kdamond {}: policy `{}`: {} ({})", k.slot, k.policy, effect_word(k.effect), k.reason);
    }
    for op in &plan.plan.ops {
        let old = op.old.as_deref().unwrap_or("(new)");
        let scheme = op.scheme.map(|s| format!("  [scheme {s}]")).unwrap_or_default();
        let _ = writeln!(out, "  {} : {old} -> {}{scheme}", op.path, op.new);
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

/// `damo-policy plan`.
pub fn run_plan(args: &ApplyArgs, renderer: &Renderer) -> ExitCode {
    match prepare(args, renderer) {
        Ok(prepared) => {
            print_plan(&prepared, args.format);
            if blocking_module(&prepared).is_some() && !args.disable_modules {
                eprintln!("note: {}", module_note(&prepared));
            }
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}

fn starts_kdamond(plan: &Plan) -> bool {
    plan.ops.iter().any(|op| op.path.ends_with("/state") && op.new == "on")
}

fn blocking_module(prepared: &Prepared) -> Option<&crate::kernel::probe::ModuleState> {
    starts_kdamond(&prepared.plan).then(|| prepared.live.info.modules.iter().find(|m| m.enabled)).flatten()
}

fn module_note(prepared: &Prepared) -> String {
    let module = blocking_module(prepared).map_or("?", |m| m.name.as_str());
    format!("the DAMON module `{module}` is enabled; the kernel refuses to start a sysfs kdamond beside it (apply with --disable-modules to disable it)")
}

/// `damo-policy apply`.
pub fn run_apply(args: &ApplyArgs, renderer: &Renderer) -> ExitCode {
    let prepared = match prepare(args, renderer) {
        Ok(prepared) => prepared,
        Err(code) => return code,
    };
    if let Some(module) = blocking_module(&prepared) {
        if !args.disable_modules {
            return refused(&format!("{}; nothing was written", module_note(&prepared)));
        }
        if let Err(e) = std::fs::write(&module.param, "N") {
            return refused(&format!("cannot disable `{}` ({}): {e}", module.name, module.param.display()));
        }
        eprintln!("disabled the DAMON module `{}`", module.name);
    }
    print_plan(&prepared, args.format);
    let Prepared { live, plan, failed_targets, .. } = prepared;
    match apply(&live.sysfs, &plan, &live.state) {
        Ok(applied) => {
            if let Err(e) = live.store.save(&plan.state_after) {
                return usage_error(&format!("applied, but cannot record it in {}: {e}", live.store.dir().display()));
            }
            println!("applied: {} write(s), verified", applied.writes);
            if failed_targets > 0 { ExitCode::from(2) } else { ExitCode::SUCCESS }
        }
        Err(failed) => {
            let writes = plan.desired.get(&slot_of(&failed.op.path)).cloned().unwrap_or_default();
            let ctx = explain::Context {
                modules: &live.info.modules,
                cgroup_root: &live.host.cgroup_root,
                proc_root: &live.host.proc_root,
                writes: &writes,
            };
            let policy = failed.op.policy.clone().unwrap_or_else(|| "all".into());
            let scheme = failed.op.scheme.map(|s| format!(", scheme {s}")).unwrap_or_default();
            eprintln!("error: the kernel refused {} (policy `{policy}`{scheme}): {} [{}]", failed.op.path, failed.error.message, failed.error.errno_name());
            eprintln!("  cause: {}", explain::cause(&failed.op, &failed.error, &ctx));
            match &failed.restored {
                Ok(()) => eprintln!("  the previous configuration is restored and running; {} write(s) were made", failed.writes),
                Err(e) => eprintln!("  restoring the previous configuration failed too: {e}"),
            }
            ExitCode::from(KERNEL_REFUSED)
        }
    }
}

fn slot_of(path: &str) -> usize {
    path.split('/').nth(1).and_then(|s| s.parse().ok()).unwrap_or(usize::MAX)
}
