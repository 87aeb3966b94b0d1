//! Semantic rules: what the schema cannot express and the kernel would refuse (or worse,
//! accept and ignore). Errors for configurations that cannot work; warnings for ones that
//! work but can never do anything. [`check_written`] judges the file as written, whether or
//! not it resolves; [`check`] judges the resolved policy. Resolution converts and judges
//! nothing, so every finding about what a value means comes from here.
//!
//! One file per part: [`target`], [`monitoring`], [`scheme`], [`quota`], [`filter`],
//! [`migration`], [`cgroup`]; [`ranges`] owns every rule on the order of a range.

mod cgroup;
mod contradiction;
mod filter;
mod migration;
mod monitoring;
mod node;
mod quota;
mod ranges;
mod scheme;
mod target;

use std::collections::HashMap;

use crate::diag::{Code, Diagnostic};
use crate::key_path;
use crate::model::wire as model;
use crate::policy::source::KeyPath;

use super::Ctx;
use super::resolve::Parts;

/// The smallest region DAMON can have, and the unit it charges quotas in: one page
/// (`DAMON_MIN_REGION`).
const PAGE_SIZE: u64 = 4096;

/// Rules on the file as written: they hold whether or not its values convert.
pub fn check_written(ctx: &mut Ctx<'_>, wire: &model::PolicyFile) {
    if ctx.reading.name {
        name(ctx, wire);
    }
    if ctx.reading.target {
        target::written(ctx, &wire.target);
    }
    for (i, scheme) in wire.scheme.iter().enumerate() {
        let path = key_path!["scheme", i];
        quota::written_goals(ctx, scheme, &path);
        node::written(ctx, scheme, &path);
        for (f, filter) in scheme.filter.iter().enumerate() {
            filter::written(ctx, filter, &path.join("filter").join(f));
        }
    }
}

/// Rules on the resolved parts of a policy: each rule judges the parts it needs, whichever
/// others did not resolve.
pub fn check(ctx: &mut Ctx<'_>, wire: &model::PolicyFile, parts: &Parts) {
    if let Some(mon) = &parts.monitoring {
        monitoring::check(ctx, mon);
    }
    if let (Some(target), Some(ops)) = (&parts.target, parts.ops) {
        target::ops(ctx, target, ops);
    }
    cgroup::check(ctx, wire);
    let mut names: HashMap<String, usize> = HashMap::new();
    for (i, wire_scheme) in wire.scheme.iter().enumerate() {
        let path = key_path!["scheme", i];
        let number = ctx.scheme_number(i);
        let name = wire_scheme.name.clone().unwrap_or_else(|| number.to_string());
        if let Some(first) = names.insert(name.clone(), number) {
            scheme::duplicate_name(ctx, &name, first, &path);
        }
        let Some(scheme) = &parts.schemes[i] else { continue };
        ranges::access_pattern(ctx, scheme, &path);
        scheme::never_matches(ctx, parts.monitoring.as_ref(), scheme, &path);
        if let Some(ops) = parts.ops {
            scheme::action_fits_ops(ctx, ops, scheme, &path);
        }
        migration::check(ctx, parts.ops, scheme, wire_scheme, &path);
        quota::check(ctx, parts.ops, scheme, wire_scheme, &path);
        scheme::watermarks(ctx, scheme, &path);
        filter::check(ctx, parts.target.as_ref(), parts.ops, scheme, &path);
        if let Some(mon) = &parts.monitoring {
            scheme::apply_interval(ctx, mon, scheme, &path);
        }
    }
    contradiction::within(ctx, parts);
}

pub use contradiction::across as contradictions_across;

/// A policy without schemes starts a kdamond that monitors its target and does nothing
/// with what it sees: `status` has no statistics to show and nothing is acted on. Such a
/// kdamond is only of use to record accesses, which `damo-policy record` does with a policy
/// of its own, validated without this rule ([`crate::validate::validate_recording`]).
/// Judged on a policy that is otherwise valid (and enabled): it is about what the policy
/// does when it runs.
pub fn no_schemes(ctx: &mut Ctx<'_>, wire: &model::PolicyFile, parts: &Parts) {
    if !wire.scheme.is_empty() || !ctx.reading.every_scheme || !parts.enabled || ctx.has_errors() {
        return;
    }
    ctx.report_key(
        Diagnostic::warning(
            Code::NoSchemes,
            format!(
                "policy `{}` has no schemes: it monitors its target and acts on nothing",
                parts.name
            ),
        )
        .label("monitored, never acted on")
        .help("add a [[scheme]] with the action to take (`action = \"stat\"` only counts the memory that matches); to only see the accesses, record them with `damo-policy record` instead"),
        &key_path!["target"],
    );
}

/// A policy named after its file needs a file name that is a policy name.
fn name(ctx: &mut Ctx<'_>, wire: &model::PolicyFile) {
    if wire.name.is_some() {
        return;
    }
    let name = ctx.file.stem();
    if !crate::model::name::is_valid(&name) {
        ctx.report(
            Diagnostic::error(
                Code::BadName,
                format!("the file name `{name}` is not a valid policy name"),
            )
            .help(format!(
                "add `name = \"…\"` or rename the file; {}",
                crate::model::name::HELP
            )),
            &KeyPath::root(),
        );
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::kernel::Version;
    use crate::policy::source::SourceFile;
    use crate::validate::validate_file;

    /// The codes of every finding of a policy text, errors prefixed with `E:`, warnings `W:`.
    pub(super) fn findings(text: &str) -> Vec<String> {
        let outcome = validate_file(Arc::new(SourceFile::new("p.toml", text)), Version::NEWEST_KNOWN);
        outcome
            .diagnostics
            .iter()
            .map(|d| format!("{}:{}", if d.is_error() { "E" } else { "W" }, d.code))
            .collect()
    }

    fn with_target_filter(target: &str, index: u32) -> String {
        format!(
            "[target]\n{target}\n[[scheme]]\naction = \"stat\"\n[[scheme.filter]]\ntype = \"target\"\ntarget = {index}\n"
        )
    }

    #[test]
    fn target_filter_index_within_the_targets_the_policy_can_have() {
        assert!(findings(&with_target_filter("pids = [10, 11]", 1)).is_empty());
        assert_eq!(findings(&with_target_filter("pids = [10, 11]", 2)), ["E:filter-target"]);
        assert!(findings(&with_target_filter("physical = true", 0)).is_empty());
        assert_eq!(
            findings(&with_target_filter("physical = { numa_node = 1 }", 1)),
            ["E:filter-target"]
        );
        // The processes of a name or cgroup are counted at each apply: any index some number
        // of processes reaches is accepted, one past every possible pid is not.
        assert!(findings(&with_target_filter("process = \"app\"", 7)).is_empty());
        assert!(
            findings(&with_target_filter(
                "cgroup = \"batch.slice\"",
                crate::model::wire::PID_MAX - 1
            ))
            .is_empty()
        );
        assert_eq!(
            findings(&with_target_filter(
                "cgroup = \"batch.slice\"",
                crate::model::wire::PID_MAX
            )),
            ["E:filter-target"]
        );
    }

    /// What is wrong with the file as written is reported even where another value of it
    /// cannot be converted (and the policy does not resolve).
    #[test]
    fn rules_on_the_file_as_written_do_not_wait_for_resolution() {
        let text = "[target]\npids = [7, 7]\nregions = [{ start = 8192, end = 4096 }]\n\
                    [monitoring]\nsample_interval = \"1s 500ns\"\n\
                    [[scheme]]\naction = \"stat\"\n\
                    quota.goals = [{ metric = \"user_input\", target = \"10ms\" }]\n\
                    [[scheme.filter]]\ntype = \"addr\"\nstart = 8192\nend = 4096\n\
                    [[scheme.filter]]\ntype = \"memcg\"\n";
        assert_eq!(
            findings(text),
            [
                "E:duplicate-pid",
                "E:range-order",
                "E:bad-value",
                "E:goal-target",
                "E:range-order",
                "E:filter-argument"
            ]
        );
    }

    #[test]
    fn cgroup_paths() {
        // With a scheme: a policy without one is warned about.
        let target = |cgroup: &str| {
            findings(&format!(
                "[target]\ncgroup = {cgroup:?}\n[[scheme]]\naction = \"stat\"\n"
            ))
        };
        let memcg = |cgroup: &str| {
            findings(&format!(
                "[target]\nphysical = true\n[[scheme]]\naction = \"stat\"\n[[scheme.filter]]\ntype = \"memcg\"\ncgroup = {cgroup:?}\n"
            ))
        };
        for ok in [
            "batch.slice",
            "/batch.slice",
            "/",
            "system.slice/app.service",
            "a..b/.c",
        ] {
            assert!(target(ok).is_empty(), "{ok}");
            assert!(memcg(ok).is_empty(), "{ok}");
        }
        for bad in ["../../etc", "a/../b", "..", "a\nb", "a\tb", "a\rb"] {
            assert_eq!(target(bad), ["E:cgroup-path"], "{bad:?}");
            assert_eq!(memcg(bad), ["E:cgroup-path"], "{bad:?}");
        }
        // ESC and DEL, which TOML takes only as escapes.
        for escape in ["\\u001B", "\\u007F"] {
            assert_eq!(
                findings(&format!("[target]\ncgroup = \"a{escape}b\"\n")),
                ["E:cgroup-path"],
                "{escape}"
            );
        }
        // The kernel compares memcg paths as text; a target's directory is only read.
        for loose in ["./a", "a//b", "a/", "a/./b"] {
            assert!(target(loose).is_empty(), "{loose}");
            assert_eq!(memcg(loose), ["E:cgroup-path"], "{loose}");
        }
    }

    #[test]
    fn goal_targets_of_shares_of_memory_are_at_most_100_percent() {
        let goal = |metric: &str, target: &str| {
            findings(&format!(
                "[target]\nphysical = true\n[[scheme]]\naction = \"stat\"\nquota.goals = [{{ metric = {metric:?}, target = {target}, node = 0 }}]\n"
            ))
        };
        assert!(goal("node_mem_used_bp", "\"100%\"").is_empty());
        assert_eq!(goal("node_mem_used_bp", "\"100.01%\""), ["E:goal-target"]);
        assert_eq!(goal("node_eligible_mem_bp", "\"200%\""), ["E:goal-target"]);
        // Not a share: a user_input goal takes any integer, PSI any duration.
        let plain = |metric: &str, target: &str| {
            findings(&format!(
                "[target]\nphysical = true\n[[scheme]]\naction = \"stat\"\nquota.goals = [{{ metric = {metric:?}, target = {target} }}]\n"
            ))
        };
        assert!(plain("user_input", "20000").is_empty());
        assert!(plain("some_mem_psi_us", "\"20s\"").is_empty());
        assert_eq!(super::quota::percent_of_bp(15_000), "150%");
        assert_eq!(super::quota::percent_of_bp(10_050), "100.5%");
        assert_eq!(super::quota::percent_of_bp(10_001), "100.01%");
    }
}
