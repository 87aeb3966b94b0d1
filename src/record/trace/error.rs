//! What can go wrong reading DAMON's tracepoint, each error naming the tracefs path and
//! the fix.

use std::io;
use std::path::PathBuf;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum TraceError {
    #[error("cannot read the mount table {path}: {source}")]
    Mounts { path: PathBuf, source: io::Error },

    #[error(
        "tracefs is not mounted (no tracefs or debugfs in {mounts}); \
         mount it with `mount -t tracefs nodev /sys/kernel/tracing`"
    )]
    NotMounted { mounts: PathBuf },

    #[error(
        "{path} does not exist: this kernel does not offer DAMON's damon_aggregated \
         tracepoint (it needs CONFIG_DAMON and CONFIG_TRACING); record from tried_regions instead"
    )]
    NoEvent { path: PathBuf },

    #[error(
        "{path} does not exist: this tracefs cannot create private instances, and recording \
         never uses the shared top-level buffer; record from tried_regions instead"
    )]
    NoInstances { path: PathBuf },

    #[error(
        "{path} already exists: another recording of this process uses it; \
         stop that recording first"
    )]
    InstanceExists { path: PathBuf },

    #[error(
        "permission denied on {path}: reading DAMON's tracepoint needs root \
         (CAP_SYS_ADMIN and CAP_DAC_OVERRIDE on tracefs); run as root"
    )]
    PermissionDenied { path: PathBuf },

    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
}

impl TraceError {
    /// An I/O error, as [`TraceError::PermissionDenied`] when that is what it is.
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        let path = path.into();
        if source.kind() == io::ErrorKind::PermissionDenied {
            TraceError::PermissionDenied { path }
        } else {
            TraceError::Io { action, path, source }
        }
    }
}
