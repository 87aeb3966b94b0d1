//! [`RecordWriter`]: aggregations in, a damo record file out, in bounded memory.
//!
//! damo's file groups snapshots by record, while a recording yields its targets'
//! snapshots interleaved; so each target's snapshots are spooled (compressed already, for
//! `json_compressed`) and the records are assembled one after another at the end.
//!
//! A record's first snapshot is kept back until then: damo reads only end times from a
//! trace and deduces the first snapshot's start as its end less the mean time between
//! snapshots, which is known only at the end.

use std::io::{self, BufWriter, Write};
use std::path::Path;

use flate2::write::DeflateEncoder;

use super::output::{Destination, Spool};
use super::zlib::{self, Adler32, Assembler, Checksummed};
use super::{Format, RecordFileError, RecordHeader, Summary, wire};
use crate::record::Aggregation;

/// Writes a record file; [`finish`](Self::finish) puts it in place, [`abandon`](Self::abandon)
/// (or dropping it) leaves nothing behind.
pub struct RecordWriter {
    destination: Destination,
    format: Format,
    targets: Vec<TargetRecord>,
    snapshots: u64,
}

/// One record's state while recording.
struct TargetRecord {
    header: RecordHeader,
    first: Option<Aggregation>,
    last_end_ns: u64,
    count: u64,
    /// The snapshots after the first, each as `,{…}`.
    later: BufWriter<Checksummed<SpoolSink>>,
}

/// A spool, through a deflate encoder for `json_compressed`.
enum SpoolSink {
    Plain(Spool),
    Deflated(DeflateEncoder<Spool>),
}

impl SpoolSink {
    fn spool(&self) -> &Spool {
        match self {
            SpoolSink::Plain(spool) => spool,
            SpoolSink::Deflated(encoder) => encoder.get_ref(),
        }
    }

    fn end(self) -> io::Result<Spool> {
        match self {
            SpoolSink::Plain(spool) => Ok(spool),
            SpoolSink::Deflated(encoder) => zlib::end_piece(encoder),
        }
    }
}

impl Write for SpoolSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            SpoolSink::Plain(spool) => spool.write(buf),
            SpoolSink::Deflated(encoder) => encoder.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            SpoolSink::Plain(spool) => spool.flush(),
            SpoolSink::Deflated(encoder) => encoder.flush(),
        }
    }
}

/// A target's spooled snapshots, ready to copy into the file.
struct Spooled {
    spool: Spool,
    adler: Adler32,
    len: u64,
}

impl RecordWriter {
    /// Starts a record file at `path` with one record per header. An existing file is an
    /// error unless `overwrite`; nothing appears at `path` before [`finish`](Self::finish).
    pub fn create(
        path: &Path,
        format: Format,
        overwrite: bool,
        headers: Vec<RecordHeader>,
    ) -> Result<RecordWriter, RecordFileError> {
        let destination = Destination::check(path, overwrite)?;
        let mut targets: Vec<TargetRecord> = Vec::with_capacity(headers.len());
        for header in headers {
            if targets.iter().any(|t| t.header.target_id == header.target_id) {
                return Err(RecordFileError::DuplicateTarget {
                    path: path.into(),
                    target_id: header.target_id,
                });
            }
            let spool = destination.spool()?;
            let sink = match format {
                Format::Json => SpoolSink::Plain(spool),
                Format::JsonCompressed => SpoolSink::Deflated(zlib::piece_encoder(spool)),
            };
            targets.push(TargetRecord {
                header,
                first: None,
                last_end_ns: 0,
                count: 0,
                later: BufWriter::with_capacity(SPOOL_BUFFER_BYTES, Checksummed::new(sink)),
            });
        }
        Ok(RecordWriter {
            destination,
            format,
            targets,
            snapshots: 0,
        })
    }

    /// Adds one snapshot to the record of its target.
    pub fn push(&mut self, aggregation: &Aggregation) -> Result<(), RecordFileError> {
        let path = self.destination.path();
        let Some(target) = self
            .targets
            .iter_mut()
            .find(|t| t.header.target_id == aggregation.target_id)
        else {
            return Err(RecordFileError::UnknownTarget {
                path: path.into(),
                target_id: aggregation.target_id,
            });
        };
        if target.count > 0 && aggregation.end_ns < target.last_end_ns {
            return Err(RecordFileError::OutOfOrder {
                path: path.into(),
                target_id: aggregation.target_id,
                previous_end_ns: target.last_end_ns,
                end_ns: aggregation.end_ns,
            });
        }
        if target.first.is_none() {
            target.first = Some(aggregation.clone());
        } else {
            let start_ns = match target.header.scheme_idx {
                Some(_) => one_interval_before(&target.header, aggregation.end_ns),
                None => target.last_end_ns,
            };
            let written = (|| {
                target.later.write_all(b",")?;
                wire::write_snapshot(&mut target.later, start_ns, aggregation.end_ns, &aggregation.regions)
            })();
            written.map_err(|e| RecordFileError::write(path, e))?;
        }
        target.last_end_ns = aggregation.end_ns;
        target.count += 1;
        self.snapshots += 1;
        Ok(())
    }

    /// Snapshots pushed so far.
    pub fn snapshots(&self) -> u64 {
        self.snapshots
    }

    /// Bytes spooled to disk so far (compressed for `json_compressed`): about the size
    /// the file will have.
    pub fn bytes_written(&self) -> u64 {
        self.targets.iter().map(|t| t.later.get_ref().inner.spool().len()).sum()
    }

    /// Assembles the file and puts it in place. On error nothing is left at the path
    /// (the spools vanish with the writer).
    pub fn finish(self) -> Result<Summary, RecordFileError> {
        let path = self.destination.path().to_path_buf();
        let mut records = Vec::new();
        for target in self.targets {
            let Some(first) = target.first else {
                // damo writes records only for targets it has snapshots of.
                continue;
            };
            let checksummed = target
                .later
                .into_inner()
                .map_err(|e| RecordFileError::write(&path, e.into_error()))?;
            let spool = checksummed.inner.end().map_err(|e| RecordFileError::write(&path, e))?;
            let first_start_ns = first_start_ns(&target.header, &first, target.last_end_ns, target.count);
            records.push((
                target.header,
                first,
                first_start_ns,
                Spooled {
                    spool,
                    adler: checksummed.adler,
                    len: checksummed.len,
                },
            ));
        }
        let record_count = records.len();
        let format = self.format;
        let bytes = self.destination.commit(|out| assemble(out, format, records))?;
        Ok(Summary {
            path,
            format,
            records: record_count,
            snapshots: self.snapshots,
            bytes,
        })
    }

    /// Gives up the file: nothing of it stays behind.
    pub fn abandon(self) {
        // The spools are unlinked already; closing them frees their space.
        drop(self);
    }
}

/// The spool's buffer: large writes reach the encoder, small snapshots batch up.
const SPOOL_BUFFER_BYTES: usize = 64 * 1024;

/// A snapshot's start taken one aggregation interval before its end, as damo dates the
/// snapshots it takes of a scheme's tried regions.
fn one_interval_before(header: &RecordHeader, end_ns: u64) -> u64 {
    end_ns.saturating_sub(header.intervals.aggr_us.saturating_mul(1000))
}

/// The first snapshot's start, deduced as damo deduces it from a trace: its end less the
/// mean time between snapshots (computed in floating point and truncated, as damo does);
/// with a single snapshot, one aggregation interval.
fn first_start_ns(header: &RecordHeader, first: &Aggregation, last_end_ns: u64, count: u64) -> u64 {
    if header.scheme_idx.is_some() || count < 2 {
        return one_interval_before(header, first.end_ns);
    }
    let mean_ns = (last_end_ns - first.end_ns) as f64 / (count - 1) as f64;
    (first.end_ns as f64 - mean_ns).max(0.0) as u64
}

/// Writes the records' text: each record's head and first snapshot, its spooled
/// snapshots, its tail.
fn assemble(
    out: &mut dyn Write,
    format: Format,
    records: Vec<(RecordHeader, Aggregation, u64, Spooled)>,
) -> io::Result<()> {
    let mut assembler = match format {
        Format::JsonCompressed => Assembler::zlib(out)?,
        Format::Json => Assembler::plain(out),
    };
    assembler.text(b"[");
    for (index, (header, first, first_start_ns, spooled)) in records.into_iter().enumerate() {
        if index > 0 {
            assembler.text(b",");
        }
        assembler.text(&wire::record_head(&header));
        let mut first_text = Vec::new();
        wire::write_snapshot(&mut first_text, first_start_ns, first.end_ns, &first.regions)?;
        assembler.text(&first_text);
        assembler.piece(spooled.spool.into_reader()?, spooled.adler, spooled.len)?;
        assembler.text(&wire::record_tail());
    }
    assembler.text(b"]");
    assembler.finish()
}
