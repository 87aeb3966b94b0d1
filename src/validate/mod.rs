//! Validation of policy files, in layers, collecting every finding before reporting:
//! TOML syntax → the committed JSON schema → typed model of the parts the schema did not
//! reject ([`readable`]) → rules on the file as written ([`rules`]) → units and defaults
//! ([`resolve`], which only converts) → rules on each resolved part ([`rules`]) → features
//! of the target kernel ([`features`]) → rules across the files of a directory (unique
//! names). Only a syntax error stops a file; a later layer skips just the parts an earlier
//! one could not read. What shape a part needs to be converted at all is [`shape`], read by
//! both resolve and the rules.

mod features;
mod readable;
mod resolve;
mod rules;
pub mod schema;
mod shape;

use std::collections::HashMap;
use std::sync::Arc;

use crate::diag::{Code, Diagnostic};
use crate::kernel::Version;
use crate::model::resolved::Policy;
use crate::policy::source::{self, KeyPath, SourceFile, SpanIndex};
use readable::{Reading, Unread};

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
    /// Span of each scheme's `action`, for findings across files.
    action_spans: Vec<Option<std::ops::Range<usize>>>,
}

/// Locates findings in one file.
pub(crate) struct Ctx<'a> {
    pub file: &'a Arc<SourceFile>,
    pub index: &'a SpanIndex<'a>,
    /// Which parts of the file the wire model holds, and where they are in the file.
    pub reading: &'a Reading,
    pub diags: Vec<Diagnostic>,
}

impl Ctx<'_> {
    /// Reports a finding about the value at `path`.
    pub fn report(&mut self, diagnostic: Diagnostic, path: &KeyPath) {
        let span = self.span(path);
        self.diags.push(diagnostic.at(self.file, span));
    }

    /// Reports a finding about the key at `path` (a field that should not be there).
    pub fn report_key(&mut self, diagnostic: Diagnostic, path: &KeyPath) {
        let span = self.index.key(&self.reading.in_file(path));
        self.diags.push(diagnostic.at(self.file, span));
    }

    /// The span of the value at `path` of the wire model.
    pub fn span(&self, path: &KeyPath) -> Option<std::ops::Range<usize>> {
        self.index.value(&self.reading.in_file(path))
    }

    /// The number of the wire model's scheme `i` in the file (from 0), as findings name it.
    pub fn scheme_number(&self, i: usize) -> usize {
        self.reading.scheme_index.get(i).copied().unwrap_or(i)
    }

    pub fn has_errors(&self) -> bool {
        self.diags.iter().any(Diagnostic::is_error)
    }
}

/// Validates one file's text for a target kernel. A TOML syntax error stops there; otherwise
/// the schema's findings are reported with the semantic rules' on every part of the file the
/// schema did not reject ([`readable`]).
pub fn validate_file(file: Arc<SourceFile>, kernel: Version) -> FileOutcome {
    validate(file, kernel, Purpose::Apply)
}

/// Validates the policy of a recording (its target and monitoring, see
/// [`crate::record::kdamond`]) by the same rules as any policy, but for
/// `no-schemes`: a recording monitors without acting, which is what it is for.
pub fn validate_recording(file: Arc<SourceFile>, kernel: Version) -> FileOutcome {
    validate(file, kernel, Purpose::Record)
}

/// What a policy is validated for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    /// To be applied: a kdamond that acts on what it sees.
    Apply,
    /// To record accesses: a kdamond that only monitors.
    Record,
}

fn validate(file: Arc<SourceFile>, kernel: Version, purpose: Purpose) -> FileOutcome {
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
                action_spans: Vec::new(),
            };
        }
    };
    let schema_errors = crate::validate::schema::validate(&file, parsed.table.get_ref(), &parsed.index);
    let name_span = parsed.table.get_ref().get("name").map(|name| name.span());
    let action_spans = readable::action_spans(parsed.table.get_ref());
    let (wire, reading) = match readable::read(parsed.table, &schema_errors) {
        Ok(read) => read,
        Err(unread) => {
            let mut diagnostics = schema_errors;
            if let (Unread::Data(error), true) = (unread, diagnostics.is_empty()) {
                diagnostics.push(data_error(&file, &error));
            }
            return FileOutcome {
                file,
                policy: None,
                diagnostics: sorted(diagnostics),
                name: None,
                name_span,
                action_spans,
            };
        }
    };
    let name = reading.name.then(|| wire.name.clone().unwrap_or_else(|| file.stem()));
    let mut ctx = Ctx {
        file: &file,
        index: &parsed.index,
        reading: &reading,
        diags: schema_errors,
    };
    rules::check_written(&mut ctx, &wire);
    let parts = resolve::policy(&mut ctx, &wire);
    rules::check(&mut ctx, &wire, &parts);
    features::check(&mut ctx, &wire, parts.ops, kernel);
    if purpose == Purpose::Apply {
        rules::no_schemes(&mut ctx, &wire, &parts);
    }
    let has_errors = ctx.has_errors();
    let diagnostics = sorted(ctx.diags);
    let policy = parts.policy(file.display_path()).filter(|_| !has_errors);
    FileOutcome {
        file,
        policy,
        diagnostics,
        name,
        name_span,
        action_spans,
    }
}

/// Findings in the order of the file (stable: findings at one place keep their order).
fn sorted(mut diagnostics: Vec<Diagnostic>) -> Vec<Diagnostic> {
    diagnostics.sort_by_key(|d| d.span.as_ref().map_or(0, |s| s.start));
    diagnostics
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

/// Rules that need every file: policy names are unique across the set, and no two policies
/// of the same processes undo each other's schemes.
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
    // Among the policies that remain valid.
    rules::contradictions_across(outcomes);
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

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
