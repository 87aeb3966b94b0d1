//! Scenario `10-probe.sh`: DAMON's sysfs interface and the operations sets it offers; tracefs
//! with DAMON's aggregation event and private instances; the host's damo run in the guest
//! (`host_damo` in lib.sh), recording a workload and reading its own record file.

use crate::harness::VmRun;
use crate::suite::on_both_kernels;

/// The damo release the interoperability tests and CI install.
const DAMO_VERSION: &str = "3.4.3";

on_both_kernels! {
    /// DAMON's sysfs interface is there and offers every operations set.
    probe_finds_damon_sysfs_with_all_operations => probe;
    /// tracefs is mounted with `damon:damon_aggregated`, and a private instance carrying that
    /// event can be made and removed.
    tracefs_offers_damon_event_and_private_instances => tracefs;
    /// The host's damo runs in the guest through the host's root over 9p.
    host_damo_runs_in_guest => damo_version;
    /// `damo record` of a workload writes a file that `damo report access` and `damo report
    /// wss` read, with snapshots in it.
    host_damo_records_and_reads_its_file => damo_record;
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

fn damo_version(run: &VmRun) {
    if let Some(step) = run.passed_with_damo("damo_version") {
        run.check(step.field("version") == DAMO_VERSION, || {
            format!("damo in the guest is {:?}, not {DAMO_VERSION}", step.field("version"))
        });
    }
}

fn damo_record(run: &VmRun) {
    let Some(step) = run.passed_with_damo("damo_record") else {
        return;
    };
    let number = |key: &str| step.field(key).parse::<u64>().unwrap_or(0);
    run.check(number("file_bytes") > 0 && number("snapshots") > 0, || {
        format!("damo recorded no snapshot: {:?}", step.fields)
    });
    run.check(!step.field("wss").is_empty(), || {
        format!("damo report wss printed no average: {:?}", step.fields)
    });
}
