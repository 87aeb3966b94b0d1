//! A quick "valid" for documents that satisfy the committed schema, read from the committed
//! text itself. Building the full validator costs more than the rest of a `compile` together,
//! and most documents are valid; the full validator still judges every document this reading
//! does not accept, and words every diagnostic.
//!
//! The reading is deliberately partial: it answers [`Verdict::Valid`] only where the full
//! (draft-07) validator certainly agrees. A keyword it does not know makes the whole schema
//! unreadable here, and a case it does not settle exactly (a float against `integer`, a
//! string against `format`, a pattern regex-lite does not match) is [`Verdict::Unsure`]; both
//! leave the document to the full validator.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::sync::{Mutex, OnceLock};

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;
use toml::de::{DeArray, DeTable, DeValue};

use crate::policy::source;

/// What this reading can say about a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Valid,
    Invalid,
    Unsure,
}

impl Verdict {
    fn from_bool(valid: bool) -> Self {
        if valid { Verdict::Valid } else { Verdict::Invalid }
    }

    /// Both hold.
    fn and(self, other: impl FnOnce() -> Verdict) -> Verdict {
        match self {
            Verdict::Invalid => Verdict::Invalid,
            Verdict::Valid => other(),
            Verdict::Unsure => match other() {
                Verdict::Invalid => Verdict::Invalid,
                _ => Verdict::Unsure,
            },
        }
    }
}

/// Matched strings remembered per pattern, at most.
const MATCHED_CAP: usize = 4096;

/// `$ref` chains that consume no instance (a reference loop) end here, unsure.
const MAX_DEPTH: usize = 64;

/// One schema object, with the keywords the committed schema uses; any other keyword fails
/// deserialization, so that a schema this reading does not fully understand is never read.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Node<'s> {
    #[serde(rename = "type")]
    types: Option<Types>,
    #[serde(rename = "$ref", borrow)]
    reference: Option<Cow<'s, str>>,
    #[serde(rename = "allOf", default, borrow)]
    all_of: Vec<Node<'s>>,
    #[serde(rename = "anyOf", default, borrow)]
    any_of: Vec<Node<'s>>,
    #[serde(rename = "oneOf", default, borrow)]
    one_of: Vec<Node<'s>>,
    #[serde(rename = "const")]
    constant: Option<Value>,
    #[serde(borrow, default)]
    properties: BTreeMap<Cow<'s, str>, Node<'s>>,
    #[serde(rename = "additionalProperties")]
    additional_properties: Option<bool>,
    #[serde(borrow, default)]
    required: Vec<Cow<'s, str>>,
    #[serde(borrow)]
    items: Option<Box<Node<'s>>>,
    minimum: Option<serde_json::Number>,
    maximum: Option<serde_json::Number>,
    #[serde(rename = "minLength")]
    min_length: Option<usize>,
    #[serde(rename = "maxLength")]
    max_length: Option<usize>,
    #[serde(rename = "minItems")]
    min_items: Option<usize>,
    #[serde(borrow)]
    pattern: Option<Cow<'s, str>>,
    /// `pattern` compiled on first use; `None` where regex-lite's reading is not safe to use.
    #[serde(skip)]
    regex: OnceLock<Option<regex_lite::Regex>>,
    /// Strings `pattern` already matched: policies repeat the same few values ("0%", "1s")
    /// in every scheme, and matching costs more than looking up.
    #[serde(skip)]
    matched: Mutex<HashSet<String>>,
    #[serde(borrow)]
    format: Option<Cow<'s, str>>,
    #[serde(borrow, default)]
    definitions: BTreeMap<Cow<'s, str>, Node<'s>>,
    // Annotations: no effect on validity.
    #[serde(rename = "$schema")]
    _schema: Option<IgnoredAny>,
    #[serde(rename = "title")]
    _title: Option<IgnoredAny>,
    #[serde(rename = "description")]
    _description: Option<IgnoredAny>,
    #[serde(rename = "examples")]
    _examples: Option<IgnoredAny>,
    #[serde(rename = "default")]
    _default: Option<IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Types {
    One(String),
    Many(Vec<String>),
}

/// A TOML value as the full validator sees it in its JSON form ([`source::json`]), where this
/// reading settles it. `Other` (a float, a datetime, an integer beyond `i64`) never is.
#[derive(Clone, Copy)]
enum View<'a, 'i> {
    Table(&'a DeTable<'i>),
    Array(&'a DeArray<'i>),
    String(&'a str),
    Integer(i64),
    Boolean,
    Other,
}

impl<'a, 'i> View<'a, 'i> {
    fn of(value: &'a DeValue<'i>) -> Self {
        match value {
            DeValue::Table(table) => View::Table(table),
            DeValue::Array(items) => View::Array(items),
            DeValue::String(s) => View::String(s),
            DeValue::Integer(i) => source::integer(i).map_or(View::Other, View::Integer),
            DeValue::Boolean(_) => View::Boolean,
            DeValue::Float(_) | DeValue::Datetime(_) => View::Other,
        }
    }
}

/// A schema read for quick acceptance.
pub struct Reader<'s> {
    root: Node<'s>,
}

impl<'s> Reader<'s> {
    /// Reads a schema's text; `None` if it uses anything this reading does not know.
    pub fn new(text: &'s str) -> Option<Self> {
        let root = serde_json::from_str(text).ok()?;
        Some(Self { root })
    }

    /// What the schema says of a document.
    pub fn verdict(&self, document: &DeTable<'_>) -> Verdict {
        self.node(&self.root, View::Table(document), 0)
    }

    fn node(&self, node: &Node<'_>, value: View<'_, '_>, depth: usize) -> Verdict {
        if depth > MAX_DEPTH || matches!(value, View::Other) {
            return Verdict::Unsure;
        }
        // Draft-07 ignores every keyword beside `$ref`.
        if let Some(reference) = &node.reference {
            return match reference
                .strip_prefix("#/definitions/")
                .and_then(|name| self.root.definitions.get(name))
            {
                Some(target) => self.node(target, value, depth + 1),
                None => Verdict::Unsure,
            };
        }
        types(node, value)
            .and(|| constant(node, value))
            .and(|| scalar(node, value))
            .and(|| self.object(node, value, depth))
            .and(|| self.array(node, value, depth))
            .and(|| self.all_of(&node.all_of, value, depth))
            .and(|| self.any_of(&node.any_of, value, depth))
            .and(|| self.one_of(&node.one_of, value, depth))
    }

    fn object(&self, node: &Node<'_>, value: View<'_, '_>, depth: usize) -> Verdict {
        let View::Table(table) = value else {
            return Verdict::Valid;
        };
        let mut verdict = Verdict::from_bool(node.required.iter().all(|key| table.contains_key(key.as_ref())));
        for (key, child) in table {
            verdict = verdict.and(|| match node.properties.get(key.get_ref().as_ref()) {
                Some(schema) => self.node(schema, View::of(child.get_ref()), depth + 1),
                None => Verdict::from_bool(node.additional_properties != Some(false)),
            });
        }
        verdict
    }

    fn array(&self, node: &Node<'_>, value: View<'_, '_>, depth: usize) -> Verdict {
        let View::Array(items) = value else {
            return Verdict::Valid;
        };
        let mut verdict = Verdict::from_bool(node.min_items.is_none_or(|min| items.len() >= min));
        if let Some(schema) = &node.items {
            for item in items.iter() {
                verdict = verdict.and(|| self.node(schema, View::of(item.get_ref()), depth + 1));
            }
        }
        verdict
    }

    fn all_of(&self, branches: &[Node<'_>], value: View<'_, '_>, depth: usize) -> Verdict {
        branches.iter().fold(Verdict::Valid, |verdict, branch| {
            verdict.and(|| self.node(branch, value, depth + 1))
        })
    }

    fn any_of(&self, branches: &[Node<'_>], value: View<'_, '_>, depth: usize) -> Verdict {
        if branches.is_empty() {
            return Verdict::Valid;
        }
        let mut verdict = Verdict::Invalid;
        for branch in branches {
            match self.node(branch, value, depth + 1) {
                Verdict::Valid => return Verdict::Valid,
                Verdict::Unsure => verdict = Verdict::Unsure,
                Verdict::Invalid => {}
            }
        }
        verdict
    }

    /// Exactly one branch: valid only when one is valid and every other certainly is not.
    fn one_of(&self, branches: &[Node<'_>], value: View<'_, '_>, depth: usize) -> Verdict {
        if branches.is_empty() {
            return Verdict::Valid;
        }
        let (mut valid, mut unsure) = (0, 0);
        for branch in branches {
            match self.node(branch, value, depth + 1) {
                Verdict::Valid => valid += 1,
                Verdict::Unsure => unsure += 1,
                Verdict::Invalid => {}
            }
        }
        match (valid, unsure) {
            (2.., _) => Verdict::Invalid,
            (1, 0) => Verdict::Valid,
            (0, 0) => Verdict::Invalid,
            _ => Verdict::Unsure,
        }
    }
}

fn types(node: &Node<'_>, value: View<'_, '_>) -> Verdict {
    let names: &[String] = match &node.types {
        None => return Verdict::Valid,
        Some(Types::One(name)) => std::slice::from_ref(name),
        Some(Types::Many(names)) => names,
    };
    let mut verdict = Verdict::Invalid;
    for name in names {
        let matches = match (name.as_str(), value) {
            ("object", View::Table(_))
            | ("array", View::Array(_))
            | ("string", View::String(_))
            | ("boolean", View::Boolean)
            | ("integer" | "number", View::Integer(_)) => true,
            ("object" | "array" | "string" | "boolean" | "integer" | "number" | "null", _) => false,
            _ => {
                verdict = Verdict::Unsure;
                continue;
            }
        };
        if matches {
            return Verdict::Valid;
        }
    }
    verdict
}

/// `const`, read for strings only (the only constants the schema has).
fn constant(node: &Node<'_>, value: View<'_, '_>) -> Verdict {
    match (&node.constant, value) {
        (None, _) => Verdict::Valid,
        (Some(Value::String(expected)), View::String(s)) => Verdict::from_bool(expected == s),
        // A string is never equal to a value of another type.
        (Some(Value::String(_)), _) => Verdict::Invalid,
        _ => Verdict::Unsure,
    }
}

/// The keywords of numbers and strings.
fn scalar(node: &Node<'_>, value: View<'_, '_>) -> Verdict {
    match value {
        View::Integer(n) => bound(n, node.minimum.as_ref(), |n, limit| n >= limit)
            .and(|| bound(n, node.maximum.as_ref(), |n, limit| n <= limit)),
        View::String(s) => {
            let length = || s.chars().count();
            Verdict::from_bool(node.min_length.is_none_or(|min| length() >= min))
                .and(|| Verdict::from_bool(node.max_length.is_none_or(|max| length() <= max)))
                .and(|| pattern(node, s))
                // Formats are checked on strings only; unknown ones are ignored, known
                // ones are not read here.
                .and(|| {
                    if node.format.is_some() {
                        Verdict::Unsure
                    } else {
                        Verdict::Valid
                    }
                })
        }
        _ => Verdict::Valid,
    }
}

/// A numeric bound, compared exactly (the schema's bounds are integers).
fn bound(n: i64, limit: Option<&serde_json::Number>, holds: fn(i128, i128) -> bool) -> Verdict {
    let Some(limit) = limit else { return Verdict::Valid };
    match limit
        .as_i64()
        .map(i128::from)
        .or_else(|| limit.as_u64().map(i128::from))
    {
        Some(limit) => Verdict::from_bool(holds(i128::from(n), limit)),
        None => Verdict::Unsure,
    }
}

fn pattern(node: &Node<'_>, text: &str) -> Verdict {
    let Some(pattern) = &node.pattern else {
        return Verdict::Valid;
    };
    let mut matched = node.matched.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if matched.contains(text) {
        return Verdict::Valid;
    }
    let regex = node.regex.get_or_init(|| {
        narrower(pattern)
            .then(|| regex_lite::Regex::new(pattern).ok())
            .flatten()
    });
    // regex-lite matches a subset of what the full validator's regex does: a match is
    // certain, a mismatch is not.
    match regex {
        Some(regex) if regex.is_match(text) => {
            // A long-running service sees ever new values: keep the memory bounded.
            if matched.len() >= MATCHED_CAP {
                matched.clear();
            }
            matched.insert(text.to_owned());
            Verdict::Valid
        }
        _ => Verdict::Unsure,
    }
}

/// Whether regex-lite's reading of `pattern` matches only strings the full validator's reading
/// matches too. regex-lite's `\s`, `\d` and `\w` are ASCII, no wider than the full validator's;
/// that inclusion holds only while nothing negates them (`\S`, `[^…]`), and `.` and flags
/// differ between the two, so patterns with those are not read here.
fn narrower(pattern: &str) -> bool {
    let mut chars = pattern.chars().peekable();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            // Escapes of the ASCII classes and of literal punctuation only.
            '\\' => match chars.next() {
                Some(
                    's' | 'd' | 'w' | '.' | '-' | '\\' | '/' | '+' | '*' | '?' | '(' | ')' | '[' | ']' | '{' | '}'
                    | '|' | '^' | '$',
                ) => {}
                _ => return false,
            },
            '[' if !in_class => {
                in_class = true;
                if chars.peek() == Some(&'^') {
                    return false;
                }
            }
            ']' if in_class => in_class = false,
            '[' => return false,
            '.' if !in_class => return false,
            '(' if chars.peek() == Some(&'?') => return false,
            _ => {}
        }
    }
    !in_class
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The verdict of `{"properties": {"v": schema}}` on the document `v = value`.
    fn verdict(schema: &str, value: &str) -> Verdict {
        let schema = format!(r#"{{"properties": {{"v": {schema}}}}}"#);
        let reader = Reader::new(&schema).expect("a readable schema");
        let document = format!("v = {value}\n");
        let (table, errors) = DeTable::parse_recoverable(&document);
        assert!(errors.is_empty(), "{value}");
        reader.verdict(table.get_ref())
    }

    #[test]
    fn unknown_keywords_make_the_schema_unreadable() {
        assert!(Reader::new(r#"{"type": "object", "not": {}}"#).is_none());
        assert!(Reader::new(r#"{"properties": {"a": {"enum": [1]}}}"#).is_none());
        assert!(Reader::new(r#"{"additionalProperties": {"type": "string"}}"#).is_none());
    }

    #[test]
    fn settles_only_what_it_reads_exactly() {
        let int = r#"{"type": "integer", "minimum": 1}"#;
        assert_eq!(verdict(int, "1"), Verdict::Valid);
        assert_eq!(verdict(int, "0x10"), Verdict::Valid);
        assert_eq!(verdict(int, "0"), Verdict::Invalid);
        assert_eq!(verdict(int, "\"1\""), Verdict::Invalid);
        // Floats, datetimes and integers beyond i64 are left to the full validator.
        assert_eq!(verdict(int, "1.0"), Verdict::Unsure);
        assert_eq!(verdict(int, "1979-05-27"), Verdict::Unsure);
        assert_eq!(verdict(int, "0xffffffffffffffff"), Verdict::Unsure);
        let spaced = r#"{"type": "string", "pattern": "^\\s*[0-9]+\\s*$"}"#;
        assert_eq!(verdict(spaced, "\" 12 \""), Verdict::Valid);
        assert_eq!(verdict(spaced, "\" 12 \""), Verdict::Valid, "a remembered match");
        // Unicode spaces match the full validator's `\s`, not regex-lite's.
        assert_eq!(verdict(spaced, "\"\\u00a012\""), Verdict::Unsure);
        assert_eq!(
            verdict(r#"{"type": "string", "format": "email"}"#, "\"a@b\""),
            Verdict::Unsure
        );
        assert_eq!(
            verdict(r#"{"type": "string", "maxLength": 2}"#, "\"µµ\""),
            Verdict::Valid
        );
    }

    #[test]
    fn objects_and_arrays() {
        let table = r#"{"type": "object", "properties": {"a": {"type": "boolean"}}, "additionalProperties": false, "required": ["a"]}"#;
        assert_eq!(verdict(table, "{ a = true }"), Verdict::Valid);
        assert_eq!(verdict(table, "{ a = true, b = 1 }"), Verdict::Invalid);
        assert_eq!(verdict(table, "{}"), Verdict::Invalid);
        let list = r#"{"type": "array", "items": {"type": "integer"}, "minItems": 1}"#;
        assert_eq!(verdict(list, "[1, 2]"), Verdict::Valid);
        assert_eq!(verdict(list, "[]"), Verdict::Invalid);
        assert_eq!(verdict(list, "[1, \"2\"]"), Verdict::Invalid);
    }

    #[test]
    fn one_of_needs_the_other_branches_certainly_invalid() {
        let unsure = r#"{"oneOf": [{"const": "a"}, {"type": "string", "pattern": "^a\\S*$"}]}"#;
        assert_eq!(verdict(unsure, "\"a\""), Verdict::Unsure);
        let keywords = r#"{"oneOf": [{"const": "a"}, {"const": "b"}]}"#;
        assert_eq!(verdict(keywords, "\"a\""), Verdict::Valid);
        assert_eq!(verdict(keywords, "\"c\""), Verdict::Invalid);
        assert_eq!(verdict(keywords, "1"), Verdict::Invalid);
    }

    #[test]
    fn patterns_with_negations_dots_or_flags_are_not_read() {
        for pattern in [r"^\S+$", r"^[^a]$", r"^a.b$", r"(?i)^a$", r"^\p{L}$", r"^\bx$"] {
            assert!(!narrower(pattern), "{pattern}");
        }
        for pattern in [
            r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
            r"^\s*(0x[0-9a-fA-F]+|[0-9]+)\s*$",
            r"^[0-9]+(\.[0-9]+)?%$",
        ] {
            assert!(narrower(pattern), "{pattern}");
        }
    }
}
