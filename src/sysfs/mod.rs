//! The one seam between the engine and the kernel's DAMON sysfs tree.
//!
//! Everything that reads or writes DAMON goes through [`Sysfs`], with paths relative to the
//! admin root (`kdamonds/0/state`). [`real::RealSysfs`] is the kernel (or any directory);
//! [`fake::FakeKernel`] emulates DAMON's semantics in memory for the reconcile tests.
//! Errors keep the errno, because DAMON gives `EINVAL`, `EBUSY` and `ENOMEM` distinct
//! meanings.

pub mod fake;
pub mod real;

use std::fmt;
use std::fmt::Display;
use std::time::Duration;

/// The default DAMON sysfs admin root.
pub const DEFAULT_ROOT: &str = "/sys/kernel/mm/damon/admin";

/// errno values DAMON uses.
pub mod errno {
    pub const EPERM: i32 = 1;
    pub const ENOENT: i32 = 2;
    pub const ENOMEM: i32 = 12;
    pub const EBUSY: i32 = 16;
    pub const EINVAL: i32 = 22;
}

/// A failed read or write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SysfsError {
    pub path: String,
    /// The value being written, for writes.
    pub value: Option<String>,
    pub errno: Option<i32>,
    pub message: String,
}

impl SysfsError {
    pub fn is_busy(&self) -> bool {
        self.errno == Some(errno::EBUSY)
    }

    pub fn errno_name(&self) -> &'static str {
        match self.errno {
            Some(errno::EPERM) => "EPERM",
            Some(errno::ENOENT) => "ENOENT",
            Some(errno::ENOMEM) => "ENOMEM",
            Some(errno::EBUSY) => "EBUSY",
            Some(errno::EINVAL) => "EINVAL",
            _ => "error",
        }
    }
}

impl fmt::Display for SysfsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(value) => write!(f, "writing `{value}` to {}: {}", self.path, self.message),
            None => write!(f, "reading {}: {}", self.path, self.message),
        }
    }
}

impl std::error::Error for SysfsError {}

/// Reads and writes of DAMON's sysfs files, relative to the admin root.
pub trait Sysfs {
    /// The file's content without the trailing newline.
    fn read(&self, path: &str) -> Result<String, SysfsError>;
    /// One write(2) of `value`.
    fn write(&self, path: &str, value: &str) -> Result<(), SysfsError>;
    fn exists(&self, path: &str) -> bool;
    /// The names in directory `path` (the kernel makes some directories, such as a
    /// scheme's `tried_regions/`, with names the engine cannot know beforehand).
    fn list(&self, path: &str) -> Result<Vec<String>, SysfsError>;
    /// Where the tree is, for messages.
    fn describe(&self) -> String;
    /// How long an `EBUSY` may last before it is an error (see [`BUSY_DEADLINE`]).
    fn busy_deadline(&self) -> Duration {
        BUSY_DEADLINE
    }
}

/// How long to retry a write that failed with `EBUSY`. DAMON takes its sysfs lock with
/// trylock, and another writer can hold it for seconds: a command to a kdamond whose
/// schemes all wait for their watermarks is handled only at the next watermark check (a
/// `damo-policy status` beside the service does that). Retrying for this long rides that
/// out; a lasting `EBUSY` (an exclusive DAMON module) still fails in the end.
pub const BUSY_DEADLINE: Duration = Duration::from_secs(10);
const BUSY_BACKOFF_FIRST: Duration = Duration::from_millis(5);
const BUSY_BACKOFF_MAX: Duration = Duration::from_millis(250);

/// How long a read whose failure is tolerated (a best-effort description, a status line)
/// retries `EBUSY`: a held lock must not make `status` take minutes.
const BRIEF_BUSY_DEADLINE: Duration = Duration::from_millis(500);

/// Runs `attempt` until it succeeds, fails with something else than `EBUSY`, or `patience`
/// passes; the backoff doubles from 5 ms up to 250 ms.
fn retrying<T>(patience: Duration, mut attempt: impl FnMut() -> Result<T, SysfsError>) -> Result<T, SysfsError> {
    let deadline = std::time::Instant::now() + patience;
    let mut backoff = BUSY_BACKOFF_FIRST;
    loop {
        match attempt() {
            Err(error) if error.is_busy() && std::time::Instant::now() + backoff < deadline => {
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(BUSY_BACKOFF_MAX);
            }
            other => return other,
        }
    }
}

// The helpers below take a typed [`crate::compile::file::File`] as readily as a path string:
// the address is rendered once, where the file is opened.

/// Writes, retrying transient `EBUSY`.
pub fn write_retrying(sysfs: &dyn Sysfs, path: impl Display, value: &str) -> Result<(), SysfsError> {
    let path = path.to_string();
    retrying(sysfs.busy_deadline(), || sysfs.write(&path, value))
}

/// Reads, retrying transient `EBUSY` (newer kernels trylock on reads of `state` too).
pub fn read_retrying(sysfs: &dyn Sysfs, path: impl Display) -> Result<String, SysfsError> {
    let path = path.to_string();
    retrying(sysfs.busy_deadline(), || sysfs.read(&path))
}

/// Reads for a caller that can do without the value: `EBUSY` is retried only briefly.
pub fn read_briefly(sysfs: &dyn Sysfs, path: impl Display) -> Result<String, SysfsError> {
    let path = path.to_string();
    retrying(BRIEF_BUSY_DEADLINE.min(sysfs.busy_deadline()), || sysfs.read(&path))
}
