//! Reading the file to translate or import, or standard input for `-`: size-capped,
//! refusing binary and non-UTF-8 content ([`crate::files::capped`]) with a located
//! diagnostic instead of a panic or a flood of nonsense errors.

use std::path::Path;
use std::sync::Arc;

use crate::diag::{Code, Diagnostic};
use crate::files::capped::{self, ReadError};
use crate::policy::source::SourceFile;

/// damo's files are small; a larger input is the wrong file.
pub const MAX_INPUT_BYTES: u64 = 16 << 20;

/// What a path argument names: `-` is standard input.
pub fn read(path: &Path) -> Result<Arc<SourceFile>, Box<Diagnostic>> {
    let stdin = path.as_os_str() == "-";
    let shown = if stdin { Path::new("<stdin>") } else { path };
    let read = if stdin {
        capped::read_from(std::io::stdin().lock(), MAX_INPUT_BYTES)
    } else {
        capped::read_file(path, MAX_INPUT_BYTES)
    };
    let error = match read {
        Ok(text) => return Ok(Arc::new(SourceFile::new(shown, text))),
        Err(error) => error,
    };
    let located = |text: String, offset: usize, code: Code, message: &str, label: &str, help: &str| {
        let file = Arc::new(SourceFile::new(shown, text));
        Diagnostic::error(code, message)
            .label(label)
            .help(help)
            .at(&file, Some(offset..offset))
    };
    Err(Box::new(match error {
        ReadError::Io(error) => Diagnostic::error(Code::IoError, format!("{}: {error}", shown.display()))
            .help("check the path and its permissions"),
        ReadError::NotRegular => Diagnostic::error(Code::IoError, format!("{}: not a regular file", path.display()))
            .help("name a file, or `-` for standard input"),
        ReadError::TooLarge { cap_bytes } => Diagnostic::error(
            Code::FileTooLarge,
            format!("{}: larger than {} MiB", shown.display(), cap_bytes >> 20),
        )
        .help("damo's scheme and kdamonds files are small; check that this is the right file"),
        ReadError::Binary { offset, text_before } => located(
            text_before,
            offset,
            Code::BinaryFile,
            "this is a binary file, not text (it contains a NUL byte)",
            "NUL byte",
            "name damo's text file",
        ),
        ReadError::NotUtf8 { offset, lossy_text } => located(
            lossy_text,
            offset,
            Code::NotUtf8,
            "this file is not valid UTF-8",
            "invalid byte",
            "re-save the file as UTF-8",
        ),
    }))
}
