#!/bin/bash
# build-initramfs.sh: the benchmark guest's initramfs: a static busybox, the 9p modules and
# benches/vm/init. Everything else the guest runs comes from the host's root over 9p.
#
#   benches/vm/build-initramfs.sh OUT.cpio MODULES_DIR
#
# MODULES_DIR is made by fetch-9p-modules.sh. Writes nothing outside OUT and a scratch dir.
set -euo pipefail
[[ $# -eq 2 ]] || { echo "usage: $0 OUT.cpio MODULES_DIR" >&2; exit 2; }
out=$1 modules=$2
here=$(cd "$(dirname "$0")" && pwd)
busybox=$(command -v busybox) || { echo "busybox not found (apt-get install busybox-static)" >&2; exit 1; }
if ldd "$busybox" >/dev/null 2>&1; then echo "$busybox is dynamically linked; install busybox-static" >&2; exit 1; fi
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,dev,proc,sys,tmp,modules}
cp "$busybox" "$root/bin/busybox"
cp "$modules"/*.ko "$modules/load-order" "$root/modules/"
cp "$here/init" "$root/init"
chmod +x "$root/init"
echo "This initramfs belongs to the damo-policy benchmarks." >"$root/damo-policy-bench-guest"
(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet) >"$out"
