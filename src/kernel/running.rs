//! The running kernel, read-only: its release and whether it has the DAMON sysfs
//! interface. Used by `--kernel running`; never writes.

use std::path::Path;

use super::Version;
use crate::host::HostPaths;

/// The running kernel's version, if DAMON's sysfs interface is present under `sysfs_root`.
pub fn detect(host: &HostPaths, sysfs_root: &Path) -> Result<Version, String> {
    let release = host
        .kernel_release()
        .map_err(|e| format!("cannot read the running kernel's release: {e}"))?;
    let version: Version = release.parse()?;
    if !sysfs_root.join("kdamonds").is_dir() {
        return Err(format!(
            "the running kernel ({release}) has no DAMON sysfs interface at {}",
            sysfs_root.display()
        ));
    }
    Ok(version)
}
