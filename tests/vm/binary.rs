//! Scenario `20-binary.sh`: the built binary runs in the guest, and `damo-policy kernel`
//! describes the guest's DAMON.

use crate::harness::VmRun;
use crate::reports::{damon_stat_enabled, version_of};
use crate::suite::on_both_kernels;

on_both_kernels! {
    /// The binary runs in the guest, and `damo-policy kernel` describes the guest's DAMON.
    binary_and_kernel_command_run => binary_and_kernel_command;
}

fn binary_and_kernel_command(run: &VmRun) {
    run.passed("damo_policy_runs");
    let kernel = run.passed("kernel_command").field("output");
    let version = version_of(run);
    for wanted in [
        format!("DAMON features of {version}"),
        "operations sets: vaddr, fvaddr, paddr".into(),
    ] {
        run.check(kernel.contains(&wanted), || {
            format!("`damo-policy kernel` does not say {wanted:?}: {kernel}")
        });
    }
    if damon_stat_enabled(run) {
        run.check(kernel.contains("module damon_stat: enabled (blocks"), || {
            format!("`damo-policy kernel` does not warn about damon_stat: {kernel}")
        });
    }
}
