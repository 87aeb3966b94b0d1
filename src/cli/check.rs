//! `damo-policy check`: validate and print every finding.

use std::io::Write as _;
use std::process::ExitCode;

use super::{CheckArgs, CheckFormat, Output, status, summary, usage_error};
use crate::diag::{Diagnostic, Renderer};

pub fn run(args: &CheckArgs, renderer: &Renderer, out: &mut Output) -> ExitCode {
    let checked = match args.target.check(&args.paths) {
        Ok(checked) => checked,
        Err(message) => return usage_error(&message),
    };
    match args.format {
        CheckFormat::Text => {
            for diagnostic in checked.all_diagnostics() {
                let _ = write!(out, "{}", renderer.render(diagnostic));
            }
            let _ = writeln!(out, "{}", summary(&checked));
        }
        CheckFormat::Json => {
            let diagnostics: Vec<_> = checked.all_diagnostics().map(Diagnostic::to_json).collect();
            let report = serde_json::json!({
                "kernel": checked.kernel.to_string(),
                "files": checked.outcomes.len(),
                "errors": checked.error_count(),
                "warnings": checked.warning_count(),
                "diagnostics": diagnostics,
            });
            let _ = writeln!(out, "{}", serde_json::to_string_pretty(&report).unwrap_or_default());
        }
    }
    status(&checked, args.deny_warnings)
}
