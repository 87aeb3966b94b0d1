//! Resolved policies → the kernel configuration they become, touching no kernel.
//!
//! [`compile`] resolves each enabled policy's target against the host (processes by name,
//! cgroup members, System RAM, NUMA nodes — read-only) and assigns kdamond indices;
//! [`sysfs::writes`] lays the result out as the ordered file writes of a kernel's DAMON
//! sysfs tree, each addressed by a typed [`file::File`].

pub mod file;
pub mod sysfs;

use serde::{Deserialize, Serialize};

use crate::host::HostPaths;
use crate::kernel::{Ops, Version};
use crate::model::resolved::{AddrRange, Monitoring, Policy, Scheme, Selector};
use crate::model::wire::Mode;

/// One kdamond to run: a policy with its targets resolved. `index` is its place in the
/// compiled configuration (its slot on a kernel with no other kdamonds; the reconcile
/// decides the real slot).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Kdamond {
    pub index: usize,
    pub policy: String,
    pub file: String,
    pub mode: Mode,
    pub ops: Ops,
    pub targets: Vec<KdamondTarget>,
    pub monitoring: Monitoring,
    pub schemes: Vec<Scheme>,
}

/// One DAMON target: a process (vaddr/fvaddr) or physical memory (paddr, `pid` absent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KdamondTarget {
    pub pid: Option<u32>,
    pub regions: Vec<AddrRange>,
}

impl Kdamond {
    /// Whether watermarks may switch off every scheme (and with them the kdamond's handling
    /// of commands, see [`crate::kernel::Layout::commit_needs_active_scheme`]): it has schemes, and each
    /// has watermarks.
    pub fn every_scheme_gated(&self) -> bool {
        !self.schemes.is_empty() && self.schemes.iter().all(|s| s.watermarks.is_some())
    }
}

/// A policy that produces no kdamond now, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Skipped {
    pub policy: String,
    pub file: String,
    pub reason: String,
    /// Pending policies start once their processes appear; failed ones need a fix.
    pub pending: bool,
}

/// The whole desired configuration for one kernel.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Compiled {
    pub kernel: String,
    pub kdamonds: Vec<Kdamond>,
    pub skipped: Vec<Skipped>,
}

/// Compiles policies (in the given order) for a kernel, resolving targets on `host`.
pub fn compile(policies: &[Policy], kernel: Version, host: &HostPaths) -> Compiled {
    let mut kdamonds = Vec::new();
    let mut skipped = Vec::new();
    for policy in policies.iter().filter(|p| p.enabled) {
        match resolve_targets(policy, host) {
            Ok(targets) => kdamonds.push(Kdamond {
                index: kdamonds.len(),
                policy: policy.name.clone(),
                file: policy.file.clone(),
                mode: policy.mode,
                ops: policy.ops,
                targets,
                monitoring: policy.monitoring.clone(),
                schemes: policy.schemes.clone(),
            }),
            Err((reason, pending)) => skipped.push(Skipped {
                policy: policy.name.clone(),
                file: policy.file.clone(),
                reason,
                pending,
            }),
        }
    }
    Compiled {
        kernel: kernel.to_string(),
        kdamonds,
        skipped,
    }
}

/// The DAMON targets of a policy now; `Err((reason, pending))` when there are none.
fn resolve_targets(policy: &Policy, host: &HostPaths) -> Result<Vec<KdamondTarget>, (String, bool)> {
    let regions = &policy.target.regions;
    let processes = |pids: Vec<u32>| -> Vec<KdamondTarget> {
        pids.into_iter()
            .map(|pid| KdamondTarget {
                pid: Some(pid),
                regions: regions.clone(),
            })
            .collect()
    };
    let physical = |regions: Vec<AddrRange>| vec![KdamondTarget { pid: None, regions }];
    let failed = |what: String| (what, false);
    match &policy.target.selector {
        Selector::Pids(pids) => Ok(processes(pids.clone())),
        Selector::Process(name) => match host.pids_by_name(name) {
            Ok(pids) if pids.is_empty() => Err((format!("no process named `{name}` is running"), true)),
            Ok(pids) => Ok(processes(pids)),
            Err(e) => Err(failed(format!("cannot list processes: {e}"))),
        },
        Selector::Cgroup(cgroup) if !below_cgroup_root(host, cgroup) => Err(failed(format!(
            "cgroup `{cgroup}` resolves outside the cgroup mount {}; name a cgroup below it",
            host.cgroup_root.display()
        ))),
        Selector::Cgroup(cgroup) => match host.cgroup_pids(cgroup) {
            Ok(pids) if pids.is_empty() => Err((format!("cgroup `{cgroup}` has no processes"), true)),
            Ok(pids) => Ok(processes(pids)),
            Err(e) => Err(failed(format!("cannot read cgroup `{cgroup}`: {e}"))),
        },
        Selector::PhysicalWhole => match host.largest_system_ram() {
            Ok(Some(range)) => Ok(physical(vec![range])),
            Ok(None) => Err(failed(format!(
                "no System RAM range in {}: it hides addresses from users other than root",
                host.proc_root.join("iomem").display()
            ))),
            Err(e) => Err(failed(format!("cannot read System RAM ranges: {e}"))),
        },
        Selector::PhysicalNode(node) => match host.numa_node_ranges(*node) {
            Ok(ranges) if ranges.is_empty() => Err(failed(format!("NUMA node {node} has no memory"))),
            Ok(ranges) => Ok(physical(ranges)),
            Err(e) => Err(failed(format!("cannot read the memory of NUMA node {node}: {e}"))),
        },
        Selector::PhysicalRegions => Ok(physical(regions.clone())),
    }
}

/// Whether a target cgroup's directory is inside the cgroup mount. Validation refuses `..`
/// in the path; this also catches a symbolic link out of the mount, which cgroupfs itself
/// never has but a `--cgroup-root` pointing at an ordinary directory may. A path that does
/// not resolve (no such cgroup) is left to the read that follows, which names it.
fn below_cgroup_root(host: &HostPaths, cgroup: &str) -> bool {
    let relative = std::path::Path::new(cgroup.trim_start_matches('/'));
    if relative
        .components()
        .any(|c| matches!(c, std::path::Component::ParentDir))
    {
        return false;
    }
    match (
        std::fs::canonicalize(&host.cgroup_root),
        std::fs::canonicalize(host.cgroup_root.join(relative)),
    ) {
        (Ok(root), Ok(dir)) => dir.starts_with(root),
        _ => true,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::fs;
    use std::sync::Arc;

    use super::*;
    use crate::policy::source::SourceFile;

    /// The kdamond compile makes of a valid policy `text` named `name` (a target that needs
    /// no host: `pids`, or physical regions).
    pub(crate) fn kdamond(name: &str, text: &str) -> Kdamond {
        let file = Arc::new(SourceFile::new(format!("{name}.toml"), text));
        let outcome = crate::validate::validate_file(file, Version::NEWEST_KNOWN);
        let policy = outcome.policy.unwrap_or_else(|| panic!("{:?}", outcome.diagnostics));
        let compiled = compile(&[policy], Version::NEWEST_KNOWN, &HostPaths::default());
        compiled.kdamonds.into_iter().next().expect("one kdamond")
    }

    /// A target cgroup is read only inside the cgroup mount, even through a symbolic link.
    #[test]
    fn a_target_cgroup_outside_the_mount_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("cgroup");
        fs::create_dir_all(root.join("batch.slice")).unwrap();
        fs::write(root.join("batch.slice/cgroup.procs"), "42\n").unwrap();
        fs::create_dir(dir.path().join("elsewhere")).unwrap();
        fs::write(dir.path().join("elsewhere/cgroup.procs"), "1\n").unwrap();
        std::os::unix::fs::symlink(dir.path().join("elsewhere"), root.join("escape")).unwrap();
        let host = HostPaths {
            cgroup_root: root,
            ..HostPaths::default()
        };
        let policy = |cgroup: &str| {
            let text = format!("[target]\ncgroup = {cgroup:?}\n");
            let outcome =
                crate::validate::validate_file(Arc::new(SourceFile::new("p.toml", text)), Version::NEWEST_KNOWN);
            outcome.policy.expect("a valid policy")
        };
        let compiled = compile(
            &[policy("/batch.slice"), policy("escape")],
            Version::NEWEST_KNOWN,
            &host,
        );
        assert_eq!(compiled.kdamonds.len(), 1);
        assert_eq!(compiled.kdamonds[0].targets[0].pid, Some(42));
        assert!(
            compiled.skipped[0].reason.contains("resolves outside the cgroup mount"),
            "{:?}",
            compiled.skipped
        );
        // Validation refuses `..`; a policy that has one anyway is not read either.
        let mut dotdot = policy("batch.slice");
        dotdot.target.selector = Selector::Cgroup("../elsewhere".into());
        let compiled = compile(&[dotdot], Version::NEWEST_KNOWN, &host);
        assert!(
            compiled.kdamonds.is_empty() && !compiled.skipped[0].pending,
            "{:?}",
            compiled.skipped
        );
    }
}
