//! Large input stays linear: about 1 MB of valid or of bad one-line schemes, and large
//! kdamonds trees, finish within bounds meant for a debug build on a slow, busy machine,
//! and four times the input takes less than eight times as long (linear is four; a square
//! would be sixteen). A translation larger than a policy file may be is refused with the
//! reason, and one just under the limit passes `check`.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::{Run, run};

/// Generous: a debug build on two shared cores.
const BOUND: Duration = Duration::from_secs(60);

/// Measurements of both sizes before a ratio above eight fails the test: on a loaded machine
/// one slow run is noise, not quadratic time.
const ATTEMPTS: usize = 5;

/// Runs `args` in `dir`, timed; checks what every run must hold.
fn timed(dir: &Path, args: &[&str]) -> (Run, Duration) {
    let start = Instant::now();
    let result = run(dir, args);
    let took = start.elapsed();
    assert!(took < BOUND, "{args:?} took {took:?}");
    assert!(!result.stderr.contains("panicked"), "{}", result.transcript());
    (result, took)
}

/// The time of `args` on the input `make(n)` (in `small/`) and on `make(4 n)` (in `large/`),
/// both written to `name`: the fastest of the attempts so far, until four times the input
/// takes less than eight times as long.
fn linear(dir: &Path, name: &str, n: usize, make: impl Fn(usize) -> String, args: &[&str]) -> (Run, Run) {
    let (small_dir, large_dir) = (dir.join("small"), dir.join("large"));
    for (sub, units) in [(&small_dir, n), (&large_dir, 4 * n)] {
        fs::create_dir_all(sub).unwrap();
        fs::write(sub.join(name), make(units)).unwrap();
    }
    let (mut small_time, mut large_time) = (Duration::MAX, Duration::MAX);
    let mut log = String::new();
    for _ in 0..ATTEMPTS {
        let (small, took) = timed(&small_dir, args);
        small_time = small_time.min(took);
        let (large, took) = timed(&large_dir, args);
        large_time = large_time.min(took);
        // A fixed cost (start-up) only lowers the ratio; 10 ms absorbs timer granularity.
        let ratio = large_time.as_secs_f64() / small_time.as_secs_f64().max(0.01);
        log.push_str(&format!(
            "{small_time:?} for {n} units, {large_time:?} for {} ({ratio:.1}×)\n",
            4 * n
        ));
        if ratio < 8.0 {
            return (small, large);
        }
    }
    panic!("{args:?}: not linear:\n{log}");
}

fn lines(line: &str, count: usize) -> String {
    format!("{line}\n").repeat(count)
}

#[test]
fn translate_of_bad_lines_is_linear() {
    let dir = tempfile::tempdir().unwrap();
    let bad = "4K max min min 5s max bogus";
    // 4 × 8,750 lines of 28 bytes: about 1 MB.
    let (_, large) = linear(
        dir.path(),
        "bad.damos",
        8_750,
        |n| lines(bad, n),
        &["translate", "bad.damos"],
    );
    assert_eq!(large.code, 1, "{}", large.stderr);
    assert!(large.stdout.is_empty());
    // Every finding is counted; the first thousand are shown.
    assert!(
        large.stderr.contains("35000 errors, 0 warnings: nothing written"),
        "{}",
        tail(&large.stderr)
    );
    assert!(
        large
            .stderr
            .contains("bad.damos: 34000 more findings not shown (34000 errors, 0 warnings)"),
        "{}",
        tail(&large.stderr)
    );
    assert_eq!(large.stderr.matches("error[legacy-value]").count(), 1000);
}

#[test]
fn translate_of_valid_lines_is_linear_and_fits_a_policy_file() {
    let dir = tempfile::tempdir().unwrap();
    let good = "4K max 5 max 5s max pageout";
    // 4,000 schemes translate to about 750 KB: under the 1 MiB a policy file may be.
    let (small, large) = linear(
        dir.path(),
        "good.damos",
        1_000,
        |n| lines(good, n),
        &["translate", "good.damos"],
    );
    assert_eq!((small.code, large.code), (0, 0), "{}", large.stderr);
    assert_eq!(large.stdout.matches("[[scheme]]").count(), 4_000);
    fs::write(dir.path().join("out.toml"), &large.stdout).unwrap();
    let checked = run(dir.path(), &["check", "out.toml"]);
    assert_eq!(checked.code, 0, "{}", checked.transcript());
}

#[test]
fn translate_refuses_a_policy_larger_than_a_policy_file() {
    let dir = tempfile::tempdir().unwrap();
    // About 1 MB of valid lines would be a 6 MB policy: refused, with the reason and a way out.
    fs::write(
        dir.path().join("big.damos"),
        lines("4K max min min 5s max pageout", 33_000),
    )
    .unwrap();
    let (refused, _) = timed(dir.path(), &["translate", "big.damos", "-o", "big.toml"]);
    assert_eq!(refused.code, 1, "{}", refused.transcript());
    assert!(!dir.path().join("big.toml").exists());
    let stderr = &flat(&refused.stderr);
    assert!(stderr.contains("error[file-too-large]"), "{stderr}");
    assert!(
        stderr.contains("(33000 schemes), larger than the 1 MiB a policy file may be"),
        "{stderr}"
    );
    assert!(stderr.contains("split the input into files of at most"), "{stderr}");
    // Located at the first scheme that does not fit, which is also the number that do.
    let fitting: usize = stderr
        .split("of at most ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("the number of schemes that fit");
    assert!(stderr.contains(&format!("big.damos:{}:1", fitting + 1)), "{stderr}");
    // And that many do fit: their translation passes `check`.
    fs::write(
        dir.path().join("part.damos"),
        lines("4K max min min 5s max pageout", fitting),
    )
    .unwrap();
    let part = run(dir.path(), &["translate", "part.damos", "-o", "part.toml"]);
    assert_eq!(part.code, 0, "{}", part.transcript());
    let checked = run(dir.path(), &["check", "part.toml"]);
    assert_eq!(checked.code, 0, "{}", checked.transcript());
}

/// The rendered text as one line: words only, without the frame's wrapping.
fn flat(text: &str) -> String {
    text.split_whitespace()
        .filter(|w| *w != "│")
        .collect::<Vec<_>>()
        .join(" ")
}

/// damo's kdamonds tree, printed for people: `contexts` contexts of `schemes` schemes, each
/// of one target with `regions` regions; `action` is every scheme's.
fn kdamonds(contexts: usize, schemes: usize, regions: usize, action: &str) -> String {
    let scheme = serde_json::json!({
        "action": action,
        "access_pattern": {
            "sz_bytes": {"min": "4.000 KiB", "max": "max"},
            "nr_accesses": {"min": "0 %", "max": "0 %"},
            "age": {"min": "5 s", "max": "max"},
        },
        "quotas": {
            "time_ms": "10 ms", "sz_bytes": "1.000 GiB", "reset_interval_ms": "1 s",
            "weights": {"sz_permil": "0 %", "nr_accesses_permil": "0 %", "age_permil": "0 %"},
        },
        "watermarks": {"metric": "none", "interval_us": "0 ns", "high_permil": "0 %", "mid_permil": "0 %", "low_permil": "0 %"},
    });
    let regions: Vec<_> = (0..regions as u64)
        .map(|r| serde_json::json!({"start": (8192 * r).to_string(), "end": (8192 * r + 4096).to_string()}))
        .collect();
    let contexts: Vec<_> = (0..contexts)
        .map(|c| {
            serde_json::json!({
                "ops": "vaddr",
                "targets": [{"pid": 100 + c, "regions": regions}],
                "intervals": {"sample_us": "5 ms", "aggr_us": "100 ms", "ops_update_us": "1 s"},
                "nr_regions": {"min": "10", "max": "1,000"},
                "schemes": vec![scheme.clone(); schemes],
            })
        })
        .collect();
    serde_json::to_string_pretty(
        &serde_json::json!({"kdamonds": [{"state": "off", "pid": null, "contexts": contexts}]}),
    )
    .unwrap()
}

#[test]
fn import_of_a_large_kdamonds_tree_is_linear() {
    let dir = tempfile::tempdir().unwrap();
    let import = ["import", "kdamonds.json"];
    // Many contexts (each a policy), many schemes in one context, many regions: about 1.5 MB
    // each at 4n.
    let (_, contexts) = linear(
        dir.path(),
        "kdamonds.json",
        100,
        |n| kdamonds(n, 5, 1, "pageout"),
        &import,
    );
    assert_eq!(contexts.code, 0, "{}", tail(&contexts.stderr));
    assert_eq!(contexts.stdout.matches("# ---- ").count(), 400);
    let (_, schemes) = linear(
        dir.path(),
        "kdamonds.json",
        600,
        |n| kdamonds(1, n, 1, "pageout"),
        &import,
    );
    assert_eq!(schemes.code, 0, "{}", tail(&schemes.stderr));
    assert_eq!(schemes.stdout.matches("[[scheme]]").count(), 2_400);
    let (_, regions) = linear(
        dir.path(),
        "kdamonds.json",
        5_000,
        |n| kdamonds(1, 1, n, "pageout"),
        &import,
    );
    assert_eq!(regions.code, 0, "{}", tail(&regions.stderr));
    // A finding on every scheme.
    let (_, bad) = linear(
        dir.path(),
        "kdamonds.json",
        600,
        |n| kdamonds(1, n, 1, "bogus"),
        &import,
    );
    assert_eq!(bad.code, 1);
    assert!(
        bad.stderr.contains("2400 errors, 0 warnings: nothing written"),
        "{}",
        tail(&bad.stderr)
    );
}

#[test]
fn import_refuses_a_policy_larger_than_a_policy_file() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("kdamonds.json"), kdamonds(1, 6_000, 1, "pageout")).unwrap();
    let (refused, _) = timed(dir.path(), &["import", "kdamonds.json", "-o", "out"]);
    assert_eq!(refused.code, 1, "{}", refused.transcript());
    assert!(!dir.path().join("out").exists());
    let stderr = flat(&refused.stderr);
    assert!(stderr.contains("error[file-too-large]"), "{stderr}");
    assert!(
        stderr.contains("(6000 schemes), larger than the 1 MiB a policy file may be"),
        "{stderr}"
    );
}

/// The end of a long output, for a failure message.
fn tail(text: &str) -> &str {
    let start = text.len().saturating_sub(2_000);
    let start = (start..text.len()).find(|i| text.is_char_boundary(*i)).unwrap_or(0);
    &text[start..]
}
