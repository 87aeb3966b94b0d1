//! The JSON schema of policy files: generated from the wire model, committed at
//! `schema/damo-policy.schema.json`, and enforced at run time from the committed text, so
//! what users' editors check and what `check` enforces are the same reviewed file.

mod accept;
mod fix;

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use jsonschema::error::ValidationErrorKind;
use schemars::generate::SchemaSettings;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::diag::{Code, Diagnostic};
use crate::model::units::echo;
use crate::model::wire::{PolicyFile, scalar};
use crate::policy::source::{self, KeyPath, Seg, SourceFile, SpanIndex};

/// The committed schema, as enforced.
pub const COMMITTED: &str = include_str!("../../../schema/damo-policy.schema.json");

/// Where the committed schema lives in the repository.
pub const COMMITTED_PATH: &str = "schema/damo-policy.schema.json";

/// Generates the schema from the wire model (draft-07, which TOML editors understand).
pub fn generate() -> String {
    let generator = SchemaSettings::draft07().into_generator();
    let mut schema = generator.into_root_schema_for::<PolicyFile>().to_value();
    strip_null(&mut schema);
    bound_integers(&mut schema);
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema serializes");
    text.push('\n');
    text
}

/// TOML has no null: an omitted key is the only way to leave an option unset, so the
/// `null` alternatives schemars adds for `Option` fields only blur error messages.
fn strip_null(node: &mut serde_json::Value) {
    use serde_json::Value as J;
    if let J::Object(map) = node {
        if let Some(J::Array(types)) = map.get_mut("type") {
            types.retain(|t| t != "null");
            if types.len() == 1 {
                let only = types.remove(0);
                map.insert("type".into(), only);
            }
        }
        if let Some(J::Array(branches)) = map.get("anyOf") {
            let kept: Vec<J> = branches
                .iter()
                .filter(|b| b.get("type") != Some(&J::from("null")))
                .cloned()
                .collect();
            if kept.len() == 1 {
                map.remove("anyOf");
                map.insert("allOf".into(), J::Array(kept));
            }
        }
        map.values_mut().for_each(strip_null);
    } else if let J::Array(items) = node {
        items.iter_mut().for_each(strip_null);
    }
}

/// schemars writes a `u32`'s bound only as `"format": "uint32"`, which validators ignore:
/// without a `maximum`, 2^32 passed the schema and failed later in serde's words. The
/// bound is written out, so editors and `check` report it as a range.
fn bound_integers(node: &mut serde_json::Value) {
    use serde_json::Value as J;
    match node {
        J::Object(map) => {
            let max = match map.get("format").and_then(J::as_str) {
                Some("uint8") => Some(u64::from(u8::MAX)),
                Some("uint16") => Some(u64::from(u16::MAX)),
                Some("uint32") => Some(u64::from(u32::MAX)),
                _ => None,
            };
            if let Some(max) = max {
                map.entry("maximum").or_insert(J::from(max));
            }
            map.values_mut().for_each(bound_integers);
        }
        J::Array(items) => items.iter_mut().for_each(bound_integers),
        _ => {}
    }
}

fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let schema: serde_json::Value = serde_json::from_str(COMMITTED).expect("the committed schema is JSON");
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft7)
            .build(&schema)
            .expect("the committed schema is a valid draft-07 schema")
    })
}

/// The committed schema, read for quick acceptance (`None` if it outgrew that reading).
fn reader() -> Option<&'static accept::Reader<'static>> {
    static READER: OnceLock<Option<accept::Reader<'static>>> = OnceLock::new();
    READER.get_or_init(|| accept::Reader::new(COMMITTED)).as_ref()
}

/// Whether the quick reading of the committed schema accepts `document` without the full
/// validator (which then finds nothing either).
pub fn quickly_accepted(document: &DeTable<'_>) -> bool {
    reader().is_some_and(|reader| reader.verdict(document) == accept::Verdict::Valid)
}

/// Validates a document against the committed schema; every structural error is returned.
pub fn validate(file: &Arc<SourceFile>, document: &DeTable<'_>, index: &SpanIndex<'_>) -> Vec<Diagnostic> {
    if quickly_accepted(document) {
        return Vec::new();
    }
    validate_fully(file, document, index)
}

/// [`validate`] by the full validator alone.
///
/// The validator sees the document in its JSON form, one `[[scheme]]` at a time: a copy of
/// a whole large file would cost as much memory again as its parse. Each scheme is checked as
/// the only scheme of an otherwise empty document, and the rest of the document with no
/// scheme; the findings are those of the whole document, a scheme's before the document's
/// own, as the validator orders them.
pub fn validate_fully(file: &Arc<SourceFile>, document: &DeTable<'_>, index: &SpanIndex<'_>) -> Vec<Diagnostic> {
    index.build_from(document);
    let mut findings = Findings {
        file,
        index,
        known_keys: HashMap::new(),
        out: Vec::new(),
    };
    let schemes = match document.get("scheme").map(Spanned::get_ref) {
        Some(DeValue::Array(schemes)) => schemes.as_ref(),
        _ => &[],
    };
    for (i, scheme) in schemes.iter().enumerate() {
        let alone = serde_json::json!({ "scheme": [source::value_to_json(scheme.get_ref())] });
        // The document's own findings (its missing `target`) are the rest's to report.
        findings.add(&alone, |path| match path.0.as_slice() {
            [Seg::Key(key), Seg::Index(0), ..] if key == "scheme" => {
                let mut path = path;
                path.0[1] = Seg::Index(i);
                Some(path)
            }
            _ => None,
        });
    }
    let rest = document
        .iter()
        .map(|(key, value)| {
            let value = match value.get_ref() {
                DeValue::Array(_) if key.get_ref() == "scheme" => serde_json::Value::Array(Vec::new()),
                other => source::value_to_json(other),
            };
            (key.get_ref().to_string(), value)
        })
        .collect();
    findings.add(&serde_json::Value::Object(rest), Some);
    findings.out
}

/// The schema's findings on a document, described and placed.
struct Findings<'f, 'i> {
    file: &'f Arc<SourceFile>,
    index: &'f SpanIndex<'i>,
    /// The keys the schema allows at each path, one entry for all the elements of an array:
    /// the same few tables of a large file can hold thousands of unknown keys.
    known_keys: HashMap<Vec<Seg>, Vec<String>>,
    out: Vec<Diagnostic>,
}

impl Findings<'_, '_> {
    /// Adds the validator's findings on `json`, each at the path `place` gives the place of its
    /// instance in `json` in the document, or left out where `place` gives none.
    fn add(&mut self, json: &serde_json::Value, place: impl Fn(KeyPath) -> Option<KeyPath>) {
        for error in validator().iter_errors(json) {
            let in_json = KeyPath(
                error
                    .instance_path()
                    .segments()
                    .map(|seg| match seg {
                        jsonschema::paths::LocationSegment::Property(p) => Seg::from(p.to_string()),
                        jsonschema::paths::LocationSegment::Index(i) => Seg::Index(i),
                    })
                    .collect(),
            );
            let value = pointer(json, &in_json);
            let Some(path) = place(in_json) else { continue };
            // A table of many unknown keys is one error: its findings are pushed in one go.
            if let ValidationErrorKind::AdditionalProperties { unexpected } = error.kind() {
                self.out.reserve(unexpected.len());
            }
            let (file, index, out) = (self.file, self.index, &mut self.out);
            // Placed as they are described, with no list of them in between.
            describe(error.kind(), &path, value, &mut self.known_keys, &mut |d| {
                let span = match &d.at_key {
                    Some(key) => index.key(&path.join(key.clone())),
                    None if d.label_key => index.key(&path),
                    None => index.value(&path),
                };
                out.push(d.diagnostic.at(file, span));
            });
        }
    }
}

fn pointer<'a>(json: &'a serde_json::Value, path: &KeyPath) -> Option<&'a serde_json::Value> {
    path.0.iter().try_fold(json, |value, seg| match seg {
        Seg::Key(k) => value.get(k.as_ref()),
        Seg::Index(i) => value.get(*i),
    })
}

struct Described {
    diagnostic: Diagnostic,
    /// Label this child key of the path instead of the path's value.
    at_key: Option<String>,
    /// Label the key of the path rather than its value.
    label_key: bool,
}

fn describe(
    kind: &ValidationErrorKind,
    path: &KeyPath,
    value: Option<&serde_json::Value>,
    known_keys: &mut HashMap<Vec<Seg>, Vec<String>>,
    emit: &mut impl FnMut(Described),
) {
    let at = |diagnostic| Described {
        diagnostic,
        at_key: None,
        label_key: false,
    };
    let name = if path.0.is_empty() {
        "the policy".to_owned()
    } else {
        format!("`{path}`")
    };
    let shown = value.map(show).unwrap_or_default();
    // An integer beyond 64 bits fails whatever the schema expects; its type is not the problem.
    if value.is_some_and(|v| v.get(crate::policy::source::BIG_INTEGER).is_some()) {
        emit(at(Diagnostic::error(
            Code::OutOfRange,
            format!("{name} is {shown}, out of range: it does not fit in 64 bits"),
        )
        .label("out of range")
        .help(range_help(path, None))));
        return;
    }
    match kind {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            for key in unexpected {
                emit(Described {
                    diagnostic: Diagnostic::error(Code::UnknownKey, format!("unknown key `{key}` in {name}"))
                        .label("not a known key")
                        .help(known_keys_help(path, key, known_keys)),
                    at_key: Some(key.clone()),
                    label_key: false,
                });
            }
        }
        ValidationErrorKind::Required { property } => {
            let key = property.as_str().unwrap_or_default();
            emit(Described {
                diagnostic: Diagnostic::error(Code::MissingKey, format!("{name} needs `{key}`"))
                    .label(format!("`{key}` is missing here"))
                    .help(required_help(key)),
                at_key: None,
                label_key: true,
            })
        }
        ValidationErrorKind::Type { kind } => {
            let found = value.map(json_type).unwrap_or("nothing");
            emit(at(Diagnostic::error(
                Code::WrongType,
                format!("{name} must be {}, not {found}", type_words(kind)),
            )
            .label(format!("this is {found}"))
            .help(fix::type_help(path, kind, value))))
        }
        ValidationErrorKind::Enum { options } => {
            let choices: Vec<String> = options
                .as_array()
                .map(|a| a.iter().filter_map(|o| o.as_str()).map(|s| format!("`{s}`")).collect())
                .unwrap_or_default();
            emit(at(unknown_keyword(&name, &shown, value, &choices)))
        }
        // schemars documents each keyword as a `oneOf` branch with a `const`.
        ValidationErrorKind::OneOfNotValid { context }
            if !context.is_empty()
                && context.iter().all(|branch| {
                    branch
                        .iter()
                        .all(|e| matches!(e.kind(), ValidationErrorKind::Constant { .. }))
                }) =>
        {
            let choices: Vec<String> = context
                .iter()
                .flatten()
                .filter_map(|e| match e.kind() {
                    ValidationErrorKind::Constant { expected_value } => {
                        expected_value.as_str().map(|s| format!("`{s}`"))
                    }
                    _ => None,
                })
                .collect();
            emit(at(unknown_keyword(&name, &shown, value, &choices)))
        }
        ValidationErrorKind::Pattern { pattern } => emit(at(pattern_mismatch(pattern, &shown, value))),
        ValidationErrorKind::AnyOf { .. } | ValidationErrorKind::OneOfNotValid { .. } => emit(at(Diagnostic::error(
            Code::WrongType,
            format!("{shown} is not valid for {name}"),
        )
        .label("not a valid form")
        .help(fix::type_help(
            path,
            &jsonschema::error::TypeKind::Single(jsonschema::JsonType::Object),
            value,
        )))),
        ValidationErrorKind::Minimum { limit } if limit.as_u64() != Some(0) => emit(at(Diagnostic::error(
            Code::OutOfRange,
            format!("{name} is {shown}, out of range: at least {limit}"),
        )
        .label("out of range")
        .help(range_help(path, None)))),
        ValidationErrorKind::Maximum { limit } => emit(at(Diagnostic::error(
            Code::OutOfRange,
            format!("{name} is {shown}, out of range: at most {limit}"),
        )
        .label("out of range")
        .help(range_help(path, limit.as_u64())))),
        other => {
            let text = match other {
                ValidationErrorKind::Minimum { .. } => format!("{name} must not be negative"),
                ValidationErrorKind::MinLength { limit } => {
                    format!("{name} must have at least {limit} character{}", plural(*limit))
                }
                ValidationErrorKind::MaxLength { limit } => {
                    format!("{name} must have at most {limit} character{}", plural(*limit))
                }
                ValidationErrorKind::MinItems { limit } => {
                    format!("{name} must have at least {limit} item{}", plural(*limit))
                }
                _ => format!("{shown} is not valid for {name}"),
            };
            emit(at(Diagnostic::error(Code::BadValue, text)
                .label("out of range")
                .help("see the schema's description of this key (`damo-policy schema`)")))
        }
    }
}

/// A string that does not match its pattern, in the words of the parser `check` converts it
/// with: why the value is wrong (`0.5B` is not a whole number of bytes), not only that it is.
fn pattern_mismatch(pattern: &str, shown: &str, value: Option<&serde_json::Value>) -> Diagnostic {
    let Some(grammar) = scalar::Grammar::of_pattern(pattern) else {
        return Diagnostic::error(Code::BadValue, format!("{shown} is not valid here"))
            .label("not a valid form")
            .help("see the schema's description of this key (`damo-policy schema`)");
    };
    let noun = grammar.noun();
    let reason = match (grammar, value.and_then(|v| v.as_str())) {
        (scalar::Grammar::PolicyName, _) | (_, None) => None,
        (_, Some(text)) => grammar.judge(text).err(),
    };
    // The parser's reason names what is wrong, so the label only points at the value.
    let (message, label, help) = match reason {
        Some(error) => (error.message, "here".to_owned(), error.help),
        None => (
            format!("{shown} is not {noun}"),
            format!("expected {noun}"),
            grammar.help().to_owned(),
        ),
    };
    Diagnostic::error(Code::BadValue, message).label(label).help(help)
}

/// How to bring an out-of-range integer into range, from the kind of key it is.
fn range_help(path: &KeyPath, max: Option<u64>) -> String {
    let last = path.0.iter().rev().find_map(|s| match s {
        Seg::Key(k) => Some(k.as_ref()),
        Seg::Index(_) => None,
    });
    match (last, max) {
        (Some("pids"), _) => format!(
            "write the pid of a running process, from 1 to {} (pid 0 is no process), or select \
processes by name with `process = \"…\"`",
            crate::model::wire::PID_MAX
        ),
        (Some("min" | "max" | "size"), None) => {
            "write a smaller value: the largest size is \"max\" (2^64 - 1)".to_owned()
        }
        (Some("start" | "end"), None) => "write a smaller value: the largest address is 0xffffffffffffffff".to_owned(),
        (_, Some(max)) if max == u64::from(u32::MAX) => {
            format!("write a value from 0 to {max}: the kernel keeps this value in 32 bits")
        }
        (_, Some(max)) => format!("write a value of at most {max}"),
        (_, None) => "write a smaller value; `damo-policy schema` describes this key".to_owned(),
    }
}

fn unknown_keyword(name: &str, shown: &str, value: Option<&serde_json::Value>, choices: &[String]) -> Diagnostic {
    let mut help = format!("use one of {}", choices.join(", "));
    if let Some(guess) = value.and_then(|v| v.as_str()).and_then(|v| closest(v, choices)) {
        help = format!("did you mean {guess}? ({help})");
    }
    Diagnostic::error(Code::UnknownKeyword, format!("{shown} is not a valid value for {name}"))
        .label("unknown keyword")
        .help(help)
}

fn required_help(key: &str) -> String {
    match key {
        "target" => "add a `[target]` table with one of `pids`, `process`, `cgroup` or `physical`".to_owned(),
        "action" => "add `action = \"…\"`, e.g. `action = \"pageout\"`".to_owned(),
        "type" => "add `type = \"…\"`, e.g. `type = \"anon\"`".to_owned(),
        _ => format!("add `{key} = …`; see the schema's description of `{key}`"),
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn show(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => echo(&format!("\"{s}\"")),
        other if let Some(text) = other.get(crate::policy::source::BIG_INTEGER).and_then(|t| t.as_str()) => echo(text),
        other if other.get("$__toml_datetime").is_some() => "a date-time".to_owned(),
        other => echo(&other.to_string()),
    }
}

fn json_type(value: &serde_json::Value) -> &'static str {
    use serde_json::Value as J;
    match value {
        J::Null => "nothing",
        J::Bool(_) => "a boolean",
        J::Number(n) if n.is_f64() => "a float",
        J::Number(n) if n.as_i64().is_some_and(|n| n < 0) => "a negative integer",
        J::Number(_) => "an integer",
        J::String(_) => "a string",
        J::Array(_) => "an array",
        J::Object(o) if o.contains_key("$__toml_datetime") => "a date-time",
        J::Object(_) => "a table",
    }
}

fn type_words(kind: &jsonschema::error::TypeKind) -> String {
    use jsonschema::JsonType;
    let word = |t: &JsonType| match t {
        JsonType::Array => "an array",
        JsonType::Boolean => "a boolean",
        JsonType::Integer => "a non-negative integer",
        JsonType::Null => "nothing",
        JsonType::Number => "a number",
        JsonType::Object => "a table",
        JsonType::String => "a string",
    };
    match kind {
        jsonschema::error::TypeKind::Single(t) => word(t).to_owned(),
        jsonschema::error::TypeKind::Multiple(set) => set.iter().map(|t| word(&t)).collect::<Vec<_>>().join(" or "),
    }
}

fn known_keys_help(path: &KeyPath, unexpected: &str, known_keys: &mut HashMap<Vec<Seg>, Vec<String>>) -> String {
    let at_top_level = known_keys_at(known_keys, &[]).contains(&format!("`{unexpected}`"));
    let keys = known_keys_at(known_keys, &path.0);
    if !path.0.is_empty() && at_top_level {
        format!("`{unexpected}` is a key of the top level of the file: move it above the first `[table]` header")
    } else if keys.is_empty() {
        "remove it".to_owned()
    } else if let Some(guess) = closest(unexpected, keys) {
        format!("did you mean {guess}? (known keys: {})", keys.join(", "))
    } else {
        format!("remove it, or use one of: {}", keys.join(", "))
    }
}

/// [`properties_at`] the path, looked up once for all the elements of an array.
fn known_keys_at<'c>(known_keys: &'c mut HashMap<Vec<Seg>, Vec<String>>, path: &[Seg]) -> &'c [String] {
    let any_element = path.iter().map(|seg| match seg {
        Seg::Key(key) => Seg::Key(key.clone()),
        Seg::Index(_) => Seg::Index(0),
    });
    known_keys
        .entry(any_element.collect())
        .or_insert_with(|| properties_at(fix::schema(), path))
}

/// The property names the schema allows at a path.
fn properties_at(root: &serde_json::Value, path: &[Seg]) -> Vec<String> {
    let mut nodes = Vec::new();
    fix::nodes_at(root, root, path, &mut nodes);
    let mut keys: Vec<String> = nodes
        .iter()
        .filter_map(|node| node.get("properties").and_then(|p| p.as_object()))
        .flat_map(|p| p.keys().map(|k| format!("`{k}`")))
        .collect();
    keys.dedup();
    keys
}

/// The choice closest to `word` by edit distance, if it is close enough to be a typo.
pub fn closest<'a>(word: &str, choices: &'a [String]) -> Option<&'a String> {
    let word_chars = word.chars().count();
    choices
        .iter()
        // The distance is at least the difference in length: a long value (a line of
        // garbage) is no typo of a keyword, and measuring it would cost its length each time.
        .filter(|c| word_chars.abs_diff(c.trim_matches('`').chars().count()) <= c.len().max(4) / 3)
        .map(|c| (edit_distance(word, c.trim_matches('`')), c))
        .filter(|(d, c)| *d <= c.len().max(4) / 3)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}
