//! Diagnostics: one error or warning about a policy file, located by byte span, and its two
//! renderings — miette's graphical report for people and a flat JSON object for CI bots and
//! editors. Every stage produces [`Diagnostic`]s and nothing else prints them.

use std::fmt;
use std::io::{self, Write};
use std::ops::Range;
use std::sync::Arc;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, SourceCode};
use serde::Serialize;

use crate::policy::source::SourceFile;

pub mod cap;
mod code;
mod lines;
mod snippet;
pub use code::Code;
pub use lines::LineIndex;
use snippet::Snippet;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// One finding about one file (or about a directory, with no span).
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Stable identifier of the rule, e.g. `range-order`.
    pub code: Code,
    pub message: String,
    /// What to do about it.
    pub help: Option<String>,
    pub file: Option<Arc<SourceFile>>,
    pub span: Option<Range<usize>>,
    /// Text under the span.
    pub label: Option<String>,
    /// Secondary spans in the same file, e.g. the first definition of a duplicate name.
    pub related: Vec<(Range<usize>, String)>,
}

impl Diagnostic {
    pub fn error(code: Code, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            code,
            message: message.into(),
            help: None,
            file: None,
            span: None,
            label: None,
            related: Vec::new(),
        }
    }

    pub fn warning(code: Code, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(code, message)
        }
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn at(mut self, file: &Arc<SourceFile>, span: Option<Range<usize>>) -> Self {
        self.file = Some(Arc::clone(file));
        self.span = span;
        self
    }

    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// 1-based line and column (in characters) of the start of the span.
    pub fn line_column(&self) -> Option<(usize, usize)> {
        let file = self.file.as_ref()?;
        let start = self.span.as_ref()?.start.min(file.text.len());
        Some(file.line_column(start))
    }

    /// The diagnostic as a flat JSON object.
    pub fn to_json(&self) -> JsonDiagnostic<'_> {
        let (line, column) = self.line_column().unzip();
        JsonDiagnostic {
            file: self.file.as_ref().map(|f| f.display_path()),
            line,
            column,
            severity: self.severity,
            code: self.code.as_str(),
            message: &self.message,
            help: self.help.as_deref(),
        }
    }
}

/// The machine-readable form of a diagnostic (`--format json`).
#[derive(Debug, Serialize)]
pub struct JsonDiagnostic<'a> {
    pub file: Option<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub severity: Severity,
    pub code: &'static str,
    pub message: &'a str,
    pub help: Option<&'a str>,
}

/// Renders diagnostics with miette's graphical handler.
pub struct Renderer {
    handler: GraphicalReportHandler,
}

impl Renderer {
    /// `color` for a terminal; tests and logs use plain text at a fixed width.
    pub fn new(color: bool, width: usize) -> Self {
        let theme = if color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        Self {
            // miette's own `file:line:column` header counts columns in bytes; the header is
            // written into the source name instead ([`Report::new`]), in characters as
            // `--format json` and editors count them.
            handler: GraphicalReportHandler::new_themed(theme)
                .with_width(width)
                .with_links(false)
                .without_primary_span_start(),
        }
    }

    /// Writes the findings that are shown ([`cap`]), each rendered, then a note for each
    /// file with more.
    pub fn write_all<'a>(
        &self,
        out: &mut impl Write,
        diagnostics: impl IntoIterator<Item = &'a Diagnostic>,
    ) -> io::Result<()> {
        let selection = cap::select(diagnostics);
        for diagnostic in selection.shown {
            write!(out, "{}", self.render(diagnostic))?;
        }
        for hidden in &selection.not_shown {
            writeln!(out, "{}", hidden.note())?;
        }
        Ok(())
    }

    pub fn render(&self, diagnostic: &Diagnostic) -> String {
        let mut out = String::new();
        let report = Report::new(diagnostic);
        if self.handler.render_report(&mut out, &report).is_err() {
            out = format!("{}: {}\n", diagnostic.code, diagnostic.message);
        }
        out
    }
}

/// Adapter from [`Diagnostic`] to miette's trait.
struct Report<'a> {
    diagnostic: &'a Diagnostic,
    source: Option<Snippet>,
}

impl<'a> Report<'a> {
    fn new(diagnostic: &'a Diagnostic) -> Self {
        let source = diagnostic
            .file
            .as_ref()
            .filter(|f| diagnostic.span.as_ref().is_some_and(|s| snippet::fits(f, s.start)))
            .map(|f| {
                let name = match diagnostic.line_column() {
                    Some((line, column)) => format!("{}:{line}:{column}", f.display_path()),
                    None => f.display_path(),
                };
                Snippet::new(name, Arc::clone(f))
            });
        Self { diagnostic, source }
    }
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diagnostic.message)
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // With a snippet, its header names `file:line:column`; without one, the location
        // must be in the message itself.
        match (&self.diagnostic.file, self.diagnostic.line_column(), &self.source) {
            (Some(_), Some(_), Some(_)) | (None, _, _) => f.write_str(&self.diagnostic.message),
            (Some(file), Some((line, column)), None) => {
                write!(
                    f,
                    "{}:{line}:{column}: {}",
                    file.display_path(),
                    self.diagnostic.message
                )
            }
            (Some(file), None, _) => write!(f, "{}: {}", file.display_path(), self.diagnostic.message),
        }
    }
}

impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        let severity = match self.diagnostic.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        Some(Box::new(format!("{severity}[{}]", self.diagnostic.code)))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diagnostic.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.diagnostic
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.source.as_ref()?;
        let span = self.diagnostic.span.clone()?;
        let primary = LabeledSpan::new_primary_with_span(self.diagnostic.label.clone(), span);
        let related = self
            .diagnostic
            .related
            .iter()
            .map(|(span, text)| LabeledSpan::new_with_span(Some(text.clone()), span.clone()));
        Some(Box::new(std::iter::once(primary).chain(related)))
    }
}
