//! Where a record file's bytes go, and how a file appears only whole.
//!
//! While recording, data waits in spool files: created beside the output (same
//! filesystem, so a full disk shows up while recording, not at the end), mode 0600, and
//! unlinked at once, so that nothing is left behind by a crash or a kill. At the end the
//! file is assembled under a temporary name beside its path, given mode 0600, flushed to
//! disk and only then linked at its path, so the path never holds a truncated file. An
//! existing file is replaced only when asked to; a path that is not a regular file (a
//! terminal, a pipe, `/dev/null`, `/dev/full`) is written directly, as a plain write would.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::RecordFileError;
use crate::files::atomic::{create_beside, parent_dir};

/// The mode damo gives record files (`--output_permission 600`): recordings show where a
/// process keeps its data.
const FILE_MODE: u32 = 0o600;

/// The path a file is written to, checked before recording starts.
#[derive(Debug, Clone)]
pub(crate) struct Destination {
    path: PathBuf,
    overwrite: bool,
    /// Not a regular file (nor absent): written directly, never renamed over.
    direct: bool,
}

impl Destination {
    /// Refuses an existing regular file unless `overwrite`, and a directory.
    pub(crate) fn check(path: &Path, overwrite: bool) -> Result<Self, RecordFileError> {
        let direct = match fs::metadata(path) {
            Err(error) if error.kind() == io::ErrorKind::NotFound => false,
            Err(error) => return Err(RecordFileError::write(path, error)),
            Ok(meta) if meta.is_dir() => return Err(RecordFileError::IsADirectory { path: path.into() }),
            Ok(meta) if meta.is_file() && !overwrite => return Err(RecordFileError::Exists { path: path.into() }),
            Ok(meta) => !meta.is_file(),
        };
        Ok(Self {
            path: path.to_path_buf(),
            overwrite,
            direct,
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// A new spool file: beside the output, or in the temporary directory when the output
    /// is a device or a pipe (whose directory is no place for files).
    pub(crate) fn spool(&self) -> Result<Spool, RecordFileError> {
        let dir = if self.direct { std::env::temp_dir() } else { self.dir() };
        Spool::create(&dir, &self.name()).map_err(|e| RecordFileError::write(&self.path, e))
    }

    /// Writes the file through `fill` and puts it in place; returns its size. On error,
    /// nothing of it stays at the path (except what already reached a device or a pipe).
    pub(crate) fn commit(&self, fill: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<u64, RecordFileError> {
        let result = if self.direct {
            self.write_direct(fill)
        } else {
            self.write_placed(fill)
        };
        result.map_err(|error| match error {
            PlaceError::Exists => RecordFileError::Exists {
                path: self.path.clone(),
            },
            PlaceError::Io(source) => RecordFileError::write(&self.path, source),
        })
    }

    fn dir(&self) -> PathBuf {
        parent_dir(&self.path).to_path_buf()
    }

    fn name(&self) -> String {
        self.path
            .file_name()
            .map_or_else(|| "record".into(), |name| name.to_string_lossy().into_owned())
    }

    fn write_direct(&self, fill: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<u64, PlaceError> {
        let file = OpenOptions::new().write(true).open(&self.path)?;
        let mut out = BufWriter::new(Counted::new(file));
        fill(&mut out)?;
        out.flush()?;
        Ok(out.get_ref().count)
    }

    fn write_placed(&self, fill: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<u64, PlaceError> {
        let dir = self.dir();
        let (temporary, file) = create_beside(&dir, &self.name(), "tmp", FILE_MODE)?;
        let placed = (|| -> Result<u64, PlaceError> {
            let mut out = BufWriter::new(Counted::new(file));
            fill(&mut out)?;
            out.flush()?;
            let counted = out.into_inner().map_err(|e| e.into_error())?;
            // Creation applied the umask; damo's mode is set exactly.
            counted.inner.set_permissions(fs::Permissions::from_mode(FILE_MODE))?;
            // On disk before it gets its name, or a power cut could leave the name on no data.
            counted.inner.sync_all()?;
            self.place(&temporary)?;
            Ok(counted.count)
        })();
        if placed.is_err() {
            let _ = fs::remove_file(&temporary);
        }
        let size = placed?;
        if let Ok(dir) = File::open(&dir) {
            let _ = dir.sync_all();
        }
        Ok(size)
    }

    /// Gives the finished temporary file its name. Without `overwrite` a hard link does
    /// it, which fails rather than replace a file that appeared meanwhile.
    fn place(&self, temporary: &Path) -> Result<(), PlaceError> {
        if self.overwrite {
            return Ok(fs::rename(temporary, &self.path)?);
        }
        match fs::hard_link(temporary, &self.path) {
            Ok(()) => Ok(fs::remove_file(temporary)?),
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => Err(PlaceError::Exists),
            // A filesystem without hard links: rename, after a last look.
            Err(_) if self.path.symlink_metadata().is_ok() => Err(PlaceError::Exists),
            Err(_) => Ok(fs::rename(temporary, &self.path)?),
        }
    }
}

enum PlaceError {
    Exists,
    Io(io::Error),
}

impl From<io::Error> for PlaceError {
    fn from(error: io::Error) -> Self {
        PlaceError::Io(error)
    }
}

/// A writer that counts the bytes it passes on.
pub(crate) struct Counted<W> {
    pub(crate) inner: W,
    pub(crate) count: u64,
}

impl<W> Counted<W> {
    pub(crate) fn new(inner: W) -> Self {
        Self { inner, count: 0 }
    }
}

impl<W: Write> Write for Counted<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.count += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// An unlinked temporary file: written while recording, read back once at the end.
pub(crate) struct Spool {
    file: Counted<File>,
}

impl Spool {
    fn create(dir: &Path, name: &str) -> io::Result<Self> {
        let (path, file) = create_beside(dir, name, "spool", FILE_MODE)?;
        fs::remove_file(&path)?;
        Ok(Self {
            file: Counted::new(file),
        })
    }

    /// Bytes written so far.
    pub(crate) fn len(&self) -> u64 {
        self.file.count
    }

    /// Everything written, from the start.
    pub(crate) fn into_reader(mut self) -> io::Result<impl Read> {
        self.file.flush()?;
        self.file.inner.seek(SeekFrom::Start(0))?;
        Ok(self.file.inner)
    }
}

impl Write for Spool {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}
