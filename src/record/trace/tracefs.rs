//! Where tracefs is mounted and what it offers DAMON recording: the `damon_aggregated`
//! event and private instances. Only reads; instances are made in [`super::instance`].

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::TraceError;
use crate::host::HostPaths;

/// The event's directory, below a tracefs root or an instance.
pub(crate) const EVENT_DIR: &str = "events/damon/damon_aggregated";

/// What the kernel does on `mkdir` and `rmdir` of an instance (fill it with its files,
/// remove them with it), done by hand where no kernel serves the tree: the fake of tests.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Emulation {
    pub lay_out_instance: fn(&Path) -> io::Result<()>,
}

/// A mounted tracefs.
#[derive(Debug, Clone)]
pub struct Tracefs {
    root: PathBuf,
    /// The host's `/proc`, to tell whether the creator of a stale instance still lives.
    pub(crate) proc_root: PathBuf,
    pub(crate) emulation: Option<Emulation>,
}

/// Whether a file of tracefs exists, as far as this process can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    Present,
    Absent,
    /// Not readable by this process (tracefs is root's).
    Denied,
}

/// The recording sources a tracefs offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Availability {
    pub root: PathBuf,
    /// `events/damon/damon_aggregated`.
    pub event: Presence,
    /// `instances/`, where private buffers are made.
    pub instances: Presence,
}

impl Availability {
    /// Whether recording through a private instance can work here.
    pub fn usable(&self) -> bool {
        self.event == Presence::Present && self.instances == Presence::Present
    }
}

impl Tracefs {
    /// The tracefs mounted on the host, from its proc root's mount table: a tracefs mount
    /// (`/sys/kernel/tracing` first), else `tracing/` of a mounted debugfs. `None` when
    /// neither is mounted.
    pub fn find(host: &HostPaths) -> Result<Option<Tracefs>, TraceError> {
        let path = host.proc_root.join("mounts");
        let table = fs::read_to_string(&path).map_err(|source| TraceError::Mounts { path, source })?;
        Ok(tracefs_root(&table).map(|root| Tracefs::at(root, host)))
    }

    /// As [`Tracefs::find`], with [`TraceError::NotMounted`] (and its fix) when there is none.
    pub fn require(host: &HostPaths) -> Result<Tracefs, TraceError> {
        Tracefs::find(host)?.ok_or_else(|| TraceError::NotMounted {
            mounts: host.proc_root.join("mounts"),
        })
    }

    /// A tracefs at `root`; `host`'s proc root decides which instance creators still live.
    pub fn at(root: impl Into<PathBuf>, host: &HostPaths) -> Tracefs {
        Tracefs {
            root: root.into(),
            proc_root: host.proc_root.clone(),
            emulation: None,
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub(crate) fn instances_dir(&self) -> PathBuf {
        self.root.join("instances")
    }

    pub(crate) fn event_dir(&self) -> PathBuf {
        self.root.join(EVENT_DIR)
    }

    pub(crate) fn make_instance(&self, path: &Path) -> io::Result<()> {
        fs::create_dir(path)?;
        match self.emulation {
            Some(emulation) => (emulation.lay_out_instance)(path),
            None => Ok(()),
        }
    }

    /// Removes an instance; the kernel takes its files with it.
    pub(crate) fn remove_instance(&self, path: &Path) -> io::Result<()> {
        match self.emulation {
            Some(_) => fs::remove_dir_all(path),
            None => fs::remove_dir(path),
        }
    }

    /// Which recording sources this tracefs offers, for `damo-policy kernel`.
    pub fn sources(&self) -> Availability {
        Availability {
            root: self.root.clone(),
            event: presence(&self.event_dir()),
            instances: presence(&self.instances_dir()),
        }
    }
}

fn presence(path: &Path) -> Presence {
    match fs::metadata(path) {
        Ok(meta) if meta.is_dir() => Presence::Present,
        Ok(_) => Presence::Absent,
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => Presence::Denied,
        Err(_) => Presence::Absent,
    }
}

/// The tracefs root a mount table offers.
fn tracefs_root(table: &str) -> Option<PathBuf> {
    let mounts: Vec<(&str, PathBuf)> = table
        .lines()
        .filter_map(|line| {
            let mut fields = line.split(' ');
            let _device = fields.next()?;
            let mount_point = unescape(fields.next()?);
            Some((fields.next()?, mount_point))
        })
        .collect();
    let tracefs = || mounts.iter().filter(|(fs_type, _)| *fs_type == "tracefs");
    tracefs()
        .find(|(_, path)| path == Path::new("/sys/kernel/tracing"))
        .or_else(|| tracefs().next())
        .map(|(_, path)| path.clone())
        .or_else(|| {
            mounts
                .iter()
                .filter(|(fs_type, _)| *fs_type == "debugfs")
                .map(|(_, path)| path.join("tracing"))
                .find(|path| path.is_dir())
        })
}

/// A mount point as the mount table writes it: space, tab, newline and backslash as
/// three-digit octal escapes.
fn unescape(field: &str) -> PathBuf {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escape = bytes
            .get(i + 1..i + 4)
            .filter(|digits| bytes[i] == b'\\' && digits.iter().all(|d| (b'0'..=b'7').contains(d)));
        match escape {
            Some(digits) => {
                let value = digits.iter().fold(0u32, |v, d| v * 8 + u32::from(d - b'0'));
                out.push(value as u8);
                i += 4;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    use std::os::unix::ffi::OsStringExt;
    PathBuf::from(std::ffi::OsString::from_vec(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tracing_mount_point_is_preferred() {
        let table = "proc /proc proc rw 0 0\n\
                     nodev /mnt/other tracefs rw 0 0\n\
                     tracefs /sys/kernel/tracing tracefs rw,nosuid 0 0\n";
        assert_eq!(tracefs_root(table), Some(PathBuf::from("/sys/kernel/tracing")));
        assert_eq!(
            tracefs_root("nodev /mnt/my\\040trace tracefs rw 0 0\n"),
            Some(PathBuf::from("/mnt/my trace"))
        );
    }

    #[test]
    fn debugfs_offers_its_tracing_directory_when_it_exists() {
        let dir = tempfile::tempdir().unwrap();
        let debugfs = dir.path().to_str().unwrap();
        let table = format!("debugfs {debugfs} debugfs rw 0 0\n");
        assert_eq!(tracefs_root(&table), None);
        fs::create_dir(dir.path().join("tracing")).unwrap();
        assert_eq!(tracefs_root(&table), Some(dir.path().join("tracing")));
    }

    #[test]
    fn find_reads_the_proc_roots_mount_table() {
        let dir = tempfile::tempdir().unwrap();
        let host = HostPaths {
            proc_root: dir.path().to_path_buf(),
            ..HostPaths::default()
        };
        fs::write(dir.path().join("mounts"), "proc /proc proc rw 0 0\n").unwrap();
        assert!(Tracefs::find(&host).unwrap().is_none());
        let error = Tracefs::require(&host).unwrap_err().to_string();
        assert!(error.contains("mount -t tracefs nodev /sys/kernel/tracing"), "{error}");

        fs::write(dir.path().join("mounts"), "nodev /t tracefs rw 0 0\n").unwrap();
        let tracefs = Tracefs::find(&host).unwrap().unwrap();
        assert_eq!(
            (tracefs.root(), tracefs.proc_root.as_path()),
            (Path::new("/t"), dir.path())
        );

        fs::remove_file(dir.path().join("mounts")).unwrap();
        let error = Tracefs::find(&host).unwrap_err().to_string();
        assert!(error.contains("mounts"), "{error}");
    }

    #[test]
    fn sources_say_what_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        let tracefs = Tracefs::at(dir.path(), &HostPaths::default());
        let none = tracefs.sources();
        assert_eq!((none.event, none.instances), (Presence::Absent, Presence::Absent));
        fs::create_dir_all(dir.path().join(EVENT_DIR)).unwrap();
        fs::create_dir(dir.path().join("instances")).unwrap();
        assert!(tracefs.sources().usable());
    }
}
