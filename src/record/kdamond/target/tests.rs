//! A recording's target and monitoring, from options or a policy file.

use std::fs;

use super::*;

const KERNEL: Version = Version::NEWEST_KNOWN;
const OPS: &[Ops] = &[Ops::Vaddr, Ops::Fvaddr, Ops::Paddr];

fn host_with(dir: &Path, pids: &[u32]) -> HostPaths {
    fs::create_dir_all(dir.join("proc")).unwrap();
    for pid in pids {
        fs::create_dir_all(dir.join(format!("proc/{pid}"))).unwrap();
    }
    HostPaths {
        proc_root: dir.join("proc"),
        ..HostPaths::default()
    }
}

fn target(choice: TargetChoice, overrides: MonitoringOverrides) -> RecordTarget {
    RecordTarget { choice, overrides }
}

fn invalid(result: Result<CompiledTarget, TargetError>) -> String {
    match result {
        Err(error @ TargetError::Invalid { .. }) => error.to_string(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn pids_with_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let host = host_with(dir.path(), &[42, 43]);
    let overrides = MonitoringOverrides {
        sample_interval: Some("10ms".into()),
        aggregation_interval: Some("200ms".into()),
        update_interval: Some("2s".into()),
        regions: Some("20,500".parse().unwrap()),
    };
    let compiled = target(TargetChoice::Pids(vec![42, 43]), overrides)
        .compile("(recording 1)", KERNEL, OPS, &host)
        .unwrap();
    let k = &compiled.kdamond;
    assert_eq!(k.policy, "(recording 1)");
    assert_eq!(
        k.targets.iter().map(|t| t.pid).collect::<Vec<_>>(),
        [Some(42), Some(43)]
    );
    let m = &k.monitoring;
    assert_eq!(
        (m.sample_us, m.aggr_us, m.update_us, m.min_nr_regions, m.max_nr_regions),
        (10_000, 200_000, 2_000_000, 20, 500)
    );
    // Monitoring without schemes is what a recording is for: no warning about it.
    assert!(compiled.warnings.is_empty(), "{:?}", compiled.warnings);
    assert!(k.schemes.is_empty());
}

/// A bad option is named, with the rule's fix.
#[test]
fn bad_options_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let host = host_with(dir.path(), &[42]);
    let with = |overrides| target(TargetChoice::Pids(vec![42]), overrides).compile("r", KERNEL, OPS, &host);
    let zero = invalid(with(MonitoringOverrides {
        sample_interval: Some("0s".into()),
        ..Default::default()
    }));
    assert!(zero.starts_with("--sample-interval 0s: "), "{zero}");
    let word = invalid(with(MonitoringOverrides {
        aggregation_interval: Some("soon".into()),
        ..Default::default()
    }));
    assert!(word.starts_with("--aggregation-interval soon: "), "{word}");
    let shorter = invalid(with(MonitoringOverrides {
        aggregation_interval: Some("1ms".into()),
        ..Default::default()
    }));
    assert!(
        shorter.contains("--aggregation-interval 1ms: `aggregation_interval` is shorter than `sample_interval`"),
        "{shorter}"
    );
    let regions = invalid(with(MonitoringOverrides {
        regions: Some(RegionBounds { min: 2, max: 1000 }),
        ..Default::default()
    }));
    assert!(regions.starts_with("--regions 2,1000: "), "{regions}");
    assert_eq!(
        "10".parse::<RegionBounds>().unwrap_err().to_string(),
        "`10` is not MIN,MAX: write two numbers of regions, e.g. `10,1000`"
    );
    let pid =
        invalid(target(TargetChoice::Pids(vec![0]), MonitoringOverrides::default()).compile("r", KERNEL, OPS, &host));
    assert!(pid.starts_with("--pid 0: "), "{pid}");
}

#[test]
fn targets_that_cannot_be_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let host = host_with(dir.path(), &[]);
    let none = MonitoringOverrides::default;
    let gone = target(TargetChoice::Pids(vec![42]), none())
        .compile("r", KERNEL, OPS, &host)
        .unwrap_err()
        .to_string();
    assert_eq!(
        gone,
        "--pid 42: process 42 is not running; record running processes only"
    );
    let nameless = target(TargetChoice::Process("nothing".into()), none())
        .compile("r", KERNEL, OPS, &host)
        .unwrap_err()
        .to_string();
    assert_eq!(nameless, "--process nothing: no process named `nothing` is running");
    let physical = target(TargetChoice::Physical, none())
        .compile("r", KERNEL, &[Ops::Vaddr], &host)
        .unwrap_err()
        .to_string();
    assert!(
        physical.starts_with("--physical needs the `paddr` operations set"),
        "{physical}"
    );
}

/// A policy file gives its target and monitoring; its schemes, even invalid ones, are not
/// the recording's; options go over its monitoring.
#[test]
fn a_policy_files_target_and_monitoring() {
    let dir = tempfile::tempdir().unwrap();
    let host = host_with(dir.path(), &[]);
    let path = dir.path().join("web.toml");
    fs::write(
        &path,
        "name = \"web\"\nenabled = false\n[target]\nphysical = { regions = [{ start = 4096, end = 1048576 }] }\n\
[monitoring]\nsample_interval = \"10ms\"\naggregation_interval = \"1s\"\nregions = { min = 20 }\n\
[[scheme]]\naction = \"no-such-action\"\n",
    )
    .unwrap();
    let overrides = MonitoringOverrides {
        aggregation_interval: Some("500ms".into()),
        ..Default::default()
    };
    let compiled = target(TargetChoice::PolicyFile(path.clone()), overrides)
        .compile("r", KERNEL, OPS, &host)
        .unwrap();
    let k = &compiled.kdamond;
    assert_eq!(k.ops, Ops::Paddr);
    assert_eq!(k.targets[0].regions[0].start, 4096);
    let m = &k.monitoring;
    assert_eq!((m.sample_us, m.aggr_us, m.min_nr_regions), (10_000, 500_000, 20));
    assert!(k.schemes.is_empty());

    // A finding about the file's own lines names the file.
    fs::write(&path, "[target]\nphysical = true\npids = [1]\n").unwrap();
    let both = invalid(
        target(TargetChoice::PolicyFile(path.clone()), MonitoringOverrides::default()).compile("r", KERNEL, OPS, &host),
    );
    assert!(both.starts_with(&format!("[target] of {}: ", path.display())), "{both}");
    fs::write(&path, "[target\n").unwrap();
    let syntax = target(TargetChoice::PolicyFile(path.clone()), MonitoringOverrides::default())
        .compile("r", KERNEL, OPS, &host)
        .unwrap_err()
        .to_string();
    assert!(
        syntax.contains("not a policy file") && syntax.contains("damo-policy check"),
        "{syntax}"
    );
}
