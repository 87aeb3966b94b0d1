//! The running kernel, read-only: `--kernel running` validates against what the live
//! kernel's DAMON offers, as far as reading (never writing) its sysfs tree can tell.

use std::path::Path;

use super::Version;
use super::probe::{ProbeError, probe_readonly};
use crate::host::HostPaths;
use crate::sysfs::real::RealSysfs;

/// The DAMON feature level of the running kernel behind `sysfs_root`.
pub fn detect(host: &HostPaths, sysfs_root: &Path) -> Result<Version, ProbeError> {
    let release = host.kernel_release().map_err(ProbeError::Release)?;
    let sysfs = RealSysfs::new(sysfs_root);
    // Module states do not matter for validation; no module root is read.
    probe_readonly(&sysfs, &release, Path::new("/nonexistent")).map(|info| info.version)
}
