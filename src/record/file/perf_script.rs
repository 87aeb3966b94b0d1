//! damo's `perf_script` record format: `perf script` text of DAMON's `damon_aggregated`
//! tracepoint, one line per region (`kdamond.0 4452 [000] 82877.315633:
//! damon:damon_aggregated: target_id=0 nr_regions=17 140731667070976-140731668037632: 0
//! 3`), as damo writes it (`kdamond.x xxxx xxxx …`) and `perf script` prints it.
//!
//! Read as damo reads it: lines that are not of the event are skipped; a target's
//! regions make a snapshot once `nr_regions` of them are in; a snapshot starts where the
//! target's previous one ended, the first one the mean time between snapshots before its
//! end; a last snapshot of one empty region with −1 counts is damo's stand-in, written so
//! that a lone snapshot's start can be deduced, and is dropped.

use std::io::BufRead;
use std::path::Path;

use super::RecordFileError;
use super::reader::{Record, RecordInfo, Snapshot};
use crate::record::Region;

/// One parsed line.
struct Event {
    end_ns: u64,
    target_id: u64,
    nr_regions: usize,
    start: u64,
    end: u64,
    nr_accesses: i64,
    age: i64,
}

fn parse_line(line: &str) -> Option<Event> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    // <comm> <pid> <cpu> <seconds>: damon:damon_aggregated: target_id= nr_regions= s-e: nr [age]
    if fields.len() < 9 || fields[4] != "damon:damon_aggregated:" {
        return None;
    }
    let seconds: f64 = fields[3].strip_suffix(':')?.parse().ok()?;
    let (start, end) = fields[7].strip_suffix(':')?.split_once('-')?;
    Some(Event {
        // damo's conversion, truncated the same way.
        end_ns: (seconds * 1_000_000_000.0) as u64,
        target_id: fields[5].strip_prefix("target_id=")?.parse().ok()?,
        nr_regions: fields[6].strip_prefix("nr_regions=")?.parse().ok()?,
        start: start.parse().ok()?,
        end: end.parse().ok()?,
        nr_accesses: fields[8].parse().ok()?,
        // The age came with Linux 5.16; damo reads older traces with none.
        age: fields.get(9).map_or(Some(0), |age| age.parse().ok())?,
    })
}

/// A record being read, with whether its last snapshot still waits for regions and
/// whether that snapshot is damo's stand-in.
struct Building {
    record: Record,
    nr_regions: usize,
    fake_last: bool,
}

pub(super) fn parse(path: &Path, reader: Box<dyn BufRead>) -> Result<Vec<Record>, RecordFileError> {
    let mut records: Vec<Building> = Vec::new();
    for (line_index, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| RecordFileError::read(path, e))?;
        let Some(event) = parse_line(&line) else { continue };
        let position = match records
            .iter()
            .position(|b| b.record.info.target_id == Some(event.target_id))
        {
            Some(position) => position,
            None => {
                let mut info = RecordInfo::new(records.len());
                info.target_id = Some(event.target_id);
                records.push(Building {
                    record: Record {
                        info,
                        snapshots: Vec::new(),
                    },
                    nr_regions: 0,
                    fake_last: false,
                });
                records.len() - 1
            }
        };
        let building = &mut records[position];
        let snapshots = &mut building.record.snapshots;
        let complete = snapshots.last().is_none_or(|s| s.regions.len() >= building.nr_regions);
        if complete {
            let start_ns = match snapshots.last() {
                Some(previous) if previous.end_ns > event.end_ns => {
                    return Err(RecordFileError::malformed(
                        path,
                        format!("line {}: the trace is not in time order", line_index + 1),
                    ));
                }
                Some(previous) => previous.end_ns,
                // Deduced once every snapshot is in.
                None => event.end_ns,
            };
            snapshots.push(Snapshot {
                start_ns,
                end_ns: event.end_ns,
                regions: Vec::with_capacity(event.nr_regions),
                total_bytes: 0,
            });
            building.nr_regions = event.nr_regions;
            building.fake_last = false;
        }
        let fake = event.start == 0 && event.end == 0 && event.nr_accesses == -1 && event.age == -1;
        let count = |value: i64, what: &str| {
            u32::try_from(value).map_err(|_| {
                RecordFileError::malformed(path, format!("line {}: {what} {value} is out of range", line_index + 1))
            })
        };
        let region = if fake {
            Region {
                start: 0,
                end: 0,
                nr_accesses: 0,
                age_aggrs: 0,
            }
        } else {
            Region {
                start: event.start,
                end: event.end.max(event.start),
                nr_accesses: count(event.nr_accesses, "nr_accesses")?,
                age_aggrs: count(event.age, "age")?,
            }
        };
        building.fake_last = fake && building.nr_regions == 1;
        if let Some(snapshot) = snapshots.last_mut() {
            snapshot.total_bytes = snapshot.total_bytes.saturating_add(region.size_bytes());
            snapshot.regions.push(region);
        }
    }
    Ok(records.into_iter().map(finish_record).collect())
}

fn finish_record(mut building: Building) -> Record {
    let snapshots = &mut building.record.snapshots;
    if let [first, .., last] = snapshots.as_mut_slice() {
        let mean_ns = (last.end_ns - first.end_ns) as f64 / (snapshots.len() - 1) as f64;
        let first = &mut snapshots[0];
        first.start_ns = (first.end_ns as f64 - mean_ns).max(0.0) as u64;
    }
    if building.fake_last {
        snapshots.pop();
    }
    building.record
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    fn parse_text(text: &str) -> Vec<Record> {
        parse(Path::new("damon.data"), Box::new(Cursor::new(text.to_owned()))).unwrap()
    }

    #[test]
    fn perf_script_lines_make_snapshots_per_target() {
        let text = "\
kdamond.0  4452 [000] 10.000100: damon:damon_aggregated: target_id=0 nr_regions=2 4096-8192: 3 5
kdamond.0  4452 [000] 10.000100: damon:damon_aggregated: target_id=0 nr_regions=2 8192-16384: 0 9
kdamond.0  4452 [000] 10.000100: damon:damon_aggregated: target_id=1 nr_regions=1 0-4096: 1 1
some other line
kdamond.0  4452 [000] 10.100100: damon:damon_aggregated: target_id=0 nr_regions=1 4096-16384: 2 0
kdamond.0  4452 [000] 10.300100: damon:damon_aggregated: target_id=0 nr_regions=1 4096-16384: 4 1
";
        let records = parse_text(text);
        assert_eq!(records.len(), 2);
        let target0 = &records[0];
        assert_eq!(target0.info.target_id, Some(0));
        let times: Vec<(u64, u64)> = target0.snapshots.iter().map(|s| (s.start_ns, s.end_ns)).collect();
        // The first starts the mean interval (150 ms) before its end.
        assert_eq!(
            times,
            [
                (9_850_100_000, 10_000_100_000),
                (10_000_100_000, 10_100_100_000),
                (10_100_100_000, 10_300_100_000)
            ]
        );
        assert_eq!(target0.snapshots[0].regions.len(), 2);
        assert_eq!(target0.snapshots[0].total_bytes, 12_288);
        assert_eq!(
            target0.snapshots[0].regions[0],
            Region {
                start: 4096,
                end: 8192,
                nr_accesses: 3,
                age_aggrs: 5
            }
        );
        // A lone snapshot's start cannot be deduced: it stays at its end.
        assert_eq!(records[1].snapshots[0].start_ns, records[1].snapshots[0].end_ns);
    }

    #[test]
    fn damos_stand_in_snapshot_is_dropped_after_deducing_the_start() {
        let text = "\
kdamond.x xxxx xxxx 1.000000: damon:damon_aggregated: target_id=3 nr_regions=1 4096-8192: 3 5
kdamond.x xxxx xxxx 1.100000: damon:damon_aggregated: target_id=3 nr_regions=1 0-0: -1 -1
";
        let records = parse_text(text);
        assert_eq!(records[0].snapshots.len(), 1);
        assert_eq!(records[0].snapshots[0].start_ns, 900_000_000);
    }

    #[test]
    fn time_going_back_is_an_error() {
        let text = "\
kdamond.0 1 [0] 2.0: damon:damon_aggregated: target_id=0 nr_regions=1 0-4096: 0 0
kdamond.0 1 [0] 1.0: damon:damon_aggregated: target_id=0 nr_regions=1 0-4096: 0 0
";
        let error = parse(Path::new("trace.txt"), Box::new(Cursor::new(text.to_owned()))).unwrap_err();
        assert!(
            error.to_string().contains("line 2: the trace is not in time order"),
            "{error}"
        );
    }
}
