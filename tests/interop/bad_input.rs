//! Input that is not a legacy scheme file, or barely is: a clear message, exit 1 (2 when
//! it cannot be read), never a panic. Files are made at test time.

use std::fs;

use crate::common::run;

/// Translates `content` (written as `name`) and returns the transcript, checking the status.
fn translate(name: &str, content: &[u8], code: i32) -> String {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join(name), content).unwrap();
    let result = run(dir.path(), &["translate", name, "--pid", "1"]);
    assert_eq!(result.code, code, "{}", result.transcript());
    assert!(!result.stderr.contains("panicked"), "{}", result.transcript());
    if code != 0 {
        assert!(result.stdout.is_empty(), "{}", result.transcript());
    }
    result.transcript()
}

#[test]
fn empty_and_comment_only_files() {
    insta::assert_snapshot!(translate("empty.damos", b"", 1));
    let comments = translate("comments.damos", b"# only comments\n\n   \n\t# indented\n", 1);
    assert!(comments.contains("no schemes"), "{comments}");
}

#[test]
fn json_is_pointed_to_import() {
    insta::assert_snapshot!(translate("kdamonds.json", br#"{"kdamonds": []}"#, 1));
    let list = translate("schemes.json", b"[\n  {\"action\": \"stat\"}\n]\n", 1);
    assert!(list.contains("damo-policy import"), "{list}");
    let yaml = translate(
        "kdamonds.yaml",
        b"# damo args damon --format yaml\nkdamonds:\n- contexts: []\n",
        1,
    );
    assert!(
        yaml.contains("looks like YAML") && yaml.contains("damo-policy import"),
        "{yaml}"
    );
}

#[test]
fn binary_and_non_utf8() {
    insta::assert_snapshot!(translate("blob.damos", b"\x7fELF\x02\x01\x01\0\0\0garbage", 2));
    let latin = translate(
        "latin1.damos",
        b"4K max min min 5s max pageout\n4K max min min 5s max caf\xe9\n",
        2,
    );
    assert!(latin.contains("latin1.damos:2:"), "{latin}");
}

/// Tabs, runs of spaces, trailing spaces and CRLF line ends are whitespace, as in damo.
#[test]
fn tabs_trailing_spaces_and_crlf() {
    let out = translate(
        "spaced.damos",
        b"\t4K\t max  min min 5s max pageout   \r\n  # note \r\n",
        0,
    );
    assert!(out.contains("# damo: 4K\t max  min min 5s max pageout\n"), "{out}");
}

/// damo skips only lines starting with `#`: a trailing comment is more fields. When the
/// count still matches a variant (7 + 2 = 9), damo said "wrong input field"; here the
/// comment itself is named.
#[test]
fn inline_comment() {
    insta::assert_snapshot!(translate(
        "inline.damos",
        b"4K max min min 5s max pageout # cold pages\n",
        1
    ));
}

/// Control characters that Python splits on are field separators; the original line is
/// kept in a comment with them escaped, which TOML requires.
#[test]
fn control_characters() {
    let out = translate("control.damos", b"4K max\x0cmin min\x1c5s max pageout\n", 0);
    assert!(
        out.contains("# damo: 4K max\\u{c}min min\\u{1c}5s max pageout\n"),
        "{out}"
    );
    let bad = translate("bell.damos", b"4K max min min 5s\x07 max pageout\n", 1);
    assert!(bad.contains("bell.damos:1:16"), "{bad}");
}

#[test]
fn numbers_beyond_64_bits() {
    let content = b"18446744073709551616 max min min 5s max pageout\n\
        4K max 99999999999999999999999999999999999999999 max min max stat\n\
        4K max min min 99999999999999999999d max stat\n\
        4K max min min 5s max stat 1G 1s 4294967296 0 0\n";
    insta::assert_snapshot!(translate("overflow.damos", content, 1));
}

/// A line too long to show is still located, in the message.
#[test]
fn very_long_line() {
    let line = format!("4K max min min 5s max pageout {}\n", "1 ".repeat(400));
    let out = translate("long.damos", line.as_bytes(), 1);
    assert!(
        out.contains("long.damos:1:1: expected 7, 9, 12, 17 or 18 fields, found 407"),
        "{out}"
    );
}

#[test]
fn unreadable_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let missing = run(dir.path(), &["translate", "missing.damos"]);
    assert_eq!(missing.code, 2, "{}", missing.transcript());
    assert!(missing.stderr.contains("missing.damos"), "{}", missing.transcript());
    let directory = run(dir.path(), &["translate", "."]);
    assert_eq!(directory.code, 2);
    assert!(
        directory.stderr.contains("not a regular file"),
        "{}",
        directory.transcript()
    );
    let huge = dir.path().join("huge.damos");
    fs::File::create(&huge).unwrap().set_len(17 << 20).unwrap();
    let result = run(dir.path(), &["translate", "huge.damos"]);
    assert_eq!(result.code, 2);
    assert!(result.stderr.contains("larger than 16 MiB"), "{}", result.transcript());
}
