//! `record` against a fake kernel: the recording's kdamond started and stopped around a
//! whole file, and the refusals that start nothing. The fake kernel has no tracepoint, so
//! these record from tried regions (or name a fake tracefs); the tracepoint itself is shown
//! on real kernels in the VM suite (`tests/vm/record.rs`).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command};

use damo_policy::record::file::read_records;

use crate::common::Run;
use crate::live::{live, setup};

/// A process to record, killed when dropped.
struct Sleeper(Child);

impl Sleeper {
    fn start() -> Self {
        Sleeper(Command::new("sleep").arg("60").spawn().expect("sleep runs"))
    }

    fn pid(&self) -> String {
        self.0.id().to_string()
    }
}

impl Drop for Sleeper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `record` of `pid` from tried regions for `duration`, with `more` options, on the
/// directory's fake kernel.
fn record_tried(dir: &Path, pid: &str, duration: &str, more: &[&str]) -> Run {
    let mut args = vec![
        "record",
        "--pid",
        pid,
        "--source",
        "tried-regions",
        "--duration",
        duration,
    ];
    args.extend(more);
    live(dir, &args)
}

#[test]
fn a_recording_writes_a_whole_file_and_stops_its_kdamond() {
    let dir = setup("6.12");
    let target = Sleeper::start();
    let pid = target.pid();
    let recorded = record_tried(dir.path(), &pid, "300ms", &["--format", "json"]);
    assert_eq!(recorded.code, 0, "{}", recorded.transcript());
    assert!(recorded.stderr.contains("; --duration elapsed"), "{}", recorded.stderr);
    let file = dir.path().join("damon.data");
    assert_eq!(fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    let footprint = fs::read_to_string(dir.path().join("damon.data.mem_footprint")).unwrap();
    assert!(footprint.contains(&format!("\"pid\":{pid}")), "{footprint}");
    let records = read_records(&file).unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(
        records[0].info.scheme_idx,
        Some(0),
        "a tried-regions record names its scheme"
    );
    assert!(!records[0].snapshots.is_empty());
    // Its kdamond is stopped and forgotten: nothing of the recording is left to show.
    let status = live(dir.path(), &["status"]);
    assert!(!status.stdout.contains("recording"), "{}", status.transcript());
    // And the file is not overwritten by the next recording unless forced.
    let again = record_tried(dir.path(), &pid, "100ms", &[]);
    assert_eq!(again.code, 2);
    insta::assert_snapshot!(
        "record_exists",
        again.transcript().replace(&dir.path().display().to_string(), "DIR")
    );
    let forced = record_tried(dir.path(), &pid, "100ms", &["--force"]);
    assert_eq!(forced.code, 0, "{}", forced.transcript());
}

#[test]
fn a_write_error_ends_the_recording_with_its_kdamond_stopped() {
    let dir = setup("7.3");
    let target = Sleeper::start();
    let recorded = record_tried(dir.path(), &target.pid(), "2s", &["-o", "/dev/full"]);
    assert_eq!(recorded.code, 2, "{}", recorded.transcript());
    assert!(
        recorded.stderr.contains("error: cannot write /dev/full"),
        "{}",
        recorded.stderr
    );
    let status = live(dir.path(), &["status"]);
    assert!(!status.stdout.contains("recording"), "{}", status.transcript());
}

#[test]
fn attaching_to_a_policy_not_applied_is_refused() {
    let dir = setup("7.3");
    // An empty directory as tracefs: the refusal comes before any instance is made.
    fs::create_dir_all(dir.path().join("tracefs")).unwrap();
    let attached = live(
        dir.path(),
        &[
            "record",
            "--attach",
            "web",
            "--source",
            "tracepoint",
            "--tracefs-root",
            "tracefs",
            "--duration",
            "1s",
        ],
    );
    assert_eq!(attached.code, 2);
    insta::assert_snapshot!("record_attach_not_applied", attached.transcript());
    assert!(!dir.path().join("damon.data").exists());
}

#[test]
fn a_target_is_required() {
    let dir = setup("7.3");
    let none = live(dir.path(), &["record", "--duration", "1s"]);
    assert_eq!(none.code, 2);
    assert!(none.stderr.contains("--pid"), "{}", none.stderr);
}
