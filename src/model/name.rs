//! What a policy may be named, for every place that checks or makes a name: the schema of
//! `name`, a name taken from a file name, and a name import makes from its input's.
//!
//! A policy's name is its label in the state record, in `status` and in diagnostics, and
//! `<name>.toml` is the file import and translate write it to; the kernel never sees it.
//! Letters, digits, `.`, `_` and `-` are safe in all of those (a file name, a shell word, a
//! JSON key without escapes), and 64 characters keep a `status` line readable while leaving
//! file names far below the 255 bytes a Linux file system allows.

/// The longest name, in characters (all ASCII, so also in bytes).
pub const MAX_LEN: usize = 64;

/// The characters of a name, as the schema states it (with `maxLength` = [`MAX_LEN`]).
pub const PATTERN: &str = r"^[A-Za-z0-9][A-Za-z0-9._-]*$";

/// What a policy name may contain, for an explicit `name` and for one taken from a file name.
pub const HELP: &str = "a policy name has at most 64 characters: ASCII letters, digits, `.`, `_` and `-`, \
starting with a letter or digit";

/// Room a name made from a file stem leaves for the `-<kdamond>-<context>` suffix import
/// adds when its input holds several contexts, so that the suffixed names are valid too.
pub const STEM_SUFFIX_ROOM: usize = 16;

/// Whether `name` is a valid policy name: [`PATTERN`], at most [`MAX_LEN`] characters.
pub fn is_valid(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric()) && chars.all(is_name_char) && name.len() <= MAX_LEN
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

/// A valid name from a file stem: other characters become `-`, leading ones that cannot
/// start a name are dropped, and the name is cut to leave [`STEM_SUFFIX_ROOM`].
/// `fallback` when nothing is left.
pub fn from_file_stem(stem: &str, fallback: &str) -> String {
    let cleaned: String = stem.chars().map(|c| if is_name_char(c) { c } else { '-' }).collect();
    let trimmed = cleaned.trim_start_matches(|c: char| !c.is_ascii_alphanumeric());
    let name: String = trimmed.chars().take(MAX_LEN - STEM_SUFFIX_ROOM).collect();
    if name.is_empty() { fallback.to_owned() } else { name }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn the_help_states_the_length() {
        assert!(HELP.contains(&format!("at most {MAX_LEN} characters")));
    }

    /// The schema's pattern and length and [`is_valid`] accept the same names.
    fn schema_accepts(name: &str) -> bool {
        let schema = serde_json::json!({ "type": "string", "pattern": PATTERN, "maxLength": MAX_LEN });
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft7)
            .build(&schema)
            .expect("the name schema compiles")
            .is_valid(&serde_json::json!(name))
    }

    proptest! {
        #[test]
        fn the_schema_and_the_rule_agree(name in "[A-Za-z0-9._ é/-]{0,70}") {
            prop_assert_eq!(schema_accepts(&name), is_valid(&name), "{:?}", name);
        }

        #[test]
        fn a_name_from_any_stem_is_valid_with_its_suffix(stem in ".{0,100}", k in 0u32..100_000, c in 0u32..100_000) {
            let name = from_file_stem(&stem, "imported");
            prop_assert!(is_valid(&name), "{:?} → {:?}", stem, name);
            let suffixed = format!("{name}-{k}-{c}");
            prop_assert!(is_valid(&suffixed), "{:?}", suffixed);
        }
    }
}
