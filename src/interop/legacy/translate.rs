//! A legacy one-line scheme file → one policy file.
//!
//! Each scheme line becomes a `[[scheme]]` (through [`crate::interop::scheme::to_wire`]) with the
//! line kept as a comment above it; monitoring is written with damo's default intervals,
//! which the percent and time thresholds were converted with. The generated text is then
//! validated like any policy, and every finding is moved back onto the field of the
//! legacy line it came from, so the user sees `file:line:column` of their own input.

use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use crate::diag::{Code, Diagnostic};
use crate::kernel::Version;
use crate::model::wire::{Duration, Monitoring, Physical, PolicyFile, RegionCount, Target};
use crate::policy::load::MAX_FILE_BYTES;
use crate::policy::source::{self, SourceFile};
use crate::validate;

use crate::interop::emit::{self, Comments};
use crate::interop::legacy::parse::{self as legacy, LegacyScheme};
use crate::interop::legacy::rounding;
use crate::interop::scheme;

/// What the translated policy monitors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetChoice {
    Pids(Vec<u32>),
    Process(String),
    /// Physical memory; `chosen` is false when no target was given.
    Physical {
        chosen: bool,
    },
}

#[derive(Debug, Clone)]
pub struct Options {
    pub target: TargetChoice,
    pub name: Option<String>,
    /// The kernel the result is checked for.
    pub kernel: Version,
    /// Where the policy will be written (its file name is the policy's default name).
    pub output: PathBuf,
}

/// The policy text, when there are no errors, and every finding.
pub struct Translation {
    pub text: Option<String>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Translates the legacy schemes of `input`.
pub fn translate(input: &Arc<SourceFile>, options: &Options) -> Translation {
    let input = &as_damo_reads(input);
    let (schemes, mut diagnostics) = legacy::parse(input);
    if diagnostics.iter().any(Diagnostic::is_error) {
        return Translation {
            text: None,
            diagnostics,
        };
    }
    // Each scheme adds at least its line (the comment) and a header to the policy: when
    // those alone pass the cap, only the schemes up to there are translated, enough to
    // find where the policy passes it, and the rest cost no memory.
    let mut least_bytes = 0;
    let within = schemes
        .iter()
        .take_while(|s| {
            least_bytes += s.line.span.len() + LEAST_SCHEME_BYTES;
            least_bytes as u64 <= MAX_FILE_BYTES
        })
        .count();
    let translated = &schemes[..schemes.len().min(within + 1)];
    let (policy, comments, notes) = policy(input, translated, options);
    let (text, starts) = emit::policy_text_with_schemes(&policy, &comments);
    drop((policy, comments));
    for (i, note) in notes {
        let span = schemes[i]
            .roles
            .iter()
            .zip(&schemes[i].line.fields)
            .find(|(role, _)| role.key().starts_with(note.key))
            .map_or_else(|| schemes[i].line.span.clone(), |(_, field)| field.span.clone());
        diagnostics.push(
            Diagnostic::warning(Code::TranslateNote, note.text)
                .label("here")
                .at(input, Some(span)),
        );
    }
    diagnostics.extend(rounding_warnings(input, &schemes));
    let checked = if text.len() as u64 > MAX_FILE_BYTES {
        vec![too_large(
            input,
            &schemes,
            &starts,
            text.len(),
            translated.len() < schemes.len(),
        )]
    } else {
        let checked = validate::validate_file(Arc::new(SourceFile::new(&options.output, text.clone())), options.kernel);
        let origins = Origins {
            text: &text,
            starts: &starts,
            schemes: &schemes,
        };
        checked
            .diagnostics
            .into_iter()
            .map(|d| origins.relocate(d, input))
            .collect()
    };
    diagnostics.extend(checked);
    diagnostics.sort_by_key(|d| (d.span.as_ref().map_or(0, |s| s.start), !d.is_error()));
    let ok = !diagnostics.iter().any(Diagnostic::is_error);
    Translation {
        text: ok.then_some(text),
        diagnostics,
    }
}

/// The input as damo reads it: damo opens the file in Python's text mode, whose universal
/// newlines make `\r\n` and a lone `\r` line ends like `\n`, and then splits on `\n`. A
/// file with old Mac line ends is thus many schemes to damo, not one line of many fields.
fn as_damo_reads(input: &Arc<SourceFile>) -> Arc<SourceFile> {
    if !input.text.contains('\r') {
        return Arc::clone(input);
    }
    let text = input.text.replace("\r\n", "\n").replace('\r', "\n");
    Arc::new(SourceFile::new(input.path.clone(), text))
}

/// A warning on each field whose value damo's float arithmetic would have rounded: the
/// translation keeps the exact value, damo's differs.
fn rounding_warnings(input: &Arc<SourceFile>, schemes: &[LegacyScheme]) -> Vec<Diagnostic> {
    let mut warnings = Vec::new();
    for legacy in schemes {
        for (role, field) in legacy.roles.iter().zip(&legacy.line.fields) {
            let Some(r) = rounding::rounded(*role, &field.text, &legacy.scheme) else {
                continue;
            };
            warnings.push(
                Diagnostic::warning(
                    Code::TranslateNote,
                    format!(
                        "damo computes `{}` in floating point and writes {} {}; the policy keeps the exact value, {} {}",
                        field.text, r.damo, r.unit, r.exact, r.unit
                    ),
                )
                .label(format!("damo: {}, policy: {}", r.damo, r.exact))
                .help(format!(
                    "the translation means what the line says; to keep damo's behaviour instead, edit the {} in the policy",
                    role.name()
                ))
                .at(input, Some(field.span.clone())),
            );
        }
    }
    warnings
}

/// The refusal of a translation larger than a policy file may be: `check` and `apply` would
/// refuse to read it. Located at the first scheme that does not fit.
/// The fewest bytes a scheme adds to the policy besides its line: `\n# damo: `, `\n`,
/// `[[scheme]]\n` and `action = "stat"\n`.
const LEAST_SCHEME_BYTES: usize = 33;

/// `starts` and `len` are those of the text of the first schemes, all of them unless
/// `partial`.
fn too_large(
    input: &Arc<SourceFile>,
    schemes: &[LegacyScheme],
    starts: &[usize],
    len: usize,
    partial: bool,
) -> Diagnostic {
    let cap = usize::try_from(MAX_FILE_BYTES).unwrap_or(usize::MAX);
    let ends = starts.iter().skip(1).copied().chain(std::iter::once(len));
    let fitting = ends.take_while(|end| *end <= cap).count();
    let span = schemes.get(fitting).map(|s| s.line.span.clone());
    Diagnostic::error(
        Code::FileTooLarge,
        format!(
            "the translated policy would be {}{:.1} MiB ({} schemes), larger than the {} MiB a policy file may be",
            if partial { "over " } else { "" },
            len as f64 / f64::from(1 << 20),
            schemes.len(),
            MAX_FILE_BYTES >> 20
        ),
    )
    .label(format!("the policy passes {} MiB with this scheme", MAX_FILE_BYTES >> 20))
    .help(format!(
        "`check`, `compile` and `apply` refuse larger policy files: split the input into files of at most {} schemes and translate each into its own policy",
        fitting.max(1)
    ))
    .at(input, span)
}

type SchemeNote = (usize, scheme::Note);

fn policy(input: &SourceFile, schemes: &[LegacyScheme], options: &Options) -> (PolicyFile, Comments, Vec<SchemeNote>) {
    let mut comments = Comments {
        header: vec![
            format!(
                "Translated by `damo-policy translate` from damo's one-line schemes in {}.",
                input.display_path()
            ),
            "Each scheme keeps its original line as a comment above it.".into(),
        ],
        ..Comments::default()
    };
    let mut target = Target {
        pids: None,
        process: None,
        cgroup: None,
        physical: None,
        regions: None,
        ops: None,
    };
    match &options.target {
        TargetChoice::Pids(pids) => target.pids = Some(pids.clone()),
        TargetChoice::Process(name) => target.process = Some(name.clone()),
        TargetChoice::Physical { chosen } => {
            target.physical = Some(Physical::Whole(true));
            if !chosen {
                comments.target.push(
                    "No target was given (--pid, --process or --physical): physical memory, as damo monitors without one.".into(),
                );
            }
        }
    }
    comments
        .monitoring
        .push("damo's default monitoring, written out: the access rates (percent) and ages".into());
    comments
        .monitoring
        .push("of the schemes become samples and aggregation intervals with these intervals.".into());
    let mut notes = Vec::new();
    let mut wire_schemes = Vec::new();
    for (i, legacy) in schemes.iter().enumerate() {
        let (wire, scheme_notes) = scheme::to_wire(&legacy.scheme);
        let mut lines = vec![format!("damo: {}", input.text[legacy.line.span.clone()].trim())];
        for note in scheme_notes {
            lines.push(note.text.clone());
            if note.warning {
                notes.push((i, note));
            }
        }
        comments.schemes.push(lines);
        wire_schemes.push(wire);
    }
    let policy = PolicyFile {
        name: options.name.clone(),
        description: Some(format!(
            "damo schemes translated from {}",
            input
                .path
                .file_name()
                .map_or_else(|| input.display_path(), |n| n.to_string_lossy().into_owned())
        )),
        enabled: None,
        mode: None,
        target,
        monitoring: Some(Monitoring {
            sample_interval: Some(Duration("5ms".into())),
            aggregation_interval: Some(Duration("100ms".into())),
            update_interval: Some(Duration("1s".into())),
            regions: Some(RegionCount {
                min: Some(10),
                max: Some(1000),
            }),
            autotune: None,
        }),
        scheme: wire_schemes,
    };
    (policy, comments, notes)
}

/// Maps spans of the generated policy back to the legacy fields they came from. Only
/// findings need this, so each is traced on its own, through its scheme's part of the text:
/// linear in the findings, whatever the number of schemes.
struct Origins<'t> {
    text: &'t str,
    /// Where each scheme's `[[scheme]]` starts in `text`.
    starts: &'t [usize],
    schemes: &'t [LegacyScheme],
}

impl Origins<'_> {
    /// The span of the legacy line or field that the generated text at `at` came from.
    fn legacy_span(&self, at: usize) -> Option<Range<usize>> {
        let i = self.starts.partition_point(|start| *start <= at).checked_sub(1)?;
        let legacy = self.schemes.get(i)?;
        let start = self.starts[i];
        let end = self.starts.get(i + 1).copied().unwrap_or(self.text.len());
        // (span in the policy, span in the legacy file), narrowest first.
        let mut pairs = vec![(start..end, legacy.line.span.clone())];
        if let Ok(parsed) = source::parse(&self.text[start..end]) {
            let base = crate::key_path!["scheme", 0];
            for (role, field) in legacy.roles.iter().zip(&legacy.line.fields) {
                for depth in 1..=role.key().len() {
                    let prefix = &role.key()[..depth];
                    let path = prefix.iter().fold(base.clone(), |p, k| p.join(*k));
                    if !parsed.index.contains(&path) {
                        continue;
                    }
                    // A group (a table or inline table) maps to all the fields inside it.
                    let legacy_span = legacy
                        .roles
                        .iter()
                        .zip(&legacy.line.fields)
                        .filter(|(r, _)| r.key().starts_with(prefix))
                        .fold(field.span.clone(), |s, (_, f)| {
                            s.start.min(f.span.start)..s.end.max(f.span.end)
                        });
                    for generated in [parsed.index.value(&path), parsed.index.key(&path)]
                        .into_iter()
                        .flatten()
                    {
                        pairs.push((start + generated.start..start + generated.end, legacy_span.clone()));
                    }
                }
            }
        }
        pairs.sort_by_key(|(generated, _)| generated.len());
        pairs
            .into_iter()
            .find(|(g, _)| g.contains(&at) || g.start == at)
            .map(|(_, l)| l)
    }

    /// The diagnostic, located in the legacy file.
    fn relocate(&self, diagnostic: Diagnostic, input: &Arc<SourceFile>) -> Diagnostic {
        let legacy = diagnostic.span.as_ref().and_then(|s| self.legacy_span(s.start));
        let help = match diagnostic.code {
            Code::ActionOps if diagnostic.message.contains("`paddr`") => {
                Some("translate for processes: `--pid PID` or `--process NAME`".to_owned())
            }
            Code::ActionOps => Some("translate for physical memory: `--physical`".to_owned()),
            Code::MigrateDestination => Some(
                "the one-line format cannot name a destination node; translate the other schemes and add this one by hand with `target_node = N`".to_owned(),
            ),
            _ => diagnostic.help.clone(),
        };
        Diagnostic {
            file: None,
            span: None,
            related: Vec::new(),
            help,
            ..diagnostic
        }
        .at(input, legacy)
    }
}
