//! Replacing a file whole or not at all: the content goes to a new temporary file beside
//! it, is flushed to disk, and is renamed over the file. A reader (or a crash, or a power
//! cut) sees the old file or the new one, never a mix or a truncated file; a failed write
//! leaves the old file as it was and removes its temporary file.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Temporary names tried before giving up: each is new to this process, so only a stale
/// file of an earlier process with the same pid can be in the way.
const TEMPORARY_NAME_TRIES: u32 = 100;

/// Replaces `path` with `contents`.
pub fn write(path: &Path, contents: &[u8]) -> io::Result<()> {
    write_with(path, |file| file.write_all(contents))
}

/// Replaces `path` with what `fill` writes into the (buffered) temporary file; an error of
/// `fill`, such as a serializer's, leaves `path` as it was.
///
/// The file keeps the permission bits of the file it replaces; a new file gets the default
/// mode of a created file (0666 less the umask), as a plain write would.
pub fn write_with(path: &Path, fill: impl FnOnce(&mut io::BufWriter<&fs::File>) -> io::Result<()>) -> io::Result<()> {
    let dir = parent_dir(path);
    let kept_mode = fs::metadata(path).ok().map(|meta| meta.permissions().mode() & 0o7777);
    let name = path
        .file_name()
        .map_or_else(|| "file".into(), |name| name.to_string_lossy().into_owned());
    let (temporary, file) = create_beside(dir, &name, "tmp", kept_mode.unwrap_or(0o666))?;
    let written = (|| {
        let mut buffered = io::BufWriter::new(&file);
        fill(&mut buffered)?;
        buffered.flush()?;
        drop(buffered);
        // Creation applies the umask: a kept mode is set exactly.
        if let Some(mode) = kept_mode {
            file.set_permissions(fs::Permissions::from_mode(mode))?;
        }
        // On disk before the rename, or a power cut could leave the new name on no data.
        file.sync_all()?;
        fs::rename(&temporary, path)
    })();
    if let Err(error) = written {
        let _ = fs::remove_file(&temporary);
        return Err(error);
    }
    // The rename itself lasts once the directory is on disk. It has happened already, so a
    // directory that cannot be synced (some filesystems refuse) is no failure of the write.
    if let Ok(dir) = fs::File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// The directory `path` is in (`.` for a bare file name).
pub fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// A new, empty file in `dir`, open for reading and writing with `mode` (less the umask),
/// named `.{name}.{pid}.{n}.{suffix}`: a name no other writer uses, hidden from listings.
pub fn create_beside(dir: &Path, name: &str, suffix: &str, mode: u32) -> io::Result<(PathBuf, fs::File)> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut tries = 0;
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let temporary = dir.join(format!(".{name}.{}.{n}.{suffix}", std::process::id()));
        match fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&temporary)
        {
            Ok(file) => return Ok((temporary, file)),
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists && tries < TEMPORARY_NAME_TRIES => tries += 1,
            Err(error) => return Err(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn replaces_a_file_keeping_its_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        write(&path, b"new file").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new file");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        write(&path, b"second").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "second");
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o7777, 0o640);
        assert_eq!(names_in(dir.path()), ["state.json"]);
    }

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("status.json");
        fs::write(&path, "old").unwrap();
        let error = write_with(&path, |out| {
            out.write_all(b"half of the new")?;
            Err(io::Error::other("the serializer failed"))
        })
        .unwrap_err();
        assert_eq!(error.to_string(), "the serializer failed");
        assert_eq!(fs::read_to_string(&path).unwrap(), "old");
        assert_eq!(names_in(dir.path()), ["status.json"]);
        // A rename that fails (over a non-empty directory) cleans up too.
        let taken = dir.path().join("taken");
        fs::create_dir(&taken).unwrap();
        fs::write(taken.join("inside"), "").unwrap();
        assert!(write(&taken, b"x").is_err());
        assert_eq!(names_in(dir.path()), ["status.json", "taken"]);
    }
}
