//! `damo-policy check`: one fixture per mistake, the example policies, exit statuses, JSON.

use crate::common::{fixture_args, fixtures, repo, run};

/// Every invalid fixture fails with a located diagnostic, snapshotted.
#[test]
fn invalid_fixtures() {
    insta::glob!("../fixtures/invalid", "*.toml", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        let name = path.file_name().unwrap().to_str().unwrap();
        let mut args = vec!["check".to_owned(), name.to_owned()];
        args.extend(fixture_args(&text));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let result = run(path.parent().unwrap(), &args);
        let has_error = result.stdout.contains("error[");
        assert!(
            (result.code == 1 && has_error) || (result.code == 0 && result.stdout.contains("warning[")),
            "{name}: expected an error (exit 1) or a warning, got:\n{}",
            result.transcript()
        );
        // Every finding names file:line:column, in the snippet header or the message.
        for block in result.stdout.split("\n\n").filter(|b| b.contains(" × ")) {
            assert!(
                block.contains(&format!("{name}:")),
                "{name}: a diagnostic without its location:\n{block}"
            );
        }
        insta::assert_snapshot!(result.transcript());
    });
}

/// Every valid fixture passes without a single diagnostic.
#[test]
fn valid_fixtures() {
    insta::glob!("../fixtures/valid", "*.toml", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        let name = path.file_name().unwrap().to_str().unwrap();
        let mut args = vec!["check".to_owned(), name.to_owned(), "--deny-warnings".to_owned()];
        args.extend(fixture_args(&text));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let result = run(path.parent().unwrap(), &args);
        assert_eq!(result.code, 0, "{name}:\n{}", result.transcript());
        assert!(!result.stdout.contains('×'), "{name}:\n{}", result.transcript());
    });
}

/// The shipped example policies pass, warning-free, and each starts with a `#:schema`
/// comment that points at the committed schema.
#[test]
fn example_policies_pass_check() {
    let result = run(&repo(), &["check", "policies", "--deny-warnings"]);
    assert_eq!(result.code, 0, "{}", result.transcript());
    insta::assert_snapshot!(result.transcript());
    let files = damo_policy::policy::load::list_dir(&repo().join("policies")).unwrap();
    assert!(files.len() >= 6, "the examples are missing");
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        assert_eq!(
            text.lines().next(),
            Some("#:schema ../schema/damo-policy.schema.json"),
            "{} must start with the #:schema comment",
            file.display()
        );
    }
}

/// Every file's errors are reported in one run, and names are unique across a directory.
#[test]
fn all_files_all_errors_and_duplicate_names() {
    let result = run(&fixtures().join("dirs"), &["check", "duplicate-names"]);
    assert_eq!(result.code, 1);
    insta::assert_snapshot!(result.transcript());
}

/// A project file pins the kernel the directory is checked for; `--kernel` overrides it.
#[test]
fn project_file_pins_the_kernel() {
    let dirs = fixtures().join("dirs");
    let pinned = run(&dirs, &["check", "pinned-6.12"]);
    assert_eq!(pinned.code, 1, "{}", pinned.transcript());
    assert!(
        pinned
            .stdout
            .contains("kernel 6.12 (pinned by pinned-6.12/damo-policy.toml)"),
        "{}",
        pinned.stdout
    );
    assert!(
        pinned.stdout.contains("needs kernel 6.15 or later"),
        "{}",
        pinned.stdout
    );
    let overridden = run(&dirs, &["check", "pinned-6.12", "--kernel", "7.3"]);
    assert_eq!(overridden.code, 0, "{}", overridden.transcript());
}

/// A pin is `--kernel` written down: the releases one refuses, the other refuses too, and
/// one newer than any damo-policy knows is checked as the newest known, with a warning.
#[test]
fn pinned_and_named_kernels_answer_alike() {
    let dir = tempfile::tempdir().unwrap();
    let pinned = dir.path().join("pinned");
    std::fs::create_dir(&pinned).unwrap();
    std::fs::copy(
        repo().join("policies/proactive-reclaim.toml"),
        pinned.join("proactive-reclaim.toml"),
    )
    .unwrap();
    let pin =
        |kernel: &str| std::fs::write(pinned.join("damo-policy.toml"), format!("kernel = \"{kernel}\"\n")).unwrap();
    pin("5.10");
    let too_old = run(dir.path(), &["check", "pinned"]);
    assert_eq!(too_old.code, 1, "{}", too_old.transcript());
    insta::assert_snapshot!("pinned_too_old", too_old.transcript());
    std::fs::remove_file(pinned.join("damo-policy.toml")).unwrap();
    let named = run(dir.path(), &["check", "pinned", "--kernel", "5.10"]);
    assert_eq!(named.code, 2, "{}", named.transcript());
    assert!(
        named
            .stderr
            .contains("kernel 5.10 has no DAMON sysfs interface; damo-policy needs 5.18 or later"),
        "{}",
        named.stderr
    );

    let newer = run(dir.path(), &["check", "pinned", "--kernel", "99.9", "--deny-warnings"]);
    assert_eq!(newer.code, 0, "no fault of the policies: {}", newer.transcript());
    insta::assert_snapshot!("named_newer_than_known", newer.transcript());
    pin("99.9");
    let compiled = run(dir.path(), &["compile", "pinned"]);
    assert_eq!(compiled.code, 0, "{}", compiled.transcript());
    assert_eq!(
        compiled.stderr,
        "warning: kernel 99.9 (pinned by pinned/damo-policy.toml) is newer than the newest kernel damo-policy knows, 7.3; its DAMON features are judged as those of 7.3\n"
    );
    // The newest known release itself is no cause for a warning.
    let known = run(dir.path(), &["check", "pinned", "--kernel", "7.3"]);
    assert!(known.stderr.is_empty(), "{}", known.transcript());
    let translated = run(dir.path(), &["translate", "-", "--kernel", "5.10"]);
    assert_eq!(translated.code, 2, "{}", translated.transcript());
    assert!(
        translated.stderr.contains("kernel 5.10 has no DAMON sysfs interface"),
        "{}",
        translated.stderr
    );
}

/// A file or directory named twice on the command line is checked once, not reported as a
/// duplicate policy of itself.
#[test]
fn a_path_named_twice_is_checked_once() {
    let dirs = fixtures().join("dirs");
    let twice = run(
        &dirs,
        &[
            "check",
            "pinned-6.12",
            "pinned-6.12/",
            "./pinned-6.12/.",
            "--kernel",
            "7.3",
        ],
    );
    assert_eq!(twice.code, 0, "{}", twice.transcript());
    let once = run(&dirs, &["check", "pinned-6.12", "--kernel", "7.3"]);
    assert_eq!(twice.stdout, once.stdout);
    let valid = fixtures().join("valid");
    let files = run(
        &valid,
        &[
            "check",
            "minimal.toml",
            "./minimal.toml",
            "../valid/minimal.toml",
            "--deny-warnings",
        ],
    );
    assert_eq!(files.code, 0, "{}", files.transcript());
    assert!(files.stdout.contains("checked 1 file"), "{}", files.stdout);
    let file_and_dir = run(
        &fixtures(),
        &["check", "valid/minimal.toml", "valid", "--deny-warnings"],
    );
    assert_eq!(file_and_dir.code, 0, "{}", file_and_dir.transcript());
    let count = damo_policy::policy::load::list_dir(&valid).unwrap().len();
    assert!(
        file_and_dir.stdout.contains(&format!("checked {count} files")),
        "{}",
        file_and_dir.stdout
    );
}

#[test]
fn json_format_for_ci_bots() {
    let result = run(
        &fixtures().join("invalid"),
        &[
            "check",
            "--format",
            "json",
            "range-min-gt-max.toml",
            "rounds-to-zero.toml",
        ],
    );
    assert_eq!(result.code, 1);
    let report: serde_json::Value = serde_json::from_str(&result.stdout).expect("JSON on stdout");
    let first = &report["diagnostics"][0];
    for key in ["file", "line", "column", "severity", "code", "message", "help"] {
        assert!(!first[key].is_null(), "missing {key} in {first}");
    }
    insta::assert_snapshot!(result.stdout);
}

#[test]
fn deny_warnings_turns_warnings_into_failure() {
    let dir = fixtures().join("invalid");
    assert_eq!(run(&dir, &["check", "rounds-to-zero.toml"]).code, 0);
    assert_eq!(run(&dir, &["check", "rounds-to-zero.toml", "--deny-warnings"]).code, 1);
}

#[test]
fn usage_errors_exit_2() {
    let dir = fixtures();
    let bad_kernel = run(&dir, &["check", "valid", "--kernel", "5.10"]);
    assert_eq!(bad_kernel.code, 2);
    assert!(
        bad_kernel.stderr.contains("5.10 has no DAMON sysfs interface"),
        "{}",
        bad_kernel.stderr
    );
    assert_eq!(run(&dir, &["check"]).code, 2);
    assert_eq!(run(&dir, &["frobnicate"]).code, 2);
    // The sysfs root points nowhere, so the "running" kernel has no DAMON.
    let running = run(&dir, &["check", "valid", "--kernel", "running"]);
    assert_eq!(running.code, 2);
    assert!(
        running.stderr.contains("no DAMON sysfs interface"),
        "{}",
        running.stderr
    );
}

#[test]
fn schema_command_prints_the_committed_schema() {
    let result = run(&repo(), &["schema"]);
    assert_eq!(result.code, 0);
    assert_eq!(result.stdout, damo_policy::validate::schema::COMMITTED);
}

/// The snippet header and `--format json` count columns alike, in characters: a line with
/// multi-byte text before the finding must not shift one of them.
#[test]
fn text_and_json_columns_agree_after_non_ascii_text() {
    let dir = fixtures().join("invalid");
    let file = "column-after-non-ascii.toml";
    let text = run(&dir, &["check", file]);
    let json = run(&dir, &["check", "--format", "json", file]);
    let report: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON on stdout");
    let first = &report["diagnostics"][0];
    let location = format!("{file}:{}:{}", first["line"], first["column"]);
    assert_eq!(location, format!("{file}:2:41"), "{}", json.stdout);
    assert!(text.stdout.contains(&format!("[{location}]")), "{}", text.stdout);
}

/// The project file named as an argument is the project file (its pin is used), not a
/// policy missing its `target`.
#[test]
fn a_project_file_named_on_its_own_is_read_as_one() {
    let dirs = fixtures().join("dirs");
    let result = run(
        &dirs,
        &["check", "pinned-6.12/damo-policy.toml", "pinned-6.12/unmapped.toml"],
    );
    assert!(
        result
            .stdout
            .contains("checked 1 file for kernel 6.12 (pinned by pinned-6.12/damo-policy.toml)"),
        "{}",
        result.transcript()
    );
    assert!(
        !result.stdout.contains("unknown key") && !result.stdout.contains("damo-policy.toml:"),
        "{}",
        result.transcript()
    );
    let alone = run(&dirs, &["check", "pinned-6.12/damo-policy.toml"]);
    assert_eq!(alone.code, 0, "{}", alone.transcript());
}

/// Two policies of the same processes whose schemes undo each other: a warning on the
/// later file naming the earlier policy, scheme and place.
#[test]
fn contradictory_schemes_across_policies() {
    let result = run(&fixtures().join("dirs"), &["check", "contradictory-schemes"]);
    assert_eq!(result.code, 0, "{}", result.transcript());
    insta::assert_snapshot!(result.transcript());
}
