//! Input that is not a policy at all: each gets a clear message and exit 1 or 2, and
//! nothing panics. Files are made at test time in a temporary directory.

use std::fs;
use std::path::Path;

use crate::common::run;

/// Runs `check` on `target` inside `dir` and snapshots the transcript.
fn check_snapshot(dir: &Path, args: &[&str], expected_code: i32) -> String {
    let mut full = vec!["check"];
    full.extend_from_slice(args);
    let result = run(dir, &full);
    assert_eq!(result.code, expected_code, "{}", result.transcript());
    assert!(!result.stderr.contains("panicked"), "{}", result.transcript());
    result.transcript()
}

#[test]
fn binary_file() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("blob.toml"), b"\x7fELF\x02\x01\x01\0\0\0garbage").unwrap();
    insta::assert_snapshot!(check_snapshot(dir.path(), &["blob.toml"], 1));
}

#[test]
fn non_utf8_file() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("latin1.toml"), b"[target]\nprocess = \"caf\xe9\"\n").unwrap();
    insta::assert_snapshot!(check_snapshot(dir.path(), &["latin1.toml"], 1));
}

#[test]
fn hundred_megabyte_file() {
    let dir = tempfile::tempdir().unwrap();
    // Sparse: 100 MB of zeros without writing them.
    fs::File::create(dir.path().join("huge.toml"))
        .unwrap()
        .set_len(100 << 20)
        .unwrap();
    insta::assert_snapshot!(check_snapshot(dir.path(), &["huge.toml"], 1));
}

#[test]
fn deeply_nested_document() {
    let dir = tempfile::tempdir().unwrap();
    let deep = format!("a = {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    fs::write(dir.path().join("arrays.toml"), deep).unwrap();
    let tables = format!("[{}]\nx = 1\n", vec!["t"; 20_000].join("."));
    fs::write(dir.path().join("tables.toml"), tables).unwrap();
    insta::assert_snapshot!(check_snapshot(dir.path(), &["arrays.toml", "tables.toml"], 1));
}

#[test]
fn unreadable_entries() {
    let dir = tempfile::tempdir().unwrap();
    // A directory and a FIFO with policy names: neither can be read as a file, and a
    // FIFO must not block the run.
    fs::create_dir(dir.path().join("dir.toml")).unwrap();
    let fifo = std::process::Command::new("mkfifo")
        .arg(dir.path().join("pipe.toml"))
        .status();
    if !fifo.is_ok_and(|s| s.success()) {
        fs::write(dir.path().join("pipe.toml"), "").unwrap();
    }
    let result = run(dir.path(), &["check", "."]);
    assert_eq!(result.code, 2, "{}", result.transcript());
    assert!(
        result.stdout.contains("dir.toml: not a regular file"),
        "{}",
        result.stdout
    );
    assert!(
        result.stdout.contains("pipe.toml: not a regular file"),
        "{}",
        result.stdout
    );
    insta::assert_snapshot!(result.transcript());
}

#[test]
fn symlink_loop() {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink("b.toml", dir.path().join("a.toml")).unwrap();
    std::os::unix::fs::symlink("a.toml", dir.path().join("b.toml")).unwrap();
    insta::assert_snapshot!(check_snapshot(dir.path(), &["."], 2));
}

#[test]
fn empty_directory_and_directory_without_policies() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("empty")).unwrap();
    fs::create_dir(dir.path().join("docs")).unwrap();
    fs::write(dir.path().join("docs/README.md"), "# not a policy\n").unwrap();
    insta::assert_snapshot!(check_snapshot(dir.path(), &["empty", "docs"], 2));
}

#[test]
fn missing_path() {
    let dir = tempfile::tempdir().unwrap();
    insta::assert_snapshot!(check_snapshot(dir.path(), &["nowhere.toml"], 2));
}

#[test]
fn empty_file_is_a_policy_without_target() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("empty.toml"), "").unwrap();
    insta::assert_snapshot!(check_snapshot(dir.path(), &["empty.toml"], 1));
}

/// A policy file whose name is not UTF-8 is refused by name (shown lossily), not skipped:
/// skipped, it made a directory look empty, and `apply` would have stopped every policy.
#[test]
fn file_name_not_utf8() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("policies")).unwrap();
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9.toml");
    fs::write(dir.path().join("policies").join(name), "[target]\nprocess = \"cafe\"\n").unwrap();
    let transcript = check_snapshot(dir.path(), &["policies"], 1);
    assert!(
        transcript.contains("policies/caf\u{FFFD}.toml: the file name is not valid UTF-8"),
        "{transcript}"
    );
    assert!(
        transcript.contains(r"mv -- $'policies/caf\xe9.toml' policies/NEW.toml"),
        "{transcript}"
    );
    insta::assert_snapshot!(transcript);
    // `plan` refuses the directory as a whole rather than planning it as empty.
    let root = "fake:7.3:kernel.json";
    let plan = run(
        dir.path(),
        &[
            "plan",
            "policies",
            "--sysfs-root",
            root,
            "--state-dir",
            "state",
            "--module-root",
            "modules",
        ],
    );
    assert_eq!(plan.code, 1, "{}", plan.transcript());
    assert!(
        plan.stdout.contains("not valid UTF-8") || plan.stderr.contains("not valid UTF-8"),
        "{}",
        plan.transcript()
    );
}
