//! Interoperability with damo, the reference DAMON user-space tool.
//!
//! - [`damo_units`]: damo's number grammar (sizes, times, percentages), exact.
//! - [`legacy`]: its legacy one-line scheme format, parsed with located diagnostics.
//! - [`scheme`]: damo's view of a scheme and the rules that make it a policy scheme.
//! - [`translate`]: a legacy file → one policy file, validated, findings on the input.
//! - [`damo_json`]: compiled policies → damo's kdamonds JSON.
//! - [`import`]: damo's kdamonds tree or `--schemes` list → policy files.
//! - [`document`]: that tree from JSON or YAML; [`yaml`] reads YAML as damo reads it.
//! - [`emit`]: writes generated policies as reviewable TOML.
//! - [`input`]: reads a file or standard input defensively.

pub mod damo_json;
pub mod damo_units;
pub mod document;
pub mod emit;
pub mod import;
pub mod input;
pub mod legacy;
pub mod scheme;
pub mod translate;
pub mod yaml;
