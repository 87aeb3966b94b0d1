//! Standard output of every command. `println!` panics when stdout cannot be written (a full
//! disk, `>/dev/full`) and `let _ = writeln!` loses the output silently; here the first
//! failed write is remembered, the rest of the output is dropped, and the failure decides
//! the exit status once the command is done ([`Output::finish`]).
//!
//! A closed pipe (`damo-policy check … | head -1`) is the reader's choice, not an error: Rust
//! ignores SIGPIPE, so it arrives as `BrokenPipe`, and the command ends quietly with the
//! status it would have had (as ripgrep does, except that ripgrep exits 0: here a failed
//! `check` still fails under `set -o pipefail`).

use std::io::{self, ErrorKind, StdoutLock, Write};
use std::process::ExitCode;

/// The exit status of a usage or I/O error.
pub const IO_ERROR: u8 = 2;

/// Standard output, remembering its first write error.
pub struct Output {
    inner: StdoutLock<'static>,
    error: Option<io::Error>,
    /// Said after the error when the output is lost: what the command did nonetheless.
    note: Option<String>,
}

impl Output {
    pub fn stdout() -> Self {
        Output {
            inner: io::stdout().lock(),
            error: None,
            note: None,
        }
    }

    /// What to tell the user if the output turns out lost: for a command that changed
    /// something before printing, that it did.
    pub fn note_if_lost(&mut self, note: String) {
        self.note = Some(note);
    }

    /// The exit status of a command that ended with `code` after writing here. A lost
    /// output turns success into the I/O error status; a command that already failed keeps
    /// its own status, which says more (invalid policies, the kernel refused).
    pub fn finish(mut self, code: ExitCode) -> ExitCode {
        let _ = self.flush();
        let Some(error) = self.error.take() else { return code };
        if error.kind() == ErrorKind::BrokenPipe {
            return code;
        }
        let mut err = io::stderr().lock();
        let _ = writeln!(err, "error: writing to standard output: {error}");
        if let Some(note) = &self.note {
            let _ = writeln!(err, "note: {note}");
        }
        if code == ExitCode::SUCCESS {
            ExitCode::from(IO_ERROR)
        } else {
            code
        }
    }

    fn record<T>(&mut self, result: io::Result<T>) -> io::Result<T> {
        match result {
            Err(error) if error.kind() != ErrorKind::Interrupted => {
                let kind = error.kind();
                self.error = Some(error);
                Err(kind.into())
            }
            other => other,
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Some(error) = &self.error {
            return Err(error.kind().into());
        }
        let result = self.inner.write(buf);
        self.record(result)
    }

    fn flush(&mut self) -> io::Result<()> {
        if let Some(error) = &self.error {
            return Err(error.kind().into());
        }
        let result = self.inner.flush();
        self.record(result)
    }
}
