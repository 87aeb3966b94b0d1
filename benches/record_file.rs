//! Record file writer benchmark: a one-hour recording at a 100 ms aggregation interval,
//! 36,000 snapshots of 1,000 regions, written as `json_compressed` (and `json`): time,
//! throughput, file size per snapshot and the process's peak RSS (`VmHWM`), which must
//! not grow with the number of snapshots (goal < 30 MiB). With damo installed
//! (`DAMO_POLICY_DAMO`, its Python beside it), damo 3.4's writer writes the first
//! snapshots of the same recording for the file size per snapshot beside ours.
//!
//! The regions follow a synthetic workload: 1,000 regions of 4 KiB to 256 KiB whose
//! boundaries drift as DAMON's splits and merges move them, a hot tenth of them moving
//! every 5 s, the rest rarely accessed, ages counting up while the access count holds.
//!
//! `cargo bench --bench record_file` (`RECORD_SNAPSHOTS=N` for another length,
//! `RECORD_DIR` for where the files go: the `json` file of an hour takes 4.5 GiB).
//!
//! Measured on a shared 2-core VM (36,000 x 1,000): `json_compressed` 170 s (211
//! snapshots/s, 4.7% of a core for a real hour), 10.0 kB a snapshot; `json` 51 s, 130 kB a
//! snapshot; peak RSS 2.5 MiB for either. damo's writer, first 300 snapshots: 14.6 kB
//! (compressed) and 554 kB (json) a snapshot, against 10.0 kB and 130 kB here.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use damo_policy::record::file::{Format, Intervals, RecordHeader, RecordWriter};
use damo_policy::record::{Aggregation, Region};

const REGIONS: usize = 1_000;
const BASE_ADDRESS: u64 = 0x7f00_0000_0000;
const BASE_NS: u64 = 86_400_000_000_000;
const AGGREGATION_NS: u64 = 100_000_000;
const PAGE: u64 = 4096;

/// The synthetic workload; `DAMO_MODEL` below is the same in Python.
struct Model {
    x: u64,
    step: u64,
    aggregation: Aggregation,
}

impl Model {
    fn new() -> Self {
        let mut model = Model {
            x: 42,
            step: 0,
            aggregation: Aggregation {
                target_id: 0,
                end_ns: 0,
                regions: Vec::with_capacity(REGIONS),
            },
        };
        let mut start = BASE_ADDRESS;
        for _ in 0..REGIONS {
            let size = PAGE * (1 + model.next() % 64);
            model.aggregation.regions.push(Region {
                start,
                end: start + size,
                nr_accesses: 0,
                age_aggrs: 0,
            });
            start += size;
        }
        model
    }

    fn next(&mut self) -> u64 {
        self.x = self
            .x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.x >> 33
    }

    fn advance(&mut self) -> &Aggregation {
        for i in 0..REGIONS - 1 {
            if !self.next().is_multiple_of(20) {
                continue;
            }
            let grow_left = self.next() % 2 == 1;
            let regions = &mut self.aggregation.regions;
            if !grow_left && regions[i].size_bytes() > PAGE {
                regions[i].end -= PAGE;
                regions[i + 1].start -= PAGE;
            } else if grow_left && regions[i + 1].size_bytes() > PAGE {
                regions[i].end += PAGE;
                regions[i + 1].start += PAGE;
            }
        }
        for i in 0..REGIONS {
            let r = self.next();
            let hot = (i as u64 / 100 + self.step / 50).is_multiple_of(10);
            let nr_accesses = if hot {
                (r % 21) as u32
            } else {
                u32::from(r.is_multiple_of(10))
            };
            let region = &mut self.aggregation.regions[i];
            region.age_aggrs = if nr_accesses == region.nr_accesses {
                region.age_aggrs + 1
            } else {
                0
            };
            region.nr_accesses = nr_accesses;
        }
        self.aggregation.end_ns = BASE_NS + self.step * AGGREGATION_NS + self.next() % 1000;
        self.step += 1;
        &self.aggregation
    }
}

const DAMO_MODEL: &str = r#"
import os, sys
import damo
sys.path.insert(0, os.path.dirname(damo.__file__))
import _damo_records, _damon

path, file_type, nr_snapshots = sys.argv[1], sys.argv[2], int(sys.argv[3])
MASK = (1 << 64) - 1
x = 42
def nxt():
    global x
    x = (x * 6364136223846793005 + 1442695040888963407) & MASK
    return x >> 33
regions = []
start = 0x7f0000000000
for _ in range(1000):
    size = 4096 * (1 + nxt() % 64)
    regions.append([start, start + size, 0, 0])
    start += size
record = _damo_records.DamonRecord(None, None, _damon.DamonIntervals(5000, 100000, 1000000), None, 0, [])
prev_end = None
for step in range(nr_snapshots):
    for i in range(999):
        if nxt() % 20 != 0:
            continue
        grow_left = nxt() % 2 == 1
        if not grow_left and regions[i][1] - regions[i][0] > 4096:
            regions[i][1] -= 4096; regions[i + 1][0] -= 4096
        elif grow_left and regions[i + 1][1] - regions[i + 1][0] > 4096:
            regions[i][1] += 4096; regions[i + 1][0] += 4096
    for i in range(1000):
        r = nxt()
        hot = (i // 100 + step // 50) % 10 == 0
        nr = r % 21 if hot else (1 if r % 10 == 0 else 0)
        regions[i][3] = regions[i][3] + 1 if nr == regions[i][2] else 0
        regions[i][2] = nr
    end = 86400000000000 + step * 100000000 + nxt() % 1000
    start_time = prev_end if prev_end is not None else end - 100000000
    record.snapshots.append(_damo_records.DamonSnapshot(start_time, end, [
        _damon.DamonRegion(s, e, n, _damon.unit_samples, a, _damon.unit_aggr_intervals)
        for s, e, n, a in regions], None))
    prev_end = end
err = _damo_records.write_damon_records([record], path, file_type, 0o600)
if err is not None:
    sys.exit(err)
"#;

fn header() -> RecordHeader {
    RecordHeader {
        kdamond_idx: 0,
        context_idx: 0,
        scheme_idx: None,
        target_id: 0,
        intervals: Intervals {
            sample_us: 5_000,
            aggr_us: 100_000,
            ops_update_us: 1_000_000,
        },
    }
}

/// Writes `snapshots` snapshots of the model; returns the file size and the seconds taken.
fn write(path: &Path, format: Format, snapshots: u64) -> (u64, f64) {
    let started = Instant::now();
    let mut model = Model::new();
    let mut writer = RecordWriter::create(path, format, true, vec![header()]).expect("create");
    for _ in 0..snapshots {
        writer.push(model.advance()).expect("push");
    }
    let summary = writer.finish().expect("finish");
    (summary.bytes, started.elapsed().as_secs_f64())
}

/// The process's peak resident set so far, in KiB.
fn peak_rss_kib() -> u64 {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status.lines().find_map(|line| {
                line.strip_prefix("VmHWM:")?
                    .trim()
                    .strip_suffix("kB")?
                    .trim()
                    .parse()
                    .ok()
            })
        })
        .unwrap_or(0)
}

fn main() {
    let snapshots: u64 = std::env::var("RECORD_SNAPSHOTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(36_000);
    let dir = tempfile::tempdir_in(std::env::var_os("RECORD_DIR").unwrap_or_else(|| ".".into()))
        .expect("temporary directory");
    println!("record file writer: {snapshots} snapshots x {REGIONS} regions (a one-hour recording at 100 ms)");
    println!("| format | time | snapshots/s | file | bytes/snapshot | peak RSS |");
    println!("|---|---|---|---|---|---|");
    for format in [Format::JsonCompressed, Format::Json] {
        let path = dir.path().join(format!("damon.{format}"));
        let (bytes, seconds) = write(&path, format, snapshots);
        println!(
            "| {format} | {seconds:.1} s | {:.0} | {:.1} MiB | {} | {:.1} MiB |",
            snapshots as f64 / seconds,
            bytes as f64 / 1_048_576.0,
            bytes / snapshots.max(1),
            peak_rss_kib() as f64 / 1024.0
        );
        fs::remove_file(&path).expect("remove");
    }
    compare_with_damo(dir.path());
}

/// File size per snapshot of damo's writer and ours, for the recording's first snapshots
/// (damo's writer holds the whole recording in memory, as Python objects).
fn compare_with_damo(dir: &Path) {
    const SNAPSHOTS: u64 = 300;
    let Some(damo) = std::env::var_os("DAMO_POLICY_DAMO") else {
        println!("(set DAMO_POLICY_DAMO to compare with damo's writer)");
        return;
    };
    let python = Path::new(&damo).with_file_name("python3");
    println!("\nfile size per snapshot, first {SNAPSHOTS} snapshots: damo 3.4.3's writer and ours");
    println!("| format | damo | damo-policy |");
    println!("|---|---|---|");
    for format in [Format::JsonCompressed, Format::Json] {
        let theirs = dir.join(format!("theirs.{format}"));
        let status = Command::new(&python)
            .args(["-c", DAMO_MODEL])
            .arg(&theirs)
            .arg(format.name())
            .arg(SNAPSHOTS.to_string())
            .status()
            .expect("damo's python");
        assert!(status.success(), "damo's writer failed");
        let theirs_bytes = fs::metadata(&theirs).expect("damo's file").len();
        let (ours_bytes, _) = write(&dir.join(format!("ours.{format}")), format, SNAPSHOTS);
        println!(
            "| {format} | {} | {} |",
            theirs_bytes / SNAPSHOTS,
            ours_bytes / SNAPSHOTS
        );
    }
}
