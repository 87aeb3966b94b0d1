//! What the engine's kdamonds are doing now, read from the kernel: each applied policy's
//! kdamond state and pid, its targets (with what the host says of the processes' memory),
//! and per scheme the kernel's statistics — refreshed first with `update_schemes_stats`,
//! except where the kernel would hold the refresh until a watermark check (the kdamond's
//! schemes all wait for their watermarks). Another tool's kdamond in a slot of ours is
//! reported as such and left alone. Printing is the caller's.

use serde::Serialize;

use crate::compile::file::{File, Node};
use crate::host::{HostPaths, ProcessMemory};
use crate::kernel::keywords::Activity;
use crate::kernel::{Command, Layout, Ops};
use crate::model::resolved::Scheme;
use crate::reconcile::state::Owned;
use crate::sysfs::{Sysfs, read_briefly, read_retrying, write_retrying};

/// One applied policy's kdamond as the kernel shows it now.
#[derive(Debug, Serialize)]
pub struct PolicyStatus {
    pub policy: String,
    pub file: String,
    pub slot: usize,
    pub state: String,
    pub pid: String,
    /// Why a kdamond that should run is off.
    pub note: Option<String>,
    /// Why the statistics were not refreshed, when they were not.
    pub stats_note: Option<String>,
    pub targets: Vec<String>,
    /// The target processes' memory now, to see what the schemes did to them.
    pub processes: Vec<ProcessMemory>,
    pub schemes: Vec<SchemeStatus>,
    /// For a kdamond started to record accesses, rather than for a policy: its recorder.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recording: Option<RecordingStatus>,
}

/// Who records from a recording's kdamond.
#[derive(Debug, Serialize)]
pub struct RecordingStatus {
    pub recorder_pid: u32,
    /// Whether it still runs (a kdamond whose recorder is gone is stopped by the next apply).
    pub recorder_running: bool,
}

/// One scheme's statistics, as the kernel's files hold them.
#[derive(Debug, Serialize)]
pub struct SchemeStatus {
    pub index: usize,
    pub action: String,
    pub nr_tried: String,
    pub sz_tried: String,
    pub nr_applied: String,
    pub sz_applied: String,
    pub qt_exceeds: String,
    pub effective_quota_bytes: Option<String>,
}

/// A file's content for showing: `?` when it cannot be read (the status shows what it can).
fn read_or(sysfs: &dyn Sysfs, file: File) -> String {
    read_briefly(sysfs, file).unwrap_or_else(|_| "?".into())
}

fn count(sysfs: &dyn Sysfs, file: File) -> usize {
    read_or(sysfs, file).parse().unwrap_or(0)
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

/// The status of `policy`'s kdamond, recorded as `own`; its statistics are refreshed first
/// unless the refresh would wait for watermarks (see [`refresh_would_wait`]).
pub fn collect(
    sysfs: &dyn Sysfs,
    host: &HostPaths,
    policy: &str,
    own: &Owned,
    layout: Layout,
    free_mem_permil: Option<u64>,
) -> PolicyStatus {
    let (file, slot) = (own.file.as_str(), own.slot);
    let state = read_or(sysfs, File::state(slot));
    let pid = read_or(sysfs, File::kdamond(slot, "pid"));
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
            recording: None,
        };
    }
    let stats_note = if state == "on" {
        // A configuration an earlier version recorded is unknown: refresh, as before.
        own.applied
            .as_ref()
            .and_then(|applied| refresh_would_wait(&applied.schemes, layout, free_mem_permil))
    } else {
        None
    };
    if state == "on" && stats_note.is_none() {
        // Statistics are stale until the kernel is asked to refresh them.
        let _ = write_retrying(sysfs, File::state(slot), Command::UpdateSchemesStats.keyword());
        let first_scheme = Node::Scheme {
            kdamond: slot,
            scheme: 0,
        };
        if sysfs.exists(&first_scheme.file("quotas/effective_bytes").to_string()) {
            let _ = write_retrying(
                sysfs,
                File::state(slot),
                Command::UpdateSchemesEffectiveQuotas.keyword(),
            );
        }
    }
    let ctx = Node::Context { kdamond: slot };
    // Physical memory has regions, not processes (an unreadable operations set shows pids).
    let physical = read_or(sysfs, ctx.file("operations")).parse::<Ops>() == Ok(Ops::Paddr);
    let mut processes = Vec::new();
    let targets = (0..count(sysfs, ctx.file("targets/nr_targets")))
        .map(|t| {
            let target = Node::Target {
                kdamond: slot,
                target: t,
            };
            if physical {
                format!(
                    "physical, {} region(s)",
                    count(sysfs, target.file("regions/nr_regions"))
                )
            } else {
                let pid_text = read_or(sysfs, target.file("pid_target"));
                processes.extend(pid_text.parse().ok().and_then(|pid| host.process_memory(pid)));
                format!("pid {pid_text}")
            }
        })
        .collect();
    let schemes = (0..count(sysfs, ctx.file("schemes/nr_schemes")))
        .map(|s| {
            let node = Node::Scheme {
                kdamond: slot,
                scheme: s,
            };
            let read = |leaf| read_or(sysfs, node.file(leaf));
            SchemeStatus {
                index: s,
                action: read("action"),
                nr_tried: read("stats/nr_tried"),
                sz_tried: read("stats/sz_tried"),
                nr_applied: read("stats/nr_applied"),
                sz_applied: read("stats/sz_applied"),
                qt_exceeds: read("stats/qt_exceeds"),
                effective_quota_bytes: read_retrying(sysfs, node.file("quotas/effective_bytes")).ok(),
            }
        })
        .collect();
    let recording = own.recorder.map(|recorder| RecordingStatus {
        recorder_pid: recorder.pid,
        recorder_running: recorder.is_alive(host),
    });
    let note = match &recording {
        Some(r) if !r.recorder_running => Some(format!(
            "its recorder (pid {}) is gone: the next apply stops this kdamond",
            r.recorder_pid
        )),
        Some(_) => (state != "on").then(|| "off: its recording is ending".to_owned()),
        None => policy_note(&state, physical),
    };
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
        recording,
    }
}

/// Why a policy's kdamond that should run is off, if it is.
fn policy_note(state: &str, physical: bool) -> Option<String> {
    (state != "on").then(|| {
        if physical {
            "off: stopped (run `damo-policy apply` to start it)".to_owned()
        } else {
            "off: stopped, or all its processes exited; the next apply re-resolves its targets".to_owned()
        }
    })
}
