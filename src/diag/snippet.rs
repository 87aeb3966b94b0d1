//! The source text miette reads a report's snippet from: a file, read only around the lines
//! asked for.
//!
//! miette's own `SourceCode` for a string scans it from the start for every snippet, so each
//! finding cost the size of the file. [`Snippet`] hands miette's reading only the lines
//! around the span (found with the file's [`LineIndex`](super::LineIndex)) and shifts what
//! it reads back into the file's offsets and line numbers: the same contents, the same
//! rendering, in time independent of the file's size.

use std::sync::Arc;

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

use crate::policy::source::SourceFile;

/// Longest source line shown in a snippet; a longer one (minified or generated input)
/// would flood the terminal, so the location is printed in the message instead.
pub const MAX_SNIPPET_LINE: usize = 400;

/// Whether the line holding `offset` is short enough for a snippet.
pub fn fits(file: &SourceFile, offset: usize) -> bool {
    let bytes = file.text.as_bytes();
    let offset = offset.min(bytes.len());
    let start = file.lines().line_start(&file.text, offset);
    // Only as far as the longest line shown: the rest of a longer line does not matter.
    let horizon = bytes.len().min(offset + MAX_SNIPPET_LINE + 1);
    let end = bytes[offset..horizon]
        .iter()
        .position(|b| *b == b'\n')
        .map_or(horizon, |i| offset + i);
    end - start <= MAX_SNIPPET_LINE
}

/// A named file as miette's source of snippets.
#[derive(Debug)]
pub struct Snippet {
    /// The header miette prints: `file:line:column`.
    name: String,
    file: Arc<SourceFile>,
}

impl Snippet {
    pub fn new(name: String, file: Arc<SourceFile>) -> Self {
        Self { name, file }
    }
}

impl SourceCode for Snippet {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let text = &self.file.text;
        let lines = self.file.lines();
        // A line more on each side than asked: miette's reading then finds its context
        // lines, and where it stops, exactly as in the whole text.
        let window = lines.lines_around(
            text,
            span.offset()..span.offset() + span.len(),
            context_lines_before + 1,
            context_lines_after + 1,
        );
        let before = lines.breaks_before(text, window.start);
        let local = SourceSpan::new((span.offset().saturating_sub(window.start)).into(), span.len());
        let inner = text.as_bytes()[window.clone()].read_span(&local, context_lines_before, context_lines_after)?;
        let contents = MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            SourceSpan::new((inner.span().offset() + window.start).into(), inner.span().len()),
            inner.line() + before,
            inner.column(),
            inner.line_count() + before,
        )
        .with_language("toml");
        Ok(Box::new(contents))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every span of a text reads as miette reads the whole text, offsets and line numbers
    /// included.
    #[test]
    fn snippets_read_as_from_the_whole_text() {
        let text = "a = 1\n\n[t]\r\nb = \"µ\"\rc = 2\nd = [\n  1,\n  2,\n]\n".repeat(40);
        let snippet = Snippet::new("p.toml".into(), Arc::new(SourceFile::new("p.toml", text.as_str())));
        let whole = text.as_bytes();
        for start in (0..text.len()).step_by(7) {
            for len in [0, 1, 5, 40] {
                let span = SourceSpan::new(start.into(), len);
                for (before, after) in [(0, 0), (1, 1), (2, 3)] {
                    let expected = whole.read_span(&span, before, after);
                    let got = snippet.read_span(&span, before, after);
                    match (expected, got) {
                        (Ok(expected), Ok(got)) => {
                            assert_eq!(got.data(), expected.data(), "{start}+{len} ({before}, {after})");
                            assert_eq!(got.span(), expected.span());
                            assert_eq!(got.line(), expected.line());
                            assert_eq!(got.column(), expected.column());
                            assert_eq!(got.line_count(), expected.line_count());
                            assert_eq!(got.name(), Some("p.toml"));
                        }
                        (Err(_), Err(_)) => {}
                        (expected, got) => panic!("{start}+{len}: {:?} vs {:?}", expected.is_ok(), got.is_ok()),
                    }
                }
            }
        }
    }

    #[test]
    fn long_lines_do_not_fit() {
        let long = format!("a = 1\nb = \"{}\"\n", "x".repeat(MAX_SNIPPET_LINE));
        let file = SourceFile::new("p.toml", long.as_str());
        assert!(fits(&file, 0));
        assert!(!fits(&file, 6));
        assert!(!fits(&file, long.len() - 2));
        let exact = format!("{}\n", "x".repeat(MAX_SNIPPET_LINE));
        assert!(fits(&SourceFile::new("p.toml", exact.as_str()), MAX_SNIPPET_LINE));
    }
}
