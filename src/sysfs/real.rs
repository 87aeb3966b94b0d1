//! The real sysfs tree under a root directory. Files are opened without create or
//! truncate and written with a single write(2), as sysfs requires; every error names the
//! path and the value and keeps the errno.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::{Sysfs, SysfsError};

#[derive(Debug, Clone)]
pub struct RealSysfs {
    root: PathBuf,
}

impl RealSysfs {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
}

fn error(path: &str, value: Option<&str>, e: &std::io::Error) -> SysfsError {
    SysfsError {
        path: path.to_owned(),
        value: value.map(str::to_owned),
        errno: e.raw_os_error(),
        message: e.to_string(),
    }
}

impl Sysfs for RealSysfs {
    fn read(&self, path: &str) -> Result<String, SysfsError> {
        let text = fs::read_to_string(self.root.join(path)).map_err(|e| error(path, None, &e))?;
        Ok(text.strip_suffix('\n').unwrap_or(&text).to_owned())
    }

    fn write(&self, path: &str, value: &str) -> Result<(), SysfsError> {
        let mut file = OpenOptions::new()
            .write(true)
            .open(self.root.join(path))
            .map_err(|e| error(path, Some(value), &e))?;
        // One write(2): sysfs stores take the whole buffer of a single write.
        let written = file.write(value.as_bytes()).map_err(|e| error(path, Some(value), &e))?;
        if written != value.len() {
            return Err(SysfsError {
                path: path.to_owned(),
                value: Some(value.to_owned()),
                errno: None,
                message: format!("short write ({written} of {} bytes)", value.len()),
            });
        }
        Ok(())
    }

    fn exists(&self, path: &str) -> bool {
        self.root.join(path).exists()
    }

    fn list(&self, path: &str) -> Result<Vec<String>, SysfsError> {
        let entries = fs::read_dir(self.root.join(path)).map_err(|e| error(path, None, &e))?;
        entries
            .map(|entry| {
                entry
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .map_err(|e| error(path, None, &e))
            })
            .collect()
    }

    fn describe(&self) -> String {
        self.root.display().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_existing_files_only_and_reads_without_newline() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("kdamonds")).unwrap();
        fs::write(dir.path().join("kdamonds/nr_kdamonds"), "0\n").unwrap();
        let sysfs = RealSysfs::new(dir.path());
        assert_eq!(sysfs.read("kdamonds/nr_kdamonds").unwrap(), "0");
        sysfs.write("kdamonds/nr_kdamonds", "2").unwrap();
        assert_eq!(sysfs.read("kdamonds/nr_kdamonds").unwrap(), "2");
        let missing = sysfs.write("kdamonds/0/state", "on").unwrap_err();
        assert_eq!(missing.errno, Some(super::super::errno::ENOENT));
        assert!(missing.to_string().contains("writing `on` to kdamonds/0/state"));
        assert!(!dir.path().join("kdamonds/0").exists(), "a write never creates files");
    }
}
