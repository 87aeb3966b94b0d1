//! Writes a policy (the wire model) as a reviewable policy file: the `#:schema` line, a
//! header comment, one key per line in the order of the examples in `policies/`, access
//! patterns and weights as one-line inline tables, and comments above each scheme. Used
//! for every policy damo-policy generates, so translated and imported files read alike.

use std::fmt::Write as _;

use crate::model::wire::{
    Filter, Goal, Monitoring, Physical, PolicyFile, Quota, RangeOf, Raw, Region, Scheme, Target, Watermarks,
};

/// Where generated files point editors for the schema, as the examples in `policies/` do.
pub const SCHEMA_COMMENT: &str = "#:schema ../schema/damo-policy.schema.json";

/// Comments to place in a generated file.
#[derive(Debug, Clone, Default)]
pub struct Comments {
    /// Lines at the top, after the `#:schema` line.
    pub header: Vec<String>,
    /// Lines above `[target]`.
    pub target: Vec<String>,
    /// Lines above `[monitoring]`.
    pub monitoring: Vec<String>,
    /// Lines above each `[[scheme]]`, by scheme index.
    pub schemes: Vec<Vec<String>>,
}

/// The policy file text.
pub fn policy_text(policy: &PolicyFile, comments: &Comments) -> String {
    policy_text_with_schemes(policy, comments).0
}

/// The policy file text, and where each `[[scheme]]` starts in it (by scheme index), so
/// that a finding on the text can be traced to its scheme without parsing the whole text.
pub fn policy_text_with_schemes(policy: &PolicyFile, comments: &Comments) -> (String, Vec<usize>) {
    let mut out = String::new();
    let mut starts = Vec::with_capacity(policy.scheme.len());
    out.push_str(SCHEMA_COMMENT);
    out.push('\n');
    comment_lines(&mut out, &comments.header);
    out.push('\n');
    let top = [
        ("name", policy.name.as_deref().map(quote)),
        ("description", policy.description.as_deref().map(quote)),
        ("enabled", policy.enabled.map(|e| e.to_string())),
        ("mode", policy.mode.map(|m| quote(m.keyword()))),
    ];
    if top.iter().any(|(_, v)| v.is_some()) {
        keys(&mut out, &top);
        out.push('\n');
    }
    comment_lines(&mut out, &comments.target);
    target(&mut out, &policy.target);
    if let Some(monitoring) = &policy.monitoring {
        out.push('\n');
        comment_lines(&mut out, &comments.monitoring);
        self::monitoring(&mut out, monitoring);
    }
    for (i, scheme) in policy.scheme.iter().enumerate() {
        out.push('\n');
        comment_lines(&mut out, comments.schemes.get(i).map_or(&[][..], Vec::as_slice));
        starts.push(out.len());
        self::scheme(&mut out, scheme);
    }
    (out, starts)
}

/// Comment lines, wrapped at word boundaries to keep the file readable; a line that is
/// damo's own text (`damo: …`) is kept whole.
fn comment_lines(out: &mut String, lines: &[String]) {
    const WIDTH: usize = 92;
    for line in lines {
        let mut current = String::new();
        for word in line.split(' ') {
            if !current.is_empty() && current.len() + 1 + word.len() > WIDTH && !line.starts_with("damo: ") {
                let _ = writeln!(out, "# {}", printable(&current));
                current.clear();
            }
            if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(word);
        }
        let _ = writeln!(
            out,
            "#{}{}",
            if current.is_empty() { "" } else { " " },
            printable(&current)
        );
    }
}

/// TOML comments hold no control characters but tab: show others escaped (`\u{c}`).
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() && c != '\t' {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// A TOML basic string (JSON's escapes are all valid TOML escapes).
pub fn quote(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".into())
}

fn raw(value: &Raw) -> String {
    match value {
        // TOML integers stop at 2^63 - 1; the schema takes larger values as strings.
        Raw::Int(n) if i64::try_from(*n).is_err() => quote(&n.to_string()),
        Raw::Int(n) => n.to_string(),
        Raw::Text(text) => quote(text),
    }
}

fn keys(out: &mut String, pairs: &[(&str, Option<String>)]) {
    for (key, value) in pairs {
        if let Some(value) = value {
            let _ = writeln!(out, "{key} = {value}");
        }
    }
}

/// `{ a = 1, b = "x" }` of the present pairs, or `None` if none is.
fn inline(pairs: &[(&str, Option<String>)]) -> Option<String> {
    let items: Vec<String> = pairs
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k} = {v}")))
        .collect();
    (!items.is_empty()).then(|| format!("{{ {} }}", items.join(", ")))
}

fn regions(list: &[Region]) -> String {
    let items: Vec<String> = list
        .iter()
        .map(|r| format!("{{ start = {}, end = {} }}", raw(&r.start.0), raw(&r.end.0)))
        .collect();
    format!("[{}]", items.join(", "))
}

fn target(out: &mut String, target: &Target) {
    out.push_str("[target]\n");
    let physical = target.physical.as_ref().map(|p| match p {
        Physical::Whole(whole) => whole.to_string(),
        Physical::Select(select) => inline(&[
            ("numa_node", select.numa_node.map(|n| n.to_string())),
            ("regions", select.regions.as_deref().map(regions)),
        ])
        .unwrap_or_else(|| "{}".into()),
    });
    keys(
        out,
        &[
            ("pids", target.pids.as_ref().map(|p| format!("{p:?}"))),
            ("process", target.process.as_deref().map(quote)),
            ("cgroup", target.cgroup.as_deref().map(quote)),
            ("physical", physical),
            ("regions", target.regions.as_deref().map(regions)),
            ("ops", target.ops.map(|o| quote(o.keyword()))),
        ],
    );
}

fn monitoring(out: &mut String, m: &Monitoring) {
    out.push_str("[monitoring]\n");
    keys(
        out,
        &[
            ("sample_interval", m.sample_interval.as_ref().map(|d| quote(&d.0))),
            (
                "aggregation_interval",
                m.aggregation_interval.as_ref().map(|d| quote(&d.0)),
            ),
            ("update_interval", m.update_interval.as_ref().map(|d| quote(&d.0))),
            (
                "regions",
                m.regions.as_ref().and_then(|r| {
                    inline(&[
                        ("min", r.min.map(|n| n.to_string())),
                        ("max", r.max.map(|n| n.to_string())),
                    ])
                }),
            ),
            (
                "autotune",
                m.autotune.as_ref().and_then(|a| {
                    inline(&[
                        ("access", Some(quote(&a.access.0))),
                        ("aggregations", a.aggregations.map(|n| n.to_string())),
                        (
                            "min_sample_interval",
                            a.min_sample_interval.as_ref().map(|d| quote(&d.0)),
                        ),
                        (
                            "max_sample_interval",
                            a.max_sample_interval.as_ref().map(|d| quote(&d.0)),
                        ),
                    ])
                }),
            ),
        ],
    );
}

fn range<T>(range: Option<&RangeOf<T>>, text: impl Fn(&T) -> String) -> Option<String> {
    let range = range?;
    inline(&[
        ("min", range.min.as_ref().map(&text)),
        ("max", range.max.as_ref().map(&text)),
    ])
}

fn scheme(out: &mut String, s: &Scheme) {
    out.push_str("[[scheme]]\n");
    let pattern = s.access_pattern.clone().unwrap_or_default();
    let destinations = s.destinations.as_ref().map(|list| {
        let items: Vec<String> = list
            .iter()
            .map(|d| {
                inline(&[
                    ("node", Some(d.node.to_string())),
                    ("weight", d.weight.map(|w| w.to_string())),
                ])
                .unwrap_or_default()
            })
            .collect();
        format!("[{}]", items.join(", "))
    });
    keys(
        out,
        &[
            ("name", s.name.as_deref().map(quote)),
            ("action", Some(quote(s.action.keyword()))),
            ("access_pattern.size", range(pattern.size.as_ref(), |v| raw(&v.0))),
            (
                "access_pattern.access_rate",
                range(pattern.access_rate.as_ref(), |v| quote(&v.0)),
            ),
            ("access_pattern.age", range(pattern.age.as_ref(), |v| quote(&v.0))),
            ("apply_interval", s.apply_interval.as_ref().map(|d| quote(&d.0))),
            ("target_node", s.target_node.map(|n| n.to_string())),
            ("destinations", destinations),
        ],
    );
    if let Some(q) = &s.quota {
        quota(out, q);
    }
    if let Some(w) = &s.watermarks {
        watermarks(out, w);
    }
    for f in &s.filter {
        filter(out, f);
    }
}

fn quota(out: &mut String, q: &Quota) {
    out.push_str("\n[scheme.quota]\n");
    let weights = q.weights.as_ref().and_then(|w| {
        inline(&[
            ("size", w.size.map(|n| n.to_string())),
            ("access_rate", w.access_rate.map(|n| n.to_string())),
            ("age", w.age.map(|n| n.to_string())),
        ])
    });
    let goals = (!q.goals.is_empty()).then(|| {
        let items: Vec<String> = q.goals.iter().map(goal).collect();
        format!("[\n    {},\n]", items.join(",\n    "))
    });
    keys(
        out,
        &[
            ("time", q.time.as_ref().map(|d| quote(&d.0))),
            ("size", q.size.as_ref().map(|s| raw(&s.0))),
            ("reset_interval", q.reset_interval.as_ref().map(|d| quote(&d.0))),
            ("weights", weights),
            ("goals", goals),
            ("goal_tuner", q.goal_tuner.map(|t| quote(t.keyword()))),
        ],
    );
}

fn goal(g: &Goal) -> String {
    inline(&[
        ("metric", Some(quote(g.metric.keyword()))),
        ("target", Some(raw(&g.target.0))),
        ("node", g.node.map(|n| n.to_string())),
        ("cgroup", g.cgroup.as_deref().map(quote)),
    ])
    .unwrap_or_default()
}

fn watermarks(out: &mut String, w: &Watermarks) {
    out.push_str("\n[scheme.watermarks]\n");
    keys(
        out,
        &[
            ("metric", w.metric.map(|m| quote(m.keyword()))),
            ("interval", w.interval.as_ref().map(|d| quote(&d.0))),
            ("high", Some(quote(&w.high.0))),
            ("mid", Some(quote(&w.mid.0))),
            ("low", Some(quote(&w.low.0))),
        ],
    );
}

fn filter(out: &mut String, f: &Filter) {
    out.push_str("\n[[scheme.filter]]\n");
    keys(
        out,
        &[
            ("type", Some(quote(f.kind.keyword()))),
            ("matching", f.matching.map(|b| b.to_string())),
            ("allow", f.allow.map(|b| b.to_string())),
            ("cgroup", f.cgroup.as_deref().map(quote)),
            ("start", f.start.as_ref().map(|a| raw(&a.0))),
            ("end", f.end.as_ref().map(|a| raw(&a.0))),
            ("target", f.target.map(|t| t.to_string())),
            ("min", f.min.as_ref().map(|s| raw(&s.0))),
            ("max", f.max.as_ref().map(|s| raw(&s.0))),
        ],
    );
}
