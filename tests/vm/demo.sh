#!/bin/bash
# demo.sh: damo-policy doing its job on a real kernel, on any Linux machine with qemu: boots
# Debian's 6.12 kernel in a small VM (software emulation, no KVM needed), starts a workload
# named batch-worker, applies the example policy policies/proactive-reclaim.toml to it with
# `damo-policy apply` (its 60 s idle age shortened to 5 s), shows `damo-policy status`, and
# prints the workload's RSS and swap before and after.
#
#   tests/vm/demo.sh
#
# It builds what it needs: the release binaries (cargo build --release), the kernels (with
# tests/vm/fetch-kernels.sh, once, when they are not cached yet; needs root and apt) and the
# VM's initramfs. Needs qemu-system-x86, busybox-static and cpio. Only the VM's own DAMON is
# written; the machine's is never touched.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
target=${CARGO_TARGET_DIR:-$repo/target}
cache=${DAMO_POLICY_VM_CACHE:-$HOME/.cache/damo-policy-vm}
work=$target/demo
timeout_s=180
t0=$(date +%s.%N)

step() { echo "demo: $*" >&2; }
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }'; }

missing=()
command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
command -v cpio >/dev/null || missing+=(cpio)
if ! busybox=$(command -v busybox) || ldd "$busybox" >/dev/null 2>&1; then missing+=(busybox-static); fi
if ((${#missing[@]})); then
    step "missing tools; install them with: apt-get install -y ${missing[*]}"
    exit 1
fi

step "building damo-policy and its workload helper (cargo build --release)"
t=$(date +%s.%N)
cargo build --release --bins --quiet --manifest-path "$repo/Cargo.toml"
step "built in $(elapsed "$t") s"
if [[ ! -s $cache/6.12/release ]]; then
    step "fetching the Debian kernels into $cache (once)"
    t=$(date +%s.%N)
    bash "$here/fetch-kernels.sh" "$cache"
    step "fetched in $(elapsed "$t") s"
fi
mkdir -p "$work"
bash "$here/build-initramfs.sh" "$work/initramfs.cpio" "$cache/6.12" \
    "$target/release/damo-policy" "$target/release/damo-workload"
step "ready after $(elapsed "$t0") s; booting Linux $(cat "$cache/6.12/release") under qemu"
echo >&2

# The console (kernel messages) goes to a log; the demo's own output comes on the second
# serial port, printed here as it arrives.
: >"$work/demo.out"
boot=$(date +%s.%N)
timeout $timeout_s qemu-system-x86_64 -accel tcg -cpu qemu64,+rdrand -smp 2 -m 1024 -nographic -no-reboot -nic none \
    -serial mon:stdio -serial "file:$work/demo.out" \
    -kernel "$cache/6.12/vmlinuz" -initrd "$work/initramfs.cpio" \
    -append "console=ttyS0 quiet panic=-1 tsc=reliable damo.demo=1" </dev/null >"$work/console.log" 2>&1 &
qemu=$!
trap 'kill $qemu 2>/dev/null || true' EXIT
tail -s 0.2 -n +1 -f --pid=$qemu "$work/demo.out" | tr -d '\r'
wait $qemu || true
echo >&2
if grep -q '^Result:' "$work/demo.out"; then
    step "done in $(elapsed "$t0") s (the VM: $(elapsed "$boot") s); kernel log: $work/console.log"
else
    step "the demo did not finish (within $timeout_s s); kernel log: $work/console.log"
    tail -n 20 "$work/console.log" >&2
    exit 1
fi
