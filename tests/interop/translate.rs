//! `damo-policy translate`: the policy text of each legacy fixture and the diagnostics of
//! each mistake, snapshotted; translated policies pass `check`; `-o` and standard input.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::common::{Run, damo_fixtures, fixture_args, run};

fn legacy_fixtures() -> PathBuf {
    damo_fixtures().join("legacy")
}

fn translate_fixture(name: &str) -> Run {
    let dir = legacy_fixtures();
    let text = fs::read_to_string(dir.join(name)).unwrap();
    let mut args = vec!["translate".to_owned(), name.to_owned()];
    args.extend(fixture_args(&text));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run(&dir, &args)
}

/// Each valid fixture translates (exit 0) into a policy that `check` accepts.
#[test]
fn valid_fixtures_translate_and_pass_check() {
    for name in ["ethp.damos", "every-variant.damos", "tokens.damos"] {
        let result = translate_fixture(name);
        assert_eq!(result.code, 0, "{name}:\n{}", result.transcript());
        assert!(result.stdout.starts_with("#:schema "), "{name}");
        let dir = tempfile::tempdir().unwrap();
        let policy = dir.path().join(name.replace(".damos", ".toml"));
        fs::write(&policy, &result.stdout).unwrap();
        let checked = run(dir.path(), &["check", policy.file_name().unwrap().to_str().unwrap()]);
        assert_eq!(
            checked.code,
            0,
            "{name}: translated policy fails check:\n{}",
            checked.transcript()
        );
        insta::assert_snapshot!(name, result.transcript());
    }
}

/// Without a target the policy monitors physical memory and says so; with `--physical`,
/// it does not need to.
#[test]
fn default_target_is_physical_memory() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("reclaim.damos"), "4K max min min 5s max pageout\n").unwrap();
    let implicit = run(dir.path(), &["translate", "reclaim.damos"]);
    assert!(implicit.stdout.contains("physical = true"), "{}", implicit.transcript());
    assert!(implicit.stdout.contains("No target was given"));
    let explicit = run(dir.path(), &["translate", "reclaim.damos", "--physical"]);
    assert!(!explicit.stdout.contains("No target was given"));
    let pids = run(
        dir.path(),
        &[
            "translate",
            "reclaim.damos",
            "--pid",
            "7",
            "--pid",
            "9",
            "--name",
            "reclaim",
        ],
    );
    assert!(
        pids.stdout.contains("pids = [7, 9]") && pids.stdout.contains("name = \"reclaim\""),
        "{}",
        pids.transcript()
    );
}

/// Every mistake of a file is reported at once, located on the legacy line, exit 1.
#[test]
fn mistakes_are_reported_together() {
    for name in ["mistakes.damos", "semantic.damos"] {
        let result = translate_fixture(name);
        assert_eq!(result.code, 1, "{name}:\n{}", result.transcript());
        assert!(result.stdout.is_empty(), "{name}: nothing may be printed as a policy");
        for block in result.stderr.split("\n\n").filter(|b| b.contains(" × ")) {
            assert!(
                block.contains(&format!("{name}:")),
                "{name}: a diagnostic without its location:\n{block}"
            );
        }
        insta::assert_snapshot!(name, result.transcript());
    }
}

/// `-o` writes the file only when the translation succeeds, and never leaves a broken one.
#[test]
fn output_file_only_on_success() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("good.damos"), "4K max min min 5s max pageout\n").unwrap();
    fs::write(dir.path().join("bad.damos"), "4K max min min 5s max\n").unwrap();
    let ok = run(dir.path(), &["translate", "good.damos", "-o", "good.toml"]);
    assert_eq!(ok.code, 0, "{}", ok.transcript());
    assert!(ok.stdout.is_empty());
    assert!(
        fs::read_to_string(dir.path().join("good.toml"))
            .unwrap()
            .starts_with("#:schema ")
    );
    let failed = run(dir.path(), &["translate", "bad.damos", "-o", "new.toml"]);
    assert_eq!(failed.code, 1);
    assert!(!dir.path().join("new.toml").exists(), "no file on failure");
    fs::write(dir.path().join("kept.toml"), "keep me").unwrap();
    let failed = run(dir.path(), &["translate", "bad.damos", "-o", "kept.toml"]);
    assert_eq!(failed.code, 1);
    assert_eq!(fs::read_to_string(dir.path().join("kept.toml")).unwrap(), "keep me");
    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

/// Runs the binary with `stdin` as standard input.
pub fn run_with_stdin(cwd: &Path, args: &[&str], stdin: &[u8]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_damo-policy"))
        .args(args)
        .current_dir(cwd)
        .env_clear()
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let output = child.wait_with_output().unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[test]
fn standard_input() {
    let dir = tempfile::tempdir().unwrap();
    let ok = run_with_stdin(
        dir.path(),
        &["translate", "-", "--pid", "1"],
        b"min max 5 max min max hugepage\n",
    );
    assert_eq!(ok.code, 0, "{}", ok.transcript());
    assert!(ok.stdout.contains("from damo's one-line schemes in <stdin>"));
    let bad = run_with_stdin(dir.path(), &["translate", "-"], b"min max 5 max min max\n");
    assert_eq!(bad.code, 1);
    assert!(bad.stderr.contains("<stdin>:1:1"), "{}", bad.transcript());
}

/// `--pid 0` (no process) and a repeated `--pid` are refused like `pids = [0]` and
/// `pids = [1, 1]` in a policy, before anything is written.
#[test]
fn pid_zero_and_repeated_pids_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.damos"), "4K max min min 5s max pageout\n").unwrap();
    let zero = run(dir.path(), &["translate", "a.damos", "--pid", "0", "-o", "zero.toml"]);
    assert_eq!(zero.code, 1, "{}", zero.transcript());
    assert!(
        zero.stderr
            .contains("`target.pids[0]` is `0`, out of range: at least 1"),
        "{}",
        zero.transcript()
    );
    assert!(zero.stderr.contains("pid 0 is no process"), "{}", zero.transcript());
    let twice = run(
        dir.path(),
        &["translate", "a.damos", "--pid", "5", "--pid", "5", "-o", "twice.toml"],
    );
    assert_eq!(twice.code, 1, "{}", twice.transcript());
    assert!(twice.stderr.contains("pid 5 is listed twice"), "{}", twice.transcript());
    assert!(!dir.path().join("zero.toml").exists() && !dir.path().join("twice.toml").exists());
}

/// Where damo's float arithmetic rounds a value down, the policy keeps the exact value and a
/// warning on the field names damo's (`4.1s` of age: 41 aggregation intervals, damo 40;
/// `1.001s` of quota time: 1001 ms, damo 1000). Values damo computes exactly draw none.
#[test]
fn values_damo_rounds_are_kept_exact_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("rounded.damos"),
        "# damo rounds two fields of the second scheme\n4K max min min 5s max pageout\n\
         4K max min min 4.1s max pageout 1.001s 1G 1s 0 0 0 none 0 0 0 0\n",
    )
    .unwrap();
    let result = run(dir.path(), &["translate", "rounded.damos", "--physical"]);
    assert_eq!(result.code, 0, "{}", result.transcript());
    assert!(
        result.stdout.contains("access_pattern.age = { min = \"4100ms\" }"),
        "{}",
        result.stdout
    );
    assert!(result.stdout.contains("time = \"1001ms\""), "{}", result.stdout);
    insta::assert_snapshot!(result.stderr);
}

/// damo opens the scheme file in Python's text mode, whose universal newlines end a line at
/// `\r\n` and at a lone `\r` as at `\n`: a file with old Mac line ends is one scheme a line,
/// as damo reads it, and findings name those lines.
#[test]
fn carriage_returns_end_lines_as_in_damo() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("mac.damos"),
        "# old Mac line ends\r4K max min min 5s max pageout\r\r2M max 5 max 1s max PAGEOUT\r",
    )
    .unwrap();
    let result = run(dir.path(), &["translate", "mac.damos", "--physical"]);
    assert_eq!(result.code, 0, "{}", result.transcript());
    assert_eq!(result.stdout.matches("[[scheme]]").count(), 2, "{}", result.stdout);
    assert!(
        result.stdout.contains("# damo: 2M max 5 max 1s max PAGEOUT\n"),
        "{}",
        result.stdout
    );
    fs::write(
        dir.path().join("mixed.damos"),
        "4K max min min 5s max pageout\r\n4K max min min 5s max bogus\r4K max\n",
    )
    .unwrap();
    let bad = run(dir.path(), &["translate", "mixed.damos", "--physical"]);
    assert_eq!(bad.code, 1, "{}", bad.transcript());
    assert!(bad.stderr.contains("mixed.damos:2:23"), "{}", bad.stderr);
    assert!(bad.stderr.contains("mixed.damos:3:1"), "{}", bad.stderr);
    assert!(bad.stderr.contains("2 errors, 0 warnings"), "{}", bad.stderr);
}
