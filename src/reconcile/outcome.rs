//! How far one reconcile got, typed: why nothing was written (unreadable input, another
//! tool or a DAMON module in the way, policy paths others can change), or what the apply did.
//! Each reason is its own type whose `Display` is the one wording the command line and the
//! service both show, so neither composes its own sentences about the same event.

use std::fmt;
use std::io;

use super::Foreign;
use super::apply::{Applied, Failed};
use crate::kernel::probe::{ModuleState, ProbeError};
use crate::policy::perms::Insecure;
use crate::reconcile::state::StateError;
use crate::sysfs::SysfsError;

/// How far a reconcile got.
#[derive(Debug)]
pub enum Outcome {
    /// The policies are invalid: nothing was written.
    Invalid,
    /// The paths could not be read or the kernel not observed: nothing was written.
    Unreadable(Unreadable),
    /// Kdamonds of another tool, or an enabled module, are in the way: nothing was written.
    Refused(Refusal),
    /// Users other than root can change the policy paths: nothing was read into the kernel.
    Insecure(InsecurePaths),
    /// Planned only (`plan`).
    Planned,
    /// Applied and verified.
    Applied(Applied),
    /// The kernel refused a write; the last good configuration was restored.
    Failed(Box<Failed>),
}

impl Outcome {
    /// One word for logs and the service's status file.
    pub fn word(&self) -> &'static str {
        match self {
            Outcome::Invalid => "invalid",
            Outcome::Unreadable(_) => "unreadable",
            Outcome::Refused(_) | Outcome::Insecure(_) => "refused",
            Outcome::Planned => "planned",
            Outcome::Applied(_) => "applied",
            Outcome::Failed(_) => "failed",
        }
    }
}

/// What could not be read, so that nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum Unreadable {
    /// The running kernel, against which the policies are validated, cannot be probed.
    #[error(transparent)]
    Probe(ProbeError),
    /// Some policy files could not be read (their diagnostics say which and why).
    #[error("policy files could not be read")]
    PolicyFiles,
    /// The state record's lock could not be taken.
    #[error("the state record: {0}")]
    Lock(StateError),
    /// The kernel's DAMON tree could not be read.
    #[error(transparent)]
    Kernel(SysfsError),
    /// The kernel took everything but the record of it could not be saved.
    #[error("applied, but cannot record it: {0}")]
    NotRecorded(StateError),
    /// The record could not be told which kdamonds the apply was to change: without that, a
    /// crash mid-way would leave kdamonds no record names, so nothing was written.
    #[error("cannot record the kdamonds this apply would change, so nothing was written: {0}")]
    NoIntent(StateError),
}

/// Why the kernel was not asked to change anything.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// Kdamonds of another tool are where the plan needs to act.
    #[error("{}", foreign_text(tree, kdamonds, *blocked))]
    Foreign {
        /// The DAMON tree, as [`crate::sysfs::Sysfs::describe`] names it.
        tree: String,
        kdamonds: Vec<Foreign>,
        blocked: ForeignBlock,
    },
    /// Enabled exclusive DAMON modules would make the kernel refuse to start a kdamond.
    #[error("{}", modules_text(modules))]
    Modules { modules: Vec<ModuleState> },
    /// `--disable-modules` could not disable one of them.
    #[error("cannot disable `{}` ({}): {error}{}", module.name, module.param.display(), undone_text(undone.as_ref()))]
    CannotDisable {
        module: ModuleState,
        error: io::Error,
        /// Modules disabled before it that could not be enabled again.
        undone: Option<ReenableError>,
    },
}

/// How another tool's kdamonds block a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForeignBlock {
    /// One of them runs: the engine never changes or stops it.
    Running,
    /// They are staged, and the plan must grow `nr_kdamonds`, which would erase them.
    Staged,
}

fn foreign_text(tree: &str, kdamonds: &[Foreign], blocked: ForeignBlock) -> String {
    let list: Vec<String> = kdamonds
        .iter()
        .map(|f| {
            let state = if f.running { "running" } else { "staged" };
            format!(
                "kdamond {} ({state}, pid {}, ops {}, {} scheme(s))",
                f.slot, f.pid, f.ops, f.schemes
            )
        })
        .collect();
    let reason = match blocked {
        ForeignBlock::Running => "damo-policy never changes or stops a kdamond it did not start",
        ForeignBlock::Staged => "adding a kdamond rewrites nr_kdamonds, which would erase them",
    };
    format!(
        "kdamonds of another tool are in {tree}: {}; {reason}. Stop them with the tool that started them, or run again with --takeover",
        list.join("; ")
    )
}

fn modules_text(modules: &[ModuleState]) -> String {
    let blocking: Vec<&ModuleState> = modules.iter().collect();
    let ModuleNames { names, s, are, them } = ModuleNames::of(&blocking);
    let params: Vec<String> = modules.iter().map(|m| m.param.display().to_string()).collect();
    format!(
        "the DAMON module{s} {names} {are} enabled, and the kernel runs no sysfs kdamond beside {them}; \
run again with --disable-modules, or write N to {}. Nothing was written",
        params.join(" and ")
    )
}

fn undone_text(undone: Option<&ReenableError>) -> String {
    undone.map(|e| format!("; {e}")).unwrap_or_default()
}

/// Modules a failed reconcile disabled and could not enable again.
#[derive(Debug, thiserror::Error)]
#[error("{}", self.0.iter().map(|(module, error)| format!(
    "the DAMON module `{}` stays disabled ({}: {error}); write Y to it to enable it again",
    module.name,
    module.param.display()
)).collect::<Vec<_>>().join("; "))]
pub struct ReenableError(pub Vec<(ModuleState, io::Error)>);

/// Policy paths that users other than root can change.
#[derive(Debug)]
pub struct InsecurePaths(pub Vec<Insecure>);

impl fmt::Display for InsecurePaths {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        write!(
            f,
            "policy paths that users other than root can change: {}",
            list.join("; ")
        )
    }
}

/// Modules named in a sentence: "`a`" or "`a` and `b`", and the words that agree with it.
pub struct ModuleNames {
    pub names: String,
    /// "" or "s", "is" or "are", "it" or "them".
    pub s: &'static str,
    pub are: &'static str,
    pub them: &'static str,
}

impl ModuleNames {
    pub fn of(modules: &[&ModuleState]) -> Self {
        let names: Vec<String> = modules.iter().map(|m| format!("`{}`", m.name)).collect();
        let one = names.len() == 1;
        let (s, are, them) = if one { ("", "is", "it") } else { ("s", "are", "them") };
        ModuleNames {
            names: names.join(" and "),
            s,
            are,
            them,
        }
    }
}
