//! Readers of what a scenario reported: numbers, policies, ops and effects of the `plan` and
//! `status` JSON documents, kdamonds summaries, and facts of the guest's kernel that several
//! scenarios depend on. Each reader fails the test, naming what it looked for, when the
//! report lacks it.

use crate::harness::VmRun;
use std::collections::BTreeMap;

/// `major.minor` of a release string (`6.12.117+deb12-amd64` → `6.12`).
pub fn version_of(run: &VmRun) -> String {
    run.release.split('.').take(2).collect::<Vec<_>>().join(".")
}

/// Whether the kernel started with damon_stat enabled (Debian 7.x does).
pub fn damon_stat_enabled(run: &VmRun) -> bool {
    run.passed("probe").field("damon_stat") == "Y"
}

/// A number the guest reported, as a JSON number or a string of digits (sysfs values).
pub fn int(run: &VmRun, value: &serde_json::Value, what: &str) -> u64 {
    let parsed = match value {
        serde_json::Value::String(s) => s.parse().ok(),
        serde_json::Value::Number(n) => n.as_u64(),
        _ => None,
    };
    parsed.unwrap_or_else(|| run.fail(&format!("{what} is not a number: {value}")))
}

/// The policy named `name` of a `status --format json` document.
pub fn policy<'a>(run: &VmRun, status: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    status["policies"]
        .as_array()
        .and_then(|all| all.iter().find(|p| p["policy"] == name))
        .unwrap_or_else(|| run.fail(&format!("no policy {name} in status {status}")))
}

/// `(path, old, new)` of every op of a `plan --format json` document.
pub fn ops(plan: &serde_json::Value) -> Vec<(String, Option<String>, String)> {
    plan["ops"]
        .as_array()
        .map(|ops| {
            ops.iter()
                .map(|op| {
                    let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
                    (
                        text(&op["path"]).unwrap_or_default(),
                        text(&op["old"]),
                        text(&op["new"]).unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The effect the plan gives `policy`'s kdamond.
pub fn effect<'a>(run: &VmRun, plan: &'a serde_json::Value, policy: &str) -> &'a str {
    plan["kdamonds"]
        .as_array()
        .and_then(|all| all.iter().find(|k| k["policy"] == policy))
        .and_then(|k| k["effect"].as_str())
        .unwrap_or_else(|| run.fail(&format!("no kdamond for {policy} in plan {plan}")))
}

/// `slot:state:pid` words of a kdamonds summary, by slot.
pub fn kdamonds(summary: &str) -> BTreeMap<String, (String, String)> {
    summary
        .split_whitespace()
        .filter_map(|word| {
            let mut parts = word.split(':');
            Some((
                parts.next()?.to_owned(),
                (parts.next()?.to_owned(), parts.next()?.to_owned()),
            ))
        })
        .collect()
}
