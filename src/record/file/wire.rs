//! The JSON text of a record file as this crate writes it: damo's keys, with numbers
//! raw (plain JSON integers, which damo's readers take as they take its own strings).
//!
//! A record: `kdamond_idx`, `context_idx`, `intervals` (`sample_us`, `aggr_us`,
//! `ops_update_us`), `scheme_idx`, `target_id`, `scheme_filters`, `snapshots`,
//! `data_source`. A snapshot: `start_time`, `end_time` (ns), `regions`, `total_bytes`,
//! `damos_stats`, `sample_interval_us`. A region: `start`, `end`, `nr_accesses`
//! (`samples`, `percent`: null) and `age` (`usec`: null, `aggr_intervals`), the two
//! objects keeping both keys as damo writes them (its reader requires `age.usec`). damo
//! also writes `probe_hits: []` and `sz_filter_passed: "0 B"` on every region; its reader
//! takes their absence as exactly those values, so they are left out: they would be a
//! third of the text. The text is compact: damo indents, which no reader needs.

use std::io::{self, Write};

use serde::Serialize;

use super::{Intervals, RecordHeader};
use crate::record::Region;

/// damo's `data_source` for records of a kdamond it read through sysfs or a tracepoint.
const DATA_SOURCE_UNKNOWN: &str = "unknown";

#[derive(Serialize)]
struct RecordHead<'a> {
    kdamond_idx: usize,
    context_idx: usize,
    intervals: &'a IntervalsOut,
    scheme_idx: Option<usize>,
    /// null for records of a scheme's tried regions, as damo writes them.
    target_id: Option<u64>,
    scheme_filters: [(); 0],
}

#[derive(Serialize)]
struct IntervalsOut {
    sample_us: u64,
    aggr_us: u64,
    ops_update_us: u64,
}

impl From<Intervals> for IntervalsOut {
    fn from(intervals: Intervals) -> Self {
        Self {
            sample_us: intervals.sample_us,
            aggr_us: intervals.aggr_us,
            ops_update_us: intervals.ops_update_us,
        }
    }
}

/// A record's text up to its first snapshot: `{…,"snapshots":[`.
pub(super) fn record_head(header: &RecordHeader) -> Vec<u8> {
    let head = RecordHead {
        kdamond_idx: header.kdamond_idx,
        context_idx: header.context_idx,
        intervals: &header.intervals.into(),
        scheme_idx: header.scheme_idx,
        target_id: header.scheme_idx.is_none().then_some(header.target_id),
        scheme_filters: [],
    };
    let mut text = serde_json::to_vec(&head).unwrap_or_default();
    // The object is left open for the snapshots, which are written one by one.
    text.pop();
    text.extend_from_slice(br#","snapshots":["#);
    text
}

/// A record's text after its last snapshot.
pub(super) fn record_tail() -> Vec<u8> {
    format!(r#"],"data_source":"{DATA_SOURCE_UNKNOWN}"}}"#).into_bytes()
}

#[derive(Serialize)]
struct SnapshotOut<'a> {
    start_time: u64,
    end_time: u64,
    regions: RegionsOut<'a>,
    total_bytes: u64,
    damos_stats: Option<()>,
    sample_interval_us: Option<u64>,
}

struct RegionsOut<'a>(&'a [Region]);

impl Serialize for RegionsOut<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|region| RegionOut {
            start: region.start,
            end: region.end,
            nr_accesses: NrAccessesOut {
                samples: region.nr_accesses,
                percent: None,
            },
            age: AgeOut {
                usec: None,
                aggr_intervals: region.age_aggrs,
            },
        }))
    }
}

#[derive(Serialize)]
struct RegionOut {
    start: u64,
    end: u64,
    nr_accesses: NrAccessesOut,
    age: AgeOut,
}

#[derive(Serialize)]
struct NrAccessesOut {
    samples: u32,
    percent: Option<u32>,
}

#[derive(Serialize)]
struct AgeOut {
    usec: Option<u64>,
    aggr_intervals: u32,
}

/// Writes one snapshot's JSON object.
pub(super) fn write_snapshot(out: &mut impl Write, start_ns: u64, end_ns: u64, regions: &[Region]) -> io::Result<()> {
    let snapshot = SnapshotOut {
        start_time: start_ns,
        end_time: end_ns,
        regions: RegionsOut(regions),
        total_bytes: regions.iter().map(Region::size_bytes).fold(0, u64::saturating_add),
        damos_stats: None,
        sample_interval_us: None,
    };
    serde_json::to_writer(out, &snapshot).map_err(io::Error::from)
}
