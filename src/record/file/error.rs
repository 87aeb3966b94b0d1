//! The errors of writing and reading record files; each names the file it is about.

use std::io;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum RecordFileError {
    #[error("{path} exists (not overwritten without --force)")]
    Exists { path: PathBuf },
    #[error("{path} is a directory, not a file to record into")]
    IsADirectory { path: PathBuf },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("{path}: {detail}")]
    Malformed { path: PathBuf, detail: String },
    #[error("{path} is not a damo record file: {found} (expected json_compressed, json or perf_script)")]
    NotARecord { path: PathBuf, found: String },
    #[error("{path}: no record for DAMON target {target_id}")]
    UnknownTarget { path: PathBuf, target_id: u64 },
    #[error("{path}: two records for DAMON target {target_id}")]
    DuplicateTarget { path: PathBuf, target_id: u64 },
    #[error(
        "{path}: target {target_id} went back in time (snapshot ending at {end_ns} ns after one ending at {previous_end_ns} ns)"
    )]
    OutOfOrder {
        path: PathBuf,
        target_id: u64,
        previous_end_ns: u64,
        end_ns: u64,
    },
}

impl RecordFileError {
    pub(crate) fn write(path: impl Into<PathBuf>, source: io::Error) -> Self {
        RecordFileError::Write {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn read(path: impl Into<PathBuf>, source: io::Error) -> Self {
        RecordFileError::Read {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn malformed(path: impl Into<PathBuf>, detail: impl Into<String>) -> Self {
        RecordFileError::Malformed {
            path: path.into(),
            detail: detail.into(),
        }
    }
}
