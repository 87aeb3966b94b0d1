//! The `damo-policy` binary: parse the command line, run it, exit with its status.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    damo_policy::cli::run(damo_policy::cli::Cli::parse())
}
