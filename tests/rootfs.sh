#!/bin/sh
# Builds the busybox root filesystem the examples, the integration tests and the benchmark run in.
#
#   tests/rootfs.sh [DIR]     (default: oci-spec-examples/rootfs, which .gitignore excludes)
#
# The rootfs is Debian's static busybox (package busybox-static), one symlink per applet in /bin,
# a minimal /etc/passwd and /etc/group, and the empty directories a container's mounts land on.
# Nothing binary is committed: the tree is made from the host's busybox at test time.
#
# Idempotent and fast: a marker file records the busybox binary and the layout version the tree was
# made from; when it matches, the script returns at once. A build goes into a temporary sibling
# directory that is renamed into place, so an interrupted build never leaves a half-made rootfs
# that looks finished.
set -eu

# Bump when the layout below changes, so existing trees are rebuilt.
LAYOUT_VERSION=1
MARKER=.libctr-rootfs
BUSYBOX=${BUSYBOX:-/bin/busybox}

repo=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-$repo/oci-spec-examples/rootfs}

die() { echo "rootfs.sh: $*" >&2; exit 1; }

[ -x "$BUSYBOX" ] || die "$BUSYBOX not found: apt-get install busybox-static (or run tests/setup.sh)"
# A dynamically linked busybox (Debian's `busybox` package) would need the host's libc inside.
if ldd "$BUSYBOX" >/dev/null 2>&1; then
    die "$BUSYBOX is dynamically linked: apt-get install busybox-static"
fi

want="layout=$LAYOUT_VERSION busybox=$(sha256sum "$BUSYBOX" | cut -d' ' -f1)"
if [ -f "$dest/$MARKER" ] && [ "$(cat "$dest/$MARKER")" = "$want" ]; then
    exit 0
fi

# Never delete a directory this script did not make: only an empty one or one carrying our marker.
if [ -d "$dest" ] && [ ! -f "$dest/$MARKER" ] && [ -n "$(ls -A "$dest")" ]; then
    die "$dest exists, is not empty and was not made by this script; remove it or choose another"
fi

parent=$(dirname "$dest")
mkdir -p "$parent"
tmp=$(mktemp -d "$parent/.rootfs-build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# mktemp makes the directory 0700; the rootfs root must be traversable by any user, including the
# unprivileged host uid a user-namespaced container's root maps to.
chmod 0755 "$tmp"
mkdir -p "$tmp/bin" "$tmp/etc" "$tmp/proc" "$tmp/sys" "$tmp/dev" "$tmp/home" "$tmp/tmp" "$tmp/root"
chmod 1777 "$tmp/tmp"
chmod 0700 "$tmp/root"

cp "$BUSYBOX" "$tmp/bin/busybox"
chmod 0755 "$tmp/bin/busybox"
# One relative symlink per applet; the applet named busybox would replace the binary itself.
"$BUSYBOX" --list | while read -r applet; do
    [ "$applet" = busybox ] || ln -s busybox "$tmp/bin/$applet"
done

cat >"$tmp/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
ctr:x:1000:1000:ctr:/home:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$tmp/etc/group" <<'EOF'
root:x:0:
tty:x:5:
ctr:x:1000:
nogroup:x:65534:
EOF
chmod 0644 "$tmp/etc/passwd" "$tmp/etc/group"

echo "$want" >"$tmp/$MARKER"

# Swap the finished tree into place (an empty or stale $dest goes away first). mv -T never moves
# the tree *into* a directory that a concurrent build put there meanwhile.
if [ -d "$dest" ]; then
    rm -rf "$dest"
fi
if ! mv -T "$tmp" "$dest" 2>/dev/null; then
    # A concurrent run finished first: fine if it made the same tree.
    [ "$(cat "$dest/$MARKER" 2>/dev/null)" = "$want" ] || die "cannot move the new rootfs to $dest"
    exit 0
fi
trap - EXIT INT TERM
