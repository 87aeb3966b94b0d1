#!/bin/bash
# fetch-9p-modules.sh: the 9p modules (netfs, 9pnet, 9pnet_virtio, 9p) of a kernel cached by
# tests/vm/fetch-kernels.sh, decompressed, so that a benchmark guest can mount the host's root
# over virtio-9p and run host programs (damo) in a chroot.
#
#   benches/vm/fetch-9p-modules.sh KERNEL_DIR OUT_DIR
#
# KERNEL_DIR is a cache entry of fetch-kernels.sh (its `packages` file names the Debian
# packages, name=version, the kernel came from). The same package versions are downloaded
# with `apt-get download` (the machine's own apt sources: the 6.12 series) into a scratch
# directory; OUT_DIR gets the modules and a `load-order` file, written last. A complete
# OUT_DIR is reused without network access.
set -euo pipefail
[[ $# -eq 2 ]] || { echo "usage: $0 KERNEL_DIR OUT_DIR" >&2; exit 2; }
kernel_dir=$1 out=$2
modules=(netfs 9pnet 9pnet_virtio 9p)   # dependencies first
[[ -s $out/load-order ]] && exit 0

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mapfile -t pkgs <"$kernel_dir/packages"
echo "fetch-9p-modules: downloading ${pkgs[*]}" >&2
(cd "$work" && apt-get -o APT::Sandbox::User=root download -qq "${pkgs[@]}" >&2)
for deb in "$work"/*.deb; do dpkg -x "$deb" "$work/root"; done
release=$(cat "$kernel_dir/release")
moddir=$(find "$work/root" -maxdepth 4 -type d -path "*/lib/modules/$release" | head -n 1)
[[ -n $moddir ]] || { echo "fetch-9p-modules: no lib/modules/$release in ${pkgs[*]}" >&2; exit 1; }
mkdir -p "$out"
for m in "${modules[@]}"; do
    file=$(find "$moddir/kernel" -name "$m.ko.xz" -o -name "$m.ko" | head -n 1)
    [[ -n $file ]] || { echo "fetch-9p-modules: module $m not found (built in?)" >&2; exit 1; }
    case $file in
        *.xz) busybox xzcat "$file" >"$out/$m.ko" ;;
        *) cp "$file" "$out/$m.ko" ;;
    esac
done
printf '%s.ko\n' "${modules[@]}" >"$out/load-order"
