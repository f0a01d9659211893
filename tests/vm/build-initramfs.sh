#!/bin/sh
# Builds the initramfs of the cgroup v2 test VM (tests/integration/test_cgroup_v2_vm.py):
#
#   tests/vm/build-initramfs.sh OUT.cpio.gz CTR_RUN KERNEL_VERSION [PROGRAM...]
#
# It holds Debian's static busybox (the VM's whole userland), ctr-run and the PROGRAMs (unit test
# binaries that v2-checks.sh runs where it finds them) in /ctr with the shared libraries ldd lists, the kernel modules the checks need from /lib/modules/KERNEL_VERSION (overlay; brd for
# a block device to throttle), the busybox rootfs the containers run in (tests/rootfs.sh), and
# tests/vm/init and tests/vm/v2-checks.sh. Run as root: the console and null device nodes are
# made with mknod, the kernel needs /dev/console before /init runs.
set -eu

[ $# -ge 3 ] || { echo "usage: $0 OUT.cpio.gz CTR_RUN KERNEL_VERSION [PROGRAM...]" >&2; exit 2; }
out=$1 ctr_run=$2 kver=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
BUSYBOX=${BUSYBOX:-/bin/busybox}

die() { echo "build-initramfs.sh: $*" >&2; exit 1; }
[ -x "$BUSYBOX" ] || die "$BUSYBOX not found: apt-get install busybox-static"
[ -x "$ctr_run" ] || die "$ctr_run is not an executable"
[ -d "/lib/modules/$kver" ] || die "no /lib/modules/$kver: install linux-image-amd64"

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT INT TERM
mkdir -p "$stage/bin" "$stage/dev" "$stage/proc" "$stage/sys" "$stage/run" "$stage/tmp" \
    "$stage/newroot" "$stage/modules" "$stage/ctr" "$stage/tests" "$stage/b"
mknod "$stage/dev/console" c 5 1
mknod "$stage/dev/null" c 1 3

cp "$BUSYBOX" "$stage/bin/busybox"
"$BUSYBOX" --list | while read -r applet; do
    [ "$applet" = busybox ] || ln -s busybox "$stage/bin/$applet"
done

# The programs and every library they load, at the paths the dynamic loader looks for them.
cp "$ctr_run" "$stage/ctr/ctr-run"
for program in "$@"; do
    cp "$program" "$stage/ctr/"
done
for program in "$ctr_run" "$@"; do
    ldd "$program" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
done | sort -u | while read -r lib; do
    mkdir -p "$stage$(dirname "$lib")"
    cp -L "$lib" "$stage$lib"
done

for module in kernel/fs/overlayfs/overlay.ko kernel/drivers/block/brd.ko; do
    if [ -f "/lib/modules/$kver/$module" ]; then
        cp "/lib/modules/$kver/$module" "$stage/modules/"
    fi
done

"$repo/tests/rootfs.sh" "$stage/rootfs" >/dev/null
cp "$here/init" "$stage/init"
cp "$here/v2-checks.sh" "$stage/tests/v2-checks.sh"
chmod 0755 "$stage/init" "$stage/tests/v2-checks.sh"

(cd "$stage" && find . | cpio -o -H newc --quiet) | gzip -1 > "$out"
