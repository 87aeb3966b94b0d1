//! What the commands that touch a live kernel share: the seam options (sysfs, module and
//! state roots), probing the kernel, and the ownership record.

use std::path::{Path, PathBuf};

use clap::Args;

use super::HostArgs;
use crate::host::HostPaths;
use crate::kernel::Version;
use crate::kernel::probe::{self, KernelInfo, ProbeError};
use crate::reconcile::state::{EngineState, StateStore};
use crate::sysfs::Sysfs;
use crate::sysfs::fake::FakeKernel;
use crate::sysfs::real::RealSysfs;

/// Options of the commands that read or write the kernel's DAMON.
#[derive(Debug, Args)]
pub struct LiveArgs {
    #[command(flatten)]
    pub host: HostArgs,
    /// Root of the kernel modules' parameters, for the exclusive DAMON modules.
    #[arg(
        long,
        env = "DAMO_POLICY_MODULE_ROOT",
        default_value = "/sys/module",
        hide_short_help = true
    )]
    pub module_root: PathBuf,
    /// Where the engine records the kdamonds it owns.
    #[arg(long, env = "DAMO_POLICY_STATE_DIR", default_value = crate::reconcile::state::DEFAULT_DIR)]
    pub state_dir: PathBuf,
}

/// The DAMON behind `--sysfs-root`: the kernel's tree (or any directory), or — for tests of
/// the command line — a fake kernel kept in a file (`fake:VERSION:FILE`).
pub enum Kernel {
    Real(RealSysfs),
    Fake { kernel: Box<FakeKernel>, file: PathBuf },
}

impl Kernel {
    fn open(
        root: &std::path::Path,
        module_root: &std::path::Path,
        cgroup_root: &std::path::Path,
    ) -> Result<Self, String> {
        let text = root.to_string_lossy();
        let Some(spec) = text.strip_prefix("fake:") else {
            return Ok(Kernel::Real(RealSysfs::new(root)));
        };
        let (version, file) = spec.split_once(':').ok_or("write a fake kernel as fake:VERSION:FILE")?;
        let version: Version = version.parse().map_err(|e: crate::kernel::NotAVersion| e.to_string())?;
        let file = PathBuf::from(file);
        let kernel = FakeKernel::open(version, &file).map_err(|e| format!("{}: {e}", file.display()))?;
        Ok(Kernel::Fake {
            kernel: Box::new(kernel.with_module_root(module_root).with_cgroup_root(cgroup_root)),
            file,
        })
    }

    pub fn sysfs(&self) -> &(dyn Sysfs + Sync) {
        match self {
            Kernel::Real(real) => real,
            Kernel::Fake { kernel, .. } => kernel.as_ref(),
        }
    }

    /// Keeps a fake kernel's tree for the next command; the real kernel keeps itself.
    pub fn save(&self) -> Result<(), String> {
        match self {
            Kernel::Real(_) => Ok(()),
            Kernel::Fake { kernel, file } => kernel.save(file).map_err(|e| format!("{}: {e}", file.display())),
        }
    }
}

/// A live kernel, probed, with the engine's record of it.
pub struct Live {
    pub kernel: Kernel,
    pub host: HostPaths,
    pub info: KernelInfo,
    pub store: StateStore,
    pub state: EngineState,
}

impl LiveArgs {
    /// Probes the kernel and loads the record; the message says what is missing.
    pub fn open(&self) -> Result<Live, String> {
        let host = self.host.host();
        let kernel = Kernel::open(&self.host.sysfs_root, &self.module_root, &self.host.cgroup_root)?;
        let sysfs = kernel.sysfs();
        let release = match &kernel {
            Kernel::Fake { kernel, .. } => kernel.version().to_string(),
            Kernel::Real(_) => host
                .kernel_release()
                .map_err(|e| format!("cannot read the kernel release: {e}"))?,
        };
        let boot_id = host.boot_id().map_err(|e| format!("cannot read the boot id: {e}"))?;
        let store = StateStore::new(&self.state_dir);
        let key = ProbeKey::new(&boot_id, &release, &self.host.sysfs_root, &self.module_root);
        let info = cached_probe(&store, &key, || probe::probe(sysfs, &release, &self.module_root))
            .map_err(|e| e.to_string())?;
        super::warn_if_newer(info.version, "the running kernel");
        let state = store
            .load(&boot_id)
            .map_err(|e| format!("cannot read the state record: {e}"))?;
        Ok(Live {
            kernel,
            host,
            info,
            store,
            state,
        })
    }
}

const PROBE_CACHE: &str = "kernel.json";

/// What a probe's result depends on: the kernel (its boot and release), where its DAMON
/// files and modules were read (another root is another kernel, a fake one or a VM's), and
/// the engine that judged them (a newer damo-policy may know more of the same files).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct ProbeKey {
    boot_id: String,
    release: String,
    sysfs_root: PathBuf,
    module_root: PathBuf,
    engine: String,
}

impl ProbeKey {
    fn new(boot_id: &str, release: &str, sysfs_root: &Path, module_root: &Path) -> Self {
        // Absolute, so that a relative root names the same directory from any working
        // directory; not canonical: a root reached through another symlink only probes again.
        let absolute = |path: &Path| std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
        Self {
            boot_id: boot_id.to_owned(),
            release: release.to_owned(),
            sysfs_root: absolute(sysfs_root),
            module_root: absolute(module_root),
            engine: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}

/// A kernel's files do not change while it runs: probe each root once per boot, and keep the
/// results beside the state record. Module states change at any time and are always read
/// afresh.
fn cached_probe(
    store: &StateStore,
    key: &ProbeKey,
    probe: impl FnOnce() -> Result<KernelInfo, ProbeError>,
) -> Result<KernelInfo, ProbeError> {
    #[derive(serde::Serialize, serde::Deserialize)]
    struct Cached {
        key: ProbeKey,
        info: KernelInfo,
    }
    let path = store.dir().join(PROBE_CACHE);
    // Anything unreadable (a file of an older damo-policy included) is probed again.
    let mut entries: Vec<Cached> = std::fs::read_to_string(&path)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default();
    if let Some(cached) = entries.iter().find(|c| c.key == *key) {
        let mut info = cached.info.clone();
        info.modules = probe::modules(&key.module_root);
        return Ok(info);
    }
    let info = probe()?;
    // Other boots' entries describe kernels that no longer run.
    entries.retain(|c| c.key.boot_id == key.boot_id);
    entries.push(Cached {
        key: key.clone(),
        info: info.clone(),
    });
    if std::fs::create_dir_all(store.dir()).is_ok()
        && let Ok(text) = serde_json::to_string_pretty(&entries)
    {
        // Renamed into place: another command reading the cache meanwhile sees all of it.
        // A cache that cannot be written is probed again next time.
        let _ = crate::files::atomic::write(&path, (text + "\n").as_bytes());
    }
    Ok(info)
}
