//! The fallback source where tracefs is not mounted or lacks `damon:damon_aggregated`:
//! snapshots of the regions a DAMOS `stat` scheme tries, read from its `tried_regions/`.
//!
//! The recording's kdamond gets `stat` schemes whose access pattern matches every region
//! and that have no quota ([`stat_schemes`]), so that each scheme tries every region of its
//! targets once per aggregation interval (the default apply interval). Each
//! [`TriedRegions::poll`] asks the kernel to refill the directories
//! (`update_schemes_tried_regions`, which blocks for about one apply interval) and reads
//! them: one snapshot per poll, not one per aggregation interval as the tracepoint gives —
//! the aggregations between two polls are not seen.
//!
//! Targets: a scheme's `tried_regions/` holds the regions of every target of its context,
//! with no target index. With one target that is its own; with several, each target gets a
//! scheme of its own that a `target` filter keeps to it (memory a core filter excludes is
//! not tried), on kernels that have the filter (6.6+). Before that, several targets cannot
//! be told apart, and recording them from tried regions is refused rather than guessed at
//! (regions of different processes may interleave in address).

use std::time::Instant;

use crate::compile::file::Node;
use crate::kernel::{Action, Command, FilterType, Layout};
use crate::model::defaults;
use crate::model::resolved::{Filter, FilterArg, Scheme};
use crate::record::{Aggregation, Region};
use crate::sysfs::{Sysfs, SysfsError, errno, read_retrying, write_retrying};

/// Why the tried-regions source cannot be used, or failed.
#[derive(Debug, thiserror::Error)]
pub enum TriedError {
    #[error(
        "kernel {version} has no tried regions (Linux 6.2 added them), and its tracefs lacks the `damon:damon_aggregated` event: nothing can record here"
    )]
    Unsupported { version: crate::kernel::Version },
    #[error(
        "recording {targets} targets from tried regions needs Linux 6.6 (`target` filters tell them apart), and kernel {version}'s tracefs lacks the `damon:damon_aggregated` event: record one process at a time (--pid), or mount tracefs with the event"
    )]
    SeveralTargets {
        targets: usize,
        version: crate::kernel::Version,
    },
    #[error(transparent)]
    Sysfs(#[from] SysfsError),
}

/// The `stat` schemes of a recording of `nr_targets` targets: one that tries every region,
/// or with several targets one per target, target `i` kept to scheme `i` by a `target`
/// filter.
pub fn stat_schemes(nr_targets: usize, layout: Layout) -> Result<Vec<Scheme>, TriedError> {
    if !layout.has_tried_regions() {
        return Err(TriedError::Unsupported {
            version: layout.version,
        });
    }
    if nr_targets <= 1 {
        return Ok(vec![stat_scheme("record", Vec::new())]);
    }
    if !layout.has_tried_regions_per_target() {
        return Err(TriedError::SeveralTargets {
            targets: nr_targets,
            version: layout.version,
        });
    }
    Ok((0..nr_targets)
        .map(|target| {
            let index = u32::try_from(target).unwrap_or(u32::MAX);
            // Rejects memory that is not of this target: the only filter, so memory of the
            // target, which it does not apply to, is tried.
            let only_this_target = Filter {
                kind: FilterType::Target,
                matching: false,
                allow: false,
                arg: FilterArg::Target(index),
            };
            stat_scheme(&format!("record-target-{target}"), vec![only_this_target])
        })
        .collect())
}

/// A `stat` scheme whose pattern is every region, with no quota and no watermarks.
fn stat_scheme(name: &str, filters: Vec<Filter>) -> Scheme {
    Scheme {
        name: name.to_owned(),
        action: Action::Stat,
        sz_bytes: defaults::SIZE_RANGE,
        nr_accesses: defaults::COUNT_RANGE,
        age_aggrs: defaults::COUNT_RANGE,
        apply_interval_us: defaults::APPLY_INTERVAL_US,
        target_nid: None,
        dests: Vec::new(),
        quota: defaults::NO_QUOTA,
        watermarks: None,
        filters,
    }
}

/// Snapshots of a recording kdamond's tried regions.
pub struct TriedRegions<'a> {
    sysfs: &'a dyn Sysfs,
    slot: usize,
    /// The target each scheme tries, by scheme index (see [`stat_schemes`]).
    target_ids: Vec<u64>,
    /// `end_ns` counts from here (monotonic).
    origin: Instant,
}

impl<'a> TriedRegions<'a> {
    /// Reads the kdamond in `slot`, which runs the schemes [`stat_schemes`] made for its
    /// `nr_targets` targets. Snapshot times count in nanoseconds from `origin`.
    pub fn new(sysfs: &'a dyn Sysfs, slot: usize, nr_targets: usize, origin: Instant) -> Self {
        Self {
            sysfs,
            slot,
            target_ids: (0..nr_targets.max(1) as u64).collect(),
            origin,
        }
    }

    /// Takes one snapshot: the regions of each target, one [`Aggregation`] per target, pushed
    /// to `out`. Blocks for about one aggregation interval (the kernel fills the regions as
    /// its schemes next apply).
    pub fn poll(&mut self, out: &mut Vec<Aggregation>) -> Result<(), TriedError> {
        write_retrying(
            self.sysfs,
            crate::compile::file::File::state(self.slot),
            Command::UpdateSchemesTriedRegions.keyword(),
        )?;
        let end_ns = u64::try_from(self.origin.elapsed().as_nanos()).unwrap_or(u64::MAX);
        for (scheme, target_id) in self.target_ids.iter().enumerate() {
            let dir = Node::Scheme {
                kdamond: self.slot,
                scheme,
            }
            .file("tried_regions")
            .to_string();
            out.push(Aggregation {
                target_id: *target_id,
                end_ns,
                regions: self.read_regions(&dir)?,
            });
        }
        Ok(())
    }

    /// The regions of one `tried_regions/` directory, in address order. Entry names can
    /// have gaps (older kernels numbered them with a counter over all schemes); an entry
    /// gone between listing and reading (another writer cleared them) is skipped.
    fn read_regions(&self, dir: &str) -> Result<Vec<Region>, TriedError> {
        let mut names: Vec<u64> = self
            .sysfs
            .list(dir)?
            .iter()
            .filter_map(|name| name.parse().ok())
            .collect();
        names.sort_unstable();
        let mut regions = Vec::with_capacity(names.len());
        for name in names {
            let read = |leaf: &str| -> Result<Option<u64>, SysfsError> {
                let path = format!("{dir}/{name}/{leaf}");
                match read_retrying(self.sysfs, &path) {
                    Ok(text) => Ok(text.trim().parse().ok()),
                    Err(e) if e.errno == Some(errno::ENOENT) => Ok(None),
                    Err(e) => Err(e),
                }
            };
            let (Some(start), Some(end), Some(nr_accesses), Some(age)) =
                (read("start")?, read("end")?, read("nr_accesses")?, read("age")?)
            else {
                continue;
            };
            regions.push(Region {
                start,
                end,
                nr_accesses: u32::try_from(nr_accesses).unwrap_or(u32::MAX),
                age_aggrs: u32::try_from(age).unwrap_or(u32::MAX),
            });
        }
        regions.sort_by_key(|r| r.start);
        Ok(regions)
    }
}

#[cfg(test)]
mod tests;
