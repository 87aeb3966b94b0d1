//! `damo-policy compile`: the exact kernel writes, their order, observe mode, disabled
//! policies, and targets resolved from (fixture) host files.

use std::fs;
use std::path::Path;

use crate::common::{fixtures, run};

#[test]
fn every_field_on_the_newest_kernel() {
    let result = run(
        &fixtures().join("valid"),
        &["compile", "every-field.toml", "--kernel", "7.3"],
    );
    assert_eq!(result.code, 0, "{}", result.transcript());
    insta::assert_snapshot!(result.stdout);
}

/// Weighted destinations (`dests/`) are for process address spaces: the kernel's physical
/// memory operations migrate to `target_nid` alone.
#[test]
fn weighted_destinations_of_processes() {
    let result = run(
        &fixtures().join("valid"),
        &["compile", "weighted-destinations.toml", "--kernel", "7.3"],
    );
    assert_eq!(result.code, 0, "{}", result.transcript());
    insta::assert_snapshot!(result.stdout);
}

#[test]
fn legacy_layout_on_6_12() {
    let result = run(
        &fixtures().join("valid"),
        &["compile", "legacy-kernel.toml", "--kernel", "6.12"],
    );
    assert_eq!(result.code, 0, "{}", result.transcript());
    // 6.12 has one filter directory and neither dests nor interval tuning nor goal nids.
    for absent in [
        "core_filters",
        "ops_filters",
        "dests/",
        "intervals_goal",
        "goals/0/nid",
        "addr_unit",
    ] {
        assert!(!result.stdout.contains(absent), "{absent} must not be written on 6.12");
    }
    insta::assert_snapshot!(result.stdout);
}

#[test]
fn json_format() {
    let result = run(
        &fixtures().join("valid"),
        &["compile", "legacy-kernel.toml", "--kernel", "6.12", "--format", "json"],
    );
    assert_eq!(result.code, 0, "{}", result.transcript());
    let json: serde_json::Value = serde_json::from_str(&result.stdout).unwrap();
    assert_eq!(json["kdamonds"][0]["targets"].as_array().unwrap().len(), 2);
    insta::assert_snapshot!(result.stdout);
}

/// `nr_*` files come before the children they create, and every `state` comes last.
#[test]
fn writes_are_in_kernel_order() {
    let result = run(
        &fixtures().join("valid"),
        &[
            "compile",
            "every-field.toml",
            "legacy-kernel.toml",
            "minimal.toml",
            "--kernel",
            "7.3",
        ],
    );
    let writes: Vec<&str> = result
        .stdout
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split_once(' ').unwrap().0)
        .collect();
    assert!(!writes.is_empty());
    for (i, path) in writes.iter().enumerate() {
        // Each numbered directory must have been created by its parent's nr_* write.
        let parts: Vec<&str> = path.split('/').collect();
        for (depth, part) in parts.iter().enumerate() {
            if part.parse::<usize>().is_ok() {
                let parent = parts[..depth].join("/");
                let created = writes[..i].iter().any(|w| w.starts_with(&format!("{parent}/nr_")));
                assert!(created, "{path} is written before {parent}/nr_*");
            }
        }
    }
    let first_state = writes.iter().position(|w| w.ends_with("/state")).unwrap();
    assert!(
        writes[first_state..].iter().all(|w| w.ends_with("/state")),
        "state must come last"
    );
}

/// A fake host: two processes named `worker`, a cgroup, System RAM and a NUMA node.
fn fake_host(root: &Path) {
    for (pid, comm) in [(101, "worker"), (102, "worker"), (103, "other")] {
        fs::create_dir_all(root.join(format!("proc/{pid}"))).unwrap();
        fs::write(root.join(format!("proc/{pid}/comm")), format!("{comm}\n")).unwrap();
    }
    fs::write(
        root.join("proc/iomem"),
        "00001000-0009fbff : System RAM\n100000000-43fffffff : System RAM\n",
    )
    .unwrap();
    fs::create_dir_all(root.join("cgroup/web.slice")).unwrap();
    fs::write(root.join("cgroup/web.slice/cgroup.procs"), "7\n5\n").unwrap();
    fs::create_dir_all(root.join("system/memory")).unwrap();
    fs::write(root.join("system/memory/block_size_bytes"), "8000000\n").unwrap();
    for block in [32, 33, 35] {
        fs::create_dir_all(root.join(format!("system/node/node1/memory{block}"))).unwrap();
    }
}

#[test]
fn targets_resolve_against_the_host() {
    let dir = tempfile::tempdir().unwrap();
    fake_host(dir.path());
    let policies = dir.path().join("policies");
    fs::create_dir(&policies).unwrap();
    let write = |name: &str, body: &str| fs::write(policies.join(name), body).unwrap();
    write(
        "a-process.toml",
        "[target]\nprocess = \"worker\"\n[[scheme]]\naction = \"pageout\"\n",
    );
    write(
        "b-cgroup.toml",
        "mode = \"observe\"\n[target]\ncgroup = \"web.slice\"\n[[scheme]]\naction = \"pageout\"\n",
    );
    write("c-ram.toml", "[target]\nphysical = true\n");
    write("d-node.toml", "[target]\nphysical = { numa_node = 1 }\n");
    write("e-pending.toml", "[target]\nprocess = \"not-running\"\n");
    write("f-disabled.toml", "enabled = false\n[target]\npids = [1]\n");
    let result = run(
        dir.path(),
        &[
            "compile",
            "policies",
            "--kernel",
            "6.12",
            "--proc-root",
            "proc",
            "--cgroup-root",
            "cgroup",
            "--system-root",
            "system",
        ],
    );
    assert_eq!(result.code, 0, "{}", result.transcript());
    let out = &result.stdout;
    assert!(out.contains("kdamonds/nr_kdamonds 4\n"), "{out}");
    assert!(out.contains("kdamonds/0/contexts/0/targets/0/pid_target 101\n"));
    assert!(out.contains("kdamonds/0/contexts/0/targets/1/pid_target 102\n"));
    assert!(out.contains("kdamonds/1/contexts/0/targets/0/pid_target 5\n"));
    // Observe mode runs the scheme as stat.
    assert!(out.contains("kdamonds/1/contexts/0/schemes/0/action stat\n"));
    assert!(out.contains("kdamonds/2/contexts/0/targets/0/regions/0/start 4294967296\n"));
    assert!(out.contains("kdamonds/2/contexts/0/targets/0/regions/0/end 18253611008\n"));
    // Node 1: blocks 32-33 merge, 35 stands alone.
    assert!(out.contains("kdamonds/3/contexts/0/targets/0/regions/nr_regions 2\n"));
    assert!(out.contains(
        "# policy `e-pending` (policies/e-pending.toml): pending: no process named `not-running` is running"
    ));
    assert!(!out.contains("f-disabled"), "a disabled policy compiles to nothing");
    insta::assert_snapshot!(result.stdout);
}

#[test]
fn invalid_policies_do_not_compile() {
    let result = run(&fixtures().join("invalid"), &["compile", "range-min-gt-max.toml"]);
    assert_eq!(result.code, 1);
    assert!(result.stdout.is_empty(), "nothing may be printed as configuration");
    assert!(result.stderr.contains("range-min-gt-max.toml:"), "{}", result.stderr);
}

#[test]
fn unresolvable_target_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("node.toml"), "[target]\nphysical = { numa_node = 9 }\n").unwrap();
    let result = run(dir.path(), &["compile", "node.toml", "--system-root", "nowhere"]);
    assert_eq!(result.code, 2, "{}", result.transcript());
    assert!(
        result.stderr.contains("cannot read the memory of NUMA node 9"),
        "{}",
        result.stderr
    );
}
