#!/usr/bin/env bash
# damo-policy beside damo, on the same work, in one run: configuration conversion, validation at
# scale, kernel writes on a real kernel (a 6.12 VM under qemu), hot reload and footprint. Prints
# a Markdown report (also saved as target/bench-compare/report.md); every figure is measured by
# this run. Takes about 4 minutes on two cores (up to ~8 when other VMs share them).
#
#   benches/compare.sh [--runs N] [--no-vm] [--sections 1,2,3,4,5]    as root; RUNS=N = --runs N (≥ 10)
#
# Installs what is missing: GNU time (apt), damo 3.4.3 from PyPI into target/damo-venv (the VM
# runs it from there, so it must not live under /tmp), the VM kernels (tests/vm/fetch-kernels.sh)
# and the 6.12 kernel's 9p modules (benches/vm/fetch-9p-modules.sh: one download of the kernel
# package, cached in <VM cache>/bench-9p/<release>, or $DAMO_POLICY_BENCH_CACHE/<release>).
# Needs qemu-system-x86, busybox-static and cpio for the VM section, as the VM suite does.
# The host's DAMON is never written: damo runs here only in a private mount namespace with an
# empty tmpfs over /sys/kernel/mm/damon, and everything that writes DAMON runs in the VM.
# Details: benches/compare/compare.py.
set -euo pipefail
cd "$(dirname "$0")/.."

[[ $EUID -eq 0 ]] || { echo "compare.sh: run as root (damo refuses to run otherwise)" >&2; exit 1; }
if [[ ! -x /usr/bin/time ]]; then
    echo "compare.sh: installing GNU time" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null
fi
# The version from the package metadata: damo itself runs on this host only in a namespace.
damo_version() { target/damo-venv/bin/python -c 'import importlib.metadata as m; print(m.version("damo"))' 2>/dev/null; }
if [[ ! -x target/damo-venv/bin/damo || $(damo_version) != 3.4.3 ]]; then
    echo "compare.sh: installing damo 3.4.3 into target/damo-venv" >&2
    python3 -m venv target/damo-venv
    target/damo-venv/bin/pip install -q damo==3.4.3
fi
if [[ " $* " != *" --no-vm "* ]]; then
    for tool in qemu-system-x86_64 busybox cpio; do
        command -v $tool >/dev/null || {
            echo "compare.sh: $tool is missing (apt-get install qemu-system-x86 busybox-static cpio), or pass --no-vm" >&2
            exit 1
        }
    done
fi
cargo build --release -q
exec python3 benches/compare/compare.py "$@"
