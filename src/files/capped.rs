//! Reading a text file (or standard input) whole, size-capped, refusing binary and
//! non-UTF-8 content. The error says where the content went wrong and carries the text up
//! to there, so a caller can point at the byte instead of failing with a flood of nonsense
//! errors from a parser.

use std::fs;
use std::io::{self, Read};
use std::path::Path;

/// Why a file could not be read as text.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be inspected, opened or read.
    #[error(transparent)]
    Io(#[from] io::Error),
    /// A FIFO, device or directory: reading it could block or never end.
    #[error("not a regular file")]
    NotRegular,
    /// More than the cap: the wrong file, not one to parse.
    #[error("larger than {cap_bytes} bytes")]
    TooLarge { cap_bytes: u64 },
    /// A NUL byte at `offset`; `text_before` is the text before it (lossily decoded).
    #[error("a NUL byte at offset {offset}: a binary file")]
    Binary { offset: usize, text_before: String },
    /// The first invalid UTF-8 byte is at `offset`; `lossy_text` is the whole content with
    /// invalid bytes replaced, identical to the content up to `offset`.
    #[error("not valid UTF-8 at offset {offset}")]
    NotUtf8 { offset: usize, lossy_text: String },
}

/// Reads the regular file at `path`, at most `cap_bytes` long, as UTF-8 text.
pub fn read_file(path: &Path, cap_bytes: u64) -> Result<String, ReadError> {
    // Checked before opening: opening a FIFO blocks until a writer comes.
    if !fs::metadata(path)?.is_file() {
        return Err(ReadError::NotRegular);
    }
    read_from(fs::File::open(path)?, cap_bytes)
}

/// Reads `reader` to its end, at most `cap_bytes`, as UTF-8 text.
pub fn read_from(reader: impl Read, cap_bytes: u64) -> Result<String, ReadError> {
    let mut bytes = Vec::new();
    // One byte past the cap tells a file of exactly the cap from a larger one.
    reader.take(cap_bytes.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap_bytes {
        return Err(ReadError::TooLarge { cap_bytes });
    }
    if let Some(offset) = bytes.iter().position(|b| *b == 0) {
        return Err(ReadError::Binary {
            offset,
            text_before: String::from_utf8_lossy(&bytes[..offset]).into_owned(),
        });
    }
    String::from_utf8(bytes).map_err(|error| ReadError::NotUtf8 {
        offset: error.utf8_error().valid_up_to(),
        lossy_text: String::from_utf8_lossy(error.as_bytes()).into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_text_up_to_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a");
        fs::write(&path, "1234").unwrap();
        assert_eq!(read_file(&path, 4).unwrap(), "1234");
        assert!(matches!(read_file(&path, 3), Err(ReadError::TooLarge { cap_bytes: 3 })));
    }

    #[test]
    fn refuses_what_is_not_a_regular_text_file() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(read_file(dir.path(), 10), Err(ReadError::NotRegular)));
        assert!(matches!(read_file(&dir.path().join("none"), 10), Err(ReadError::Io(_))));
        match read_from(&b"ab\0c"[..], 10) {
            Err(ReadError::Binary { offset, text_before }) => assert_eq!((offset, text_before.as_str()), (2, "ab")),
            other => panic!("{other:?}"),
        }
        match read_from(&b"caf\xe9!"[..], 10) {
            Err(ReadError::NotUtf8 { offset, lossy_text }) => {
                assert_eq!((offset, lossy_text.as_str()), (3, "caf\u{FFFD}!"))
            }
            other => panic!("{other:?}"),
        }
    }
}
