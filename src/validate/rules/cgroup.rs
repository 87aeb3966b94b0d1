//! Rules of cgroup paths: a target's cgroup stays below the cgroup mount, and a memcg path is
//! written as the kernel writes cgroup paths; neither has control characters.

use crate::diag::{Code, Diagnostic};
use crate::key_path;
use crate::model::wire as model;
use crate::policy::source::KeyPath;

use super::Ctx;

/// Every cgroup path of a policy: the target's, and those of memcg filters and memcg goals.
///
/// A target's cgroup is read by damo-policy itself (`<cgroup mount>/<path>/cgroup.procs`):
/// a `..` there leaves the mount (`"../../etc"` reads below `/`), so it is refused outright
/// rather than resolved. A memcg path is written to the kernel (`memcg_path`), which looks
/// the cgroup up by comparing the text with each memcg's own path (`cgroup_path()` and
/// `sysfs_streq()` in mm/damon/sysfs-schemes.c): `..`, `.`, `//` or a trailing `/` never
/// match, and the kernel refuses the whole configuration at `on`/`commit` with EINVAL. Control
/// characters are refused in both: no cgroup this is meant for has one in its name (a
/// newline in particular is a pasting mistake), and the path is shown in `compile`'s one-line
/// `<path> <value>` output and the plan, which a newline would split.
pub(super) fn check(ctx: &mut Ctx<'_>, wire: &model::PolicyFile) {
    if let Some(cgroup) = &wire.target.cgroup {
        cgroup_path(ctx, cgroup, false, &key_path!["target", "cgroup"]);
    }
    for (i, scheme) in wire.scheme.iter().enumerate() {
        let path = key_path!["scheme", i];
        for (f, filter) in scheme.filter.iter().enumerate() {
            if let Some(cgroup) = &filter.cgroup {
                cgroup_path(ctx, cgroup, true, &path.join("filter").join(f).join("cgroup"));
            }
        }
        for (g, goal) in scheme.quota.iter().flat_map(|q| q.goals.iter()).enumerate() {
            if let Some(cgroup) = &goal.cgroup {
                cgroup_path(
                    ctx,
                    cgroup,
                    true,
                    &path.join("quota").join("goals").join(g).join("cgroup"),
                );
            }
        }
    }
}

/// Checks one cgroup path; `exact` for a memcg path, which the kernel compares as text.
fn cgroup_path(ctx: &mut Ctx<'_>, cgroup: &str, exact: bool, at: &KeyPath) {
    let shown = cgroup.escape_debug();
    if let Some(c) = cgroup.chars().find(|c| c.is_control()) {
        ctx.report(
            Diagnostic::error(Code::CgroupPath, format!("the cgroup path \"{shown}\" contains a control character (U+{:04X})", u32::from(c)))
                .label("control character")
                .help("cgroup names have no control characters: remove it (a `\\n` or `\\t` escape in the string, or a pasted line break)"),
            at,
        );
        return;
    }
    let components: Vec<&str> = cgroup.trim_start_matches('/').split('/').collect();
    // The root cgroup: `"/"` (or `""`, which the schema refuses).
    if components == [""] {
        return;
    }
    let canonical: Vec<&str> = components
        .iter()
        .copied()
        .filter(|c| !c.is_empty() && *c != "." && *c != "..")
        .collect();
    let suggestion = format!("/{}", canonical.join("/"));
    if components.contains(&"..") {
        let why = if exact {
            "the kernel looks a memcg up by its path as written and no cgroup's path has `..`: the kernel would refuse the policy"
        } else {
            "a target's cgroup is read below the cgroup mount, and `..` leads out of it"
        };
        ctx.report(
            Diagnostic::error(
                Code::CgroupPath,
                format!("the cgroup path \"{shown}\" has a `..` component; {why}"),
            )
            .label("`..` not allowed")
            .help("write the cgroup's path from the cgroup mount down, without `..`, e.g. `system.slice/app.service`"),
            at,
        );
    } else if exact && components.iter().any(|c| c.is_empty() || *c == ".") {
        ctx.report(
            Diagnostic::error(Code::CgroupPath, format!(
                "the memcg path \"{shown}\" is not written as the kernel writes cgroup paths, so it matches no cgroup"
            ))
            .label("`.`, `//` or a trailing `/`")
            .help(format!(
                "the kernel compares the path with each cgroup's own path as text and refuses the policy when none is equal; write \"{suggestion}\""
            )),
            at,
        );
    }
}
