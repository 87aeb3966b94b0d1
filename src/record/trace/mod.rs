//! DAMON's `damon:damon_aggregated` tracepoint as a recording source: every aggregation
//! of one kdamond, read from a private tracefs instance so that nothing global is touched.
//!
//! - [`tracefs`]: where tracefs is mounted and what it offers ([`Tracefs::sources`]);
//! - [`instance`]: the private instance, its filter on the kdamond's pid, and polling;
//! - [`parse`] and [`stream`]: the kernel's text lines, then whole aggregations from them;
//! - [`fake`]: a tracefs tree in a plain directory, for tests.

mod error;
pub mod fake;
pub mod instance;
pub mod parse;
pub mod stream;
pub mod tracefs;

#[cfg(test)]
mod tests;

pub use error::TraceError;
pub use instance::{BufferLoss, Burst, Instance};
pub use stream::{StreamParser, StreamStats};
pub use tracefs::{Availability, Presence, Tracefs};
