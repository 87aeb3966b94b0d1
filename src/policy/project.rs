//! The project file, `damo-policy.toml`, beside the policies: settings a policy directory
//! carries for everyone who checks or applies it — today the kernel release its fleet runs,
//! so that CI and hosts validate against the same kernel.

use std::path::PathBuf;
use std::sync::Arc;

use serde::Deserialize;

use crate::diag::{Code, Diagnostic};
use crate::kernel::Version;

pub const PROJECT_FILE: &str = "damo-policy.toml";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProjectWire {
    kernel: Option<toml::Spanned<String>>,
}

/// A kernel release pinned by a project file.
#[derive(Debug, Clone)]
pub struct Pin {
    pub version: Version,
    pub file: PathBuf,
}

/// Reads the project file of each directory that has one; returns the pins found, and
/// diagnostics for unreadable or invalid project files.
pub fn read_pins(dirs: &[PathBuf]) -> (Vec<Pin>, Vec<Diagnostic>) {
    let mut pins = Vec::new();
    let mut diagnostics = Vec::new();
    for dir in dirs {
        let path = dir.join(PROJECT_FILE);
        if !path.exists() {
            continue;
        }
        let file = match crate::policy::load::read_source(&path) {
            Ok(file) => Arc::new(file),
            Err(diagnostic) => {
                diagnostics.push(*diagnostic);
                continue;
            }
        };
        match toml::from_str::<ProjectWire>(&file.text) {
            Err(error) => diagnostics.push(
                Diagnostic::error(Code::ProjectFile, error.message().trim_end().to_owned())
                    .help("the project file takes `kernel = \"MAJOR.MINOR\"`, e.g. `kernel = \"6.12\"`")
                    .at(&file, error.span()),
            ),
            Ok(ProjectWire { kernel: None }) => {}
            Ok(ProjectWire { kernel: Some(kernel) }) => match kernel.get_ref().parse::<Version>() {
                // The same releases as `--kernel` takes: a pin is the flag written down.
                Ok(version) => match crate::kernel::releases::supported(version) {
                    Ok(version) => pins.push(Pin {
                        version,
                        file: path.clone(),
                    }),
                    Err(unsupported) => diagnostics.push(
                        Diagnostic::error(Code::ProjectFile, unsupported.to_string())
                            .label("no DAMON sysfs interface")
                            .help(format!("pin a kernel from {} on", Version::OLDEST_SUPPORTED))
                            .at(&file, Some(kernel.span())),
                    ),
                },
                Err(not_a_version) => diagnostics.push(
                    Diagnostic::error(Code::ProjectFile, not_a_version.to_string())
                        .label("not a kernel version")
                        .help("write the fleet's kernel as `kernel = \"6.12\"`")
                        .at(&file, Some(kernel.span())),
                ),
            },
        }
    }
    (pins, diagnostics)
}

/// What a diagnostic about conflicting pins says; `None` if the pins agree.
pub fn conflict(pins: &[Pin]) -> Option<Diagnostic> {
    let first = pins.first()?;
    let other = pins.iter().find(|p| p.version != first.version)?;
    Some(
        Diagnostic::error(
            Code::ProjectFile,
            format!(
                "{} pins kernel {} but {} pins kernel {}",
                first.file.display(),
                first.version,
                other.file.display(),
                other.version
            ),
        )
        .help("check directories that target the same kernel together, or pass `--kernel`"),
    )
}
