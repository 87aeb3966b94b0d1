//! Real damo reads what `compile --format damo-json` writes: `damo args damon --kdamonds
//! FILE --format json --raw` parses it and prints the same kernel values, and what damo
//! prints for people (`--format json`) imports back to the same kernel values. What damo
//! prints as YAML (`--format yaml`) imports as its JSON does.
//!
//! Needs damo (`pip install damo PyYAML` into a virtual environment, its `damo` named by
//! `DAMO_POLICY_DAMO`, else found on `PATH`; damo prints YAML only with PyYAML) and root, because `damo args damon` refuses to
//! run without it. damo probes the kernel's DAMON by staging a dummy kdamond, so damo runs
//! in a private mount namespace with an empty tmpfs over `/sys/kernel/mm/damon`: it can
//! neither see nor touch the host's kdamonds. Without damo, root or `unshare`, the test is
//! skipped, loudly (and fails instead with `REQUIRE_DAMO=1`).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use damo_policy::host::HostPaths;
use serde_json::Value;

use crate::roundtrip::{fake_host, through_damo_json, through_import};

/// damo's executable, or `None` once the test is skipped.
pub(crate) fn damo() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("DAMO_POLICY_DAMO") {
        return Some(PathBuf::from(path));
    }
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("damo"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        skip("damo is not installed (set DAMO_POLICY_DAMO to its `damo` executable)");
    }
    found
}

/// Runs `damo args damon ARGS…` isolated from the host's DAMON; `Err` to skip.
fn damo_args(damo: &Path, args: &[&str], home: &Path) -> Result<String, String> {
    let script = "mount -t tmpfs none /sys/kernel/mm/damon 2>/dev/null || [ ! -e /sys/kernel/mm/damon ] || exit 99; \
                  exec \"$0\" args damon \"$@\"";
    let output = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", script])
        .arg(damo)
        .args(args)
        .env("HOME", home)
        .output()
        .map_err(|e| format!("cannot run unshare: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    match output.status.code() {
        Some(0) => Ok(stdout.into_owned()),
        Some(99) => Err("cannot hide the host's DAMON sysfs from damo (no mount namespace)".to_owned()),
        _ if stdout.contains("Run as root") => Err("`damo args damon` runs only as root".to_owned()),
        _ if stdout.contains("yaml module is not imported") => {
            Err("damo's Python lacks PyYAML (`pip install PyYAML` beside damo)".to_owned())
        }
        _ if String::from_utf8_lossy(&output.stderr).contains("unshare failed") => Err(format!(
            "unshare is not permitted here: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )),
        _ => panic!(
            "damo failed on {args:?}:\n{stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        ),
    }
}

/// Two of damo's prints, or `None` once the test is skipped.
fn both(a: Result<String, String>, b: Result<String, String>) -> Option<(String, String)> {
    match (a, b) {
        (Ok(a), Ok(b)) => Some((a, b)),
        (Err(why), _) | (_, Err(why)) => {
            skip(&why);
            None
        }
    }
}

/// Skips loudly; with `REQUIRE_DAMO=1` (CI, where damo is installed) fails instead.
pub(crate) fn skip(why: &str) {
    if std::env::var_os("REQUIRE_DAMO").is_some_and(|v| v == "1") {
        panic!("REQUIRE_DAMO=1 but the real damo test cannot run: {why}");
    }
    eprintln!("SKIPPED: real damo interoperability test: {why}");
}

/// The example policies and the every-field and weighted-destinations fixtures compiled on a fake host in a temporary
/// directory, exported to `kdamonds.json` there; `home` there is damo's home.
struct Exported {
    host: HostPaths,
    json: String,
    file: String,
    home: PathBuf,
    _dir: tempfile::TempDir,
}

fn exported() -> Exported {
    let tempdir = tempfile::tempdir().unwrap();
    let dir = tempdir.path();
    let host = fake_host(dir);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths: Vec<PathBuf> = fs::read_dir(root.join("policies"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.retain(|p| p.extension().is_some_and(|e| e == "toml") && !p.ends_with("damo-policy.toml"));
    paths.push(root.join("tests/fixtures/valid/every-field.toml"));
    paths.push(root.join("tests/fixtures/valid/weighted-destinations.toml"));
    paths.sort();
    let checked = damo_policy::policy::pipeline::check_paths(
        &paths,
        &damo_policy::policy::pipeline::KernelChoice::Default,
        &host,
        Path::new("/nonexistent"),
    )
    .expect("check");
    assert_eq!(checked.error_count(), 0);
    let compiled = damo_policy::compile::compile(&checked.policies(), checked.kernel, &host);
    let json = damo_policy::interop::kdamonds::export::kdamonds(&compiled);
    let file = dir.join("kdamonds.json");
    fs::write(&file, &json).unwrap();
    let home = dir.join("home");
    fs::create_dir(&home).unwrap();
    Exported {
        host,
        json,
        file: file.to_str().expect("a UTF-8 temporary path").to_owned(),
        home,
        _dir: tempdir,
    }
}

impl Exported {
    /// The sysfs writes of imported policies, compiled on the fake host.
    fn writes(&self, files: &[(String, String)]) -> Vec<(String, String)> {
        let refs: Vec<(&str, &str)> = files.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
        crate::support::kernel_writes(&refs, &self.host)
    }
}

fn assert_same_writes(before: &[(String, String)], after: &[(String, String)], what: &str) {
    let differences: Vec<_> = before.iter().zip(after).filter(|(a, b)| a != b).take(5).collect();
    assert!(
        differences.is_empty() && before.len() == after.len(),
        "{what} imports differently: {differences:?}"
    );
}

#[test]
fn real_damo_reads_exported_json() {
    let Some(damo) = damo() else { return };
    let ex = exported();
    let print = |raw: &[&str]| {
        damo_args(
            &damo,
            &[&["--kdamonds", &ex.file, "--format", "json"], raw].concat(),
            &ex.home,
        )
    };
    let Some((reprinted, printed)) = both(print(&["--raw"]), print(&[])) else {
        return;
    };
    let ours: Value = serde_json::from_str(&ex.json).unwrap();
    let theirs: Value = serde_json::from_str(&reprinted).expect("damo prints JSON");
    assert_same_values(&ours, &theirs, "");
    // damo's raw print holds nanoseconds under `time_ms`, `reset_interval_ms` and the
    // watermarks' `interval_us` (its printer's bug), which import recognises: the same
    // kernel values come back.
    assert_same_writes(
        &ex.writes(&through_damo_json(&ex.json)),
        &ex.writes(&through_damo_json(&reprinted)),
        "damo's raw JSON",
    );
    // And what damo prints for people imports back to the same kernel values.
    assert_same_writes(
        &ex.writes(&through_damo_json(&ex.json)),
        &ex.writes(&through_damo_json(&printed)),
        "damo's printed JSON",
    );
}

/// What damo prints as YAML (`--format yaml`, PyYAML's dump) imports to the kernel values its
/// JSON of the same configuration imports to: the exported policies, printed for people and
/// raw, and a configuration made with damo's own options.
#[test]
fn real_damo_yaml_imports_as_its_json() {
    let Some(damo) = damo() else { return };
    let ex = exported();
    let options = [
        "--damos_action",
        "pageout",
        "--damos_access_rate",
        "0%",
        "0%",
        "--damos_age",
        "5s",
        "max",
        "--damos_quotas",
        "100ms",
        "1G",
        "1s",
    ];
    let kdamonds = ["--kdamonds", ex.file.as_str()];
    for (what, args) in [
        ("exported", &kdamonds[..]),
        ("exported, raw", &[&kdamonds[..], &["--raw"]].concat()),
        ("options", &options[..]),
    ] {
        let print = |format: &str| damo_args(&damo, &[args, &["--format", format]].concat(), &ex.home);
        let Some((json, yaml)) = both(print("json"), print("yaml")) else {
            return;
        };
        assert!(yaml.starts_with("kdamonds:\n"), "{what}: damo printed no YAML:\n{yaml}");
        let (from_json, from_yaml) = (
            through_import("printed.json", &json),
            through_import("printed.yaml", &yaml),
        );
        assert_same_writes(
            &ex.writes(&from_json),
            &ex.writes(&from_yaml),
            &format!("damo's YAML ({what})"),
        );
    }
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
            let other = theirs
                .as_array()
                .unwrap_or_else(|| panic!("{path}: damo printed {theirs}"));
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
                let whole = text
                    .split_once('.')
                    .filter(|(_, f)| f.bytes().all(|b| b == b'0'))
                    .map(|(w, _)| w.to_owned());
                if text == "max" {
                    u64::MAX.to_string()
                } else {
                    whole.unwrap_or(text)
                }
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

/// The kernel values damo itself computes for one-line schemes, through its own Python
/// (`_damo_deprecated`'s parser, `_damon.py`'s conversions to samples and aggregation
/// intervals at 5 ms / 100 ms, truncated as `'%d' %` truncates), are the values
/// `translate` names when it warns that damo's floats round (`4.1s` of age: 40, not 41).
#[test]
fn real_damo_rounds_as_translate_says() {
    use damo_policy::interop::legacy::parse::{self as legacy, Role};
    use damo_policy::interop::legacy::rounding;

    let Some(damo) = damo() else { return };
    let python = damo.with_file_name("python3");
    if !python.is_file() {
        skip("damo's Python is not beside it (a virtual environment's bin/python3)");
        return;
    }
    let lines = [
        "4K max min min 4.1s max pageout 1.001s 1G 1s 1 2 3 free_mem_rate 1.001s 800 500 100",
        "1.1E max 35% max 0.3s 2.7s cold 0.1s 1.3K 4.1s 0 0 0 free_mem_rate 0.7ms 800 500 100",
        "0.1K 12345.6M 12.5 99.9% 1.15 3.3m stat 1.999s 0.7G 1.1h 0 0 0 none 4.1 0 0 0",
        "1,234 5.55G 0.05% 7.35% 123456789 0.35s stat 7 1,024 100 0 0 0 none 1.1d 0 0 0",
    ];
    let script = r#"
import os, sys, damo
sys.path.insert(0, os.path.dirname(damo.__file__))
import _damo_deprecated, _damon
_damo_deprecated.avoid_crashing_single_line_scheme_for_testing = True
_damo_deprecated.avoid_crashing_v1_v3_schemes_for_testing = True
intervals = _damon.DamonIntervals(5000, 100000, 1000000)
for line in sys.stdin.read().splitlines():
    s, err = _damo_deprecated.damo_single_line_scheme_to_damos(line)
    assert err is None, err
    ap = s.access_pattern
    ap.convert_for_units(_damon.unit_samples, _damon.unit_aggr_intervals, intervals)
    q, w = s.quotas, s.watermarks
    values = [ap.sz_bytes[0], ap.sz_bytes[1], ap.nr_acc_min_max[0].samples,
        ap.nr_acc_min_max[1].samples, ap.age_min_max[0].aggr_intervals,
        ap.age_min_max[1].aggr_intervals, q.time_ms, q.sz_bytes, q.reset_interval_ms,
        w.interval_us]
    print(' '.join('%d' % v for v in values))
"#;
    let mut child = Command::new(&python)
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run damo's Python");
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), lines.join("\n").as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let printed = String::from_utf8_lossy(&output.stdout);
    let roles = [
        Role::MinSize,
        Role::MaxSize,
        Role::MinAccess,
        Role::MaxAccess,
        Role::MinAge,
        Role::MaxAge,
        Role::QuotaTime,
        Role::QuotaSize,
        Role::ResetInterval,
        Role::Interval,
    ];
    let mut rounded = 0;
    for (line, values) in lines.iter().zip(printed.lines()) {
        let file = std::sync::Arc::new(damo_policy::policy::source::SourceFile::new("t.damos", *line));
        let (schemes, diagnostics) = legacy::parse(&file);
        assert!(diagnostics.is_empty(), "{line}: {diagnostics:?}");
        let scheme = &schemes[0];
        for (role, damo_value) in roles.iter().zip(values.split(' ')) {
            let position = scheme.roles.iter().position(|r| r == role).unwrap();
            let text = &scheme.line.fields[position].text;
            let Some(ours) = rounding::damo_value(*role, text) else {
                assert!(matches!(text.as_str(), "min" | "max"), "{line}: {text}");
                continue;
            };
            assert_eq!(ours.to_string(), damo_value, "{line}: {} `{text}`", role.name());
            if let Some(r) = rounding::rounded(*role, text, &scheme.scheme) {
                assert_eq!(r.damo.to_string(), damo_value);
                rounded += 1;
            }
        }
    }
    assert_eq!(printed.lines().count(), lines.len(), "{printed}");
    // The lines hold values damo rounds, and values it does not.
    assert!(rounded >= 4, "only {rounded} values rounded");
}
