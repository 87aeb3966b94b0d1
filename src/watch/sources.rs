//! Where the service's wake-ups come from: file-system events on the policy directory
//! (notify/inotify) and signals. Events carry no meaning beyond "look again": every one
//! leads to a full, idempotent reconcile, so event kinds (which differ between editors,
//! `git checkout` and Kubernetes' atomic `..data` swap) never matter.

use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;

use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// A reason to wake up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Something changed in (or at) the policy directory.
    Changed,
    /// The kernel dropped events (inotify queue overflow): rescan everything.
    Overflow,
    /// SIGHUP: reload now.
    Reload,
    /// SIGTERM / SIGINT: exit.
    Exit,
}

/// Watches the policy directory and its parent (so that a directory removed and created
/// again is noticed); dropping it stops the watching.
pub struct DirWatcher {
    watcher: RecommendedWatcher,
    dir: PathBuf,
    /// The watched directory's inode: a new one means it was replaced.
    inode: Option<u64>,
}

fn inode(dir: &Path) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(dir).ok().map(|m| m.ino())
}

impl DirWatcher {
    pub fn new(dir: &Path, tx: Sender<Event>) -> notify::Result<Self> {
        let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
        let inside = dir.clone();
        let mut watcher = notify::recommended_watcher(move |result: notify::Result<notify::Event>| {
            let event = match result {
                Ok(event) if event.need_rescan() => Event::Overflow,
                // Opening and reading files changes nothing, and the reconcile itself reads
                // every policy: reacting to reads would loop.
                Ok(event) if matches!(event.kind, notify::EventKind::Access(_)) => return,
                // Parent-directory events about other entries are not ours.
                Ok(event) if !event.paths.iter().any(|p| p.starts_with(&inside)) => return,
                Ok(_) => Event::Changed,
                Err(_) => Event::Overflow,
            };
            let _ = tx.send(event);
        })?;
        if let Some(parent) = dir.parent() {
            watcher.watch(parent, RecursiveMode::NonRecursive)?;
        }
        let _ = watcher.watch(&dir, RecursiveMode::NonRecursive);
        let inode = inode(&dir);
        Ok(Self { watcher, dir, inode })
    }

    /// Watches the directory again if it was replaced (the old watch points nowhere then).
    /// Only then: removing a watch makes the kernel emit an event of its own.
    pub fn rewatch(&mut self) {
        let now = inode(&self.dir);
        if now == self.inode {
            return;
        }
        let _ = self.watcher.unwatch(&self.dir);
        let _ = self.watcher.watch(&self.dir, RecursiveMode::NonRecursive);
        self.inode = now;
    }
}

/// Forwards SIGHUP, SIGTERM and SIGINT as events, from a thread of its own.
pub fn forward_signals(tx: Sender<Event>) -> std::io::Result<()> {
    let mut signals = Signals::new([SIGHUP, SIGTERM, SIGINT])?;
    std::thread::Builder::new().name("signals".into()).spawn(move || {
        for signal in signals.forever() {
            let event = if signal == SIGHUP { Event::Reload } else { Event::Exit };
            if tx.send(event).is_err() {
                break;
            }
        }
    })?;
    Ok(())
}
