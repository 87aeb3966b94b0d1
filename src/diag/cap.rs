//! How many findings of one file are shown: at most [`SHOWN_PER_FILE`], errors first; the
//! rest are counted and named in one note per file. A generated or mangled file can hold a
//! hundred thousand findings, and neither a terminal nor an editor is helped by each of them;
//! the first thousand say what is wrong, and the summary still counts every one.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;

use super::Diagnostic;
use crate::policy::source::SourceFile;

/// Findings shown for one file (or for the findings of no file, together).
pub const SHOWN_PER_FILE: usize = 1000;

/// The findings to show, in their order, and what was left out.
pub struct Selection<'a> {
    pub shown: Vec<&'a Diagnostic>,
    /// One entry per file with findings left out, in the order of the files' findings.
    pub not_shown: Vec<NotShown>,
}

/// The findings of one file that are counted but not shown.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct NotShown {
    pub file: Option<String>,
    pub errors: usize,
    pub warnings: usize,
}

impl NotShown {
    /// The line that says so, below the shown findings.
    pub fn note(&self) -> String {
        let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
        let whose = self.file.as_ref().map_or_else(String::new, |file| format!("{file}: "));
        let total = self.errors + self.warnings;
        format!(
            "note: {whose}{total} more finding{} not shown ({}, {}): at most {SHOWN_PER_FILE} findings are \
shown for a file, errors first; fix these and run again to see the rest",
            if total == 1 { "" } else { "s" },
            plural(self.errors, "error"),
            plural(self.warnings, "warning"),
        )
    }
}

/// The file a finding belongs to, by identity: the same text read once.
fn file_key(diagnostic: &Diagnostic) -> Option<*const SourceFile> {
    diagnostic.file.as_ref().map(Arc::as_ptr)
}

/// Chooses the findings to show: for each file, its errors up to the cap, then its warnings
/// up to what the cap leaves, each kept in its place among the others.
pub fn select<'a>(diagnostics: impl IntoIterator<Item = &'a Diagnostic>) -> Selection<'a> {
    let all: Vec<&Diagnostic> = diagnostics.into_iter().collect();
    let mut errors_by_file: HashMap<Option<*const SourceFile>, usize> = HashMap::new();
    for diagnostic in all.iter().filter(|d| d.is_error()) {
        *errors_by_file.entry(file_key(diagnostic)).or_default() += 1;
    }
    // Per file: (errors shown, warnings shown, index into `not_shown`).
    let mut seen: HashMap<Option<*const SourceFile>, (usize, usize, Option<usize>)> = HashMap::new();
    let mut shown = Vec::with_capacity(all.len().min(SHOWN_PER_FILE));
    let mut not_shown: Vec<NotShown> = Vec::new();
    for diagnostic in all {
        let key = file_key(diagnostic);
        let (errors, warnings, hidden) = seen.entry(key).or_default();
        let warning_room = SHOWN_PER_FILE - errors_by_file.get(&key).copied().unwrap_or(0).min(SHOWN_PER_FILE);
        let show = if diagnostic.is_error() {
            *errors < SHOWN_PER_FILE
        } else {
            *warnings < warning_room
        };
        if show {
            if diagnostic.is_error() {
                *errors += 1;
            } else {
                *warnings += 1;
            }
            shown.push(diagnostic);
            continue;
        }
        let entry = *hidden.get_or_insert_with(|| {
            not_shown.push(NotShown {
                file: diagnostic.file.as_ref().map(|f| f.display_path()),
                errors: 0,
                warnings: 0,
            });
            not_shown.len() - 1
        });
        if diagnostic.is_error() {
            not_shown[entry].errors += 1;
        } else {
            not_shown[entry].warnings += 1;
        }
    }
    Selection { shown, not_shown }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Code;

    fn findings(file: &Arc<SourceFile>, errors: usize, warnings: usize) -> Vec<Diagnostic> {
        let error = Diagnostic::error(Code::UnknownKey, "e").at(file, None);
        let warning = Diagnostic::warning(Code::FilterOps, "w").at(file, None);
        // Warnings first: the cap must still keep every error it can.
        std::iter::repeat_n(warning, warnings)
            .chain(std::iter::repeat_n(error, errors))
            .collect()
    }

    #[test]
    fn a_file_within_the_cap_is_shown_whole() {
        let file = Arc::new(SourceFile::new("a.toml", ""));
        let all = findings(&file, 10, SHOWN_PER_FILE - 10);
        let selection = select(&all);
        assert_eq!(selection.shown.len(), SHOWN_PER_FILE);
        assert!(selection.not_shown.is_empty());
    }

    #[test]
    fn beyond_the_cap_errors_come_first_and_the_rest_is_counted() {
        let a = Arc::new(SourceFile::new("a.toml", ""));
        let b = Arc::new(SourceFile::new("b.toml", ""));
        let mut all = findings(&a, 600, 700);
        all.extend(findings(&b, 3, 2));
        all.extend(findings(&a, 0, 1));
        let selection = select(&all);
        let shown_a: Vec<_> = selection
            .shown
            .iter()
            .filter(|d| d.file.as_ref().is_some_and(|f| Arc::ptr_eq(f, &a)))
            .collect();
        assert_eq!(shown_a.len(), SHOWN_PER_FILE);
        assert_eq!(shown_a.iter().filter(|d| d.is_error()).count(), 600);
        // b is not affected by a's findings.
        assert_eq!(selection.shown.len(), SHOWN_PER_FILE + 5);
        assert_eq!(selection.not_shown.len(), 1);
        let hidden = &selection.not_shown[0];
        assert_eq!(
            (hidden.file.as_deref(), hidden.errors, hidden.warnings),
            (Some("a.toml"), 0, 301)
        );
        assert!(
            hidden
                .note()
                .starts_with("note: a.toml: 301 more findings not shown (0 errors, 301 warnings)")
        );
        // Shown findings keep their order: a's first warnings lead.
        assert!(!selection.shown[0].is_error());
    }

    #[test]
    fn errors_beyond_the_cap_are_counted() {
        let file = Arc::new(SourceFile::new("a.toml", ""));
        let all = findings(&file, SHOWN_PER_FILE + 1, 1);
        let selection = select(&all);
        assert!(selection.shown.iter().all(|d| d.is_error()));
        let hidden = &selection.not_shown[0];
        assert_eq!((hidden.errors, hidden.warnings), (1, 1));
        assert!(hidden.note().contains("2 more findings not shown (1 error, 1 warning)"));
    }
}
