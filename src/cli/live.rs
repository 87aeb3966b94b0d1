//! What the commands that touch a live kernel share: the seam options (sysfs, module and
//! state roots), probing the kernel, and the ownership record.

use std::path::PathBuf;

use clap::Args;

use super::HostArgs;
use crate::host::HostPaths;
use crate::kernel::probe::{self, KernelInfo};
use crate::state::{EngineState, StateStore};
use crate::sysfs::real::RealSysfs;

/// Options of the commands that read or write the kernel's DAMON.
#[derive(Debug, Args)]
pub struct LiveArgs {
    #[command(flatten)]
    pub host: HostArgs,
    /// Root of the kernel modules' parameters, for the exclusive DAMON modules.
    #[arg(long, env = "DAMO_POLICY_MODULE_ROOT", default_value = "/sys/module", hide_short_help = true)]
    pub module_root: PathBuf,
    /// Where the engine records the kdamonds it owns.
    #[arg(long, env = "DAMO_POLICY_STATE_DIR", default_value = crate::state::DEFAULT_DIR)]
    pub state_dir: PathBuf,
}

/// A live kernel, probed, with the engine's record of it.
pub struct Live {
    pub sysfs: RealSysfs,
    pub host: HostPaths,
    pub info: KernelInfo,
    pub store: StateStore,
    pub state: EngineState,
}

impl LiveArgs {
    /// Probes the kernel and loads the record; the message says what is missing.
    pub fn open(&self) -> Result<Live, String> {
        let host = self.host.host();
        let sysfs = RealSysfs::new(&self.host.sysfs_root);
        let release = host.kernel_release().map_err(|e| format!("cannot read the kernel release: {e}"))?;
        let info = probe::probe(&sysfs, &release, &self.module_root)?;
        let boot_id = host.boot_id().map_err(|e| format!("cannot read the boot id: {e}"))?;
        let store = StateStore::new(&self.state_dir);
        let state = store.load(&boot_id).map_err(|e| format!("cannot read the state record: {e}"))?;
        Ok(Live { sysfs, host, info, store, state })
    }
}
