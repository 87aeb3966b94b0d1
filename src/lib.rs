//! damo-policy: declarative, data-access-aware memory management for Linux.
//!
//! Policies are TOML files; the library turns them into DAMON/DAMOS kernel configuration
//! in stages, each in its own module:
//!
//! - [`policy`]: find and read policy files, map their keys to spans, read the project
//!   file's kernel pin, and run the whole front half ([`policy::pipeline`]);
//! - [`model`]: the file as written ([`model::wire`]), its human units ([`model::units`]),
//!   and the policy in kernel units ([`model::resolved`]);
//! - [`validate`]: the schema, conversion to kernel units, semantic and kernel-feature rules;
//! - [`compile`]: resolved policies → the DAMON sysfs writes of one kernel;
//! - [`reconcile`]: plan against the live tree, apply, restore, and the ownership record;
//! - [`watch`]: the long-running service;
//! - [`record`]: recordings of data access patterns, in damo's record format;
//! - [`interop`]: damo's formats, both ways.
//!
//! Kernel knowledge (releases, keywords, which files exist) lives in [`kernel`]. The seams
//! to the machine are [`sysfs`] (DAMON's tree, real or fake) and [`host`] (processes,
//! cgroups, memory); diagnostics in [`diag`]; capped reads and atomic writes of whole
//! files in [`files`]. The binary in `src/main.rs` only parses the command line and calls
//! [`cli::run`].

pub mod cli;
pub mod compile;
pub mod diag;
pub mod files;
pub mod host;
pub mod interop;
pub mod kernel;
pub mod model;
pub mod policy;
pub mod reconcile;
pub mod record;
pub mod sysfs;
pub mod validate;
pub mod watch;
