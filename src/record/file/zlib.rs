//! A zlib stream assembled from pieces compressed at different times, so that a record
//! file's spooled snapshots, compressed while recording, are copied into it unchanged at
//! the end instead of being decompressed and compressed again.
//!
//! Each piece is a raw deflate stream ended by a sync flush (byte-aligned, no final
//! block), so pieces concatenate into one valid deflate stream; an empty final block ends
//! it. zlib's header and trailer wrap it: the trailer's Adler-32 checksum of the whole text
//! combines the pieces' checksums, as zlib's `adler32_combine` does.

use std::io::{self, Read, Write};

use flate2::Compression;
use flate2::write::DeflateEncoder;

/// zlib's header for deflate with a 32 KiB window at the default level, as Python's
/// `zlib.compress` writes it (and `file` recognises as "zlib compressed data").
const HEADER: [u8; 2] = [0x78, 0x9c];

/// A final block of fixed Huffman codes holding only its end code.
const EMPTY_FINAL_BLOCK: [u8; 2] = [0x03, 0x00];

/// The compression level: zlib's default, as damo's.
pub(crate) fn level() -> Compression {
    Compression::default()
}

/// A raw deflate encoder whose output can be followed by other pieces.
pub(crate) fn piece_encoder<W: Write>(out: W) -> DeflateEncoder<W> {
    DeflateEncoder::new(out, level())
}

/// Ends a piece: flushes it to a byte boundary without a final block.
pub(crate) fn end_piece<W: Write>(encoder: DeflateEncoder<W>) -> io::Result<W> {
    encoder.flush_finish()
}

const ADLER_MODULUS: u32 = 65_521;
/// The most bytes summed before the sums must be reduced to stay within u32.
const ADLER_MAX_RUN: usize = 5_552;

/// Adler-32 of a text, and of texts joined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Adler32 {
    low: u32,
    high: u32,
}

impl Default for Adler32 {
    fn default() -> Self {
        Self { low: 1, high: 0 }
    }
}

impl Adler32 {
    pub(crate) fn update(&mut self, bytes: &[u8]) {
        for run in bytes.chunks(ADLER_MAX_RUN) {
            for &byte in run {
                self.low += u32::from(byte);
                self.high += self.low;
            }
            self.low %= ADLER_MODULUS;
            self.high %= ADLER_MODULUS;
        }
    }

    pub(crate) fn value(self) -> u32 {
        (self.high << 16) | self.low
    }

    /// The checksum of this text followed by a text of `len` bytes whose checksum is `next`.
    pub(crate) fn then(self, next: Adler32, len: u64) -> Adler32 {
        let modulus = u64::from(ADLER_MODULUS);
        let remainder = len % modulus;
        let (low1, high1) = (u64::from(self.low), u64::from(self.high));
        let (low2, high2) = (u64::from(next.low), u64::from(next.high));
        // high of the join: high1 + len·low1 + high2 − len (next's sums started at low 1).
        let low = (low1 + low2 + modulus - 1) % modulus;
        let high = (high1 + remainder * low1 % modulus + high2 + modulus - remainder) % modulus;
        Adler32 {
            low: low as u32,
            high: high as u32,
        }
    }
}

/// A writer that checksums and counts the text it passes on (to a piece encoder).
pub(crate) struct Checksummed<W> {
    pub(crate) inner: W,
    pub(crate) adler: Adler32,
    pub(crate) len: u64,
}

impl<W> Checksummed<W> {
    pub(crate) fn new(inner: W) -> Self {
        Self {
            inner,
            adler: Adler32::default(),
            len: 0,
        }
    }
}

impl<W: Write> Write for Checksummed<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.adler.update(&buf[..written]);
        self.len += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A file being assembled from text and spooled pieces: a zlib stream of text compressed
/// here and pieces compressed earlier, or (`plain`) the text and pieces as they are.
pub(crate) struct Assembler<'a> {
    out: &'a mut dyn Write,
    compressed: bool,
    adler: Adler32,
    /// Text not yet compressed: gathered so that short texts between pieces make one piece.
    pending: Vec<u8>,
}

impl<'a> Assembler<'a> {
    pub(crate) fn zlib(out: &'a mut dyn Write) -> io::Result<Self> {
        out.write_all(&HEADER)?;
        Ok(Self {
            out,
            compressed: true,
            adler: Adler32::default(),
            pending: Vec::new(),
        })
    }

    pub(crate) fn plain(out: &'a mut dyn Write) -> Self {
        Self {
            out,
            compressed: false,
            adler: Adler32::default(),
            pending: Vec::new(),
        }
    }

    pub(crate) fn text(&mut self, text: &[u8]) {
        self.pending.extend_from_slice(text);
    }

    /// Appends a piece compressed earlier, whose text had checksum `adler` and `len` bytes.
    pub(crate) fn piece(&mut self, mut piece: impl Read, adler: Adler32, len: u64) -> io::Result<()> {
        self.compress_pending()?;
        io::copy(&mut piece, &mut self.out)?;
        self.adler = self.adler.then(adler, len);
        Ok(())
    }

    pub(crate) fn finish(mut self) -> io::Result<()> {
        self.compress_pending()?;
        if !self.compressed {
            return Ok(());
        }
        self.out.write_all(&EMPTY_FINAL_BLOCK)?;
        self.out.write_all(&self.adler.value().to_be_bytes())
    }

    fn compress_pending(&mut self) -> io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        if !self.compressed {
            self.out.write_all(&self.pending)?;
            self.pending.clear();
            return Ok(());
        }
        let mut encoder = piece_encoder(&mut self.out);
        encoder.write_all(&self.pending)?;
        end_piece(encoder)?;
        self.adler.update(&self.pending);
        self.pending.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adler(text: &[u8]) -> Adler32 {
        let mut sum = Adler32::default();
        sum.update(text);
        sum
    }

    #[test]
    fn adler32_of_known_texts() {
        assert_eq!(adler(b"").value(), 1);
        assert_eq!(adler(b"Wikipedia").value(), 0x11E6_0398);
        let long = vec![0xff_u8; 100_000];
        // Reduced in runs, it equals the sum reduced byte by byte.
        let (mut low, mut high) = (1_u64, 0_u64);
        for &b in &long {
            low = (low + u64::from(b)) % 65_521;
            high = (high + low) % 65_521;
        }
        assert_eq!(u64::from(adler(&long).value()), (high << 16) | low);
    }

    #[test]
    fn joined_checksums_equal_the_checksum_of_the_joined_text() {
        let text: Vec<u8> = (0..200_000_u32).map(|i| (i * 7 % 251) as u8).collect();
        for split in [0, 1, 5_552, 65_521, 100_000, 200_000] {
            let (a, b) = text.split_at(split);
            assert_eq!(
                adler(a).then(adler(b), b.len() as u64),
                adler(&text),
                "split at {split}"
            );
        }
    }

    #[test]
    fn pieces_assemble_into_one_zlib_stream() {
        let mut spooled = Checksummed::new(piece_encoder(Vec::new()));
        spooled.write_all(b",\"second piece, compressed earlier\"").unwrap();
        let (adler, len) = (spooled.adler, spooled.len);
        let compressed = end_piece(spooled.inner).unwrap();
        let mut file = Vec::new();
        let mut assembler = Assembler::zlib(&mut file).unwrap();
        assembler.text(b"[\"first\"");
        assembler.piece(&compressed[..], adler, len).unwrap();
        assembler.text(b"]");
        assembler.finish().unwrap();
        let mut text = String::new();
        flate2::read::ZlibDecoder::new(&file[..])
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "[\"first\",\"second piece, compressed earlier\"]");
    }
}
