//! Reading the file to translate or import, or standard input for `-`: size-capped,
//! refusing binary and non-UTF-8 content with a located diagnostic instead of a panic or
//! a flood of nonsense errors.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use crate::diag::Diagnostic;
use crate::policy::source::SourceFile;

/// damo's files are small; a larger input is the wrong file.
pub const MAX_INPUT_BYTES: u64 = 16 << 20;

/// What a path argument names: `-` is standard input.
pub fn read(path: &Path) -> Result<Arc<SourceFile>, Box<Diagnostic>> {
    let stdin = path.as_os_str() == "-";
    let shown = if stdin { Path::new("<stdin>") } else { path };
    let io_error = |error: std::io::Error| {
        Box::new(
            Diagnostic::error("io-error", format!("{}: {error}", shown.display()))
                .help("check the path and its permissions"),
        )
    };
    let mut bytes = Vec::new();
    if stdin {
        std::io::stdin()
            .lock()
            .take(MAX_INPUT_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(io_error)?;
    } else {
        let meta = std::fs::metadata(path).map_err(io_error)?;
        if !meta.is_file() {
            return Err(Box::new(
                Diagnostic::error("io-error", format!("{}: not a regular file", path.display()))
                    .help("name a file, or `-` for standard input"),
            ));
        }
        std::fs::File::open(path)
            .map_err(io_error)?
            .take(MAX_INPUT_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(io_error)?;
    }
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(Box::new(
            Diagnostic::error(
                "file-too-large",
                format!("{}: larger than {} MiB", shown.display(), MAX_INPUT_BYTES >> 20),
            )
            .help("damo's scheme and kdamonds files are small; check that this is the right file"),
        ));
    }
    let located = |text: String, offset: usize, code: &'static str, message: &str, label: &str, help: &str| {
        let file = Arc::new(SourceFile::new(shown, text));
        Box::new(
            Diagnostic::error(code, message)
                .label(label)
                .help(help)
                .at(&file, Some(offset..offset)),
        )
    };
    if let Some(offset) = bytes.iter().position(|b| *b == 0) {
        let text = String::from_utf8_lossy(&bytes[..offset]).into_owned();
        return Err(located(
            text,
            offset,
            "binary-file",
            "this is a binary file, not text (it contains a NUL byte)",
            "NUL byte",
            "name damo's text file",
        ));
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Arc::new(SourceFile::new(shown, text))),
        Err(error) => {
            let offset = error.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(error.as_bytes()).into_owned();
            Err(located(
                text,
                offset,
                "not-utf8",
                "this file is not valid UTF-8",
                "invalid byte",
                "re-save the file as UTF-8",
            ))
        }
    }
}
