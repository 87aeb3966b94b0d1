//! Kernel errors in the user's terms: which policy and scheme a failed write served, and
//! the likely cause behind the errno (DAMON gives `EBUSY`, `ENOMEM` and `EINVAL` specific
//! meanings at `on`/`commit`), checked against the host where possible.

use std::path::Path;

use super::apply::Failed;
use super::{Desired, Op, Plan};
use crate::compile::file::Node;
use crate::host::HostPaths;
use crate::kernel::Command;
use crate::kernel::probe::ModuleState;
use crate::sysfs::{SysfsError, errno};

/// What the explanation may look at.
pub struct Context<'a> {
    pub modules: &'a [ModuleState],
    pub cgroup_root: &'a Path,
    pub proc_root: &'a Path,
    /// What the failing kdamond was to become, if the failure concerns one.
    pub desired: Option<&'a Desired>,
}

/// A failed apply in the user's terms, the same for the command line and the service: what
/// the kernel refused, the likely cause with the fix, and whether the previous configuration
/// runs again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureText {
    pub refused: String,
    pub cause: String,
    pub restored: String,
}

pub fn describe(failed: &Failed, plan: &Plan, modules: &[ModuleState], host: &HostPaths) -> FailureText {
    let desired = failed.op.file.node.kdamond().and_then(|slot| plan.desired.get(&slot));
    let ctx = Context {
        modules,
        cgroup_root: &host.cgroup_root,
        proc_root: &host.proc_root,
        desired,
    };
    let policy = failed.op.policy.clone().unwrap_or_else(|| "all".into());
    let scheme = failed.op.scheme.map(|s| format!(", scheme {s}")).unwrap_or_default();
    FailureText {
        refused: format!(
            "the kernel refused `{}` written to {} (policy `{policy}`{scheme}): {} [{}]",
            failed.op.new,
            failed.op.file,
            failed.error.message,
            failed.error.errno_name()
        ),
        cause: cause(&failed.op, &failed.error, &ctx),
        restored: match &failed.restored {
            Ok(()) => format!(
                "the previous configuration is restored; {} write(s) were made",
                failed.writes
            ),
            Err(e) => format!("restoring the previous configuration failed too: {e}"),
        },
    }
}

/// The likely cause of a failed write, with the fix.
pub fn cause(op: &Op, error: &SysfsError, ctx: &Context<'_>) -> String {
    let file = op.file.name();
    let command = op.command;
    match (error.errno, command) {
        (Some(errno::EBUSY), Some(Command::On)) => match ctx.modules.iter().find(|m| m.enabled) {
            Some(module) => format!(
                "the DAMON module `{}` is enabled, and the kernel runs no sysfs kdamond beside it; \
run again with --disable-modules, or write N to {}",
                module.name,
                module.param.display()
            ),
            None => "another DAMON user holds the kernel's DAMON exclusively; stop it and retry".into(),
        },
        // Kernels before 6.15 report a refused commit by stopping the kdamond, which
        // reaches here as EINVAL too: look for either cause.
        (Some(errno::ENOMEM | errno::EINVAL), Some(Command::On | Command::Commit)) => {
            missing_cgroups(ctx).or_else(|| dead_processes(ctx)).unwrap_or_else(|| {
                "the kernel refused the configuration: check that the monitored processes run, \
that the operations set is available (`damo-policy kernel`), the memcg filter paths, and the \
filter address and size ranges"
                    .into()
            })
        }
        // `off` for a kdamond that is not running: it stopped by itself (its processes
        // exited) or another program stopped it in between.
        (Some(errno::EPERM | errno::EINVAL), Some(Command::Off)) => {
            "the kdamond was not running any more (its processes exited, or another program stopped it); run apply again".into()
        }
        (Some(errno::EINVAL), Some(other)) => format!("the kernel does not accept the command `{other}` here"),
        (Some(errno::EINVAL), None) => format!(
            "the kernel refused `{}` for `{file}`: it does not know this value; a newer kernel may",
            op.new
        ),
        (Some(errno::ENOENT), _) => format!("this kernel has no `{file}`; check the policy with `--kernel running`"),
        (Some(errno::EBUSY), _) => "DAMON stayed busy for 10 s: another program holds its sysfs lock (a command to a kdamond waiting for its watermarks can hold it that long); try again".into(),
        _ => "see the kernel's error above".into(),
    }
}

/// Memcg paths of filters and goals that do not exist under the cgroup mount.
fn missing_cgroups(ctx: &Context<'_>) -> Option<String> {
    let writes = ctx.desired.map_or(&[][..], |d| d.writes.as_slice());
    let missing: Vec<String> = writes
        .iter()
        .filter(|w| match w.file.node {
            Node::Filter { .. } => w.file.leaf == "memcg_path",
            Node::Goal { .. } => w.file.leaf == "path",
            _ => false,
        })
        .filter(|w| !ctx.cgroup_root.join(w.value.trim_start_matches('/')).is_dir())
        .map(|w| format!("cgroup `{}` not found (for {})", w.value, w.file))
        .collect();
    (!missing.is_empty()).then(|| {
        format!(
            "{}; create the cgroup or fix the path in the policy",
            missing.join("; ")
        )
    })
}

/// Target processes that are not running.
fn dead_processes(ctx: &Context<'_>) -> Option<String> {
    let targets = ctx.desired.map_or(&[][..], |d| d.kdamond.targets.as_slice());
    let dead: Vec<String> = targets
        .iter()
        .filter_map(|target| target.pid)
        .filter(|pid| !crate::host::process_runs(ctx.proc_root, *pid))
        .map(|pid| pid.to_string())
        .collect();
    (!dead.is_empty()).then(|| {
        format!(
            "process {} is not running: a process target must be alive when its kdamond starts",
            dead.join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::{Layout, Version};

    fn error(errno: i32) -> SysfsError {
        SysfsError {
            path: String::new(),
            value: None,
            errno: Some(errno),
            message: String::new(),
        }
    }

    #[test]
    fn an_off_the_kernel_refuses_means_the_kdamond_had_stopped() {
        let ctx = Context {
            modules: &[],
            cgroup_root: Path::new("/nonexistent"),
            proc_root: Path::new("/nonexistent"),
            desired: None,
        };
        let off = Op::command(1, "on", Command::Off, "p");
        let cause = cause(&off, &error(errno::EPERM), &ctx);
        assert!(cause.starts_with("the kdamond was not running any more"), "{cause}");
        let kdamond = crate::compile::tests::kdamond(
            "p",
            "[target]\npids = [42]\n[[scheme]]\naction = \"stat\"\n\
             [[scheme.filter]]\ntype = \"memcg\"\ncgroup = \"/no-such.slice\"\n",
        );
        let writes = crate::compile::sysfs::kdamond_writes(&kdamond, 0, Layout::new(Version::NEWEST_KNOWN));
        let desired = Desired { kdamond, writes };
        let ctx = Context {
            desired: Some(&desired),
            ..ctx
        };
        let commit = Op::command(0, "on", Command::Commit, "p");
        let cause = super::cause(&commit, &error(errno::ENOMEM), &ctx);
        assert!(cause.starts_with("cgroup `/no-such.slice` not found"), "{cause}");
    }
}
