//! `damo-policy check`: validate and print every finding.

use std::io::Write as _;
use std::process::ExitCode;

use super::{CheckArgs, CheckFormat, Output, status, summary, usage_error};
use crate::diag::{Renderer, cap};

pub fn run(args: &CheckArgs, renderer: &Renderer, out: &mut Output) -> ExitCode {
    let checked = match args.target.check(&args.paths) {
        Ok(checked) => checked,
        Err(message) => return usage_error(&message),
    };
    match args.format {
        CheckFormat::Text => {
            let _ = renderer.write_all(out, checked.all_diagnostics());
            let _ = writeln!(out, "{}", summary(&checked));
        }
        CheckFormat::Json => {
            let selection = cap::select(checked.all_diagnostics());
            let diagnostics: Vec<_> = selection.shown.iter().map(|d| d.to_json()).collect();
            let mut report = serde_json::json!({
                "kernel": checked.kernel.to_string(),
                "files": checked.outcomes.len(),
                "errors": checked.error_count(),
                "warnings": checked.warning_count(),
                "diagnostics": diagnostics,
            });
            // Only when the cap left findings out: the counts above still include them.
            if !selection.not_shown.is_empty() {
                report["not_shown"] = serde_json::to_value(&selection.not_shown).unwrap_or_default();
            }
            let _ = writeln!(out, "{}", serde_json::to_string_pretty(&report).unwrap_or_default());
        }
    }
    status(&checked, args.deny_warnings)
}
