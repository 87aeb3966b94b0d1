//! Scenario `10-probe.sh`: DAMON's sysfs interface and the operations sets it offers; tracefs
//! with DAMON's aggregation event and private instances.

use crate::harness::VmRun;
use crate::suite::on_both_kernels;

on_both_kernels! {
    /// DAMON's sysfs interface is there and offers every operations set.
    probe_finds_damon_sysfs_with_all_operations => probe;
    /// tracefs is mounted with `damon:damon_aggregated`, and a private instance carrying that
    /// event can be made and removed.
    tracefs_offers_damon_event_and_private_instances => tracefs;
}

fn probe(run: &VmRun) {
    let step = run.passed("probe");
    let ops: Vec<&str> = step.field("avail_operations").split(',').collect();
    for wanted in ["vaddr", "fvaddr", "paddr"] {
        run.check(ops.contains(&wanted), || {
            format!("avail_operations {ops:?} lacks {wanted}")
        });
    }
}

fn tracefs(run: &VmRun) {
    run.passed("tracefs");
}
