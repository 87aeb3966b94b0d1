//! Which kernel releases the engine takes: from the first with the DAMON sysfs interface on,
//! and what it says of one newer than the newest it knows.

use super::Version;

/// A release without the DAMON sysfs interface: nothing could be applied to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "kernel {version} has no DAMON sysfs interface; damo-policy needs {oldest} or later",
    oldest = Version::OLDEST_SUPPORTED
)]
pub struct Unsupported {
    pub version: Version,
}

/// A kernel release to validate for, named by `--kernel` or pinned by a project file (both
/// answer alike). A release newer than the newest known is accepted (see
/// [`newer_than_known`]).
pub fn supported(version: Version) -> Result<Version, Unsupported> {
    if version < Version::OLDEST_SUPPORTED {
        return Err(Unsupported { version });
    }
    Ok(version)
}

/// What to warn of a target kernel newer than the newest the engine knows, if it is.
///
/// Accepted, not refused: DAMON's sysfs files are an ABI that releases only add to, so what
/// is valid for the newest known release is valid for a newer one, and a fleet that upgrades
/// its kernel before damo-policy must still check and compile. But what the newer release
/// added is unknown here (a policy using it is refused as if on the newest known one), and
/// the version may be a typo (`69.1` for `6.9`), so the user is told which release is used.
pub fn newer_than_known(version: Version, source: &str) -> Option<String> {
    (version > Version::NEWEST_KNOWN).then(|| {
        format!(
            "kernel {version} ({source}) is newer than the newest kernel damo-policy knows, {newest}; its DAMON features are judged as those of {newest}",
            newest = Version::NEWEST_KNOWN
        )
    })
}

/// Every release from the oldest supported to the newest known, in order. Linux numbers
/// minor releases up to 19 before the next major one (5.19, then 6.0).
pub fn known() -> impl Iterator<Item = Version> {
    const LAST_MINOR: u16 = 19;
    (Version::OLDEST_SUPPORTED.major..=Version::NEWEST_KNOWN.major)
        .flat_map(|major| (0..=LAST_MINOR).map(move |minor| Version::new(major, minor)))
        .filter(|v| (Version::OLDEST_SUPPORTED..=Version::NEWEST_KNOWN).contains(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_before_the_sysfs_interface_are_refused() {
        assert_eq!(
            supported(Version::new(5, 10)).unwrap_err().to_string(),
            "kernel 5.10 has no DAMON sysfs interface; damo-policy needs 5.18 or later"
        );
        assert_eq!(supported(Version::new(5, 18)), Ok(Version::new(5, 18)));
        assert!(newer_than_known(Version::NEWEST_KNOWN, "--kernel").is_none());
        assert!(newer_than_known(Version::new(69, 1), "--kernel").is_some());
    }

    #[test]
    fn known_releases_run_from_the_oldest_to_the_newest() {
        let known: Vec<Version> = known().collect();
        assert_eq!(known.first(), Some(&Version::OLDEST_SUPPORTED));
        assert_eq!(known.last(), Some(&Version::NEWEST_KNOWN));
        assert!(known.contains(&Version::new(5, 19)) && known.contains(&Version::new(6, 0)));
        assert_eq!(known.len(), 2 + 20 + 4);
    }
}
