//! Hostile sizes: `check` and `compile` stay linear in the size of the input and the number
//! of findings, and show at most the capped number of findings of a file, counting the rest.
//!
//! Each kind of input is generated at a size and at four times that size. A linear command
//! takes at most four times as long on the larger one (less, with the start-up both share);
//! one that costs the square of its findings takes sixteen. The check allows eight, and
//! measures again (keeping the fastest of each) before it fails, so a busy machine does not
//! fail it. The sizes compared are small enough for a debug build to run every kind in a few
//! seconds, and large enough for each kind to pass the cap; one kind is also run at 1 MB, the
//! size limit of a policy file.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::{Run, run};

/// The smaller of the two sizes compared.
const SMALL_BYTES: usize = 32 << 10;

/// The largest input: just under a policy file's size limit (1 MiB).
const LARGE_BYTES: usize = 1000 << 10;

/// Longest a run may take on any of these inputs, even in a debug build on a slow machine.
const BOUND: Duration = Duration::from_secs(30);

/// How much longer four times the input may take. A linear command takes 2-3 times as long
/// here (start-up is a fixed cost); the placing of findings, when it was quadratic, took 8.4
/// times as long on unknown keys in a debug build: the bound must sit between the two.
const MAX_RATIO: f64 = 6.0;

/// Measurements before a ratio above [`MAX_RATIO`] fails the test.
const ATTEMPTS: usize = 5;

/// The start of the cap's note, which `check` and `compile` print beside the findings.
const CAP_NOTE: &str = "more findings not shown";

/// A kind of input: fixed text, then a unit repeated up to a size (`unit(i)` is the `i`th),
/// then fixed text again.
struct Kind {
    name: &'static str,
    head: &'static str,
    unit: fn(usize) -> String,
    tail: &'static str,
}

impl Kind {
    /// The input, about `bytes` long.
    fn text(&self, bytes: usize) -> String {
        let mut text = String::from(self.head);
        let mut i = 0;
        while text.len() + self.tail.len() < bytes {
            text.push_str(&(self.unit)(i));
            i += 1;
        }
        text.push_str(self.tail);
        text
    }
}

/// Unknown keys at the top of the file: one error each.
const UNKNOWN_KEYS: Kind = Kind {
    name: "unknown-keys",
    head: "name = \"big\"\n",
    unit: |i| format!("k{i} = 1\n"),
    tail: "[target]\nphysical = true\n",
};

/// A valid policy whose every filter is warned about (evaluated by paddr only).
const WARNED_FILTERS: Kind = Kind {
    name: "warned-filters",
    head: "name = \"big\"\n[target]\npids = [1]\n[[scheme]]\naction = \"stat\"\n",
    unit: |_| "[[scheme.filter]]\ntype = \"anon\"\n".to_owned(),
    tail: "",
};

/// Long values, each echoed in its finding.
const LONG_VALUES: Kind = Kind {
    name: "long-values",
    head: "name = \"big\"\n[target]\nphysical = true\n",
    unit: |i| format!("[[scheme]]\naction = \"{i}{}\"\n", "x".repeat(500)),
    tail: "",
};

/// Nested values of the wrong type, deep in inline tables.
const DEEP_VALUES: Kind = Kind {
    name: "deep-values",
    head: "name = \"big\"\n[target]\nphysical = true\n",
    unit: |i| format!("[[scheme]]\naction = \"stat\"\naccess_pattern = {{ size = {{ min = [[[[[[[[{i}]]]]]]]] }} }}\n"),
    tail: "",
};

/// Inline tables the schema accepts and a rule refuses: a range with `min > max`.
const INLINE_TABLES: Kind = Kind {
    name: "inline-tables",
    head: "name = \"big\"\n[target]\nphysical = true\n",
    unit: |_| {
        "[[scheme]]\naction = \"stat\"\naccess_pattern = { size = { min = \"8KiB\", max = \"4KiB\" } }\n".to_owned()
    },
    tail: "",
};

/// One line holding every finding: an inline table of unknown keys.
const LONG_LINE: Kind = Kind {
    name: "long-line",
    head: "name = \"big\"\n[target]\nphysical = true\n[[scheme]]\naction = \"stat\"\nquota = { ",
    unit: |i| format!("k{i} = 1, "),
    tail: "z = 1 }\n",
};

/// Runs `args` on the input, timed; checks what every run must hold.
fn timed(dir: &Path, kind: &Kind, file: &str, args: &[&str]) -> (Duration, Run) {
    let mut full = args.to_vec();
    full.push(file);
    let start = Instant::now();
    let result = run(dir, &full);
    let took = start.elapsed();
    let what = format!("{} {:?} on {file}", kind.name, args);
    assert!(took < BOUND, "{what} took {took:?}");
    assert!(!result.stderr.contains("panicked"), "{what}: {}", result.stderr);
    assert!(
        matches!(result.code, 0 | 1),
        "{what}: exit {}\n{}",
        result.code,
        result.stderr
    );
    (took, result)
}

/// `args` on `small` and on `large` (four times its size): the times, fastest of the
/// attempts so far, until the ratio is within bounds or the attempts are spent. Returns the
/// last run on `large`.
fn assert_linear(dir: &Path, kind: &Kind, args: &[&str]) -> Run {
    let mut small = Duration::MAX;
    let mut large = Duration::MAX;
    let mut log = String::new();
    for _ in 0..ATTEMPTS {
        small = small.min(timed(dir, kind, "small.toml", args).0);
        let (took, result) = timed(dir, kind, "large.toml", args);
        large = large.min(took);
        let ratio = large.as_secs_f64() / small.as_secs_f64();
        let _ = writeln!(log, "{small:?} -> {large:?}: {ratio:.1}x");
        if ratio < MAX_RATIO {
            return result;
        }
    }
    panic!(
        "{} {args:?}: four times the input took more than {MAX_RATIO} times as long:\n{log}",
        kind.name
    );
}

/// The kind at the small size and four times it (the larger is also checked and compiled
/// with the `largest` size when given): `check` and `compile` show at most the capped number
/// of findings and say how many more there are.
fn scales(kind: &Kind, largest: Option<usize>) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("small.toml"), kind.text(SMALL_BYTES)).unwrap();
    std::fs::write(dir.path().join("large.toml"), kind.text(4 * SMALL_BYTES)).unwrap();
    let large = assert_linear(dir.path(), kind, &["check"]);

    let (capped, text) = match largest {
        Some(bytes) => {
            std::fs::write(dir.path().join("largest.toml"), kind.text(bytes)).unwrap();
            ("largest.toml", timed(dir.path(), kind, "largest.toml", &["check"]).1)
        }
        None => ("large.toml", large),
    };
    assert!(text.stdout.contains(CAP_NOTE), "{}: no cap note in check", kind.name);
    let shown = text
        .stdout
        .lines()
        .filter(|l| l.starts_with("error[") || l.starts_with("warning["))
        .count();
    assert_eq!(shown, 1000, "{}: findings shown", kind.name);
    let (_, compiled) = timed(dir.path(), kind, capped, &["compile"]);
    assert!(
        compiled.stderr.contains(CAP_NOTE),
        "{}: no cap note in compile",
        kind.name
    );
}

#[test]
fn unknown_keys_scale() {
    scales(&UNKNOWN_KEYS, None);
}

#[test]
fn warned_filters_scale() {
    scales(&WARNED_FILTERS, None);
}

#[test]
fn long_values_scale() {
    scales(&LONG_VALUES, Some(LARGE_BYTES));
}

#[test]
fn deep_values_scale() {
    scales(&DEEP_VALUES, None);
}

#[test]
fn inline_tables_scale() {
    scales(&INLINE_TABLES, None);
}

#[test]
fn a_long_line_scales() {
    scales(&LONG_LINE, None);
}

/// `--format json` lists the findings shown and counts the rest, per file, beside the true
/// totals.
#[test]
fn json_counts_the_findings_not_shown() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("large.toml"), UNKNOWN_KEYS.text(4 * SMALL_BYTES)).unwrap();
    let (_, result) = timed(dir.path(), &UNKNOWN_KEYS, "large.toml", &["check", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&result.stdout).unwrap();
    let errors = report["errors"].as_u64().unwrap();
    assert!(errors > 10_000, "{errors} errors");
    assert_eq!(report["diagnostics"].as_array().unwrap().len(), 1000);
    let not_shown = &report["not_shown"][0];
    assert_eq!(not_shown["file"], "large.toml");
    assert_eq!(not_shown["errors"].as_u64().unwrap(), errors - 1000);
    assert_eq!(not_shown["warnings"], 0);
}
