//! damo-policy: declarative, data-access-aware memory management for Linux.
//!
//! Policies are TOML files; the library turns them into DAMON/DAMOS kernel configuration
//! in stages, each in its own module:
//!
//! load ([`load`]) → parse ([`source`]) → validate ([`schema`], [`validate`]) →
//! resolve to kernel units ([`resolved`]) → compile for a kernel ([`compile`]).
//!
//! Kernel knowledge (releases, keywords, which files exist) lives in [`kernel`]; the human
//! units in [`units`]; diagnostics in [`diag`]. The binary in `src/main.rs` only parses the
//! command line and calls [`cli::run`].

pub mod cli;
pub mod compile;
pub mod diag;
pub mod host;
pub mod interop;
pub mod kernel;
pub mod load;
pub mod model;
pub mod perms;
pub mod pipeline;
pub mod project;
pub mod reconcile;
pub mod resolved;
pub mod schema;
pub mod source;
pub mod state;
pub mod sysfs;
pub mod units;
pub mod validate;
pub mod watch;
