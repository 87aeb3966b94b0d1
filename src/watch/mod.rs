//! The long-running service (`apply --watch`): keeps the kernel in step with the policy
//! directory. Wake-ups ([`sources`]) are debounced into batches; each batch, SIGHUP and the
//! periodic resync run one full reconcile ([`crate::reconcile::run::once`]). A bad edit
//! changes nothing in the kernel (the last good configuration keeps running) and is
//! logged with its diagnostics; the next good edit applies. The service reports to
//! systemd ([`sdnotify`]) and writes a status file beside its state record.

pub mod sdnotify;
pub mod sources;

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;

pub use sources::{DirWatcher, Event};

use crate::diag::cap::{self, NotShown};
use crate::kernel::probe::{self, KernelInfo};
use crate::reconcile::explain::{self, FailureText};
use crate::reconcile::outcome::Outcome;
use crate::reconcile::run::{Report, Settings, once};
use crate::reconcile::state::{EngineState, StateStore};
use crate::sysfs::Sysfs;

/// How the service watches.
#[derive(Debug, Clone)]
pub struct WatchSettings {
    /// Quiet time that ends a batch of file events.
    pub debounce: Duration,
    /// Longest a batch may grow under a constant stream of events.
    pub max_batch: Duration,
    /// Period of the full resync (re-resolves targets, repairs drift).
    pub resync: Duration,
    /// Turn the owned kdamonds off on exit (default: leave them running).
    pub stop_on_exit: bool,
    pub module_root: PathBuf,
}

/// The kernel and the record the service works on.
pub struct Env<'a> {
    pub sysfs: &'a (dyn Sysfs + Sync),
    pub info: KernelInfo,
    pub store: StateStore,
    pub state: EngineState,
}

/// Why a reconcile ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    Start,
    Files,
    Rescan,
    Signal,
    Resync,
}

/// The status file (`<state-dir>/status.json`) `damo-policy status` shows.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct ServiceStatus {
    pub pid: u32,
    pub generation: u64,
    pub last_reload: String,
    pub cause: String,
    pub result: String,
    pub message: Option<String>,
    /// The findings of the last check, at most [`cap::SHOWN_PER_FILE`] a file.
    pub errors: Vec<serde_json::Value>,
    /// Findings of a file beyond the cap: counted, not listed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_shown: Vec<NotShown>,
    /// When the service exited (it writes this last); absent while it runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exited: Option<String>,
}

impl ServiceStatus {
    /// The status file of a service that runs (or ran) on this state directory, if any.
    pub fn read(store: &StateStore) -> Option<ServiceStatus> {
        let text = std::fs::read_to_string(store.dir().join(STATUS_FILE)).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Replaces the file atomically: `status` run meanwhile reads the old status or the new
    /// one, never a torn file. A status that cannot be written leaves the old one.
    fn write(&self, store: &StateStore) {
        let _ = std::fs::create_dir_all(store.dir());
        let _ = crate::files::atomic::write_with(&store.dir().join(STATUS_FILE), |out| {
            serde_json::to_writer_pretty(&mut *out, self)?;
            out.write_all(b"\n")
        });
    }
}

pub const STATUS_FILE: &str = "status.json";

/// Runs until an [`Event::Exit`] (or the channel closes). `on_report` sees every reconcile.
pub fn serve(
    settings: &Settings,
    watch: &WatchSettings,
    env: &mut Env<'_>,
    events: &Receiver<Event>,
    mut rewatch: impl FnMut(),
    mut on_report: impl FnMut(Cause, &Report),
) {
    let mut generation = 0;
    let mut last_status: Option<ServiceStatus> = None;
    let mut reconcile = |env: &mut Env<'_>, cause: Cause| {
        sdnotify::notify("RELOADING=1");
        // Modules can be toggled at any time; their state is cheap to re-read.
        env.info.modules = probe::modules(&watch.module_root);
        // (`once` re-reads the record under its lock: a command-line `apply` beside the
        // service may have changed it.)
        let report = once(settings, env.sysfs, &env.info, &env.store, &mut env.state, true);
        generation += 1;
        let failure = match (&report.outcome, &report.plan) {
            (Outcome::Failed(failed), Some(plan)) => {
                Some(explain::describe(failed, plan, &env.info.modules, &settings.host))
            }
            _ => None,
        };
        log(cause, &report, failure.as_ref());
        let status = status_of(generation, cause, &report, failure.as_ref());
        sdnotify::notify(&format!("READY=1\nSTATUS={}", status.result));
        status.write(&env.store);
        last_status = Some(status);
        on_report(cause, &report);
    };
    reconcile(env, Cause::Start);
    let mut next_resync = Instant::now() + watch.resync;
    loop {
        let timeout = next_resync.saturating_duration_since(Instant::now());
        let cause = match events.recv_timeout(timeout) {
            Ok(Event::Exit) | Err(RecvTimeoutError::Disconnected) => break,
            Ok(Event::Reload) => Cause::Signal,
            Ok(first @ (Event::Changed | Event::Overflow)) => match collect_batch(events, first, watch) {
                Batch::Exit => break,
                Batch::Changed(overflow) => {
                    rewatch();
                    if overflow { Cause::Rescan } else { Cause::Files }
                }
            },
            Err(RecvTimeoutError::Timeout) => Cause::Resync,
        };
        reconcile(env, cause);
        next_resync = Instant::now() + watch.resync;
    }
    sdnotify::notify("STOPPING=1");
    if watch.stop_on_exit {
        // Under the record's lock and from the record on disk: a command-line apply beside
        // the service may have moved or added policies since the last reconcile.
        let _lock = env
            .store
            .lock()
            .inspect_err(|e| tracing::warn!("stopping without the record's lock: {e}"))
            .ok();
        match env.store.load(&env.state.boot_id) {
            Ok(state) => env.state = state,
            Err(e) => tracing::warn!("stopping the policies of the record in memory: {e}"),
        }
        stop_owned(env, &settings.host);
    }
    // `status` must not show an exited service as the one in charge.
    if let Some(mut status) = last_status {
        status.exited = Some(humantime::format_rfc3339_seconds(SystemTime::now()).to_string());
        status.write(&env.store);
    }
    tracing::info!(
        policies = env.state.policies.len(),
        stop_on_exit = watch.stop_on_exit,
        "exiting"
    );
}

enum Batch {
    Changed(bool),
    Exit,
}

/// Collects events until `debounce` passes without one (or the batch reaches
/// `max_batch`); a `git checkout` of many files becomes one reconcile.
fn collect_batch(events: &Receiver<Event>, first: Event, watch: &WatchSettings) -> Batch {
    let deadline = Instant::now() + watch.max_batch;
    let mut overflow = first == Event::Overflow;
    loop {
        let quiet = watch.debounce.min(deadline.saturating_duration_since(Instant::now()));
        match events.recv_timeout(quiet) {
            Ok(Event::Exit) | Err(RecvTimeoutError::Disconnected) => return Batch::Exit,
            Ok(event) => overflow |= event == Event::Overflow,
            Err(RecvTimeoutError::Timeout) => return Batch::Changed(overflow),
        }
        if Instant::now() >= deadline {
            return Batch::Changed(overflow);
        }
    }
}

/// Stops the policies' kdamonds; a recording whose recorder runs is its recorder's to end.
fn stop_owned(env: &Env<'_>, host: &crate::host::HostPaths) {
    let mut policies = env.state.clone();
    let recording = env.state.live_recordings(host);
    policies.policies.retain(|name, _| !recording.contains(name));
    for (name, slot, result) in crate::reconcile::stop_owned(env.sysfs, &policies, &[]) {
        match result {
            Ok(crate::reconcile::Stopped::Stopped) => tracing::info!(policy = %name, slot, "stopped"),
            Ok(crate::reconcile::Stopped::NotRunning) => {}
            Ok(crate::reconcile::Stopped::Foreign { pid }) => {
                tracing::warn!(policy = %name, slot, pid, "another tool's kdamond runs in the slot now: left alone")
            }
            Err(e) => tracing::error!(policy = %name, error = %e, "cannot stop"),
        }
    }
}

fn status_of(generation: u64, cause: Cause, report: &Report, failure: Option<&FailureText>) -> ServiceStatus {
    let message = match &report.outcome {
        Outcome::Unreadable(unreadable) => Some(unreadable.to_string()),
        Outcome::Refused(refusal) => Some(refusal.to_string()),
        Outcome::Insecure(paths) => Some(paths.to_string()),
        Outcome::Failed(f) => Some(match failure {
            Some(text) => format!("{}; cause: {}; {}", text.refused, text.cause, text.restored),
            None => f.error.to_string(),
        }),
        Outcome::Applied(applied) => Some(applied.to_string()),
        _ => None,
    };
    let selection = cap::select(report.checked.iter().flat_map(|c| c.all_diagnostics()));
    let errors = selection
        .shown
        .iter()
        .filter_map(|d| serde_json::to_value(d.to_json()).ok())
        .collect();
    ServiceStatus {
        pid: std::process::id(),
        generation,
        last_reload: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        cause: format!("{cause:?}").to_lowercase(),
        result: report.outcome.word().into(),
        message,
        errors,
        not_shown: selection.not_shown,
        exited: None,
    }
}

/// One log event per reconcile, plus one per diagnostic, module disabled and policy left
/// pending or unresolved, readable in journald.
fn log(cause: Cause, report: &Report, failure: Option<&FailureText>) {
    if let Some(checked) = &report.checked {
        // A mangled file can hold a hundred thousand findings: the journal gets the first
        // of each file and a count of the rest, as the terminal does.
        let selection = cap::select(checked.all_diagnostics());
        for d in &selection.shown {
            let json = d.to_json();
            // A finding of no file (a directory that cannot be read) has no location.
            let at = match (json.file, json.line, json.column) {
                (Some(file), Some(line), Some(column)) => format!("{file}:{line}:{column}"),
                (Some(file), _, _) => file.to_string(),
                _ => String::new(),
            };
            if d.is_error() {
                tracing::error!(code = d.code.as_str(), at = %at, help = json.help.unwrap_or(""), "{}", d.message);
            } else {
                tracing::warn!(code = d.code.as_str(), at = %at, help = json.help.unwrap_or(""), "{}", d.message);
            }
        }
        for hidden in &selection.not_shown {
            tracing::warn!("{}", hidden.note().trim_start_matches("note: "));
        }
    }
    for module in &report.disabled_modules {
        tracing::warn!(module = %module, "disabled the DAMON module, as the kernel runs no sysfs kdamond beside it");
    }
    for skipped in report.compiled.iter().flat_map(|c| c.skipped.iter()) {
        if skipped.pending {
            tracing::info!(policy = %skipped.policy, file = %skipped.file, "pending: {}", skipped.reason);
        } else {
            tracing::warn!(policy = %skipped.policy, file = %skipped.file, "left as it is: {}", skipped.reason);
        }
    }
    let cause = format!("{cause:?}").to_lowercase();
    match &report.outcome {
        Outcome::Applied(applied) => {
            let effects: Vec<String> = report
                .plan
                .iter()
                .flat_map(|p| p.kdamonds.iter())
                .filter(|k| k.effect != crate::reconcile::Effect::Unchanged)
                .map(|k| format!("{}={:?}", k.policy, k.effect).to_lowercase())
                .collect();
            tracing::info!(cause, writes = applied.writes, changes = %effects.join(","), "applied");
        }
        Outcome::Invalid => tracing::error!(cause, "invalid policies; the last good configuration keeps running"),
        Outcome::Unreadable(unreadable) => {
            tracing::error!(cause, "{unreadable}; the last good configuration keeps running")
        }
        Outcome::Refused(refusal) => tracing::error!(cause, "{refusal}"),
        Outcome::Insecure(paths) => tracing::error!(cause, "{paths}"),
        Outcome::Failed(f) => match failure {
            Some(text) => {
                tracing::error!(cause, path = %f.op.file, why = %text.cause, "{}; {}", text.refused, text.restored)
            }
            None => tracing::error!(cause, path = %f.op.file, error = %f.error, "the kernel refused the change"),
        },
        Outcome::Planned => {}
    }
}

#[cfg(test)]
mod tests;
