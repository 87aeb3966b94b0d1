//! What a recording monitors, chosen as policies choose it: processes by pid, by name or by
//! cgroup, physical memory, or a policy file's `[target]` and `[monitoring]` (its schemes
//! are not the recording's business), with monitoring options over either.
//!
//! There is no second path from options to a kdamond: the choice is written as the text of
//! a policy, one line per option, validated by the rules every policy meets
//! ([`crate::validate::validate_recording`]) for the running kernel and compiled like any
//! other. A finding on a line is reported with the option or the file that wrote the line.

use std::fmt::{self, Write as _};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use crate::compile::{self, Kdamond};
use crate::diag::Diagnostic;
use crate::host::HostPaths;
use crate::kernel::{Ops, Version};
use crate::policy::source::SourceFile;

/// What to monitor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetChoice {
    /// These processes (`--pid`, repeatable).
    Pids(Vec<u32>),
    /// Every process of this name (`--process`).
    Process(String),
    /// The processes of a cgroup v2 group (`--cgroup`).
    Cgroup(String),
    /// The largest System RAM range (`--physical`).
    Physical,
    /// The `[target]` and `[monitoring]` of a policy file.
    PolicyFile(PathBuf),
}

/// Monitoring options over the defaults or the policy file's `[monitoring]`, as the user
/// wrote them (durations in the policy language: `5ms`, `1s`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MonitoringOverrides {
    /// `--sample-interval`.
    pub sample_interval: Option<String>,
    /// `--aggregation-interval`.
    pub aggregation_interval: Option<String>,
    /// `--update-interval`.
    pub update_interval: Option<String>,
    /// `--regions MIN,MAX`.
    pub regions: Option<RegionBounds>,
}

/// `--regions MIN,MAX`: bounds of the number of monitoring regions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegionBounds {
    pub min: u64,
    pub max: u64,
}

/// A `--regions` value that is not `MIN,MAX`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not MIN,MAX: write two numbers of regions, e.g. `10,1000`")]
pub struct NotRegionBounds {
    pub text: String,
}

impl FromStr for RegionBounds {
    type Err = NotRegionBounds;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || NotRegionBounds { text: text.to_owned() };
        let (min, max) = text.split_once(',').ok_or_else(bad)?;
        Ok(RegionBounds {
            min: min.trim().parse().map_err(|_| bad())?,
            max: max.trim().parse().map_err(|_| bad())?,
        })
    }
}

/// What a recording monitors, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordTarget {
    pub choice: TargetChoice,
    pub overrides: MonitoringOverrides,
}

/// Why a recording's target or monitoring cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("{}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{}: not a policy file: {message}; `damo-policy check {}` shows where", path.display(), path.display())]
    Syntax { path: PathBuf, message: String },
    /// Findings of the rules, each with the option or file that wrote what it is about.
    /// `diagnostics` are the same findings, for rendering against the recording's policy text.
    #[error("{}", findings_text(findings))]
    Invalid {
        findings: Vec<Finding>,
        diagnostics: Vec<Diagnostic>,
    },
    /// The kernel has not registered the operations set the target needs.
    #[error("{what} needs the `{}` operations set, which this kernel has not registered (see `damo-policy kernel`)", ops.keyword())]
    Ops { what: String, ops: Ops },
    /// The target has no memory to monitor now.
    #[error("{what}: {reason}")]
    Unresolved { what: String, reason: String },
}

/// One error of the rules about a recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The option or file that wrote what the finding is about, e.g. `--sample-interval 0s`.
    pub origin: String,
    pub message: String,
    pub help: Option<String>,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.origin, self.message)?;
        match &self.help {
            Some(help) => write!(f, " ({help})"),
            None => Ok(()),
        }
    }
}

fn findings_text(findings: &[Finding]) -> String {
    findings.iter().map(Finding::to_string).collect::<Vec<_>>().join("\n")
}

/// The recording's kdamond, compiled, and the rules' warnings about it.
#[derive(Debug, Clone)]
pub struct CompiledTarget {
    pub kdamond: Kdamond,
    pub warnings: Vec<Diagnostic>,
}

impl RecordTarget {
    /// Validates the recording for `kernel` and resolves its target on `host`: one kdamond
    /// named `name` (its key in the state record), without schemes. `avail_ops`: the
    /// operations sets the kernel registered.
    pub fn compile(
        &self,
        name: &str,
        kernel: Version,
        avail_ops: &[Ops],
        host: &HostPaths,
    ) -> Result<CompiledTarget, TargetError> {
        let draft = self.draft()?;
        let source = Arc::new(SourceFile::new(draft.label.clone(), draft.text.clone()));
        let outcome = crate::validate::validate_recording(source, kernel);
        let (errors, warnings): (Vec<Diagnostic>, Vec<Diagnostic>) =
            outcome.diagnostics.into_iter().partition(Diagnostic::is_error);
        let mut policy = match outcome.policy {
            Some(policy) if errors.is_empty() => policy,
            _ => {
                let findings = errors.iter().map(|d| draft.finding(d)).collect();
                return Err(TargetError::Invalid {
                    findings,
                    diagnostics: errors,
                });
            }
        };
        let what = self.describe();
        if !avail_ops.contains(&policy.ops) {
            return Err(TargetError::Ops { what, ops: policy.ops });
        }
        policy.name = name.to_owned();
        policy.schemes.clear();
        let compiled = compile::compile(&[policy], kernel, host);
        if let Some(skipped) = compiled.skipped.into_iter().next() {
            return Err(TargetError::Unresolved {
                what,
                reason: skipped.reason,
            });
        }
        let kdamond = compiled
            .kdamonds
            .into_iter()
            .next()
            .ok_or_else(|| TargetError::Unresolved {
                what: what.clone(),
                reason: "nothing to monitor".into(),
            })?;
        // The kernel refuses a process that is not running only at `on`, and then says no
        // more than EINVAL.
        let gone: Vec<String> = kdamond
            .targets
            .iter()
            .filter_map(|t| t.pid)
            .filter(|pid| !host.is_running(*pid))
            .map(|pid| pid.to_string())
            .collect();
        if !gone.is_empty() {
            return Err(TargetError::Unresolved {
                what,
                reason: format!(
                    "process {} {} not running; record running processes only",
                    gone.join(", "),
                    if gone.len() == 1 { "is" } else { "are" }
                ),
            });
        }
        Ok(CompiledTarget { kdamond, warnings })
    }

    /// The target as the user chose it, for messages: `--pid 42`, `policy web.toml`.
    pub fn describe(&self) -> String {
        match &self.choice {
            TargetChoice::Pids(pids) => pids.iter().map(|p| format!("--pid {p}")).collect::<Vec<_>>().join(" "),
            TargetChoice::Process(name) => format!("--process {name}"),
            TargetChoice::Cgroup(path) => format!("--cgroup {path}"),
            TargetChoice::Physical => "--physical".to_owned(),
            TargetChoice::PolicyFile(path) => format!("the target of {}", path.display()),
        }
    }

    /// The recording as a policy's text, each line marked with what wrote it.
    fn draft(&self) -> Result<Draft, TargetError> {
        let (label, file_tables) = match &self.choice {
            TargetChoice::PolicyFile(path) => (format!("{} (as recorded)", path.display()), Some(read_tables(path)?)),
            _ => ("(record options)".to_owned(), None),
        };
        let mut draft = Draft {
            label,
            text: String::new(),
            origins: Vec::new(),
            options: Vec::new(),
        };
        draft.line("name = \"recording\"", None);
        let value = |v: toml::Value| v.to_string();
        match (&self.choice, &file_tables) {
            (TargetChoice::PolicyFile(path), Some(tables)) => {
                // The file's own `[target]`, whatever it holds: the rules judge it.
                let origin = format!("[target] of {}", path.display());
                let mut document = toml::Table::new();
                if let Some(target) = tables.get("target") {
                    document.insert("target".into(), target.clone());
                }
                let text = toml::to_string(&document).unwrap_or_default();
                for line in text.lines() {
                    draft.line(line, Some(&origin));
                }
            }
            (choice, _) => {
                let origin = self.describe();
                draft.line("[target]", Some(&origin));
                let line = match choice {
                    TargetChoice::Pids(pids) => format!(
                        "pids = {}",
                        value(toml::Value::Array(
                            pids.iter().map(|p| toml::Value::Integer(i64::from(*p))).collect()
                        ))
                    ),
                    TargetChoice::Process(name) => format!("process = {}", value(name.clone().into())),
                    TargetChoice::Cgroup(path) => format!("cgroup = {}", value(path.clone().into())),
                    _ => "physical = true".to_owned(),
                };
                draft.line(&line, Some(&origin));
            }
        }
        // `[monitoring]`: the file's keys, then the options over them.
        let from_file: toml::Table = file_tables
            .as_ref()
            .and_then(|t| t.get("monitoring"))
            .and_then(|m| m.as_table())
            .cloned()
            .unwrap_or_default();
        let file_origin = match &self.choice {
            TargetChoice::PolicyFile(path) => format!("[monitoring] of {}", path.display()),
            _ => String::new(),
        };
        let o = &self.overrides;
        let options: Vec<(&str, String, toml::Value)> = [
            ("sample_interval", "--sample-interval", &o.sample_interval),
            (
                "aggregation_interval",
                "--aggregation-interval",
                &o.aggregation_interval,
            ),
            ("update_interval", "--update-interval", &o.update_interval),
        ]
        .into_iter()
        .filter_map(|(key, option, v)| {
            let v = v.as_ref()?;
            Some((key, format!("{option} {v}"), toml::Value::String(v.clone())))
        })
        .chain(o.regions.map(|r| {
            let mut bounds = toml::Table::new();
            bounds.insert("min".into(), integer(r.min));
            bounds.insert("max".into(), integer(r.max));
            (
                "regions",
                format!("--regions {},{}", r.min, r.max),
                toml::Value::Table(bounds),
            )
        }))
        .collect();
        if !from_file.is_empty() || !options.is_empty() {
            draft.line("[monitoring]", None);
        }
        for (key, v) in &from_file {
            if !options.iter().any(|(k, _, _)| k == key) {
                draft.line(&format!("{} = {}", toml_key(key), value(v.clone())), Some(&file_origin));
            }
        }
        for (key, origin, v) in options {
            draft.line(&format!("{key} = {}", value(v)), Some(&origin));
        }
        draft.options = self.option_names();
        Ok(draft)
    }

    /// The monitoring options given, as the user wrote them.
    fn option_names(&self) -> Vec<String> {
        let o = &self.overrides;
        [
            ("--sample-interval", &o.sample_interval),
            ("--aggregation-interval", &o.aggregation_interval),
            ("--update-interval", &o.update_interval),
        ]
        .into_iter()
        .filter_map(|(option, v)| Some(format!("{option} {}", v.as_ref()?)))
        .chain(o.regions.map(|r| format!("--regions {},{}", r.min, r.max)))
        .collect()
    }
}

fn integer(n: u64) -> toml::Value {
    // Beyond i64 TOML has no integer; the rules refuse such a count anyway.
    toml::Value::Integer(i64::try_from(n).unwrap_or(i64::MAX))
}

/// A key as TOML writes it: bare when it can be, quoted otherwise.
fn toml_key(key: &str) -> String {
    if !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        key.to_owned()
    } else {
        toml::Value::String(key.to_owned()).to_string()
    }
}

fn read_tables(path: &Path) -> Result<toml::Table, TargetError> {
    let text = std::fs::read_to_string(path).map_err(|source| TargetError::Read {
        path: path.to_owned(),
        source,
    })?;
    text.parse::<toml::Table>().map_err(|e| TargetError::Syntax {
        path: path.to_owned(),
        message: e.message().to_owned(),
    })
}

/// A recording's policy text and what wrote each of its lines.
struct Draft {
    label: String,
    text: String,
    /// Byte ranges of lines and the option or file that wrote them.
    origins: Vec<(Range<usize>, String)>,
    /// Every monitoring option given, for findings about no line in particular.
    options: Vec<String>,
}

impl Draft {
    fn line(&mut self, line: &str, origin: Option<&str>) {
        let start = self.text.len();
        let _ = writeln!(self.text, "{line}");
        if let Some(origin) = origin.filter(|o| !o.is_empty()) {
            self.origins.push((start..self.text.len(), origin.to_owned()));
        }
    }

    /// The finding, with the option or file of the line it is about; one about no line (a
    /// key the recording left to its default) names the monitoring options given.
    fn finding(&self, diagnostic: &Diagnostic) -> Finding {
        let at = diagnostic.span.as_ref().map(|s| s.start);
        let origin = at
            .and_then(|at| self.origins.iter().find(|(range, _)| range.contains(&at)))
            .map(|(_, origin)| origin.clone())
            .unwrap_or_else(|| match self.options.as_slice() {
                [] => "the recording".to_owned(),
                options => options.join(" "),
            });
        Finding {
            origin,
            message: diagnostic.message.clone(),
            help: diagnostic.help.clone(),
        }
    }
}

#[cfg(test)]
mod tests;
