//! The kdamond a recording reads: one started for it ([`start`], [`stop`]) or the running
//! kdamond of an applied policy ([`attach`]).
//!
//! A recording's kdamond is owned exactly as `apply`'s are: it is planned, started, verified
//! and recorded by the same reconcile ([`crate::reconcile::run::execute`]) under the state
//! record's lock, with the record naming it `(recording PID)` (no policy can have that
//! name) and its recorder. Starting it is a reconcile whose only desired kdamond is the
//! recording's and that keeps every other owned kdamond as it is; so another tool's running
//! kdamond refuses it as it refuses an apply, and the DAMON modules' rules and
//! `--disable-modules` are apply's. While the recorder runs, `apply` and `apply --watch`
//! leave the kdamond alone; if the recorder dies, the next apply stops it.

mod target;

pub use target::{
    CompiledTarget, Finding, MonitoringOverrides, NotRegionBounds, RecordTarget, RegionBounds, TargetChoice,
    TargetError,
};

use std::collections::{BTreeMap, BTreeSet};

use crate::compile::file::{File, Node};
use crate::compile::{Compiled, Kdamond};
use crate::diag::Diagnostic;
use crate::host::HostPaths;
use crate::kernel::probe::KernelInfo;
use crate::kernel::{Layout, Ops};
use crate::reconcile::outcome::{Outcome, Refusal, Unreadable};
use crate::reconcile::run::{Desire, Execution, Keep, execute};
use crate::reconcile::state::{EngineState, Recorder, StateError, StateStore, recording_name};
use crate::reconcile::{Effect, Options, Stopped, explain, kdamond_pid, stop_owned};
use crate::sysfs::{Sysfs, SysfsError, read_retrying};

/// The live kernel a recording acts on, and where its ownership is recorded.
#[derive(Clone, Copy)]
pub struct LiveKernel<'a> {
    pub sysfs: &'a dyn Sysfs,
    pub info: &'a KernelInfo,
    pub store: &'a StateStore,
    pub host: &'a HostPaths,
}

/// The sampling, aggregation and update intervals of a kdamond, in µs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Intervals {
    pub sample_us: u64,
    pub aggr_us: u64,
    pub update_us: u64,
    /// The kernel tunes the sampling and aggregation intervals (`intervals_goal`): these are
    /// the values at the start, and a snapshot's own length is the truth.
    pub autotuned: bool,
}

/// One monitoring target of a kdamond.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordedTarget {
    /// Its index in the context, as the tracepoint's `target_id` and damo's records say.
    pub target_id: u64,
    /// The process, for virtual address spaces; `None` for physical memory.
    pub pid: Option<u32>,
}

/// The kdamond a recording reads: what the file header and the footprint sampler need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedKdamond {
    /// The state record's name: a policy's, or the recording's own `(recording PID)`.
    pub name: String,
    /// Its index in `kdamonds/` (damo's kdamond index; the context index is always 0).
    pub slot: usize,
    /// The kdamond thread's pid (the tracepoint's `common_pid`).
    pub kdamond_pid: u32,
    pub ops: Ops,
    pub targets: Vec<RecordedTarget>,
    pub intervals: Intervals,
}

/// A kdamond started for recording, until [`stop`].
#[derive(Debug, Clone)]
pub struct Recording {
    pub kdamond: RecordedKdamond,
    pub recorder: Recorder,
    /// The configuration it runs (with the `stat` schemes of the tried-regions source, if
    /// asked for).
    pub compiled: Kdamond,
    /// DAMON modules disabled to start it (`--disable-modules`; they stay disabled, as
    /// after an apply).
    pub disabled_modules: Vec<String>,
    /// Policies whose kdamonds were restarted to make room: adding a kdamond slot
    /// (`nr_kdamonds`) is possible only while every kdamond is off.
    pub restarted: Vec<String>,
    /// The rules' warnings about the recording's target and monitoring.
    pub warnings: Vec<Diagnostic>,
}

/// How to start a recording's kdamond.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StartOptions {
    /// Disable the exclusive DAMON modules that make the kernel refuse a sysfs kdamond.
    pub disable_modules: bool,
    /// Give it the `stat` schemes whose tried regions are the fallback source
    /// ([`crate::record::tried`]), for kernels whose tracefs lacks the event.
    pub tried_regions: bool,
}

/// Why a recording's kdamond could not be started or stopped.
#[derive(Debug, thiserror::Error)]
pub enum RecordKdamondError {
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error(transparent)]
    Tried(#[from] crate::record::tried::TriedError),
    /// This process's `/proc` entry cannot be read, so its recording could not be told
    /// from an orphan.
    #[error("cannot read this process's start time in {}: it tells a running recorder from an exited one", proc_root.display())]
    NoRecorder { proc_root: std::path::PathBuf },
    /// Another tool's kdamond or an enabled DAMON module is in the way: nothing was written.
    #[error("{0}")]
    Refused(Refusal),
    /// The state record or the kernel could not be read: nothing was written.
    #[error("{0}")]
    Unreadable(Unreadable),
    /// The kernel refused the recording's kdamond; everything else is as it was (or says
    /// what is not).
    #[error("{refused}; cause: {cause}; {restored}")]
    Failed {
        refused: String,
        cause: String,
        restored: String,
    },
    /// The kdamond started but the record could not be saved: it was turned off again,
    /// as a kdamond no record names would be taken for another tool's.
    #[error("cannot record the recording's kdamond, so it was stopped again: {0}")]
    NotRecorded(StateError),
    #[error("the state record: {0}")]
    State(#[from] StateError),
    /// A reconcile outcome a recording's start does not meet (see [`start`]).
    #[error("starting the recording's kdamond ended {outcome}")]
    Unexpected { outcome: &'static str },
    #[error(transparent)]
    Sysfs(#[from] SysfsError),
}

/// Starts a kdamond that monitors `target`, owned like a policy's, for this process to
/// record from; `state` becomes the record as saved. Stop it with [`stop`].
pub fn start(
    kernel: LiveKernel<'_>,
    state: &mut EngineState,
    target: &RecordTarget,
    options: StartOptions,
) -> Result<Recording, RecordKdamondError> {
    let recorder = Recorder::this_process(kernel.host).ok_or_else(|| RecordKdamondError::NoRecorder {
        proc_root: kernel.host.proc_root.clone(),
    })?;
    let name = recording_name(recorder.pid);
    let CompiledTarget { mut kdamond, warnings } =
        target.compile(&name, kernel.info.version, &kernel.info.avail_ops, kernel.host)?;
    if options.tried_regions {
        kdamond.schemes = crate::record::tried::stat_schemes(kdamond.targets.len(), Layout::new(kernel.info.version))?;
    }
    let execution = Execution {
        host: kernel.host,
        options: Options { takeover: false },
        disable_modules: options.disable_modules,
    };
    let desire = Desire {
        compiled: Compiled {
            kernel: kernel.info.version.to_string(),
            kdamonds: vec![kdamond.clone()],
            skipped: Vec::new(),
        },
        keep: Keep::AllBut(BTreeSet::new()),
        recorders: BTreeMap::from([(name.clone(), recorder)]),
    };
    let report = execute(
        &execution,
        kernel.sysfs,
        kernel.info,
        kernel.store,
        state,
        None,
        desire,
        true,
    );
    match report.outcome {
        Outcome::Applied(_) => {}
        Outcome::Refused(refusal) => return Err(RecordKdamondError::Refused(refusal)),
        Outcome::Unreadable(Unreadable::NotRecorded(error)) => {
            // Running, but no record names it: turn it off rather than leave a kdamond
            // that every later apply would refuse as another tool's.
            if let Some(own) = report.plan.as_ref().and_then(|p| p.state_after.policies.get(&name)) {
                let _ = crate::sysfs::write_retrying(
                    kernel.sysfs,
                    File::state(own.slot),
                    crate::kernel::Command::Off.keyword(),
                );
            }
            return Err(RecordKdamondError::NotRecorded(error));
        }
        Outcome::Unreadable(unreadable) => return Err(RecordKdamondError::Unreadable(unreadable)),
        Outcome::Failed(failed) => {
            let (refused, cause, restored) = match &report.plan {
                Some(plan) => {
                    let text = explain::describe(&failed, plan, &kernel.info.modules, kernel.host);
                    (text.refused, text.cause, text.restored)
                }
                None => (
                    format!("the kernel refused `{}` to {}", failed.op.new, failed.op.file),
                    failed.error.to_string(),
                    String::new(),
                ),
            };
            return Err(RecordKdamondError::Failed {
                refused,
                cause,
                restored,
            });
        }
        // Only a reconcile of policy files finds them invalid or insecure, and one that
        // writes does not stop at a plan.
        other => return Err(RecordKdamondError::Unexpected { outcome: other.word() }),
    }
    let own = &state.policies[&name];
    let restarted = report
        .plan
        .iter()
        .flat_map(|p| &p.kdamonds)
        .filter(|k| k.effect == Effect::Restart && k.policy != name)
        .map(|k| k.policy.clone())
        .collect();
    let kdamond_pid = own.pid.or_else(|| kdamond_pid(kernel.sysfs, own.slot)).unwrap_or(0);
    let monitoring = &kdamond.monitoring;
    Ok(Recording {
        kdamond: RecordedKdamond {
            name,
            slot: own.slot,
            kdamond_pid,
            ops: kdamond.ops,
            targets: kdamond
                .targets
                .iter()
                .zip(0u64..)
                .map(|(t, target_id)| RecordedTarget { target_id, pid: t.pid })
                .collect(),
            intervals: Intervals {
                sample_us: monitoring.sample_us,
                aggr_us: monitoring.aggr_us,
                update_us: monitoring.update_us,
                autotuned: monitoring.intervals_goal.is_some(),
            },
        },
        recorder,
        compiled: kdamond,
        disabled_modules: report.disabled_modules,
        restarted,
        warnings,
    })
}

/// What [`stop`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// The kdamond was turned off.
    Stopped,
    /// It had stopped already (its processes exited, or `damo-policy stop`).
    NotRunning,
    /// Another tool's kdamond runs in its slot now: left alone.
    Replaced { pid: u32 },
    /// The record no longer names it (`stop` or an apply ended it already).
    Forgotten,
}

/// Stops the recording's kdamond — no other — under the state record's lock, and removes
/// it from the record; its slot stays the engine's, free for the next kdamond. `state`
/// becomes the record as saved.
pub fn stop(
    store: &StateStore,
    sysfs: &dyn Sysfs,
    state: &mut EngineState,
    recording: &Recording,
) -> Result<Ended, RecordKdamondError> {
    let name = &recording.kdamond.name;
    let _lock = store.lock()?;
    *state = store.load(&state.boot_id)?;
    let Some(own) = state.policies.get(name).cloned() else {
        return Ok(Ended::Forgotten);
    };
    // Only this entry: stop_owned with no names would stop every owned kdamond.
    let mut only_ours = EngineState {
        boot_id: state.boot_id.clone(),
        ..Default::default()
    };
    only_ours.policies.insert(name.clone(), own.clone());
    let (_, _, result) = stop_owned(sysfs, &only_ours, std::slice::from_ref(name))
        .into_iter()
        .next()
        .expect("one entry, one result");
    let ended = match result? {
        Stopped::Stopped => Ended::Stopped,
        Stopped::NotRunning => Ended::NotRunning,
        Stopped::Foreign { pid } => Ended::Replaced { pid },
    };
    state.policies.remove(name);
    if !matches!(ended, Ended::Replaced { .. }) {
        state.spare_slots.insert(own.slot);
    }
    store.save(state)?;
    Ok(ended)
}

/// Why `--attach` cannot record from a policy's kdamond.
#[derive(Debug, thiserror::Error)]
pub enum AttachError {
    #[error(
        "`{policy}` is not a policy damo-policy applied on this boot (`damo-policy status` lists them): apply it first, or record without --attach"
    )]
    NotApplied { policy: String },
    #[error(
        "the kdamond of policy `{policy}` (kdamond {slot}) is not running: apply the policy again (`damo-policy apply`), or record without --attach"
    )]
    NotRunning { policy: String, slot: usize },
    #[error(
        "kdamond {slot} of policy `{policy}` was replaced: another tool's kdamond runs there now (pid {pid}), and --attach records only damo-policy's; apply the policy again once that kdamond stops"
    )]
    Replaced { policy: String, slot: usize, pid: u32 },
    #[error("reading the kdamond of policy `{policy}`: {error}")]
    Sysfs { policy: String, error: SysfsError },
}

/// The running kdamond of the applied policy `policy`, for `--attach`: read only, nothing
/// is written to the kernel or the record.
pub fn attach(sysfs: &dyn Sysfs, state: &EngineState, policy: &str) -> Result<RecordedKdamond, AttachError> {
    let own = state.policies.get(policy).ok_or_else(|| AttachError::NotApplied {
        policy: policy.to_owned(),
    })?;
    let slot = own.slot;
    let sysfs_error = |error| AttachError::Sysfs {
        policy: policy.to_owned(),
        error,
    };
    let running = read_retrying(sysfs, File::state(slot)).map_err(sysfs_error)? == "on";
    let pid_now = kdamond_pid(sysfs, slot);
    if !running || pid_now.is_none() {
        return Err(AttachError::NotRunning {
            policy: policy.to_owned(),
            slot,
        });
    }
    // After an apply that did not finish, its kdamond may run under a pid the record lacks.
    if !state.applying.contains(&slot)
        && let Some(pid) = own.replaced_by(true, pid_now)
    {
        return Err(AttachError::Replaced {
            policy: policy.to_owned(),
            slot,
            pid,
        });
    }
    let ctx = Node::Context { kdamond: slot };
    let read = |file: File| read_retrying(sysfs, file).map_err(sysfs_error);
    let number = |file: File| -> Result<u64, AttachError> {
        let text = read(file)?;
        text.trim().parse().map_err(|_| {
            sysfs_error(SysfsError {
                path: file.to_string(),
                value: None,
                errno: None,
                message: format!("`{text}` is not a number"),
            })
        })
    };
    let ops: Ops = read(ctx.file("operations"))?.parse().unwrap_or(Ops::Vaddr);
    let nr_targets = number(ctx.file("targets/nr_targets"))?;
    let mut targets = Vec::new();
    for target_id in 0..nr_targets {
        let node = Node::Target {
            kdamond: slot,
            target: usize::try_from(target_id).unwrap_or(usize::MAX),
        };
        let pid = match ops {
            Ops::Paddr => None,
            _ => read(node.file("pid_target"))?.trim().parse().ok(),
        };
        targets.push(RecordedTarget { target_id, pid });
    }
    let autotuned = own
        .applied
        .as_ref()
        .is_some_and(|k| k.monitoring.intervals_goal.is_some());
    Ok(RecordedKdamond {
        name: policy.to_owned(),
        slot,
        kdamond_pid: pid_now.unwrap_or(0),
        ops,
        targets,
        intervals: Intervals {
            sample_us: number(ctx.file("monitoring_attrs/intervals/sample_us"))?,
            aggr_us: number(ctx.file("monitoring_attrs/intervals/aggr_us"))?,
            update_us: number(ctx.file("monitoring_attrs/intervals/update_us"))?,
            autotuned,
        },
    })
}

#[cfg(test)]
pub(in crate::record) mod tests;
