//! `FILE.mem_footprint`, damo's record of memory footprints beside a record file: a JSON
//! list with one entry per sample (damo samples once a second), each
//! `{"time": SECONDS, "footprints": [...]}` with one footprint per target process,
//! `{"pid": PID, "footprint": {size, resident, shared, trs, lrs, drs, dt}}` in pages as
//! `/proc/PID/statm` gives them, then the system's, `{"pid": null, "footprint": {total,
//! free, available, buffers, cached}}` in KiB from `/proc/meminfo`. damo writes it
//! uncompressed, mode 0600; `damo report footprint` reads it.
//!
//! Written as the record file is: spooled while sampling, put in place whole at the end.
//! A process that is gone is left out of its sample (damo writes zeros for it; its
//! report sums the footprints, so both read the same).

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::RecordFileError;
use super::output::{Destination, Spool};
use crate::host::HostPaths;

/// The footprint file beside a record file: `FILE.mem_footprint`.
pub fn footprint_path(record_path: &Path) -> PathBuf {
    let mut name = record_path.as_os_str().to_owned();
    name.push(".mem_footprint");
    PathBuf::from(name)
}

/// Writes a `.mem_footprint` file; [`finish`](Self::finish) puts it in place.
pub struct FootprintWriter {
    destination: Destination,
    spool: BufWriter<Spool>,
    samples: u64,
}

#[derive(Serialize)]
struct Sample {
    time: f64,
    footprints: Vec<Entry>,
}

#[derive(Serialize)]
struct Entry {
    pid: Option<u32>,
    footprint: Footprint,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Footprint {
    Process(ProcessFootprint),
    System(SystemFootprint),
}

/// `/proc/PID/statm`, in pages.
#[derive(Serialize)]
struct ProcessFootprint {
    size: u64,
    resident: u64,
    shared: u64,
    trs: u64,
    lrs: u64,
    drs: u64,
    dt: u64,
}

/// `/proc/meminfo`, in KiB; null where the kernel lacks the field.
#[derive(Serialize)]
struct SystemFootprint {
    total: Option<u64>,
    free: Option<u64>,
    available: Option<u64>,
    buffers: Option<u64>,
    cached: Option<u64>,
}

impl FootprintWriter {
    /// Starts a footprint file at `path` (see [`footprint_path`]); an existing file is an
    /// error unless `overwrite`.
    pub fn create(path: &Path, overwrite: bool) -> Result<FootprintWriter, RecordFileError> {
        let destination = Destination::check(path, overwrite)?;
        let spool = BufWriter::new(destination.spool()?);
        Ok(FootprintWriter {
            destination,
            spool,
            samples: 0,
        })
    }

    /// Adds one sample of the processes `pids` and of the system, at `time_s` (seconds of
    /// the wall clock, as damo's `time.time()`).
    pub fn sample(&mut self, host: &HostPaths, pids: &[u32], time_s: f64) -> Result<(), RecordFileError> {
        let mut footprints: Vec<Entry> = pids
            .iter()
            .filter_map(|&pid| {
                let [size, resident, shared, trs, lrs, drs, dt] = host.process_statm_pages(pid)?;
                Some(Entry {
                    pid: Some(pid),
                    footprint: Footprint::Process(ProcessFootprint {
                        size,
                        resident,
                        shared,
                        trs,
                        lrs,
                        drs,
                        dt,
                    }),
                })
            })
            .collect();
        let meminfo = host
            .meminfo_kib()
            .map_err(|e| RecordFileError::read(host.proc_root.join("meminfo"), e))?;
        let field = |name: &str| meminfo.iter().find(|(n, _)| n == name).map(|&(_, kib)| kib);
        footprints.push(Entry {
            pid: None,
            footprint: Footprint::System(SystemFootprint {
                total: field("MemTotal"),
                free: field("MemFree"),
                available: field("MemAvailable"),
                buffers: field("Buffers"),
                cached: field("Cached"),
            }),
        });
        let sample = Sample {
            time: time_s,
            footprints,
        };
        let separator: &[u8] = if self.samples == 0 { b"[" } else { b"," };
        let written = self
            .spool
            .write_all(separator)
            .and_then(|()| serde_json::to_writer(&mut self.spool, &sample).map_err(Into::into));
        written.map_err(|e| RecordFileError::write(self.destination.path(), e))?;
        self.samples += 1;
        Ok(())
    }

    pub fn samples(&self) -> u64 {
        self.samples
    }

    /// Puts the file in place; returns its size.
    pub fn finish(self) -> Result<u64, RecordFileError> {
        let path = self.destination.path().to_path_buf();
        let closing: &[u8] = if self.samples == 0 { b"[]" } else { b"]" };
        let spool = self
            .spool
            .into_inner()
            .map_err(|e| RecordFileError::write(&path, e.into_error()))?;
        let mut reader = spool.into_reader().map_err(|e| RecordFileError::write(&path, e))?;
        self.destination.commit(|out| {
            std::io::copy(&mut reader, out)?;
            out.write_all(closing)
        })
    }

    /// Gives up the file: nothing of it stays behind.
    pub fn abandon(self) {
        drop(self);
    }
}
