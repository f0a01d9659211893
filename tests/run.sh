#!/bin/sh
# The whole test suite, as CI runs it (.ci/run): set-up (tests/setup.sh: dependencies, build,
# rootfs), the C unit tests, then the integration tests as root. Extra arguments go to pytest,
# e.g. `tests/run.sh -k seccomp -x`.
#
# The last line of the output is pytest's summary line, or, when an earlier stage failed, a line
# saying which one and that the integration tests did not run.
set -eu

cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
export BUILD_DIR

stop() {
    echo "tests/run.sh: $1 failed (see above); integration tests not run" >&2
    exit 1
}

tests/setup.sh || stop "set-up (tests/setup.sh)"

echo "==> unit tests"
meson test -C "$BUILD_DIR" --suite unit --print-errorlogs || stop "unit tests"

echo "==> integration tests"
CTR_BUILD_DIR=$(cd "$BUILD_DIR" && pwd)
export CTR_BUILD_DIR
export CTR_RUN="$CTR_BUILD_DIR/cli/ctr-run"
# Debian's interpreter, which python3-pytest belongs to (a python3 earlier on PATH may lack it).
exec /usr/bin/python3 -m pytest tests/integration "$@"
