//! Lines and columns of byte offsets, found in time independent of the file's size.
//!
//! Every finding is located by line and column, and its snippet by the lines around it;
//! counting from the start of the file for each one made a file of many findings cost the
//! square of its size. [`LineIndex`] records, every [`BLOCK`] bytes, what a scan from the
//! start would have counted there, so a lookup scans at most one block.

use std::ops::Range;

/// Bytes between two checkpoints: a lookup scans at most this many; the index costs
/// `size_of::<Checkpoint>() / BLOCK` (under a tenth) of the text in memory.
const BLOCK: usize = 256;

/// What a scan from the start of the text has counted before some byte offset.
#[derive(Debug, Clone, Copy, Default)]
struct Checkpoint {
    /// Characters: bytes that do not continue a UTF-8 sequence.
    chars: usize,
    /// `\n` bytes: the line number, as `file:line:column` counts lines.
    newlines: usize,
    /// Line breaks as miette counts them: `\n`, `\r\n` (once) and a lone `\r`.
    breaks: usize,
    /// Offset just past the last `\n`: the start of the current line.
    line_start: usize,
}

impl Checkpoint {
    /// Advances over `text[from..to]`.
    fn scan(mut self, text: &[u8], from: usize, to: usize) -> Self {
        for i in from..to {
            let byte = text[i];
            self.chars += usize::from(byte & 0xC0 != 0x80);
            match byte {
                b'\n' => {
                    self.newlines += 1;
                    self.breaks += 1;
                    self.line_start = i + 1;
                }
                b'\r' if text.get(i + 1) != Some(&b'\n') => self.breaks += 1,
                _ => {}
            }
        }
        self
    }
}

/// Checkpoints every [`BLOCK`] bytes of one text.
#[derive(Debug)]
pub struct LineIndex {
    checkpoints: Vec<Checkpoint>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let bytes = text.as_bytes();
        let mut checkpoints = Vec::with_capacity(bytes.len() / BLOCK + 1);
        let mut at = Checkpoint::default();
        let mut offset = 0;
        loop {
            checkpoints.push(at);
            if offset + BLOCK > bytes.len() {
                break;
            }
            at = at.scan(bytes, offset, offset + BLOCK);
            offset += BLOCK;
        }
        Self { checkpoints }
    }

    /// The counts before `offset` (clamped to the text).
    fn at(&self, text: &str, offset: usize) -> Checkpoint {
        let offset = offset.min(text.len());
        let block = offset / BLOCK;
        self.checkpoints[block].scan(text.as_bytes(), block * BLOCK, offset)
    }

    /// 1-based line and column (in characters) of a byte offset; an offset inside a
    /// character counts as that character.
    pub fn line_column(&self, text: &str, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let here = self.at(text, offset);
        let line_start = self.at(text, here.line_start);
        (here.newlines + 1, here.chars - line_start.chars + 1)
    }

    /// Start of the line holding `offset`.
    pub fn line_start(&self, text: &str, offset: usize) -> usize {
        self.at(text, offset).line_start
    }

    /// Line breaks before `offset`, counted as miette counts them.
    pub fn breaks_before(&self, text: &str, offset: usize) -> usize {
        self.at(text, offset).breaks
    }

    /// The whole lines around `span`: `before` more lines before its first and `after` more
    /// after its last (fewer at the ends of the text).
    pub fn lines_around(&self, text: &str, span: Range<usize>, before: usize, after: usize) -> Range<usize> {
        let mut start = self.line_start(text, span.start);
        for _ in 0..before {
            if start == 0 {
                break;
            }
            start = self.line_start(text, start - 1);
        }
        let bytes = text.as_bytes();
        let mut end = span.end.max(span.start).min(bytes.len());
        for _ in 0..=after {
            match bytes[end..].iter().position(|b| *b == b'\n') {
                Some(i) => end += i + 1,
                None => {
                    end = bytes.len();
                    break;
                }
            }
        }
        start..end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a scan from the start finds, to compare the index with.
    fn scanned(text: &str, offset: usize) -> (usize, usize) {
        let before = &text[..offset];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        (
            before.matches('\n').count() + 1,
            before[line_start..].chars().count() + 1,
        )
    }

    #[test]
    fn lookups_agree_with_a_scan_across_blocks() {
        let mut text = String::new();
        for i in 0..300 {
            text.push_str(&"µa".repeat(i % 7));
            text.push_str(if i % 5 == 0 { "\r\n" } else { "\n" });
        }
        text.push_str(&"x".repeat(3 * BLOCK));
        let index = LineIndex::new(&text);
        for offset in (0..=text.len()).filter(|o| text.is_char_boundary(*o)) {
            assert_eq!(
                index.line_column(&text, offset),
                scanned(&text, offset),
                "offset {offset}"
            );
            let miette_breaks = text[..offset].matches('\n').count()
                + text[..offset]
                    .match_indices('\r')
                    .filter(|(i, _)| text.as_bytes().get(i + 1) != Some(&b'\n'))
                    .count();
            assert_eq!(index.breaks_before(&text, offset), miette_breaks);
        }
    }

    #[test]
    fn offsets_inside_a_character_count_as_it() {
        let text = "a\nµx";
        let index = LineIndex::new(text);
        assert_eq!(index.line_column(text, 3), (2, 1));
        assert_eq!(index.line_column(text, 4), (2, 2));
        assert_eq!(index.line_column(text, 99), (2, 3));
    }

    #[test]
    fn lone_carriage_returns_are_breaks_for_miette_only() {
        let text = "a\rb\r\nc";
        let index = LineIndex::new(text);
        assert_eq!(index.breaks_before(text, text.len()), 2);
        assert_eq!(index.line_column(text, text.len()), (2, 2));
    }

    #[test]
    fn lines_around_a_span_are_whole_lines() {
        let text = "l0\nl1\nl2\nl3\nl4";
        let index = LineIndex::new(text);
        assert_eq!(&text[index.lines_around(text, 6..8, 1, 1)], "l1\nl2\nl3\n");
        assert_eq!(&text[index.lines_around(text, 6..8, 0, 0)], "l2\n");
        assert_eq!(&text[index.lines_around(text, 0..1, 5, 0)], "l0\n");
        assert_eq!(&text[index.lines_around(text, 13..14, 0, 3)], "l4");
    }
}
