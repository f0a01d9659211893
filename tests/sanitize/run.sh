#!/bin/sh
# The unit and integration tests again, against an AddressSanitizer + UndefinedBehaviorSanitizer
# build of the whole tree (library, ctr-run, shim, unit tests): SANITIZE_BUILD_DIR, default
# build-asan/, configured with clang and meson's b_sanitize=address,undefined. Extra arguments go
# to pytest. The last line of the output is pytest's summary line, or a line saying which step
# failed before it.
#
# Every report stops the process that made it (halt_on_error, abort_on_error), and LeakSanitizer
# checks each instrumented process at exit. In the integration tests the reports are written to
# files in a fresh directory ($CTR_SANITIZER_REPORTS) rather than to stderr, which tests capture
# and often do not show; sanitizer_reports.py (a pytest plugin) fails the test during which a
# report appeared and the run if any is there at the end, printing them.
#
# One blind spot, by construction: the container init writes its reports to the same directory,
# which it can reach until pivot_root. After pivot_root the host's directory is out of its sight:
# the sanitizer prints "ERROR: Can't open file: .../report.1" on the init's stderr and kills it
# (and since the init is pid 1 of its pid namespace, where its own SIGABRT is ignored, glibc's
# abort() ends in SIGSEGV). The test then fails on the dead init, not on a report file.
set -eu

cd "$(dirname "$0")/../.."
SANITIZE_BUILD_DIR=${SANITIZE_BUILD_DIR:-build-asan}

fail() {
    echo "tests/sanitize/run.sh: $1" >&2
    exit 1
}

. tests/sanitizer-env.sh # clang, llvm-symbolizer

# clang rather than gcc: gcc links UBSan as a second runtime next to ASan's, and that one
# ignores log_path, so its reports would only go to stderr. -Db_lundef=false: with clang the
# sanitizer runtime is linked into programs only, so libctr.so has undefined references to it.
# -Dwerror=false: warnings are the gcc build's job (build/, -Werror); clang's extra ones must not
# stop the sanitizer run.
if [ ! -f "$SANITIZE_BUILD_DIR/build.ninja" ]; then
    echo "==> meson setup $SANITIZE_BUILD_DIR (clang, b_sanitize=address,undefined)"
    CC=clang meson setup "$SANITIZE_BUILD_DIR" -Db_sanitize=address,undefined -Db_lundef=false \
        -Dwerror=false >/dev/null || fail "meson setup $SANITIZE_BUILD_DIR failed"
fi
echo "==> ninja -C $SANITIZE_BUILD_DIR"
ninja -C "$SANITIZE_BUILD_DIR" >/dev/null || fail "building $SANITIZE_BUILD_DIR failed"

export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1:print_summary=1"
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1:print_summary=1"

echo "==> unit tests ($SANITIZE_BUILD_DIR)"
meson test -C "$SANITIZE_BUILD_DIR" --suite unit --print-errorlogs ||
    fail "unit tests under ASan+UBSan failed (the report is in the test's log above)"

# Writable by every uid: a user-namespaced container's init writes as its mapped host uid.
reports=$(mktemp -d /tmp/ctr-sanitizer-XXXXXX)
chmod 1777 "$reports"
export CTR_SANITIZER_REPORTS="$reports"
export ASAN_OPTIONS="$ASAN_OPTIONS:log_path=$reports/report"
export UBSAN_OPTIONS="$UBSAN_OPTIONS:log_path=$reports/report"

echo "==> integration tests ($SANITIZE_BUILD_DIR; sanitizer reports go to $reports)"
CTR_BUILD_DIR=$(cd "$SANITIZE_BUILD_DIR" && pwd)
export CTR_BUILD_DIR
export CTR_RUN="$CTR_BUILD_DIR/cli/ctr-run"
status=0
PYTHONPATH="$PWD/tests/sanitize${PYTHONPATH:+:$PYTHONPATH}" \
    /usr/bin/python3 -m pytest -p sanitizer_reports tests/integration "$@" || status=$?
rmdir "$reports" 2>/dev/null || true # kept, and named in the summary, when there are reports
exit "$status"
