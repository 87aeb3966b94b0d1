//! Reading record files: damo's `json_compressed` and `json` (and, through
//! [`perf_script`], its `perf_script` text), told apart by content.
//!
//! JSON is read as a stream: [`for_each_snapshot`] holds one snapshot at a time, however
//! large the file; [`read_records`] collects them.

use std::cell::RefCell;
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::numbers::{Flex, Unit};
use super::{Intervals, RecordFileError, perf_script};
use crate::record::Region;

/// What a record says of its snapshots' origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordInfo {
    /// The record's position in the file.
    pub index: usize,
    pub kdamond_idx: usize,
    pub context_idx: usize,
    pub scheme_idx: Option<usize>,
    /// None in records of a scheme's tried regions.
    pub target_id: Option<u64>,
    /// None when the file does not say (damo's `perf_script` text never does).
    pub intervals: Option<Intervals>,
}

impl RecordInfo {
    pub(super) fn new(index: usize) -> Self {
        Self {
            index,
            kdamond_idx: 0,
            context_idx: 0,
            scheme_idx: None,
            target_id: None,
            intervals: None,
        }
    }
}

/// One target's regions over one aggregation interval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub start_ns: u64,
    pub end_ns: u64,
    pub regions: Vec<Region>,
    /// As the file states it; the regions' total size where it does not.
    pub total_bytes: u64,
}

/// One record of a file: a target's snapshots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub info: RecordInfo,
    pub snapshots: Vec<Snapshot>,
}

/// Every record of a record file.
pub fn read_records(path: &Path) -> Result<Vec<Record>, RecordFileError> {
    match open(path)? {
        Content::Json(reader) => {
            let mut records = Vec::new();
            // A record's snapshots, until its end says what the record is.
            let snapshots = RefCell::new(Vec::new());
            read_json(
                path,
                reader,
                &mut |_, snapshot| snapshots.borrow_mut().push(snapshot),
                &mut |info| {
                    records.push(Record {
                        info,
                        snapshots: snapshots.take(),
                    })
                },
            )?;
            Ok(records)
        }
        Content::PerfScript(reader) => perf_script::parse(path, reader),
    }
}

/// Calls `visit` on each snapshot of a record file in file order, with what its record
/// said before its snapshots (damo writes every other key first). For JSON, memory holds
/// one snapshot at a time; `perf_script` text, whose snapshots' start times depend on
/// the whole trace, is read whole first.
pub fn for_each_snapshot(path: &Path, mut visit: impl FnMut(&RecordInfo, Snapshot)) -> Result<(), RecordFileError> {
    match open(path)? {
        Content::Json(reader) => read_json(path, reader, &mut visit, &mut |_| {}),
        Content::PerfScript(reader) => {
            for record in perf_script::parse(path, reader)? {
                for snapshot in record.snapshots {
                    visit(&record.info, snapshot);
                }
            }
            Ok(())
        }
    }
}

enum Content {
    Json(Box<dyn BufRead>),
    PerfScript(Box<dyn BufRead>),
}

/// How much of a file is looked at to tell its kind.
const SNIFF_BYTES: usize = 64 * 1024;

fn open(path: &Path) -> Result<Content, RecordFileError> {
    let file = File::open(path).map_err(|e| RecordFileError::read(path, e))?;
    let mut reader = BufReader::with_capacity(SNIFF_BYTES, file);
    let head = reader.fill_buf().map_err(|e| RecordFileError::read(path, e))?;
    let not_a_record = |found: &str| RecordFileError::NotARecord {
        path: path.into(),
        found: found.into(),
    };
    if head.is_empty() {
        return Err(not_a_record("an empty file"));
    }
    if is_zlib_header(head) {
        let decoder = flate2::bufread::ZlibDecoder::new(reader);
        return Ok(Content::Json(Box::new(BufReader::new(decoder))));
    }
    match head.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'[') => return Ok(Content::Json(Box::new(reader))),
        Some(b'{') => return Err(not_a_record("a JSON object, not a list of records")),
        _ => {}
    }
    let text = String::from_utf8_lossy(head);
    if text.contains("damon_aggregated") {
        return Ok(Content::PerfScript(Box::new(reader)));
    }
    Err(not_a_record("neither zlib data, JSON nor DAMON trace text"))
}

/// A zlib stream's first two bytes: deflate, and a check value making them a multiple of 31.
fn is_zlib_header(head: &[u8]) -> bool {
    matches!(head, [cmf, flg, ..] if cmf & 0x0f == 8 && cmf >> 4 <= 7 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0)
}

type SnapshotVisit<'a> = &'a mut dyn FnMut(&RecordInfo, Snapshot);
type RecordVisit<'a> = &'a mut dyn FnMut(RecordInfo);

fn read_json(
    path: &Path,
    reader: impl Read,
    on_snapshot: SnapshotVisit<'_>,
    on_record: RecordVisit<'_>,
) -> Result<(), RecordFileError> {
    let mut deserializer = serde_json::Deserializer::from_reader(reader);
    let records = RecordsSeed { on_snapshot, on_record };
    let result = deserializer.deserialize_seq(records).and_then(|()| deserializer.end());
    result.map_err(|error| {
        if error.is_io() {
            RecordFileError::read(path, error.into())
        } else {
            RecordFileError::malformed(path, format!("invalid record JSON: {error}"))
        }
    })
}

struct RecordsSeed<'a, 'b> {
    on_snapshot: SnapshotVisit<'a>,
    on_record: RecordVisit<'b>,
}

impl<'de> Visitor<'de> for RecordsSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of damo records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0;
        while seq
            .next_element_seed(RecordSeed {
                index,
                on_snapshot: &mut *self.on_snapshot,
                on_record: &mut *self.on_record,
            })?
            .is_some()
        {
            index += 1;
        }
        Ok(())
    }
}

struct RecordSeed<'a, 'b> {
    index: usize,
    on_snapshot: SnapshotVisit<'a>,
    on_record: RecordVisit<'b>,
}

impl<'de> DeserializeSeed<'de> for RecordSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RecordSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a damo record (an object with snapshots)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut info = RecordInfo::new(self.index);
        while let Some(key) = map.next_key::<String>()? {
            let index = |value: Option<Flex>| -> Result<Option<usize>, A::Error> {
                value
                    .map(|v| v.unsigned(Unit::Count, &key))
                    .transpose()
                    .map(|v| v.map(|v| usize::try_from(v).unwrap_or(usize::MAX)))
                    .map_err(de::Error::custom)
            };
            match key.as_str() {
                // damo reads a missing or null index as 0.
                "kdamond_idx" => info.kdamond_idx = index(map.next_value()?)?.unwrap_or(0),
                "context_idx" => info.context_idx = index(map.next_value()?)?.unwrap_or(0),
                "scheme_idx" => info.scheme_idx = index(map.next_value()?)?,
                "target_id" => {
                    let value: Option<Flex> = map.next_value()?;
                    info.target_id = value
                        .map(|v| v.unsigned(Unit::Count, "target_id"))
                        .transpose()
                        .map_err(de::Error::custom)?;
                }
                "intervals" => {
                    let value: Option<IntervalsIn> = map.next_value()?;
                    info.intervals = value.map(IntervalsIn::convert).transpose().map_err(de::Error::custom)?;
                }
                "snapshots" => map.next_value_seed(SnapshotsSeed {
                    info: &info,
                    on_snapshot: &mut *self.on_snapshot,
                })?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        (self.on_record)(info);
        Ok(())
    }
}

struct SnapshotsSeed<'i, 'a> {
    info: &'i RecordInfo,
    on_snapshot: SnapshotVisit<'a>,
}

impl<'de> DeserializeSeed<'de> for SnapshotsSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for SnapshotsSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of snapshots")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(raw) = seq.next_element::<SnapshotIn>()? {
            let snapshot = raw.convert(self.info.intervals).map_err(de::Error::custom)?;
            (self.on_snapshot)(self.info, snapshot);
        }
        Ok(())
    }
}

#[derive(Deserialize)]
struct IntervalsIn {
    sample_us: Flex,
    aggr_us: Flex,
    ops_update_us: Flex,
}

impl IntervalsIn {
    fn convert(self) -> Result<Intervals, String> {
        Ok(Intervals {
            sample_us: self.sample_us.unsigned(Unit::Microseconds, "sample_us")?,
            aggr_us: self.aggr_us.unsigned(Unit::Microseconds, "aggr_us")?,
            ops_update_us: self.ops_update_us.unsigned(Unit::Microseconds, "ops_update_us")?,
        })
    }
}

#[derive(Deserialize)]
struct SnapshotIn {
    #[serde(default)]
    start_time: Option<Flex>,
    end_time: Flex,
    regions: Vec<RegionIn>,
    #[serde(default)]
    total_bytes: Option<Flex>,
}

impl SnapshotIn {
    fn convert(self, intervals: Option<Intervals>) -> Result<Snapshot, String> {
        let end_ns = self.end_time.unsigned(Unit::Nanoseconds, "end_time")?;
        let start_ns = match (self.start_time, intervals) {
            (Some(start), _) => start.unsigned(Unit::Nanoseconds, "start_time")?,
            (None, Some(intervals)) => end_ns.saturating_sub(intervals.aggr_us.saturating_mul(1000)),
            (None, None) => return Err("a snapshot without start_time in a record without intervals".into()),
        };
        let regions = self
            .regions
            .into_iter()
            .map(|region| region.convert(intervals))
            .collect::<Result<Vec<_>, _>>()?;
        let total_bytes = match self.total_bytes {
            Some(total) => total.unsigned(Unit::Bytes, "total_bytes")?,
            None => regions.iter().map(Region::size_bytes).fold(0, u64::saturating_add),
        };
        Ok(Snapshot {
            start_ns,
            end_ns,
            regions,
            total_bytes,
        })
    }
}

#[derive(Deserialize)]
struct RegionIn {
    start: Flex,
    end: Flex,
    #[serde(default)]
    nr_accesses: Option<NrAccessesIn>,
    #[serde(default)]
    age: Option<AgeIn>,
}

#[derive(Deserialize)]
struct NrAccessesIn {
    #[serde(default)]
    samples: Option<Flex>,
    #[serde(default)]
    percent: Option<Flex>,
}

#[derive(Deserialize)]
struct AgeIn {
    #[serde(default)]
    usec: Option<Flex>,
    #[serde(default)]
    aggr_intervals: Option<Flex>,
}

fn to_u32(value: u64, what: &str) -> Result<u32, String> {
    u32::try_from(value).map_err(|_| format!("{what}: {value} is out of range"))
}

impl RegionIn {
    fn convert(self, intervals: Option<Intervals>) -> Result<Region, String> {
        let start = self.start.unsigned(Unit::Bytes, "region start")?;
        let end = self.end.unsigned(Unit::Bytes, "region end")?;
        if end < start {
            return Err(format!("a region ending ({end}) before it starts ({start})"));
        }
        let nr_accesses = self.nr_accesses.ok_or("a region without nr_accesses")?;
        let nr_accesses = match (nr_accesses.samples, nr_accesses.percent, intervals) {
            (Some(samples), _, _) => to_u32(samples.unsigned(Unit::Count, "nr_accesses")?, "nr_accesses")?,
            // damo's conversion: the share of the samples an aggregation interval takes.
            (None, Some(percent), Some(iv)) if iv.sample_us > 0 => {
                let max_samples = iv.aggr_us as f64 / iv.sample_us as f64;
                (percent.float(Unit::Count)? * max_samples / 100.0) as u32
            }
            _ => return Err("a region's nr_accesses has neither samples nor a percent to convert".into()),
        };
        let age = self.age.ok_or("a region without age")?;
        let age_aggrs = match (age.aggr_intervals, age.usec, intervals) {
            (Some(aggrs), _, _) => to_u32(aggrs.unsigned(Unit::Count, "age")?, "age")?,
            (None, Some(usec), Some(iv)) if iv.aggr_us > 0 => {
                to_u32(usec.unsigned(Unit::Microseconds, "age")? / iv.aggr_us, "age")?
            }
            _ => return Err("a region's age has neither aggr_intervals nor usec to convert".into()),
        };
        Ok(Region {
            start,
            end,
            nr_accesses,
            age_aggrs,
        })
    }
}
