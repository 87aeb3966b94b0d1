//! Executing a [`Plan`]: writes in order (retrying transient `EBUSY`), `on`/`commit` with the
//! kdamond's state read back after each (kernels before 6.15 report a bad `commit` by
//! stopping the kdamond, not by an error), then a read-back of every desired file. When
//! the kernel refuses anything, the last good configuration is restored.

use std::collections::BTreeMap;

use super::{Desired, Op, Plan, commit_would_block, diff};
use crate::compile::file::File;
use crate::compile::sysfs::kdamond_writes;
use crate::kernel::Command;
use crate::reconcile::outcome::ReenableError;
use crate::reconcile::state::EngineState;
use crate::sysfs::{Sysfs, SysfsError, read_retrying, write_retrying};

/// A seam for crash tests, in debug builds only (release builds compile it to nothing):
/// with `DAMO_POLICY_PAUSE_AFTER_WRITES=N` in its environment, the process stops before its
/// N+1-th kernel write of an apply (counted over all its applies, so that a service's reload
/// can be reached; N = the apply's write count stops it between its last write and its
/// record), says so on stderr (`paused after N kernel write(s)`) and waits to be killed.
/// The VM suite's crash scenario (`tests/vm/guest/scenarios/95-crash.sh`) sends it SIGKILL
/// there, at an exact point of a real apply.
mod crash_point {
    #[cfg(debug_assertions)]
    use std::sync::atomic::{AtomicU64, Ordering};

    /// Kernel writes of applies this process made.
    #[cfg(debug_assertions)]
    static WRITES_DONE: AtomicU64 = AtomicU64::new(0);

    /// Before a write, and after an apply's last one: pauses if this is the point asked for.
    #[cfg(debug_assertions)]
    pub fn reached() {
        use std::io::Write as _;
        static PAUSE_AFTER: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();
        let pause_after = PAUSE_AFTER.get_or_init(|| {
            std::env::var("DAMO_POLICY_PAUSE_AFTER_WRITES")
                .ok()
                .and_then(|n| n.trim().parse().ok())
        });
        let done = WRITES_DONE.load(Ordering::Relaxed);
        if *pause_after == Some(done) {
            let _ = writeln!(std::io::stderr(), "paused after {done} kernel write(s)");
            loop {
                std::thread::sleep(std::time::Duration::from_secs(3600));
            }
        }
    }

    #[cfg(debug_assertions)]
    pub fn wrote() {
        WRITES_DONE.fetch_add(1, Ordering::Relaxed);
    }

    #[cfg(not(debug_assertions))]
    pub fn reached() {}

    #[cfg(not(debug_assertions))]
    pub fn wrote() {}
}

/// What a successful apply did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub writes: usize,
}

/// As the command line and the service both report it.
impl std::fmt::Display for Applied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} write(s), verified", self.writes)
    }
}

/// A failed apply: the operation the kernel refused, its error, and whether the previous
/// configuration is running again.
#[derive(Debug)]
pub struct Failed {
    pub op: Op,
    pub error: SysfsError,
    pub writes: usize,
    pub restored: Result<(), RestoreError>,
}

/// Why the last good configuration is not (all) back after a failed apply.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    /// The kernel refused a write of the restore too.
    #[error(transparent)]
    Sysfs(#[from] SysfsError),
    /// A policy's kdamond could not be started again.
    #[error("restarting `{policy}`: {error}")]
    Restart { policy: String, error: SysfsError },
    /// Another tool's kdamonds taken over with `--takeover` were touched: their
    /// configuration was never recorded, so it cannot be put back.
    #[error("{}", taken_over_text(touched, ran))]
    TakenOver {
        touched: Vec<usize>,
        /// Those of them that ran before the apply (and are off now).
        ran: Vec<usize>,
    },
    /// Policies whose configuration an earlier version recorded (in a form this one does
    /// not read) were touched: their files cannot be put back.
    #[error(
        "the configuration of {} was recorded by an earlier version of damo-policy and cannot be put back; fix the refused change and apply again to rewrite it",
        policies.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ")
    )]
    Unrecorded { policies: Vec<String> },
    /// Everything is back but modules that the apply disabled.
    #[error(transparent)]
    Modules(ReenableError),
    #[error("{restore}; {modules}")]
    AndModules {
        restore: Box<RestoreError>,
        modules: ReenableError,
    },
}

fn taken_over_text(touched: &[usize], ran: &[usize]) -> String {
    let list = |slots: &[usize]| {
        slots
            .iter()
            .map(|s| format!("kdamond {s}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let were = if touched.len() == 1 { "it was" } else { "they were" };
    let ran_text = if ran.is_empty() {
        String::new()
    } else {
        let are = if ran.len() == 1 { "is" } else { "are" };
        format!(
            "; {} ran before and {are} off now: start it again with the tool that started it",
            list(ran)
        )
    };
    format!(
        "{} of another tool, taken over with --takeover, cannot be put back as {were} (damo-policy never recorded that configuration){ran_text}",
        list(touched)
    )
}

/// Executes `plan`; on failure restores `prior` (the last good record).
pub fn apply(sysfs: &dyn Sysfs, plan: &Plan, prior: &EngineState) -> Result<Applied, Box<Failed>> {
    let mut writes = 0;
    for op in &plan.ops {
        crash_point::reached();
        let result = write_retrying(sysfs, op.file, &op.new).and_then(|()| check_state(sysfs, op));
        crash_point::wrote();
        writes += 1;
        if let Err(error) = result {
            let restored = restore(sysfs, prior, plan, &plan.ops[..writes]);
            return Err(Box::new(Failed {
                op: op.clone(),
                error,
                writes,
                restored,
            }));
        }
    }
    crash_point::reached();
    if let Err(failure) = verify(sysfs, &plan.desired) {
        let (op, error) = *failure;
        let restored = restore(sysfs, prior, plan, &plan.ops);
        return Err(Box::new(Failed {
            op,
            error,
            writes,
            restored,
        }));
    }
    Ok(Applied { writes })
}

/// After `on` or `commit`, the kdamond must be running.
fn check_state(sysfs: &dyn Sysfs, op: &Op) -> Result<(), SysfsError> {
    if !matches!(op.command, Some(Command::On | Command::Commit)) {
        return Ok(());
    }
    let state = read_retrying(sysfs, op.file)?;
    if state == "on" {
        return Ok(());
    }
    Err(SysfsError {
        path: op.file.to_string(),
        value: Some(op.new.clone()),
        errno: Some(crate::sysfs::errno::EINVAL),
        message: format!(
            "the kdamond is `{state}` after `{}`: the kernel rejected the configuration",
            op.new
        ),
    })
}

/// Reads back every desired file, and each kdamond's state and pid.
fn verify(sysfs: &dyn Sysfs, desired: &BTreeMap<usize, Desired>) -> Result<(), Box<(Op, SysfsError)>> {
    for (slot, desired) in desired {
        for write in &desired.writes {
            let actual =
                read_retrying(sysfs, write.file).map_err(|e| Box::new((read_op(write.file, &write.value), e)))?;
            if actual.trim() != write.value {
                let error = SysfsError {
                    path: write.file.to_string(),
                    value: Some(write.value.clone()),
                    errno: None,
                    message: format!("reads back `{actual}`"),
                };
                return Err(Box::new((read_op(write.file, &write.value), error)));
            }
        }
        let pid = read_retrying(sysfs, File::kdamond(*slot, "pid")).unwrap_or_default();
        if pid.trim() == "-1" {
            let state = File::state(*slot);
            let error = SysfsError {
                path: state.to_string(),
                value: None,
                errno: None,
                message: "the kdamond is not running after apply".into(),
            };
            return Err(Box::new((read_op(state, "on"), error)));
        }
    }
    Ok(())
}

/// The read-back that found `file` not holding `value`, in the shape of the write it checks
/// (for no one policy or scheme in particular).
fn read_op(file: File, value: &str) -> Op {
    Op {
        file,
        old: None,
        new: value.into(),
        policy: None,
        scheme: None,
        command: None,
    }
}

/// Puts the last good configuration back: kdamonds the record does not name are turned
/// off, recorded ones get their recorded files, and those that ran before run again.
/// Another tool's kdamonds taken over with `--takeover` cannot be put back (their
/// configuration was never recorded): that is an error, not a restore.
/// `done`: the operations written before the failure (an `nr_kdamonds` write among them
/// rewrote every kdamond).
pub fn restore(sysfs: &dyn Sysfs, prior: &EngineState, plan: &Plan, done: &[Op]) -> Result<(), RestoreError> {
    restore_recorded(sysfs, prior, plan, done)?;
    let touched: Vec<usize> = plan.taken_over.iter().copied().filter(|s| touched(done, *s)).collect();
    if touched.is_empty() {
        return Ok(());
    }
    let ran = touched
        .iter()
        .copied()
        .filter(|s| plan.running_before.contains(s))
        .collect();
    Err(RestoreError::TakenOver { touched, ran })
}

/// Whether the operations `done` changed the kdamond in `slot`: one of them is below it, or
/// `nr_kdamonds` was written (which recreates every kdamond).
fn touched(done: &[Op], slot: usize) -> bool {
    done.iter()
        .any(|op| op.file == File::NR_KDAMONDS || op.file.node.kdamond() == Some(slot))
}

fn restore_recorded(sysfs: &dyn Sysfs, prior: &EngineState, plan: &Plan, done: &[Op]) -> Result<(), RestoreError> {
    let mut unrecorded = Vec::new();
    let prior_slots: BTreeMap<usize, &str> = prior.policies.iter().map(|(n, o)| (o.slot, n.as_str())).collect();
    for slot in plan.desired.keys().filter(|s| !prior_slots.contains_key(s)) {
        let state = File::state(*slot);
        if read_retrying(sysfs, state).is_ok_and(|s| s == "on") {
            write_retrying(sysfs, state, Command::Off.keyword())?;
        }
    }
    for (name, own) in &prior.policies {
        let state_path = File::state(own.slot);
        let Some(applied) = &own.applied else {
            // Recorded by an earlier version: untouched, it is as it was; touched, its
            // files cannot be put back.
            if touched(done, own.slot) {
                unrecorded.push(name.clone());
            }
            continue;
        };
        let recorded = kdamond_writes(applied, own.slot, plan.layout);
        let changes = diff(sysfs, plan.layout, &recorded, name)?;
        for op in &changes {
            write_retrying(sysfs, op.file, &op.new)?;
        }
        let running = read_retrying(sysfs, state_path).is_ok_and(|s| s == "on");
        // Whichever configuration runs now, a commit must not wait for watermarks.
        let mut may_run = vec![Some(applied)];
        may_run.extend(plan.desired.get(&own.slot).map(|d| Some(&d.kdamond)));
        let commit_would_block = commit_would_block(plan.layout, &may_run);
        match (running, changes.is_empty()) {
            (true, true) => {}
            (true, false) if commit_would_block => {
                write_retrying(sysfs, state_path, Command::Off.keyword())?;
                write_retrying(sysfs, state_path, Command::On.keyword()).map_err(|error| RestoreError::Restart {
                    policy: name.clone(),
                    error,
                })?;
            }
            (true, false) => write_retrying(sysfs, state_path, Command::Commit.keyword())?,
            (false, _) if plan.running_before.contains(&own.slot) => {
                write_retrying(sysfs, state_path, Command::On.keyword()).map_err(|error| RestoreError::Restart {
                    policy: name.clone(),
                    error,
                })?;
            }
            (false, _) => {}
        }
    }
    if unrecorded.is_empty() {
        Ok(())
    } else {
        Err(RestoreError::Unrecorded { policies: unrecorded })
    }
}
