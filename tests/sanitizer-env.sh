# shellcheck shell=sh
# Sourced by tests/fuzz/run.sh and tests/sanitize/run.sh (from the repository root, after they
# define fail()): both build with clang and run sanitizer-instrumented programs.

command -v clang >/dev/null ||
    fail "clang not found (tests/setup.sh installs clang and libclang-rt-14-dev)"

# Reports with file and line: the sanitizers look for `llvm-symbolizer` on PATH, which Debian's
# llvm-14 installs only as /usr/lib/llvm-14/bin/llvm-symbolizer (and llvm-symbolizer-14).
for symbolizer in llvm-symbolizer /usr/lib/llvm-14/bin/llvm-symbolizer; do
    if command -v "$symbolizer" >/dev/null; then
        ASAN_SYMBOLIZER_PATH=$(command -v "$symbolizer")
        export ASAN_SYMBOLIZER_PATH
        break
    fi
done
