//! End-to-end tests on real kernels: each cached Debian kernel (6.12 LTS and the newest 7.x) is
//! booted once under qemu with the freshly built `damo-policy` and `damo-workload`, runs the
//! guest scenarios of `tests/vm/guest/scenarios/` (each drives `damo-policy` in the guest and
//! reports steps, measures and the JSON output of `plan` and `status`), and each module below
//! asserts on what one scenario reported, on each kernel (`<scenario>::<test>::kernel_6_12`,
//! `<scenario>::<test>::kernel_7`); what the scenarios share is in `suite` (the boot) and
//! `reports` (readers of what the guest reported). Both kernels boot in parallel on first use; the runner is
//! `tests/vm/harness.rs`. `DAMO_POLICY_VM_ONLY=30,50` runs only the scenarios whose names
//! start with those prefixes (for work on one scenario; the other tests then fail);
//! `DAMO_POLICY_VM_BIN_DIR=target/release` boots the release binaries instead of this build's.
//! damo on the host (`DAMO_POLICY_DAMO`, else on `PATH`) is run in the guest by the probe
//! scenario; without it those tests skip, or fail with `REQUIRE_DAMO=1`.
//!
//! Without qemu, cpio, a static busybox or the cached kernels the tests print a banner saying
//! what is missing and pass without running, unless `REQUIRE_VM=1`, which turns that into a
//! failure (CI sets it). Kernels: `tests/vm/fetch-kernels.sh`; cache:
//! `$DAMO_POLICY_VM_CACHE` or `~/.cache/damo-policy-vm`.

mod harness;
mod reports;
mod suite;

// One module per guest scenario, in the order the guest runs them.
mod binary;
mod crash;
mod examples;
mod feature_gate;
mod foreign;
mod lifecycle;
mod memcg;
mod probe;
mod record;
mod seed_pageout;
mod watch;
