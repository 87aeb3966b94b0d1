//! damo's own record-file functions and ours read each other's files with the same
//! numbers: damo 3.4's reader (`_damo_records`, run by the Python of damo's virtual
//! environment) on files our writer made, in both formats, and our reader on files damo's
//! writer made from records fabricated in Python (no DAMON needed), in its three formats.
//! `damo report wss` and `damo report access` read our compressed file too.
//!
//! Needs damo as the other real-damo tests do (`DAMO_POLICY_DAMO`, else `damo` on `PATH`)
//! with its Python beside it; skipped loudly without (failing with `REQUIRE_DAMO=1`).

use std::path::{Path, PathBuf};
use std::process::Command;

use damo_policy::record::file::{Format, Intervals, Record, RecordHeader, RecordWriter, read_records};
use damo_policy::record::{Aggregation, Region};
use serde_json::{Value, json};

use crate::damo::{damo, skip};

/// Prints, as JSON, what damo's reader makes of a record file (argv: path, how to read it).
const DAMO_READS: &str = r#"
import json, os, sys
import damo
sys.path.insert(0, os.path.dirname(damo.__file__))
import _damo_records

path, how = sys.argv[1], sys.argv[2]
if how == 'file':
    records, err = _damo_records.parse_records_file(path)
    if err is not None:
        sys.exit('damo failed: %s' % err)
elif how == 'json':
    records = _damo_records.parse_json_file(path)
elif how == 'json_compressed':
    records = _damo_records.parse_compressed_json(path)
else:
    with open(path) as f:
        records, err = _damo_records.parse_damon_trace(f.read(), 'perf-script', None)

def view(record):
    iv = record.intervals
    return {
        'kdamond_idx': record.kdamond_idx, 'context_idx': record.context_idx,
        'scheme_idx': record.scheme_idx, 'target_id': record.target_id,
        'intervals': None if iv is None else [iv.sample, iv.aggr, iv.ops_update],
        'snapshots': [[int(s.start_time), int(s.end_time), int(s.total_bytes),
                       [[r.start, r.end, r.nr_accesses.samples, r.age.aggr_intervals] for r in s.regions]]
                      for s in record.snapshots]}

print(json.dumps([view(r) for r in records]))
"#;

/// Writes records with damo's writer (argv: path, format) and prints them as damo holds them.
const DAMO_WRITES: &str = r#"
import json, os, sys
import damo
sys.path.insert(0, os.path.dirname(damo.__file__))
import _damo_records, _damon

path, file_type = sys.argv[1], sys.argv[2]
intervals = _damon.DamonIntervals(5000, 100000, 1000000)
records = []
for target_id, nr_snapshots in [(0, 12), (1, 7)]:
    record = _damo_records.DamonRecord(None, None, intervals, None, target_id, [])
    for i in range(nr_snapshots):
        end = 3_000_000_000 + i * 100_000_000 + target_id * 17
        regions = [_damon.DamonRegion(0x7f0000000000 + j * 0x200000, 0x7f0000000000 + (j + 1) * 0x200000,
                                      (i * 3 + j) % 21, _damon.unit_samples, i + j * 2, _damon.unit_aggr_intervals)
                   for j in range(4 + i % 3)]
        record.snapshots.append(_damo_records.DamonSnapshot(end - 100_000_000, end, regions, None))
    records.append(record)
err = _damo_records.write_damon_records(records, path, file_type, 0o600)
if err is not None:
    sys.exit('damo failed: %s' % err)
"#;

/// The Python of damo's virtual environment, or `None` once skipped.
fn damo_python() -> Option<(PathBuf, PathBuf)> {
    let damo = damo()?;
    let python = damo.parent().map(|bin| bin.join("python3")).filter(|p| p.is_file());
    let Some(python) = python else {
        skip("no python3 beside damo (damo's virtual environment)");
        return None;
    };
    Some((damo, python))
}

fn python(python: &Path, script: &str, args: &[&str]) -> String {
    let output = Command::new(python)
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("runs damo's python");
    assert!(
        output.status.success(),
        "damo's python failed on {args:?}:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Our reader's records in the shape the Python prints.
fn view(records: &[Record]) -> Value {
    Value::Array(
        records
            .iter()
            .map(|record| {
                let info = &record.info;
                json!({
                    "kdamond_idx": info.kdamond_idx, "context_idx": info.context_idx,
                    "scheme_idx": info.scheme_idx, "target_id": info.target_id,
                    "intervals": info.intervals.map(|iv| [iv.sample_us, iv.aggr_us, iv.ops_update_us]),
                    "snapshots": record.snapshots.iter().map(|s| json!([
                        s.start_ns, s.end_ns, s.total_bytes,
                        s.regions.iter().map(|r| [r.start, r.end, u64::from(r.nr_accesses), u64::from(r.age_aggrs)]).collect::<Vec<_>>()
                    ])).collect::<Vec<_>>(),
                })
            })
            .collect(),
    )
}

/// Three targets of a recording, interleaved; a lone snapshot for the third.
fn write_ours(path: &Path, format: Format) {
    let intervals = Intervals {
        sample_us: 5_000,
        aggr_us: 100_000,
        ops_update_us: 1_000_000,
    };
    let headers = (0..3)
        .map(|target_id| RecordHeader {
            kdamond_idx: 0,
            context_idx: 0,
            scheme_idx: None,
            target_id,
            intervals,
        })
        .collect();
    let mut writer = RecordWriter::create(path, format, false, headers).unwrap();
    for step in 0..40_u64 {
        for target_id in 0..3_u64 {
            if target_id == 2 && step > 0 {
                continue;
            }
            let regions = (0..(3 + step % 5))
                .map(|i| Region {
                    start: 0x5555_0000_0000 + i * 0x40_0000 + target_id,
                    end: 0x5555_0000_0000 + (i + 1) * 0x40_0000,
                    nr_accesses: ((step * 7 + i) % 21) as u32,
                    age_aggrs: (step + i * 10) as u32,
                })
                .collect();
            writer
                .push(&Aggregation {
                    target_id,
                    end_ns: 86_400_000_000_000 + step * 100_000_123 + target_id,
                    regions,
                })
                .unwrap();
        }
    }
    writer.finish().unwrap();
}

#[test]
fn damo_reads_our_record_files_with_the_same_numbers() {
    let Some((damo, python_path)) = damo_python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for (format, how) in [(Format::JsonCompressed, "json_compressed"), (Format::Json, "json")] {
        let path = dir.path().join(format!("ours.{how}"));
        write_ours(&path, format);
        let ours = view(&read_records(&path).unwrap());
        assert_eq!(ours[0]["snapshots"].as_array().unwrap().len(), 40);
        let theirs: Value =
            serde_json::from_str(&python(&python_path, DAMO_READS, &[path.to_str().unwrap(), how])).unwrap();
        assert_eq!(theirs, ours, "damo reads our {how} file differently");
    }
    // damo's reports, which tell the format by `file`'s verdict (its JSON check fails with
    // file 5.44's "JSON text data", so the compressed file is the one they take).
    let compressed = dir.path().join("ours.json_compressed");
    if Command::new("file").arg("--version").output().is_err() {
        skip("`file`, which damo's reader runs, is not installed");
        return;
    }
    let theirs: Value = serde_json::from_str(&python(
        &python_path,
        DAMO_READS,
        &[compressed.to_str().unwrap(), "file"],
    ))
    .unwrap();
    assert_eq!(theirs, view(&read_records(&compressed).unwrap()));
    for report in [&["report", "wss", "--raw_number"][..], &["report", "access"][..]] {
        let output = Command::new(&damo)
            .args(report)
            .arg("--input")
            .arg(&compressed)
            .env("HOME", dir.path())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "damo {report:?} failed:\n{stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(!stdout.contains("rror"), "damo {report:?}: {stdout}");
    }
}

#[test]
fn we_read_damos_record_files_with_the_same_numbers() {
    let Some((_, python_path)) = damo_python() else { return };
    let dir = tempfile::tempdir().unwrap();
    for file_type in ["json_compressed", "json", "perf_script"] {
        let path = dir.path().join(format!("damo.{file_type}"));
        python(&python_path, DAMO_WRITES, &[path.to_str().unwrap(), file_type]);
        let theirs: Value =
            serde_json::from_str(&python(&python_path, DAMO_READS, &[path.to_str().unwrap(), file_type])).unwrap();
        let ours = view(&read_records(&path).unwrap());
        assert_eq!(ours.as_array().unwrap().len(), 2, "{file_type}");
        assert_eq!(ours, theirs, "we read damo's {file_type} file differently");
    }
}
