//! The `damo-policy` binary: parse the command line, run it, exit with its status.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    match damo_policy::cli::Cli::try_parse() {
        Ok(cli) => damo_policy::cli::run(cli),
        Err(error) => damo_policy::cli::parse_failed(&error),
    }
}
