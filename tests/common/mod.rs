//! What the integration test crates share (each includes this file as its module `common`):
//! the repository's fixture folders, running the `damo-policy` binary in a clean environment,
//! and rendering what it printed for snapshots.

// Each crate uses a part of this module; the rest would be dead code there.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The fixtures directory.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// damo's formats: kdamonds trees as JSON (`json/`) and YAML (`yaml/`), legacy one-line
/// schemes (`legacy/`).
pub fn damo_fixtures() -> PathBuf {
    fixtures().join("damo")
}

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// What one run printed.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Exit status and both streams, as one reviewable text.
    pub fn transcript(&self) -> String {
        let mut out = format!("exit: {}\n", self.code);
        if !self.stdout.is_empty() {
            out.push_str("--- stdout\n");
            out.push_str(&self.stdout);
        }
        if !self.stderr.is_empty() {
            out.push_str("--- stderr\n");
            out.push_str(&self.stderr);
        }
        out
    }
}

/// Runs `damo-policy` in `cwd` with a clean, deterministic environment. The sysfs and
/// host roots point into an empty directory so nothing here can reach the host's DAMON.
pub fn run(cwd: &Path, args: &[&str]) -> Run {
    run_to(cwd, args, Stdio::piped())
}

/// The same, with standard output sent to `stdout` (`/dev/full`, a closed pipe); `stdout`
/// of the result is then empty.
pub fn run_to(cwd: &Path, args: &[&str], stdout: Stdio) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_damo-policy"))
        .args(args)
        .current_dir(cwd)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1")
        .env("DAMO_POLICY_SYSFS_ROOT", cwd.join("no-such-sysfs"))
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .output()
        .expect("run damo-policy");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Extra arguments a fixture asks for in a first-line comment `# args: --kernel 6.12`.
pub fn fixture_args(text: &str) -> Vec<String> {
    text.lines()
        .next()
        .and_then(|line| line.strip_prefix("# args:"))
        .map(|args| args.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default()
}
