//! The service on the fake kernel, driven by real file-system events in a temporary
//! directory: one test per kind of change.

use std::fs;
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::Duration;

use super::*;
use crate::host::HostPaths;
use crate::kernel::{Ops, Version};
use crate::reconcile::Options;
use crate::sysfs::fake::FakeKernel;

const V7: Version = Version::new(7, 3);
const WAIT: Duration = Duration::from_secs(10);

fn policy(name: &str, min_age: &str) -> String {
    format!(
        "# {name}\nname = \"{name}\"\n[target]\nphysical = {{ regions = [{{ start = 4096, end = 1048576 }}] }}\n\
[[scheme]]\naction = \"pageout\"\naccess_pattern.age = {{ min = \"{min_age}\" }}\n"
    )
}

/// What a test sees of each reconcile.
#[derive(Debug)]
struct Seen {
    cause: Cause,
    result: &'static str,
}

struct Harness {
    dir: tempfile::TempDir,
    kernel: FakeKernel,
    debounce: Duration,
}

impl Harness {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("policies")).unwrap();
        Harness {
            dir,
            kernel: FakeKernel::new(V7),
            debounce: Duration::from_millis(50),
        }
    }

    fn policies(&self) -> PathBuf {
        self.dir.path().join("policies")
    }

    fn write(&self, name: &str, text: &str) {
        fs::write(self.policies().join(name), text).unwrap();
    }

    /// Runs the service while `test` drives it; returns what `test` returns.
    fn run<T>(&self, stop_on_exit: bool, test: impl FnOnce(&Sender<Event>, &Receiver<Seen>) -> T) -> T {
        let settings = Settings {
            paths: vec![self.policies()],
            host: HostPaths::default(),
            sysfs_root: self.dir.path().join("no-sysfs"),
            options: Options::default(),
            disable_modules: false,
            strict_permissions: false,
        };
        let watch = WatchSettings {
            debounce: self.debounce,
            max_batch: Duration::from_millis(1000),
            resync: Duration::from_secs(3600),
            stop_on_exit,
            module_root: self.dir.path().join("no-modules"),
        };
        let info = KernelInfo {
            release: "7.3".into(),
            version: V7,
            evidence: "test".into(),
            avail_ops: vec![Ops::Vaddr, Ops::Paddr],
            modules: vec![],
        };
        let mut env = Env {
            sysfs: &self.kernel,
            info,
            store: StateStore::new(self.dir.path().join("state")),
            state: EngineState {
                boot_id: "boot".into(),
                ..Default::default()
            },
        };
        let (tx, rx) = mpsc::channel();
        let (seen_tx, seen_rx) = mpsc::channel();
        let (settings, watch) = (&settings, &watch);
        let mut watcher = DirWatcher::new(&self.policies(), tx.clone()).unwrap();
        std::thread::scope(|scope| {
            let service = scope.spawn(move || {
                serve(
                    settings,
                    watch,
                    &mut env,
                    &rx,
                    || watcher.rewatch(),
                    |cause, report| {
                        let _ = seen_tx.send(Seen {
                            cause,
                            result: report.outcome.word(),
                        });
                    },
                )
            });
            // Stop the service even when the test fails, so the failure is reported.
            let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| test(&tx, &seen_rx)));
            tx.send(Event::Exit).unwrap();
            service.join().unwrap();
            out.unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    }

    fn age_min(&self, slot: usize) -> Option<String> {
        self.kernel
            .get(&format!("kdamonds/{slot}/contexts/0/schemes/0/access_pattern/age/min"))
    }
}

fn next(seen: &Receiver<Seen>) -> Seen {
    seen.recv_timeout(WAIT).expect("a reconcile")
}

fn nothing_more(seen: &Receiver<Seen>) {
    assert!(
        seen.recv_timeout(Duration::from_millis(300)).is_err(),
        "an extra reconcile"
    );
}

#[test]
fn in_place_edit_commits_online() {
    let h = Harness::new();
    h.write("a.toml", &policy("a", "10s"));
    h.run(false, |_, seen| {
        assert_eq!(next(seen).result, "applied");
        let pid = h.kernel.get("kdamonds/0/pid").unwrap();
        h.kernel.clear_log();
        h.write("a.toml", &policy("a", "20s"));
        let s = next(seen);
        assert_eq!((s.cause, s.result), (Cause::Files, "applied"));
        assert_eq!(h.age_min(0).as_deref(), Some("200"));
        assert_eq!(h.kernel.get("kdamonds/0/pid").unwrap(), pid, "same kdamond");
        let log: Vec<String> = h
            .kernel
            .log()
            .iter()
            .map(|w| format!("{} {}", w.path, w.value))
            .collect();
        assert_eq!(
            log,
            vec![
                "kdamonds/0/contexts/0/schemes/0/access_pattern/age/min 200",
                "kdamonds/0/state commit"
            ]
        );
    });
}

#[test]
fn editor_save_by_rename_and_comment_only_edit() {
    let h = Harness::new();
    h.write("a.toml", &policy("a", "10s"));
    h.run(false, |_, seen| {
        next(seen);
        let tmp = h.policies().join(".a.toml.swp");
        fs::write(&tmp, policy("a", "30s")).unwrap();
        fs::rename(&tmp, h.policies().join("a.toml")).unwrap();
        assert_eq!(next(seen).result, "applied");
        assert_eq!(h.age_min(0).as_deref(), Some("300"));
        h.kernel.clear_log();
        h.write("a.toml", &format!("# only a comment changed\n\n{}", policy("a", "30s")));
        assert_eq!(next(seen).result, "applied");
        assert!(
            h.kernel.log().is_empty(),
            "a comment-only edit writes nothing: {:?}",
            h.kernel.log()
        );
    });
}

#[test]
fn deleting_a_file_stops_only_its_kdamond_and_recreating_restarts_it() {
    let h = Harness::new();
    h.write("a.toml", &policy("a", "10s"));
    h.write("b.toml", &policy("b", "10s"));
    h.run(false, |_, seen| {
        next(seen);
        let pid_a = h.kernel.get("kdamonds/0/pid").unwrap();
        fs::remove_file(h.policies().join("b.toml")).unwrap();
        next(seen);
        assert_eq!(h.kernel.get("kdamonds/1/state").as_deref(), Some("off"));
        assert_eq!(h.kernel.get("kdamonds/0/pid").unwrap(), pid_a);
        h.write("b.toml", &policy("b", "10s"));
        next(seen);
        assert_eq!(h.kernel.get("kdamonds/1/state").as_deref(), Some("on"));
    });
}

#[test]
fn many_files_at_once_is_one_reconcile() {
    // As `git checkout` does it: each file written aside and renamed into place, all within
    // the service's default debounce (a busy test machine may pause the writer for longer
    // than the 50 ms the other tests use).
    let h = Harness {
        debounce: Duration::from_millis(200),
        ..Harness::new()
    };
    h.run(false, |_, seen| {
        next(seen);
        for i in 0..40 {
            h.write(&format!(".p{i:02}.toml.tmp"), &policy(&format!("p{i:02}"), "10s"));
        }
        for i in 0..40 {
            fs::rename(
                h.policies().join(format!(".p{i:02}.toml.tmp")),
                h.policies().join(format!("p{i:02}.toml")),
            )
            .unwrap();
        }
        let s = next(seen);
        assert_eq!((s.cause, s.result), (Cause::Files, "applied"));
        nothing_more(seen);
        assert_eq!(h.kernel.get("kdamonds/nr_kdamonds").as_deref(), Some("40"));
    });
}

/// Kubernetes updates a ConfigMap volume by renaming a new `..data` symlink over the old.
#[test]
fn configmap_data_swap() {
    let h = Harness::new();
    let dir = h.policies();
    let stage = |version: &str, age: &str| {
        let data = dir.join(format!("..2026_11_25_{version}"));
        fs::create_dir(&data).unwrap();
        fs::write(data.join("a.toml"), policy("a", age)).unwrap();
        data
    };
    let first = stage("01", "10s");
    std::os::unix::fs::symlink(first.file_name().unwrap(), dir.join("..data")).unwrap();
    std::os::unix::fs::symlink("..data/a.toml", dir.join("a.toml")).unwrap();
    h.run(false, |_, seen| {
        assert_eq!(next(seen).result, "applied");
        assert_eq!(h.age_min(0).as_deref(), Some("100"));
        let second = stage("02", "40s");
        std::os::unix::fs::symlink(second.file_name().unwrap(), dir.join("..data_tmp")).unwrap();
        fs::rename(dir.join("..data_tmp"), dir.join("..data")).unwrap();
        fs::remove_dir_all(&first).unwrap();
        let s = next(seen);
        assert_eq!(s.result, "applied");
        assert_eq!(h.age_min(0).as_deref(), Some("400"));
    });
}

#[test]
fn directory_removed_keeps_last_good_and_recreated_applies() {
    let h = Harness::new();
    h.write("a.toml", &policy("a", "10s"));
    h.run(false, |_, seen| {
        next(seen);
        fs::remove_dir_all(h.policies()).unwrap();
        let s = next(seen);
        assert_eq!(s.result, "unreadable");
        assert_eq!(
            h.kernel.get("kdamonds/0/state").as_deref(),
            Some("on"),
            "the last good state keeps running"
        );
        fs::create_dir(h.policies()).unwrap();
        h.write("a.toml", &policy("a", "50s"));
        // Creating the directory and the file may come as one batch or two.
        let mut last = next(seen);
        while h.age_min(0).as_deref() != Some("500") {
            last = next(seen);
        }
        assert_eq!(last.result, "applied");
    });
}

#[test]
fn bad_edit_changes_nothing_then_good_edit_applies() {
    let h = Harness::new();
    h.write("a.toml", &policy("a", "10s"));
    h.run(false, |_, seen| {
        next(seen);
        h.kernel.clear_log();
        h.write("a.toml", &policy("a", "10s").replace("pageout", "pagout"));
        assert_eq!(next(seen).result, "invalid");
        assert!(h.kernel.log().is_empty(), "an invalid edit writes nothing");
        let status: ServiceStatus =
            serde_json::from_str(&fs::read_to_string(h.dir.path().join("state").join(STATUS_FILE)).unwrap()).unwrap();
        assert_eq!(status.result, "invalid");
        assert!(
            status.errors[0]["message"].as_str().unwrap().contains("pagout"),
            "{:?}",
            status.errors
        );
        assert_eq!(status.errors[0]["line"], 6);
        h.write("a.toml", &policy("a", "60s"));
        assert_eq!(next(seen).result, "applied");
        assert_eq!(h.age_min(0).as_deref(), Some("600"));
    });
}

/// A file of more findings than the cap: the status file lists the first of them and counts
/// the rest, as the terminal does, rather than grow with the file.
#[test]
fn status_file_lists_at_most_the_capped_findings_of_a_file() {
    let h = Harness::new();
    h.write("a.toml", &policy("a", "10s"));
    h.run(false, |_, seen| {
        next(seen);
        let unknown: String = (0..1500).map(|i| format!("unknown_{i} = 1\n")).collect();
        h.write("a.toml", &format!("{unknown}{}", policy("a", "10s")));
        assert_eq!(next(seen).result, "invalid");
        let status = status_file(&h);
        assert_eq!(status.errors.len(), crate::diag::cap::SHOWN_PER_FILE);
        assert_eq!(status.not_shown.len(), 1, "{:?}", status.not_shown);
        assert_eq!(
            (status.not_shown[0].errors, status.not_shown[0].warnings),
            (1500 - crate::diag::cap::SHOWN_PER_FILE, 0)
        );
    });
}

#[test]
fn overflow_rescans_and_sighup_reloads() {
    let h = Harness::new();
    h.write("a.toml", &policy("a", "10s"));
    h.run(false, |tx, seen| {
        next(seen);
        tx.send(Event::Overflow).unwrap();
        assert_eq!(next(seen).cause, Cause::Rescan);
        tx.send(Event::Reload).unwrap();
        assert_eq!(next(seen).cause, Cause::Signal);
    });
}

#[test]
fn exit_leaves_policies_running_unless_asked() {
    let h = Harness::new();
    h.write("a.toml", &policy("a", "10s"));
    h.run(false, |_, seen| {
        next(seen);
    });
    assert_eq!(h.kernel.get("kdamonds/0/state").as_deref(), Some("on"));
    let h = Harness::new();
    h.write("a.toml", &policy("a", "10s"));
    h.run(true, |_, seen| {
        next(seen);
    });
    assert_eq!(h.kernel.get("kdamonds/0/state").as_deref(), Some("off"));
}

fn status_file(h: &Harness) -> ServiceStatus {
    serde_json::from_str(&fs::read_to_string(h.dir.path().join("state").join(STATUS_FILE)).unwrap()).unwrap()
}

/// A change the kernel refuses: the status file says what was refused, why, and that the
/// previous configuration runs again.
#[test]
fn a_refused_change_is_reported_with_its_cause_and_the_restore() {
    let h = Harness::new();
    h.write("a.toml", &policy("a", "10s"));
    h.run(false, |_, seen| {
        next(seen);
        h.kernel.fail_next_write(
            "kdamonds/0/contexts/0/schemes/0/access_pattern/age/min",
            crate::sysfs::errno::EINVAL,
        );
        h.write("a.toml", &policy("a", "20s"));
        assert_eq!(next(seen).result, "failed");
        let message = status_file(&h).message.unwrap_or_default();
        assert!(
            message
                .contains("the kernel refused `200` written to kdamonds/0/contexts/0/schemes/0/access_pattern/age/min"),
            "{message}"
        );
        assert!(
            message.contains("; cause: ")
                && message.ends_with("the previous configuration is restored; 1 write(s) were made"),
            "{message}"
        );
        assert_eq!(h.age_min(0).as_deref(), Some("100"));
    });
}

/// The status file outlives the service: on exit it says so.
#[test]
fn the_status_file_says_when_the_service_exited() {
    let h = Harness::new();
    h.write("a.toml", &policy("a", "10s"));
    h.run(false, |_, seen| {
        next(seen);
        assert_eq!(status_file(&h).exited, None);
    });
    let status = status_file(&h);
    assert!(status.exited.is_some() && status.result == "applied", "{status:?}");
}
