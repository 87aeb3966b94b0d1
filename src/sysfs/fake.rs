//! An in-memory DAMON for the reconcile tests: it emulates what makes the real interface
//! hard to drive — every `nr_*` write recreates that directory's children with defaults,
//! `nr_kdamonds` is refused while a kdamond runs, keywords are checked at write time, most
//! checks happen at `on`/`commit` (with the error reporting of the emulated release),
//! exclusive modules block `on`, and errors can be scripted. Every write is logged.
//!
//! Which files a fresh directory holds, their values and the keywords each release takes
//! come from the fake's own model of the tree ([`tree`]), not from the engine's.

mod tree;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use super::{Sysfs, SysfsError, errno};
use crate::kernel::Version;
use tree::Dir;

const EACCES: i32 = 13;
const ETIMEDOUT: i32 = 110;

/// One logged write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedWrite {
    pub path: String,
    pub value: String,
}

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct State {
    files: BTreeMap<String, String>,
    #[serde(skip)]
    log: Vec<LoggedWrite>,
    /// `(path, errno)`: the next write to `path` fails once.
    scripted: Vec<(String, i32)>,
    next_pid: u32,
    /// An exclusive module (damon_stat, …) runs: `on` fails with EBUSY.
    module_running: bool,
    known_cgroups: BTreeSet<String>,
    dead_pids: BTreeSet<u32>,
    /// Running kdamonds whose schemes all wait for watermarks (as of their last on/commit).
    #[serde(default)]
    gated: BTreeSet<usize>,
    /// Each kdamond's files as of its last `on` or `commit`: the configuration it runs,
    /// which files written since do not change.
    #[serde(default)]
    taken: BTreeMap<usize, BTreeMap<String, String>>,
    /// What each kdamond's targets look like to DAMON, by `(kdamond, target)`: the regions
    /// `update_schemes_tried_regions` reports.
    #[serde(default)]
    monitored: BTreeMap<(usize, usize), Vec<FakeRegion>>,
    /// The next `tried_regions/` entry name: a counter over all of them, as older kernels
    /// had, so that names have gaps.
    #[serde(default)]
    next_tried_name: usize,
}

/// A monitoring region of the fake, as a scheme's `tried_regions/<R>/` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FakeRegion {
    pub start: u64,
    pub end: u64,
    pub nr_accesses: u64,
    pub age: u64,
}

/// The fake kernel.
#[derive(Debug)]
pub struct FakeKernel {
    version: Version,
    state: Mutex<State>,
    /// Where the exclusive modules' `enabled` parameters are, when they decide `on`.
    module_root: Option<std::path::PathBuf>,
    /// A cgroup mount whose directories memcg paths may name, besides `add_cgroup`'s.
    cgroup_root: Option<std::path::PathBuf>,
}

/// A fake kernel saved to a file, so that a sequence of commands can drive one
/// (`--sysfs-root fake:VERSION:FILE`, for tests of the command line).
#[derive(serde::Serialize, serde::Deserialize)]
struct Saved {
    version: String,
    state: State,
}

fn err(path: &str, value: &str, code: i32) -> SysfsError {
    let message = match code {
        errno::EINVAL => "Invalid argument",
        errno::EBUSY => "Device or resource busy",
        errno::ENOMEM => "Cannot allocate memory",
        errno::ENOENT => "No such file or directory",
        errno::EPERM => "Operation not permitted",
        _ => "Permission denied",
    };
    SysfsError {
        path: path.into(),
        value: Some(value.into()),
        errno: Some(code),
        message: format!("{message} (os error {code})"),
    }
}

impl FakeKernel {
    /// A kernel of `version` with no kdamonds.
    pub fn new(version: Version) -> Self {
        let mut state = State {
            next_pid: 1000,
            ..State::default()
        };
        state.files.insert("kdamonds/nr_kdamonds".into(), "0".into());
        Self {
            version,
            state: Mutex::new(state),
            module_root: None,
            cgroup_root: None,
        }
    }

    /// Makes `on` fail with EBUSY while a module under `module_root` reads `Y` in its
    /// `parameters/enabled`, as the real kernel does.
    pub fn with_module_root(mut self, module_root: impl Into<std::path::PathBuf>) -> Self {
        self.module_root = Some(module_root.into());
        self
    }

    /// Lets memcg paths name the directories of a cgroup mount.
    pub fn with_cgroup_root(mut self, cgroup_root: impl Into<std::path::PathBuf>) -> Self {
        self.cgroup_root = Some(cgroup_root.into());
        self
    }

    /// The emulated release.
    pub fn version(&self) -> Version {
        self.version
    }

    /// Opens a saved fake kernel, or a new one of `version` if `path` does not exist.
    pub fn open(version: Version, path: &std::path::Path) -> std::io::Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let saved: Saved = serde_json::from_str(&text).map_err(std::io::Error::other)?;
                let version = saved.version.parse().map_err(std::io::Error::other)?;
                Ok(Self {
                    version,
                    state: Mutex::new(saved.state),
                    module_root: None,
                    cgroup_root: None,
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::new(version)),
            Err(e) => Err(e),
        }
    }

    /// Saves the tree (not the write log) for the next [`FakeKernel::open`].
    pub fn save(&self, path: &std::path::Path) -> std::io::Result<()> {
        let state = std::mem::take(&mut *self.lock());
        let saved = Saved {
            version: self.version.to_string(),
            state,
        };
        let text = serde_json::to_string_pretty(&saved).map_err(std::io::Error::other);
        *self.lock() = saved.state;
        // Whole or not at all: a command killed while saving leaves the previous tree.
        crate::files::atomic::write(path, (text? + "\n").as_bytes())
    }

    /// The files of running kdamond `k` whose values it has not taken (written after its
    /// last `on` or `commit`); empty for a kdamond that is off.
    pub fn uncommitted(&self, k: usize) -> Vec<String> {
        let st = self.lock();
        if st.files.get(&format!("kdamonds/{k}/state")).map(String::as_str) != Some("on") {
            return Vec::new();
        }
        let taken = st.taken.get(&k).cloned().unwrap_or_default();
        let now = configuration_files(&st.files, k);
        let mut differ: Vec<String> = now
            .iter()
            .filter(|(path, value)| taken.get(*path) != Some(*value))
            .map(|(path, _)| path.clone())
            .collect();
        differ.extend(taken.keys().filter(|path| !now.contains_key(*path)).cloned());
        differ
    }

    fn module_enabled(&self, st: &State) -> bool {
        let by_param = self.module_root.as_ref().is_some_and(|root| {
            crate::kernel::probe::MODULES.iter().any(|m| {
                std::fs::read_to_string(root.join(m).join("parameters/enabled")).is_ok_and(|v| v.trim() == "Y")
            })
        });
        st.module_running || by_param
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The writes made so far.
    pub fn log(&self) -> Vec<LoggedWrite> {
        self.lock().log.clone()
    }

    pub fn clear_log(&self) {
        self.lock().log.clear();
    }

    /// Makes the next write to `path` fail with `code`.
    pub fn fail_next_write(&self, path: &str, code: i32) {
        self.lock().scripted.push((path.into(), code));
    }

    pub fn set_module_running(&self, running: bool) {
        self.lock().module_running = running;
    }

    /// Cgroup paths a memcg filter may name (others give ENOMEM at on/commit).
    pub fn add_cgroup(&self, path: &str) {
        self.lock().known_cgroups.insert(path.into());
    }

    /// The process exits: a vaddr kdamond whose targets all exited stops by itself.
    pub fn kill_process(&self, pid: u32) {
        let mut st = self.lock();
        st.dead_pids.insert(pid);
        let nr = st
            .files
            .get("kdamonds/nr_kdamonds")
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(0);
        for k in 0..nr {
            let ctx = format!("kdamonds/{k}/contexts/0");
            if st.files.get(&format!("kdamonds/{k}/state")).map(String::as_str) != Some("on") {
                continue;
            }
            let targets = count(&st.files, &format!("{ctx}/targets/nr_targets"));
            let all_dead = (0..targets).all(|t| {
                st.files
                    .get(&format!("{ctx}/targets/{t}/pid_target"))
                    .and_then(|p| p.parse().ok())
                    .is_some_and(|p| st.dead_pids.contains(&p))
            });
            if targets > 0 && ctx_ops(&st.files, &ctx) != "paddr" && all_dead {
                stop(&mut st.files, k);
            }
        }
    }

    /// The regions DAMON monitors in target `target` of kdamond `k`, as the next
    /// `update_schemes_tried_regions` reports them.
    pub fn set_monitored(&self, k: usize, target: usize, regions: Vec<FakeRegion>) {
        self.lock().monitored.insert((k, target), regions);
    }

    /// A file's value, for assertions.
    pub fn get(&self, path: &str) -> Option<String> {
        self.lock().files.get(path).cloned()
    }

    /// Every file of the tree, for assertions.
    pub fn files(&self) -> BTreeMap<String, String> {
        self.lock().files.clone()
    }
}

fn count(files: &BTreeMap<String, String>, path: &str) -> usize {
    files.get(path).and_then(|v| v.parse().ok()).unwrap_or(0)
}

fn ctx_ops<'a>(files: &'a BTreeMap<String, String>, ctx: &str) -> &'a str {
    files.get(&format!("{ctx}/operations")).map_or("vaddr", String::as_str)
}

/// The files of kdamond `k` that configure it (not its state, pid or statistics).
fn configuration_files(files: &BTreeMap<String, String>, k: usize) -> BTreeMap<String, String> {
    let prefix = format!("kdamonds/{k}/");
    files
        .iter()
        .filter(|(path, _)| {
            path.strip_prefix(&prefix).is_some_and(|rest| {
                rest != "state" && rest != "pid" && !rest.contains("stats/") && !rest.contains("tried_regions/")
            })
        })
        .map(|(path, value)| (path.clone(), value.clone()))
        .collect()
}

fn stop(files: &mut BTreeMap<String, String>, k: usize) {
    files.insert(format!("kdamonds/{k}/state"), "off".into());
    files.insert(format!("kdamonds/{k}/pid"), "-1".into());
}

/// Removes every file below `dir/` whose next path segment is a number (the children an
/// `nr_*` file owns), then creates `n` fresh children holding `fresh`.
fn recreate<'a>(
    files: &mut BTreeMap<String, String>,
    dir: &str,
    n: usize,
    fresh: impl Iterator<Item = (&'a str, &'a str)> + Clone,
) {
    let prefix = format!("{dir}/");
    files.retain(|path, _| {
        path.strip_prefix(&prefix)
            .and_then(|rest| rest.split('/').next())
            .is_none_or(|seg| seg.parse::<usize>().is_err())
    });
    for i in 0..n {
        let child = format!("{dir}/{i}");
        for (leaf, value) in fresh.clone() {
            files.insert(format!("{child}/{leaf}"), value.to_owned());
        }
    }
}

fn is_read_only(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or(path);
    matches!(file, "pid" | "avail_operations" | "effective_bytes")
        || (path.contains("/stats/") && file != "max_nr_snapshots")
        || path.contains("/tried_regions/")
}

impl Sysfs for FakeKernel {
    fn read(&self, path: &str) -> Result<String, SysfsError> {
        self.lock().files.get(path).cloned().ok_or_else(|| SysfsError {
            path: path.into(),
            value: None,
            errno: Some(errno::ENOENT),
            message: "No such file or directory (os error 2)".into(),
        })
    }

    fn write(&self, path: &str, value: &str) -> Result<(), SysfsError> {
        let mut st = self.lock();
        st.log.push(LoggedWrite {
            path: path.into(),
            value: value.into(),
        });
        if let Some(i) = st.scripted.iter().position(|(p, _)| p == path) {
            let (_, code) = st.scripted.remove(i);
            return Err(err(path, value, code));
        }
        if !st.files.contains_key(path) {
            return Err(err(path, value, errno::ENOENT));
        }
        if is_read_only(path) {
            return Err(err(path, value, EACCES));
        }
        if path.ends_with("/state") {
            return self.state_command(&mut st, path, value);
        }
        if let Some(child) = tree::created_by(path) {
            let n: usize = value.trim().parse().map_err(|_| err(path, value, errno::EINVAL))?;
            let dir = path.rsplit_once('/').map_or("", |(d, _)| d).to_owned();
            match child {
                Dir::Kdamond if st.files.iter().any(|(p, v)| p.ends_with("/state") && v == "on") => {
                    return Err(err(path, value, errno::EBUSY));
                }
                Dir::Context if n > 1 => return Err(err(path, value, errno::EINVAL)),
                _ => {}
            }
            recreate(&mut st.files, &dir, n, tree::fresh(child, self.version));
            st.files.insert(path.into(), n.to_string());
            return Ok(());
        }
        let stored = self
            .check_value(path, value)
            .ok_or_else(|| err(path, value, errno::EINVAL))?;
        st.files.insert(path.into(), stored);
        Ok(())
    }

    fn exists(&self, path: &str) -> bool {
        let st = self.lock();
        st.files.contains_key(path) || st.files.keys().any(|k| k.starts_with(&format!("{path}/")))
    }

    fn list(&self, path: &str) -> Result<Vec<String>, SysfsError> {
        let st = self.lock();
        let prefix = format!("{path}/");
        let names: BTreeSet<String> = st
            .files
            .keys()
            .filter_map(|p| p.strip_prefix(&prefix)?.split('/').next().map(str::to_owned))
            .collect();
        if names.is_empty() && !st.files.contains_key(path) {
            return Err(SysfsError {
                path: path.into(),
                value: None,
                errno: Some(errno::ENOENT),
                message: "No such file or directory (os error 2)".into(),
            });
        }
        Ok(names.into_iter().collect())
    }

    fn describe(&self) -> String {
        format!("fake kernel {}", self.version)
    }

    /// Its `EBUSY`s last (an exclusive module) or fail once (scripted): no long waits.
    fn busy_deadline(&self) -> std::time::Duration {
        std::time::Duration::from_millis(50)
    }
}

impl FakeKernel {
    /// The stored form of a leaf value, or `None` where the kernel refuses it at write time.
    fn check_value(&self, path: &str, value: &str) -> Option<String> {
        let file = path.rsplit('/').next().unwrap_or(path);
        let value = value.trim_end_matches('\n');
        if let Some(keywords) = tree::keywords(file, path) {
            let known = keywords
                .iter()
                .any(|(keyword, since)| *keyword == value && *since <= self.version);
            return known.then(|| value.to_owned());
        }
        match file {
            "matching" | "allow" | "obsolete_target" => match value {
                "Y" | "y" | "1" | "on" => Some("Y".into()),
                "N" | "n" | "0" | "off" => Some("N".into()),
                _ => None,
            },
            "memcg_path" | "path" => Some(value.to_owned()),
            "target_nid" | "pid_target" | "damon_target_idx" => value.parse::<i64>().ok().map(|n| n.to_string()),
            _ => value.parse::<u64>().ok().map(|n| n.to_string()),
        }
    }

    fn state_command(&self, st: &mut State, path: &str, value: &str) -> Result<(), SysfsError> {
        let k: usize = path
            .split('/')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| err(path, value, errno::EINVAL))?;
        let on = st.files.get(path).map(String::as_str) == Some("on");
        match value.trim_end() {
            "on" => {
                if on || self.module_enabled(st) {
                    return Err(err(path, value, errno::EBUSY));
                }
                self.validate_context(st, k).map_err(|code| err(path, value, code))?;
                st.next_pid += 1;
                let pid = st.next_pid.to_string();
                st.files.insert(path.into(), "on".into());
                st.files.insert(format!("kdamonds/{k}/pid"), pid);
                self.take_configuration(st, k);
                Ok(())
            }
            "off" if on => {
                stop(&mut st.files, k);
                Ok(())
            }
            // The kernel has no kdamond to stop: EINVAL if it never ran, EPERM after
            // (`damon_sysfs_turn_damon_off()`, `__damon_stop()`); either way an error.
            "off" => Err(err(path, value, errno::EPERM)),
            "commit" if !on => Err(err(path, value, errno::EINVAL)),
            // The real write would block until a watermark activates a scheme.
            "commit" if self.version < tree::COMMIT_WHILE_INACTIVE && st.gated.contains(&k) => Err(SysfsError {
                path: path.into(),
                value: Some(value.into()),
                errno: Some(ETIMEDOUT),
                message: "the kernel would block this commit until a watermark activates a scheme".into(),
            }),
            "commit" => match self.validate_context(st, k) {
                Ok(()) => {
                    self.take_configuration(st, k);
                    Ok(())
                }
                // Before then a bad commit returned 0 and terminated the kdamond.
                Err(_) if self.version < tree::BAD_COMMIT_REFUSED => {
                    stop(&mut st.files, k);
                    Ok(())
                }
                Err(code) => Err(err(path, value, code)),
            },
            "update_schemes_effective_quotas" | "commit_schemes_quota_goals" if on => Ok(()),
            "update_schemes_tried_regions" if on && self.version >= tree::TRIED_REGIONS => {
                self.fill_tried_regions(st, k);
                Ok(())
            }
            "update_schemes_stats" if on => {
                let ctx = format!("kdamonds/{k}/contexts/0");
                for s in 0..count(&st.files, &format!("{ctx}/schemes/nr_schemes")) {
                    for stat in ["nr_tried", "sz_tried", "nr_applied", "sz_applied"] {
                        let key = format!("{ctx}/schemes/{s}/stats/{stat}");
                        let next = st.files.get(&key).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0) + 4096;
                        st.files.insert(key, next.to_string());
                    }
                }
                Ok(())
            }
            _ => Err(err(path, value, errno::EINVAL)),
        }
    }

    /// Refills each scheme's `tried_regions/` of kdamond `k` with the monitored regions of
    /// the targets its core filters let through (`target` filters; the others are not
    /// emulated): the first filter that applies decides, and memory no filter applies to is
    /// tried unless the last filter allows (6.14+ semantics; before, every filter rejects).
    fn fill_tried_regions(&self, st: &mut State, k: usize) {
        let ctx = format!("kdamonds/{k}/contexts/0");
        let nr_targets = count(&st.files, &format!("{ctx}/targets/nr_targets"));
        for s in 0..count(&st.files, &format!("{ctx}/schemes/nr_schemes")) {
            let scheme = format!("{ctx}/schemes/{s}");
            let tried = format!("{scheme}/tried_regions");
            let total_bytes = format!("{tried}/total_bytes");
            st.files
                .retain(|path, _| !path.starts_with(&format!("{tried}/")) || *path == total_bytes);
            let dir = if st.files.contains_key(&format!("{scheme}/core_filters/nr_filters")) {
                "core_filters"
            } else {
                "filters"
            };
            let filters: Vec<(usize, bool, bool)> = (0..count(&st.files, &format!("{scheme}/{dir}/nr_filters")))
                .filter(|f| {
                    st.files
                        .get(&format!("{scheme}/{dir}/{f}/type"))
                        .is_some_and(|t| t == "target")
                })
                .map(|f| {
                    let file = |leaf: &str| st.files.get(&format!("{scheme}/{dir}/{f}/{leaf}")).cloned();
                    (
                        file("damon_target_idx").and_then(|v| v.parse().ok()).unwrap_or(0),
                        file("matching").as_deref() == Some("Y"),
                        file("allow").as_deref() == Some("Y"),
                    )
                })
                .collect();
            let tried_target = |t: usize| {
                filters
                    .iter()
                    .find(|(idx, matching, _)| (*idx == t) == *matching)
                    .map_or_else(
                        || !filters.last().is_some_and(|(_, _, allow)| *allow),
                        |(_, _, allow)| *allow,
                    )
            };
            let mut bytes = 0;
            for t in (0..nr_targets).filter(|t| tried_target(*t)) {
                for region in st.monitored.get(&(k, t)).cloned().unwrap_or_default() {
                    let name = st.next_tried_name;
                    st.next_tried_name += 1;
                    for (leaf, value) in [
                        ("start", region.start),
                        ("end", region.end),
                        ("nr_accesses", region.nr_accesses),
                        ("age", region.age),
                    ] {
                        st.files.insert(format!("{tried}/{name}/{leaf}"), value.to_string());
                    }
                    bytes += region.end - region.start;
                }
            }
            if st.files.contains_key(&total_bytes) {
                st.files.insert(total_bytes, bytes.to_string());
            }
        }
    }

    /// Records whether every scheme of kdamond `k` now waits for its watermarks.
    /// What `on` and `commit` do once the context is valid: the kdamond runs its files.
    fn take_configuration(&self, st: &mut State, k: usize) {
        self.note_gating(st, k);
        let configuration = configuration_files(&st.files, k);
        st.taken.insert(k, configuration);
    }

    fn note_gating(&self, st: &mut State, k: usize) {
        let schemes = format!("kdamonds/{k}/contexts/0/schemes");
        let nr = count(&st.files, &format!("{schemes}/nr_schemes"));
        // Watermarks may switch off every scheme when there are schemes and each has a metric.
        let gated = nr > 0
            && (0..nr).all(|s| {
                st.files
                    .get(&format!("{schemes}/{s}/watermarks/metric"))
                    .is_some_and(|metric| metric != "none")
            });
        if gated {
            st.gated.insert(k);
        } else {
            st.gated.remove(&k);
        }
    }

    /// The checks the kernel makes when it builds a context at `on` or `commit`.
    fn validate_context(&self, st: &State, k: usize) -> Result<(), i32> {
        let f = &st.files;
        let num = |p: String| f.get(&p).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        if count(f, &format!("kdamonds/{k}/contexts/nr_contexts")) != 1 {
            return Err(errno::EINVAL);
        }
        let ctx = format!("kdamonds/{k}/contexts/0");
        let attrs = format!("{ctx}/monitoring_attrs");
        if num(format!("{attrs}/intervals/sample_us")) > num(format!("{attrs}/intervals/aggr_us")) {
            return Err(errno::EINVAL);
        }
        let (min, max) = (
            num(format!("{attrs}/nr_regions/min")),
            num(format!("{attrs}/nr_regions/max")),
        );
        if min < 3 || min > max {
            return Err(errno::EINVAL);
        }
        let targets = count(f, &format!("{ctx}/targets/nr_targets"));
        if ctx_ops(f, &ctx) == "paddr" {
            if targets > 1 {
                return Err(errno::EINVAL);
            }
        } else {
            for t in 0..targets {
                let pid = num(format!("{ctx}/targets/{t}/pid_target"));
                if pid == 0 || st.dead_pids.contains(&(pid as u32)) {
                    return Err(errno::EINVAL);
                }
            }
        }
        for s in 0..count(f, &format!("{ctx}/schemes/nr_schemes")) {
            for dir in ["filters", "core_filters", "ops_filters"] {
                let fdir = format!("{ctx}/schemes/{s}/{dir}");
                for i in 0..count(f, &format!("{fdir}/nr_filters")) {
                    let memcg = f.get(&format!("{fdir}/{i}/type")).is_some_and(|t| t == "memcg");
                    let path = f.get(&format!("{fdir}/{i}/memcg_path")).cloned().unwrap_or_default();
                    let exists = st.known_cgroups.contains(&path)
                        || self
                            .cgroup_root
                            .as_ref()
                            .is_some_and(|root| root.join(path.trim_start_matches('/')).is_dir());
                    if memcg && !exists {
                        return Err(errno::ENOMEM);
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nr_writes_recreate_children_with_defaults() {
        let kernel = FakeKernel::new(Version::new(6, 12));
        kernel.write("kdamonds/nr_kdamonds", "1").unwrap();
        kernel.write("kdamonds/0/contexts/nr_contexts", "1").unwrap();
        kernel.write("kdamonds/0/contexts/0/schemes/nr_schemes", "1").unwrap();
        kernel
            .write("kdamonds/0/contexts/0/schemes/0/action", "pageout")
            .unwrap();
        assert_eq!(
            kernel
                .get("kdamonds/0/contexts/0/schemes/0/access_pattern/sz/max")
                .unwrap(),
            "0"
        );
        // The same count again still recreates: the action is back to its default.
        kernel.write("kdamonds/0/contexts/0/schemes/nr_schemes", "1").unwrap();
        assert_eq!(kernel.get("kdamonds/0/contexts/0/schemes/0/action").unwrap(), "stat");
        assert!(
            kernel
                .get("kdamonds/0/contexts/0/schemes/0/core_filters/nr_filters")
                .is_none(),
            "6.12 has no core_filters"
        );
        assert_eq!(
            kernel
                .write("kdamonds/0/contexts/0/schemes/0/action", "bogus")
                .unwrap_err()
                .errno,
            Some(errno::EINVAL)
        );
    }

    #[test]
    fn kdamond_lifecycle_and_refusals() {
        let kernel = FakeKernel::new(Version::new(7, 3));
        kernel.write("kdamonds/nr_kdamonds", "1").unwrap();
        assert_eq!(
            kernel.write("kdamonds/0/state", "on").unwrap_err().errno,
            Some(errno::EINVAL),
            "no context"
        );
        kernel.write("kdamonds/0/contexts/nr_contexts", "1").unwrap();
        kernel.write("kdamonds/0/contexts/0/operations", "paddr").unwrap();
        kernel.set_module_running(true);
        assert_eq!(
            kernel.write("kdamonds/0/state", "on").unwrap_err().errno,
            Some(errno::EBUSY)
        );
        kernel.set_module_running(false);
        kernel.write("kdamonds/0/state", "on").unwrap();
        assert_ne!(kernel.get("kdamonds/0/pid").unwrap(), "-1");
        assert_eq!(
            kernel.write("kdamonds/nr_kdamonds", "2").unwrap_err().errno,
            Some(errno::EBUSY)
        );
        kernel
            .write("kdamonds/0/contexts/0/monitoring_attrs/nr_regions/min", "2")
            .unwrap();
        assert_eq!(
            kernel.write("kdamonds/0/state", "commit").unwrap_err().errno,
            Some(errno::EINVAL)
        );
        assert_eq!(
            kernel.get("kdamonds/0/state").unwrap(),
            "on",
            "7.3 refuses a bad commit and keeps running"
        );
    }

    #[test]
    fn old_kernels_stop_on_a_bad_commit() {
        let kernel = FakeKernel::new(Version::new(6, 12));
        kernel.write("kdamonds/nr_kdamonds", "1").unwrap();
        kernel.write("kdamonds/0/contexts/nr_contexts", "1").unwrap();
        kernel.write("kdamonds/0/contexts/0/operations", "paddr").unwrap();
        kernel.write("kdamonds/0/state", "on").unwrap();
        kernel
            .write("kdamonds/0/contexts/0/monitoring_attrs/nr_regions/min", "2")
            .unwrap();
        kernel.write("kdamonds/0/state", "commit").unwrap();
        assert_eq!(kernel.get("kdamonds/0/state").unwrap(), "off");
    }
}
