//! `damo-policy import`: damo's JSON (kdamonds trees, `--schemes` lists, damo's printed and
//! raw forms) → policy files, snapshotted; what a policy cannot hold is reported. The same
//! trees as damo's YAML import to the same policies.

use std::fs;
use std::path::{Path, PathBuf};

use crate::common::{damo_fixtures, run};

fn json_fixtures() -> PathBuf {
    damo_fixtures().join("json")
}

/// Each a fixture of both `json/` and `yaml/`, with the arguments it is imported with.
const FIXTURES: [(&str, &[&str]); 5] = [
    ("damo-args-paddr", &[]),
    ("damo-args-vaddr-raw", &[]),
    ("numbers", &[]),
    ("translate-damos-v2.0.9", &["--process", "mysqld"]),
    ("two-kdamonds", &[]),
];

#[test]
fn damo_json_fixtures_import_and_pass_check() {
    for (stem, extra) in FIXTURES {
        let name = format!("{stem}.json");
        let name = name.as_str();
        let mut args = vec!["import", name];
        args.extend_from_slice(extra);
        let result = run(&json_fixtures(), &args);
        assert_eq!(result.code, 0, "{name}:\n{}", result.transcript());
        insta::assert_snapshot!(name, result.transcript());
        let dir = tempfile::tempdir().unwrap();
        let input = json_fixtures().join(name);
        let mut out = vec!["import", input.to_str().unwrap(), "-o", "out"];
        out.extend_from_slice(extra);
        let written = run(dir.path(), &out);
        assert_eq!(written.code, 0, "{name}:\n{}", written.transcript());
        let checked = run(dir.path(), &["check", "out"]);
        assert_eq!(
            checked.code,
            0,
            "{name}: imported policies fail check:\n{}",
            checked.transcript()
        );
    }
}

/// damo's YAML of each JSON fixture (PyYAML's dump, as damo writes it) imports to the same
/// policies; so does YAML in a file named otherwise, recognised by its content.
#[test]
fn damo_yaml_imports_as_its_json() {
    let yaml_fixtures = json_fixtures().with_file_name("yaml");
    let dir = tempfile::tempdir().unwrap();
    for (stem, extra) in FIXTURES {
        let import = |cwd: &Path, name: &str| run(cwd, &[&["import", name], extra].concat()).transcript();
        let json = import(&json_fixtures(), &format!("{stem}.json"));
        let yaml = import(&yaml_fixtures, &format!("{stem}.yaml"));
        assert_eq!(
            yaml.replace(&format!("{stem}.yaml"), &format!("{stem}.json")),
            json,
            "{stem}"
        );
        fs::copy(
            yaml_fixtures.join(format!("{stem}.yaml")),
            dir.path().join(format!("{stem}.txt")),
        )
        .unwrap();
        let by_content = import(dir.path(), &format!("{stem}.txt"));
        assert_eq!(
            by_content.replace(&format!("{stem}.txt"), &format!("{stem}.json")),
            json,
            "{stem}.txt"
        );
    }
}

/// YAML syntax errors point at line and column; YAML that is not plain data (an old damo's
/// `!!python/object` dump) is refused as damo's own reader refuses it.
#[test]
fn yaml_errors_are_located() {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        (
            "unclosed.yaml",
            "kdamonds:\n- contexts:\n  - ops: paddr\n    targets: [{pid: null}\n    schemes: []\n",
        ),
        (
            "indented.yml",
            "kdamonds:\n- contexts:\n  - ops: paddr\n   schemes: []\n",
        ),
        (
            "python.yaml",
            "kdamonds:\n- !!python/object/apply:collections.OrderedDict\n  - - - state\n      - null\n",
        ),
        (
            "by-content",
            "- action: pageout\n  quotas: {time_ms: 10 ms, sz_bytes: [1 GiB}\n",
        ),
    ];
    let mut transcripts = String::new();
    for (name, text) in files {
        fs::write(dir.path().join(name), text).unwrap();
        let result = run(dir.path(), &["import", name]);
        assert_eq!(result.code, 1, "{}", result.transcript());
        transcripts.push_str(&result.transcript());
    }
    insta::assert_snapshot!(transcripts);
}

/// damo's `--raw` JSON prints ages and quota times in nanoseconds under µs and ms keys (a
/// bug of its printer, which damo itself reads back 1000 times too long); the import
/// recognises the raw print by its `'%f'` permil values and reads the times as the
/// configuration damo printed (7 s stays 7 s), and damo's `max` (1000 × 2^64 - 1 there) as
/// `max`.
#[test]
fn damo_raw_output_reads_as_the_configuration_damo_printed() {
    let result = run(&json_fixtures(), &["import", "damo-args-vaddr-raw.json"]);
    assert!(
        result.stdout.contains("access_pattern.age = { min = \"7s\" }"),
        "{}",
        result.transcript()
    );
}

#[test]
fn several_kdamonds_write_one_file_each() {
    let dir = tempfile::tempdir().unwrap();
    let input = json_fixtures().join("two-kdamonds.json");
    let result = run(dir.path(), &["import", input.to_str().unwrap(), "-o", "policies"]);
    assert_eq!(result.code, 0, "{}", result.transcript());
    let mut names: Vec<String> = fs::read_dir(dir.path().join("policies"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["two-kdamonds-0.toml", "two-kdamonds-1.toml"]);
}

#[test]
fn what_a_policy_cannot_hold_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let input = json_fixtures().join("unsupported.json");
    let result = run(&json_fixtures(), &["import", "unsupported.json"]);
    assert_eq!(result.code, 1, "{}", result.transcript());
    assert!(result.stdout.is_empty());
    insta::assert_snapshot!(result.transcript());
    let written = run(dir.path(), &["import", input.to_str().unwrap(), "-o", "out"]);
    assert_eq!(written.code, 1);
    assert!(!dir.path().join("out").exists(), "nothing is written on errors");
}

#[test]
fn not_json() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("ethp.damos"), "min max 5 max min max hugepage\n").unwrap();
    fs::write(
        dir.path().join("broken.json"),
        "{\"kdamonds\": [\n  {\"contexts\": [}\n]}\n",
    )
    .unwrap();
    fs::write(dir.path().join("empty.json"), "{\"kdamonds\": []}").unwrap();
    let mut transcripts = String::new();
    for name in ["ethp.damos", "broken.json", "empty.json"] {
        let result = run(dir.path(), &["import", name]);
        assert_eq!(result.code, 1, "{}", result.transcript());
        transcripts.push_str(&result.transcript());
    }
    insta::assert_snapshot!(transcripts);
}

/// Rendered findings as one line: words only, without the frame's wrapping.
fn flat(text: &str) -> String {
    text.split_whitespace()
        .filter(|w| *w != "│")
        .collect::<Vec<_>>()
        .join(" ")
}

/// A scheme of damo's tree for one `[[scheme]]`: `quotas` and `watermarks` as given.
fn one_scheme_tree(size_min: &str, quotas: &str, watermarks: &str) -> String {
    format!(
        r#"{{"kdamonds": [{{"contexts": [{{"ops": "paddr", "targets": [{{"pid": null, "regions": []}}],
        "schemes": [{{"action": "pageout",
          "access_pattern": {{"sz_bytes": {{"min": "{size_min}", "max": "max"}},
            "nr_accesses": {{"min": "0 %", "max": "0 %"}}, "age": {{"min": "4099999999", "max": "18446744073709551615000"}}}},
          "quotas": {quotas}, "watermarks": {watermarks}}}]}}]}}]}}"#
    )
}

/// damo prints sizes for people with three decimals (`1.150 GiB` for 1234567891 bytes):
/// such a size is imported as printed, with a warning pointing to damo's raw print; a size
/// that is a whole number of bytes (`4.000 KiB`) draws none.
#[test]
fn rounded_printed_sizes_warn() {
    let dir = tempfile::tempdir().unwrap();
    let quotas = r#"{"time_ms": "10 ms", "sz_bytes": "4.000 KiB", "reset_interval_ms": "1 s",
        "weights": {"sz_permil": "0 %", "nr_accesses_permil": "0 %", "age_permil": "0 %"}}"#;
    let tree = one_scheme_tree("1.150 GiB", quotas, r#"{"metric": "none"}"#).replace("4099999999", "5 s");
    fs::write(dir.path().join("printed.json"), tree).unwrap();
    let result = run(dir.path(), &["import", "printed.json"]);
    assert_eq!(result.code, 0, "{}", result.transcript());
    assert!(
        result.stdout.contains("access_pattern.size = { min = 1234803097 }"),
        "{}",
        result.stdout
    );
    let stderr = flat(&result.stderr);
    assert!(
        stderr.contains(
            "schemes[0].access_pattern.sz_bytes.min: `1.150 GiB` is damo's size printed for people, rounded to three decimals"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("--raw"), "{stderr}");
    assert!(stderr.contains("0 errors, 1 warning: written"), "{stderr}");
}

/// damo's raw print (`damo args damon --raw`, recognised by its `'%f'` permil values) holds
/// nanoseconds under `time_ms`, `reset_interval_ms`, the watermarks' `interval_us` and µs
/// ages: read as such. Outside it, a bare quota time of whole seconds' worth of nanoseconds
/// is read as ms, with a warning.
#[test]
fn nanoseconds_of_damos_raw_print_are_recognised() {
    let dir = tempfile::tempdir().unwrap();
    let quotas = r#"{"time_ms": "1001000000", "sz_bytes": "1234567891", "reset_interval_ms": "1500000000",
        "weights": {"sz_permil": "0.000000", "nr_accesses_permil": "0.000000", "age_permil": "0.000000"}}"#;
    let watermarks = r#"{"metric": "free_mem_rate", "interval_us": "5000001000",
        "high_permil": "800.000000", "mid_permil": "500.000000", "low_permil": "100.000000"}"#;
    fs::write(
        dir.path().join("raw.json"),
        one_scheme_tree("1234567891", quotas, watermarks),
    )
    .unwrap();
    let raw = run(dir.path(), &["import", "raw.json"]);
    assert_eq!(raw.code, 0, "{}", raw.transcript());
    for expected in [
        "access_pattern.age = { min = \"4099999us\" }",
        "time = \"1001ms\"",
        "reset_interval = \"1500ms\"",
        "interval = \"5000001us\"",
    ] {
        assert!(raw.stdout.contains(expected), "{expected}:\n{}", raw.stdout);
    }
    assert!(raw.stderr.is_empty(), "{}", raw.stderr);
    // The same times with permil values as people write them: ms, and a warning on the time.
    let edited = one_scheme_tree("1234567891", &quotas.replace(".000000", ""), r#"{"metric": "none"}"#)
        .replace("4099999999", "5 s")
        .replace("1500000000", "2 h");
    fs::write(dir.path().join("edited.json"), edited).unwrap();
    let result = run(dir.path(), &["import", "edited.json"]);
    let stderr = flat(&result.stderr);
    assert!(
        stderr.contains("quotas.time_ms: 1001000000 ms is a quota time of 278 hours; damo's raw print writes nanoseconds here (its bug), where this would be 1001 ms"),
        "{stderr}"
    );
}
