//! Scenario `80-feature-gate.sh`: a 6.15 feature is refused before any write on older kernels
//! and applied on newer ones.

use crate::harness::VmRun;
use crate::reports::kdamonds;
use crate::suite::on_both_kernels;

on_both_kernels! {
    /// A 6.15 feature is refused before any write on older kernels, applied on newer ones.
    newer_feature_is_gated_by_the_running_kernel => feature_gate;
}

fn feature_gate(run: &VmRun) {
    run.passed("gate_baseline");
    let step = run.passed("gate_apply");
    if run.series == "6.12" {
        let message = step.field("message");
        run.check(step.field("exit") == "1" && step.field("unchanged") == "yes", || {
            format!("a 6.15 feature on 6.12: {:?}", step.fields)
        });
        run.check(
            message.contains("interval autotuning needs kernel 6.15 or later; the target kernel is 6.12"),
            || format!("the refusal does not name the feature and release: {message}"),
        );
    } else {
        let after = kdamonds(step.field("kdamonds_after"));
        run.check(
            step.field("exit") == "0" && after.len() == 2 && after.values().all(|(s, _)| s == "on"),
            || format!("a 6.15 feature on {}: {:?}", run.release, step.fields),
        );
    }
}
