//! Kernel knowledge: DAMON releases and what each added.
//!
//! Everything the engine knows about which kernel has which DAMON file or keyword lives
//! here: files in the table of [`features`], keywords in [`keywords`], which releases the
//! engine takes in [`releases`]. Validation asks "does the target kernel have X?" and the
//! compiler asks "which files does the target kernel's tree have?" through [`Version`] and
//! [`Layout`] alone. Where each file sits in the tree is [`crate::compile::file`]'s; which
//! files compile writes, [`crate::compile::sysfs`]'s.

pub mod defaults;
pub mod features;
pub mod keywords;
pub mod probe;
pub mod releases;
pub mod running;

use std::fmt;
use std::str::FromStr;

pub use features::Feature;

/// What a kdamond's `state` file takes (besides its readable states `on` and `off`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    On,
    Off,
    /// Apply the staged configuration to the running kdamond.
    Commit,
    UpdateSchemesStats,
    UpdateSchemesEffectiveQuotas,
    /// Refill each scheme's `tried_regions/` with the regions it tries in its next apply
    /// interval (6.2+, [`Layout::has_tried_regions`]); blocks about that long.
    UpdateSchemesTriedRegions,
}

impl Command {
    pub fn keyword(self) -> &'static str {
        match self {
            Command::On => "on",
            Command::Off => "off",
            Command::Commit => "commit",
            Command::UpdateSchemesStats => "update_schemes_stats",
            Command::UpdateSchemesEffectiveQuotas => "update_schemes_effective_quotas",
            Command::UpdateSchemesTriedRegions => "update_schemes_tried_regions",
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.keyword())
    }
}
pub use keywords::{Action, FilterType, GoalTuner, Metric, MetricUnit, Ops, WatermarkMetric};

/// A kernel release, compared by major and minor number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    pub major: u16,
    pub minor: u16,
}

impl Version {
    pub const fn new(major: u16, minor: u16) -> Self {
        Self { major, minor }
    }

    /// The first release with the sysfs interface the engine drives.
    pub const OLDEST_SUPPORTED: Version = Feature::Sysfs.since();
    /// The newest release whose DAMON interface the engine knows; the default target.
    pub const NEWEST_KNOWN: Version = Version::new(7, 3);
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl serde::Serialize for Version {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Version {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A text that is no kernel version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a kernel version; write it as MAJOR.MINOR, e.g. 6.12")]
pub struct NotAVersion {
    pub text: String,
}

impl FromStr for Version {
    type Err = NotAVersion;

    /// Accepts `6.12`, `6.12.117`, `6.12.117+deb12-amd64`: only major and minor matter.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut parts = text.trim().split(|c: char| !c.is_ascii_digit());
        let major = parts.next().and_then(|p| p.parse().ok());
        let minor = parts.next().and_then(|p| p.parse().ok());
        match (major, minor) {
            (Some(major), Some(minor)) => Ok(Version { major, minor }),
            _ => Err(NotAVersion { text: text.to_owned() }),
        }
    }
}

/// The shape of the DAMON sysfs tree of one kernel: which optional files exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub version: Version,
}

impl Layout {
    pub fn new(version: Version) -> Self {
        Self { version }
    }

    pub fn has(self, feature: Feature) -> bool {
        self.version >= feature.since()
    }

    /// Whether `commit` waits until a scheme is active. Before 6.16 ("mm/damon/core: handle
    /// damon_call_control as normal under kdmond deactivation") a kdamond whose schemes all
    /// wait for their watermarks handles no `commit`, and the write blocks until one
    /// activates, possibly forever; such a kdamond must be restarted instead.
    pub fn commit_needs_active_scheme(self) -> bool {
        self.version < Version::new(6, 16)
    }

    /// Whether schemes have `tried_regions/` and the kdamond takes
    /// `update_schemes_tried_regions` (6.2, "mm/damon/sysfs-schemes: implement DAMOS tried
    /// regions"). The directory is empty until asked for, so no file of a fresh tree proves
    /// it: the release does.
    pub fn has_tried_regions(self) -> bool {
        self.version >= Version::new(6, 2)
    }

    /// Whether each target's tried regions can be told apart. A scheme's `tried_regions/`
    /// holds the regions of every target of its context with no target index; a `target`
    /// filter (6.6, [`Feature::AddrFilter`]) keeps a scheme to one target, and memory a
    /// core filter excludes is not tried, so one scheme per target does it.
    pub fn has_tried_regions_per_target(self) -> bool {
        self.has(Feature::AddrFilter)
    }

    /// Whether every command (`update_schemes_stats` too) waits until a scheme is active:
    /// from 6.14, when the sysfs commands moved to `damon_call()`, until the 6.16 fix above.
    /// Earlier kernels answer the other commands at the next watermark check, and later
    /// ones answer every command then.
    pub fn commands_need_active_scheme(self) -> bool {
        self.version >= Version::new(6, 14) && self.version < Version::new(6, 16)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_and_order() {
        assert_eq!("6.12".parse(), Ok(Version::new(6, 12)));
        assert_eq!("6.12.117+deb12-amd64".parse(), Ok(Version::new(6, 12)));
        assert!("six".parse::<Version>().is_err());
        assert!(Version::new(6, 9) < Version::new(6, 12));
        assert!(Version::new(7, 0) > Version::new(6, 19));
    }

    #[test]
    fn layout_follows_versions() {
        let old = Layout::new(Version::new(6, 12));
        assert!(old.has(Feature::ApplyInterval));
        assert!(!old.has(Feature::SplitFilterDirs));
        assert!(Layout::new(Version::NEWEST_KNOWN).has(Feature::GoalTuner));
    }
}
