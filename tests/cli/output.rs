//! Standard output that cannot be written: a full device (`/dev/full`) makes every command
//! say so and exit 2 instead of panicking or losing its output silently; a closed pipe
//! (`| head -1`) ends it quietly with its own status.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::{Run, run_to};
use crate::live::{COLD, live, live_args, setup, write};

const FULL: &str = "error: writing to standard output: No space left on device (os error 28)\n";

fn dev_full() -> Stdio {
    fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full")
        .into()
}

/// Standard output whose reader is gone: every write fails with EPIPE. The pipe is the
/// standard input of a `true` that has exited, its only reader.
fn closed_pipe() -> Stdio {
    let mut reader = Command::new("true").stdin(Stdio::piped()).spawn().expect("run true");
    let writer = reader.stdin.take().expect("a pipe");
    reader.wait().expect("true exits");
    writer.into()
}

/// Runs a command of `args` on the directory's fake kernel with stdout at `/dev/full`.
fn live_full(dir: &Path, args: &[&str]) -> Run {
    let full = live_args(dir, "state", args);
    run_to(dir, &full.iter().map(String::as_str).collect::<Vec<_>>(), dev_full())
}

fn assert_reported(what: &str, result: &Run) {
    assert_eq!(result.code, 2, "{what}: {}", result.transcript());
    assert!(result.stderr.contains(FULL), "{what}: {}", result.stderr);
    assert!(!result.stderr.contains("panicked"), "{what}: {}", result.stderr);
}

#[test]
fn every_command_reports_a_full_standard_output() {
    let dir = setup("7.3");
    write(dir.path(), "cold.toml", COLD);
    fs::write(dir.path().join("reclaim.damos"), "4K max min min 5s max pageout\n").unwrap();
    fs::copy(
        crate::common::damo_fixtures().join("json/two-kdamonds.json"),
        dir.path().join("two.json"),
    )
    .unwrap();
    for args in [
        &["schema"][..],
        &["--help"],
        &["--version"],
        &["check", "policies"],
        &["check", "policies", "--format", "json"],
        &["compile", "policies", "--kernel", "7.3"],
        &["compile", "policies", "--kernel", "7.3", "--format", "damo-json"],
        &["translate", "reclaim.damos"],
        &["import", "two.json"],
    ] {
        assert_reported(&args.join(" "), &run_to(dir.path(), args, dev_full()));
    }
    for args in [
        &["kernel"][..],
        &["plan", "policies"],
        &["plan", "policies", "--format", "json"],
    ] {
        assert_reported(&args.join(" "), &live_full(dir.path(), args));
    }
    assert!(!dir.path().join("state/state.json").exists(), "plan applies nothing");
}

#[test]
fn a_lost_apply_report_fails_the_command_but_says_the_apply_happened() {
    for format in ["text", "json"] {
        let dir = setup("7.3");
        write(dir.path(), "cold.toml", COLD);
        let apply = live_full(dir.path(), &["apply", "policies", "--format", format]);
        assert_reported(format, &apply);
        assert!(
            apply.stderr.contains("note: the policies were applied ("),
            "{format}: {}",
            apply.stderr
        );
        // Not the kernel's refusal (3): the kdamond runs and is damo-policy's.
        let status = live(dir.path(), &["status", "--format", "json"]);
        let json: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
        assert_eq!(json["policies"][0]["state"], "on", "{format}: {json}");
        assert_reported("status", &live_full(dir.path(), &["status"]));
        assert_reported(
            "status --format json",
            &live_full(dir.path(), &["status", "--format", "json"]),
        );
        assert_reported("stop", &live_full(dir.path(), &["stop"]));
        let status = live(dir.path(), &["status", "--format", "json"]);
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&status.stdout).unwrap()["policies"][0]["state"],
            "off",
            "stopped all the same"
        );
    }
}

#[test]
fn a_command_that_failed_keeps_its_status_when_its_output_is_lost_too() {
    let dir = setup("7.3");
    write(dir.path(), "bad.toml", &COLD.replace("\"0%\"", "\"zero\""));
    let result = run_to(dir.path(), &["check", "policies"], dev_full());
    assert_eq!(result.code, 1, "still invalid: {}", result.transcript());
    assert!(result.stderr.contains(FULL), "{}", result.stderr);
}

#[test]
fn a_closed_pipe_ends_quietly_with_the_commands_status() {
    let dir = setup("7.3");
    write(dir.path(), "cold.toml", COLD);
    let schema = run_to(dir.path(), &["schema"], closed_pipe());
    assert_eq!(
        (schema.code, schema.stderr.as_str()),
        (0, ""),
        "{}",
        schema.transcript()
    );
    let help = run_to(dir.path(), &["--help"], closed_pipe());
    assert_eq!((help.code, help.stderr.as_str()), (0, ""), "{}", help.transcript());
    write(dir.path(), "bad.toml", &COLD.replace("\"0%\"", "\"zero\""));
    let check = run_to(dir.path(), &["check", "policies"], closed_pipe());
    assert_eq!((check.code, check.stderr.as_str()), (1, ""), "{}", check.transcript());
}
