//! A private tracefs instance that receives one kdamond's `damon_aggregated` events.
//!
//! Everything written goes into `instances/damo-policy-<our pid>`: its buffer size, clock,
//! the event's filter (`common_pid == <kdamond pid>`) and enable. The top-level buffer and
//! other instances are never written, so other tracers keep their settings and a kdamond
//! of another tool is not seen. The instance is removed by [`Instance::close`] (or on drop);
//! one left behind by a process that died is removed by the next [`Instance::create`].

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use super::stream::{StreamParser, StreamStats};
use super::tracefs::EVENT_DIR;
use super::{TraceError, Tracefs};
use crate::record::Aggregation;

const NAME_PREFIX: &str = "damo-policy-";

/// Ring-buffer bytes one event takes: its 8-byte header and time delta, the common fields
/// and the event's own 40 bytes, rounded up.
const BYTES_PER_EVENT: u64 = 64;

/// Instances made by this process so far, so that two recordings of one process (one per
/// kdamond) get names of their own.
static INSTANCES_MADE: AtomicU32 = AtomicU32::new(0);

/// Reads stop after this much in one poll, so that a flood cannot hold the caller.
const MAX_BYTES_PER_POLL: usize = 8 << 20;

/// The largest burst of events one aggregation makes: the per-cpu buffer must hold it twice
/// over (the kdamond runs on one cpu at a time, and a poll may come late by one interval).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Burst {
    pub regions_per_target: u32,
    pub targets: u32,
}

impl Default for Burst {
    /// DAMON's usual `max_nr_regions` of 1,000, for up to 16 targets.
    fn default() -> Self {
        Self {
            regions_per_target: 1000,
            targets: 16,
        }
    }
}

impl Burst {
    /// The per-cpu buffer size for this burst, never below the kernel's default (1408 KiB).
    pub fn buffer_kib_per_cpu(&self) -> u64 {
        let events = u64::from(self.regions_per_target) * u64::from(self.targets);
        (2 * events * BYTES_PER_EVENT).div_ceil(1024).max(1408)
    }
}

/// Loss the instance's per-cpu statistics report, summed over cpus.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BufferLoss {
    /// Events overwritten before they were read (`overrun`).
    pub overrun: u64,
    /// Events dropped because the buffer was full (`dropped events`).
    pub dropped: u64,
}

/// A private instance receiving one kdamond's aggregations; see the module documentation.
pub struct Instance {
    path: PathBuf,
    tracefs: Tracefs,
    pipe: Option<File>,
    parser: StreamParser,
    read_buffer: Vec<u8>,
    removed_stale: Vec<PathBuf>,
    closed: bool,
}

impl Instance {
    /// An instance receiving `kdamond_pid`'s aggregations, sized for [`Burst::default`].
    pub fn create(tracefs: &Tracefs, kdamond_pid: u32) -> Result<Instance, TraceError> {
        Instance::create_for(tracefs, kdamond_pid, Burst::default())
    }

    /// As [`Instance::create`], with a buffer sized for `burst`.
    pub fn create_for(tracefs: &Tracefs, kdamond_pid: u32, burst: Burst) -> Result<Instance, TraceError> {
        let event_dir = tracefs.event_dir();
        if !event_dir.is_dir() {
            return Err(TraceError::NoEvent { path: event_dir });
        }
        let instances = tracefs.instances_dir();
        if !instances.is_dir() {
            return Err(TraceError::NoInstances { path: instances });
        }
        let removed_stale = remove_stale(tracefs)?;

        let path = instances.join(instance_name(
            std::process::id(),
            INSTANCES_MADE.fetch_add(1, Ordering::Relaxed),
        ));
        tracefs.make_instance(&path).map_err(|source| match source.kind() {
            io::ErrorKind::AlreadyExists => TraceError::InstanceExists { path: path.clone() },
            _ => TraceError::io("create the tracefs instance", &path, source),
        })?;
        // From here on, dropping `instance` on an error removes what was made.
        let mut instance = Instance {
            path,
            tracefs: tracefs.clone(),
            pipe: None,
            parser: StreamParser::default(),
            read_buffer: vec![0; 64 * 1024],
            removed_stale,
            closed: false,
        };
        instance.write("buffer_size_kb", &burst.buffer_kib_per_cpu().to_string())?;
        // CLOCK_MONOTONIC, so that event times compare with those of user space.
        instance.write("trace_clock", "mono")?;
        instance.write(&format!("{EVENT_DIR}/filter"), &format!("common_pid == {kdamond_pid}"))?;
        let pipe_path = instance.path.join("trace_pipe");
        let pipe = OpenOptions::new()
            .read(true)
            // Reads return at once when nothing is buffered: a poll never holds up shutdown.
            .custom_flags(libc::O_NONBLOCK)
            .open(&pipe_path)
            .map_err(|e| TraceError::io("open", pipe_path, e))?;
        instance.pipe = Some(pipe);
        instance.write(&format!("{EVENT_DIR}/enable"), "1")?;
        Ok(instance)
    }

    /// The instance's directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Instances of dead processes that creating this one removed.
    pub fn removed_stale(&self) -> &[PathBuf] {
        &self.removed_stale
    }

    /// Lost events and incomplete aggregations seen so far in the stream.
    pub fn stats(&self) -> StreamStats {
        self.parser.stats()
    }

    /// Reads what the kernel has buffered, appending every aggregation it completes to
    /// `out`; an incomplete line or aggregation waits for the next poll. Never blocks.
    pub fn poll(&mut self, out: &mut Vec<Aggregation>) -> Result<(), TraceError> {
        let Some(pipe) = self.pipe.as_mut() else {
            return Ok(());
        };
        let mut read_total = 0;
        while read_total < MAX_BYTES_PER_POLL {
            match pipe.read(&mut self.read_buffer) {
                // End of a regular file (the fake's pipe); the kernel's pipe says WouldBlock.
                Ok(0) => break,
                Ok(n) => {
                    self.parser.feed(&self.read_buffer[..n], out);
                    read_total += n;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(TraceError::io("read", self.path.join("trace_pipe"), e)),
            }
        }
        Ok(())
    }

    /// Events the kernel overwrote or dropped in this instance's buffer, from its per-cpu
    /// `stats`.
    pub fn buffer_loss(&self) -> Result<BufferLoss, TraceError> {
        let per_cpu = self.path.join("per_cpu");
        let entries = fs::read_dir(&per_cpu).map_err(|e| TraceError::io("list", &per_cpu, e))?;
        let mut loss = BufferLoss::default();
        for entry in entries {
            let stats_path = entry
                .map_err(|e| TraceError::io("list", &per_cpu, e))?
                .path()
                .join("stats");
            let text = match fs::read_to_string(&stats_path) {
                Ok(text) => text,
                // A cpu directory without stats (offline cpu): nothing to count.
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(TraceError::io("read", stats_path, e)),
            };
            loss.overrun += stat_value(&text, "overrun");
            loss.dropped += stat_value(&text, "dropped events");
        }
        Ok(loss)
    }

    /// Disables the event, closes the pipe and removes the instance.
    pub fn close(mut self) -> Result<(), TraceError> {
        self.closed = true;
        self.write(&format!("{EVENT_DIR}/enable"), "0")?;
        // An open pipe holds the instance: rmdir would fail with EBUSY.
        self.pipe = None;
        self.tracefs
            .remove_instance(&self.path)
            .map_err(|e| TraceError::io("remove the tracefs instance", &self.path, e))
    }

    /// One write(2) to a file of the instance, without create or truncate, as tracefs takes it.
    fn write(&self, relative: &str, value: &str) -> Result<(), TraceError> {
        let path = self.path.join(relative);
        let write = || -> io::Result<()> {
            let written = OpenOptions::new().write(true).open(&path)?.write(value.as_bytes())?;
            if written != value.len() {
                return Err(io::Error::other(format!("short write of `{value}`")));
            }
            Ok(())
        };
        write().map_err(|e| TraceError::io("write to", &path, e))
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if self.closed {
            return;
        }
        let disabled = self.write(&format!("{EVENT_DIR}/enable"), "0");
        self.pipe = None;
        let removed = self.tracefs.remove_instance(&self.path);
        if disabled.is_err() || removed.is_err() {
            tracing::warn!(path = %self.path.display(), "could not remove the tracefs instance");
        }
    }
}

/// `damo-policy-<pid>` for a process's first instance, `damo-policy-<pid>-<n>` after.
fn instance_name(pid: u32, made_before: u32) -> String {
    match made_before {
        0 => format!("{NAME_PREFIX}{pid}"),
        n => format!("{NAME_PREFIX}{pid}-{n}"),
    }
}

/// The creator's pid in an instance name of ours; `None` for any other name.
fn creator_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(NAME_PREFIX)?;
    let (pid, sequence) = rest.split_once('-').unwrap_or((rest, "1"));
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(sequence) || !all_digits(pid) {
        return None;
    }
    pid.parse().ok()
}

/// Removes the instances of ours whose creator is no longer alive.
fn remove_stale(tracefs: &Tracefs) -> Result<Vec<PathBuf>, TraceError> {
    let instances = tracefs.instances_dir();
    let entries = fs::read_dir(&instances).map_err(|e| TraceError::io("list", &instances, e))?;
    let mut removed = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| TraceError::io("list", &instances, e))?;
        let Some(pid) = entry.file_name().to_str().and_then(creator_pid) else {
            continue;
        };
        if pid == std::process::id() || tracefs.proc_root.join(pid.to_string()).exists() {
            continue;
        }
        // Another run may be removing the same one: only a failure that leaves it matters.
        match tracefs.remove_instance(&entry.path()) {
            Ok(()) => removed.push(entry.path()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(path = %entry.path().display(), error = %e, "cannot remove a stale tracefs instance");
            }
        }
    }
    Ok(removed)
}

/// A `name: value` line of a per-cpu `stats` file; 0 when absent.
fn stat_value(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_their_creators() {
        assert_eq!(instance_name(42, 0), "damo-policy-42");
        assert_eq!(instance_name(42, 3), "damo-policy-42-3");
        assert_eq!(creator_pid("damo-policy-42"), Some(42));
        assert_eq!(creator_pid("damo-policy-42-3"), Some(42));
        for other in [
            "damo-policy-",
            "damo-policy-x",
            "damo-policy-4-",
            "damo-policy-4-a",
            "damo-42",
            "foo",
        ] {
            assert_eq!(creator_pid(other), None, "{other}");
        }
    }

    #[test]
    fn buffer_sizes() {
        assert_eq!(Burst::default().buffer_kib_per_cpu(), 2000);
        let small = Burst {
            regions_per_target: 10,
            targets: 1,
        };
        assert_eq!(small.buffer_kib_per_cpu(), 1408);
    }

    #[test]
    fn per_cpu_stats_values() {
        let text = "entries: 0\noverrun: 17\ncommit overrun: 0\nbytes: 0\ndropped events: 3\n";
        assert_eq!(
            (stat_value(text, "overrun"), stat_value(text, "dropped events")),
            (17, 3)
        );
        assert_eq!(stat_value("", "overrun"), 0);
    }
}
