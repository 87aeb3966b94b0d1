//! damo interoperability, end to end: the legacy one-line translator against damo's golden
//! vectors, its diagnostics and bad input (CLI snapshots), damo JSON round trips, real damo
//! when it is installed (its kdamonds JSON and its record files), and a property test of
//! the translator on arbitrary input.

#[path = "../common/mod.rs"]
mod common;

mod bad_input;
mod damo;
mod export;
mod fuzz;
mod golden;
mod import;
mod record_file;
mod roundtrip;
mod scale;
mod support;
mod translate;
