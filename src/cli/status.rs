//! `damo-policy status` and `damo-policy stop`: the owned kdamonds and their schemes'
//! statistics (refreshed from the kernel on demand), and stopping them.

use std::io::Write as _;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use serde::Serialize;

use super::live::LiveArgs;
use super::{Output, usage_error};
use crate::host::{HostPaths, ProcessMemory};
use crate::kernel::Layout;
use crate::kernel::keywords::Activity;
use crate::model::resolved::Scheme;
use crate::reconcile::Stopped;
use crate::reconcile::state::Owned;
use crate::sysfs::{Sysfs, read_briefly, read_retrying, write_retrying};

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

#[derive(Debug, Serialize)]
struct PolicyStatus {
    policy: String,
    file: String,
    slot: usize,
    state: String,
    pid: String,
    /// Why a kdamond that should run is off.
    note: Option<String>,
    /// Why the statistics were not refreshed, when they were not.
    stats_note: Option<String>,
    targets: Vec<String>,
    /// The target processes' memory now, to see what the schemes did to them.
    processes: Vec<ProcessMemory>,
    schemes: Vec<SchemeStatus>,
}

#[derive(Debug, Serialize)]
struct SchemeStatus {
    index: usize,
    action: String,
    nr_tried: String,
    sz_tried: String,
    nr_applied: String,
    sz_applied: String,
    qt_exceeds: String,
    effective_quota_bytes: Option<String>,
}

fn read_or(sysfs: &dyn Sysfs, path: &str) -> String {
    read_briefly(sysfs, path).unwrap_or_else(|_| "?".into())
}

fn count(sysfs: &dyn Sysfs, path: &str) -> usize {
    read_or(sysfs, path).parse().unwrap_or(0)
}

/// Why refreshing a running kdamond's statistics would wait, if it would: a kdamond whose
/// schemes all wait for their watermarks answers commands only at its next watermark check
/// (seconds), and 6.14–6.15 not before a scheme activates (maybe never). Their statistics
/// cannot change meanwhile anyway. `schemes`: those of the running configuration (the
/// record of the last apply).
fn refresh_would_wait(schemes: &[Scheme], layout: Layout, free_mem_permil: Option<u64>) -> Option<String> {
    let activities: Vec<Activity> = schemes.iter().map(|s| s.activity(free_mem_permil)).collect();
    let free = free_mem_permil
        .map(|f| format!(" (free memory {f}‰ now)"))
        .unwrap_or_default();
    if !activities.is_empty() && activities.iter().all(|a| *a == Activity::Inactive) {
        return Some(format!(
            "statistics as of their last refresh: every scheme waits for its watermarks{free}, and the kernel would answer a refresh only at their next check"
        ));
    }
    if layout.commands_need_active_scheme() && !activities.is_empty() && !activities.contains(&Activity::Active) {
        return Some(format!(
            "statistics as of their last refresh: no scheme is surely active{free}, and this kernel answers a refresh only while one is"
        ));
    }
    None
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

fn collect(
    sysfs: &dyn Sysfs,
    host: &HostPaths,
    policy: &str,
    own: &Owned,
    layout: Layout,
    free_mem_permil: Option<u64>,
) -> PolicyStatus {
    let (file, slot) = (own.file(), own.slot);
    let k = format!("kdamonds/{slot}");
    let state = read_or(sysfs, &format!("{k}/state"));
    let pid = read_or(sysfs, &format!("{k}/pid"));
    if let (Some(_), Some(ours)) = (own.replaced_by(state == "on", pid.parse().ok()), own.pid) {
        // Another tool started its kdamond in this slot after ours stopped: not ours to
        // refresh or show.
        let note = format!(
            "kdamond {slot} runs another tool's kdamond now (pid {pid}; damo-policy's was {ours}); `apply` refuses until it stops"
        );
        return PolicyStatus {
            policy: policy.into(),
            file: file.into(),
            slot,
            pid,
            state: "foreign".into(),
            note: Some(note),
            stats_note: None,
            targets: Vec::new(),
            processes: Vec::new(),
            schemes: Vec::new(),
        };
    }
    let stats_note = if state == "on" {
        refresh_would_wait(&own.applied.schemes, layout, free_mem_permil)
    } else {
        None
    };
    if state == "on" && stats_note.is_none() {
        // Statistics are stale until the kernel is asked to refresh them.
        let _ = write_retrying(sysfs, format!("{k}/state"), "update_schemes_stats");
        if sysfs.exists(&format!("{k}/contexts/0/schemes/0/quotas/effective_bytes")) {
            let _ = write_retrying(sysfs, format!("{k}/state"), "update_schemes_effective_quotas");
        }
    }
    let ctx = format!("{k}/contexts/0");
    let ops = read_or(sysfs, &format!("{ctx}/operations"));
    let mut processes = Vec::new();
    let targets = (0..count(sysfs, &format!("{ctx}/targets/nr_targets")))
        .map(|t| match ops.as_str() {
            "paddr" => format!(
                "physical, {} region(s)",
                count(sysfs, &format!("{ctx}/targets/{t}/regions/nr_regions"))
            ),
            _ => {
                let pid_text = read_or(sysfs, &format!("{ctx}/targets/{t}/pid_target"));
                processes.extend(pid_text.parse().ok().and_then(|pid| host.process_memory(pid)));
                format!("pid {pid_text}")
            }
        })
        .collect();
    let schemes = (0..count(sysfs, &format!("{ctx}/schemes/nr_schemes")))
        .map(|s| {
            let sp = format!("{ctx}/schemes/{s}");
            let stat = |name: &str| read_or(sysfs, &format!("{sp}/stats/{name}"));
            SchemeStatus {
                index: s,
                action: read_or(sysfs, &format!("{sp}/action")),
                nr_tried: stat("nr_tried"),
                sz_tried: stat("sz_tried"),
                nr_applied: stat("nr_applied"),
                sz_applied: stat("sz_applied"),
                qt_exceeds: stat("qt_exceeds"),
                effective_quota_bytes: read_retrying(sysfs, format!("{sp}/quotas/effective_bytes")).ok(),
            }
        })
        .collect();
    let note = (state != "on").then(|| {
        if ops == "paddr" {
            "off: stopped (run `damo-policy apply` to start it)".to_owned()
        } else {
            "off: stopped, or all its processes exited; the next apply re-resolves its targets".to_owned()
        }
    });
    PolicyStatus {
        policy: policy.into(),
        file: file.into(),
        slot,
        pid,
        state,
        note,
        stats_note,
        targets,
        processes,
        schemes,
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
        let json = serde_json::json!({ "kernel": live.info.version.to_string(), "policies": statuses, "service": service_status(&live.store) });
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
    if let Some(service) = service_status(&live.store) {
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
    }
    for s in &statuses {
        let _ = writeln!(
            out,
            "policy `{}` ({}): kdamond {} {} pid {}",
            s.policy, s.file, s.slot, s.state, s.pid
        );
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

/// The watching service's status file, if one is running (or ran) on this state directory.
fn service_status(store: &crate::reconcile::state::StateStore) -> Option<crate::watch::ServiceStatus> {
    let text = std::fs::read_to_string(store.dir().join(crate::watch::STATUS_FILE)).ok()?;
    serde_json::from_str(&text).ok()
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
