//! Parsing a large policy file one `[[scheme]]` at a time. The TOML parser holds every token
//! and event of the text beside the document it builds, which for a 1 MiB file of dense
//! values is as much memory again as the document; a scheme at a time, it holds one
//! scheme's. The pieces are used only where they are exactly the document a whole parse
//! gives, the same values at the same spans; anything else is parsed whole.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeArray, DeTable, DeValue};

/// Below this size a file is parsed whole: its parse costs little either way.
pub const PIECES_FROM_BYTES: usize = 64 * 1024;

/// The header that starts each piece after the first, at the start of a line.
const SCHEME_HEADER: &str = "[[scheme]]";

/// Parses `text` as [`DeTable::parse_recoverable`] does.
pub fn parse_document(text: &str) -> (Spanned<DeTable<'_>>, Vec<toml::de::Error>) {
    if text.len() >= PIECES_FROM_BYTES
        && let Some(document) = by_scheme(text)
    {
        return (document, Vec::new());
    }
    DeTable::parse_recoverable(text)
}

/// The document of `text` parsed one scheme at a time, when that is certainly the document
/// a whole parse gives: every piece parses without error, the first piece (before the first
/// `[[scheme]]` header) has no `scheme` key, and every other piece is one scheme and nothing
/// else. Then each piece ends where a statement ends (a piece cut inside a string, array or
/// table does not parse), and no two pieces define the same table, so the whole parse would
/// have found no error either.
pub fn by_scheme(text: &str) -> Option<Spanned<DeTable<'_>>> {
    let mut starts: Vec<usize> = text
        .match_indices(SCHEME_HEADER)
        .map(|(at, _)| at)
        .filter(|&at| at == 0 || text.as_bytes()[at - 1] == b'\n')
        .collect();
    if starts.is_empty() {
        return None;
    }
    starts.push(text.len());
    let mut document = DeTable::parse(&text[..starts[0]]).ok()?;
    if document.get_ref().contains_key("scheme") {
        return None;
    }
    let mut schemes: Option<(Spanned<std::borrow::Cow<'_, str>>, Range<usize>, DeArray<'_>)> = None;
    for piece in starts.windows(2) {
        let (start, end) = (piece[0], piece[1]);
        let mut table = DeTable::parse(&text[start..end]).ok()?.into_inner();
        let (key, value) = table.remove_entry("scheme")?;
        if !table.is_empty() {
            return None;
        }
        let value_span = value.span();
        let DeValue::Array(elements) = value.into_inner() else {
            return None;
        };
        if elements.len() != 1 {
            return None;
        }
        let element = elements.into_iter().next()?;
        if !matches!(element.get_ref(), DeValue::Table(_)) {
            return None;
        }
        let element = shifted(element, start);
        match &mut schemes {
            Some((_, _, array)) => array.push(element),
            None => {
                let mut array = DeArray::new();
                array.push(element);
                let key = Spanned::new(shift(key.span(), start), key.into_inner());
                schemes = Some((key, shift(value_span, start), array));
            }
        }
    }
    let (key, value_span, array) = schemes?;
    document
        .get_mut()
        .insert(key, Spanned::new(value_span, DeValue::Array(array)));
    Some(document)
}

fn shift(span: Range<usize>, by: usize) -> Range<usize> {
    span.start + by..span.end + by
}

/// `value` with every span in it moved `by` bytes on.
fn shifted<'i>(value: Spanned<DeValue<'i>>, by: usize) -> Spanned<DeValue<'i>> {
    let span = shift(value.span(), by);
    let value = match value.into_inner() {
        DeValue::Table(table) => {
            let mut moved = DeTable::new();
            for (key, value) in table {
                moved.insert(
                    Spanned::new(shift(key.span(), by), key.into_inner()),
                    shifted(value, by),
                );
            }
            DeValue::Table(moved)
        }
        DeValue::Array(items) => DeValue::Array(items.into_iter().map(|item| shifted(item, by)).collect()),
        other => other,
    };
    Spanned::new(span, value)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether two documents hold the same values at the same spans.
    fn same(a: &Spanned<DeValue<'_>>, b: &Spanned<DeValue<'_>>) -> bool {
        if a.span() != b.span() {
            return false;
        }
        match (a.get_ref(), b.get_ref()) {
            (DeValue::Table(a), DeValue::Table(b)) => same_tables(a, b),
            (DeValue::Array(a), DeValue::Array(b)) => {
                a.len() == b.len() && a.iter().zip(b.iter()).all(|(a, b)| same(a, b))
            }
            (a, b) => format!("{a:?}") == format!("{b:?}"),
        }
    }

    fn same_tables(a: &DeTable<'_>, b: &DeTable<'_>) -> bool {
        a.len() == b.len()
            && a.iter()
                .zip(b.iter())
                .all(|((ka, va), (kb, vb))| ka.span() == kb.span() && ka.get_ref() == kb.get_ref() && same(va, vb))
    }

    /// The pieces give the whole parse's document, or none.
    fn agrees(text: &str) -> bool {
        let (whole, errors) = DeTable::parse_recoverable(text);
        let Some(pieces) = by_scheme(text) else { return false };
        assert!(errors.is_empty(), "{text:?}: the pieces parsed where the whole did not");
        assert_eq!(pieces.span(), whole.span());
        assert!(same_tables(pieces.get_ref(), whole.get_ref()), "{text:?}");
        true
    }

    #[test]
    fn pieces_are_the_whole_document() {
        let head = "name = \"big\"\n# c\n[target]\nphysical = true\n";
        let schemes = "[[scheme]]\naction = \"stat\"\naccess_pattern = { size = { min = [[[1]]] } }\n\n\
                       [[scheme]] # second\r\naction = \"pageout\"\n[scheme.quota]\nsize = \"1G\"\n\
                       [[scheme.filter]]\ntype = \"anon\"\n[[scheme.filter]]\ntype = \"x\"\n\
                       [[scheme]]\naccess_pattern.age = { min = \"1s\" }\n  # trailing\n";
        assert!(agrees(&format!("{head}{schemes}")));
        assert!(agrees(schemes));
        assert!(agrees("[[scheme]]"));
        assert!(agrees("\u{feff}name = \"a\"\n[[scheme]]\n[[scheme]]\n"));
    }

    #[test]
    fn anything_else_is_left_to_the_whole_parse() {
        for text in [
            "name = \"a\"\n",
            // The first piece has schemes.
            "scheme = [{ action = \"stat\" }]\n[[scheme]]\n",
            "scheme.x = 1\n[[scheme]]\n",
            // A header that is not the first thing of its line, or within a value.
            "a = \"\"\"\n[[scheme]]\n\"\"\"\n",
            "a = [\n[[scheme]]\n]\n",
            "[[scheme]]\nb = '''\n[[scheme]]\n'''\n",
            // A piece with more than its scheme.
            "[[scheme]]\n[target]\nphysical = true\n",
            "[[scheme]]\n[scheme]\n",
            "[[scheme]]\naction = \"stat\"\naction = \"pageout\"\n",
            "[[scheme]]\n[[scheme]]\n[scheme]\n",
            "[[scheme]]x\n",
        ] {
            assert!(!agrees(text), "{text:?}");
        }
    }
}
