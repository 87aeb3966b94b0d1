//! Property tests of the translator: arbitrary text, and lines built from damo's token
//! grammar with mutations, never panic; every error is located on the input; every
//! translation that succeeds is a policy that validates. The import of YAML built from
//! damo's keys and YAML's syntax never panics either, and its errors are located likewise.
//!
//! `PROPTEST_CASES` raises the number of cases for a longer fuzzing run.

use proptest::prelude::*;

use std::sync::Arc;

use damo_policy::interop::kdamonds::import;
use damo_policy::interop::legacy::translate::TargetChoice;
use damo_policy::kernel::Version;
use damo_policy::policy::source::SourceFile;
use damo_policy::validate;

use crate::support::translate;

/// Tokens damo's grammar knows, and near misses.
fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("min".to_owned()),
        Just("max".to_owned()),
        Just("#".to_owned()),
        "[0-9]{1,3}(,[0-9]{3}){0,7}(\\.[0-9]{1,20})?(B|K|KB|KiB|M|MiB|G|GB|T|P|E|EiB|k|iB|%|ns|us|ms|s|m|h|d|S)?",
        "(pageout|hugepage|NOHUGEPAGE|lru_prio|migrate_hot|stat|cold|willneed|collapse|hot|bogus)",
        "(none|free_mem_rate|FREE_MEM_RATE|psi)",
        "[0-9]{1,25}",
        "-?[0-9]{1,4}(e[0-9])?",
        "\\PC{1,6}",
    ]
}

fn line() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(token(), 7..=7),
        prop::collection::vec(token(), 9..=9),
        prop::collection::vec(token(), 12..=12),
        prop::collection::vec(token(), 17..=18),
        prop::collection::vec(token(), 0..25),
    ]
    .prop_map(|fields| fields.join(" "))
}

/// Role-specific tokens, so that most lines are valid and the properties are exercised on
/// translations that succeed, not only on errors.
fn structured_line() -> impl Strategy<Value = String> {
    let (min_size, max_size) = ("(min|[0-9]{1,3}(\\.[0-9])?(K|M|KiB))", "(max|[1-9][0-9]?(G|GB))");
    let (min_rate, max_rate) = ("(min|[0-9](\\.[0-9]{1,2})?%?)", "(max|[5-9][0-9]%?|1[0-9]{2})");
    let (min_age, max_age) = ("(min|[0-9]{1,3}(\\.[0-9])?(us|ms|s)?)", "(max|[1-9](h|d))");
    let action = "(pageout|hugepage|nohugepage|cold|willneed|stat|lru_prio|lru_deprio|collapse)";
    let weight = "[0-9]{1,3}";
    let pattern = (min_size, max_size, min_rate, max_rate, min_age, max_age, action);
    let quota = ("[0-9]{1,3}(ms|s)?", "[0-9]{1,3}(K|M|G)?", "[1-9][0-9]{0,2}(ms|s)?");
    let weights = (weight, weight, weight);
    let marks = (
        "(none|free_mem_rate)",
        "[0-9]{1,2}(ms|s)",
        "[8-9][0-9]{2}",
        "[4-7][0-9]{2}",
        "[0-3][0-9]{2}",
    );
    (pattern, quota, weights, marks, 0..5usize).prop_map(|(p, q, w, m, variant)| {
        let mut fields = vec![p.0, p.1, p.2, p.3, p.4, p.5, p.6];
        let weights = [w.0, w.1, w.2];
        let marks = [m.0, m.1, m.2, m.3, m.4];
        match variant {
            0 => {}
            1 => fields.extend([q.1, q.2]),
            2 => fields.extend([q.1, q.2].into_iter().chain(weights)),
            3 => fields.extend([q.1, q.2].into_iter().chain(weights).chain(marks)),
            _ => fields.extend([q.0, q.1, q.2].into_iter().chain(weights).chain(marks)),
        }
        fields.join(" ")
    })
}

fn check(text: &str) {
    for target in [TargetChoice::Physical { chosen: false }, TargetChoice::Pids(vec![1])] {
        let translation = translate(text, target);
        for d in &translation.diagnostics {
            assert!(d.file.is_some(), "a diagnostic without its file: {}", d.message);
        }
        let errors = translation.diagnostics.iter().any(|d| d.is_error());
        assert_eq!(
            translation.text.is_some(),
            !errors,
            "text exactly when there is no error"
        );
        if let Some(policy) = translation.text {
            let outcome = validate::validate_file(
                Arc::new(SourceFile::new("fuzz.toml", policy.as_str())),
                Version::NEWEST_KNOWN,
            );
            assert!(
                outcome.policy.is_some(),
                "a translation that does not validate:\n{policy}"
            );
        }
    }
}

/// Pieces of damo's YAML and of YAML's syntax, to be put together in any order.
fn yaml_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        "(kdamonds|contexts|schemes|ops|targets|pid|action|access_pattern|sz_bytes|min|max|quotas|goals|<<): ",
        "\n {0,6}(- )?",
        "(paddr|vaddr|pageout|max|4,096|0 %|1 s|18446744073709551615|0x1f|017|yes|~|1.0e\\+3|'q'|\"d\")",
        "[\\[\\]{},:&*!|>#?%@`'\"-]",
        "(&a |\\*a|!!str |!!python/object:x |--- |\\.\\.\\.)",
        "\\PC{1,4}",
    ]
}

fn check_yaml(text: &str) {
    let input = Arc::new(SourceFile::new("fuzz.yaml", text));
    let (_, diagnostics) = import::import(&input, "fuzz", &TargetChoice::Physical { chosen: false });
    for d in &diagnostics {
        assert!(d.file.is_some(), "a diagnostic without its file: {}", d.message);
        if let Some(span) = &d.span {
            assert!(
                span.end <= text.len() && text.is_char_boundary(span.start),
                "{span:?} is not on the input: {}",
                d.message
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in "[\\PC\\x00-\\x1f\\x7f\\u{85}]{0,200}(\n\\PC{0,80}){0,4}") {
        check(&text);
    }

    #[test]
    fn structured_lines_translate_or_are_located(lines in prop::collection::vec(structured_line(), 1..4)) {
        check(&lines.join("\n"));
    }

    #[test]
    fn damo_like_yaml_imports_or_is_located(pieces in prop::collection::vec(yaml_piece(), 0..40)) {
        check_yaml(&pieces.concat());
    }

    #[test]
    fn grammar_lines_translate_or_are_located(lines in prop::collection::vec(line(), 1..4)) {
        check(&lines.join("\n"));
    }
}
