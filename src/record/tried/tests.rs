//! Tried-regions snapshots from the fake kernel.

use std::time::Instant;

use super::*;
use crate::kernel::Version;
use crate::record::kdamond::StartOptions;
use crate::record::kdamond::tests::{Fixture, pids};
use crate::sysfs::fake::FakeRegion;

fn region(start: u64, end: u64, nr_accesses: u64, age: u64) -> FakeRegion {
    FakeRegion {
        start,
        end,
        nr_accesses,
        age,
    }
}

fn recorded(r: FakeRegion) -> Region {
    Region {
        start: r.start,
        end: r.end,
        nr_accesses: r.nr_accesses as u32,
        age_aggrs: r.age as u32,
    }
}

#[test]
fn schemes_by_kernel_and_targets() {
    let layout = |major, minor| Layout::new(Version::new(major, minor));
    assert!(matches!(
        stat_schemes(1, layout(6, 1)),
        Err(TriedError::Unsupported { .. })
    ));
    let one = stat_schemes(1, layout(6, 2)).unwrap();
    assert_eq!(one.len(), 1);
    assert!(one[0].filters.is_empty() && one[0].quota.goals.is_empty() && one[0].watermarks.is_none());
    let error = stat_schemes(2, layout(6, 5)).unwrap_err().to_string();
    assert!(error.contains("needs Linux 6.6") && error.contains("--pid"), "{error}");
    let two = stat_schemes(2, layout(6, 6)).unwrap();
    assert_eq!(
        two.iter().map(|s| s.filters[0].arg.clone()).collect::<Vec<_>>(),
        [FilterArg::Target(0), FilterArg::Target(1)]
    );
}

/// Each target's regions come from its own scheme, whichever filter directory the kernel
/// has (`filters/` before 6.15, `core_filters/` since), in address order whatever the
/// entries' names.
#[test]
fn polls_yield_each_targets_regions() {
    for version in [Version::new(6, 6), Version::new(6, 12), Version::new(7, 3)] {
        let mut f = Fixture::new(version);
        f.add_process(42);
        f.add_process(43);
        let options = StartOptions {
            tried_regions: true,
            ..StartOptions::default()
        };
        let recording = f.start(&pids(&[42, 43]), options).unwrap();
        assert_eq!(recording.compiled.schemes.len(), 2);
        let slot = recording.kdamond.slot;
        let first = [region(0x2000, 0x3000, 5, 2), region(0x1000, 0x2000, 0, 7)];
        let second = [region(0x7000, 0x9000, 20, 1)];
        f.kernel.set_monitored(slot, 0, first.to_vec());
        f.kernel.set_monitored(slot, 1, second.to_vec());
        let mut source = TriedRegions::new(&f.kernel, slot, recording.kdamond.targets.len(), Instant::now());
        let mut out = Vec::new();
        source.poll(&mut out).unwrap();
        assert_eq!(out.len(), 2, "{version}");
        assert_eq!(out[0].target_id, 0);
        assert_eq!(out[0].regions, [recorded(first[1]), recorded(first[0])], "{version}");
        assert_eq!(out[1].target_id, 1);
        assert_eq!(out[1].regions, [recorded(second[0])], "{version}");
        // The next snapshot sees what DAMON sees then, later.
        let changed = [region(0x1000, 0x3000, 9, 0)];
        f.kernel.set_monitored(slot, 0, changed.to_vec());
        source.poll(&mut out).unwrap();
        assert_eq!(out.len(), 4);
        assert_eq!(out[2].regions, [recorded(changed[0])]);
        assert!(out[2].end_ns >= out[0].end_ns);
    }
}

/// One target needs no filter, on the oldest kernel with tried regions too.
#[test]
fn one_target_on_an_old_kernel() {
    let mut f = Fixture::new(Version::new(6, 2));
    f.add_process(42);
    let options = StartOptions {
        tried_regions: true,
        ..StartOptions::default()
    };
    let recording = f.start(&pids(&[42]), options).unwrap();
    let slot = recording.kdamond.slot;
    f.kernel.set_monitored(slot, 0, vec![region(0x1000, 0x5000, 3, 4)]);
    let mut out = Vec::new();
    TriedRegions::new(&f.kernel, slot, 1, Instant::now())
        .poll(&mut out)
        .unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].regions, [recorded(region(0x1000, 0x5000, 3, 4))]);
    // Several targets cannot be told apart there: refused, nothing started.
    f.add_process(43);
    match f.start(&pids(&[42, 43]), options) {
        Err(crate::record::kdamond::RecordKdamondError::Tried(TriedError::SeveralTargets { targets: 2, .. })) => {}
        other => panic!("{other:?}"),
    }
}
