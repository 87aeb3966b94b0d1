//! Schemes that undo each other on the same memory: `hugepage` and `nohugepage` with
//! access patterns that overlap, in one policy or in two policies of the same processes.
//! The kernel applies both (`MADV_HUGEPAGE` then `MADV_NOHUGEPAGE` on the same ranges, or
//! the other way round), so which one holds depends on the order of the walk and the
//! memory flips at every apply interval. A warning: each scheme is valid on its own.
//!
//! Schemes with filters or watermarks are left out: filters can keep the two apart in
//! memory, watermarks in time, and neither can be judged from the file alone.

use std::collections::HashMap;
use std::ops::Range as Span;

use crate::diag::{Code, Diagnostic};
use crate::kernel::Action;
use crate::key_path;
use crate::model::defaults;
use crate::model::resolved::{Monitoring, Policy, Scheme, Selector};
use crate::model::wire::Mode;
use crate::validate::FileOutcome;
use crate::validate::resolve::Parts;

use super::Ctx;

/// The memory a scheme acts on, in units that do not depend on the monitoring intervals,
/// so that two policies' schemes compare.
struct Reach {
    size_bytes: (u128, u128),
    /// Access rate in millionths of the samples of an aggregation interval.
    access_ppm: (u128, u128),
    age_us: (u128, u128),
}

impl Reach {
    /// `None` for a scheme that filters or watermarks may hold apart from another.
    fn of(mon: &Monitoring, scheme: &Scheme) -> Option<Self> {
        if !scheme.filters.is_empty() || scheme.watermarks.is_some() {
            return None;
        }
        let count = |value: u64, unit: u128, per: u128| {
            if value >= defaults::COUNT_RANGE.max {
                u128::MAX
            } else {
                u128::from(value) * unit / per.max(1)
            }
        };
        let sample_ppm = u128::from(mon.sample_us) * 1_000_000;
        let aggr_us = u128::from(mon.aggr_us);
        Some(Self {
            size_bytes: (scheme.sz_bytes.min.into(), scheme.sz_bytes.max.into()),
            access_ppm: (
                count(scheme.nr_accesses.min, sample_ppm, aggr_us),
                count(scheme.nr_accesses.max, sample_ppm, aggr_us),
            ),
            age_us: (
                count(scheme.age_aggrs.min, aggr_us, 1),
                count(scheme.age_aggrs.max, aggr_us, 1),
            ),
        })
    }

    fn overlaps(&self, other: &Reach) -> bool {
        let meet = |a: (u128, u128), b: (u128, u128)| a.0 <= b.1 && b.0 <= a.1;
        meet(self.size_bytes, other.size_bytes)
            && meet(self.access_ppm, other.access_ppm)
            && meet(self.age_us, other.age_us)
    }
}

fn opposed(a: Action, b: Action) -> bool {
    matches!(
        (a, b),
        (Action::Hugepage, Action::Nohugepage) | (Action::Nohugepage, Action::Hugepage)
    )
}

const HELP: &str = "make the access patterns disjoint (e.g. `access_rate.min` of the `hugepage` scheme above `access_rate.max` of the `nohugepage` one), or keep only one of the two";

/// The schemes of one policy.
pub(super) fn within(ctx: &mut Ctx<'_>, parts: &Parts) {
    let Some(mon) = &parts.monitoring else { return };
    if parts.mode == Mode::Observe {
        return;
    }
    let mut seen: Vec<(usize, &Scheme, Reach)> = Vec::new();
    for (i, scheme) in parts.schemes.iter().enumerate() {
        let Some(scheme) = scheme else { continue };
        let Some(reach) = Reach::of(mon, scheme) else { continue };
        let earlier = seen
            .iter()
            .find(|(_, other, other_reach)| opposed(scheme.action, other.action) && reach.overlaps(other_reach));
        if let Some((first, other, _)) = earlier {
            let mut diagnostic = Diagnostic::warning(
                Code::ContradictorySchemes,
                format!(
                    "scheme `{}` ({}) undoes scheme `{}` ({}) on memory both match: the same regions flip between huge and normal pages",
                    scheme.name,
                    scheme.action.keyword(),
                    other.name,
                    other.action.keyword()
                ),
            )
            .label(format!("undoes `{}`", other.action.keyword()))
            .help(HELP);
            if let Some(span) = ctx.span(&key_path!["scheme", *first, "action"]) {
                diagnostic.related.push((span, "the scheme it undoes".to_owned()));
            }
            ctx.report(diagnostic, &key_path!["scheme", i, "action"]);
        }
        seen.push((i, scheme, reach));
    }
}

/// The processes a policy acts on, as far as the file says: a process name, each pid, or a
/// cgroup. Policies sharing one of them act on the same memory.
fn processes(policy: &Policy) -> Vec<String> {
    match &policy.target.selector {
        Selector::Process(name) => vec![format!("the processes named `{name}`")],
        Selector::Pids(pids) => pids.iter().map(|pid| format!("pid {pid}")).collect(),
        Selector::Cgroup(path) => vec![format!("cgroup `/{}`", path.trim_matches('/'))],
        Selector::PhysicalWhole | Selector::PhysicalNode(_) | Selector::PhysicalRegions => Vec::new(),
    }
}

/// Schemes of two policies of a directory that act on the same processes. The warning goes
/// to the later file, at its scheme's action, naming the earlier policy, scheme and place.
pub fn across(outcomes: &mut [FileOutcome]) {
    let mut sharing: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, outcome) in outcomes.iter().enumerate() {
        let Some(policy) = &outcome.policy else { continue };
        if !policy.enabled || policy.mode == Mode::Observe {
            continue;
        }
        for process in processes(policy) {
            sharing.entry(process).or_default().push(i);
        }
    }
    let mut found: Vec<(usize, Diagnostic)> = Vec::new();
    let mut reported: Vec<(usize, usize, usize, usize)> = Vec::new();
    let mut groups: Vec<(&String, &Vec<usize>)> = sharing.iter().filter(|(_, files)| files.len() > 1).collect();
    groups.sort();
    for (what, files) in groups {
        for (k, &later) in files.iter().enumerate() {
            for &earlier in &files[..k] {
                let (first, second) = (&outcomes[earlier], &outcomes[later]);
                let (Some(a), Some(b)) = (&first.policy, &second.policy) else {
                    continue;
                };
                for (s, o) in contradictions(a, b) {
                    if reported.contains(&(earlier, later, s, o)) {
                        continue;
                    }
                    reported.push((earlier, later, s, o));
                    found.push((later, across_diagnostic((first, a, s), (second, b, o), what)));
                }
            }
        }
    }
    for (i, diagnostic) in found {
        outcomes[i].diagnostics.push(diagnostic);
    }
}

/// Pairs (scheme of `a`, scheme of `b`) that undo each other.
fn contradictions(a: &Policy, b: &Policy) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for (s, first) in a.schemes.iter().enumerate() {
        let Some(first_reach) = Reach::of(&a.monitoring, first) else {
            continue;
        };
        for (o, second) in b.schemes.iter().enumerate() {
            if opposed(first.action, second.action)
                && Reach::of(&b.monitoring, second).is_some_and(|reach| reach.overlaps(&first_reach))
            {
                out.push((s, o));
            }
        }
    }
    out
}

/// The warning for scheme `o` of `later` undoing scheme `s` of `earlier`.
fn across_diagnostic(
    (earlier, a, s): (&FileOutcome, &Policy, usize),
    (later, b, o): (&FileOutcome, &Policy, usize),
    what: &str,
) -> Diagnostic {
    let (first, second) = (&a.schemes[s], &b.schemes[o]);
    let place = match action_span(earlier, s) {
        Some(span) => {
            let (line, column) = earlier.file.line_column(span.start);
            format!("{}:{line}:{column}", earlier.file.display_path())
        }
        None => earlier.file.display_path(),
    };
    Diagnostic::warning(
        Code::ContradictorySchemes,
        format!(
            "scheme `{}` ({}) undoes scheme `{}` ({}) of policy `{}` ({place}) on memory both match: both act on {what}, and the same regions flip between huge and normal pages",
            second.name,
            second.action.keyword(),
            first.name,
            first.action.keyword(),
            a.name
        ),
    )
    .label(format!("undoes `{}` of policy `{}`", first.action.keyword(), a.name))
    .help(HELP)
    .at(&later.file, action_span(later, o).or(Some(0..0)))
}

fn action_span(outcome: &FileOutcome, scheme: usize) -> Option<Span<usize>> {
    outcome.action_spans.get(scheme).cloned().flatten()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::super::tests::findings;
    use crate::kernel::Version;
    use crate::policy::source::SourceFile;
    use crate::validate::{check_across, validate_file};

    fn pair(first: &str, second: &str) -> String {
        format!(
            "[target]\nprocess = \"a\"\n[[scheme]]\naction = \"hugepage\"\n{first}\n[[scheme]]\naction = \"nohugepage\"\n{second}\n"
        )
    }

    #[test]
    fn hugepage_and_nohugepage_on_memory_both_match() {
        assert_eq!(findings(&pair("", "")), ["W:contradictory-schemes"]);
        assert_eq!(
            findings(&pair(
                "access_pattern.access_rate = { min = \"5%\" }",
                "access_pattern.access_rate = { max = \"10%\" }"
            )),
            ["W:contradictory-schemes"]
        );
        // Disjoint patterns, a filter, watermarks or observe mode keep them apart.
        assert!(
            findings(&pair(
                "access_pattern.access_rate = { min = \"5%\" }",
                "access_pattern.access_rate = { max = \"0%\" }"
            ))
            .is_empty()
        );
        assert!(findings(&pair("", "[[scheme.filter]]\ntype = \"target\"\ntarget = 0")).is_empty());
        assert!(
            findings(&pair(
                "",
                "watermarks = { high = \"60%\", mid = \"50%\", low = \"10%\" }"
            ))
            .is_empty()
        );
        assert!(findings(&format!("mode = \"observe\"\n{}", pair("", ""))).is_empty());
    }

    fn outcomes(files: &[(&str, &str)]) -> Vec<crate::validate::FileOutcome> {
        let mut outcomes: Vec<_> = files
            .iter()
            .map(|(name, text)| validate_file(Arc::new(SourceFile::new(*name, *text)), Version::NEWEST_KNOWN))
            .collect();
        check_across(&mut outcomes);
        outcomes
    }

    #[test]
    fn across_policies_of_the_same_processes() {
        let hot = "[target]\nprocess = \"db\"\n[[scheme]]\nname = \"hot\"\naction = \"hugepage\"\naccess_pattern.access_rate = { min = \"5%\" }\n";
        // 10 samples of 20 per aggregation interval are 50%, which the first policy matches.
        let cold = |target: &str| {
            format!(
                "[target]\n{target}\n[monitoring]\nsample_interval = \"5ms\"\naggregation_interval = \"100ms\"\n\
                 [[scheme]]\nname = \"cold\"\naction = \"nohugepage\"\naccess_pattern.access_rate = {{ max = \"10 samples\" }}\n"
            )
        };
        let found = outcomes(&[("a.toml", hot), ("b.toml", &cold("process = \"db\""))]);
        assert!(found[0].diagnostics.is_empty());
        let warning = &found[1].diagnostics[0];
        assert_eq!(warning.code, crate::diag::Code::ContradictorySchemes);
        assert_eq!(
            warning.message,
            "scheme `cold` (nohugepage) undoes scheme `hot` (hugepage) of policy `a` (a.toml:5:10) on memory both match: both act on the processes named `db`, and the same regions flip between huge and normal pages"
        );
        assert!(found[1].policy.is_some(), "a warning leaves the policy valid");
        // Other processes: nothing to undo.
        let apart = outcomes(&[("a.toml", hot), ("b.toml", &cold("process = \"web\""))]);
        assert!(apart[1].diagnostics.is_empty());
        // Pids shared: warned once, however many.
        let pids = |list: &str| format!("[target]\npids = {list}\n[[scheme]]\naction = \"hugepage\"\n");
        let shared = outcomes(&[("a.toml", &pids("[1, 2]")), ("b.toml", &cold("pids = [2, 1]"))]);
        assert_eq!(shared[1].diagnostics.len(), 1);
    }
}
