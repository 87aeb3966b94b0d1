//! A recording's kdamond on the fake kernel, beside policies applied by `apply`.

use std::fs;
use std::path::PathBuf;

use super::*;
use crate::kernel::probe::ModuleState;
use crate::kernel::{Ops, Version};
use crate::reconcile::run::{Settings, once};
use crate::sysfs::fake::FakeKernel;

/// A host (its `/proc` knows this process and the target processes), a fake kernel, a
/// state directory and a policy directory.
pub(in crate::record) struct Fixture {
    pub dir: tempfile::TempDir,
    pub kernel: FakeKernel,
    pub info: KernelInfo,
    pub store: StateStore,
    pub host: HostPaths,
    pub state: EngineState,
}

const PHYSICAL: &str =
    "[target]\nphysical = { regions = [{ start = 4096, end = 1048576 }] }\n[[scheme]]\naction = \"pageout\"\n";
const RECORDER_START: u64 = 4242;

impl Fixture {
    pub fn new(version: Version) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let host = HostPaths {
            proc_root: dir.path().join("proc"),
            ..HostPaths::default()
        };
        let fixture = Fixture {
            kernel: FakeKernel::new(version),
            info: KernelInfo {
                release: version.to_string(),
                version,
                evidence: "test".into(),
                avail_ops: vec![Ops::Vaddr, Ops::Fvaddr, Ops::Paddr],
                modules: Vec::new(),
            },
            store: StateStore::new(dir.path().join("state")),
            host,
            state: EngineState {
                boot_id: "b".into(),
                ..Default::default()
            },
            dir,
        };
        fixture.set_recorder_start(RECORDER_START);
        fs::write(
            fixture.host.proc_root.join("iomem"),
            "00001000-0009fbff : System RAM\n00100000-3fffffff : System RAM\n",
        )
        .unwrap();
        fs::create_dir_all(fixture.dir.path().join("policies")).unwrap();
        fixture
    }

    pub fn live(&self) -> LiveKernel<'_> {
        LiveKernel {
            sysfs: &self.kernel,
            info: &self.info,
            store: &self.store,
            host: &self.host,
        }
    }

    /// This process as `/proc` shows it, started at `ticks`.
    pub fn set_recorder_start(&self, ticks: u64) {
        let proc = self.host.proc_root.join(std::process::id().to_string());
        fs::create_dir_all(&proc).unwrap();
        let fields_3_to_21 = "S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0";
        fs::write(
            proc.join("stat"),
            format!("1 (damo-policy) {fields_3_to_21} {ticks} 0 0\n"),
        )
        .unwrap();
    }

    /// A running process `pid`.
    pub fn add_process(&self, pid: u32) {
        fs::create_dir_all(self.host.proc_root.join(pid.to_string())).unwrap();
    }

    pub fn policies(&self) -> PathBuf {
        self.dir.path().join("policies")
    }

    pub fn write_policy(&self, name: &str, text: &str) {
        fs::write(self.policies().join(format!("{name}.toml")), text).unwrap();
    }

    /// The settings of `damo-policy apply` of the policy directory.
    pub fn settings(&self) -> Settings {
        Settings {
            paths: vec![self.policies()],
            host: self.host.clone(),
            sysfs_root: self.dir.path().join("no-sysfs"),
            options: Options::default(),
            disable_modules: false,
            strict_permissions: false,
        }
    }

    /// `damo-policy apply` of the policy directory.
    pub fn apply(&mut self) -> crate::reconcile::run::Report {
        let settings = self.settings();
        once(&settings, &self.kernel, &self.info, &self.store, &mut self.state, true)
    }

    pub fn start(&mut self, target: &RecordTarget, options: StartOptions) -> Result<Recording, RecordKdamondError> {
        let mut state = std::mem::take(&mut self.state);
        let result = start(self.live(), &mut state, target, options);
        self.state = state;
        result
    }
}

pub(in crate::record) fn pids(pids: &[u32]) -> RecordTarget {
    RecordTarget {
        choice: TargetChoice::Pids(pids.to_vec()),
        overrides: MonitoringOverrides::default(),
    }
}

fn physical() -> RecordTarget {
    RecordTarget {
        choice: TargetChoice::Physical,
        overrides: MonitoringOverrides::default(),
    }
}

/// Writes below kdamond `slot`.
fn writes_below(kernel: &FakeKernel, slot: usize) -> Vec<String> {
    let prefix = format!("kdamonds/{slot}/");
    kernel
        .log()
        .into_iter()
        .filter(|w| w.path.starts_with(&prefix) || w.path == "kdamonds/nr_kdamonds")
        .map(|w| format!("{} = {}", w.path, w.value))
        .collect()
}

/// Applies policies `a` and `b`, then removes `b`: slot 1 is the engine's spare.
fn with_a_running_and_a_spare_slot(f: &mut Fixture) {
    f.write_policy("a", PHYSICAL);
    f.write_policy("b", &PHYSICAL.replace("pageout", "stat"));
    assert!(matches!(f.apply().outcome, Outcome::Applied(_)));
    fs::remove_file(f.policies().join("b.toml")).unwrap();
    assert!(matches!(f.apply().outcome, Outcome::Applied(_)));
    assert_eq!(f.state.spare_slots.first(), Some(&1), "{:?}", f.state);
}

#[test]
fn start_and_stop_leave_the_other_policies_untouched() {
    let mut f = Fixture::new(Version::new(7, 3));
    with_a_running_and_a_spare_slot(&mut f);
    f.add_process(42);
    let a_before = f.state.policies["a"].clone();
    f.kernel.clear_log();
    let recording = f.start(&pids(&[42]), StartOptions::default()).unwrap();
    assert_eq!(
        writes_below(&f.kernel, 0),
        Vec::<String>::new(),
        "policy a's kdamond untouched"
    );
    let name = recording_name(std::process::id());
    assert_eq!(recording.kdamond.name, name);
    assert_eq!(recording.kdamond.slot, 1);
    assert_eq!(f.kernel.get("kdamonds/1/state").as_deref(), Some("on"));
    assert_eq!(
        f.kernel.get("kdamonds/1/pid").unwrap(),
        recording.kdamond.kdamond_pid.to_string()
    );
    assert_eq!(
        recording.kdamond.targets,
        vec![RecordedTarget {
            target_id: 0,
            pid: Some(42)
        }]
    );
    assert_eq!(
        recording.kdamond.intervals,
        Intervals {
            sample_us: 5_000,
            aggr_us: 100_000,
            update_us: 1_000_000,
            autotuned: false
        }
    );
    assert!(recording.restarted.is_empty() && recording.disabled_modules.is_empty());
    assert!(recording.compiled.schemes.is_empty());
    // Recorded as the engine's, with its recorder, in the file other writers read.
    let saved = f.store.load("b").unwrap();
    let own = &saved.policies[&name];
    assert_eq!((own.slot, own.recorder.map(|r| r.pid)), (1, Some(std::process::id())));
    assert_eq!(saved.policies["a"], a_before);

    f.kernel.clear_log();
    let mut state = f.state.clone();
    assert_eq!(
        stop(&f.store, &f.kernel, &mut state, &recording).unwrap(),
        Ended::Stopped
    );
    assert_eq!(f.kernel.log().len(), 1, "{:?}", f.kernel.log());
    assert_eq!(f.kernel.get("kdamonds/1/state").as_deref(), Some("off"));
    assert_eq!(f.kernel.get("kdamonds/0/state").as_deref(), Some("on"));
    let saved = f.store.load("b").unwrap();
    assert!(!saved.policies.contains_key(&name) && saved.spare_slots.contains(&1));
    assert_eq!(saved.policies["a"], a_before);
    // Ending twice finds nothing to do.
    assert_eq!(
        stop(&f.store, &f.kernel, &mut state, &recording).unwrap(),
        Ended::Forgotten
    );
    // The next apply has nothing to change.
    f.kernel.clear_log();
    assert!(matches!(f.apply().outcome, Outcome::Applied(_)));
    assert!(f.kernel.log().is_empty(), "{:?}", f.kernel.log());
}

/// Without a spare slot, one more kdamond means growing `nr_kdamonds`, which the kernel
/// allows only while every kdamond is off: the recording says whose were restarted.
#[test]
fn a_new_slot_restarts_the_policies_and_says_so() {
    let mut f = Fixture::new(Version::new(7, 3));
    f.write_policy("a", PHYSICAL);
    assert!(matches!(f.apply().outcome, Outcome::Applied(_)));
    let recording = f.start(&physical(), StartOptions::default()).unwrap();
    assert_eq!(recording.restarted, ["a"]);
    assert_eq!(recording.kdamond.slot, 1);
    assert_eq!(f.kernel.get("kdamonds/0/state").as_deref(), Some("on"));
    assert_eq!(recording.kdamond.targets[0].pid, None);
}

#[test]
fn another_tools_kdamond_refuses_and_nothing_is_written() {
    let mut f = Fixture::new(Version::new(7, 3));
    f.write_policy("theirs", PHYSICAL);
    // Another installation, with its own record, runs kdamond 0.
    let theirs = StateStore::new(f.dir.path().join("their-state"));
    let settings = f.settings();
    let mut their_state = f.state.clone();
    let report = once(&settings, &f.kernel, &f.info, &theirs, &mut their_state, true);
    assert!(matches!(report.outcome, Outcome::Applied(_)));
    f.kernel.clear_log();
    match f.start(&physical(), StartOptions::default()) {
        Err(RecordKdamondError::Refused(refusal)) => {
            assert!(refusal.to_string().contains("another tool"), "{refusal}")
        }
        other => panic!("{other:?}"),
    }
    assert!(f.kernel.log().is_empty(), "{:?}", f.kernel.log());
    assert!(f.store.load("b").unwrap().policies.is_empty());
}

#[test]
fn an_enabled_module_refuses_unless_disabled() {
    let mut f = Fixture::new(Version::new(7, 3));
    let param = f.dir.path().join("enabled");
    fs::write(&param, "Y\n").unwrap();
    f.info.modules = vec![ModuleState {
        name: "damon_reclaim".into(),
        enabled: true,
        param: param.clone(),
    }];
    match f.start(&physical(), StartOptions::default()) {
        Err(RecordKdamondError::Refused(refusal)) => {
            let message = refusal.to_string();
            assert!(
                message.contains("damon_reclaim") && message.contains("--disable-modules"),
                "{message}"
            )
        }
        other => panic!("{other:?}"),
    }
    assert!(f.kernel.log().is_empty());
    let options = StartOptions {
        disable_modules: true,
        ..StartOptions::default()
    };
    let recording = f.start(&physical(), options).unwrap();
    assert_eq!(recording.disabled_modules, ["damon_reclaim"]);
    assert_eq!(fs::read_to_string(&param).unwrap(), "N");
}

/// `apply` of the policy directory leaves a recording whose recorder runs as it is; once
/// the recorder is gone (its pid reused by another process), the next apply stops it.
#[test]
fn a_live_recording_survives_apply_and_an_orphan_is_stopped() {
    let mut f = Fixture::new(Version::new(7, 3));
    with_a_running_and_a_spare_slot(&mut f);
    let recording = f.start(&physical(), StartOptions::default()).unwrap();
    let name = recording.kdamond.name.clone();
    let slot = recording.kdamond.slot;
    f.kernel.clear_log();
    let report = f.apply();
    assert!(matches!(report.outcome, Outcome::Applied(_)), "{:?}", report.outcome);
    assert!(writes_below(&f.kernel, slot).is_empty(), "{:?}", f.kernel.log());
    assert!(f.state.policies.contains_key(&name));
    assert_eq!(f.kernel.get(&format!("kdamonds/{slot}/state")).as_deref(), Some("on"));

    // Another process now has the recorder's pid.
    f.set_recorder_start(RECORDER_START + 1);
    let report = f.apply();
    assert!(matches!(report.outcome, Outcome::Applied(_)), "{:?}", report.outcome);
    let plan = report.plan.unwrap();
    let stopped = plan.kdamonds.iter().find(|k| k.policy == name).expect("planned");
    assert_eq!(stopped.effect, Effect::Stop);
    assert!(
        stopped
            .reason
            .contains(&format!("its recorder (pid {}) is gone", std::process::id())),
        "{}",
        stopped.reason
    );
    assert_eq!(f.kernel.get(&format!("kdamonds/{slot}/state")).as_deref(), Some("off"));
    assert!(!f.state.policies.contains_key(&name));
    assert_eq!(f.kernel.get("kdamonds/0/state").as_deref(), Some("on"));
}

#[test]
fn attach_reads_a_running_policy_and_writes_nothing() {
    let mut f = Fixture::new(Version::new(7, 3));
    f.write_policy(
        "a",
        &format!("{PHYSICAL}[monitoring]\nsample_interval = \"10ms\"\naggregation_interval = \"200ms\"\n"),
    );
    assert!(matches!(f.apply().outcome, Outcome::Applied(_)));
    f.kernel.clear_log();
    let attached = attach(&f.kernel, &f.state, "a").unwrap();
    assert!(f.kernel.log().is_empty());
    assert_eq!(
        (attached.slot, attached.ops, attached.kdamond_pid),
        (0, Ops::Paddr, f.state.policies["a"].pid.unwrap())
    );
    assert_eq!(
        (attached.intervals.sample_us, attached.intervals.aggr_us),
        (10_000, 200_000)
    );
    assert_eq!(
        attached.targets,
        vec![RecordedTarget {
            target_id: 0,
            pid: None
        }]
    );
}

#[test]
fn attach_errors_say_what_to_do() {
    let mut f = Fixture::new(Version::new(7, 3));
    f.write_policy("a", PHYSICAL);
    assert!(matches!(f.apply().outcome, Outcome::Applied(_)));
    let message = |result: Result<RecordedKdamond, AttachError>| result.unwrap_err().to_string();

    let missing = message(attach(&f.kernel, &f.state, "b"));
    assert!(
        missing.contains("`b` is not a policy damo-policy applied") && missing.contains("without --attach"),
        "{missing}"
    );

    stop_owned(&f.kernel, &f.state, &[]);
    let off = message(attach(&f.kernel, &f.state, "a"));
    assert!(
        off.contains("is not running") && off.contains("apply the policy again"),
        "{off}"
    );

    // Another tool starts a kdamond in the stopped slot.
    crate::sysfs::Sysfs::write(&f.kernel, "kdamonds/0/state", "on").unwrap();
    let replaced = message(attach(&f.kernel, &f.state, "a"));
    assert!(
        replaced.contains("another tool's kdamond runs there now") && replaced.contains("was replaced"),
        "{replaced}"
    );
}
