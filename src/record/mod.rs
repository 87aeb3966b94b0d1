//! Recording data access patterns: what DAMON saw, snapshot by snapshot, written in damo's
//! record format so that damo and damo-policy read each other's files.
//!
//! Sources yield [`Aggregation`]s (one target's regions at the end of one aggregation
//! interval); the file writer turns them into damo's records and snapshots. The types here
//! are what every source and the writer share: raw kernel numbers, no units converted.

pub mod file;
pub mod kdamond;
pub mod session;
pub mod trace;
pub mod tried;

/// One monitoring region as DAMON reported it at the end of an aggregation interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    /// First byte of the region.
    pub start: u64,
    /// One past its last byte.
    pub end: u64,
    /// Samples in the aggregation interval that found the region accessed.
    pub nr_accesses: u32,
    /// Aggregation intervals the region's access frequency has stayed as it is.
    pub age_aggrs: u32,
}

impl Region {
    pub fn size_bytes(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }
}

/// One target's regions at the end of one aggregation interval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aggregation {
    /// The target's index within its DAMON context, as the tracepoint's `target_id`.
    pub target_id: u64,
    /// When the aggregation ended, in nanoseconds of the source's clock (monotonic; only
    /// differences between snapshots are meaningful).
    pub end_ns: u64,
    pub regions: Vec<Region>,
}
