//! Finding and reading policy files.
//!
//! A path argument is a policy file or a directory whose `*.toml` files (directly inside,
//! sorted by name) are policies. Dot-files are skipped, which also skips the `..data` and
//! `..2026_…` internals of a Kubernetes ConfigMap mount while its visible symlinks are read
//! through. `damo-policy.toml` in a directory is the project file, not a policy. Files are
//! read defensively: size-capped, checked for binary content and UTF-8 (of the text and of
//! the file name), errors located.

use std::collections::HashSet;
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::diag::{Code, Diagnostic};
use crate::files::capped::{self, ReadError};
use crate::policy::project::PROJECT_FILE;
use crate::policy::source::SourceFile;

/// Policy files are small; anything larger is a mistake, not a policy.
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// Diagnostic codes that mean "could not read", which the CLI reports with exit status 2.
pub const IO_CODES: &[Code] = &[Code::IoError, Code::NoPolicies];

/// The policy files found under the given paths, and what went wrong finding or reading them.
#[derive(Default)]
pub struct Loaded {
    pub files: Vec<Arc<SourceFile>>,
    pub diagnostics: Vec<Diagnostic>,
    /// Directories searched (for the project file).
    pub dirs: Vec<PathBuf>,
}

/// Lists and reads every policy file under `paths`.
///
/// A file or directory named twice (`d d/`, `a.toml ./a.toml`, `d d/a.toml`) is read once,
/// under the name it was first given: otherwise the policy is a duplicate of itself. Paths
/// are compared by [`identity`], which resolves the directory a file is in but not the file's
/// own name, so two names of one file (symbolic links beside it, as in a Kubernetes
/// ConfigMap) stay two policies, as they are when their directory is listed.
pub fn load_paths(paths: &[PathBuf]) -> Loaded {
    let mut loaded = Loaded::default();
    let mut seen_files = HashSet::new();
    // Directories listed, and directories searched for the project file (also those of files).
    let mut listed = HashSet::new();
    let mut searched = HashSet::new();
    let canonical = |dir: &Path| fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    for path in paths {
        match fs::metadata(path) {
            Err(error) => loaded.diagnostics.push(io_error(path, &error)),
            Ok(meta) if meta.is_dir() => {
                if !listed.insert(canonical(path)) {
                    continue;
                }
                if searched.insert(canonical(path)) {
                    loaded.dirs.push(path.clone());
                }
                match list_dir(path) {
                    Ok(files) if files.is_empty() => loaded.diagnostics.push(
                        Diagnostic::error(
                            Code::NoPolicies,
                            format!("{}: no policy files (`*.toml`) in this directory", path.display()),
                        )
                        .help("add policy files, or name the files or directory to check"),
                    ),
                    Ok(files) => {
                        for file in files.iter().filter(|f| seen_files.insert(identity(f))) {
                            read_into(&mut loaded, file);
                        }
                    }
                    Err(error) => loaded.diagnostics.push(io_error(path, &error)),
                }
            }
            Ok(_) => {
                if !seen_files.insert(identity(path)) {
                    continue;
                }
                if let Some(parent) = path.parent() {
                    let dir = if parent.as_os_str().is_empty() {
                        Path::new(".")
                    } else {
                        parent
                    };
                    if searched.insert(canonical(dir)) {
                        loaded.dirs.push(dir.to_path_buf());
                    }
                }
                // The project file named on its own is read as what it is (its directory's
                // settings, above), not validated as a policy.
                if path.file_name().is_some_and(|name| name == PROJECT_FILE) {
                    continue;
                }
                read_into(&mut loaded, path);
            }
        }
    }
    loaded
}

/// What makes two paths one policy file: the canonical directory it is in and its name there.
/// The name is kept as is because a policy is named by its file (and a directory of symbolic
/// links is a directory of distinct policies); a path that cannot be resolved is its own
/// identity.
fn identity(path: &Path) -> PathBuf {
    let (Some(name), Some(parent)) = (path.file_name(), path.parent()) else {
        return path.to_path_buf();
    };
    let dir = if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    };
    match fs::canonicalize(dir) {
        Ok(dir) => dir.join(name),
        Err(_) => path.to_path_buf(),
    }
}

/// `*.toml` entries directly in `dir`, sorted, skipping dot-files and the project file.
pub fn list_dir(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        // Matched as bytes: a policy whose name is not UTF-8 is still a policy of the
        // directory, and skipping it would make `apply` stop it. [`read_source`] refuses it.
        let bytes = name.as_bytes();
        if bytes.starts_with(b".") || !bytes.ends_with(b".toml") || bytes == PROJECT_FILE.as_bytes() {
            continue;
        }
        files.push(dir.join(name));
    }
    files.sort();
    Ok(files)
}

fn read_into(loaded: &mut Loaded, path: &Path) {
    match read_source(path) {
        Ok(file) => loaded.files.push(Arc::new(file)),
        Err(diagnostic) => loaded.diagnostics.push(*diagnostic),
    }
}

/// Reads one file into a [`SourceFile`], or explains why it is not a policy file.
pub fn read_source(path: &Path) -> Result<SourceFile, Box<Diagnostic>> {
    // A policy's default name is its file name, and every diagnostic names the file: both
    // need text. Nothing of the directory is applied while one of its files is refused.
    if path.file_name().is_some_and(|name| name.to_str().is_none()) {
        return Err(Box::new(
            Diagnostic::error(
                Code::FileName,
                format!(
                    "{}: the file name is not valid UTF-8 (shown with \u{FFFD} for its other bytes)",
                    path.display()
                ),
            )
            .help(format!(
                "rename the file to a UTF-8 name, e.g. `mv -- {} {}`; {}",
                shell_quoted(path),
                path.with_file_name("NEW.toml").display(),
                crate::model::name::HELP
            )),
        ));
    }
    // A FIFO or device named `*.toml` would block or never end: read regular files only.
    let error = match capped::read_file(path, MAX_FILE_BYTES) {
        Ok(text) => return Ok(SourceFile::new(path, text)),
        Err(error) => error,
    };
    Err(Box::new(match error {
        ReadError::Io(error) => io_error(path, &error),
        ReadError::NotRegular => Diagnostic::error(Code::IoError, format!("{}: not a regular file", path.display()))
            .help("policy files are regular files (or symbolic links to them)"),
        ReadError::TooLarge { cap_bytes } => Diagnostic::error(
            Code::FileTooLarge,
            format!(
                "{}: larger than {} MiB; this is not a policy file",
                path.display(),
                cap_bytes >> 20
            ),
        )
        .help("policy files are small TOML files; check that the right file is in the policy directory"),
        ReadError::Binary { offset, text_before } => Diagnostic::error(
            Code::BinaryFile,
            "this is a binary file, not TOML (it contains a NUL byte)",
        )
        .label("NUL byte")
        .help("remove it from the policy directory, or name only the policy files")
        .at(&Arc::new(SourceFile::new(path, text_before)), Some(offset..offset)),
        ReadError::NotUtf8 { offset, lossy_text } => Diagnostic::error(Code::NotUtf8, "this file is not valid UTF-8")
            .label("invalid byte")
            .help("TOML files are UTF-8; re-save the file as UTF-8")
            .at(&Arc::new(SourceFile::new(path, lossy_text)), Some(offset..offset + 1)),
    }))
}

/// A path as bash's `$'…'` quoting, so that a name with bytes that are not UTF-8 can be
/// pasted into a command: those bytes (and control characters) as `\xNN`.
fn shell_quoted(path: &Path) -> String {
    let mut out = String::from("$'");
    for chunk in path.as_os_str().as_bytes().utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' | '\'' => {
                    out.push('\\');
                    out.push(c);
                }
                c if c.is_control() => out.extend(c.to_string().bytes().map(|b| format!("\\x{b:02x}"))),
                c => out.push(c),
            }
        }
        out.extend(chunk.invalid().iter().map(|b| format!("\\x{b:02x}")));
    }
    out.push('\'');
    out
}

fn io_error(path: &Path, error: &io::Error) -> Diagnostic {
    let help = match error.kind() {
        io::ErrorKind::NotFound => "check the path",
        io::ErrorKind::PermissionDenied => "run with permission to read it, or fix its mode",
        _ if error.raw_os_error() == Some(40) => "a symbolic link points to itself through a loop; fix or remove it",
        _ => "check the path and its permissions",
    };
    Diagnostic::error(Code::IoError, format!("{}: {error}", path.display())).help(help)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_policies_sorted_skipping_dotfiles_and_the_project_file() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.toml", "a.toml", ".hidden.toml", "notes.md", PROJECT_FILE] {
            fs::write(dir.path().join(name), "").unwrap();
        }
        fs::create_dir(dir.path().join("..data")).unwrap();
        let names: Vec<String> = list_dir(dir.path())
            .unwrap()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.toml", "b.toml"]);
    }

    #[test]
    fn a_file_name_that_is_not_utf8_is_listed_then_refused() {
        let dir = tempfile::tempdir().unwrap();
        let name = std::ffi::OsStr::from_bytes(b"caf\xe9.toml");
        fs::write(dir.path().join(name), "").unwrap();
        fs::write(dir.path().join(std::ffi::OsStr::from_bytes(b".caf\xe9.toml")), "").unwrap();
        let files = list_dir(dir.path()).unwrap();
        assert_eq!(files, [dir.path().join(name)]);
        let error = read_source(&files[0]).unwrap_err();
        assert_eq!(error.code, Code::FileName);
        assert!(
            error
                .message
                .contains("caf\u{FFFD}.toml: the file name is not valid UTF-8"),
            "{}",
            error.message
        );
        assert!(
            error
                .help
                .unwrap()
                .contains(&format!(r"caf\xe9.toml' {}", dir.path().join("NEW.toml").display()))
        );
        assert_eq!(shell_quoted(Path::new("it's\\\n")), r"$'it\'s\\\x0a'");
    }

    #[test]
    fn a_path_named_twice_is_read_once() {
        let dir = tempfile::tempdir().unwrap();
        let policies = dir.path().join("d");
        fs::create_dir(&policies).unwrap();
        fs::write(policies.join("a.toml"), "").unwrap();
        fs::write(policies.join("b.toml"), "").unwrap();
        // A second name of one file beside it is a policy of its own, as in a listing.
        std::os::unix::fs::symlink("a.toml", policies.join("c.toml")).unwrap();
        std::os::unix::fs::symlink(&policies, dir.path().join("link")).unwrap();
        let names =
            |paths: &[PathBuf]| -> Vec<String> { load_paths(paths).files.iter().map(|f| f.display_path()).collect() };
        let d = |rest: &str| dir.path().join(rest);
        let all = [d("d/a.toml"), d("d/b.toml"), d("d/c.toml")].map(|p| p.display().to_string());
        assert_eq!(names(&[d("d"), d("d/"), d("d/."), d("link"), d("d/a.toml")]), all);
        assert_eq!(
            names(&[d("d/a.toml"), d("d/./a.toml"), d("link/a.toml"), d("d")]),
            all.clone()
        );
        assert_eq!(names(&[d("d/a.toml"), d("d/c.toml")]), [all[0].clone(), all[2].clone()]);
        let loaded = load_paths(&[d("d"), d("d/"), d("d/a.toml")]);
        assert_eq!(loaded.dirs, [d("d")]);
        // Missing paths are each reported.
        assert_eq!(load_paths(&[d("nope.toml"), d("nope.toml")]).diagnostics.len(), 2);
    }

    #[test]
    fn refuses_binary_large_and_non_utf8_files() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin.toml");
        fs::write(&bin, b"name = 1\0\x01").unwrap();
        assert_eq!(read_source(&bin).unwrap_err().code, Code::BinaryFile);
        let latin = dir.path().join("latin.toml");
        fs::write(&latin, b"name = \"caf\xe9\"\n").unwrap();
        let error = read_source(&latin).unwrap_err();
        assert_eq!((error.code, error.line_column()), (Code::NotUtf8, Some((1, 12))));
        let big = dir.path().join("big.toml");
        fs::write(&big, vec![b'#'; (MAX_FILE_BYTES + 1) as usize]).unwrap();
        assert_eq!(read_source(&big).unwrap_err().code, Code::FileTooLarge);
    }
}
