#!/bin/sh
# Prepares a Debian 12 machine to build and test libctr, from the repository root or anywhere:
#   - installs the build and test dependencies with apt (skipped when all are installed already,
#     so it also works offline once done);
#   - configures the meson build directory (BUILD_DIR, default build/) if needed and builds;
#   - builds the busybox rootfs the examples use (oci-spec-examples/rootfs).
# Run as root. Safe to run again: every step is skipped or incremental when already done.
set -eu

# libc6-dev is named because gcc only recommends it and recommends are not installed.
# iproute2 (`ip`, for the veth pairs of test_netdevices.py) is on a full Debian install but not
# in minimal images. qemu-system-x86, linux-image-amd64 and cpio: the pure cgroup v2 VM
# (test_cgroup_v2_vm.py).
PACKAGES="meson ninja-build pkg-config gcc libc6-dev libjansson-dev libseccomp-dev libcap-ng-dev
libmount-dev libcmocka-dev busybox-static python3-pytest iproute2
qemu-system-x86 linux-image-amd64 cpio"
# The container managers the integration tests run ctr-run under (test_managers_*.py): podman with
# conmon, containerd with umoci to make its OCI image, docker. Their daemons are started by the
# tests with private state, never as services.
PACKAGES="$PACKAGES podman conmon fuse-overlayfs catatonit golang-github-containers-common
containerd umoci docker.io"
# The containerd shim (shim/): protobuf-c's compiler and library for its generated messages, and
# containerd's reference .proto files (read, not compiled) that shim/proto mirrors.
PACKAGES="$PACKAGES protobuf-c-compiler libprotobuf-c-dev golang-github-containerd-containerd-dev"
# Fuzzing and the sanitizer build (tests/fuzz/run.sh, tests/sanitize/run.sh): clang; the
# compiler-rt runtimes (libFuzzer, ASan, UBSan), which clang-14 only recommends; llvm-symbolizer
# (llvm-14) for stack traces with file and line in the reports.
PACKAGES="$PACKAGES clang libclang-rt-14-dev llvm-14"

cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}

missing=
for pkg in $PACKAGES; do
    if [ "$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null)" != installed ]; then
        missing="$missing $pkg"
    fi
done
if [ -n "$missing" ]; then
    echo "==> installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    # shellcheck disable=SC2086 # one word per package
    apt-get install -y --no-install-recommends $missing
fi

if [ ! -f "$BUILD_DIR/build.ninja" ]; then
    echo "==> meson setup $BUILD_DIR"
    meson setup "$BUILD_DIR"
fi
echo "==> ninja -C $BUILD_DIR"
ninja -C "$BUILD_DIR"

echo "==> tests/rootfs.sh"
tests/rootfs.sh
