//! `translate` and `import` writing files: never over their input, over an existing file
//! only with `--force`, and nothing at all when they refuse; an import that makes no policy
//! is an error.

use std::fs;
use std::path::Path;

use crate::common::{damo_fixtures, run};

const DAMOS: &str = "4K max min min 5s max pageout\n";

/// Every file of `dir` with its text, to see that a refusal changed nothing.
fn contents(dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                fs::read_to_string(&p).unwrap_or_default(),
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn translate_never_writes_over_its_input() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("in.damos"), DAMOS).unwrap();
    std::os::unix::fs::symlink("in.damos", dir.path().join("link.toml")).unwrap();
    for args in [
        &["translate", "in.damos", "-o", "in.damos"][..],
        &["translate", "in.damos", "-o", "./in.damos", "--force"],
        &["translate", "in.damos", "-o", "link.toml", "--force"],
    ] {
        let before = contents(dir.path());
        let result = run(dir.path(), args);
        assert_eq!(result.code, 2, "{args:?}: {}", result.transcript());
        assert!(
            result
                .stderr
                .contains("is the input file; write the output somewhere else (-o)"),
            "{}",
            result.stderr
        );
        assert_eq!(contents(dir.path()), before, "{args:?}: nothing written");
    }
    insta::assert_snapshot!(
        "translate_onto_its_input",
        run(dir.path(), &["translate", "in.damos", "-o", "in.damos"]).transcript()
    );
}

#[test]
fn translate_replaces_an_existing_file_only_with_force() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("in.damos"), DAMOS).unwrap();
    fs::write(dir.path().join("out.toml"), "keep me").unwrap();
    let refused = run(dir.path(), &["translate", "in.damos", "-o", "out.toml"]);
    assert_eq!(refused.code, 2, "{}", refused.transcript());
    insta::assert_snapshot!("translate_onto_an_existing_file", refused.transcript());
    assert_eq!(fs::read_to_string(dir.path().join("out.toml")).unwrap(), "keep me");
    let forced = run(dir.path(), &["translate", "in.damos", "-o", "out.toml", "--force"]);
    assert_eq!(forced.code, 0, "{}", forced.transcript());
    assert!(
        fs::read_to_string(dir.path().join("out.toml"))
            .unwrap()
            .starts_with("#:schema ")
    );
    // --force means nothing without a file to write.
    assert_eq!(run(dir.path(), &["translate", "in.damos", "--force"]).code, 2);
}

#[test]
fn import_replaces_existing_policy_files_only_with_force() {
    let dir = tempfile::tempdir().unwrap();
    fs::copy(
        damo_fixtures().join("json/two-kdamonds.json"),
        dir.path().join("k.json"),
    )
    .unwrap();
    fs::create_dir(dir.path().join("policies")).unwrap();
    fs::write(dir.path().join("policies/k-1.toml"), "keep me").unwrap();
    let refused = run(dir.path(), &["import", "k.json", "-o", "policies"]);
    assert_eq!(refused.code, 2, "{}", refused.transcript());
    insta::assert_snapshot!("import_onto_an_existing_file", refused.transcript());
    assert_eq!(
        contents(&dir.path().join("policies")),
        [("k-1.toml".to_owned(), "keep me".to_owned())],
        "nothing written, k-0.toml neither"
    );
    let forced = run(dir.path(), &["import", "k.json", "-o", "policies", "--force"]);
    assert_eq!(forced.code, 0, "{}", forced.transcript());
    let written = contents(&dir.path().join("policies"));
    assert_eq!(written.len(), 2);
    assert!(
        written.iter().all(|(_, text)| text.starts_with("#:schema ")),
        "{written:?}"
    );
}

#[test]
fn import_never_writes_over_its_input() {
    // damo's JSON in a file named as the one policy it imports to (JSON by its content).
    let dir = tempfile::tempdir().unwrap();
    let json = fs::read_to_string(damo_fixtures().join("json/damo-args-paddr.json")).unwrap();
    fs::create_dir(dir.path().join("policies")).unwrap();
    fs::write(dir.path().join("policies/k.toml"), &json).unwrap();
    assert_eq!(run(dir.path(), &["import", "policies/k.toml"]).code, 0, "it imports");
    let result = run(dir.path(), &["import", "policies/k.toml", "-o", "policies", "--force"]);
    assert_eq!(result.code, 2, "{}", result.transcript());
    assert!(
        result
            .stderr
            .contains("error: policies/k.toml is the input file; write the output somewhere else (-o)"),
        "{}",
        result.stderr
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("policies/k.toml")).unwrap(),
        json,
        "the input is intact"
    );
}

#[test]
fn an_import_that_makes_no_policy_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("k.json"), r#"{"kdamonds":[{"contexts":[]}]}"#).unwrap();
    let result = run(dir.path(), &["import", "k.json"]);
    assert_eq!(result.code, 1, "{}", result.transcript());
    insta::assert_snapshot!("import_of_no_contexts", result.transcript());
    let written = run(dir.path(), &["import", "k.json", "-o", "policies"]);
    assert_eq!(written.code, 1, "{}", written.transcript());
    assert!(!dir.path().join("policies").exists(), "nothing written");
}

/// What is not a scheme or a context is refused, not imported as a default `stat` scheme;
/// a target option that a kdamonds tree would ignore is refused too.
#[test]
fn import_refuses_what_it_would_otherwise_make_up_or_ignore() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("strings.json", r#"["a", "b"]"#, "[0]: expected a scheme"),
        ("strings.yaml", "- a\n- b\n", "[0]: expected a scheme"),
        (
            "context.json",
            r#"{"kdamonds":[{"contexts":["y"]}]}"#,
            "kdamonds[0].contexts[0]: expected a context",
        ),
    ];
    for (file, text, expected) in cases {
        fs::write(dir.path().join(file), text).unwrap();
        let result = run(dir.path(), &["import", file]);
        assert!(
            result.code == 1 && result.stdout.is_empty() && result.stderr.contains(expected),
            "{file}: {}",
            result.transcript()
        );
    }
    // (A short relative name: the message is wrapped, and must not wrap differently by where
    // the repository is checked out.)
    fs::copy(
        damo_fixtures().join("json/damo-args-vaddr-raw.json"),
        dir.path().join("k.json"),
    )
    .unwrap();
    let with_pid = run(dir.path(), &["import", "k.json", "--pid", "5"]);
    assert_eq!(with_pid.code, 1, "{}", with_pid.transcript());
    insta::assert_snapshot!("import_of_a_tree_with_a_target_option", with_pid.transcript());
}

/// `translate` writes one policy file: `-o` naming a directory is refused with the name to use.
#[test]
fn translate_to_a_directory_says_what_to_write() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("out")).unwrap();
    fs::copy(damo_fixtures().join("legacy/ethp.damos"), dir.path().join("ethp.damos")).unwrap();
    for target in ["out", "out/", "new/"] {
        let result = run(
            dir.path(),
            &["translate", "ethp.damos", "--process", "x", "-o", target, "--force"],
        );
        assert_eq!(result.code, 2, "{}", result.transcript());
        assert!(
            result.stderr.contains(&format!(
                "{target} names a directory: -o takes the policy file's name, such as "
            )),
            "{}",
            result.transcript()
        );
    }
    assert!(
        fs::read_dir(dir.path().join("out")).unwrap().next().is_none() && !dir.path().join("new").exists(),
        "nothing written"
    );
}
