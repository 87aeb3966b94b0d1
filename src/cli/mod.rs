//! The command line: clap definitions, and one function per command that runs the library
//! and prints. Exit statuses are decided here only: 0 success, 1 invalid policies,
//! 2 usage or I/O errors (standard output that cannot be written included, see [`output`]),
//! 3 the kernel refused.

use std::io::{IsTerminal, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::diag::Renderer;
use crate::host::HostPaths;
use crate::policy::pipeline::{self, Checked, KernelChoice};
use output::Output;

mod apply;
mod check;
mod compile;
mod import;
mod kernel;
mod live;
mod output;
mod record;
mod status;
mod translate;
mod watch;

/// Declarative, data-access-aware memory management for Linux: TOML policies → DAMON.
#[derive(Debug, Parser)]
#[command(name = "damo-policy", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// When to color output.
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate policy files: syntax, schema, semantics, kernel features.
    Check(CheckArgs),
    /// Print the kernel configuration the policies become, touching no kernel.
    Compile(CompileArgs),
    /// Print the JSON schema of policy files.
    Schema,
    /// Show what `apply` would write to the kernel, and why.
    Plan(apply::PlanArgs),
    /// Reconcile the kernel with the policies: minimal writes, online commits, verified.
    Apply(apply::ApplyArgs),
    /// Show the kdamonds damo-policy applied, with their schemes' statistics.
    Status(status::StatusArgs),
    /// Stop kdamonds damo-policy applied (all, or the named policies').
    Stop(status::StopArgs),
    /// Show what the running kernel's DAMON supports.
    Kernel(kernel::KernelArgs),
    /// Record what DAMON sees of a workload's memory, in damo's record format.
    Record(Box<record::RecordArgs>),
    /// Translate damo's legacy one-line schemes into a policy file.
    Translate(translate::TranslateArgs),
    /// Import damo's kdamonds JSON or YAML (or a --schemes list) as policy files.
    Import(import::ImportArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Policy files or directories of policy files.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
    /// Fail (exit 1) when there are warnings.
    #[arg(long)]
    pub deny_warnings: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct CompileArgs {
    /// Policy files or directories of policy files.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub target: TargetArgs,
    /// `sysfs`: one `<path> <value>` line per file write, relative to the sysfs root, in
    /// the order a kernel with no kdamonds must receive them; `json`: the configuration.
    #[arg(long, value_enum, default_value_t = CompileFormat::Sysfs)]
    pub format: CompileFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompileFormat {
    Sysfs,
    Json,
    /// damo's kdamonds JSON, for `damo start --kdamonds FILE`.
    DamoJson,
}

/// The kernel to validate for, and where the host's files are (all read-only here).
#[derive(Debug, Args)]
pub struct TargetArgs {
    /// Kernel release to validate for (`6.12`, `7.3`), or `running` to read the live
    /// kernel (read-only). Default: `kernel` in the directory's damo-policy.toml, else the
    /// newest kernel damo-policy knows.
    #[arg(long, value_name = "VERSION|running")]
    pub kernel: Option<KernelChoice>,
    #[command(flatten)]
    pub host: HostArgs,
}

/// Where DAMON's sysfs tree and the host's pseudo-filesystems are: the one seam to the
/// system, overridable for containers, fixtures and virtual machines.
#[derive(Debug, Args)]
pub struct HostArgs {
    /// DAMON sysfs root.
    #[arg(long, env = "DAMO_POLICY_SYSFS_ROOT", default_value = crate::sysfs::DEFAULT_ROOT)]
    pub sysfs_root: PathBuf,
    /// procfs mount, for process targets and System RAM.
    #[arg(long, env = "DAMO_POLICY_PROC_ROOT", default_value = "/proc", hide_short_help = true)]
    pub proc_root: PathBuf,
    /// cgroup v2 mount, for cgroup targets.
    #[arg(
        long,
        env = "DAMO_POLICY_CGROUP_ROOT",
        default_value = "/sys/fs/cgroup",
        hide_short_help = true
    )]
    pub cgroup_root: PathBuf,
    /// `/sys/devices/system`, for NUMA node targets.
    #[arg(
        long,
        env = "DAMO_POLICY_SYSTEM_ROOT",
        default_value = "/sys/devices/system",
        hide_short_help = true
    )]
    pub system_root: PathBuf,
}

impl HostArgs {
    pub(crate) fn host(&self) -> HostPaths {
        HostPaths {
            proc_root: self.proc_root.clone(),
            cgroup_root: self.cgroup_root.clone(),
            system_root: self.system_root.clone(),
        }
    }
}

impl TargetArgs {
    /// Validates `paths` for the chosen kernel; a kernel newer than the engine knows (named,
    /// pinned or running) is said on stderr, beside the findings rather than among them: it
    /// is no fault of the policies, and must not fail `--deny-warnings`.
    pub(crate) fn check(&self, paths: &[PathBuf]) -> Result<Checked, String> {
        let choice = self.kernel.clone().unwrap_or(KernelChoice::Default);
        let checked = pipeline::check_paths(paths, &choice, &self.host.host(), &self.host.sysfs_root)
            .map_err(|e| e.to_string())?;
        warn_if_newer(checked.kernel, &checked.kernel_source);
        Ok(checked)
    }
}

/// `--kernel VERSION` of the commands that take no `running`: the releases `check` takes.
pub(crate) fn kernel_version(text: &str) -> Result<crate::kernel::Version, crate::policy::pipeline::BadKernelChoice> {
    Ok(crate::kernel::releases::supported(text.parse()?)?)
}

pub(crate) fn warn_if_newer(version: crate::kernel::Version, source: &str) {
    if let Some(warning) = crate::kernel::releases::newer_than_known(version, source) {
        let _ = writeln!(std::io::stderr().lock(), "warning: {warning}");
    }
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> ExitCode {
    let renderer = |terminal: bool| {
        let color = match cli.color {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => terminal && std::env::var_os("NO_COLOR").is_none(),
        };
        Renderer::new(color, 100)
    };
    let mut out = Output::stdout();
    let code = match &cli.command {
        Command::Check(args) => check::run(args, &renderer(std::io::stdout().is_terminal()), &mut out),
        Command::Compile(args) => compile::run(args, &renderer(std::io::stderr().is_terminal()), &mut out),
        Command::Plan(args) => apply::run_plan(args, &renderer(std::io::stderr().is_terminal()), &mut out),
        Command::Apply(args) => apply::run_apply(args, &renderer(std::io::stderr().is_terminal()), &mut out),
        Command::Status(args) => status::run_status(args, &mut out),
        Command::Stop(args) => status::run_stop(args, &mut out),
        Command::Kernel(args) => kernel::run(args, &mut out),
        Command::Record(args) => record::run(args, &renderer(std::io::stderr().is_terminal())),
        Command::Translate(args) => translate::run(args, &renderer(std::io::stderr().is_terminal()), &mut out),
        Command::Import(args) => import::run(args, &renderer(std::io::stderr().is_terminal()), &mut out),
        Command::Schema => {
            let _ = out.write_all(crate::validate::schema::COMMITTED.as_bytes());
            ExitCode::SUCCESS
        }
    };
    out.finish(code)
}

/// A command line that did not parse, or `--help`/`--version`: prints what clap says; the
/// exit status (clap's, or 2 when help could not be written, as for any command's output).
pub fn parse_failed(error: &clap::Error) -> ExitCode {
    match error.print() {
        Err(e) if !error.use_stderr() && e.kind() != std::io::ErrorKind::BrokenPipe => {
            usage_error(format!("writing to standard output: {e}"))
        }
        _ => ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(output::IO_ERROR)),
    }
}

pub(crate) fn usage_error(message: impl std::fmt::Display) -> ExitCode {
    // Not eprintln!: a standard error that cannot be written must not panic either.
    let _ = writeln!(std::io::stderr().lock(), "error: {message}");
    ExitCode::from(output::IO_ERROR)
}

pub(crate) fn status(checked: &Checked, deny_warnings: bool) -> ExitCode {
    if checked.has_io_errors() {
        ExitCode::from(2)
    } else if checked.error_count() > 0 || (deny_warnings && checked.warning_count() > 0) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

pub(crate) fn summary(checked: &Checked) -> String {
    let files = checked.outcomes.len();
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    format!(
        "checked {} for kernel {} ({}): {}, {}",
        plural(files, "file"),
        checked.kernel,
        checked.kernel_source,
        plural(checked.error_count(), "error"),
        plural(checked.warning_count(), "warning"),
    )
}
