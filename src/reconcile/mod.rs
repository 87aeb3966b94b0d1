//! Reconciling the kernel with the desired configuration: [`plan`] observes the sysfs tree,
//! decides each policy's kdamond slot, and diffs desired against observed values into an
//! ordered list of [`Op`]s; [`apply`] executes them, verifies, and restores the last good
//! configuration when the kernel refuses something.
//!
//! Minimal writes: a leaf is written only when its value differs; an `nr_*` file only when
//! its count differs, and then every leaf below it (the kernel recreated them). A running
//! kdamond takes changes online with `commit`; a new one starts with `on`. Ownership comes
//! from the engine's state record: a kdamond the record does not name is never changed.

pub mod apply;
pub mod explain;
pub mod outcome;
pub mod run;
pub mod state;
pub mod status;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::compile::file::{File, Node};
use crate::compile::sysfs::{Write, kdamond_writes};
use crate::compile::{Compiled, Kdamond};
use crate::kernel::defaults::fresh_value;
use crate::kernel::{Command, Layout};
use crate::reconcile::outcome::ForeignBlock;
use crate::reconcile::state::{EngineState, Owned, hash_writes};
use crate::sysfs::{Sysfs, SysfsError, read_briefly, read_retrying};

/// What happens to one kdamond.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    Unchanged,
    /// Changed online: monitoring continues, same kdamond.
    Commit,
    Start,
    Stop,
    /// Stopped and started again (the kernel allows no other way).
    Restart,
}

/// The plan for one kdamond slot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KdamondPlan {
    pub slot: usize,
    pub policy: String,
    pub effect: Effect,
    pub reason: String,
}

/// One write to a sysfs file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Op {
    #[serde(rename = "path")]
    pub file: File,
    /// The current value; `None` when the file does not exist yet or its directory is
    /// recreated by an earlier `nr_*` write.
    pub old: Option<String>,
    pub new: String,
    /// The policy it serves, if any (`nr_kdamonds` serves all).
    pub policy: Option<String>,
    /// The scheme index it configures, if any.
    pub scheme: Option<usize>,
    /// The command, when this writes one to a kdamond's `state`.
    #[serde(skip)]
    pub command: Option<Command>,
}

impl Op {
    /// A write of `new` to `file` for `policy`.
    pub fn new(file: File, old: Option<String>, new: String, policy: Option<&str>) -> Self {
        Op {
            file,
            old,
            new,
            policy: policy.map(str::to_owned),
            scheme: file.node.scheme(),
            command: None,
        }
    }

    /// `command` written to the `state` of the kdamond in `slot`, which is `old` now.
    pub fn command(slot: usize, old: &str, command: Command, policy: &str) -> Self {
        Op {
            command: Some(command),
            ..Op::new(
                File::state(slot),
                Some(old.into()),
                command.keyword().into(),
                Some(policy),
            )
        }
    }
}

/// What one slot is to hold once the plan is applied: the kdamond and its files.
#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    pub kdamond: Kdamond,
    pub writes: Vec<Write>,
}

/// A kdamond of another tool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Foreign {
    pub slot: usize,
    pub running: bool,
    pub pid: String,
    pub ops: String,
    pub schemes: String,
}

/// Everything `apply` will do, in order.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub kdamonds: Vec<KdamondPlan>,
    pub ops: Vec<Op>,
    /// The ownership record once the plan is applied.
    #[serde(skip)]
    pub state_after: EngineState,
    /// Desired kdamonds by slot, for verification.
    #[serde(skip)]
    pub desired: BTreeMap<usize, Desired>,
    /// Slots running before the plan: what a failed apply must leave running.
    #[serde(skip)]
    pub running_before: BTreeSet<usize>,
    /// The tree the plan was made for (a restore diffs against the same defaults).
    #[serde(skip)]
    pub layout: Layout,
    /// Slots of another tool's kdamonds that `--takeover` claims: a restore cannot put
    /// their configuration back (it was never recorded).
    #[serde(skip)]
    pub taken_over: BTreeSet<usize>,
}

impl Plan {
    /// The kdamond slots its operations change: those they write below, and every slot up to
    /// the new count when they write `nr_kdamonds` (which recreates them all).
    pub fn touched_slots(&self) -> BTreeSet<usize> {
        let mut slots: BTreeSet<usize> = self.ops.iter().filter_map(|op| op.file.node.kdamond()).collect();
        for op in self.ops.iter().filter(|op| op.file == File::NR_KDAMONDS) {
            slots.extend(0..op.new.parse().unwrap_or(0));
        }
        slots
    }
}

/// Why no plan could be made.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// Kdamonds of another tool are in the way (the caller words it, knowing the tree).
    #[error("kdamonds of another tool are in the way")]
    Foreign {
        kdamonds: Vec<Foreign>,
        blocked: ForeignBlock,
    },
    #[error(transparent)]
    Sysfs(#[from] SysfsError),
}

/// How to treat kdamonds the engine did not start.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Adopt (stop, reuse) kdamonds of other tools.
    pub takeover: bool,
}

fn read_count(sysfs: &dyn Sysfs, path: File) -> Result<usize, SysfsError> {
    Ok(read_retrying(sysfs, path)?.trim().parse().unwrap_or(0))
}

/// Plans the reconcile of `compiled` (its kdamond indices are ignored: slots are decided
/// here). `keep` names policies to leave exactly as they are (their targets could not be
/// resolved this time).
pub fn plan(
    sysfs: &dyn Sysfs,
    compiled: &Compiled,
    layout: Layout,
    state: &EngineState,
    keep: &BTreeSet<String>,
    options: Options,
) -> Result<Plan, PlanError> {
    let nr = read_count(sysfs, File::NR_KDAMONDS)?;
    let mut running = Vec::with_capacity(nr);
    for k in 0..nr {
        running.push(read_retrying(sysfs, File::state(k))? == "on");
    }
    // Slots an apply that did not finish was changing: whatever runs there, it started
    // (a restart gives a kdamond a pid the record does not know).
    let interrupted: BTreeSet<usize> = state.applying.iter().copied().filter(|s| *s < nr).collect();
    let still_ours = |o: &Owned| {
        interrupted.contains(&o.slot) || !running[o.slot] || o.replaced_by(true, kdamond_pid(sysfs, o.slot)).is_none()
    };
    let owned: BTreeMap<&str, &Owned> = state
        .policies
        .iter()
        .filter(|(_, o)| o.slot < nr && still_ours(o))
        .map(|(n, o)| (n.as_str(), o))
        .collect();
    // A spare slot is one the engine stopped; if a kdamond runs there now, another tool
    // started it, and it is not ours to reuse. The interrupted apply's slots that no recorded
    // policy owns are spare too, running or not: it may have started a new policy there.
    let owned_policy_slots: BTreeSet<usize> = owned.values().map(|o| o.slot).collect();
    let unrecorded: BTreeSet<usize> = interrupted
        .iter()
        .copied()
        .filter(|s| !owned_policy_slots.contains(s))
        .collect();
    let spare: BTreeSet<usize> = state
        .spare_slots
        .iter()
        .copied()
        .filter(|s| *s < nr && !running[*s])
        .chain(unrecorded.iter().copied())
        .collect();
    let owned_slots: BTreeSet<usize> = owned_policy_slots
        .iter()
        .copied()
        .chain(spare.iter().copied())
        .collect();
    let foreign: Vec<Foreign> = (0..nr)
        .filter(|k| !owned_slots.contains(k))
        .map(|k| describe_foreign(sysfs, k, running[k]))
        .collect();
    if !options.takeover && foreign.iter().any(|f| f.running) {
        return Err(PlanError::Foreign {
            kdamonds: foreign,
            blocked: ForeignBlock::Running,
        });
    }

    let desired_names: BTreeSet<&str> = compiled.kdamonds.iter().map(|k| k.policy.as_str()).collect();
    let pending_names: BTreeSet<&str> = compiled
        .skipped
        .iter()
        .filter(|s| s.pending)
        .map(|s| s.policy.as_str())
        .collect();
    let mut ops = Vec::new();
    let mut plans = Vec::new();
    let mut state_after = EngineState {
        boot_id: state.boot_id.clone(),
        ..Default::default()
    };

    // A kdamond the interrupted apply started for a policy it never recorded: its
    // configuration is not known for sure, so it stops, and its slot is free again.
    for slot in unrecorded.iter().copied().filter(|s| running[*s]) {
        ops.push(Op::command(slot, "on", Command::Off, INTERRUPTED));
        plans.push(KdamondPlan {
            slot,
            policy: INTERRUPTED.into(),
            effect: Effect::Stop,
            reason: "started by an apply that did not finish, which never recorded it".into(),
        });
    }
    // Policies that no longer want a kdamond: stop theirs, free the slot (pending and kept
    // policies keep theirs, so they come back where they were).
    let mut free: BTreeSet<usize> = spare.clone();
    for (name, own) in &owned {
        if desired_names.contains(name) {
            continue;
        }
        if keep.contains(*name) || pending_names.contains(name) {
            state_after.policies.insert((*name).to_owned(), (*own).clone());
            continue;
        }
        free.insert(own.slot);
        if running[own.slot] {
            ops.push(Op::command(own.slot, "on", Command::Off, name));
        }
        // A recording's kdamond comes here when its recording ended, or when its recorder
        // is gone (a live one is kept by the caller).
        let reason = match own.recorder {
            Some(recorder) => format!(
                "its recording ended, or its recorder (pid {}) is gone and left it orphaned",
                recorder.pid
            ),
            None => "its policy was removed or disabled".into(),
        };
        plans.push(KdamondPlan {
            slot: own.slot,
            policy: (*name).to_owned(),
            effect: Effect::Stop,
            reason,
        });
    }
    if options.takeover {
        for f in &foreign {
            free.insert(f.slot);
            if f.running {
                ops.push(Op::command(f.slot, "on", Command::Off, TAKEN_OVER));
                plans.push(KdamondPlan {
                    slot: f.slot,
                    policy: TAKEN_OVER.into(),
                    effect: Effect::Stop,
                    reason: format!(
                        "another tool's kdamond (pid {}, ops {}, {} scheme(s)), taken over with --takeover",
                        f.pid, f.ops, f.schemes
                    ),
                });
            }
        }
    }

    // Slots: a policy keeps its own; a new one takes the lowest free slot, else grows.
    let mut slots: Vec<(usize, &Kdamond)> = Vec::new();
    let mut next_new = nr;
    for kdamond in &compiled.kdamonds {
        let slot = match owned.get(kdamond.policy.as_str()) {
            Some(own) => own.slot,
            None => match free.pop_first() {
                Some(slot) => slot,
                None => {
                    next_new += 1;
                    next_new - 1
                }
            },
        };
        slots.push((slot, kdamond));
    }
    let grow = next_new > nr;
    if grow && !options.takeover && foreign.iter().any(|f| !f.running) {
        return Err(PlanError::Foreign {
            kdamonds: foreign,
            blocked: ForeignBlock::Staged,
        });
    }

    let mut desired = BTreeMap::new();
    if grow {
        // nr_kdamonds recreates every kdamond directory and the kernel refuses it while
        // any kdamond runs: stop every one still running (once each: the kernel refuses
        // `off` for a stopped kdamond), grow, rewrite every kdamond that is to run, start
        // them. Policies left as they are (targets unresolved this time) get their recorded
        // configuration back and run again if they ran.
        let why = format!(
            "nr_kdamonds grows from {nr} to {next_new}, which the kernel allows only while every kdamond is off"
        );
        let owner_at = |slot: usize| owned.iter().find(|(_, o)| o.slot == slot).map(|(name, _)| *name);
        let mut stopped = Vec::new();
        let still_running: Vec<usize> = (0..nr).filter(|k| running[*k] && !free_was_stopped(&ops, *k)).collect();
        for k in still_running {
            ops.push(Op::command(k, "on", Command::Off, owner_at(k).unwrap_or("(running)")));
            stopped.push(k);
        }
        ops.push(Op::new(
            File::NR_KDAMONDS,
            Some(nr.to_string()),
            next_new.to_string(),
            None,
        ));
        let kept_running: Vec<(String, Owned)> = state_after
            .policies
            .iter()
            .filter(|(_, o)| stopped.contains(&o.slot))
            .map(|(n, o)| (n.clone(), o.clone()))
            .collect();
        let rewrites = slots
            .iter()
            .map(|(slot, kdamond)| (*slot, *kdamond))
            // A kept policy whose configuration an earlier version recorded cannot be
            // rewritten: its kdamond stays off until its targets resolve again.
            .chain(
                kept_running
                    .iter()
                    .filter_map(|(_, own)| Some((own.slot, own.applied.as_ref()?))),
            );
        let mut starts = Vec::new();
        for (slot, kdamond) in rewrites {
            let writes = kdamond_writes(kdamond, slot, layout);
            // Every kdamond directory is fresh: files already at their default stay as they are.
            let changed = writes
                .iter()
                .filter(|w| fresh_value(layout, w.file).as_deref() != Some(w.value.as_str()));
            ops.extend(changed.map(|w| Op::new(w.file, None, w.value.clone(), Some(&kdamond.policy))));
            desired.insert(
                slot,
                Desired {
                    kdamond: kdamond.clone(),
                    writes,
                },
            );
            starts.push((slot, kdamond.policy.clone()));
        }
        for (slot, policy) in starts {
            ops.push(Op::command(slot, "off", Command::On, &policy));
            // A restart only for a policy that ran in this very slot; a freed slot's new
            // policy starts.
            let (effect, reason) = if stopped.contains(&slot) && owner_at(slot) == Some(policy.as_str()) {
                (Effect::Restart, why.clone())
            } else if owned.contains_key(policy.as_str()) {
                (
                    Effect::Start,
                    "its kdamond is off (stopped, or its processes exited)".to_owned(),
                )
            } else {
                (Effect::Start, "new policy".to_owned())
            };
            plans.push(KdamondPlan {
                slot,
                policy,
                effect,
                reason,
            });
        }
    } else {
        for (slot, kdamond) in &slots {
            let writes = kdamond_writes(kdamond, *slot, layout);
            let changes = diff(sysfs, layout, &writes, &kdamond.policy)?;
            let is_running = running[*slot] && !free_was_stopped(&ops, *slot);
            // After an interrupted apply the kdamond may run either configuration, and its
            // files may already hold the new one without a `commit` having taken it.
            let uncommitted = is_running && interrupted.contains(slot);
            let commit_would_block = owned.get(kdamond.policy.as_str()).is_some_and(|own| {
                let mut may_run = vec![own.applied.as_ref()];
                may_run.extend(uncommitted.then_some(Some(*kdamond)));
                commit_would_block(layout, &may_run)
            });
            let (effect, reason) = match (is_running, changes.is_empty()) {
                (true, true) if uncommitted && commit_would_block => {
                    (Effect::Restart, format!("{UNCOMMITTED}; {RESTART_NOT_COMMIT}"))
                }
                (true, true) if uncommitted => (Effect::Commit, UNCOMMITTED.to_owned()),
                (true, true) => (Effect::Unchanged, "up to date".to_owned()),
                (true, false) if commit_would_block => (
                    Effect::Restart,
                    format!("{} file(s) changed; {RESTART_NOT_COMMIT}", changes.len()),
                ),
                (true, false) => (Effect::Commit, format!("{} file(s) changed", changes.len())),
                (false, _) if owned.contains_key(kdamond.policy.as_str()) => (
                    Effect::Start,
                    "its kdamond is off (stopped, or its processes exited)".to_owned(),
                ),
                (false, _) => (Effect::Start, "new policy".to_owned()),
            };
            ops.extend(changes);
            match effect {
                Effect::Commit => ops.push(Op::command(*slot, "on", Command::Commit, &kdamond.policy)),
                Effect::Start => ops.push(Op::command(*slot, "off", Command::On, &kdamond.policy)),
                Effect::Restart => {
                    ops.push(Op::command(*slot, "on", Command::Off, &kdamond.policy));
                    ops.push(Op::command(*slot, "off", Command::On, &kdamond.policy));
                }
                _ => {}
            }
            plans.push(KdamondPlan {
                slot: *slot,
                policy: kdamond.policy.clone(),
                effect,
                reason,
            });
            desired.insert(
                *slot,
                Desired {
                    kdamond: (*kdamond).clone(),
                    writes,
                },
            );
        }
    }
    // Slots the engine made that stay unused remain its own, for the next new policy.
    state_after.spare_slots = free;
    for (slot, kdamond) in &slots {
        state_after.policies.insert(
            kdamond.policy.clone(),
            Owned {
                slot: *slot,
                hash: hash_writes(&desired[slot].writes),
                file: kdamond.file.clone(),
                // The slot it runs in, not its place in the compiled configuration.
                applied: Some(Kdamond {
                    index: *slot,
                    ..(*kdamond).clone()
                }),
                pid: owned.get(kdamond.policy.as_str()).and_then(|o| o.pid),
                recorder: owned.get(kdamond.policy.as_str()).and_then(|o| o.recorder),
            },
        );
    }
    plans.sort_by_key(|p| p.slot);
    let running_before = (0..nr).filter(|k| running[*k]).collect();
    let taken_over = if options.takeover {
        foreign.iter().map(|f| f.slot).collect()
    } else {
        BTreeSet::new()
    };
    Ok(Plan {
        kdamonds: plans,
        ops,
        state_after,
        desired,
        running_before,
        layout,
        taken_over,
    })
}

/// The policy label of another tool's kdamond that `--takeover` stops.
pub const TAKEN_OVER: &str = "(taken over)";

/// The policy label of a kdamond that an apply which did not finish started and never
/// recorded.
pub const INTERRUPTED: &str = "(interrupted apply)";

/// Why a kdamond whose files are up to date still takes a `commit`.
const UNCOMMITTED: &str = "an apply that did not finish may have written files it never committed";

/// Why a changed kdamond restarts instead of taking a `commit` on older kernels.
const RESTART_NOT_COMMIT: &str = "this kernel takes `commit` only while a scheme is active (before Linux 6.16), \
and every scheme of the running configuration waits for its watermarks";

/// Whether a `commit` could block on this kernel: one of the configurations that may be
/// running has every scheme waiting for watermarks (`None`: a configuration an earlier
/// version recorded, which may).
pub fn commit_would_block(layout: Layout, running: &[Option<&Kdamond>]) -> bool {
    layout.commit_needs_active_scheme()
        && running
            .iter()
            .any(|kdamond| kdamond.is_none_or(Kdamond::every_scheme_gated))
}

/// Whether the plan already stops `slot` (a removed policy's slot reused by a new one).
fn free_was_stopped(ops: &[Op], slot: usize) -> bool {
    ops.iter()
        .any(|op| op.file == File::state(slot) && op.command == Some(Command::Off))
}

/// The writes of `desired` whose files differ, reading each file at most once; below an
/// `nr_*` file that changes, the kernel recreates everything with its defaults, so every
/// file whose desired value is not that default is written.
pub fn diff(sysfs: &dyn Sysfs, layout: Layout, desired: &[Write], policy: &str) -> Result<Vec<Op>, SysfsError> {
    let mut ops = Vec::new();
    let mut recreated: Vec<File> = Vec::new();
    for write in desired {
        let op = |old| Op::new(write.file, old, write.value.clone(), Some(policy));
        if recreated.iter().any(|nr_file| write.file.node.recreated_by(*nr_file)) {
            if fresh_value(layout, write.file).as_deref() != Some(write.value.as_str()) {
                ops.push(op(None));
            }
            continue;
        }
        let current = match read_retrying(sysfs, write.file) {
            Ok(current) => Some(current),
            Err(e) if e.errno == Some(crate::sysfs::errno::ENOENT) => None,
            Err(e) => return Err(e),
        };
        if current.as_deref().map(str::trim) == Some(write.value.as_str()) {
            continue;
        }
        // Only count files recreate children (`weights/nr_accesses_permil` is a leaf).
        if write.file.creates().is_some() {
            recreated.push(write.file);
        }
        ops.push(op(current));
    }
    Ok(ops)
}

/// A kdamond's pid, if it can be read (best effort: it is only compared).
pub fn kdamond_pid(sysfs: &dyn Sysfs, slot: usize) -> Option<u32> {
    read_briefly(sysfs, File::kdamond(slot, "pid"))
        .ok()
        .and_then(|p| p.trim().parse().ok())
}

/// What [`stop_owned`] did to one policy's kdamond.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stopped {
    Stopped,
    NotRunning,
    /// Another tool's kdamond runs in the slot now (its pid is not the recorded one): left alone.
    Foreign {
        pid: u32,
    },
}

/// Turns off the owned kdamonds of the named policies (all when `names` is empty); no other
/// kdamond is touched — also not one that another tool started in the slot of a stopped
/// kdamond of ours. Per policy: its slot and what happened.
pub fn stop_owned<'a>(
    sysfs: &dyn Sysfs,
    state: &'a EngineState,
    names: &[String],
) -> Vec<(&'a str, usize, Result<Stopped, SysfsError>)> {
    state
        .policies
        .iter()
        .filter(|(name, _)| names.is_empty() || names.contains(name))
        .map(|(name, own)| {
            let state = File::state(own.slot);
            let result = if read_retrying(sysfs, state).is_ok_and(|s| s == "on") {
                match own.replaced_by(true, kdamond_pid(sysfs, own.slot)) {
                    Some(pid) => Ok(Stopped::Foreign { pid }),
                    None => {
                        crate::sysfs::write_retrying(sysfs, state, Command::Off.keyword()).map(|()| Stopped::Stopped)
                    }
                }
            } else {
                Ok(Stopped::NotRunning)
            };
            (name.as_str(), own.slot, result)
        })
        .collect()
}

fn describe_foreign(sysfs: &dyn Sysfs, slot: usize, running: bool) -> Foreign {
    let read = |file: File| read_briefly(sysfs, file).unwrap_or_else(|_| "?".into());
    let context = Node::Context { kdamond: slot };
    Foreign {
        slot,
        running,
        pid: read(File::kdamond(slot, "pid")),
        ops: read(context.file("operations")),
        schemes: read(context.file("schemes/nr_schemes")),
    }
}

#[cfg(test)]
mod crash_tests;
#[cfg(test)]
mod tests;
