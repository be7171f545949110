#!/usr/bin/env bash
# Builds what the end-to-end guest needs and caches it under <repo>/.cache/guest/:
#   - the Debian guest kernel (vmlinuz) of the exact package linux-image-amd64 depends on,
#   - initramfs.cpio.gz: busybox-static + the virtio-fs modules + /init + tests/EndToEnd/guest/*.
# Idempotent: a second run reuses the kernel and rebuilds the initramfs only when its inputs changed.
# Prints the produced paths last, one per line, as GUEST_KERNEL=... and GUEST_INITRD=... (stdout);
# progress goes to stderr. Needs root only to install missing packages.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache="$repo/.cache/guest"
guest_src="$repo/tests/EndToEnd/guest"
helpers_src="$repo/tests/EndToEnd/helpers"

# Load order from DESIGN.md: each module after the ones it depends on (checked below against .modinfo).
modules=(virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci fuse virtiofs)

say() { echo "prepare-guest: $*" >&2; }
die() { echo "prepare-guest: error: $*" >&2; exit 1; }

mkdir -p "$cache"
# Tests and the demo may run this at the same time: one builder at a time.
exec 9>"$cache/.lock"
flock 9

apt_updated=no
apt_update_once() {
    if [[ $apt_updated == no ]]; then
        say "apt-get update"
        apt-get update -qq >&2
        apt_updated=yes
    fi
}

# apt-get install, with an apt-get update first when the package lists don't know the packages yet.
install_packages() {
    say "installing: $*"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2; then
        apt_update_once
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
    fi
}

# --- tools ---------------------------------------------------------------------------------------
missing=()
command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
# busybox and busybox-static both provide /bin/busybox; only the static one runs without libc in the guest.
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed' || missing+=(busybox-static)
command -v cpio >/dev/null || missing+=(cpio)
command -v xz >/dev/null || missing+=(xz-utils)
command -v zstd >/dev/null || missing+=(zstd)
# The guest's static C helpers (tests/EndToEnd/helpers): gcc and the static glibc.
command -v gcc >/dev/null || missing+=(gcc)
[[ -f /usr/lib/x86_64-linux-gnu/libc.a || -f /usr/lib/aarch64-linux-gnu/libc.a ]] || missing+=(libc6-dev)
if ((${#missing[@]})); then
    ((EUID == 0)) || die "missing packages (${missing[*]}) and not root: install them first"
    install_packages "${missing[@]}"
fi
busybox=/bin/busybox
[[ -x $busybox ]] || die "$busybox not found after installing busybox-static"

# --- kernel --------------------------------------------------------------------------------------
# The one package linux-image-amd64 depends on (a glob would download dozens of kernels).
kernel_package() {
    apt-cache depends linux-image-amd64 2>/dev/null |
        awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}
pkg=$(kernel_package || true)
if [[ -z $pkg ]]; then
    apt_update_once
    pkg=$(kernel_package || true)
fi
[[ -n $pkg ]] || die "apt-cache depends linux-image-amd64 names no linux-image-<version> package"

# _apt cannot write into root-owned build folders; the download is verified by apt either way.
download() { (cd "$cache/download" && apt-get download -o APT::Sandbox::User=root "$pkg" >&2); }

if [[ ! -f $cache/$pkg/.complete ]]; then
    say "downloading $pkg (about 70 MB)"
    rm -rf "$cache/download"
    mkdir -p "$cache/download"
    if ! download; then
        # Stale package lists name a kernel the mirror no longer has: refresh and ask again.
        apt_update_once
        pkg=$(kernel_package)
        say "downloading $pkg after apt-get update"
        download
    fi
fi
kdir="$cache/$pkg"
if [[ ! -f $kdir/.complete ]]; then
    rm -rf "$kdir"
    deb=$(ls "$cache/download"/*.deb)
    say "extracting vmlinuz and modules from $(basename "$deb")"
    dpkg-deb -x "$deb" "$cache/download/root"
    root="$cache/download/root"
    kver=${pkg#linux-image-}
    moddir="$root/lib/modules/$kver"
    [[ -f $root/boot/vmlinuz-$kver ]] || die "no boot/vmlinuz-$kver in $deb"
    [[ -f $moddir/modules.builtin ]] || die "no modules.builtin in $deb"

    # modules.builtin lists paths with the file's spelling; module names treat - and _ alike.
    is_builtin() { grep -Eq "/${1//_/[_-]}\.ko\$" "$moddir/modules.builtin"; }

    mkdir -p "$kdir/modules"
    cp "$root/boot/vmlinuz-$kver" "$kdir/vmlinuz"
    : >"$kdir/load-order"
    for m in "${modules[@]}"; do
        if is_builtin "$m"; then
            say "  $m: built into the kernel"
            continue
        fi
        ko=$(find "$moddir/kernel" -type f \( -name "$m.ko" -o -name "$m.ko.xz" -o -name "$m.ko.zst" \
            -o -name "${m//_/-}.ko" -o -name "${m//_/-}.ko.xz" -o -name "${m//_/-}.ko.zst" \) -print -quit)
        [[ -n $ko ]] || die "module $m is neither built in nor shipped in $pkg"
        # busybox insmod cannot decompress: store plain .ko files.
        case $ko in
            *.ko.xz) xz -dc "$ko" >"$kdir/modules/$m.ko" ;;
            *.ko.zst) zstd -qdc "$ko" >"$kdir/modules/$m.ko" ;;
            *) cp "$ko" "$kdir/modules/$m.ko" ;;
        esac
        echo "$m" >>"$kdir/load-order"
        say "  $m: module ${ko#"$moddir/"}"
    done
    # Every dependency of a module we insmod must be built in or loaded before it.
    loaded=" "
    while read -r m; do
        deps=$(tr '\0' '\n' <"$kdir/modules/$m.ko" | sed -n 's/^depends=//p')
        for d in ${deps//,/ }; do
            d=${d//-/_}
            if [[ $loaded != *" $d "* ]] && ! is_builtin "$d"; then
                die "module $m depends on $d, which is not loaded before it"
            fi
        done
        loaded+="$m "
    done <"$kdir/load-order"
    echo "$kver" >"$kdir/kernel-version"
    touch "$kdir/.complete"
fi
rm -rf "$cache/download"

# --- static helpers --------------------------------------------------------------------------------
# Each tests/EndToEnd/helpers/NAME.c becomes /e2e/bin/NAME in the guest. Cached by the source's and gcc's hash.
helpers_out="$cache/helpers"
mkdir -p "$helpers_out"
gcc_id=$(gcc --version | head -n 1)
for src in "$helpers_src"/*.c; do
    [[ -e $src ]] || continue
    name=$(basename "$src" .c)
    want=$( { echo "$gcc_id"; sha256sum "$src"; } | sha256sum | cut -d' ' -f1)
    if [[ -x $helpers_out/$name && -f $helpers_out/$name.stamp && $(cat "$helpers_out/$name.stamp") == "$want" ]]; then
        continue
    fi
    say "compiling helper $name"
    gcc -static -O2 -Wall -Wno-unused-result -o "$helpers_out/$name.tmp" "$src" >&2 || die "cannot compile $src"
    mv -f "$helpers_out/$name.tmp" "$helpers_out/$name"
    echo "$want" >"$helpers_out/$name.stamp"
done

# --- initramfs -----------------------------------------------------------------------------------
initrd="$cache/initramfs.cpio.gz"
[[ -f $guest_src/init ]] || die "$guest_src/init not found"
# Rebuild only when something that goes into the image changed.
stamp=$(
    {
        echo "$pkg"
        sha256sum "$busybox" "${BASH_SOURCE[0]}" "$kdir/load-order"
        (cd "$guest_src" && find . -type f | LC_ALL=C sort | xargs -d '\n' sha256sum)
        (cd "$helpers_out" && find . -type f -name '*.stamp' | LC_ALL=C sort | xargs -r -d '\n' cat)
    } | sha256sum | cut -d' ' -f1
)
if [[ -f $initrd && -f $cache/initramfs.stamp && $(cat "$cache/initramfs.stamp") == "$stamp" ]]; then
    say "initramfs is up to date"
else
    say "building initramfs"
    work=$(mktemp -d "$cache/initramfs.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    img="$work/root"
    mkdir -p "$img"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,mnt,tmp,etc,e2e,lib/modules/virtiofs}
    cp "$busybox" "$img/bin/busybox"
    # One symlink per applet, where busybox says it lives (bin/ls, sbin/insmod, usr/bin/sha256sum, ...).
    "$busybox" --list-full | while read -r applet; do
        [[ $applet == bin/busybox ]] && continue
        mkdir -p "$img/$(dirname "$applet")"
        ln -sf /bin/busybox "$img/$applet"
    done
    # The kernel opens /dev/console before /init runs; without the node /init starts with no stdout.
    mknod -m 600 "$img/dev/console" c 5 1 2>/dev/null || say "warning: cannot mknod /dev/console (not root?)"
    while read -r m; do cp "$kdir/modules/$m.ko" "$img/lib/modules/virtiofs/"; done <"$kdir/load-order"
    cp "$kdir/load-order" "$img/etc/virtiofs-modules"
    cp "$kdir/kernel-version" "$img/etc/kernel-version"
    install -m 755 "$guest_src/init" "$img/init"
    find "$guest_src" -maxdepth 1 -type f ! -name init -exec install -m 755 {} "$img/e2e/" \;
    mkdir -p "$img/e2e/bin"
    for src in "$helpers_src"/*.c; do
        [[ -e $src ]] || continue
        install -m 755 "$helpers_out/$(basename "$src" .c)" "$img/e2e/bin/"
    done
    (cd "$img" && find . -print0 | LC_ALL=C sort -z | cpio --quiet -o -0 -H newc -R 0:0) | gzip -6 >"$work/initramfs.cpio.gz"
    mv -f "$work/initramfs.cpio.gz" "$initrd"
    echo "$stamp" >"$cache/initramfs.stamp"
fi

echo "GUEST_KERNEL=$kdir/vmlinuz"
echo "GUEST_INITRD=$initrd"
