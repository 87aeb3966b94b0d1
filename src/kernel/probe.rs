//! Feature probing of a live kernel: which DAMON files exist (distribution kernels backport,
//! so the tree is better evidence than the release number), which operations sets are
//! registered, and which exclusive DAMON modules are enabled.
//!
//! Probing reads the tree. Only on a kernel with no kdamonds at all (nothing staged, nothing
//! running, so nothing to lose) does it stage one scratch kdamond to look inside a scheme,
//! and it removes it again.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{Ops, Version, features};
use crate::sysfs::{Sysfs, read_retrying, write_retrying};

/// The exclusive DAMON modules: while one is enabled the kernel refuses `on` with EBUSY.
pub const MODULES: &[&str] = &["damon_reclaim", "damon_lru_sort", "damon_stat"];

/// An exclusive module's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ModuleState {
    pub name: String,
    pub enabled: bool,
    /// Its `enabled` parameter file, the one to write `N` to.
    pub param: PathBuf,
}

impl ModuleState {
    /// Writes `N` to its `enabled` parameter: the module's kdamond stops, and the kernel
    /// starts sysfs kdamonds again.
    pub fn disable(&self) -> std::io::Result<()> {
        std::fs::write(&self.param, "N")
    }

    /// Writes `Y` to its `enabled` parameter: the module's kdamond resumes its work.
    pub fn enable(&self) -> std::io::Result<()> {
        std::fs::write(&self.param, "Y")
    }
}

/// Why a kernel's DAMON features could not be told.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("no DAMON sysfs interface at {tree} (is CONFIG_DAMON_SYSFS enabled?)")]
    NoSysfs { tree: String },
    /// No scheme to inspect, and a release that is no version.
    #[error("cannot tell the DAMON features of kernel `{release}`")]
    Unknown { release: String },
    #[error("cannot read the running kernel's release: {0}")]
    Release(std::io::Error),
}

/// What a live kernel offers.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct KernelInfo {
    pub release: String,
    /// The release whose DAMON features validation and compilation assume.
    pub version: Version,
    /// How `version` was decided.
    pub evidence: String,
    pub avail_ops: Vec<Ops>,
    pub modules: Vec<ModuleState>,
}

/// Reads the modules' `enabled` parameters under `module_root` (`/sys/module`).
pub fn modules(module_root: &Path) -> Vec<ModuleState> {
    MODULES
        .iter()
        .filter_map(|name| {
            let param = module_root.join(name).join("parameters/enabled");
            let value = std::fs::read_to_string(&param).ok()?;
            Some(ModuleState {
                name: (*name).into(),
                enabled: value.trim() == "Y",
                param,
            })
        })
        .collect()
}

/// Probes the kernel behind `sysfs`. `release` is the running kernel's release string.
pub fn probe(sysfs: &dyn Sysfs, release: &str, module_root: &Path) -> Result<KernelInfo, ProbeError> {
    probe_with(sysfs, release, module_root, true)
}

/// Probes without writing anything: only the kdamonds already in the tree are inspected.
pub fn probe_readonly(sysfs: &dyn Sysfs, release: &str, module_root: &Path) -> Result<KernelInfo, ProbeError> {
    probe_with(sysfs, release, module_root, false)
}

fn probe_with(sysfs: &dyn Sysfs, release: &str, module_root: &Path, may_stage: bool) -> Result<KernelInfo, ProbeError> {
    if !sysfs.exists("kdamonds/nr_kdamonds") {
        return Err(ProbeError::NoSysfs { tree: sysfs.describe() });
    }
    let released: Option<Version> = release.parse().ok();
    let nr: usize = read_retrying(sysfs, "kdamonds/nr_kdamonds")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let staged = may_stage && nr == 0 && stage_scratch(sysfs).is_ok();
    let tree = inspect(sysfs, nr.max(usize::from(staged)));
    if may_stage && nr == 0 && read_retrying(sysfs, "kdamonds/nr_kdamonds").is_ok_and(|n| n != "0") {
        // Staging may have failed half-way: leave the tree as it was.
        let _ = write_retrying(sysfs, "kdamonds/nr_kdamonds", "0");
    }
    let (version, evidence) = match (tree, released) {
        // The files prove at least `level`; the release is trusted while it agrees.
        (Some((level, next)), Some(rel)) if rel >= level && next.is_none_or(|n| rel < n) => {
            (rel, format!("release {release}, consistent with its DAMON files"))
        }
        (Some((level, _)), _) => (level, format!("its DAMON files (those of {level})")),
        (None, Some(rel)) => (rel, format!("release {release} (no scheme to inspect)")),
        (None, None) => {
            return Err(ProbeError::Unknown {
                release: release.into(),
            });
        }
    };
    Ok(KernelInfo {
        release: release.into(),
        version,
        evidence,
        avail_ops: avail_ops(sysfs, nr.max(1)),
        modules: modules(module_root),
    })
}

/// Stages kdamond 0 with one context, target, scheme and goal to look inside.
fn stage_scratch(sysfs: &dyn Sysfs) -> Result<(), ()> {
    let base = "kdamonds/0/contexts";
    let steps = [
        ("kdamonds/nr_kdamonds", "1"),
        ("kdamonds/0/contexts/nr_contexts", "1"),
        ("kdamonds/0/contexts/0/targets/nr_targets", "1"),
        ("kdamonds/0/contexts/0/schemes/nr_schemes", "1"),
    ];
    for (path, value) in steps {
        write_retrying(sysfs, path, value).map_err(|_| ())?;
    }
    let goals = format!("{base}/0/schemes/0/quotas/goals/nr_goals");
    if sysfs.exists(&goals) {
        let _ = write_retrying(sysfs, &goals, "1");
    }
    Ok(())
}

/// The newest release whose evidence (the kernel table's, [`features::FEATURES`]) is found
/// in any kdamond below `nr`, and the next newer release whose evidence is known absent.
fn inspect(sysfs: &dyn Sysfs, nr: usize) -> Option<(Version, Option<Version>)> {
    let present = |path: &str| (0..nr).any(|k| sysfs.exists(&format!("kdamonds/{k}/{path}")));
    // Without a scheme directory the absence of scheme files proves nothing.
    if !present("contexts/0/schemes/0") {
        return None;
    }
    let evidence = features::evidence_newest_first();
    let level = evidence.iter().find(|(path, _)| present(path))?.1;
    // A missing file disproves its release only where the directory that would hold it
    // exists: a kdamond without goals or filters says nothing of their files.
    let checkable = |path: &str| path.rsplit_once('/').is_none_or(|(dir, _)| present(dir));
    let next = evidence
        .iter()
        .rev()
        .find(|(path, since)| *since > level && checkable(path))
        .map(|(_, since)| *since);
    Some((level, next))
}

fn avail_ops(sysfs: &dyn Sysfs, nr: usize) -> Vec<Ops> {
    let text = (0..nr).find_map(|k| read_retrying(sysfs, format!("kdamonds/{k}/contexts/0/avail_operations")).ok());
    match text {
        // Operations sets this engine does not know are of no use to it.
        Some(text) => text.split_whitespace().filter_map(|word| word.parse().ok()).collect(),
        None => Ops::ALL.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sysfs::fake::FakeKernel;

    #[test]
    fn a_fresh_kernel_is_probed_with_a_scratch_kdamond_that_is_removed() {
        for (version, release) in [
            (Version::new(6, 12), "6.12.117+deb12-amd64"),
            (Version::new(7, 3), "7.3.4+deb13-amd64"),
        ] {
            let kernel = FakeKernel::new(version);
            let info = probe(&kernel, release, Path::new("/nonexistent")).unwrap();
            assert_eq!(info.version, version, "{release}: {}", info.evidence);
            assert_eq!(
                kernel.get("kdamonds/nr_kdamonds").unwrap(),
                "0",
                "the scratch kdamond is removed"
            );
            assert_eq!(info.avail_ops, vec![Ops::Vaddr, Ops::Fvaddr, Ops::Paddr]);
        }
    }

    /// The kernel table's evidence, read in the fake's independent model of the tree, tells
    /// every release the engine knows, and agrees with its release string.
    #[test]
    fn every_known_release_is_told_by_its_files() {
        for version in crate::kernel::releases::known() {
            let kernel = FakeKernel::new(version);
            let info = probe(&kernel, &version.to_string(), Path::new("/nonexistent")).unwrap();
            assert_eq!(info.version, version, "{}", info.evidence);
            assert!(
                info.evidence.contains("consistent with its DAMON files"),
                "{}",
                info.evidence
            );
        }
    }

    #[test]
    fn a_readonly_probe_writes_nothing() {
        let kernel = FakeKernel::new(Version::new(7, 3));
        let info = probe_readonly(&kernel, "7.3.4", Path::new("/nonexistent")).unwrap();
        assert!(kernel.log().is_empty());
        assert_eq!(info.version, Version::new(7, 3));
        assert!(info.evidence.contains("no scheme to inspect"), "{}", info.evidence);
    }

    #[test]
    fn files_win_over_a_release_that_disagrees() {
        let kernel = FakeKernel::new(Version::new(6, 12));
        let info = probe(&kernel, "6.1.0-backports", Path::new("/nonexistent")).unwrap();
        assert_eq!(info.version, Version::new(6, 11));
    }

    #[test]
    fn modules_are_read_from_their_parameters() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("damon_stat/parameters")).unwrap();
        std::fs::write(dir.path().join("damon_stat/parameters/enabled"), "Y\n").unwrap();
        let found = modules(dir.path());
        assert_eq!(found.len(), 1);
        assert!(found[0].enabled);
    }
}
