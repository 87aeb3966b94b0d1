//! Interoperability with damo, the reference DAMON user-space tool.
//!
//! - [`damo_units`]: damo's number grammar (sizes, times, percentages), exact.
//! - [`scheme`]: damo's view of a scheme and the rules that make it a policy scheme.
//! - [`legacy`]: its legacy one-line scheme format, parsed with located diagnostics, and
//!   translated to one policy file with findings on the input.
//! - [`kdamonds`]: damo's kdamonds tree (JSON or YAML), exported from compiled policies and
//!   imported into policy files.
//! - [`emit`]: writes generated policies as reviewable TOML.
//! - [`input`]: reads a file or standard input defensively.

pub mod damo_units;
pub mod emit;
pub mod input;
pub mod kdamonds;
pub mod legacy;
pub mod scheme;
