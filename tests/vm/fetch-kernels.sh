#!/bin/bash
# fetch-kernels.sh: downloads and caches the Debian kernels the VM suite boots.
#
#   tests/vm/fetch-kernels.sh [--refresh] [CACHE_DIR]
#
# CACHE_DIR defaults to ${DAMO_POLICY_VM_CACHE:-$HOME/.cache/damo-policy-vm}. It gets one
# directory per kernel series, which the VM suite (tests/vm/) reads:
#
#   <series>/vmlinuz           the kernel image
#   <series>/modules/*.ko      zram, 9p and their dependencies, decompressed (the guest's busybox
#                              insmod cannot read .ko.xz)
#   <series>/modules/load-order  module file names, dependencies first
#   <series>/modules/9p-load-order  the same for 9p over virtio, with which the guest mounts
#                              the host's root read-only to run host programs such as damo
#   <series>/release           the kernel release (uname -r); written last, marks the entry complete
#   <series>/packages          the Debian packages (name=version) it came from
#
# Series "6.12": the newest linux-image-6.12.*-amd64 in the machine's own apt sources
# (bookworm-security on bookworm). Series "7": the newest linux-binary-7.*-amd64 plus its
# linux-modules package from trixie-backports, read through a private apt configuration under
# CACHE_DIR/apt so the system's sources are never edited. Package names are resolved with
# apt-cache at run time. A complete entry is reused without network access; --refresh
# re-resolves and replaces an entry whose release changed.
#
# Run as root (CI does). The machine's apt lists must be current ('apt-get update'); the
# private lists live under CACHE_DIR. Needs dpkg, apt and busybox, whose xzcat decompresses
# the modules (xz-utils is not required). Network is used only for an entry being fetched.
set -euo pipefail

refresh=0
if [[ ${1:-} == --refresh ]]; then refresh=1; shift; fi
cache=${1:-${DAMO_POLICY_VM_CACHE:-$HOME/.cache/damo-policy-vm}}
# Modules the guest needs, per load-order file; their dependencies are added from each
# module's own depends= field. virtio_pci carries the 9p device but no symbol 9p uses, so it
# is named; where a kernel builds it in, it is skipped.
wanted_modules=(zram)
wanted_9p_modules=(virtio_pci 9pnet_virtio 9p)

say() { echo "fetch-kernels: $*" >&2; }
die() { say "error: $*"; exit 1; }

for tool in apt-get apt-cache dpkg busybox; do
    command -v "$tool" >/dev/null || die "$tool not found (apt-get install -y busybox-static)"
done
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

complete() {
    [[ -s $cache/$1/release && -s $cache/$1/vmlinuz && -s $cache/$1/modules/load-order &&
        -s $cache/$1/modules/9p-load-order ]]
}

# The Debian mirror of the machine, from the first non-security deb822 stanza (or, on older
# setups, the first plain "deb" line), so no host name is written down here.
debian_mirror() {
    local uri=""
    if [[ -r /etc/apt/sources.list.d/debian.sources ]]; then
        uri=$(awk 'BEGIN { RS = ""; FS = "\n" }
                   !/Suites:[^\n]*-security/ {
                       for (i = 1; i <= NF; i++) if ($i ~ /^URIs:/) { split($i, f, " "); print f[2]; exit }
                   }' /etc/apt/sources.list.d/debian.sources)
    fi
    if [[ -z $uri && -r /etc/apt/sources.list ]]; then
        uri=$(awk '$1 == "deb" && $0 !~ /-security/ { for (i = 2; i <= NF; i++) if ($i ~ /:\/\//) { print $i; exit } }' \
            /etc/apt/sources.list)
    fi
    [[ -n $uri ]] || die "no Debian mirror found in /etc/apt/sources.list.d/debian.sources"
    echo "$uri"
}

# Private apt configuration for trixie-backports: its own sources file, lists and caches.
private_apt=()
setup_private_apt() {
    local dir=$cache/apt mirror
    mirror=$(debian_mirror)
    mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie-backports main" \
        >"$dir/sources.list"
    private_apt=(-o "Dir::Etc::sourcelist=$dir/sources.list" -o Dir::Etc::sourceparts=-
        -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache" -o Acquire::Languages=none
        -o Acquire::Retries=5)
    say "updating private apt lists for trixie-backports from $mirror"
    apt-get "${private_apt[@]}" update -qq >&2
}

# Newest package name starting with PREFIX and matching REGEX, among what apt-cache knows under
# the options given.
newest() {
    local prefix=$1 regex=$2; shift 2
    apt-cache "$@" pkgnames "$prefix" | grep -E "$regex" | sort -V | tail -n 1 || true
}

# Scratch directories are removed however the script ends.
scratch=()
trap 'rm -rf "${scratch[@]}"' EXIT

# Unpacks the given packages (downloaded into a scratch dir) and stores kernel + modules as <series>.
install_series() {
    local series=$1; shift
    local -a apt_opts=()
    while [[ $1 != -- ]]; do apt_opts+=("$1"); shift; done; shift
    local -a pkgs=("$@")
    local work; work=$(mktemp -d "$cache/.work.XXXXXX")
    scratch+=("$work")

    say "downloading ${pkgs[*]}"
    # Root's download is unsandboxed anyway; saying so keeps apt from warning about _apt.
    # A mirror's hiccup should not fail a run: apt retries each file.
    (cd "$work" && apt-get "${apt_opts[@]}" -o APT::Sandbox::User=root -o Acquire::Retries=5 download -qq "${pkgs[@]}" >&2)
    local deb versions=""
    for deb in "$work"/*.deb; do
        dpkg -x "$deb" "$work/root"
        versions+="$(dpkg-deb -f "$deb" Package)=$(dpkg-deb -f "$deb" Version)"$'\n'
    done

    # Debian 12 ships /boot/vmlinuz-<release>; the 7.x split packages ship
    # /usr/lib/modules/<release>/vmlinuz.
    local vmlinuz moddir release
    vmlinuz=$(find "$work/root" \( -path '*/boot/vmlinuz-*' -o -path '*/lib/modules/*/vmlinuz' \) -type f | head -n 1)
    [[ -n $vmlinuz ]] || die "no vmlinuz in ${pkgs[*]}"
    moddir=$(find "$work/root" -mindepth 3 -maxdepth 4 -type d -path '*/lib/modules/*-amd64' | head -n 1)
    [[ -n $moddir ]] || die "no lib/modules/<release> in ${pkgs[*]}"
    release=$(basename "$moddir")

    local out=$work/out
    mkdir -p "$out/modules"
    cp "$vmlinuz" "$out/vmlinuz"
    # Depth-first over depends= so that every module follows its dependencies; `seen` and
    # `order` belong to one load-order file.
    local -A seen=()
    local order=()
    add_module() {
        local name=$1 file deps dep
        [[ -n ${seen[$name]:-} ]] && return 0
        seen[$name]=1
        # depends= spells names with '_', file names may use '-'.
        file=$(find "$moddir/kernel" -name "${name//_/[-_]}.ko.xz" -o -name "${name//_/[-_]}.ko" | head -n 1)
        if [[ -z $file ]]; then
            # Built into this kernel (e.g. lz4_compress on 7.x): nothing to load.
            return 0
        fi
        case $file in
            *.xz) busybox xzcat "$file" >"$out/modules/$name.ko" ;;
            *) cp "$file" "$out/modules/$name.ko" ;;
        esac
        deps=$(tr '\0' '\n' <"$out/modules/$name.ko" | sed -n 's/^depends=//p' | head -n 1)
        for dep in ${deps//,/ }; do add_module "$dep"; done
        order+=("$name.ko")
    }
    local m
    for m in "${wanted_modules[@]}"; do add_module "$m"; done
    [[ -n ${seen[zram]:-} && -f $out/modules/zram.ko ]] || die "zram module not found in ${pkgs[*]}"
    printf '%s\n' "${order[@]}" >"$out/modules/load-order"
    local zram_order=("${order[@]}")
    seen=() order=()
    for m in "${wanted_9p_modules[@]}"; do add_module "$m"; done
    [[ -f $out/modules/9p.ko ]] || die "9p module not found in ${pkgs[*]}"
    printf '%s\n' "${order[@]}" >"$out/modules/9p-load-order"
    printf '%s' "$versions" >"$out/packages"
    echo "$release" >"$out/release"

    rm -rf "${cache:?}/$series"
    mv "$out" "$cache/$series"
    rm -rf "$work"
    say "cached $series: release $release, modules: ${zram_order[*]}; for 9p: ${order[*]}"
}

report() {
    local series=$1
    echo "$series $(cat "$cache/$series/release") $cache/$series ($(paste -sd " " "$cache/$series/packages"))"
}

# Series 6.12, from the machine's own apt sources.
if ((refresh)) || ! complete 6.12; then
    regex='^linux-image-6\.12\.[0-9]+\+deb[0-9]+-amd64'
    pkg=$(newest linux-image-6.12 "$regex\$")
    # Only the unsigned image exists on some suites; it boots the same under qemu.
    [[ -n $pkg ]] || pkg=$(newest linux-image-6.12 "$regex-unsigned\$")
    [[ -n $pkg ]] || die "no linux-image-6.12.*-amd64 known to apt; run 'apt-get update' first"
    say "resolved 6.12: $pkg"
    if ((refresh)) && complete 6.12 && grep -qx "$pkg=.*" "$cache/6.12/packages"; then
        say "6.12 already cached as $pkg"
    else
        install_series 6.12 -- "$pkg"
    fi
fi

# Series 7, from trixie-backports through the private apt configuration.
if ((refresh)) || ! complete 7; then
    setup_private_apt
    bin=$(newest linux-binary-7 '^linux-binary-7\.[0-9.]+\+deb[0-9]+-amd64$' "${private_apt[@]}")
    [[ -n $bin ]] || die "no linux-binary-7.*-amd64 in trixie-backports"
    mods=linux-modules-${bin#linux-binary-}
    say "resolved 7: $bin $mods"
    if ((refresh)) && complete 7 && grep -qx "$bin=.*" "$cache/7/packages"; then
        say "7 already cached as $bin"
    else
        install_series 7 "${private_apt[@]}" -- "$bin" "$mods"
    fi
fi

echo "kernels cached in $cache:"
report 6.12
report 7
