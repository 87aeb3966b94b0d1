//! `damo-policy status` and `damo-policy stop`: the owned kdamonds and their schemes'
//! statistics (refreshed from the kernel on demand), and stopping them.

use std::io::Write as _;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use super::live::LiveArgs;
use super::{Output, usage_error};
use crate::host::ProcessMemory;
use crate::kernel::Layout;
use crate::reconcile::Stopped;
use crate::reconcile::status::{PolicyStatus, collect};
use crate::watch::ServiceStatus;

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub live: LiveArgs,
    #[arg(long, value_enum, default_value_t = StatusFormat::Text)]
    pub format: StatusFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct StopArgs {
    /// Policies to stop; default: every policy damo-policy applied.
    #[arg(value_name = "POLICY")]
    pub policies: Vec<String>,
    #[command(flatten)]
    pub live: LiveArgs,
}

/// Bytes as people read them: `512 B`, `1.5 MiB`.
fn human_bytes(bytes: u64) -> String {
    bytesize::ByteSize::b(bytes).display().iec().to_string()
}

/// A byte count read from sysfs, as people read it (what is not a number stays as read).
fn human_bytes_text(text: &str) -> String {
    text.parse::<u64>().map_or_else(|_| text.to_owned(), human_bytes)
}

/// A target as the text output shows it: a process with what the host says of its memory,
/// `pid 164 (batch-worker, RSS 8.6 MiB, swap 64.1 MiB)`.
fn target_text(target: &str, processes: &[ProcessMemory]) -> String {
    let memory = target
        .strip_prefix("pid ")
        .and_then(|pid| processes.iter().find(|m| m.pid.to_string() == pid));
    match memory {
        Some(m) => format!(
            "{target} ({}, RSS {}, swap {})",
            m.name,
            human_bytes(m.rss_bytes),
            human_bytes(m.swap_bytes)
        ),
        None => target.to_owned(),
    }
}

/// `damo-policy status`.
pub fn run_status(args: &StatusArgs, out: &mut Output) -> ExitCode {
    let live = match args.live.open() {
        Ok(live) => live,
        Err(message) => return usage_error(&message),
    };
    let host = args.live.host.host();
    let free_mem_permil = host.free_mem_permil().ok();
    let statuses: Vec<PolicyStatus> = live
        .state
        .policies
        .iter()
        .map(|(name, own)| {
            collect(
                live.kernel.sysfs(),
                &host,
                name,
                own,
                Layout::new(live.info.version),
                free_mem_permil,
            )
        })
        .collect();
    if args.format == StatusFormat::Json {
        let json = serde_json::json!({ "kernel": live.info.version.to_string(), "policies": statuses, "service": ServiceStatus::read(&live.store) });
        let _ = writeln!(out, "{}", serde_json::to_string_pretty(&json).unwrap_or_default());
        return live
            .kernel
            .save()
            .map_or_else(|m| usage_error(&m), |()| ExitCode::SUCCESS);
    }
    let _ = writeln!(
        out,
        "kernel {} ({}), {} polic{} applied",
        live.info.version,
        live.info.release,
        statuses.len(),
        if statuses.len() == 1 { "y" } else { "ies" }
    );
    if let Some(service) = ServiceStatus::read(&live.store) {
        // The file outlives the service: say whether it still runs.
        let running = match &service.exited {
            Some(when) => format!("exited {when} (pid {})", service.pid),
            None if !host.is_running(service.pid) => format!("pid {} is gone without exiting cleanly", service.pid),
            None => format!("pid {}", service.pid),
        };
        let _ = writeln!(
            out,
            "service: {running}, generation {}, last reload {} ({}): {}{}",
            service.generation,
            service.last_reload,
            service.cause,
            service.result,
            service
                .message
                .as_deref()
                .map(|m| format!(" — {m}"))
                .unwrap_or_default()
        );
        for error in &service.errors {
            let message = error["message"].as_str().unwrap_or("");
            // A finding of no file (a directory that cannot be read) has no location.
            let _ = match (error["file"].as_str(), error["line"].as_u64(), error["column"].as_u64()) {
                (Some(file), Some(line), Some(column)) => writeln!(out, "  {file}:{line}:{column}: {message}"),
                (Some(file), _, _) => writeln!(out, "  {file}: {message}"),
                _ => writeln!(out, "  {message}"),
            };
        }
        for hidden in &service.not_shown {
            let _ = writeln!(out, "  {}", hidden.note());
        }
    }
    for s in &statuses {
        let _ = match &s.recording {
            Some(r) => writeln!(
                out,
                "`{}`: recording by pid {}: kdamond {} {} pid {}",
                s.policy, r.recorder_pid, s.slot, s.state, s.pid
            ),
            None => writeln!(
                out,
                "policy `{}` ({}): kdamond {} {} pid {}",
                s.policy, s.file, s.slot, s.state, s.pid
            ),
        };
        for note in s.note.iter().chain(&s.stats_note) {
            let _ = writeln!(out, "  {note}");
        }
        let targets: Vec<String> = s.targets.iter().map(|t| target_text(t, &s.processes)).collect();
        let _ = writeln!(
            out,
            "  targets: {}",
            if targets.is_empty() {
                "none".to_owned()
            } else {
                targets.join(", ")
            }
        );
        for sc in &s.schemes {
            let quota = sc
                .effective_quota_bytes
                .as_deref()
                .map(|q| format!(", effective quota {}", human_bytes_text(q)))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  scheme {} {}: tried {} regions / {}, applied {} regions / {}, quota exceeded {} time(s){quota}",
                sc.index,
                sc.action,
                sc.nr_tried,
                human_bytes_text(&sc.sz_tried),
                sc.nr_applied,
                human_bytes_text(&sc.sz_applied),
                sc.qt_exceeds
            );
        }
    }
    match live.kernel.save() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => usage_error(&message),
    }
}

/// `damo-policy stop`: turns off owned kdamonds only; their slots stay reserved.
pub fn run_stop(args: &StopArgs, out: &mut Output) -> ExitCode {
    let mut live = match args.live.open() {
        Ok(live) => live,
        Err(message) => return usage_error(&message),
    };
    // The record's writer lock, held until the kdamonds are off: an apply or the service's
    // reconcile beside this stop would otherwise plan from kdamonds that are about to stop,
    // or start one this stop then turns off. Under the lock the record is read again, as an
    // apply that ran meanwhile may have moved policies to other slots.
    let _lock = match live.store.lock() {
        Ok(lock) => lock,
        Err(e) => return usage_error(format!("the state record: {e}")),
    };
    match live.store.load(&live.state.boot_id) {
        Ok(record) => live.state = record,
        Err(e) => return usage_error(format!("cannot read the state record: {e}")),
    }
    if let Some(unknown) = args.policies.iter().find(|p| !live.state.policies.contains_key(*p)) {
        return usage_error(format!("`{unknown}` is not a policy damo-policy applied on this boot"));
    }
    let mut failed = false;
    let mut err = std::io::stderr().lock();
    for (name, slot, result) in crate::reconcile::stop_owned(live.kernel.sysfs(), &live.state, &args.policies) {
        match result {
            Ok(Stopped::Stopped) => {
                let _ = writeln!(out, "stopped `{name}` (kdamond {slot})");
            }
            Ok(Stopped::NotRunning) => {
                let _ = writeln!(out, "`{name}` (kdamond {slot}) is not running");
            }
            Ok(Stopped::Foreign { pid }) => {
                let _ = writeln!(
                    out,
                    "`{name}` (kdamond {slot}) is not running; another tool's kdamond runs in its slot now (pid {pid}), left alone"
                );
            }
            Err(e) => {
                let _ = writeln!(err, "error: stopping `{name}`: {e}");
                failed = true;
            }
        }
    }
    if let Err(message) = live.kernel.save() {
        return usage_error(&message);
    }
    if failed {
        ExitCode::from(super::apply::KERNEL_REFUSED)
    } else {
        ExitCode::SUCCESS
    }
}
