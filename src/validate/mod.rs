//! Validation of policy files, in layers, collecting every finding before reporting:
//! TOML syntax → the committed JSON schema → typed model → rules on the file as written
//! ([`rules`]) → units and defaults ([`resolve`], which only converts) → rules on the
//! resolved policy ([`rules`]) → features of the target kernel ([`features`]) → rules across
//! the files of a directory (unique names). What shape a part needs to be converted at all
//! is [`shape`], read by both resolve and the rules.

mod features;
mod resolve;
mod rules;
pub mod schema;
mod shape;

use std::collections::HashMap;
use std::sync::Arc;

use serde::Deserialize;

use crate::diag::{Code, Diagnostic};
use crate::kernel::Version;
use crate::model::resolved::Policy;
use crate::model::wire::PolicyFile;
use crate::policy::source::{self, KeyPath, SourceFile, SpanIndex};

/// What validation learnt about one file.
pub struct FileOutcome {
    pub file: Arc<SourceFile>,
    /// The resolved policy, when the file has no errors.
    pub policy: Option<Policy>,
    pub diagnostics: Vec<Diagnostic>,
    /// The policy's name, once known (also for policies with errors).
    name: Option<String>,
    /// Span of the policy's `name` key, when it has one.
    name_span: Option<std::ops::Range<usize>>,
}

/// Locates findings in one file.
pub(crate) struct Ctx<'a> {
    pub file: &'a Arc<SourceFile>,
    pub index: &'a SpanIndex<'a>,
    pub diags: Vec<Diagnostic>,
}

impl Ctx<'_> {
    /// Reports a finding about the value at `path`.
    pub fn report(&mut self, diagnostic: Diagnostic, path: &KeyPath) {
        let span = self.index.value(path);
        self.diags.push(diagnostic.at(self.file, span));
    }

    /// Reports a finding about the key at `path` (a field that should not be there).
    pub fn report_key(&mut self, diagnostic: Diagnostic, path: &KeyPath) {
        let span = self.index.key(path);
        self.diags.push(diagnostic.at(self.file, span));
    }

    pub fn has_errors(&self) -> bool {
        self.diags.iter().any(Diagnostic::is_error)
    }
}

/// Validates one file's text for a target kernel.
pub fn validate_file(file: Arc<SourceFile>, kernel: Version) -> FileOutcome {
    let text = Arc::clone(&file.text);
    let parsed = match source::parse(&text) {
        Ok(parsed) => parsed,
        Err(errors) => {
            let diagnostics = errors
                .iter()
                .map(|e| syntax_error(&file, e, Code::TomlSyntax))
                .collect();
            return FileOutcome {
                file,
                policy: None,
                diagnostics,
                name: None,
                name_span: None,
            };
        }
    };
    let mut schema_errors = crate::validate::schema::validate(&file, parsed.table.get_ref(), &parsed.index);
    schema_errors.sort_by_key(|d| d.span.as_ref().map_or(0, |s| s.start));
    if !schema_errors.is_empty() {
        return FileOutcome {
            file,
            policy: None,
            diagnostics: schema_errors,
            name: None,
            name_span: None,
        };
    }
    let name_span = parsed.table.get_ref().get("name").map(|name| name.span());
    let wire = match PolicyFile::deserialize(toml::de::Deserializer::from(parsed.table)) {
        Ok(wire) => wire,
        Err(error) => {
            let diagnostics = vec![data_error(&file, &error)];
            return FileOutcome {
                file,
                policy: None,
                diagnostics,
                name: None,
                name_span,
            };
        }
    };
    let name = Some(wire.name.clone().unwrap_or_else(|| file.stem()));
    let mut ctx = Ctx {
        file: &file,
        index: &parsed.index,
        diags: Vec::new(),
    };
    rules::check_written(&mut ctx, &wire);
    let policy = resolve::policy(&mut ctx, &wire);
    if let Some(policy) = &policy {
        rules::check(&mut ctx, &wire, policy);
        features::check(&mut ctx, &wire, policy, kernel);
    }
    let policy = policy.filter(|_| !ctx.has_errors());
    let mut diagnostics = ctx.diags;
    diagnostics.sort_by_key(|d| d.span.as_ref().map_or(0, |s| s.start));
    FileOutcome {
        file,
        policy,
        diagnostics,
        name,
        name_span,
    }
}

/// A TOML error, coded by the stage that found it: `toml-syntax` for the parser,
/// `wrong-type` for reading a well-formed document into the model (`code`).
fn syntax_error(file: &Arc<SourceFile>, error: &toml::de::Error, code: Code) -> Diagnostic {
    let message = plain_toml_message(error.message().trim_end(), file, error.span());
    let help = if message.contains("recurs") {
        "the document nests too deeply; policy files nest only a few levels"
    } else if message.contains("unknown field") {
        "remove the key or correct its spelling"
    } else if message.contains("invalid type") {
        "see the schema's description of this key for the values it accepts"
    } else {
        "fix the TOML syntax at the marked place (https://toml.io/en/v1.0.0)"
    };
    // Some parser errors (recursion limits) carry no span: point at the start.
    let span = error.span().unwrap_or(0..0);
    Diagnostic::error(code, message)
        .label("here")
        .help(help)
        .at(file, Some(span))
}

/// The TOML parser's message in a user's words where its own wording is about the parser:
/// what it expected next ("expected nothing", "expected literal string" after a bare `=`) or
/// a key it does not name.
fn plain_toml_message(message: &str, file: &SourceFile, span: Option<std::ops::Range<usize>>) -> String {
    let at = span.and_then(|span| file.text.get(span)).unwrap_or_default().trim();
    match message {
        "duplicate key" if !at.is_empty() => {
            format!("duplicate key {}", crate::model::units::echo(at))
        }
        "string values must be quoted, expected literal string" if at.is_empty() => {
            "a value is missing after `=`".to_owned()
        }
        "invalid basic string, expected `\"`" => "unclosed string: a closing `\"` is missing".to_owned(),
        other => other.strip_suffix(", expected nothing").unwrap_or(other).to_owned(),
    }
}

/// A value the schema passed but the wire model cannot hold. The schema states every bound
/// the model has, so this is a safety net; the TOML itself is well-formed, so the words are
/// about the value, not serde's internals or the syntax.
fn data_error(file: &Arc<SourceFile>, error: &toml::de::Error) -> Diagnostic {
    let message = error.message().trim_end();
    let integer = message.split('`').nth(1).filter(|_| {
        message.starts_with("invalid value: integer") || message.contains(" as i128") || message.contains(" as u128")
    });
    let Some(integer) = integer else {
        return syntax_error(file, error, Code::WrongType);
    };
    let max = ["u8", "u16", "u32", "u64"]
        .into_iter()
        .find(|t| message.ends_with(&format!("expected {t}")))
        .map(|t| match t {
            "u8" => u64::from(u8::MAX),
            "u16" => u64::from(u16::MAX),
            "u32" => u64::from(u32::MAX),
            _ => u64::MAX,
        });
    let (message, help) = match max {
        Some(max) => (
            format!("`{integer}` is out of range: at most {max}"),
            format!("write a value from 0 to {max}"),
        ),
        None => (
            format!("`{integer}` is out of range: it does not fit in 64 bits"),
            "write a smaller value; `damo-policy schema` describes this key".to_owned(),
        ),
    };
    let span = error.span().unwrap_or(0..0);
    Diagnostic::error(Code::OutOfRange, message)
        .label("out of range")
        .help(help)
        .at(file, Some(span))
}

/// Rules that need every file: policy names are unique across the set.
pub fn check_across(outcomes: &mut [FileOutcome]) {
    let mut first_by_name: HashMap<String, usize> = HashMap::new();
    for i in 0..outcomes.len() {
        let Some(name) = outcomes[i].name.clone() else { continue };
        match first_by_name.get(&name) {
            None => {
                first_by_name.insert(name, i);
            }
            Some(&first) => {
                let first_file = outcomes[first].file.display_path();
                let how = if outcomes[i].name_span.is_some() {
                    "set by `name`"
                } else {
                    "taken from the file name"
                };
                let diagnostic = Diagnostic::error(
                    Code::DuplicateName,
                    format!("policy name `{name}` ({how}) is already used by {first_file}"),
                )
                .label("duplicate name")
                .help("give each policy of a directory a unique `name`");
                let file = Arc::clone(&outcomes[i].file);
                let span = outcomes[i].name_span.clone().or(Some(0..0));
                outcomes[i].diagnostics.push(diagnostic.at(&file, span));
                outcomes[i].policy = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Integers the wire model cannot hold are out of range, in words, whatever serde says.
    #[test]
    fn integers_the_model_cannot_hold_are_out_of_range() {
        #[derive(Debug, Deserialize)]
        struct Wire {
            #[allow(dead_code)]
            v: u32,
        }
        #[derive(Debug, Deserialize)]
        struct Scalar {
            #[allow(dead_code)]
            v: crate::model::wire::Raw,
        }
        let file = Arc::new(SourceFile::new("p.toml", ""));
        let error = toml::from_str::<Wire>("v = 99999999999").unwrap_err();
        let diagnostic = data_error(&file, &error);
        assert_eq!(diagnostic.code, Code::OutOfRange);
        assert_eq!(diagnostic.message, "`99999999999` is out of range: at most 4294967295");
        let error = toml::from_str::<Scalar>("v = 99999999999999999999").unwrap_err();
        let diagnostic = data_error(&file, &error);
        assert_eq!(
            diagnostic.message,
            "`99999999999999999999` is out of range: it does not fit in 64 bits"
        );
        assert!(!diagnostic.help.unwrap().contains("TOML syntax"));
        // Other mistakes keep their own wording.
        let error = toml::from_str::<Wire>("v = \"x\"").unwrap_err();
        assert_eq!(data_error(&file, &error).code, Code::WrongType);
    }
}
