//! `damo-policy translate`: damo's legacy one-line schemes → one policy file.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use super::Output;
use crate::diag::{Diagnostic, Renderer};
use crate::interop::input;
use crate::interop::legacy::translate::{self, Options, TargetChoice};
use crate::kernel::Version;

#[derive(Debug, Args)]
pub struct TranslateArgs {
    /// damo's one-line scheme file (7, 9, 12, 17 or 18 fields a line), or `-` for
    /// standard input.
    #[arg(value_name = "FILE|-")]
    pub input: PathBuf,
    /// Write the policy here instead of standard output (only when there are no errors).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace the output file if it exists (never the input file).
    #[arg(long, requires = "output")]
    pub force: bool,
    #[command(flatten)]
    pub target: TargetChoiceArgs,
    /// The policy's name (default: the output file name).
    #[arg(long)]
    pub name: Option<String>,
    /// Kernel release the policy is checked for. Default: the newest damo-policy knows.
    #[arg(long, value_name = "VERSION", value_parser = super::kernel_version)]
    pub kernel: Option<Version>,
}

/// What generated schemes monitor, where damo's input names no target.
#[derive(Debug, Args)]
pub struct TargetChoiceArgs {
    /// Monitor these processes (repeatable).
    #[arg(long = "pid", value_name = "PID", conflicts_with_all = ["process", "physical"])]
    pub pids: Vec<u32>,
    /// Monitor every process with this name.
    #[arg(long, value_name = "NAME", conflicts_with = "physical")]
    pub process: Option<String>,
    /// Monitor physical memory (the default without a target, as in damo).
    #[arg(long)]
    pub physical: bool,
}

impl TargetChoiceArgs {
    pub(crate) fn choice(&self) -> TargetChoice {
        if !self.pids.is_empty() {
            TargetChoice::Pids(self.pids.clone())
        } else if let Some(name) = &self.process {
            TargetChoice::Process(name.clone())
        } else {
            TargetChoice::Physical { chosen: self.physical }
        }
    }
}

pub fn run(args: &TranslateArgs, renderer: &Renderer, out: &mut Output) -> ExitCode {
    let file = match input::read(&args.input) {
        Ok(file) => file,
        Err(diagnostic) => return report(renderer, &[*diagnostic], true, true),
    };
    if let Some(kernel) = args.kernel {
        super::warn_if_newer(kernel, "--kernel");
    }
    let options = Options {
        target: args.target.choice(),
        name: args.name.clone(),
        kernel: args.kernel.unwrap_or(Version::NEWEST_KNOWN),
        output: args.output.clone().unwrap_or_else(|| PathBuf::from("translated.toml")),
    };
    let translation = translate::translate(&file, &options);
    let Some(text) = translation.text else {
        return report(renderer, &translation.diagnostics, false, true);
    };
    // One policy is one file: a directory (existing, or written as one) cannot be it.
    let directory = args
        .output
        .as_deref()
        .filter(|path| path.is_dir() || path.as_os_str().to_string_lossy().ends_with('/'));
    let refusal = match directory {
        Some(path) => Some(format!(
            "{} names a directory: -o takes the policy file's name, such as {}",
            path.display(),
            path.join(format!("{}.toml", stem_of(&args.input))).display()
        )),
        None => args
            .output
            .as_deref()
            .and_then(|path| overwrite_refusal(&args.input, &[path], args.force)),
    };
    report(renderer, &translation.diagnostics, false, refusal.is_none());
    if let Some(message) = refusal {
        return super::usage_error(&message);
    }
    match &args.output {
        None => {
            let _ = out.write_all(text.as_bytes());
            ExitCode::SUCCESS
        }
        Some(path) => match crate::files::atomic::write(path, text.as_bytes()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => super::usage_error(format!("{}: {error}", path.display())),
        },
    }
}

/// Prints the diagnostics to standard error (past a cap per file, counted rather than shown);
/// the exit status for them. `writing`: whether the output is going to be written when there
/// are no errors (else the summary says it is not).
pub(crate) fn report(renderer: &Renderer, diagnostics: &[Diagnostic], io: bool, writing: bool) -> ExitCode {
    let mut err = std::io::stderr().lock();
    let _ = renderer.write_all(&mut err, diagnostics);
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = diagnostics.len() - errors;
    if errors + warnings > 0 {
        let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
        let outcome = if errors > 0 || !writing {
            "nothing written"
        } else {
            "written"
        };
        let _ = writeln!(
            err,
            "{}, {}: {outcome}",
            plural(errors, "error"),
            plural(warnings, "warning")
        );
    }
    match (errors, io) {
        (0, _) => ExitCode::SUCCESS,
        (_, true) => ExitCode::from(2),
        _ => ExitCode::from(1),
    }
}

/// Why the output files `paths` must not be written, if they must not: one of them is the
/// `input` file (its source would be lost: refused even with --force), or exists and
/// `force` is off. Checked before any is written, so that a refusal writes nothing.
pub(crate) fn overwrite_refusal(input: &Path, paths: &[&Path], force: bool) -> Option<String> {
    let shown = |paths: &[&Path]| {
        paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if input.as_os_str() != "-"
        && let Some(same) = paths.iter().find(|path| same_file(input, path))
    {
        return Some(format!(
            "{} is the input file; write the output somewhere else (-o)",
            same.display()
        ));
    }
    // A dangling symlink exists too: the rename would replace it.
    let existing: Vec<&Path> = paths
        .iter()
        .copied()
        .filter(|path| path.symlink_metadata().is_ok())
        .collect();
    match existing.as_slice() {
        _ if force => None,
        [] => None,
        [one] => Some(format!(
            "{} exists; run again with --force to replace it, or write somewhere else (-o)",
            one.display()
        )),
        many => Some(format!(
            "{} exist; run again with --force to replace them, or write somewhere else (-o)",
            shown(many)
        )),
    }
}

/// Whether two paths name the same file (through links, `./`, `..` or symlinks).
/// The input's file stem, for suggesting an output name (`-` reads standard input).
fn stem_of(input: &Path) -> String {
    match input.file_stem().and_then(|s| s.to_str()) {
        Some(stem) if input != Path::new("-") => stem.to_owned(),
        _ => "translated".to_owned(),
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}
