//! The engine's record of what it applied (`<state-dir>/state.json`): for each policy, its
//! kdamond slot and the configuration last applied successfully (the "last good" state a
//! failed apply restores), tied to the kernel's boot id — kdamonds do not survive a reboot,
//! so a record from another boot owns nothing. Ownership is decided here alone: a kdamond
//! the record does not name is not ours.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::compile::Kdamond;
use crate::compile::file::File;
use crate::compile::sysfs::Write;

/// Default state directory.
pub const DEFAULT_DIR: &str = "/var/lib/damo-policy";
const FILE: &str = "state.json";
const LOCK_FILE: &str = "lock";
/// How long a writer waits for another one (an apply retries a busy kernel for up to 10 s,
/// so a minute covers a slow one and still ends a wait behind a hung process).
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// One policy's kdamond, as last applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Owned {
    pub slot: usize,
    /// The policy file it was applied from.
    pub file: String,
    /// Hash of the files `applied` became, to tell changed configurations at a glance.
    pub hash: String,
    /// The last configuration applied successfully (its files follow from it and the
    /// kernel's layout, see [`crate::compile::sysfs::kdamond_writes`]); `None` when an
    /// earlier version recorded it in a form this one does not read (see [`StateStore::load`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied: Option<Kdamond>,
    /// The kdamond's pid when last seen running after an apply: a running kdamond in this
    /// slot with another pid was started by someone else.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// For a kdamond started to record accesses (not for a policy): the process recording.
    /// While it runs, an apply leaves the kdamond alone; once it is gone, the kdamond is an
    /// orphan that the next apply stops.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorder: Option<Recorder>,
}

/// The process that records from a kdamond, told apart from a later process that reuses its
/// pid by its start time (`/proc/PID/stat` field 22, in clock ticks since boot).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recorder {
    pub pid: u32,
    pub start_ticks: u64,
}

impl Recorder {
    /// This process, as `host` sees it; `None` when its `/proc` entry cannot be read.
    pub fn this_process(host: &crate::host::HostPaths) -> Option<Recorder> {
        let pid = std::process::id();
        let start_ticks = host.process_start_ticks(pid)?;
        Some(Recorder { pid, start_ticks })
    }

    /// Whether the recorder still runs: its pid exists and started when it did.
    pub fn is_alive(&self, host: &crate::host::HostPaths) -> bool {
        host.process_start_ticks(self.pid) == Some(self.start_ticks)
    }
}

/// The state record's name of the kdamond that the process `pid` records from. Policy names
/// cannot hold spaces or parentheses ([`crate::model::name`]), so no policy ever has it.
pub fn recording_name(pid: u32) -> String {
    format!("(recording {pid})")
}

impl Owned {
    /// The pid of another tool's kdamond that runs in this slot now, if one does: a running
    /// kdamond whose pid is not the one recorded was started after ours stopped (its
    /// processes exited, or `stop`). An unreadable pid proves nothing: the slot stays ours.
    pub fn replaced_by(&self, running: bool, pid_now: Option<u32>) -> Option<u32> {
        match (self.pid, pid_now) {
            (Some(ours), Some(now)) if running && now != ours => Some(now),
            _ => None,
        }
    }
}

/// The shape of the record this version writes and reads. A record of another shape (an
/// earlier version's) is refused with what to do, not misread.
pub const RECORD_FORMAT: u32 = 2;

/// The whole record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EngineState {
    /// [`RECORD_FORMAT`]; records without one are of format 1.
    #[serde(default = "format_1")]
    pub format: u32,
    pub boot_id: String,
    /// Policy name → its kdamond.
    pub policies: BTreeMap<String, Owned>,
    /// Slots the engine created that no policy uses now (free for the next new policy).
    #[serde(default)]
    pub spare_slots: std::collections::BTreeSet<usize>,
    /// Slots an apply is changing: saved before its first write, cleared by the record it
    /// saves once done. Found in a record, they tell of an apply that died mid-way (or could
    /// not put everything back): what runs there is the engine's whatever its pid, and its
    /// files may hold values never committed, so the next apply adopts and commits them.
    #[serde(default, skip_serializing_if = "std::collections::BTreeSet::is_empty")]
    pub applying: std::collections::BTreeSet<usize>,
}

fn format_1() -> u32 {
    1
}

impl Default for EngineState {
    fn default() -> Self {
        EngineState {
            format: RECORD_FORMAT,
            boot_id: String::new(),
            policies: BTreeMap::new(),
            spare_slots: std::collections::BTreeSet::new(),
            applying: std::collections::BTreeSet::new(),
        }
    }
}

impl EngineState {
    /// The kdamonds of recordings whose recorder still runs: an apply leaves them alone.
    pub fn live_recordings(&self, host: &crate::host::HostPaths) -> std::collections::BTreeSet<String> {
        self.policies
            .iter()
            .filter(|(_, own)| own.recorder.is_some_and(|r| r.is_alive(host)))
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// The policy owning `slot`, if any.
    pub fn owner_of(&self, slot: usize) -> Option<&str> {
        self.policies
            .iter()
            .find(|(_, o)| o.slot == slot)
            .map(|(name, _)| name.as_str())
    }

    /// Records the pid of every owned kdamond that runs now (after an apply, or after a
    /// restore that may have restarted some).
    pub fn note_pids(&mut self, sysfs: &dyn crate::sysfs::Sysfs) {
        for own in self.policies.values_mut() {
            let read = |leaf| crate::sysfs::read_retrying(sysfs, File::kdamond(own.slot, leaf)).ok();
            // A pid that cannot be read leaves the recorded one.
            if read("state").as_deref() == Some("on")
                && let Some(pid) = read("pid").and_then(|pid| pid.trim().parse().ok())
            {
                own.pid = Some(pid);
            }
        }
    }
}

/// Why the record could not be read, locked or saved.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("{}: {source}{}", path.display(), io_fix(source))]
    Io { path: PathBuf, source: io::Error },
    /// The record is damaged or of a newer format: what to do is part of the message.
    #[error(
        "{}: {why}. Remove it; if this boot's kdamonds of damo-policy still run, the next apply takes them for another tool's: apply with --takeover once to adopt them again",
        path.display()
    )]
    Unreadable { path: PathBuf, why: String },
    /// Another writer has held the lock for the whole wait.
    #[error(
        "{}: another damo-policy has been applying for {waited_s} s; wait for it, or stop it if it hangs",
        path.display()
    )]
    Busy { path: PathBuf, waited_s: u64 },
}

/// What to do about an error of the state directory that the user can fix there.
fn io_fix(error: &io::Error) -> &'static str {
    match error.kind() {
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => {
            "; free space there, or choose another state directory with --state-dir (DAMO_POLICY_STATE_DIR)"
        }
        io::ErrorKind::ReadOnlyFilesystem => {
            "; the state directory must be writable: remount it read-write, or choose another with --state-dir (DAMO_POLICY_STATE_DIR)"
        }
        io::ErrorKind::PermissionDenied => {
            "; the state directory must be writable: run as a user who may write there (root), or choose another with --state-dir (DAMO_POLICY_STATE_DIR)"
        }
        _ => "",
    }
}

/// Where the record lives.
#[derive(Debug, Clone)]
pub struct StateStore {
    dir: PathBuf,
}

impl StateStore {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The record for this boot; a missing file or another boot's record owns nothing.
    pub fn load(&self, boot_id: &str) -> Result<EngineState, StateError> {
        let path = self.dir.join(FILE);
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Ok(EngineState {
                    boot_id: boot_id.into(),
                    ..Default::default()
                });
            }
            Err(source) => return Err(StateError::Io { path, source }),
        };
        let damaged = |why: String| StateError::Unreadable {
            path: path.clone(),
            why,
        };
        // The boot and the format first: another boot's record owns nothing whatever its
        // shape, and a record of another format is not read as this one.
        #[derive(Deserialize)]
        struct Header {
            boot_id: String,
            #[serde(default = "format_1")]
            format: u32,
        }
        let header: Header = serde_json::from_str(&text).map_err(|e| damaged(format!("{e}: the record is damaged")))?;
        if header.boot_id != boot_id {
            return Ok(EngineState {
                boot_id: boot_id.into(),
                ..Default::default()
            });
        }
        match header.format {
            RECORD_FORMAT => serde_json::from_str(&text).map_err(|e| damaged(format!("{e}: the record is damaged"))),
            // An earlier version kept each configuration as path/value pairs: what is ours
            // (slots, pids) still holds; the configurations are unknown until the next apply
            // rewrites them.
            1 => {
                let mut state: EngineState =
                    serde_json::from_str(&text).map_err(|e| damaged(format!("{e}: the record is damaged")))?;
                state.format = RECORD_FORMAT;
                Ok(state)
            }
            other => Err(damaged(format!(
                "the record has format {other}, written by a newer version of damo-policy; this version reads format {RECORD_FORMAT}"
            ))),
        }
    }

    /// Takes the record's writer lock (an advisory lock on `<state-dir>/lock`, released when
    /// the guard drops or the process dies): a CLI `apply` or `stop` beside the watching
    /// service, or two cron runs, must not interleave their read–plan–write–record cycles,
    /// or one would lose the other's record and then take its kdamonds for another tool's.
    pub fn lock(&self) -> Result<StateLock, StateError> {
        fs::create_dir_all(&self.dir).map_err(|source| StateError::Io {
            path: self.dir.clone(),
            source,
        })?;
        let path = self.dir.join(LOCK_FILE);
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| StateError::Io {
                path: path.clone(),
                source,
            })?;
        let deadline = std::time::Instant::now() + LOCK_WAIT;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(StateLock { _file: file }),
                Err(fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(50))
                }
                Err(fs::TryLockError::WouldBlock) => {
                    return Err(StateError::Busy {
                        path,
                        waited_s: LOCK_WAIT.as_secs(),
                    });
                }
                Err(fs::TryLockError::Error(source)) => return Err(StateError::Io { path, source }),
            }
        }
    }

    /// Saves atomically (a temporary file renamed over the record), so a crash never leaves
    /// a half-written record.
    pub fn save(&self, state: &EngineState) -> Result<(), StateError> {
        fs::create_dir_all(&self.dir).map_err(|source| StateError::Io {
            path: self.dir.clone(),
            source,
        })?;
        let path = self.dir.join(FILE);
        crate::files::atomic::write_with(&path, |out| {
            serde_json::to_writer_pretty(&mut *out, state)?;
            out.write_all(b"\n")
        })
        .map_err(|source| StateError::Io { path, source })
    }
}

/// Holds the record's writer lock while alive.
#[derive(Debug)]
pub struct StateLock {
    _file: fs::File,
}

/// A stable hash of a configuration (FNV-1a, 64 bit): identical writes, identical hash.
pub fn hash_writes(writes: &[Write]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for write in writes {
        let path = write.file.to_string();
        for byte in path.bytes().chain([0]).chain(write.value.bytes()).chain([0]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kdamond(name: &str) -> Kdamond {
        crate::compile::tests::kdamond(name, "[target]\npids = [42]\n[[scheme]]\naction = \"stat\"\n")
    }

    #[test]
    fn round_trips_and_forgets_other_boots() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::new(dir.path().join("state"));
        let mut state = store.load("boot-a").unwrap();
        assert!(state.policies.is_empty());
        let applied = kdamond("p");
        let layout = crate::kernel::Layout::new(crate::kernel::Version::NEWEST_KNOWN);
        let writes = crate::compile::sysfs::kdamond_writes(&applied, 0, layout);
        state.policies.insert(
            "p".into(),
            Owned {
                slot: 0,
                file: "p.toml".into(),
                hash: hash_writes(&writes),
                applied: Some(applied),
                pid: Some(7),
                recorder: None,
            },
        );
        store.save(&state).unwrap();
        assert_eq!(store.load("boot-a").unwrap(), state);
        assert!(store.load("boot-b").unwrap().policies.is_empty());
        assert_eq!(state.owner_of(0), Some("p"));
        assert_ne!(hash_writes(&[]), hash_writes(&writes));
    }

    /// A record of an earlier version (format 1 kept each file as a path and a value) still
    /// says what is ours, with the configurations unknown; a newer format is refused with
    /// what to do; another boot's record is ignored whatever its shape.
    #[test]
    fn records_of_other_formats() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::new(dir.path());
        let old = r#"{"boot_id": "boot-a", "policies": {"p": {"slot": 1, "file": "p.toml", "hash": "0", "pid": 77,
            "writes": [["kdamonds/1/state", "on"]]}}, "spare_slots": [0]}"#;
        fs::write(dir.path().join(FILE), old).unwrap();
        let state = store.load("boot-a").unwrap();
        let own = &state.policies["p"];
        assert_eq!(
            (own.slot, own.pid, own.file.as_str(), own.applied.is_none()),
            (1, Some(77), "p.toml", true)
        );
        assert_eq!((state.format, state.spare_slots.first()), (RECORD_FORMAT, Some(&0)));
        let newer = r#"{"format": 3, "boot_id": "boot-a", "policies": {}}"#;
        fs::write(dir.path().join(FILE), newer).unwrap();
        let error = store.load("boot-a").unwrap_err().to_string();
        assert!(
            error.contains("the record has format 3, written by a newer version of damo-policy"),
            "{error}"
        );
        assert!(error.contains("apply with --takeover once"), "{error}");
        assert!(store.load("boot-b").unwrap().policies.is_empty());
    }

    /// A state directory that is full or read-only: the error says what to do.
    #[test]
    fn errors_of_the_state_directory_say_the_fix() {
        let error = |errno| {
            StateError::Io {
                path: "/var/lib/damo-policy/state.json".into(),
                source: io::Error::from_raw_os_error(errno),
            }
            .to_string()
        };
        let full = error(28);
        assert!(
            full.starts_with("/var/lib/damo-policy/state.json: No space left on device")
                && full.ends_with(
                    "; free space there, or choose another state directory with --state-dir (DAMO_POLICY_STATE_DIR)"
                ),
            "{full}"
        );
        let read_only = error(30);
        assert!(
            read_only.contains("remount it read-write, or choose another with --state-dir"),
            "{read_only}"
        );
        assert_eq!(
            error(2),
            "/var/lib/damo-policy/state.json: No such file or directory (os error 2)"
        );
    }

    #[test]
    fn one_writer_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::new(dir.path().join("state"));
        let held = store.lock().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let waiter = {
            let store = store.clone();
            std::thread::spawn(move || {
                let _lock = store.lock().unwrap();
                tx.send(()).unwrap();
            })
        };
        // The second writer waits while the first holds the lock, and goes on once it drops.
        assert!(rx.recv_timeout(std::time::Duration::from_millis(300)).is_err());
        drop(held);
        assert!(rx.recv_timeout(std::time::Duration::from_secs(5)).is_ok());
        waiter.join().unwrap();
    }
}
