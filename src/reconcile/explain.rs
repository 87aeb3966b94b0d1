//! Kernel errors in the user's terms: which policy and scheme a failed write served, and
//! the likely cause behind the errno (DAMON gives `EBUSY`, `ENOMEM` and `EINVAL` specific
//! meanings at `on`/`commit`), checked against the host where possible.

use std::path::Path;

use super::Op;
use super::Plan;
use super::apply::Failed;
use crate::host::HostPaths;
use crate::kernel::probe::ModuleState;
use crate::sysfs::{SysfsError, errno};

/// What the explanation may look at.
pub struct Context<'a> {
    pub modules: &'a [ModuleState],
    pub cgroup_root: &'a Path,
    pub proc_root: &'a Path,
    /// The desired writes of the failing kdamond.
    pub writes: &'a [(String, String)],
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
    let slot = failed.op.path.split('/').nth(1).and_then(|s| s.parse::<usize>().ok());
    let writes = slot.and_then(|s| plan.desired.get(&s)).map_or(&[][..], Vec::as_slice);
    let ctx = Context {
        modules,
        cgroup_root: &host.cgroup_root,
        proc_root: &host.proc_root,
        writes,
    };
    let policy = failed.op.policy.clone().unwrap_or_else(|| "all".into());
    let scheme = failed.op.scheme.map(|s| format!(", scheme {s}")).unwrap_or_default();
    FailureText {
        refused: format!(
            "the kernel refused `{}` written to {} (policy `{policy}`{scheme}): {} [{}]",
            failed.op.new,
            failed.op.path,
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
    let file = op.path.rsplit('/').next().unwrap_or("");
    let command = (file == "state").then_some(op.new.as_str());
    match (error.errno, command) {
        (Some(errno::EBUSY), Some("on")) => match ctx.modules.iter().find(|m| m.enabled) {
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
        (Some(errno::ENOMEM | errno::EINVAL), Some("on" | "commit")) => {
            missing_cgroups(ctx).or_else(|| dead_processes(ctx)).unwrap_or_else(|| {
                "the kernel refused the configuration: check that the monitored processes run, \
that the operations set is available (`damo-policy kernel`), the memcg filter paths, and the \
filter address and size ranges"
                    .into()
            })
        }
        // `off` for a kdamond that is not running: it stopped by itself (its processes
        // exited) or another program stopped it in between.
        (Some(errno::EPERM | errno::EINVAL), Some("off")) => {
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
    let missing: Vec<String> = ctx
        .writes
        .iter()
        .filter(|(path, _)| path.ends_with("/memcg_path") || (path.contains("/goals/") && path.ends_with("/path")))
        .filter(|(_, cgroup)| !ctx.cgroup_root.join(cgroup.trim_start_matches('/')).is_dir())
        .map(|(path, cgroup)| format!("cgroup `{cgroup}` not found (for {path})"))
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
    let dead: Vec<String> = ctx
        .writes
        .iter()
        .filter(|(path, pid)| path.ends_with("/pid_target") && pid != "0")
        .filter(|(_, pid)| {
            pid.parse()
                .is_ok_and(|pid| !crate::host::process_runs(ctx.proc_root, pid))
        })
        .map(|(_, pid)| pid.clone())
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

    fn op(path: &str, new: &str) -> Op {
        Op {
            path: path.into(),
            old: None,
            new: new.into(),
            policy: Some("p".into()),
            scheme: None,
        }
    }

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
            writes: &[],
        };
        let cause = cause(&op("kdamonds/1/state", "off"), &error(errno::EPERM), &ctx);
        assert!(cause.starts_with("the kdamond was not running any more"), "{cause}");
        let missing = [(
            "kdamonds/0/contexts/0/schemes/0/filters/0/memcg_path".to_owned(),
            "/no-such.slice".to_owned(),
        )];
        let ctx = Context {
            writes: &missing,
            ..ctx
        };
        let cause = super::cause(&op("kdamonds/0/state", "commit"), &error(errno::ENOMEM), &ctx);
        assert!(cause.starts_with("cgroup `/no-such.slice` not found"), "{cause}");
    }
}
