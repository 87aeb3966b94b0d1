//! What of a policy file can still be judged once the schema has rejected parts of it.
//!
//! A file's parts are its top-level keys, with each `[[scheme]]` a part of its own. A part
//! holding a value the schema rejected (a wrong type, a malformed unit, a missing key) is not
//! read: any stand-in for the value would be a guess, and rules judging the guess would
//! report findings the file does not have. An unknown key is dropped and its part read
//! without it: the key means nothing to damo-policy, so the part is judged as it will be once
//! the key is removed (one of the two fixes its finding offers). Every other part is read
//! and judged by the semantic rules, so one run shows every finding of the file.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use crate::diag::{Code, Diagnostic};
use crate::model::wire::{PolicyFile, Scheme};
use crate::policy::source::{KeyPath, Seg};

/// Which parts of the file were read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    /// The position in the file of each scheme read (the wire model holds only those).
    pub scheme_index: Vec<usize>,
    /// Whether `[target]` was read; when not, the wire model holds an empty one.
    pub target: bool,
    /// Whether `[monitoring]` was read (or is absent).
    pub monitoring: bool,
    /// Whether `name` was read (or is absent).
    pub name: bool,
    /// Whether every `[[scheme]]` the file has was read.
    pub every_scheme: bool,
}

impl Reading {
    /// Every part of a file the schema accepted.
    fn whole(schemes: usize) -> Self {
        Self {
            scheme_index: (0..schemes).collect(),
            target: true,
            monitoring: true,
            name: true,
            every_scheme: true,
        }
    }

    /// The path of the same value in the file, for a path into the wire model.
    pub fn in_file(&self, path: &KeyPath) -> KeyPath {
        match path.0.as_slice() {
            [Seg::Key(key), Seg::Index(i), ..] if key == "scheme" => {
                let mut segs = path.0.clone();
                segs[1] = Seg::Index(self.scheme_index.get(*i).copied().unwrap_or(*i));
                KeyPath(segs)
            }
            _ => path.clone(),
        }
    }
}

/// Why nothing of a file can be judged.
pub enum Unread {
    /// A finding of the schema that no part of the file accounts for.
    Unplaced,
    /// The wire model cannot hold what the schema passed.
    Data(toml::de::Error),
}

/// Reads the parts of `document` that `rejected` (the schema's findings) leave readable.
pub fn read(mut document: Spanned<DeTable<'_>>, rejected: &[Diagnostic]) -> Result<(PolicyFile, Reading), Unread> {
    if rejected.is_empty() {
        let wire = PolicyFile::deserialize(toml::de::Deserializer::from(document)).map_err(Unread::Data)?;
        let reading = Reading::whole(wire.scheme.len());
        return Ok((wire, reading));
    }
    let nodes = nodes(document.get_ref());
    let places = Places::new(&nodes);
    let whole = document.span();
    let mut unknown_keys = Vec::new();
    let mut unread_parts = Vec::new();
    for diagnostic in rejected {
        let Some(span) = &diagnostic.span else {
            return Err(Unread::Unplaced);
        };
        // A finding on the whole document is a key it lacks; of the document's keys only
        // `target` is required.
        if *span == whole && !document.get_ref().contains_key("target") {
            unread_parts.push(KeyPath(vec![Seg::from("target")]));
            continue;
        }
        let Some((path, at_key)) = places.place(&nodes, span) else {
            return Err(Unread::Unplaced);
        };
        match part_of(&path) {
            None => return Err(Unread::Unplaced),
            Some(_) if diagnostic.code == Code::UnknownKey && at_key => unknown_keys.push(path),
            Some(part) => unread_parts.push(part),
        }
    }
    for path in &unknown_keys {
        remove(document.get_mut(), path);
    }
    let table = document.get_mut();
    let part_unread = |key: &str| {
        unread_parts
            .iter()
            .any(|p| matches!(p.0.first(), Some(Seg::Key(k)) if k == key))
    };
    let scheme_unread = |i: usize| {
        unread_parts.iter().any(|p| match p.0.as_slice() {
            [Seg::Key(key)] => key == "scheme",
            [Seg::Key(key), Seg::Index(at)] => key == "scheme" && *at == i,
            _ => false,
        })
    };
    let mut reading = Reading {
        scheme_index: Vec::new(),
        target: !part_unread("target"),
        monitoring: !part_unread("monitoring"),
        name: !part_unread("name"),
        every_scheme: true,
    };
    let schemes = table.remove("scheme");
    for key in ["name", "description", "enabled", "mode", "monitoring"] {
        if part_unread(key) {
            table.remove(key);
        }
    }
    if !reading.target {
        table.insert(
            Spanned::new(0..0, Cow::Borrowed("target")),
            Spanned::new(0..0, DeValue::Table(DeTable::new())),
        );
    }
    let mut wire = PolicyFile::deserialize(toml::de::Deserializer::from(document)).map_err(Unread::Data)?;
    let elements = match schemes.map(Spanned::into_inner) {
        Some(DeValue::Array(elements)) => elements.to_vec(),
        Some(_) => {
            reading.every_scheme = false;
            Vec::new()
        }
        None => Vec::new(),
    };
    for (i, element) in elements.into_iter().enumerate() {
        let scheme = if scheme_unread(i) {
            None
        } else {
            Scheme::deserialize(ValueDeserializer::from(element)).ok()
        };
        match scheme {
            Some(scheme) => {
                wire.scheme.push(scheme);
                reading.scheme_index.push(i);
            }
            None => reading.every_scheme = false,
        }
    }
    Ok((wire, reading))
}

/// The span of each scheme's `action` value, by the scheme's position in the file: where
/// findings across files point.
pub fn action_spans(document: &DeTable<'_>) -> Vec<Option<Range<usize>>> {
    let Some(DeValue::Array(schemes)) = document.get("scheme").map(Spanned::get_ref) else {
        return Vec::new();
    };
    schemes
        .iter()
        .map(|scheme| match scheme.get_ref() {
            DeValue::Table(table) => table.get("action").map(Spanned::span),
            _ => None,
        })
        .collect()
}

/// A node of the document: its path, and the spans of its key (when it has one) and value.
struct Node {
    path: KeyPath,
    key: Option<Range<usize>>,
    value: Range<usize>,
}

fn nodes(table: &DeTable<'_>) -> Vec<Node> {
    let mut out = Vec::new();
    table_nodes(table, &KeyPath::root(), &mut out);
    out
}

fn table_nodes(table: &DeTable<'_>, path: &KeyPath, out: &mut Vec<Node>) {
    for (key, value) in table {
        let child = path.join(key.get_ref().to_string());
        out.push(Node {
            path: child.clone(),
            key: Some(key.span()),
            value: value.span(),
        });
        value_nodes(value.get_ref(), &child, out);
    }
}

fn value_nodes(value: &DeValue<'_>, path: &KeyPath, out: &mut Vec<Node>) {
    match value {
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let child = path.join(i);
                out.push(Node {
                    path: child.clone(),
                    key: None,
                    value: item.span(),
                });
                value_nodes(item.get_ref(), &child, out);
            }
        }
        DeValue::Table(table) => table_nodes(table, path, out),
        _ => {}
    }
}

/// Where findings can point: for each span, the deepest node whose key or value has it (the
/// later of two as deep), and whether it is the key. Built once, so that placing a finding
/// costs the same however many nodes and findings the file has.
struct Places(HashMap<(usize, usize), (usize, usize, bool)>);

impl Places {
    fn new(nodes: &[Node]) -> Self {
        let mut places: HashMap<(usize, usize), (usize, usize, bool)> = HashMap::new();
        for (index, node) in nodes.iter().enumerate() {
            let depth = node.path.0.len();
            // A node's key is matched before its value, as a finding on a key names the key.
            let spans = node.key.iter().map(|key| (key, true)).chain([(&node.value, false)]);
            for (span, at_key) in spans {
                let entry = places.entry((span.start, span.end)).or_insert((depth, index, at_key));
                if (depth, index) > (entry.0, entry.1) {
                    *entry = (depth, index, at_key);
                }
            }
        }
        Self(places)
    }

    /// The node a finding points at, and whether it points at the node's key. The schema
    /// places each finding on the key or the value of the path it is about; the deepest node
    /// with that span is the one.
    fn place(&self, nodes: &[Node], span: &Range<usize>) -> Option<(KeyPath, bool)> {
        let &(_, index, at_key) = self.0.get(&(span.start, span.end))?;
        Some((nodes[index].path.clone(), at_key))
    }
}

/// The part a path is in: its top-level key, and for a scheme its index.
fn part_of(path: &KeyPath) -> Option<KeyPath> {
    match path.0.as_slice() {
        [] => None,
        [Seg::Key(key), Seg::Index(i), ..] if key == "scheme" => {
            Some(KeyPath(vec![Seg::Key(key.clone()), Seg::Index(*i)]))
        }
        [first, ..] => Some(KeyPath(vec![first.clone()])),
    }
}

/// Removes the key at `path` from the document.
fn remove(table: &mut DeTable<'_>, path: &KeyPath) {
    if let Some((Seg::Key(last), parents)) = path.0.split_last()
        && let Some(parent) = table_at(table, parents)
    {
        parent.remove(last.as_ref());
    }
}

/// The table at `path` below `table`.
fn table_at<'t, 'i>(table: &'t mut DeTable<'i>, path: &[Seg]) -> Option<&'t mut DeTable<'i>> {
    let Some((Seg::Key(first), rest)) = path.split_first() else {
        return path.is_empty().then_some(table);
    };
    let mut value = table.get_mut(first.as_ref())?.get_mut();
    for seg in rest {
        value = match (value, seg) {
            (DeValue::Table(table), Seg::Key(key)) => table.get_mut(key.as_ref())?.get_mut(),
            (DeValue::Array(items), Seg::Index(i)) => items.get_mut(*i)?.get_mut(),
            _ => return None,
        };
    }
    match value {
        DeValue::Table(table) => Some(table),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::kernel::Version;
    use crate::policy::source::SourceFile;
    use crate::validate::{FileOutcome, validate_file};

    fn outcome(text: &str) -> FileOutcome {
        validate_file(Arc::new(SourceFile::new("p.toml", text)), Version::NEWEST_KNOWN)
    }

    /// Each finding as `E:code@line`, errors `E`, warnings `W`.
    fn findings(text: &str) -> Vec<String> {
        outcome(text)
            .diagnostics
            .iter()
            .map(|d| {
                let line = d.line_column().map_or(0, |(line, _)| line);
                format!("{}:{}@{line}", if d.is_error() { "E" } else { "W" }, d.code)
            })
            .collect()
    }

    #[test]
    fn an_unknown_key_a_bad_unit_and_an_inverted_range_in_one_run() {
        let text = "[target]\nprocess = \"app\"\n\
                    [monitoring]\nsample_interval = \"5 fortnights\"\n\
                    [[scheme]]\naction = \"pageout\"\n\
                    access_pattern.size = { min = \"2MiB\", max = \"1MiB\" }\n\
                    apply_intervall = \"1s\"\n";
        assert_eq!(findings(text), ["E:bad-value@4", "E:range-order@7", "E:unknown-key@8"]);
        assert!(outcome(text).policy.is_none());
    }

    /// A scheme holding a value the schema rejected is not judged; the schemes after it are,
    /// at their own place in the file and under their own numbers.
    #[test]
    fn a_rejected_scheme_hides_only_its_own_findings() {
        let text = "[target]\nprocess = \"app\"\n\
                    [[scheme]]\naction = \"pageout\"\naccess_pattern.size = { min = \"4KX\", max = \"1B\" }\n\
                    [[scheme]]\naction = \"stat\"\naccess_pattern.size = { min = \"2MiB\", max = \"1MiB\" }\n\
                    [[scheme]]\nname = \"1\"\naction = \"stat\"\n";
        assert_eq!(
            findings(text),
            ["E:bad-value@5", "E:range-order@8", "E:duplicate-name@10"]
        );
        let outcome = outcome(text);
        let duplicate = outcome.diagnostics.last().unwrap();
        assert_eq!(duplicate.message, "scheme name `1` is already used by scheme 1");
    }

    /// A part the schema rejected is not replaced by a guess that other rules would judge.
    #[test]
    fn no_findings_about_a_stand_in_for_a_rejected_value() {
        // Without its `pids`, the target would select nothing: not said.
        assert_eq!(
            findings("[target]\npids = \"1234\"\n[[scheme]]\naction = \"stat\"\n"),
            ["E:wrong-type@2"]
        );
        // Without its sampling interval the default would be judged against the aggregation
        // interval: not done.
        assert_eq!(
            findings("[target]\nprocess = \"a\"\n[monitoring]\nsample_interval = 5\naggregation_interval = \"1ms\"\n"),
            ["E:wrong-type@4"]
        );
        // A missing target: the schemes are still judged.
        assert_eq!(
            findings("[[scheme]]\naction = \"stat\"\naccess_pattern.age = { min = \"2s\", max = \"1s\" }\n"),
            ["E:missing-key@1", "E:range-order@3"]
        );
        // A rejected name takes no name from the file either.
        assert!(outcome("name = \"a b\"\n[target]\nprocess = \"a\"\n").name.is_none());
    }

    #[test]
    fn a_syntax_error_still_stops_the_file() {
        assert_eq!(findings("[target\nprocess = \"a\"\nbogus = 1\n"), ["E:toml-syntax@1"]);
    }
}
