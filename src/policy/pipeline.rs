//! The front half of every command: load the paths, pick the target kernel, validate every
//! file and the set as a whole. Returns all findings; printing is the caller's business.

use std::path::{Path, PathBuf};

use crate::diag::Diagnostic;
use crate::host::HostPaths;
use crate::kernel::probe::ProbeError;
use crate::kernel::{self, Version};
use crate::model::resolved::Policy;
use crate::policy::load::{self, IO_CODES};
use crate::policy::project;
use crate::validate::{self, FileOutcome};

/// Which kernel to validate and compile for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KernelChoice {
    /// The project file's pin, else the newest kernel the engine knows.
    Default,
    Version(Version),
    /// The running kernel, read-only.
    Running,
    /// The running kernel, already probed (what `plan` and `apply` validate against).
    Probed(Version),
}

/// Why a `--kernel` value names no kernel to validate for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadKernelChoice {
    #[error(transparent)]
    NotAVersion(#[from] kernel::NotAVersion),
    #[error(transparent)]
    Unsupported(#[from] kernel::releases::Unsupported),
}

impl std::str::FromStr for KernelChoice {
    type Err = BadKernelChoice;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text == "running" {
            return Ok(KernelChoice::Running);
        }
        let version = text.parse()?;
        Ok(KernelChoice::Version(kernel::releases::supported(version)?))
    }
}

/// Everything validation found.
pub struct Checked {
    pub kernel: Version,
    /// Where the kernel version came from, for humans.
    pub kernel_source: String,
    pub outcomes: Vec<FileOutcome>,
    /// Findings not about one policy: unreadable paths, project files.
    pub general: Vec<Diagnostic>,
}

impl Checked {
    pub fn all_diagnostics(&self) -> impl Iterator<Item = &Diagnostic> {
        self.general
            .iter()
            .chain(self.outcomes.iter().flat_map(|o| o.diagnostics.iter()))
    }

    pub fn error_count(&self) -> usize {
        self.all_diagnostics().filter(|d| d.is_error()).count()
    }

    pub fn warning_count(&self) -> usize {
        self.all_diagnostics().filter(|d| !d.is_error()).count()
    }

    /// Whether something could not be read at all (exit status 2 rather than 1).
    pub fn has_io_errors(&self) -> bool {
        self.all_diagnostics().any(|d| IO_CODES.contains(&d.code))
    }

    /// The valid policies, in file order.
    pub fn policies(&self) -> Vec<Policy> {
        self.outcomes.iter().filter_map(|o| o.policy.clone()).collect()
    }
}

/// Loads and validates `paths`; fails only when the running kernel is to be validated against
/// and cannot be probed (every other problem is a diagnostic).
pub fn check_paths(
    paths: &[PathBuf],
    choice: &KernelChoice,
    host: &HostPaths,
    sysfs_root: &Path,
) -> Result<Checked, ProbeError> {
    let loaded = load::load_paths(paths);
    let mut general = loaded.diagnostics;
    let (pins, project_errors) = project::read_pins(&loaded.dirs);
    let pin_failed = !project_errors.is_empty();
    general.extend(project_errors);
    let (kernel, kernel_source) = match choice {
        KernelChoice::Version(v) => (*v, "--kernel".to_owned()),
        KernelChoice::Probed(v) => (*v, "the running kernel".to_owned()),
        KernelChoice::Running => (
            kernel::running::detect(host, sysfs_root)?,
            "the running kernel".to_owned(),
        ),
        KernelChoice::Default => {
            general.extend(project::conflict(&pins));
            match pins.first() {
                Some(pin) => (pin.version, format!("pinned by {}", pin.file.display())),
                // A pin in error is reported; the summary must not read as if it were used.
                None if pin_failed => (
                    Version::NEWEST_KNOWN,
                    "the newest kernel damo-policy knows, as the project file's pin is in error".to_owned(),
                ),
                None => (Version::NEWEST_KNOWN, "the newest kernel damo-policy knows".to_owned()),
            }
        }
    };
    let mut outcomes: Vec<FileOutcome> = loaded
        .files
        .into_iter()
        .map(|file| validate::validate_file(file, kernel))
        .collect();
    validate::check_across(&mut outcomes);
    Ok(Checked {
        kernel,
        kernel_source,
        outcomes,
        general,
    })
}
