//! Crash safety on the fake kernel: an apply whose process dies before any one of its kernel
//! writes (or after the last, before its record) is followed by a new process's apply, which
//! must converge: the same slots, no kdamond left over or doubled, nothing written but never
//! committed, a record that names exactly what runs, and a third apply with nothing to do.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::time::Duration;

use super::Effect;
use super::outcome::Outcome;
use super::run::once;
use super::run::tests::settings;
use super::state::{EngineState, StateStore};
use crate::kernel::Version;
use crate::kernel::probe::KernelInfo;
use crate::sysfs::fake::FakeKernel;
use crate::sysfs::{Sysfs, SysfsError};

const BOOT: &str = "boot";

/// The kernel as a process sees it that dies before its write number `survives + 1`: later
/// writes never reach the kernel. The record is as the dying process left it: the one saved
/// before its first write (later saves are undone by [`crash`]).
struct DiesAfter<'a> {
    kernel: &'a FakeKernel,
    survives: usize,
    writes: Cell<usize>,
    record: &'a Path,
    record_at_first_write: RefCell<Option<Vec<u8>>>,
}

impl Sysfs for DiesAfter<'_> {
    fn read(&self, path: &str) -> Result<String, SysfsError> {
        self.kernel.read(path)
    }

    fn write(&self, path: &str, value: &str) -> Result<(), SysfsError> {
        if self.writes.get() == 0 {
            *self.record_at_first_write.borrow_mut() = fs::read(self.record).ok();
        }
        self.writes.set(self.writes.get() + 1);
        if self.writes.get() <= self.survives {
            self.kernel.write(path, value)
        } else {
            Ok(())
        }
    }

    fn exists(&self, path: &str) -> bool {
        self.kernel.exists(path)
    }

    fn list(&self, path: &str) -> Result<Vec<String>, SysfsError> {
        self.kernel.list(path)
    }

    fn describe(&self) -> String {
        self.kernel.describe()
    }

    fn busy_deadline(&self) -> Duration {
        Duration::ZERO
    }
}

fn info(version: Version) -> KernelInfo {
    super::run::tests::info(version, vec![])
}

fn write_policy(dir: &Path, name: &str, age_s: u32) {
    let text = format!(
        "name = \"{name}\"\n[target]\nphysical = {{ regions = [{{ start = 4096, end = 1048576 }}] }}\n\
         [[scheme]]\naction = \"stat\"\naccess_pattern.access_rate = {{ max = \"0%\" }}\n\
         access_pattern.age = {{ min = \"{age_s}s\" }}\n"
    );
    fs::write(dir.join("policies").join(format!("{name}.toml")), text).unwrap();
}

/// One reconcile by a new process: the record as on disk.
fn apply_once(dir: &Path, sysfs: &dyn Sysfs, version: Version) -> (Outcome, EngineState, usize) {
    let store = StateStore::new(dir.join("state"));
    let mut state = store.load(BOOT).expect("the record stays readable");
    let report = once(&settings(dir), sysfs, &info(version), &store, &mut state, true);
    let ops = report.plan.map_or(0, |p| p.ops.len());
    (report.outcome, state, ops)
}

/// Runs the apply of the policies now in `dir/policies`, killed after `survives` writes.
fn crash(dir: &Path, kernel: &FakeKernel, version: Version, survives: usize) -> usize {
    let record = dir.join("state/state.json");
    let dying = DiesAfter {
        kernel,
        survives,
        writes: Cell::new(0),
        record: &record,
        record_at_first_write: RefCell::new(None),
    };
    let _ = apply_once(dir, &dying, version);
    // What the process saved after its death point never happened.
    if dying.writes.get() > 0 {
        match dying.record_at_first_write.take() {
            Some(bytes) => fs::write(&record, bytes).unwrap(),
            None => {
                let _ = fs::remove_file(&record);
            }
        }
    }
    dying.writes.get()
}

/// `(state, pid)` of every kdamond slot of the kernel.
fn kdamonds(kernel: &FakeKernel) -> BTreeMap<usize, (String, String)> {
    let nr: usize = kernel.get("kdamonds/nr_kdamonds").unwrap().parse().unwrap();
    (0..nr)
        .map(|k| {
            let read = |leaf: &str| kernel.get(&format!("kdamonds/{k}/{leaf}")).unwrap_or_default();
            (k, (read("state"), read("pid")))
        })
        .collect()
}

/// After the crash, one apply converges and records exactly what runs.
fn assert_converges(dir: &Path, kernel: &FakeKernel, version: Version, expected: &EngineState, what: &str) {
    let (outcome, state, _) = apply_once(dir, kernel, version);
    assert!(matches!(outcome, Outcome::Applied(_)), "{what}: {outcome:?}");
    let slots = |s: &EngineState| s.policies.iter().map(|(n, o)| (n.clone(), o.slot)).collect::<Vec<_>>();
    assert_eq!(slots(&state), slots(expected), "{what}: the same slots");
    let running = kdamonds(kernel);
    assert_eq!(
        running.len(),
        expected.policies.len(),
        "{what}: no kdamond left over: {running:?}"
    );
    for own in state.policies.values() {
        let (on, pid) = &running[&own.slot];
        assert_eq!(on, "on", "{what}: slot {} runs", own.slot);
        assert_eq!(
            own.pid.map(|p| p.to_string()).as_ref(),
            Some(pid),
            "{what}: the recorded pid"
        );
        assert_eq!(
            kernel.uncommitted(own.slot),
            Vec::<String>::new(),
            "{what}: all committed"
        );
    }
    assert!(state.applying.is_empty(), "{what}: {state:?}");
    let store = StateStore::new(dir.join("state"));
    assert_eq!(store.load(BOOT).unwrap(), state, "{what}: the record on disk");
    let (outcome, _, ops) = apply_once(dir, kernel, version);
    assert!(
        matches!(outcome, Outcome::Applied(_)) && ops == 0,
        "{what}: converged, {ops} more op(s)"
    );
}

/// A new kernel and state directory with `names` applied (nothing when empty).
fn setup(version: Version, names: &[&str]) -> (tempfile::TempDir, FakeKernel) {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("policies")).unwrap();
    let kernel = FakeKernel::new(version);
    for name in names {
        write_policy(dir.path(), name, 10);
    }
    if !names.is_empty() {
        let (outcome, _, _) = apply_once(dir.path(), &kernel, version);
        assert!(matches!(outcome, Outcome::Applied(_)), "{outcome:?}");
    }
    (dir, kernel)
}

/// What applying `change` to the setup gives without a crash: its record and write count.
fn reference(version: Version, names: &[&str], change: &dyn Fn(&Path)) -> (EngineState, usize) {
    let (dir, kernel) = setup(version, names);
    change(dir.path());
    let (outcome, state, ops) = apply_once(dir.path(), &kernel, version);
    assert!(matches!(outcome, Outcome::Applied(_)), "{outcome:?}");
    (state, ops)
}

/// Kills the apply of `change` at every point, each time on a fresh setup, and checks the
/// apply after it.
fn crash_everywhere(version: Version, names: &[&str], change: &dyn Fn(&Path), keeps_pids: bool) {
    let (expected, total) = reference(version, names, change);
    assert!(total > 0);
    for survives in 0..=total {
        let (dir, kernel) = setup(version, names);
        let pids_before = kdamonds(&kernel);
        change(dir.path());
        let tried = crash(dir.path(), &kernel, version, survives);
        assert!(tried >= survives.min(total), "the apply got to write {survives}");
        let what = format!("{version}, killed after {survives} of {total} writes");
        assert_converges(dir.path(), &kernel, version, &expected, &what);
        if keeps_pids {
            assert_eq!(kdamonds(&kernel), pids_before, "{what}: no kdamond restarted");
        }
    }
}

#[test]
fn a_first_apply_killed_anywhere_converges_on_the_next() {
    for version in [Version::new(6, 12), Version::new(7, 3)] {
        let add = |dir: &Path| {
            for name in ["alpha", "beta", "gamma"] {
                write_policy(dir, name, 10);
            }
        };
        crash_everywhere(version, &[], &add, false);
    }
}

#[test]
fn commits_killed_anywhere_are_completed_without_restarts() {
    for version in [Version::new(6, 12), Version::new(7, 3)] {
        let edit = |dir: &Path| {
            for name in ["alpha", "beta", "gamma"] {
                write_policy(dir, name, 20);
            }
        };
        crash_everywhere(version, &["alpha", "beta", "gamma"], &edit, true);
    }
}

#[test]
fn a_growing_apply_killed_anywhere_converges_on_the_next() {
    let grow = |dir: &Path| {
        write_policy(dir, "alpha", 30);
        write_policy(dir, "delta", 10);
        write_policy(dir, "epsilon", 10);
        fs::remove_file(dir.join("policies/beta.toml")).unwrap();
    };
    // Every kdamond restarts here, so the releases' ways of committing do not matter: one
    // release is enough (each point costs a few applies).
    crash_everywhere(Version::new(7, 3), &["alpha", "beta", "gamma"], &grow, false);
}

/// The interrupted kdamond whose files hold the new values but which never took them gets
/// its `commit` from the next apply, though no file differs.
#[test]
fn written_but_uncommitted_files_are_committed() {
    let version = Version::new(7, 3);
    let (dir, kernel) = setup(version, &["alpha"]);
    write_policy(dir.path(), "alpha", 20);
    // The value is written, the commit is not.
    crash(dir.path(), &kernel, version, 1);
    assert!(!kernel.uncommitted(0).is_empty());
    let store = StateStore::new(dir.path().join("state"));
    let mut state = store.load(BOOT).unwrap();
    let report = once(&settings(dir.path()), &kernel, &info(version), &store, &mut state, true);
    let plan = report.plan.unwrap();
    assert_eq!(plan.kdamonds[0].effect, Effect::Commit, "{:?}", plan.kdamonds);
    assert!(
        plan.kdamonds[0].reason.contains("never committed"),
        "{:?}",
        plan.kdamonds
    );
    assert!(kernel.uncommitted(0).is_empty());
}

/// A record that cannot be saved before the first write stops the apply there: the kernel
/// is not touched, the error names the record, and the next apply with a working record
/// directory applies.
#[test]
fn a_record_that_cannot_be_saved_stops_the_apply_before_any_write() {
    let version = Version::new(7, 3);
    let (dir, kernel) = setup(version, &["alpha"]);
    write_policy(dir.path(), "alpha", 20);
    write_policy(dir.path(), "beta", 10);
    let store = StateStore::new(dir.path().join("state"));
    let mut state = store.load(BOOT).unwrap();
    // A record that cannot be replaced (a non-empty directory in its place).
    let record = dir.path().join("state/state.json");
    let kept = fs::read(&record).unwrap();
    fs::remove_file(&record).unwrap();
    fs::create_dir_all(record.join("in-the-way")).unwrap();
    let before = kernel.files();
    kernel.clear_log();
    let report = once(&settings(dir.path()), &kernel, &info(version), &store, &mut state, true);
    match &report.outcome {
        Outcome::Unreadable(unreadable) => {
            let message = unreadable.to_string();
            assert!(
                message.starts_with("cannot record the kdamonds this apply would change, so nothing was written: ")
                    && message.contains(&record.display().to_string()),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(kernel.log().is_empty(), "{:?}", kernel.log());
    assert_eq!(kernel.files(), before);
    fs::remove_dir_all(&record).unwrap();
    fs::write(&record, kept).unwrap();
    let (outcome, state, _) = apply_once(dir.path(), &kernel, version);
    assert!(matches!(outcome, Outcome::Applied(_)), "{outcome:?}");
    assert_eq!(state.policies.len(), 2);
}
