//! `damo-policy compile`: print the kernel configuration the policies become.

use std::io::Write as _;
use std::process::ExitCode;

use super::{CompileArgs, CompileFormat, Output, status, summary, usage_error};
use crate::compile::{self, sysfs};
use crate::diag::Renderer;
use crate::kernel::Layout;

pub fn run(args: &CompileArgs, renderer: &Renderer, out: &mut Output) -> ExitCode {
    let checked = match args.target.check(&args.paths) {
        Ok(checked) => checked,
        Err(message) => return usage_error(&message),
    };
    let mut err = std::io::stderr().lock();
    let _ = renderer.write_all(&mut err, checked.all_diagnostics());
    if checked.error_count() > 0 {
        let _ = writeln!(err, "{}", summary(&checked));
        return status(&checked, false);
    }
    let compiled = compile::compile(&checked.policies(), checked.kernel, &args.target.host.host());
    // Buffered: a locked stdout still flushes at every newline, one system call per line,
    // which for 100 schemes costs more than compiling them.
    let mut out = std::io::BufWriter::new(out);
    match args.format {
        CompileFormat::Json => {
            let _ = writeln!(out, "{}", serde_json::to_string_pretty(&compiled).unwrap_or_default());
        }
        CompileFormat::DamoJson => {
            // damo's JSON has no place for pending policies: name them beside it.
            for skipped in compiled.skipped.iter().filter(|s| s.pending) {
                let _ = writeln!(
                    err,
                    "note: policy `{}` ({}): pending, not in the JSON: {}",
                    skipped.policy, skipped.file, skipped.reason
                );
            }
            let _ = writeln!(out, "{}", crate::interop::kdamonds::export::kdamonds(&compiled));
        }
        CompileFormat::Sysfs => {
            let _ = writeln!(
                out,
                "# damo-policy compile: kernel {}, {} kdamond(s)",
                compiled.kernel,
                compiled.kdamonds.len()
            );
            for kdamond in &compiled.kdamonds {
                let _ = writeln!(
                    out,
                    "# kdamond {}: policy `{}` ({})",
                    kdamond.index, kdamond.policy, kdamond.file
                );
            }
            for skipped in &compiled.skipped {
                let state = if skipped.pending { "pending" } else { "not compiled" };
                let _ = writeln!(
                    out,
                    "# policy `{}` ({}): {state}: {}",
                    skipped.policy, skipped.file, skipped.reason
                );
            }
            let _ = sysfs::print(&compiled, Layout::new(checked.kernel), &mut out);
        }
    }
    let _ = out.flush();
    if compiled.skipped.iter().any(|s| !s.pending) {
        for skipped in compiled.skipped.iter().filter(|s| !s.pending) {
            let _ = writeln!(
                err,
                "error: policy `{}` ({}): {}",
                skipped.policy, skipped.file, skipped.reason
            );
        }
        return ExitCode::from(2);
    }
    ExitCode::SUCCESS
}
