//! Reconcile tests on the fake kernel: minimal writes, online commits, slots, ownership,
//! refusals and restoring the last good configuration.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use super::apply::apply;
use super::*;
use crate::compile::compile;
use crate::host::HostPaths;
use crate::kernel::Version;
use crate::kernel::defaults::fresh_value;
use crate::policy::source::SourceFile;
use crate::reconcile::state::EngineState;
use crate::sysfs::errno;
use crate::sysfs::fake::FakeKernel;

const V7: Version = Version::new(7, 3);
const V6: Version = Version::new(6, 12);

fn policy(name: &str, body: &str) -> crate::model::resolved::Policy {
    let file = Arc::new(SourceFile::new(format!("{name}.toml"), body.to_owned()));
    let outcome = crate::validate::validate_file(file, V7);
    assert!(
        outcome.diagnostics.iter().all(|d| !d.is_error()),
        "{name}: {:?}",
        outcome.diagnostics
    );
    outcome.policy.unwrap()
}

fn reclaim(name: &str, pid: u32, age: &str) -> crate::model::resolved::Policy {
    policy(
        name,
        &format!(
            "name = \"{name}\"\n[target]\npids = [{pid}]\n[[scheme]]\naction = \"pageout\"\n\
access_pattern.access_rate = {{ max = \"0%\" }}\naccess_pattern.age = {{ min = \"{age}\" }}\n"
        ),
    )
}

/// One reconcile: compile, plan, apply; returns the plan and the new record.
fn reconcile(
    kernel: &FakeKernel,
    version: Version,
    policies: &[crate::model::resolved::Policy],
    state: &EngineState,
    options: Options,
) -> Result<(Plan, EngineState), String> {
    let compiled = compile(policies, version, &HostPaths::default());
    let plan = plan(
        kernel,
        &compiled,
        Layout::new(version),
        state,
        &BTreeSet::new(),
        options,
    )
    .map_err(|e| format!("{e:?}"))?;
    apply(kernel, &plan, state).map_err(|f| format!("{} {:?}", f.error, f.restored))?;
    let mut after = plan.state_after.clone();
    after.note_pids(kernel);
    Ok((plan, after))
}

fn fresh_state() -> EngineState {
    EngineState {
        boot_id: "boot".into(),
        ..Default::default()
    }
}

#[test]
fn apply_then_reapply_writes_nothing() {
    for version in [V6, V7] {
        let kernel = FakeKernel::new(version);
        let policies = [reclaim("a", 11, "60s"), reclaim("b", 12, "30s")];
        let (plan1, state) = reconcile(&kernel, version, &policies, &fresh_state(), Options::default()).unwrap();
        assert!(plan1.kdamonds.iter().all(|k| k.effect == Effect::Start));
        assert_eq!(kernel.get("kdamonds/0/state").unwrap(), "on");
        assert_eq!(kernel.get("kdamonds/1/state").unwrap(), "on");
        kernel.clear_log();
        let (plan2, _) = reconcile(&kernel, version, &policies, &state, Options::default()).unwrap();
        assert!(plan2.ops.is_empty(), "{:?}", plan2.ops);
        assert!(
            kernel.log().is_empty(),
            "an unchanged directory writes nothing: {:?}",
            kernel.log()
        );
        assert!(plan2.kdamonds.iter().all(|k| k.effect == Effect::Unchanged));
    }
}

#[test]
fn one_field_changed_is_one_write_and_a_commit() {
    let kernel = FakeKernel::new(V7);
    let (_, state) = reconcile(
        &kernel,
        V7,
        &[reclaim("a", 11, "60s")],
        &fresh_state(),
        Options::default(),
    )
    .unwrap();
    let pid = kernel.get("kdamonds/0/pid").unwrap();
    kernel.clear_log();
    let (plan, _) = reconcile(&kernel, V7, &[reclaim("a", 11, "30s")], &state, Options::default()).unwrap();
    let log: Vec<(String, String)> = kernel.log().into_iter().map(|w| (w.path, w.value)).collect();
    assert_eq!(
        log,
        vec![
            (
                "kdamonds/0/contexts/0/schemes/0/access_pattern/age/min".to_owned(),
                "300".to_owned()
            ),
            ("kdamonds/0/state".to_owned(), "commit".to_owned()),
        ]
    );
    assert_eq!(plan.kdamonds[0].effect, Effect::Commit);
    assert_eq!(plan.ops[0].old.as_deref(), Some("600"));
    assert_eq!(plan.ops[0].scheme, Some(0));
    assert_eq!(kernel.get("kdamonds/0/pid").unwrap(), pid, "same kdamond");
}

#[test]
fn removing_one_policy_stops_only_its_kdamond_and_its_slot_is_reused() {
    let kernel = FakeKernel::new(V7);
    let all = [
        reclaim("a", 11, "60s"),
        reclaim("b", 12, "60s"),
        reclaim("c", 13, "60s"),
    ];
    let (_, state) = reconcile(&kernel, V7, &all, &fresh_state(), Options::default()).unwrap();
    let pids: Vec<String> = (0..3)
        .map(|k| kernel.get(&format!("kdamonds/{k}/pid")).unwrap())
        .collect();
    kernel.clear_log();
    let (plan, state) = reconcile(
        &kernel,
        V7,
        &[all[0].clone(), all[2].clone()],
        &state,
        Options::default(),
    )
    .unwrap();
    let log: Vec<String> = kernel
        .log()
        .into_iter()
        .map(|w| format!("{} {}", w.path, w.value))
        .collect();
    assert_eq!(log, vec!["kdamonds/1/state off"]);
    assert_eq!(
        plan.kdamonds.iter().find(|k| k.policy == "b").unwrap().effect,
        Effect::Stop
    );
    assert_eq!(kernel.get("kdamonds/0/pid").unwrap(), pids[0]);
    assert_eq!(kernel.get("kdamonds/2/pid").unwrap(), pids[2]);
    // A new policy takes the free slot without touching nr_kdamonds.
    kernel.clear_log();
    let (plan, _) = reconcile(
        &kernel,
        V7,
        &[all[0].clone(), all[2].clone(), reclaim("d", 14, "10s")],
        &state,
        Options::default(),
    )
    .unwrap();
    assert!(
        kernel.log().iter().all(|w| w.path.starts_with("kdamonds/1/")),
        "{:?}",
        kernel.log()
    );
    assert_eq!(plan.state_after.policies["d"].slot, 1);
}

#[test]
fn growing_nr_kdamonds_restarts_all_and_the_plan_says_so() {
    let kernel = FakeKernel::new(V7);
    let (_, state) = reconcile(
        &kernel,
        V7,
        &[reclaim("a", 11, "60s")],
        &fresh_state(),
        Options::default(),
    )
    .unwrap();
    let (plan, _) = reconcile(
        &kernel,
        V7,
        &[reclaim("a", 11, "60s"), reclaim("b", 12, "60s")],
        &state,
        Options::default(),
    )
    .unwrap();
    let a = plan.kdamonds.iter().find(|k| k.policy == "a").unwrap();
    assert_eq!(a.effect, Effect::Restart);
    assert!(a.reason.contains("nr_kdamonds grows from 1 to 2"), "{}", a.reason);
    assert_eq!(kernel.get("kdamonds/1/state").unwrap(), "on");
}

#[test]
fn a_foreign_kdamond_is_refused_and_untouched() {
    let kernel = FakeKernel::new(V7);
    // Another tool's kdamond.
    for (path, value) in [
        ("kdamonds/nr_kdamonds", "1"),
        ("kdamonds/0/contexts/nr_contexts", "1"),
        ("kdamonds/0/contexts/0/operations", "paddr"),
        ("kdamonds/0/state", "on"),
    ] {
        kernel.write(path, value).unwrap();
    }
    kernel.clear_log();
    let error = reconcile(
        &kernel,
        V7,
        &[reclaim("a", 11, "60s")],
        &fresh_state(),
        Options::default(),
    )
    .unwrap_err();
    assert!(error.contains("Foreign"), "{error}");
    assert!(kernel.log().is_empty(), "nothing written");
    let (plan, _) = reconcile(
        &kernel,
        V7,
        &[reclaim("a", 11, "60s")],
        &fresh_state(),
        Options { takeover: true },
    )
    .unwrap();
    assert_eq!(plan.state_after.policies["a"].slot, 0);
    // The plan names what it stops.
    let taken = plan
        .kdamonds
        .iter()
        .find(|k| k.effect == Effect::Stop)
        .expect("the foreign kdamond's stop is planned");
    assert!(
        taken.slot == 0 && taken.reason.contains("another tool's kdamond") && taken.reason.contains("ops paddr"),
        "{taken:?}"
    );
}

#[test]
fn an_enabled_module_blocks_on_and_nothing_is_left_running() {
    let kernel = FakeKernel::new(V7);
    kernel.set_module_running(true);
    let compiled = compile(&[reclaim("a", 11, "60s")], V7, &HostPaths::default());
    let state = fresh_state();
    let plan = plan(
        &kernel,
        &compiled,
        Layout::new(V7),
        &state,
        &BTreeSet::new(),
        Options::default(),
    )
    .unwrap();
    let failed = apply(&kernel, &plan, &state).unwrap_err();
    assert_eq!(failed.error.errno, Some(errno::EBUSY));
    assert_eq!(failed.op.file.to_string(), "kdamonds/0/state");
    let modules = [crate::kernel::probe::ModuleState {
        name: "damon_stat".into(),
        enabled: true,
        param: "/sys/module/damon_stat/parameters/enabled".into(),
    }];
    let ctx = explain::Context {
        modules: &modules,
        cgroup_root: Path::new("/nonexistent"),
        proc_root: Path::new("/nonexistent"),
        desired: plan.desired.get(&0),
    };
    let cause = explain::cause(&failed.op, &failed.error, &ctx);
    assert!(
        cause.contains("damon_stat") && cause.contains("--disable-modules"),
        "{cause}"
    );
}

#[test]
fn a_bad_memcg_path_keeps_the_previous_configuration_running() {
    for version in [V6, V7] {
        let kernel = FakeKernel::new(version);
        kernel.add_cgroup("/batch.slice");
        let with_filter = |cgroup: &str| {
            policy(
                "p",
                &format!(
                    "name = \"p\"\n[target]\nphysical = {{ regions = [{{ start = 4096, end = 1048576 }}] }}\n[[scheme]]\naction = \"pageout\"\n\
[[scheme.filter]]\ntype = \"memcg\"\ncgroup = \"{cgroup}\"\n"
                ),
            )
        };
        let (_, state) = reconcile(
            &kernel,
            version,
            &[with_filter("batch.slice")],
            &fresh_state(),
            Options::default(),
        )
        .unwrap();
        let compiled = compile(&[with_filter("no-such.slice")], version, &HostPaths::default());
        let plan = plan(
            &kernel,
            &compiled,
            Layout::new(version),
            &state,
            &BTreeSet::new(),
            Options::default(),
        )
        .unwrap();
        let failed = apply(&kernel, &plan, &state).unwrap_err();
        assert!(failed.restored.is_ok(), "{:?}", failed.restored);
        assert_eq!(
            kernel.get("kdamonds/0/state").unwrap(),
            "on",
            "{version}: still running"
        );
        let memcg = kernel
            .files()
            .into_iter()
            .find(|(p, _)| p.ends_with("memcg_path"))
            .unwrap()
            .1;
        assert_eq!(memcg, "/batch.slice", "{version}: the previous filter is back");
        let ctx = explain::Context {
            modules: &[],
            cgroup_root: Path::new("/nonexistent"),
            proc_root: Path::new("/nonexistent"),
            desired: plan.desired.get(&0),
        };
        let cause = explain::cause(&failed.op, &failed.error, &ctx);
        assert!(
            cause.contains("cgroup `/no-such.slice` not found"),
            "{version}: {cause}"
        );
    }
}

#[test]
fn a_kdamond_whose_processes_exited_is_started_again() {
    let kernel = FakeKernel::new(V7);
    let (_, state) = reconcile(
        &kernel,
        V7,
        &[reclaim("a", 11, "60s")],
        &fresh_state(),
        Options::default(),
    )
    .unwrap();
    kernel.kill_process(11);
    assert_eq!(kernel.get("kdamonds/0/state").unwrap(), "off");
    let compiled = compile(&[reclaim("a", 12, "60s")], V7, &HostPaths::default());
    let plan = plan(
        &kernel,
        &compiled,
        Layout::new(V7),
        &state,
        &BTreeSet::new(),
        Options::default(),
    )
    .unwrap();
    assert_eq!(plan.kdamonds[0].effect, Effect::Start);
    assert!(plan.ops.iter().any(|op| op.file.leaf == "pid_target" && op.new == "12"));
}

#[test]
fn a_kdamond_another_tool_started_in_a_spare_slot_is_foreign() {
    let kernel = FakeKernel::new(V7);
    let (_, state) = reconcile(
        &kernel,
        V7,
        &[reclaim("a", 11, "60s"), reclaim("b", 12, "60s")],
        &fresh_state(),
        Options::default(),
    )
    .unwrap();
    let (_, state) = reconcile(&kernel, V7, &[reclaim("a", 11, "60s")], &state, Options::default()).unwrap();
    assert_eq!(state.spare_slots, BTreeSet::from([1]));
    // Another tool configures the free slot and starts its kdamond there.
    for (path, value) in [
        ("kdamonds/1/contexts/nr_contexts", "1"),
        ("kdamonds/1/contexts/0/operations", "paddr"),
        ("kdamonds/1/state", "on"),
    ] {
        kernel.write(path, value).unwrap();
    }
    let theirs = kernel.files();
    kernel.clear_log();
    // A new policy would take slot 1: refused, and nothing is written.
    let error = reconcile(
        &kernel,
        V7,
        &[reclaim("a", 11, "60s"), reclaim("c", 13, "60s")],
        &state,
        Options::default(),
    )
    .unwrap_err();
    assert!(error.contains("Foreign") && error.contains("slot: 1"), "{error}");
    assert!(kernel.log().is_empty(), "nothing written: {:?}", kernel.log());
    assert_eq!(kernel.files(), theirs);
    // Taking it over is explicit.
    let (plan, _) = reconcile(
        &kernel,
        V7,
        &[reclaim("a", 11, "60s"), reclaim("c", 13, "60s")],
        &state,
        Options { takeover: true },
    )
    .unwrap();
    assert_eq!(plan.state_after.policies["c"].slot, 1);
}

#[test]
fn a_fresh_apply_leaves_files_at_their_defaults_alone() {
    for version in [V6, V7] {
        let kernel = FakeKernel::new(version);
        let policies = [reclaim("a", 11, "60s")];
        let (plan, _) = reconcile(&kernel, version, &policies, &fresh_state(), Options::default()).unwrap();
        let layout = Layout::new(version);
        let log = kernel.log();
        // The kernel's log names files by path: find each one's address among the desired.
        let files: std::collections::HashMap<String, crate::compile::file::File> = plan
            .desired
            .values()
            .flat_map(|d| &d.writes)
            .map(|w| (w.file.to_string(), w.file))
            .collect();
        let at_default: Vec<_> = log
            .iter()
            .filter(|w| {
                files
                    .get(&w.path)
                    .is_some_and(|f| fresh_value(layout, *f).as_deref() == Some(w.value.as_str()))
            })
            .collect();
        assert!(at_default.is_empty(), "{version}: wrote defaults {at_default:?}");
        // The read-back after apply checked every desired file, defaults included.
        let desired = plan.desired.values().map(|d| d.writes.len()).sum::<usize>();
        assert!(
            log.len() < desired,
            "{version}: {} writes for {desired} desired files",
            log.len()
        );
        for write in plan.desired.values().flat_map(|d| &d.writes) {
            let path = write.file.to_string();
            assert_eq!(
                kernel.get(&path).as_deref(),
                Some(write.value.as_str()),
                "{version}: {path}"
            );
        }
    }
}

fn gated(name: &str, age: &str) -> crate::model::resolved::Policy {
    policy(
        name,
        &format!(
            "name = \"{name}\"\n[target]\nphysical = {{ regions = [{{ start = 4096, end = 1048576 }}] }}\n[[scheme]]\naction = \"lru_deprio\"\n\
access_pattern.age = {{ min = \"{age}\" }}\n\
watermarks = {{ interval = \"5s\", high = \"20%\", mid = \"15%\", low = \"5%\" }}\n"
        ),
    )
}

#[test]
fn a_watermark_gated_kdamond_restarts_instead_of_a_commit_before_6_16() {
    for version in [V6, V7] {
        let kernel = FakeKernel::new(version);
        let (_, state) = reconcile(
            &kernel,
            version,
            &[gated("g", "60s")],
            &fresh_state(),
            Options::default(),
        )
        .unwrap();
        let pid = kernel.get("kdamonds/0/pid").unwrap();
        // The kernel would block a commit here (the fake refuses it instead).
        if version < Version::new(6, 16) {
            assert_eq!(kernel.write("kdamonds/0/state", "commit").unwrap_err().errno, Some(110));
        }
        kernel.clear_log();
        let (plan, state) = reconcile(&kernel, version, &[gated("g", "30s")], &state, Options::default()).unwrap();
        let commands: Vec<String> = kernel
            .log()
            .into_iter()
            .filter(|w| w.path.ends_with("/state"))
            .map(|w| w.value)
            .collect();
        if version < Version::new(6, 16) {
            assert_eq!(plan.kdamonds[0].effect, Effect::Restart, "{:?}", plan.kdamonds);
            assert!(
                plan.kdamonds[0].reason.contains("watermarks"),
                "{}",
                plan.kdamonds[0].reason
            );
            assert_eq!(commands, ["off", "on"]);
            assert_ne!(kernel.get("kdamonds/0/pid").unwrap(), pid);
        } else {
            assert_eq!(plan.kdamonds[0].effect, Effect::Commit);
            assert_eq!(commands, ["commit"]);
            assert_eq!(kernel.get("kdamonds/0/pid").unwrap(), pid);
        }
        assert_eq!(
            kernel
                .get("kdamonds/0/contexts/0/schemes/0/access_pattern/age/min")
                .unwrap(),
            "300"
        );
        // The restarted kdamond is still known as ours.
        let (plan, _) = reconcile(&kernel, version, &[gated("g", "30s")], &state, Options::default()).unwrap();
        assert!(plan.ops.is_empty(), "{:?}", plan.ops);
    }
}

#[test]
fn a_kdamond_another_tool_started_in_our_stopped_slot_is_foreign() {
    let kernel = FakeKernel::new(V7);
    let (_, state) = reconcile(
        &kernel,
        V7,
        &[reclaim("a", 11, "60s")],
        &fresh_state(),
        Options::default(),
    )
    .unwrap();
    assert!(state.policies["a"].pid.is_some(), "the pid is recorded");
    // Ours stopped; another tool configured the slot and started its own kdamond.
    kernel.write("kdamonds/0/state", "off").unwrap();
    kernel
        .write("kdamonds/0/contexts/0/schemes/0/access_pattern/age/min", "5")
        .unwrap();
    kernel.write("kdamonds/0/state", "on").unwrap();
    kernel.clear_log();
    let error = reconcile(&kernel, V7, &[reclaim("a", 11, "60s")], &state, Options::default()).unwrap_err();
    assert!(error.contains("Foreign"), "{error}");
    assert!(kernel.log().is_empty(), "untouched: {:?}", kernel.log());
    assert_eq!(
        kernel
            .get("kdamonds/0/contexts/0/schemes/0/access_pattern/age/min")
            .unwrap(),
        "5"
    );
}

#[test]
fn changing_the_access_rate_weight_is_not_a_count_change() {
    // `weights/nr_accesses_permil` is a leaf, not an `nr_*` count: its siblings keep their
    // values and must still be compared with the kernel's.
    let with_weights = |weights: &str| {
        policy(
            "w",
            &format!(
                "name = \"w\"\n[target]\npids = [11]\n[[scheme]]\naction = \"pageout\"\n\
access_pattern.age = {{ min = \"60s\" }}\nquota = {{ time = \"10ms\", reset_interval = \"1s\"{weights} }}\n"
            ),
        )
    };
    for version in [V6, V7] {
        let kernel = FakeKernel::new(version);
        let (_, state) = reconcile(
            &kernel,
            version,
            &[with_weights("")],
            &fresh_state(),
            Options::default(),
        )
        .unwrap();
        let weights = "kdamonds/0/contexts/0/schemes/0/quotas/weights";
        assert_eq!(kernel.get(&format!("{weights}/age_permil")).unwrap(), "1");
        reconcile(
            &kernel,
            version,
            &[with_weights(", weights = { size = 0, access_rate = 2, age = 0 }")],
            &state,
            Options::default(),
        )
        .unwrap();
        for (leaf, value) in [("sz_permil", "0"), ("nr_accesses_permil", "2"), ("age_permil", "0")] {
            assert_eq!(
                kernel.get(&format!("{weights}/{leaf}")).unwrap(),
                value,
                "{version}: {leaf}"
            );
        }
    }
}

/// Removing one policy and adding two: the freed slot is reused and `nr_kdamonds` grows.
/// Each running kdamond is turned off once (the kernel refuses `off` for a stopped one), and
/// the new policy in the freed slot is a start, not a restart.
#[test]
fn growing_while_reusing_a_freed_slot_stops_each_kdamond_once() {
    for version in [V6, V7] {
        let kernel = FakeKernel::new(version);
        let (_, state) = reconcile(
            &kernel,
            version,
            &[reclaim("a", 11, "60s"), reclaim("b", 12, "60s")],
            &fresh_state(),
            Options::default(),
        )
        .unwrap();
        let wanted = [
            reclaim("b", 12, "60s"),
            reclaim("c", 13, "60s"),
            reclaim("d", 14, "60s"),
        ];
        let (plan, state) = reconcile(&kernel, version, &wanted, &state, Options::default()).unwrap();
        let offs: Vec<String> = plan
            .ops
            .iter()
            .filter(|op| op.new == "off")
            .map(|op| op.file.to_string())
            .collect();
        assert_eq!(offs, ["kdamonds/0/state", "kdamonds/1/state"], "{:?}", plan.ops);
        let effect = |name: &str| plan.kdamonds.iter().find(|k| k.policy == name).map(|k| k.effect);
        assert_eq!(effect("a"), Some(Effect::Stop));
        assert_eq!(effect("b"), Some(Effect::Restart));
        assert_eq!((effect("c"), effect("d")), (Some(Effect::Start), Some(Effect::Start)));
        assert_eq!((state.policies["c"].slot, state.policies["d"].slot), (0, 2));
        assert!((0..3).all(|k| kernel.get(&format!("kdamonds/{k}/state")).as_deref() == Some("on")));
    }
}

/// `stop` never turns off another tool's kdamond, also not one started in the slot of a
/// stopped kdamond of ours.
#[test]
fn stop_leaves_another_tools_kdamond_in_our_slot_alone() {
    let kernel = FakeKernel::new(V7);
    let (_, state) = reconcile(
        &kernel,
        V7,
        &[reclaim("a", 11, "60s")],
        &fresh_state(),
        Options::default(),
    )
    .unwrap();
    kernel.write("kdamonds/0/state", "off").unwrap();
    kernel.write("kdamonds/0/state", "on").unwrap();
    let theirs = kernel.get("kdamonds/0/pid").unwrap();
    kernel.clear_log();
    let stopped = stop_owned(&kernel, &state, &[]);
    assert_eq!(
        stopped,
        vec![(
            "a",
            0,
            Ok(Stopped::Foreign {
                pid: theirs.parse().unwrap()
            })
        )]
    );
    assert!(kernel.log().is_empty(), "untouched: {:?}", kernel.log());
    // Ours, running: stopped; then not running.
    let (_, state) = reconcile(
        &kernel,
        V7,
        &[reclaim("a", 11, "60s")],
        &fresh_state(),
        Options { takeover: true },
    )
    .unwrap();
    assert_eq!(stop_owned(&kernel, &state, &[]), vec![("a", 0, Ok(Stopped::Stopped))]);
    assert_eq!(
        stop_owned(&kernel, &state, &[]),
        vec![("a", 0, Ok(Stopped::NotRunning))]
    );
}

/// A policy left as it is (its targets could not be resolved this time) still runs after
/// `nr_kdamonds` grows: its recorded configuration is written again and it restarts.
#[test]
fn growing_keeps_a_policy_left_as_it_is_running() {
    let kernel = FakeKernel::new(V7);
    let (_, state) = reconcile(
        &kernel,
        V7,
        &[reclaim("a", 11, "60s")],
        &fresh_state(),
        Options::default(),
    )
    .unwrap();
    let compiled = compile(&[reclaim("b", 12, "60s")], V7, &HostPaths::default());
    let keep: BTreeSet<String> = ["a".to_owned()].into();
    let plan = plan(&kernel, &compiled, Layout::new(V7), &state, &keep, Options::default()).unwrap();
    apply(&kernel, &plan, &state).unwrap();
    let a = plan.kdamonds.iter().find(|k| k.policy == "a").unwrap();
    assert_eq!(a.effect, Effect::Restart, "{:?}", plan.kdamonds);
    assert_eq!(kernel.get("kdamonds/0/state").as_deref(), Some("on"));
    assert_eq!(
        kernel.get("kdamonds/0/contexts/0/targets/0/pid_target").as_deref(),
        Some("11")
    );
    assert_eq!(
        kernel.get("kdamonds/1/contexts/0/targets/0/pid_target").as_deref(),
        Some("12")
    );
    assert_eq!(plan.state_after.policies["a"], state.policies["a"]);
}

/// A record an earlier version wrote keeps what is ours but not the configurations: plans
/// diff against the live tree as always, and a failed apply says which configuration it
/// cannot put back instead of claiming a restore.
#[test]
fn a_configuration_recorded_by_an_earlier_version_is_diffed_live_and_not_restored() {
    for version in [V6, V7] {
        let kernel = FakeKernel::new(version);
        let (_, mut state) = reconcile(
            &kernel,
            version,
            &[reclaim("a", 11, "60s")],
            &fresh_state(),
            Options::default(),
        )
        .unwrap();
        for own in state.policies.values_mut() {
            own.applied = None;
        }
        let (plan, _) = reconcile(&kernel, version, &[reclaim("a", 11, "60s")], &state, Options::default()).unwrap();
        assert!(plan.ops.is_empty(), "{version}: {:?}", plan.ops);
        assert_eq!(plan.kdamonds[0].effect, Effect::Unchanged);
        let changed = compile(&[reclaim("a", 11, "90s")], version, &HostPaths::default());
        let plan = super::plan(
            &kernel,
            &changed,
            Layout::new(version),
            &state,
            &BTreeSet::new(),
            Options::default(),
        )
        .unwrap();
        kernel.fail_next_write("kdamonds/0/contexts/0/schemes/0/access_pattern/age/min", errno::EINVAL);
        let failed = apply(&kernel, &plan, &state).unwrap_err();
        let restored = failed.restored.unwrap_err().to_string();
        assert!(
            restored.starts_with("the configuration of `a` was recorded by an earlier version"),
            "{version}: {restored}"
        );
    }
}
