//! Real damo reads what `compile --format damo-json` writes: `damo args damon --kdamonds
//! FILE --format json --raw` parses it and prints the same kernel values, and what damo
//! prints for people (`--format json`) imports back to the same kernel values.
//!
//! Needs damo (`pip install damo` into a virtual environment, its `damo` named by
//! `DAMO_POLICY_DAMO`, else found on `PATH`) and root, because `damo args damon` refuses to
//! run without it. damo probes the kernel's DAMON by staging a dummy kdamond, so damo runs
//! in a private mount namespace with an empty tmpfs over `/sys/kernel/mm/damon`: it can
//! neither see nor touch the host's kdamonds. Without damo, root or `unshare`, the test is
//! skipped, loudly (and fails instead with `REQUIRE_DAMO=1`).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::roundtrip::{fake_host, through_damo_json};

fn damo() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("DAMO_POLICY_DAMO") {
        return Ok(PathBuf::from(path));
    }
    std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|dir| dir.join("damo")).find(|p| p.is_file()))
        .ok_or_else(|| "damo is not installed (set DAMO_POLICY_DAMO to its `damo` executable)".to_owned())
}

/// Runs `damo args damon` on `kdamonds`, isolated from the host's DAMON; `Err` to skip.
fn damo_args(damo: &Path, kdamonds: &Path, home: &Path, raw: bool) -> Result<String, String> {
    let script = format!(
        "mount -t tmpfs none /sys/kernel/mm/damon 2>/dev/null || [ ! -e /sys/kernel/mm/damon ] || exit 99; \
         exec {} args damon --kdamonds {} --format json{}",
        damo.display(),
        kdamonds.display(),
        if raw { " --raw" } else { "" }
    );
    let output = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", &script])
        .env("HOME", home)
        .output()
        .map_err(|e| format!("cannot run unshare: {e}"))?;
    match output.status.code() {
        Some(0) => Ok(String::from_utf8_lossy(&output.stdout).into_owned()),
        Some(99) => Err("cannot hide the host's DAMON sysfs from damo (no mount namespace)".to_owned()),
        _ if String::from_utf8_lossy(&output.stdout).contains("Run as root") => Err("`damo args damon` runs only as root".to_owned()),
        _ if String::from_utf8_lossy(&output.stderr).contains("unshare failed") => {
            Err(format!("unshare is not permitted here: {}", String::from_utf8_lossy(&output.stderr).trim()))
        }
        _ => panic!("damo failed on {}:\n{}{}", kdamonds.display(), String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr)),
    }
}

/// Skips loudly; with `REQUIRE_DAMO=1` (CI, where damo is installed) fails instead.
fn skip(why: &str) {
    if std::env::var_os("REQUIRE_DAMO").is_some_and(|v| v == "1") {
        panic!("REQUIRE_DAMO=1 but the real damo test cannot run: {why}");
    }
    eprintln!("SKIPPED: real damo interoperability test: {why}");
}

#[test]
fn real_damo_reads_exported_json() {
    let damo = match damo() {
        Ok(damo) => damo,
        Err(why) => return skip(&why),
    };
    let dir = tempfile::tempdir().unwrap();
    let host = fake_host(dir.path());
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths: Vec<PathBuf> = fs::read_dir(root.join("policies")).unwrap().map(|e| e.unwrap().path()).collect();
    paths.retain(|p| p.extension().is_some_and(|e| e == "toml") && !p.ends_with("damo-policy.toml"));
    paths.push(root.join("tests/fixtures/valid/every-field.toml"));
    paths.sort();
    let checked = damo_policy::pipeline::check_paths(&paths, &damo_policy::pipeline::KernelChoice::Default, &host, Path::new("/nonexistent"))
        .expect("check");
    assert_eq!(checked.error_count(), 0);
    let compiled = damo_policy::compile::compile(&checked.policies(), checked.kernel, &host);
    let exported = damo_policy::interop::damo_json::kdamonds(&compiled);
    let file = dir.path().join("kdamonds.json");
    fs::write(&file, &exported).unwrap();
    let home = dir.path().join("home");
    fs::create_dir(&home).unwrap();
    let (reprinted, printed) = match (damo_args(&damo, &file, &home, true), damo_args(&damo, &file, &home, false)) {
        (Ok(raw), Ok(printed)) => (raw, printed),
        (Err(why), _) | (_, Err(why)) => return skip(&why),
    };
    let ours: Value = serde_json::from_str(&exported).unwrap();
    let theirs: Value = serde_json::from_str(&reprinted).expect("damo prints JSON");
    assert_same_values(&ours, &theirs, "");
    // And what damo prints for people imports back to the same kernel values.
    let writes = |files: &[(String, String)]| {
        let refs: Vec<(&str, &str)> = files.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
        crate::support::kernel_writes(&refs, &host)
    };
    let (before, after) = (writes(&through_damo_json(&exported)), writes(&through_damo_json(&printed)));
    let differences: Vec<_> = before.iter().zip(&after).filter(|(a, b)| a != b).take(5).collect();
    assert!(differences.is_empty() && before.len() == after.len(), "damo's printed JSON imports differently: {differences:?}");
}

/// Every value we wrote reads back from damo's raw print as the same integer (damo adds
/// keys of its own, and prints `max` for 2^64 - 1).
fn assert_same_values(ours: &Value, theirs: &Value, path: &str) {
    match ours {
        Value::Object(map) => {
            for (key, value) in map {
                assert_same_values(value, &theirs[key], &format!("{path}.{key}"));
            }
        }
        Value::Array(items) => {
            let other = theirs.as_array().unwrap_or_else(|| panic!("{path}: damo printed {theirs}"));
            assert_eq!(items.len(), other.len(), "{path}");
            for (i, (a, b)) in items.iter().zip(other).enumerate() {
                assert_same_values(a, b, &format!("{path}[{i}]"));
            }
        }
        _ => {
            let normal = |v: &Value| -> String {
                let text = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                // damo prints permil and basis points raw as `%f` ("300.000000").
                let text = text.replace(',', "");
                let whole = text.split_once('.').filter(|(_, f)| f.bytes().all(|b| b == b'0')).map(|(w, _)| w.to_owned());
                if text == "max" { u64::MAX.to_string() } else { whole.unwrap_or(text) }
            };
            // damo's raw print of times formatted "exactly" is in nanoseconds under their
            // µs and ms keys (quota times, watermark intervals; ages are in aggregation
            // intervals here): 10^6 or 10^3 times the value.
            let (a, b) = (normal(ours), normal(theirs));
            let ns_per_unit = if path.ends_with("time_ms") || path.ends_with("reset_interval_ms") {
                1_000_000
            } else if path.ends_with("watermarks.interval_us") {
                1_000
            } else {
                1
            };
            match a.parse::<u128>() {
                Ok(value) if ns_per_unit > 1 && b != u64::MAX.to_string() => {
                    assert_eq!(b.parse::<u128>().ok(), Some(value * ns_per_unit), "{path}")
                }
                _ => assert_eq!(a, b, "{path}"),
            }
        }
    }
}
