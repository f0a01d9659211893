#!/bin/sh
# The whole test suite, as CI runs it (.ci/run), in this order:
#   1. set-up (tests/setup.sh: dependencies, build, rootfs);
#   2. the C unit tests;
#   3. fuzzing: each libFuzzer target for a share of FUZZ_SECONDS (default 60; tests/fuzz/run.sh,
#      clang, build-fuzz/);
#   4. the integration tests as root, against BUILD_DIR (default build/);
#   5. the unit and integration tests again under AddressSanitizer + UndefinedBehaviorSanitizer
#      (tests/sanitize/run.sh, clang, build-asan/), failing on any sanitizer report.
# Extra arguments go to both pytest runs, e.g. `tests/run.sh -k seccomp -x`. While developing,
# FUZZ_SECONDS=0 skips fuzzing and SANITIZE=0 the sanitizer run.
#
# The last line of the output is the summary line of the last pytest run, or, when an earlier
# stage failed, a line saying which one and that the integration tests did not run.
set -eu

cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
SANITIZE=${SANITIZE:-1}
export BUILD_DIR FUZZ_SECONDS

stop() {
    echo "tests/run.sh: $1 failed (see above); integration tests not run" >&2
    exit 1
}

tests/setup.sh || stop "set-up (tests/setup.sh)"

echo "==> unit tests"
meson test -C "$BUILD_DIR" --suite unit --print-errorlogs || stop "unit tests"

if [ "$FUZZ_SECONDS" -gt 0 ]; then
    echo "==> fuzzing (tests/fuzz/run.sh, ${FUZZ_SECONDS}s)"
    tests/fuzz/run.sh || stop "fuzzing (tests/fuzz/run.sh)"
else
    echo "==> fuzzing skipped (FUZZ_SECONDS=0)"
fi

CTR_BUILD_DIR=$(cd "$BUILD_DIR" && pwd)
export CTR_BUILD_DIR
export CTR_RUN="$CTR_BUILD_DIR/cli/ctr-run"
# Debian's interpreter, which python3-pytest belongs to (a python3 earlier on PATH may lack it).
if [ "$SANITIZE" = 0 ]; then
    echo "==> integration tests (the sanitizer run is skipped: SANITIZE=0)"
    exec /usr/bin/python3 -m pytest tests/integration "$@"
fi
echo "==> integration tests (then, if they pass, the sanitizer run)"
# On failure nothing more is printed: pytest's summary stays the last line.
/usr/bin/python3 -m pytest tests/integration "$@" || exit

echo "==> sanitizers (tests/sanitize/run.sh)"
unset CTR_BUILD_DIR CTR_RUN
exec tests/sanitize/run.sh "$@"
