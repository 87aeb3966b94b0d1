//! damo's record file, both ways: [`RecordWriter`] writes what recording sources yield as
//! damo 3.4's `json_compressed` or `json` record file, [`read_records`] and
//! [`for_each_snapshot`] read those and damo's `perf_script` text, and [`FootprintWriter`]
//! writes the `FILE.mem_footprint` side file that `damo report footprint` reads.
//!
//! The file is a JSON list of records, one per monitoring target; each record carries its
//! kdamond, context and scheme indices, the target id, the monitoring intervals and the
//! target's snapshots (start and end time in nanoseconds, regions with raw `nr_accesses`
//! samples and `age` in aggregation intervals). `json_compressed` is that text through
//! zlib, as damo's `zlib.compress` writes it.
//!
//! Writing streams: snapshots go to per-target spool files as they come and the file is
//! assembled at the end, so memory does not grow with the length of a recording. Files
//! appear whole or not at all (see [`output`]).

mod error;
mod footprint;
mod numbers;
mod output;
mod perf_script;
mod reader;
mod wire;
mod writer;
mod zlib;

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

pub use error::RecordFileError;
pub use footprint::{FootprintWriter, footprint_path};
pub use reader::{Record, RecordInfo, Snapshot, for_each_snapshot, read_records};
pub use writer::RecordWriter;

/// Refuses a path a record cannot be written to: an existing regular file unless
/// `overwrite`, or a directory. The writer checks the same when it is created; this lets a
/// caller refuse before it starts anything to record.
pub fn check_destination(path: &std::path::Path, overwrite: bool) -> Result<(), RecordFileError> {
    output::Destination::check(path, overwrite).map(drop)
}

/// How a record file is encoded; damo's `--output_type` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// The JSON text through zlib: damo's default.
    #[default]
    JsonCompressed,
    Json,
}

impl Format {
    /// The name damo gives the format.
    pub fn name(self) -> &'static str {
        match self {
            Format::JsonCompressed => "json_compressed",
            Format::Json => "json",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "json_compressed" => Ok(Format::JsonCompressed),
            "json" => Ok(Format::Json),
            other => Err(format!(
                "unknown record format `{other}` (expected json_compressed or json)"
            )),
        }
    }
}

/// A DAMON context's monitoring intervals, as a record states them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Intervals {
    pub sample_us: u64,
    pub aggr_us: u64,
    pub ops_update_us: u64,
}

/// What a record says of where its snapshots come from: one record per monitored target.
///
/// damo writes records from the `damon_aggregated` tracepoint with `kdamond_idx` and
/// `context_idx` 0, no `scheme_idx` and the tracepoint's `target_id`; records from a
/// scheme's tried regions carry the scheme's indices and no target id (tried regions do
/// not say which target they are of). A header with `scheme_idx` is written the second
/// way: `target_id` then only matches aggregations to the header, and each snapshot
/// starts one aggregation interval before it ends, as damo writes snapshots taken at an
/// interval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordHeader {
    pub kdamond_idx: usize,
    pub context_idx: usize,
    pub scheme_idx: Option<usize>,
    pub target_id: u64,
    pub intervals: Intervals,
}

/// What a finished record file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub path: PathBuf,
    pub format: Format,
    pub records: usize,
    pub snapshots: u64,
    /// The file's size.
    pub bytes: u64,
}

#[cfg(test)]
mod tests;
