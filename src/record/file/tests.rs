//! Round trips through the writer and the reader, and the file safety rules.

use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::*;
use crate::host::HostPaths;
use crate::record::{Aggregation, Region};

const INTERVALS: Intervals = Intervals {
    sample_us: 5_000,
    aggr_us: 100_000,
    ops_update_us: 1_000_000,
};

fn header(target_id: u64) -> RecordHeader {
    RecordHeader {
        kdamond_idx: 0,
        context_idx: 0,
        scheme_idx: None,
        target_id,
        intervals: INTERVALS,
    }
}

fn aggregation(target_id: u64, end_ns: u64, seed: u32) -> Aggregation {
    let regions = (0..3_u64)
        .map(|i| Region {
            start: 0x7f00_0000_0000 + i * 0x10_0000,
            end: 0x7f00_0000_0000 + (i + 1) * 0x10_0000,
            nr_accesses: (seed + i as u32) % 21,
            age_aggrs: seed * 3 + i as u32,
        })
        .collect();
    Aggregation {
        target_id,
        end_ns,
        regions,
    }
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Two targets' snapshots, interleaved as a recording yields them.
fn write_two_targets(path: &Path, format: Format) -> (Summary, Vec<Aggregation>) {
    let mut writer = RecordWriter::create(path, format, false, vec![header(0), header(1)]).unwrap();
    let mut pushed = Vec::new();
    for step in 0..50_u64 {
        for target in [0, 1] {
            let aggregation = aggregation(target, 5_000_000_000 + step * 100_000_000 + target, step as u32);
            writer.push(&aggregation).unwrap();
            pushed.push(aggregation);
        }
    }
    assert_eq!(writer.snapshots(), 100);
    (writer.finish().unwrap(), pushed)
}

#[test]
fn round_trip_in_both_formats() {
    for format in [Format::JsonCompressed, Format::Json] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("damon.data");
        let (summary, pushed) = write_two_targets(&path, format);
        assert_eq!(summary.records, 2);
        assert_eq!(summary.snapshots, 100);
        assert_eq!(summary.bytes, fs::metadata(&path).unwrap().len());
        let records = read_records(&path).unwrap();
        assert_eq!(records.len(), 2);
        for (index, record) in records.iter().enumerate() {
            let target_id = index as u64;
            assert_eq!(
                record.info,
                RecordInfo {
                    index,
                    kdamond_idx: 0,
                    context_idx: 0,
                    scheme_idx: None,
                    target_id: Some(target_id),
                    intervals: Some(INTERVALS),
                }
            );
            let expected: Vec<&Aggregation> = pushed.iter().filter(|a| a.target_id == target_id).collect();
            assert_eq!(record.snapshots.len(), expected.len());
            for (i, (snapshot, aggregation)) in record.snapshots.iter().zip(&expected).enumerate() {
                assert_eq!(snapshot.end_ns, aggregation.end_ns);
                assert_eq!(snapshot.regions, aggregation.regions);
                assert_eq!(snapshot.total_bytes, 3 * 0x10_0000);
                // Each starts where the previous ended; the first, one mean interval before.
                let start = if i == 0 {
                    aggregation.end_ns - 100_000_000
                } else {
                    expected[i - 1].end_ns
                };
                assert_eq!(snapshot.start_ns, start);
            }
        }
        // Only the file is left: the spools are gone.
        assert_eq!(names_in(dir.path()), ["damon.data"]);
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        // The compressed file is zlib (as `file` tells damo), the other plain JSON.
        let head = fs::read(&path).unwrap();
        match format {
            Format::JsonCompressed => assert_eq!(&head[..2], &[0x78, 0x9c]),
            Format::Json => assert!(head.starts_with(b"[{\"kdamond_idx\":0,\"context_idx\":0,\"intervals\":")),
        }
    }
}

#[test]
fn the_text_has_damos_keys_and_raw_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("damon.data");
    let mut writer = RecordWriter::create(&path, Format::JsonCompressed, false, vec![header(4)]).unwrap();
    writer.push(&aggregation(4, 1_000_000_000, 1)).unwrap();
    writer.finish().unwrap();
    let mut text = String::new();
    flate2::read::ZlibDecoder::new(fs::File::open(&path).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let region = serde_json::json!({
        "start": 0x7f00_0000_0000_u64, "end": 0x7f00_0010_0000_u64,
        "nr_accesses": {"samples": 1, "percent": null},
        "age": {"usec": null, "aggr_intervals": 3}
    });
    assert_eq!(json[0]["snapshots"][0]["regions"][0], region);
    let mut record = json[0].clone();
    record["snapshots"] = serde_json::json!([]);
    assert_eq!(
        record,
        serde_json::json!({
            "kdamond_idx": 0, "context_idx": 0,
            "intervals": {"sample_us": 5000, "aggr_us": 100000, "ops_update_us": 1000000},
            "scheme_idx": null, "target_id": 4, "scheme_filters": [], "snapshots": [],
            "data_source": "unknown"
        })
    );
    let snapshot = &json[0]["snapshots"][0];
    // A lone snapshot starts one aggregation interval before its end.
    assert_eq!(snapshot["start_time"], 900_000_000);
    assert_eq!(snapshot["end_time"], 1_000_000_000);
    assert_eq!(snapshot["total_bytes"], 3 * 0x10_0000);
    assert_eq!(snapshot["damos_stats"], serde_json::Value::Null);
}

#[test]
fn scheme_records_have_no_target_id_and_interval_long_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tried.data");
    let mut scheme_header = header(0);
    scheme_header.kdamond_idx = 2;
    scheme_header.scheme_idx = Some(1);
    let mut writer = RecordWriter::create(&path, Format::Json, false, vec![scheme_header]).unwrap();
    for second in 1..=3 {
        writer.push(&aggregation(0, second * 1_000_000_000, 0)).unwrap();
    }
    writer.finish().unwrap();
    let records = read_records(&path).unwrap();
    assert_eq!(records[0].info.kdamond_idx, 2);
    assert_eq!(records[0].info.scheme_idx, Some(1));
    assert_eq!(records[0].info.target_id, None);
    let times: Vec<(u64, u64)> = records[0].snapshots.iter().map(|s| (s.start_ns, s.end_ns)).collect();
    assert_eq!(
        times,
        [
            (900_000_000, 1_000_000_000),
            (1_900_000_000, 2_000_000_000),
            (2_900_000_000, 3_000_000_000)
        ]
    );
}

#[test]
fn first_start_is_the_mean_interval_before_the_first_end_truncated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("damon.data");
    let mut writer = RecordWriter::create(&path, Format::Json, false, vec![header(0)]).unwrap();
    for end_ns in [1_000, 1_100, 1_200, 1_300] {
        writer.push(&aggregation(0, end_ns, 0)).unwrap();
    }
    // Uneven: mean (1,350 − 1,000) / 4 = 87.5 → 912.5 → 912.
    writer.push(&aggregation(0, 1_350, 0)).unwrap();
    writer.finish().unwrap();
    let records = read_records(&path).unwrap();
    assert_eq!(records[0].snapshots[0].start_ns, 912);
}

#[test]
fn targets_without_snapshots_get_no_record_and_no_snapshots_make_an_empty_list() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("damon.data");
    let mut writer = RecordWriter::create(&path, Format::Json, false, vec![header(0), header(1)]).unwrap();
    writer.push(&aggregation(1, 10, 0)).unwrap();
    assert_eq!(writer.finish().unwrap().records, 1);
    assert_eq!(read_records(&path).unwrap()[0].info.target_id, Some(1));
    let empty = dir.path().join("empty.data");
    let writer = RecordWriter::create(&empty, Format::JsonCompressed, false, vec![header(0)]).unwrap();
    assert_eq!(writer.finish().unwrap().records, 0);
    assert_eq!(read_records(&empty).unwrap(), []);
}

#[test]
fn pushes_of_unknown_targets_and_backward_times_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("damon.data");
    assert!(matches!(
        RecordWriter::create(&path, Format::Json, false, vec![header(0), header(0)]),
        Err(RecordFileError::DuplicateTarget { target_id: 0, .. })
    ));
    let mut writer = RecordWriter::create(&path, Format::Json, false, vec![header(0)]).unwrap();
    let error = writer.push(&aggregation(7, 10, 0)).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!("{}: no record for DAMON target 7", path.display())
    );
    writer.push(&aggregation(0, 10, 0)).unwrap();
    assert!(matches!(
        writer.push(&aggregation(0, 9, 0)),
        Err(RecordFileError::OutOfOrder {
            previous_end_ns: 10,
            end_ns: 9,
            ..
        })
    ));
    writer.abandon();
    assert_eq!(names_in(dir.path()), Vec::<String>::new());
}

#[test]
fn an_existing_file_is_kept_unless_overwriting() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("damon.data");
    fs::write(&path, "precious").unwrap();
    let error = RecordWriter::create(&path, Format::Json, false, vec![header(0)])
        .err()
        .unwrap();
    assert_eq!(
        error.to_string(),
        format!("{} exists (not overwritten without --force)", path.display())
    );
    assert_eq!(fs::read_to_string(&path).unwrap(), "precious");
    // A file that appears while recording is not replaced either.
    fs::remove_file(&path).unwrap();
    let mut writer = RecordWriter::create(&path, Format::Json, false, vec![header(0)]).unwrap();
    writer.push(&aggregation(0, 10, 0)).unwrap();
    fs::write(&path, "appeared").unwrap();
    assert!(matches!(writer.finish(), Err(RecordFileError::Exists { .. })));
    assert_eq!(fs::read_to_string(&path).unwrap(), "appeared");
    assert_eq!(names_in(dir.path()), ["damon.data"]);
    // Overwriting replaces it, with mode 0600 whatever its mode was.
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    let mut writer = RecordWriter::create(&path, Format::Json, true, vec![header(0)]).unwrap();
    writer.push(&aggregation(0, 10, 0)).unwrap();
    writer.finish().unwrap();
    assert_eq!(read_records(&path).unwrap()[0].snapshots.len(), 1);
    assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    // A directory is no file to record into.
    assert!(matches!(
        RecordWriter::create(dir.path(), Format::Json, true, vec![]),
        Err(RecordFileError::IsADirectory { .. })
    ));
}

#[test]
fn a_full_device_is_an_error_naming_it() {
    let full = Path::new("/dev/full");
    if !full.exists() {
        return;
    }
    let mut writer = RecordWriter::create(full, Format::JsonCompressed, false, vec![header(0)]).unwrap();
    for step in 0..10 {
        writer.push(&aggregation(0, step * 100, 0)).unwrap();
    }
    let error = writer.finish().unwrap_err();
    assert!(matches!(error, RecordFileError::Write { .. }));
    assert!(error.to_string().starts_with("cannot write /dev/full: "), "{error}");
    let mut footprint = FootprintWriter::create(full, false).unwrap();
    let proc_dir = tempfile::tempdir().unwrap();
    let host = fixture_host(proc_dir.path());
    footprint.sample(&host, &[], 1.0).unwrap();
    assert!(
        footprint
            .finish()
            .unwrap_err()
            .to_string()
            .starts_with("cannot write /dev/full: ")
    );
}

#[test]
fn a_device_is_written_directly() {
    let null = Path::new("/dev/null");
    if !null.exists() {
        return;
    }
    let mut writer = RecordWriter::create(null, Format::Json, false, vec![header(0)]).unwrap();
    writer.push(&aggregation(0, 100, 0)).unwrap();
    let summary = writer.finish().unwrap();
    assert!(summary.bytes > 100);
    assert!(null.exists());
}

#[test]
fn streaming_reader_sees_each_snapshot_with_its_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("damon.data");
    write_two_targets(&path, Format::JsonCompressed);
    let mut seen = Vec::new();
    for_each_snapshot(&path, |info, snapshot| {
        seen.push((info.index, info.target_id, snapshot.end_ns))
    })
    .unwrap();
    assert_eq!(seen.len(), 100);
    assert_eq!(seen[0], (0, Some(0), 5_000_000_000));
    assert_eq!(seen[50], (1, Some(1), 5_000_000_001));
}

#[test]
fn damos_own_text_forms_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("damo.json");
    // As damo 3.4's writer puts it: strings, thousands separators, units.
    fs::write(
        &path,
        r#"[{"kdamond_idx": 0, "context_idx": 0,
             "intervals": {"sample_us": "5000", "aggr_us": "100000", "ops_update_us": "1000000",
                           "intervals_goal": {"access_bp": "0.000000", "aggrs": "0"}},
             "scheme_idx": null, "target_id": 0, "scheme_filters": [],
             "snapshots": [{"start_time": "900", "end_time": "1000",
                 "regions": [{"start": "0", "end": "4,096", "nr_accesses": {"samples": 2, "percent": null},
                              "age": {"usec": null, "aggr_intervals": "7"}, "probe_hits": [],
                              "sz_filter_passed": "0 B"},
                             {"start": "4,096", "end": "8,192", "nr_accesses": {"percent": 50},
                              "age": {"usec": "300 ms", "aggr_intervals": null}}],
                 "total_bytes": "8192", "damos_stats": null, "sample_interval_us": null}],
             "data_source": "unknown"}]"#,
    )
    .unwrap();
    let records = read_records(&path).unwrap();
    let snapshot = &records[0].snapshots[0];
    assert_eq!(
        (snapshot.start_ns, snapshot.end_ns, snapshot.total_bytes),
        (900, 1000, 8192)
    );
    assert_eq!(
        snapshot.regions,
        [
            Region {
                start: 0,
                end: 4096,
                nr_accesses: 2,
                age_aggrs: 7
            },
            // 50% of 20 samples; 300 ms of 100 ms intervals.
            Region {
                start: 4096,
                end: 8192,
                nr_accesses: 10,
                age_aggrs: 3
            }
        ]
    );
}

#[test]
fn files_that_are_not_records_say_what_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[u8], &str); 5] = [
        ("empty", b"", "is not a damo record file: an empty file"),
        (
            "object",
            b"{\"kdamonds\": []}",
            "is not a damo record file: a JSON object",
        ),
        (
            "policy.toml",
            b"[target]\npid = 1\n",
            "invalid record JSON: expected ident at line 1 column 3",
        ),
        (
            "binary",
            &[0xde, 0xad, 0xbe, 0xef],
            "is not a damo record file: neither zlib data",
        ),
        (
            "bad.json",
            b"[{\"snapshots\": [{\"end_time\": 5, \"regions\": [{\"start\": 1}]}]}]",
            "invalid record JSON: missing field `end`",
        ),
    ];
    for (name, content, message) in cases {
        let path = dir.path().join(name);
        fs::write(&path, content).unwrap();
        let error = read_records(&path).unwrap_err().to_string();
        assert!(error.starts_with(&path.display().to_string()), "{error}");
        assert!(error.contains(message), "{name}: {error}");
    }
    let broken = dir.path().join("broken.data");
    fs::write(&broken, [0x78, 0x9c, 0x01, 0x02, 0x03]).unwrap();
    assert!(
        read_records(&broken)
            .unwrap_err()
            .to_string()
            .starts_with("cannot read")
    );
    let missing = dir.path().join("missing");
    assert!(
        read_records(&missing)
            .unwrap_err()
            .to_string()
            .starts_with("cannot read")
    );
}

fn fixture_host(dir: &Path) -> HostPaths {
    fs::create_dir_all(dir.join("proc/42")).unwrap();
    fs::write(dir.join("proc/42/statm"), "2000 500 300 10 0 700 0\n").unwrap();
    fs::write(
        dir.join("proc/meminfo"),
        "MemTotal:       16000000 kB\nMemFree:         8000000 kB\nMemAvailable:   12000000 kB\n\
         Buffers:          100000 kB\nCached:          2000000 kB\nSwapCached:            0 kB\n",
    )
    .unwrap();
    HostPaths {
        proc_root: dir.join("proc"),
        ..HostPaths::default()
    }
}

#[test]
fn footprints_in_damos_format_skipping_gone_processes() {
    let dir = tempfile::tempdir().unwrap();
    let host = fixture_host(dir.path());
    let path = footprint_path(&dir.path().join("damon.data"));
    assert!(path.ends_with("damon.data.mem_footprint"));
    let mut writer = FootprintWriter::create(&path, false).unwrap();
    writer.sample(&host, &[42, 43], 1_700_000_000.25).unwrap();
    writer.sample(&host, &[42], 1_700_000_001.5).unwrap();
    assert_eq!(writer.samples(), 2);
    writer.finish().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    assert_eq!(
        json[0],
        serde_json::json!({"time": 1_700_000_000.25, "footprints": [
            {"pid": 42, "footprint": {"size": 2000, "resident": 500, "shared": 300, "trs": 10, "lrs": 0, "drs": 700, "dt": 0}},
            {"pid": null, "footprint": {"total": 16000000, "free": 8000000, "available": 12000000, "buffers": 100000, "cached": 2000000}}
        ]})
    );
    assert_eq!(json.as_array().unwrap().len(), 2);
    assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(names_in(dir.path()), ["damon.data.mem_footprint", "proc"]);
    // Refused when it exists; an empty one is an empty list.
    assert!(matches!(
        FootprintWriter::create(&path, false),
        Err(RecordFileError::Exists { .. })
    ));
    FootprintWriter::create(&path, true).unwrap().finish().unwrap();
    assert_eq!(fs::read_to_string(&path).unwrap(), "[]");
}
