//! Scenario `10-probe.sh`: DAMON's sysfs interface and the operations sets it offers.

use crate::harness::VmRun;
use crate::suite::on_both_kernels;

on_both_kernels! {
    /// DAMON's sysfs interface is there and offers every operations set.
    probe_finds_damon_sysfs_with_all_operations => probe;
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
