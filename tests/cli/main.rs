//! End-to-end tests of the `damo-policy` command line: exit statuses and user-facing text,
//! snapshotted with insta so that diagnostics are reviewed like code.

mod bad_input;
mod check;
#[path = "../common/mod.rs"]
mod common;
mod compile;
mod convert;
mod deploy;
mod live;
mod output;
mod perms;
mod record;
mod scale;
