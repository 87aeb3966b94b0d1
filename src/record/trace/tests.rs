//! The tracepoint source against a fake tracefs: what an instance writes and where, what
//! polls yield from the kernel's lines, and the removal of stale instances.

use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::tracefs::EVENT_DIR;
use super::*;
use crate::host::HostPaths;
use crate::record::Aggregation;

struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    proc_root: PathBuf,
    tracefs: Tracefs,
}

fn fixture(with_damon_event: bool) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("tracing");
    let proc_root = dir.path().join("proc");
    fs::create_dir_all(&root).unwrap();
    fs::create_dir_all(&proc_root).unwrap();
    fake::lay_out(&root, with_damon_event).unwrap();
    let host = HostPaths {
        proc_root: proc_root.clone(),
        ..HostPaths::default()
    };
    let tracefs = fake::tracefs(&root, &host);
    Fixture {
        _dir: dir,
        root,
        proc_root,
        tracefs,
    }
}

/// Every directory and file below `root` with its content.
fn tree(root: &Path) -> BTreeMap<PathBuf, Option<String>> {
    let mut out = BTreeMap::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let relative = path.strip_prefix(root).unwrap().to_path_buf();
            if path.is_dir() {
                out.insert(relative, None);
                todo.push(path);
            } else {
                out.insert(relative, Some(fs::read_to_string(&path).unwrap()));
            }
        }
    }
    out
}

fn read(path: PathBuf) -> String {
    fs::read_to_string(path).unwrap()
}

fn append(instance: &Instance, text: &str) {
    let mut pipe = OpenOptions::new()
        .append(true)
        .open(instance.path().join("trace_pipe"))
        .unwrap();
    pipe.write_all(text.as_bytes()).unwrap();
}

/// The lines one aggregation of `target_id` makes: `nr_regions` regions of 1 MiB.
fn lines(task: &str, seconds: u64, target_id: u64, nr_regions: u64) -> String {
    (0..nr_regions)
        .map(|i| {
            let start = (target_id + 1) << 32 | i << 20;
            format!(
                "{task:>16}-77 [001] d..1. {seconds:5}.250000: damon_aggregated: \
                 target_id={target_id} nr_regions={nr_regions} {start}-{}: {} {}\n",
                start + (1 << 20),
                i,
                seconds
            )
        })
        .collect()
}

#[test]
fn an_instance_writes_only_inside_itself_and_leaves_nothing() {
    let fx = fixture(true);
    let before = tree(&fx.root);
    let instance = Instance::create(&fx.tracefs, 321).unwrap();

    let name = instance.path().file_name().unwrap().to_str().unwrap().to_owned();
    assert_eq!(instance.path().parent(), Some(fx.root.join("instances").as_path()));
    let our_name = format!("damo-policy-{}", std::process::id());
    assert!(name == our_name || name.starts_with(&format!("{our_name}-")), "{name}");
    let event = instance.path().join(EVENT_DIR);
    assert_eq!(read(event.join("filter")), "common_pid == 321");
    assert!(read(event.join("enable")).starts_with('1'));
    assert!(read(instance.path().join("buffer_size_kb")).starts_with("2000"));
    assert!(read(instance.path().join("trace_clock")).starts_with("mono"));

    let during = tree(&fx.root);
    let outside = |t: &BTreeMap<PathBuf, Option<String>>| -> BTreeMap<PathBuf, Option<String>> {
        let ours = Path::new("instances").join(&name);
        t.iter()
            .filter(|(path, _)| !path.starts_with(&ours))
            .map(|(p, c)| (p.clone(), c.clone()))
            .collect()
    };
    assert_eq!(outside(&during), before);

    instance.close().unwrap();
    assert_eq!(tree(&fx.root), before);
}

#[test]
fn dropping_an_instance_removes_it() {
    let fx = fixture(true);
    let before = tree(&fx.root);
    let instance = Instance::create(&fx.tracefs, 5).unwrap();
    let path = instance.path().to_path_buf();
    drop(instance);
    assert!(!path.exists());
    assert_eq!(tree(&fx.root), before);
}

#[test]
fn two_instances_of_one_process_have_names_of_their_own() {
    let fx = fixture(true);
    let a = Instance::create(&fx.tracefs, 1).unwrap();
    let b = Instance::create(&fx.tracefs, 2).unwrap();
    assert_ne!(a.path(), b.path());
    assert_eq!(read(b.path().join(EVENT_DIR).join("filter")), "common_pid == 2");
    a.close().unwrap();
    b.close().unwrap();
}

#[test]
fn polls_yield_complete_aggregations_across_partial_lines() {
    let fx = fixture(true);
    let mut instance = Instance::create(&fx.tracefs, 77).unwrap();
    let mut out: Vec<Aggregation> = Vec::new();
    instance.poll(&mut out).unwrap();
    assert!(out.is_empty());

    // Two targets' aggregation at 10 s, cut in the middle of a line of target 1.
    let first = lines("kdamond.0", 10, 0, 3) + &lines("kdamond.0", 10, 1, 2);
    let cut = first.len() - 30;
    append(&instance, &first[..cut]);
    instance.poll(&mut out).unwrap();
    assert_eq!(out.iter().map(|a| a.target_id).collect::<Vec<_>>(), [0]);

    append(&instance, &first[cut..]);
    append(&instance, &lines("kdamond.0", 11, 0, 3)[..40]);
    instance.poll(&mut out).unwrap();
    assert_eq!(out.iter().map(|a| a.target_id).collect::<Vec<_>>(), [0, 1]);
    assert_eq!(out[1].regions.len(), 2);
    assert_eq!(out[1].end_ns, 10_250_000_000);
    assert_eq!(out[1].regions[1].start, 2 << 32 | 1 << 20);
    assert_eq!(instance.stats(), StreamStats::default());
    instance.close().unwrap();
}

#[test]
fn task_names_with_spaces_and_dashes() {
    let fx = fixture(true);
    let mut instance = Instance::create(&fx.tracefs, 77).unwrap();
    append(&instance, &lines("kdamond 0-x", 1, 0, 2));
    append(&instance, &lines("kdamond.0", 2, 0, 2));
    let mut out = Vec::new();
    instance.poll(&mut out).unwrap();
    assert_eq!(out.len(), 2);
    instance.close().unwrap();
}

#[test]
fn lost_events_are_surfaced() {
    let fx = fixture(true);
    let mut instance = Instance::create(&fx.tracefs, 77).unwrap();
    let cut: String = lines("kdamond.0", 1, 0, 3)
        .lines()
        .take(1)
        .map(|l| format!("{l}\n"))
        .collect();
    append(
        &instance,
        &(cut + "CPU:1 [LOST 42 EVENTS]\n" + &lines("kdamond.0", 2, 0, 3)),
    );
    fs::write(
        instance.path().join("per_cpu/cpu1/stats"),
        "entries: 3\noverrun: 42\ncommit overrun: 0\ndropped events: 0\n",
    )
    .unwrap();
    let mut out = Vec::new();
    instance.poll(&mut out).unwrap();
    assert_eq!(out.len(), 1);
    let stats = instance.stats();
    assert_eq!((stats.lost_events, stats.incomplete_aggregations), (42, 1));
    assert_eq!(
        instance.buffer_loss().unwrap(),
        BufferLoss {
            overrun: 42,
            dropped: 0
        }
    );
    instance.close().unwrap();
}

#[test]
fn stale_instances_of_dead_creators_are_removed_and_nothing_else() {
    let fx = fixture(true);
    let instances = fx.root.join("instances");
    let live = 4242;
    fs::create_dir(fx.proc_root.join(live.to_string())).unwrap();
    let names = [
        "damo-policy-999999",
        "damo-policy-999999-2",
        "damo-policy-4242",
        "damo-policy-4242-1",
        "damo-policy-old",
        "perf-999999",
        "foo",
    ];
    for name in names {
        fs::create_dir(instances.join(name)).unwrap();
        fs::write(instances.join(name).join("trace_pipe"), "").unwrap();
    }
    let instance = Instance::create(&fx.tracefs, 1).unwrap();
    let mut removed: Vec<_> = instance
        .removed_stale()
        .iter()
        .map(|p| p.file_name().unwrap().to_owned())
        .collect();
    removed.sort();
    assert_eq!(removed, ["damo-policy-999999", "damo-policy-999999-2"]);
    instance.close().unwrap();
    let mut left: Vec<_> = fs::read_dir(&instances)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    assert_eq!(
        left,
        [
            "damo-policy-4242",
            "damo-policy-4242-1",
            "damo-policy-old",
            "foo",
            "perf-999999"
        ]
    );
}

#[test]
fn a_kernel_without_the_event_or_instances_is_refused_untouched() {
    let fx = fixture(false);
    let before = tree(&fx.root);
    let error = Instance::create(&fx.tracefs, 1).err().unwrap();
    assert!(matches!(error, TraceError::NoEvent { .. }), "{error}");
    assert!(error.to_string().contains("events/damon/damon_aggregated"), "{error}");
    assert!(!fx.tracefs.sources().usable());
    assert_eq!(tree(&fx.root), before);

    let fx = fixture(true);
    fs::remove_dir(fx.root.join("instances")).unwrap();
    let error = Instance::create(&fx.tracefs, 1).err().unwrap();
    assert!(matches!(error, TraceError::NoInstances { .. }), "{error}");
    assert_eq!(fx.tracefs.sources().instances, Presence::Absent);
}

#[test]
fn a_failed_step_removes_the_half_made_instance() {
    let fx = fixture(true);
    // A kernel whose instances lack the event: the filter write fails.
    let host = HostPaths {
        proc_root: fx.proc_root.clone(),
        ..HostPaths::default()
    };
    let mut tracefs = fake::tracefs(&fx.root, &host);
    tracefs.emulation.as_mut().unwrap().lay_out_instance = |path| {
        fs::write(path.join("buffer_size_kb"), "0\n")?;
        fs::write(path.join("trace_clock"), "[local] mono\n")
    };
    let before = tree(&fx.root);
    let error = Instance::create(&tracefs, 1).err().unwrap();
    assert!(error.to_string().contains("filter"), "{error}");
    assert_eq!(tree(&fx.root), before);
}
