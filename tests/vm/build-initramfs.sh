#!/bin/bash
# build-initramfs.sh: assembles the initramfs one VM of the suite boots.
#
#   tests/vm/build-initramfs.sh OUT.cpio KERNEL_DIR DAMO_POLICY_BIN DAMO_WORKLOAD_BIN [HOST_DAMO]
#
# KERNEL_DIR is a cache entry made by fetch-kernels.sh. The archive holds: a static busybox,
# both project binaries (stripped when `strip` exists, to keep the archive small) with the
# shared libraries ldd lists for them, the repository's policies/ as /policies, the kernel's
# decompressed modules with their load-order files as /modules, tests/vm/guest/ as /vm (its
# init becomes /init; the scenarios, the demo's guest half and the test policies come along),
# and the marker file /damo-policy-vm-guest that the guest scripts insist on before touching
# sysfs. HOST_DAMO, when given, is damo's path on the host, written to /host-damo: the guest
# runs it from the host's root exported over 9p (lib.sh: host_damo).
# Nothing here writes outside OUT and a scratch directory.
set -euo pipefail

[[ $# -eq 4 || $# -eq 5 ]] ||
    { echo "usage: $0 OUT.cpio KERNEL_DIR DAMO_POLICY_BIN DAMO_WORKLOAD_BIN [HOST_DAMO]" >&2; exit 2; }
out=$1 kernel_dir=$2 damo_policy=$3 damo_workload=$4 host_damo=${5:-}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

busybox=$(command -v busybox) || { echo "busybox not found (apt-get install busybox-static)" >&2; exit 1; }
# A dynamically linked busybox would need its libraries too; busybox-static avoids that.
if ldd "$busybox" >/dev/null 2>&1; then
    echo "$busybox is dynamically linked; install busybox-static" >&2
    exit 1
fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,dev,proc,sys,tmp,run,modules}

cp "$busybox" "$root/bin/busybox"
install_binary() {
    local src=$1 dst=$root/bin/$2 lib
    if command -v strip >/dev/null; then strip -o "$dst" "$src"; else cp "$src" "$dst"; fi
    # ldd prints "name => /path (addr)" for libraries and "/path (addr)" for the loader.
    for lib in $(ldd "$src" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
        cp -L --parents "$lib" "$root/"
    done
}
install_binary "$damo_policy" damo-policy
install_binary "$damo_workload" damo-workload

if [[ -d $repo/policies ]]; then cp -r "$repo/policies" "$root/policies"; fi
cp "$kernel_dir"/modules/*.ko "$kernel_dir"/modules/*load-order "$root/modules/"
cp -r "$here/guest" "$root/vm"
mv "$root/vm/init" "$root/init"
chmod +x "$root/init"
if [[ -n $host_damo ]]; then echo "$host_damo" >"$root/host-damo"; fi
echo "This initramfs belongs to the damo-policy VM suite." >"$root/damo-policy-vm-guest"

(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet) >"$out"
