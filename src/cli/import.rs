//! `damo-policy import`: damo's kdamonds JSON or YAML (or a --schemes list) → policy files.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use super::Output;
use super::translate::{TargetChoiceArgs, overwrite_refusal, report};
use crate::diag::{Code, Diagnostic, Renderer};
use crate::interop::input;
use crate::interop::kdamonds::import::{self, checked_texts, name_from_stem};
use crate::kernel::Version;

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// damo's kdamonds JSON or YAML (`damo args damon --format json` or `--format yaml`), or
    /// a --schemes list of schemes; `-` for standard input. A .yaml or .yml file is read as
    /// YAML; anything else as JSON, or as YAML when it is not JSON.
    #[arg(value_name = "FILE|-")]
    pub input: PathBuf,
    /// Write one `<name>.toml` per kdamond context into this directory (created if
    /// missing) instead of printing them; only when there are no errors.
    #[arg(short, long, value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// Replace policy files that exist in the output directory (never the input file).
    #[arg(long, requires = "output")]
    pub force: bool,
    /// The target of a list of schemes (a kdamonds tree names its own).
    #[command(flatten)]
    pub target: TargetChoiceArgs,
    /// Kernel release the policies are checked for. Default: the newest damo-policy knows.
    #[arg(long, value_name = "VERSION", value_parser = super::kernel_version)]
    pub kernel: Option<Version>,
}

pub fn run(args: &ImportArgs, renderer: &Renderer, out: &mut Output) -> ExitCode {
    let file = match input::read(&args.input) {
        Ok(file) => file,
        Err(diagnostic) => return report(renderer, &[*diagnostic], true, true),
    };
    let stem = match args.input.file_stem() {
        Some(stem) if args.input.as_os_str() != "-" => name_from_stem(&stem.to_string_lossy()),
        _ => "imported".to_owned(),
    };
    if let Some(kernel) = args.kernel {
        super::warn_if_newer(kernel, "--kernel");
    }
    let (imported, mut diagnostics) = import::import(&file, &stem, &args.target.choice());
    let dir = args.output.clone().unwrap_or_default();
    let (texts, checked) = checked_texts(&imported, &dir, args.kernel.unwrap_or(Version::NEWEST_KNOWN));
    diagnostics.extend(checked);
    if texts.is_empty() && !diagnostics.iter().any(Diagnostic::is_error) {
        // A document of kdamonds without contexts is valid to the importer, but an import
        // that makes no policy is almost surely the wrong file: say so, and fail.
        diagnostics.push(
            Diagnostic::error(Code::ImportValue, "kdamonds: no kdamond has a context: there is nothing to import")
                .help("each context of damo's kdamonds becomes one policy; export a configuration with `damo args damon --format json`")
                .at(&file, None),
        );
    }
    let refusal = match &args.output {
        Some(_) if !diagnostics.iter().any(Diagnostic::is_error) => {
            let paths: Vec<&Path> = texts.iter().map(|(path, _)| path.as_path()).collect();
            overwrite_refusal(&args.input, &paths, args.force)
        }
        _ => None,
    };
    let status = report(renderer, &diagnostics, false, refusal.is_none());
    if diagnostics.iter().any(Diagnostic::is_error) {
        return status;
    }
    if let Some(message) = refusal {
        return super::usage_error(&message);
    }
    match &args.output {
        None => {
            for (i, (path, text)) in texts.iter().enumerate() {
                if texts.len() > 1 {
                    let _ = writeln!(out, "{}# ---- {} ----", if i > 0 { "\n" } else { "" }, path.display());
                }
                let _ = out.write_all(text.as_bytes());
            }
            ExitCode::SUCCESS
        }
        Some(dir) => write_all(dir, &texts),
    }
}

fn write_all(dir: &Path, texts: &[(PathBuf, String)]) -> ExitCode {
    if let Err(error) = std::fs::create_dir_all(dir) {
        return super::usage_error(format!("{}: {error}", dir.display()));
    }
    for (path, text) in texts {
        if let Err(error) = crate::files::atomic::write(path, text.as_bytes()) {
            return super::usage_error(format!("{}: {error}", path.display()));
        }
        let _ = writeln!(std::io::stderr().lock(), "wrote {}", path.display());
    }
    ExitCode::SUCCESS
}
