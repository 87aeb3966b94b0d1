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
use std::collections::{HashMap, HashSet};
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeArray, DeTable, DeValue, ValueDeserializer};

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
    let places = Places::new(document.get_ref(), rejected.iter().filter_map(|d| d.span.as_ref()));
    let whole = document.span();
    // The unknown keys, by their node's place in the walk of the document.
    let mut unknown_keys = HashSet::new();
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
        let Some(place) = places.place(span) else {
            return Err(Unread::Unplaced);
        };
        if diagnostic.code == Code::UnknownKey && place.at_key {
            unknown_keys.insert(place.order);
        } else {
            unread_parts.push(place.part());
        }
    }
    drop(places);
    if !unknown_keys.is_empty() {
        remove(document.get_mut(), &unknown_keys, &mut 0);
    }
    let table = document.get_mut();
    let part_unread = |key: &str| {
        unread_parts
            .iter()
            .any(|p| matches!(p.0.first(), Some(Seg::Key(k)) if k == key))
    };
    // Looked up once a scheme: a file can hold thousands of schemes, each with a finding.
    let mut every_scheme_unread = false;
    let mut schemes_unread = HashSet::new();
    for part in &unread_parts {
        match part.0.as_slice() {
            [Seg::Key(key)] if key == "scheme" => every_scheme_unread = true,
            [Seg::Key(key), Seg::Index(at)] if key == "scheme" => {
                schemes_unread.insert(*at);
            }
            _ => {}
        }
    }
    let scheme_unread = |i: usize| every_scheme_unread || schemes_unread.contains(&i);
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
        // Taken, not copied: each scheme is dropped once read.
        Some(DeValue::Array(elements)) => elements,
        Some(_) => {
            reading.every_scheme = false;
            DeArray::new()
        }
        None => DeArray::new(),
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

/// Where findings point: for each span a finding has, the deepest node of the document whose
/// key or value has it (the later of two as deep), and whether it is the key. One walk over
/// the document finds them all, keeping for each only what reading needs, so placing costs
/// the same however many nodes and findings the file has.
struct Places<'d>(HashMap<(usize, usize), Option<Place<'d>>>);

/// The node a finding's span names, as far as the walk has found.
struct Place<'d> {
    depth: usize,
    /// The node's position in the walk (a table's keys in order, each before what it holds):
    /// of two nodes as deep, the later one is the place.
    order: usize,
    at_key: bool,
    /// The top-level key the node is under.
    top: &'d str,
    /// The scheme the node is in, if it is in one.
    scheme: Option<usize>,
}

impl Place<'_> {
    /// The part of the file the node is in: its top-level key, and for a scheme its index.
    fn part(&self) -> KeyPath {
        match self.scheme {
            Some(i) => KeyPath(vec![Seg::from("scheme"), Seg::Index(i)]),
            None => KeyPath(vec![Seg::from(self.top.to_owned())]),
        }
    }
}

/// One step of the path of the node the walk is at, borrowed from the document.
#[derive(Clone, Copy)]
enum Step<'d> {
    Key(&'d str),
    Index(usize),
}

impl<'d> Places<'d> {
    fn new<'s>(document: &'d DeTable<'_>, spans: impl IntoIterator<Item = &'s Range<usize>>) -> Self {
        let spans = spans.into_iter();
        // Sized up front: growing a map of many findings holds it twice for a while.
        let mut places = HashMap::with_capacity(spans.size_hint().1.unwrap_or(0));
        places.extend(spans.map(|span| ((span.start, span.end), None)));
        let mut walk = Walk {
            places,
            steps: Vec::new(),
            order: 0,
        };
        walk.table(document);
        Self(walk.places)
    }

    /// The node a finding points at. The schema places each finding on the key or the value
    /// of the path it is about; the deepest node with that span is the one.
    fn place(&self, span: &Range<usize>) -> Option<&Place<'d>> {
        self.0.get(&(span.start, span.end))?.as_ref()
    }
}

/// The walk of [`Places::new`].
struct Walk<'d> {
    /// Every span a finding has, with the place found for it so far.
    places: HashMap<(usize, usize), Option<Place<'d>>>,
    steps: Vec<Step<'d>>,
    order: usize,
}

impl<'d> Walk<'d> {
    fn table(&mut self, table: &'d DeTable<'_>) {
        for (key, value) in table {
            self.steps.push(Step::Key(key.get_ref()));
            self.node(Some(key.span()), value);
            self.steps.pop();
        }
    }

    fn node(&mut self, key: Option<Range<usize>>, value: &'d Spanned<DeValue<'_>>) {
        let order = self.order;
        self.order += 1;
        // A node's key is matched before its value, as a finding on a key names the key.
        if let Some(key) = key {
            self.offer(&key, order, true);
        }
        self.offer(&value.span(), order, false);
        match value.get_ref() {
            DeValue::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.steps.push(Step::Index(i));
                    self.node(None, item);
                    self.steps.pop();
                }
            }
            DeValue::Table(table) => self.table(table),
            _ => {}
        }
    }

    /// Makes the node the place of `span` if a finding has that span and no deeper node (nor
    /// an earlier one as deep, nor this node's key) has it already.
    fn offer(&mut self, span: &Range<usize>, order: usize, at_key: bool) {
        let Some(place) = self.places.get_mut(&(span.start, span.end)) else {
            return;
        };
        let depth = self.steps.len();
        if place
            .as_ref()
            .is_some_and(|place| (depth, order) <= (place.depth, place.order))
        {
            return;
        }
        let Some(Step::Key(top)) = self.steps.first().copied() else {
            return;
        };
        let scheme = match self.steps.get(1) {
            Some(Step::Index(i)) if top == "scheme" => Some(*i),
            _ => None,
        };
        *place = Some(Place {
            depth,
            order,
            at_key,
            top,
            scheme,
        });
    }
}

/// Removes the keys whose nodes are at the places `doomed` names in the walk of [`Places`]
/// (`order` counts the nodes walked). Each table loses its keys once its walk is done, so the
/// count runs over the document as it was.
fn remove(table: &mut DeTable<'_>, doomed: &HashSet<usize>, order: &mut usize) {
    let mut removed = Vec::new();
    for (key, value) in table.iter_mut() {
        if doomed.contains(order) {
            removed.push(key.get_ref().clone());
        }
        *order += 1;
        remove_under(value.get_mut(), doomed, order);
    }
    for key in removed {
        table.remove(key.as_ref());
    }
}

fn remove_under(value: &mut DeValue<'_>, doomed: &HashSet<usize>, order: &mut usize) {
    match value {
        DeValue::Array(items) => {
            for item in items.iter_mut() {
                *order += 1;
                remove_under(item.get_mut(), doomed, order);
            }
        }
        DeValue::Table(table) => remove(table, doomed, order),
        _ => {}
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
