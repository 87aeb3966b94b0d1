//! A policy file's text and the map from key paths to byte spans.
//!
//! Every later stage names what it complains about by [`KeyPath`]
//! (`scheme[0].access_pattern.size.min`); [`SpanIndex`] turns that back into the span of the
//! key or value in the file, falling back to the nearest enclosing key that exists.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use toml::Spanned;
use toml::de::{DeInteger, DeTable, DeValue};

use crate::diag::LineIndex;

/// A file as read: its path as the user should see it, and its text.
#[derive(Debug)]
pub struct SourceFile {
    pub path: PathBuf,
    pub text: Arc<str>,
    /// Built on the first finding that needs a line: most files have none.
    lines: OnceLock<LineIndex>,
}

impl SourceFile {
    pub fn new(path: impl Into<PathBuf>, text: impl Into<Arc<str>>) -> Self {
        Self {
            path: path.into(),
            text: text.into(),
            lines: OnceLock::new(),
        }
    }

    pub fn display_path(&self) -> String {
        self.path.display().to_string()
    }

    /// The file name without `.toml`: a policy's default name.
    pub fn stem(&self) -> String {
        self.path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_column(&self, offset: usize) -> (usize, usize) {
        self.lines().line_column(&self.text, offset)
    }

    /// The index of the text's lines.
    pub fn lines(&self) -> &LineIndex {
        self.lines.get_or_init(|| LineIndex::new(&self.text))
    }
}

/// One step of a key path. The keys validation names are mostly literals: borrowing them
/// keeps the paths built for every checked value (in case it needs a finding) cheap.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Seg {
    Key(Cow<'static, str>),
    Index(usize),
}

impl From<&'static str> for Seg {
    fn from(key: &'static str) -> Self {
        Seg::Key(Cow::Borrowed(key))
    }
}

impl From<String> for Seg {
    fn from(key: String) -> Self {
        Seg::Key(Cow::Owned(key))
    }
}

impl From<usize> for Seg {
    fn from(index: usize) -> Self {
        Seg::Index(index)
    }
}

/// Where a value is in the document, e.g. `scheme[0].quota.goals[1].target`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct KeyPath(pub Vec<Seg>);

impl KeyPath {
    pub fn root() -> Self {
        Self(Vec::new())
    }

    pub fn join(&self, seg: impl Into<Seg>) -> Self {
        // Sized for the new step up front: a clone then a push would allocate twice.
        let mut segs = Vec::with_capacity(self.0.len() + 1);
        segs.extend_from_slice(&self.0);
        segs.push(seg.into());
        Self(segs)
    }

    pub fn parent(&self) -> Option<KeyPath> {
        let (_, rest) = self.0.split_last()?;
        Some(KeyPath(rest.to_vec()))
    }
}

/// Builds a [`KeyPath`]: `key_path!["scheme", 0, "action"]`.
#[macro_export]
macro_rules! key_path {
    ($($seg:expr),* $(,)?) => {
        $crate::policy::source::KeyPath(vec![$($crate::policy::source::Seg::from($seg)),*])
    };
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if i == 0 => f.write_str(k)?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
struct Spans {
    key: Option<Range<usize>>,
    value: Range<usize>,
}

/// The spans of a document as a tree of its key paths: a node is its parent and one step,
/// so a deep path costs one entry per step rather than a copy of every step before it.
#[derive(Debug)]
struct Tree {
    /// (parent node, step) → node.
    children: HashMap<(usize, Seg), usize>,
    /// By node; node 0 is the document.
    spans: Vec<Spans>,
}

impl Tree {
    const ROOT: usize = 0;

    fn add(&mut self, parent: usize, step: Seg, spans: Spans) -> usize {
        let node = self.spans.len();
        self.spans.push(spans);
        self.children.insert((parent, step), node);
        node
    }

    /// The node of the longest prefix of `path` in the document, and whether it is all of it.
    fn deepest(&self, path: &KeyPath) -> (usize, bool) {
        let mut node = Self::ROOT;
        for step in &path.0 {
            match self.children.get(&(node, step.clone())) {
                Some(&child) => node = child,
                None => return (node, false),
            }
        }
        (node, true)
    }
}

/// Key path → spans of one parsed document. Only findings need spans, and indexing every
/// key costs more than checking a valid file, so the index is built on its first use: from
/// the document itself where the finder still holds it ([`SpanIndex::build_from`]), else
/// from a second parse of the (already parsed, so well-formed) text.
#[derive(Debug)]
pub struct SpanIndex<'i> {
    text: &'i str,
    /// The span the parser gives the document itself.
    root: Range<usize>,
    tree: OnceCell<Tree>,
}

impl<'i> SpanIndex<'i> {
    fn new(text: &'i str, root: Range<usize>) -> Self {
        Self {
            text,
            root,
            tree: OnceCell::new(),
        }
    }

    /// Builds the index from `document`, the parse of this index's text, unless it is built
    /// already: a second parse of a large file costs as much memory again as the first.
    pub fn build_from(&self, document: &DeTable<'_>) {
        self.tree.get_or_init(|| index_document(self.root.clone(), document));
    }

    /// The span of the value at `path`, or of the nearest enclosing value that exists.
    pub fn value(&self, path: &KeyPath) -> Option<Range<usize>> {
        Some(self.nearest(path).value.clone())
    }

    /// The span of the key at `path` (for a table, its name), else its value's.
    pub fn key(&self, path: &KeyPath) -> Option<Range<usize>> {
        let spans = self.nearest(path);
        Some(spans.key.clone().unwrap_or_else(|| spans.value.clone()))
    }

    /// Whether the document contains `path` itself.
    pub fn contains(&self, path: &KeyPath) -> bool {
        self.tree().deepest(path).1
    }

    /// Every prefix of a path in the document is in it too, so the nearest enclosing value
    /// is the end of the longest prefix found.
    fn nearest(&self, path: &KeyPath) -> &Spans {
        let tree = self.tree();
        &tree.spans[tree.deepest(path).0]
    }

    fn tree(&self) -> &Tree {
        self.tree.get_or_init(|| {
            let (table, _) = super::pieces::parse_document(self.text);
            index_document(table.span(), table.get_ref())
        })
    }
}

fn index_document(root: Range<usize>, document: &DeTable<'_>) -> Tree {
    // Sized up front: a large document's index would otherwise be held twice while it grows.
    let nodes = 1 + count_table(document);
    let mut spans = Vec::with_capacity(nodes);
    spans.push(Spans { key: None, value: root });
    let mut tree = Tree {
        children: HashMap::with_capacity(nodes),
        spans,
    };
    index_table(document, Tree::ROOT, &mut tree);
    tree
}

/// The nodes below a table: its keys and everything they hold.
fn count_table(table: &DeTable<'_>) -> usize {
    table.iter().map(|(_, value)| 1 + count_value(value.get_ref())).sum()
}

fn count_value(value: &DeValue<'_>) -> usize {
    match value {
        DeValue::Array(items) => items.iter().map(|item| 1 + count_value(item.get_ref())).sum(),
        DeValue::Table(table) => count_table(table),
        _ => 0,
    }
}

fn index_table(table: &DeTable<'_>, parent: usize, tree: &mut Tree) {
    for (key, value) in table {
        let spans = Spans {
            key: Some(key.span()),
            value: value.span(),
        };
        let node = tree.add(parent, Seg::from(key.get_ref().to_string()), spans);
        index_value(value.get_ref(), node, tree);
    }
}

fn index_value(value: &DeValue<'_>, node: usize, tree: &mut Tree) {
    match value {
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let spans = Spans {
                    key: None,
                    value: item.span(),
                };
                let child = tree.add(node, Seg::Index(i), spans);
                index_value(item.get_ref(), child, tree);
            }
        }
        DeValue::Table(t) => index_table(t, node, tree),
        _ => {}
    }
}

/// A parsed document and its span index.
pub struct Parsed<'i> {
    pub table: Spanned<DeTable<'i>>,
    pub index: SpanIndex<'i>,
}

/// Parses TOML text, keeping spans. All syntax errors the parser can recover from are
/// returned together.
pub fn parse(text: &str) -> Result<Parsed<'_>, Vec<toml::de::Error>> {
    let (table, errors) = super::pieces::parse_document(text);
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Parsed {
        index: SpanIndex::new(text, table.span()),
        table,
    })
}

/// A document's JSON form, which the schema validator checks.
pub fn json(table: &DeTable<'_>) -> serde_json::Value {
    let object = table
        .iter()
        .map(|(key, value)| (key.get_ref().to_string(), value_to_json(value.get_ref())))
        .collect();
    serde_json::Value::Object(object)
}

/// A TOML integer as JSON has it, if it fits an `i64`.
pub fn integer(i: &DeInteger<'_>) -> Option<i64> {
    i64::from_str_radix(&i.as_str().replace('_', ""), i.radix()).ok()
}

/// The key of the object that stands for a TOML integer beyond 64 bits in the JSON form: JSON
/// numbers stop there, and as a string such an integer would pass for a size or be called
/// "a string". No schema type accepts the object; [`crate::validate::schema`] reports it as out of range.
pub const BIG_INTEGER: &str = "$__toml_big_integer";

/// An integer's JSON form: a number up to `u64`, else the [`BIG_INTEGER`] object with the
/// integer as written.
fn integer_json(i: &DeInteger<'_>) -> serde_json::Value {
    let digits = i.as_str().replace('_', "");
    if let Ok(n) = i64::from_str_radix(&digits, i.radix()) {
        return n.into();
    }
    if let Ok(n) = u64::from_str_radix(&digits, i.radix()) {
        return n.into();
    }
    serde_json::json!({ BIG_INTEGER: i.to_string() })
}

/// A value's JSON form, as in [`json`].
pub fn value_to_json(value: &DeValue<'_>) -> serde_json::Value {
    use serde_json::Value as J;
    match value {
        DeValue::String(s) => J::String(s.to_string()),
        DeValue::Integer(i) => integer_json(i),
        // A float is never valid in a policy; keep its text so the schema names the type.
        DeValue::Float(f) => f
            .as_str()
            .replace('_', "")
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or_else(|| J::String(f.as_str().to_owned()), J::Number),
        DeValue::Boolean(b) => J::Bool(*b),
        // Datetimes have no JSON type; an object keeps them from passing as a string.
        DeValue::Datetime(d) => serde_json::json!({ "$__toml_datetime": d.to_string() }),
        DeValue::Array(items) => J::Array(items.iter().map(|item| value_to_json(item.get_ref())).collect()),
        DeValue::Table(t) => json(t),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_follow_key_paths() {
        let text = "name = \"x\"\n[[scheme]]\naction = \"stat\"\naccess_pattern.size = { min = \"4K\" }\n";
        let parsed = parse(text).unwrap();
        let span = parsed
            .index
            .value(&key_path!["scheme", 0, "access_pattern", "size", "min"]);
        assert_eq!(&text[span.unwrap()], "\"4K\"");
        let key = parsed.index.key(&key_path!["scheme", 0, "action"]).unwrap();
        assert_eq!(&text[key], "action");
        // A missing key falls back to its nearest parent.
        let near = parsed
            .index
            .key(&key_path!["scheme", 0, "access_pattern", "age"])
            .unwrap();
        assert_eq!(&text[near], "access_pattern");
        assert_eq!(json(parsed.table.get_ref())["scheme"][0]["action"], "stat");
    }

    #[test]
    fn an_index_built_from_the_document_is_the_index_of_the_text() {
        let text = "  # c\nname = \"x\"\n[[scheme]]\naction = \"stat\"\nfilter = [{ type = \"anon\" }]\n\n";
        let reparsed = parse(text).unwrap();
        let built = parse(text).unwrap();
        built.index.build_from(built.table.get_ref());
        let (reparsed, built) = (reparsed.index.tree(), built.index.tree());
        assert_eq!(built.children, reparsed.children);
        assert_eq!(built.spans.len(), reparsed.spans.len());
        for (node, spans) in reparsed.spans.iter().enumerate() {
            let other = &built.spans[node];
            assert_eq!((&other.key, &other.value), (&spans.key, &spans.value), "node {node}");
        }
    }

    #[test]
    fn line_and_column_count_characters() {
        let file = SourceFile::new("p.toml", "a = 1\nµ = \"x\"\n");
        assert_eq!(file.line_column(0), (1, 1));
        assert_eq!(file.line_column(6), (2, 1));
        assert_eq!(file.line_column(9), (2, 3));
        assert_eq!(
            KeyPath(vec!["scheme".into(), 0.into(), "action".into()]).to_string(),
            "scheme[0].action"
        );
    }
}
