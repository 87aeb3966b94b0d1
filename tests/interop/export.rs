//! `damo-policy compile --format damo-json`: damo's kdamonds JSON for the policies, in
//! damo's key order and indentation, snapshotted; pending policies are named beside it.

use std::fs;

use crate::common::{fixtures, run};

#[test]
fn damo_json_of_a_process_policy() {
    let result = run(
        &fixtures().join("valid"),
        &[
            "compile",
            "legacy-kernel.toml",
            "--kernel",
            "6.12",
            "--format",
            "damo-json",
        ],
    );
    assert_eq!(result.code, 0, "{}", result.transcript());
    let json: serde_json::Value = serde_json::from_str(&result.stdout).unwrap();
    assert_eq!(json["kdamonds"][0]["contexts"][0]["targets"][1]["pid"], 4243);
    insta::assert_snapshot!(result.stdout);
}

#[test]
fn pending_policies_are_named_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("later.toml"), "[target]\nprocess = \"not-running\"\n").unwrap();
    fs::create_dir(dir.path().join("proc")).unwrap();
    let result = run(
        dir.path(),
        &["compile", "later.toml", "--format", "damo-json", "--proc-root", "proc"],
    );
    assert_eq!(result.code, 0, "{}", result.transcript());
    assert_eq!(result.stdout.trim(), "{\n    \"kdamonds\": []\n}");
    assert!(
        result
            .stderr
            .contains("note: policy `later` (later.toml): pending, not in the JSON"),
        "{}",
        result.transcript()
    );
}
