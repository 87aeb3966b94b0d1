//! One full, idempotent reconcile — load → validate → compile → plan → apply — as data,
//! shared by `plan`, `apply` and the watching service. Nothing here prints; a
//! [`Report`] says what happened at each stage, and on any refusal the kernel keeps its
//! last good configuration.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use super::apply::{RestoreError, apply};
use super::outcome::{InsecurePaths, Outcome, ReenableError, Refusal, Unreadable};
use super::{Options, Plan, PlanError, plan};
use crate::compile::{self, Compiled};
use crate::diag::{Code, Diagnostic};
use crate::host::HostPaths;
use crate::kernel::probe::{KernelInfo, ModuleState};
use crate::kernel::{Command, Layout};
use crate::policy::pipeline::{self, Checked, KernelChoice};
use crate::reconcile::state::{EngineState, Recorder, StateStore};
use crate::sysfs::Sysfs;

/// What a reconcile reads and how it may act.
#[derive(Debug, Clone)]
pub struct Settings {
    pub paths: Vec<PathBuf>,
    pub host: HostPaths,
    pub sysfs_root: PathBuf,
    pub options: Options,
    /// Disable exclusive DAMON modules that would make `on` fail.
    pub disable_modules: bool,
    /// Refuse policy files and directories that users other than root can write.
    pub strict_permissions: bool,
}

/// Everything one reconcile found and did.
pub struct Report {
    pub checked: Option<Checked>,
    pub compiled: Option<Compiled>,
    pub plan: Option<Plan>,
    /// Modules disabled on the way.
    pub disabled_modules: Vec<String>,
    pub outcome: Outcome,
}

impl Report {
    fn stop(checked: Option<Checked>, outcome: Outcome) -> Self {
        Report {
            checked,
            compiled: None,
            plan: None,
            disabled_modules: Vec::new(),
            outcome,
        }
    }

    /// Policies whose targets failed to resolve (left as they were).
    pub fn unresolved(&self) -> usize {
        self.compiled
            .as_ref()
            .map_or(0, |c| c.skipped.iter().filter(|s| !s.pending).count())
    }
}

/// The enabled modules that block starting a kdamond, if the plan starts one (each of
/// them runs an exclusive kdamond, so all of them must go).
pub fn blocking_modules<'a>(plan: &Plan, modules: &'a [ModuleState]) -> Vec<&'a ModuleState> {
    let starts = plan.ops.iter().any(|op| op.command == Some(Command::On));
    if starts {
        modules.iter().filter(|m| m.enabled).collect()
    } else {
        Vec::new()
    }
}

/// Enables again the modules this reconcile disabled (a failed apply leaves the host as it
/// found it: the module's own kdamond resumes its work).
fn reenable_modules(disabled: &[String], modules: &[ModuleState]) -> Result<(), ReenableError> {
    let failures: Vec<(ModuleState, std::io::Error)> = modules
        .iter()
        .filter(|m| disabled.contains(&m.name))
        .filter_map(|module| module.enable().err().map(|e| (module.clone(), e)))
        .collect();
    if failures.is_empty() {
        Ok(())
    } else {
        Err(ReenableError(failures))
    }
}

/// A process target that is not running makes the kernel refuse the whole configuration at
/// `on` or `commit`, and with it every other change of the apply. A policy naming one (a
/// `pids` entry that exited, or a process that exited since it was looked up) is left as it
/// is this time, and said so; the others apply.
fn leave_out_dead_processes(compiled: &mut compile::Compiled, host: &HostPaths) {
    for kdamond in std::mem::take(&mut compiled.kdamonds) {
        let gone: Vec<String> = kdamond
            .targets
            .iter()
            .filter_map(|t| t.pid)
            .filter(|pid| !host.is_running(*pid))
            .map(|p| p.to_string())
            .collect();
        if gone.is_empty() {
            compiled.kdamonds.push(kdamond);
            continue;
        }
        compiled.skipped.push(compile::Skipped {
            policy: kdamond.policy,
            file: kdamond.file,
            reason: format!(
                "process {} {} not running, and the kernel refuses a target that is not: remove {} from `pids`, or select processes by `process` name or `cgroup`",
                gone.join(", "),
                if gone.len() == 1 { "is" } else { "are" },
                if gone.len() == 1 { "it" } else { "them" }
            ),
            pending: false,
        });
    }
}

/// Reconciles once. With `write == false` it stops after planning. On success `state`
/// becomes the new record and is saved to `store`.
pub fn once(
    settings: &Settings,
    sysfs: &dyn Sysfs,
    info: &KernelInfo,
    store: &StateStore,
    state: &mut EngineState,
    write: bool,
) -> Report {
    let choice = KernelChoice::Probed(info.version);
    let mut checked = match pipeline::check_paths(&settings.paths, &choice, &settings.host, &settings.sysfs_root) {
        Ok(checked) => checked,
        Err(error) => return Report::stop(None, Outcome::Unreadable(Unreadable::Probe(error))),
    };
    // An existing directory without policies is a valid desired state: no kdamonds.
    checked.general.retain(|d| d.code != Code::NoPolicies);
    if checked.has_io_errors() {
        return Report::stop(Some(checked), Outcome::Unreadable(Unreadable::PolicyFiles));
    }
    if checked.error_count() > 0 {
        return Report::stop(Some(checked), Outcome::Invalid);
    }
    if settings.strict_permissions {
        let dirs: Vec<PathBuf> = settings.paths.iter().filter(|p| p.is_dir()).cloned().collect();
        let files: Vec<PathBuf> = checked.outcomes.iter().map(|o| o.file.path.clone()).collect();
        let insecure = crate::policy::perms::insecure(&dirs, &files);
        if !insecure.is_empty() {
            return Report::stop(Some(checked), Outcome::Insecure(InsecurePaths(insecure)));
        }
    }
    let policies = checked.policies();
    for p in policies
        .iter()
        .filter(|p| p.enabled && !info.avail_ops.contains(&p.ops))
    {
        checked.general.push(
            Diagnostic::error(
                Code::KernelFeature,
                format!(
                    "policy `{}` uses `{}`, which this kernel has not registered",
                    p.name,
                    p.ops.keyword()
                ),
            )
            .help("check `damo-policy kernel` for the available operations sets"),
        );
    }
    if checked.error_count() > 0 {
        return Report::stop(Some(checked), Outcome::Invalid);
    }
    let mut compiled = compile::compile(&policies, info.version, &settings.host);
    leave_out_dead_processes(&mut compiled, &settings.host);
    let keep: BTreeSet<String> = compiled
        .skipped
        .iter()
        .filter(|s| !s.pending)
        .map(|s| s.policy.clone())
        .collect();
    let execution = Execution {
        host: &settings.host,
        options: settings.options,
        disable_modules: settings.disable_modules,
    };
    let desire = Desire {
        compiled,
        keep: Keep::Named(keep),
        recorders: BTreeMap::new(),
    };
    execute(&execution, sysfs, info, store, state, Some(checked), desire, write)
}

/// How [`execute`] may act.
#[derive(Debug, Clone, Copy)]
pub struct Execution<'a> {
    /// Where the recorders of recordings are seen running.
    pub host: &'a HostPaths,
    pub options: Options,
    /// Disable exclusive DAMON modules that would make `on` fail.
    pub disable_modules: bool,
}

/// Which owned kdamonds that the compiled configuration does not name stay as they are
/// (the others stop). Recordings whose recorder runs always stay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Keep {
    /// These policies (their targets could not be resolved this time).
    Named(BTreeSet<String>),
    /// Every owned kdamond but these, as the record under the lock names them: a recording
    /// starts or stops its own kdamond and nothing else.
    AllBut(BTreeSet<String>),
}

/// What a reconcile is to reach, once validated and compiled.
#[derive(Debug, Clone)]
pub struct Desire {
    pub compiled: Compiled,
    pub keep: Keep,
    /// The recorder of each compiled kdamond that is a recording's, by its name.
    pub recorders: BTreeMap<String, Recorder>,
}

/// The back half of every reconcile — lock, plan, modules, apply, record — of a configuration
/// already validated and compiled: what [`once`] does with policy files, and what a
/// recording does to start and stop its kdamond, so that both own kdamonds alike. With
/// `write == false` it stops after planning.
#[allow(clippy::too_many_arguments)]
pub fn execute(
    execution: &Execution<'_>,
    sysfs: &dyn Sysfs,
    info: &KernelInfo,
    store: &StateStore,
    state: &mut EngineState,
    checked: Option<Checked>,
    desire: Desire,
    write: bool,
) -> Report {
    let Desire {
        compiled,
        keep,
        recorders,
    } = desire;
    // A writer plans from the record as it is under the lock, not as it was when this
    // process (or the service's last reconcile) read it.
    // (A CLI `apply` beside the service may have changed the record and restarted kdamonds
    // under new pids: the file is the truth. If it cannot be read, the record in memory is
    // the best knowledge left.)
    let _lock = if write {
        let lock = match store.lock() {
            Ok(lock) => lock,
            Err(e) => {
                return Report {
                    checked,
                    compiled: Some(compiled),
                    plan: None,
                    disabled_modules: Vec::new(),
                    outcome: Outcome::Unreadable(Unreadable::Lock(e)),
                };
            }
        };
        match store.load(&state.boot_id) {
            Ok(record) => *state = record,
            Err(e) => tracing::warn!("keeping the record in memory: {e}"),
        }
        Some(lock)
    } else {
        None
    };
    let (mut keep, ending) = match keep {
        Keep::Named(names) => (names, BTreeSet::new()),
        Keep::AllBut(names) => (
            state.policies.keys().filter(|n| !names.contains(*n)).cloned().collect(),
            names,
        ),
    };
    keep.extend(
        state
            .live_recordings(execution.host)
            .into_iter()
            .filter(|n| !ending.contains(n)),
    );
    let planned = match plan(
        sysfs,
        &compiled,
        Layout::new(info.version),
        state,
        &keep,
        execution.options,
    ) {
        Ok(planned) => planned,
        Err(PlanError::Sysfs(e)) => return Report::stop(checked, Outcome::Unreadable(Unreadable::Kernel(e))),
        Err(PlanError::Foreign { kdamonds, blocked }) => {
            return Report {
                checked,
                compiled: Some(compiled),
                plan: None,
                disabled_modules: Vec::new(),
                outcome: Outcome::Refused(Refusal::Foreign {
                    tree: sysfs.describe(),
                    kdamonds,
                    blocked,
                }),
            };
        }
    };
    let mut report = Report {
        checked,
        compiled: Some(compiled),
        plan: None,
        disabled_modules: Vec::new(),
        outcome: Outcome::Planned,
    };
    if !write {
        report.plan = Some(planned);
        return report;
    }
    let blocking = blocking_modules(&planned, &info.modules);
    if !blocking.is_empty() && !execution.disable_modules {
        let modules = blocking.into_iter().cloned().collect();
        report.outcome = Outcome::Refused(Refusal::Modules { modules });
        return report;
    }
    // Before the first write, the record names every slot the apply changes: if the process
    // dies mid-way, the next apply knows what runs there as its own, not another tool's.
    let touched = planned.touched_slots();
    if !touched.is_empty() {
        let mut intent = state.clone();
        intent.applying.extend(touched.iter().copied());
        if let Err(error) = store.save(&intent) {
            report.outcome = Outcome::Unreadable(Unreadable::NoIntent(error));
            return report;
        }
    }
    for module in blocking {
        if let Err(error) = module.disable() {
            let undone = reenable_modules(&report.disabled_modules, &info.modules).err();
            report.outcome = Outcome::Refused(Refusal::CannotDisable {
                module: module.clone(),
                error,
                undone,
            });
            report.disabled_modules.clear();
            return report;
        }
        report.disabled_modules.push(module.name.clone());
    }
    report.outcome = match apply(sysfs, &planned, state) {
        Ok(applied) => {
            *state = planned.state_after.clone();
            for (name, recorder) in recorders {
                if let Some(own) = state.policies.get_mut(&name) {
                    own.recorder = Some(recorder);
                }
            }
            state.note_pids(sysfs);
            match store.save(state) {
                Ok(()) => Outcome::Applied(applied),
                Err(error) => Outcome::Unreadable(Unreadable::NotRecorded(error)),
            }
        }
        Err(mut failed) => {
            // The restore may have restarted kdamonds: keep knowing them as ours.
            state.note_pids(sysfs);
            // Slots this apply staged (new, grown or taken over) are off now but hold its
            // configuration: they stay the engine's, free for the next new policy, rather
            // than look like another tool's staged kdamonds to the next apply.
            let recorded: BTreeSet<usize> = state.policies.values().map(|o| o.slot).collect();
            let staged = planned
                .state_after
                .policies
                .values()
                .map(|o| o.slot)
                .chain(planned.state_after.spare_slots.iter().copied());
            state.spare_slots.extend(staged.filter(|slot| !recorded.contains(slot)));
            // What a restore could not put back stays the engine's to repair.
            if failed.restored.is_err() {
                state.applying.extend(touched.iter().copied());
            }
            if let Err(modules) = reenable_modules(&report.disabled_modules, &info.modules) {
                failed.restored = Err(match failed.restored {
                    Ok(()) => RestoreError::Modules(modules),
                    Err(before) => RestoreError::AndModules {
                        restore: Box::new(before),
                        modules,
                    },
                });
            }
            report.disabled_modules.clear();
            if let Err(e) = store.save(state) {
                tracing::warn!("cannot record the restored kdamonds in {}: {e}", store.dir().display());
            }
            Outcome::Failed(failed)
        }
    };
    report.plan = Some(planned);
    report
}

#[cfg(test)]
pub(super) mod tests {
    use std::fs;
    use std::path::Path;

    use super::*;
    use crate::kernel::{Ops, Version};
    use crate::sysfs::fake::FakeKernel;

    pub(in crate::reconcile) fn info(version: Version, modules: Vec<ModuleState>) -> KernelInfo {
        KernelInfo {
            release: version.to_string(),
            version,
            evidence: "test".into(),
            avail_ops: vec![Ops::Vaddr, Ops::Fvaddr, Ops::Paddr],
            modules,
        }
    }

    /// Settings for the policies of `dir/policies`.
    pub(in crate::reconcile) fn settings(dir: &Path) -> Settings {
        Settings {
            paths: vec![dir.join("policies")],
            host: HostPaths::default(),
            sysfs_root: dir.join("no-sysfs"),
            options: Options::default(),
            disable_modules: false,
            strict_permissions: true,
        }
    }

    const PHYSICAL: &str =
        "[target]\nphysical = { regions = [{ start = 4096, end = 1048576 }] }\n[[scheme]]\naction = \"pageout\"\n";

    #[test]
    fn invalid_policies_write_nothing_and_keep_the_record() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("policies")).unwrap();
        fs::write(dir.path().join("policies/p.toml"), PHYSICAL).unwrap();
        let kernel = FakeKernel::new(Version::new(7, 3));
        let store = StateStore::new(dir.path().join("state"));
        let mut state = EngineState {
            boot_id: "b".into(),
            ..Default::default()
        };
        let report = once(
            &settings(dir.path()),
            &kernel,
            &info(Version::new(7, 3), vec![]),
            &store,
            &mut state,
            true,
        );
        assert!(matches!(report.outcome, Outcome::Applied(_)), "{:?}", report.outcome);
        assert_eq!(store.load("b").unwrap(), state);
        let applied = state.clone();
        kernel.clear_log();
        fs::write(
            dir.path().join("policies/p.toml"),
            PHYSICAL.replace("pageout", "pagout"),
        )
        .unwrap();
        let report = once(
            &settings(dir.path()),
            &kernel,
            &info(Version::new(7, 3), vec![]),
            &store,
            &mut state,
            true,
        );
        assert!(matches!(report.outcome, Outcome::Invalid));
        assert!(kernel.log().is_empty());
        assert_eq!(state, applied);
    }

    #[test]
    fn an_enabled_module_refuses_before_writing_unless_disabled() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("policies")).unwrap();
        fs::write(dir.path().join("policies/p.toml"), PHYSICAL).unwrap();
        let param = dir.path().join("enabled");
        fs::write(&param, "Y\n").unwrap();
        let module = ModuleState {
            name: "damon_stat".into(),
            enabled: true,
            param: param.clone(),
        };
        let kernel = FakeKernel::new(Version::new(7, 3));
        let store = StateStore::new(dir.path().join("state"));
        let mut state = EngineState {
            boot_id: "b".into(),
            ..Default::default()
        };
        let report = once(
            &settings(dir.path()),
            &kernel,
            &info(Version::new(7, 3), vec![module.clone()]),
            &store,
            &mut state,
            true,
        );
        match &report.outcome {
            Outcome::Refused(refusal) => {
                let message = refusal.to_string();
                assert!(
                    message.contains("damon_stat") && message.contains("--disable-modules"),
                    "{message}"
                )
            }
            other => panic!("{other:?}"),
        }
        assert!(kernel.log().is_empty(), "nothing written");
        let mut with_disable = settings(dir.path());
        with_disable.disable_modules = true;
        let report = once(
            &with_disable,
            &kernel,
            &info(Version::new(7, 3), vec![module]),
            &store,
            &mut state,
            true,
        );
        assert_eq!(report.disabled_modules, vec!["damon_stat".to_owned()]);
        assert_eq!(fs::read_to_string(&param).unwrap(), "N");
        assert!(matches!(report.outcome, Outcome::Applied(_)), "{:?}", report.outcome);
    }

    fn module(dir: &Path, name: &str) -> ModuleState {
        let param = dir.join(name);
        fs::write(&param, "Y\n").unwrap();
        ModuleState {
            name: name.into(),
            enabled: true,
            param,
        }
    }

    #[test]
    fn every_enabled_module_is_named_and_disabled() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("policies")).unwrap();
        fs::write(dir.path().join("policies/p.toml"), PHYSICAL).unwrap();
        let modules = vec![module(dir.path(), "damon_reclaim"), module(dir.path(), "damon_stat")];
        let kernel = FakeKernel::new(Version::new(7, 3));
        let store = StateStore::new(dir.path().join("state"));
        let mut state = EngineState {
            boot_id: "b".into(),
            ..Default::default()
        };
        let report = once(
            &settings(dir.path()),
            &kernel,
            &info(Version::new(7, 3), modules.clone()),
            &store,
            &mut state,
            true,
        );
        match &report.outcome {
            Outcome::Refused(refusal) => {
                let message = refusal.to_string();
                assert!(
                    message.contains("modules `damon_reclaim` and `damon_stat` are enabled"),
                    "{message}"
                )
            }
            other => panic!("{other:?}"),
        }
        let mut with_disable = settings(dir.path());
        with_disable.disable_modules = true;
        let report = once(
            &with_disable,
            &kernel,
            &info(Version::new(7, 3), modules.clone()),
            &store,
            &mut state,
            true,
        );
        assert_eq!(report.disabled_modules, ["damon_reclaim", "damon_stat"]);
        assert!(modules.iter().all(|m| fs::read_to_string(&m.param).unwrap() == "N"));
        assert!(matches!(report.outcome, Outcome::Applied(_)), "{:?}", report.outcome);
    }

    #[test]
    fn a_failed_apply_leaves_the_host_as_it_was_and_its_slot_reusable() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("policies")).unwrap();
        fs::write(dir.path().join("policies/p.toml"), PHYSICAL).unwrap();
        let modules = vec![module(dir.path(), "damon_stat")];
        let kernel = FakeKernel::new(Version::new(7, 3));
        let store = StateStore::new(dir.path().join("state"));
        let mut state = EngineState {
            boot_id: "b".into(),
            ..Default::default()
        };
        let mut with_disable = settings(dir.path());
        with_disable.disable_modules = true;
        kernel.fail_next_write("kdamonds/0/state", crate::sysfs::errno::EINVAL);
        let report = once(
            &with_disable,
            &kernel,
            &info(Version::new(7, 3), modules.clone()),
            &store,
            &mut state,
            true,
        );
        match &report.outcome {
            Outcome::Failed(failed) => assert!(failed.restored.is_ok(), "{:?}", failed.restored),
            other => panic!("{other:?}"),
        }
        // The module runs again, and is not reported as disabled.
        assert_eq!(fs::read_to_string(&modules[0].param).unwrap(), "Y");
        assert!(report.disabled_modules.is_empty());
        // The staged slot is the engine's: the next apply uses it, no "another tool".
        assert!(state.policies.is_empty() && state.spare_slots.contains(&0), "{state:?}");
        assert_eq!(store.load("b").unwrap(), state);
        let report = once(
            &with_disable,
            &kernel,
            &info(Version::new(7, 3), modules),
            &store,
            &mut state,
            true,
        );
        assert!(matches!(report.outcome, Outcome::Applied(_)), "{:?}", report.outcome);
        assert_eq!(state.policies["p"].slot, 0);
    }

    #[test]
    fn a_failed_takeover_does_not_claim_a_restore() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("policies")).unwrap();
        fs::create_dir(dir.path().join("theirs")).unwrap();
        fs::write(dir.path().join("policies/p.toml"), PHYSICAL).unwrap();
        fs::write(dir.path().join("theirs/t.toml"), PHYSICAL.replace("pageout", "stat")).unwrap();
        let kernel = FakeKernel::new(Version::new(7, 3));
        let kernel_info = info(Version::new(7, 3), vec![]);
        // Another installation (its own record) runs kdamond 0.
        let mut theirs = settings(dir.path());
        theirs.paths = vec![dir.path().join("theirs")];
        let mut their_state = EngineState {
            boot_id: "b".into(),
            ..Default::default()
        };
        let report = once(
            &theirs,
            &kernel,
            &kernel_info,
            &StateStore::new(dir.path().join("their-state")),
            &mut their_state,
            true,
        );
        assert!(matches!(report.outcome, Outcome::Applied(_)), "{:?}", report.outcome);
        let mut takeover = settings(dir.path());
        takeover.options.takeover = true;
        let store = StateStore::new(dir.path().join("state"));
        let mut state = EngineState {
            boot_id: "b".into(),
            ..Default::default()
        };
        kernel.fail_next_write("kdamonds/0/contexts/0/schemes/0/action", crate::sysfs::errno::EINVAL);
        let report = once(&takeover, &kernel, &kernel_info, &store, &mut state, true);
        match &report.outcome {
            Outcome::Failed(failed) => {
                let message = failed.restored.as_ref().unwrap_err().to_string();
                assert!(
                    message.contains("kdamond 0 of another tool, taken over with --takeover, cannot be put back"),
                    "{message}"
                );
                assert!(
                    message.contains("start it again with the tool that started it"),
                    "{message}"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    /// A policy whose pid is not running is left as it is; the other policies apply.
    #[test]
    fn a_policy_of_a_process_that_is_not_running_does_not_hold_up_the_others() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("policies")).unwrap();
        fs::create_dir_all(dir.path().join("proc/4242")).unwrap();
        fs::write(dir.path().join("policies/p.toml"), PHYSICAL).unwrap();
        let pids = |list: &str| format!("[target]\npids = [{list}]\n[[scheme]]\naction = \"stat\"\n");
        fs::write(dir.path().join("policies/alive.toml"), pids("4242")).unwrap();
        fs::write(dir.path().join("policies/gone.toml"), pids("4242, 4243")).unwrap();
        let kernel = FakeKernel::new(Version::new(7, 3));
        let store = StateStore::new(dir.path().join("state"));
        let mut state = EngineState {
            boot_id: "b".into(),
            ..Default::default()
        };
        let mut settings = settings(dir.path());
        settings.host.proc_root = dir.path().join("proc");
        let report = once(
            &settings,
            &kernel,
            &info(Version::new(7, 3), vec![]),
            &store,
            &mut state,
            true,
        );
        assert!(matches!(report.outcome, Outcome::Applied(_)), "{:?}", report.outcome);
        let skipped = &report.compiled.as_ref().unwrap().skipped;
        assert_eq!(skipped.len(), 1, "{skipped:?}");
        assert!(
            skipped[0].policy == "gone"
                && !skipped[0].pending
                && skipped[0].reason.starts_with("process 4243 is not running"),
            "{skipped:?}"
        );
        assert_eq!(report.unresolved(), 1);
        assert_eq!(state.policies.keys().collect::<Vec<_>>(), ["alive", "p"]);
    }

    #[test]
    fn apply_validates_against_the_running_kernel_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("policies")).unwrap();
        fs::write(
            dir.path().join("policies/p.toml"),
            PHYSICAL.replace("pageout", "pagout"),
        )
        .unwrap();
        let kernel = FakeKernel::new(Version::new(7, 3));
        let store = StateStore::new(dir.path().join("state"));
        let mut state = EngineState {
            boot_id: "b".into(),
            ..Default::default()
        };
        let report = once(
            &settings(dir.path()),
            &kernel,
            &info(Version::new(7, 3), vec![]),
            &store,
            &mut state,
            true,
        );
        assert_eq!(report.checked.unwrap().kernel_source, "the running kernel");
    }
}
