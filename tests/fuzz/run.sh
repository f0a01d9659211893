#!/bin/sh
# Builds the libFuzzer targets (meson -Dfuzz=true, clang) in build-fuzz/ and runs each for a
# bounded time; fails on any crash, leak, timeout or sanitizer report (ASan, UBSan).
#
#   tests/fuzz/run.sh                 60 s in all, shared between the targets
#   FUZZ_SECONDS=600 tests/fuzz/run.sh
#   FUZZ_BUILD_DIR=DIR                default build-fuzz
#
# Targets: every fuzz_* executable of the build (tests/fuzz: fuzz_spec, fuzz_seccomp; the shim's
# fuzz_ttrpc_frame). Seeds are made fresh each run by tests/fuzz/seeds.py (the examples, the
# tests' configs, tests/fuzz/corpus/); what a run discovers is kept in FUZZ_BUILD_DIR/corpus/
# for the next one. A failing input is saved in FUZZ_BUILD_DIR/artifacts/; rerun it with
#   FUZZ_BUILD_DIR/tests/fuzz/fuzz_spec FUZZ_BUILD_DIR/artifacts/fuzz_spec-crash-...
set -eu

cd "$(dirname "$0")/../.."
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_BUILD_DIR=${FUZZ_BUILD_DIR:-build-fuzz}

fail() {
    echo "tests/fuzz/run.sh: $1" >&2
    exit 1
}

. tests/sanitizer-env.sh # clang, llvm-symbolizer

if [ ! -f "$FUZZ_BUILD_DIR/build.ninja" ]; then
    echo "==> meson setup $FUZZ_BUILD_DIR (clang, -Dfuzz=true)"
    CC=clang meson setup "$FUZZ_BUILD_DIR" -Dfuzz=true -Dtests=false >/dev/null ||
        fail "meson setup $FUZZ_BUILD_DIR failed"
fi
# Only the fuzz targets are built: the rest of the tree is built and tested elsewhere.
targets=$(meson introspect --targets "$FUZZ_BUILD_DIR" | /usr/bin/python3 -c '
import json, os, sys
for t in json.load(sys.stdin):
    if t["type"] == "executable" and t["name"].startswith("fuzz_"):
        print(os.path.relpath(t["filename"][0], sys.argv[1]))' "$FUZZ_BUILD_DIR")
[ -n "$targets" ] || fail "no fuzz_* target in $FUZZ_BUILD_DIR (configured without -Dfuzz=true?)"
echo "==> ninja -C $FUZZ_BUILD_DIR (fuzz targets)"
# shellcheck disable=SC2086 # one word per target
ninja -C "$FUZZ_BUILD_DIR" $targets >/dev/null || fail "building the fuzz targets failed"

seeds=$FUZZ_BUILD_DIR/seeds
rm -rf "$seeds"
/usr/bin/python3 tests/fuzz/seeds.py "$seeds/fuzz_spec" "$seeds/fuzz_seccomp"

# A dictionary of the words config.json is made of: every string literal of the spec parser
# (field names, enum values), quoted as JSON keys and values are, and some literals.
dict=$FUZZ_BUILD_DIR/spec.dict
{
    grep -ohE '"[A-Za-z_][A-Za-z0-9_.=-]*"' libctr/spec*.c | sort -u | sed 's/"\(.*\)"/"\\"\1\\""/'
    printf '%s\n' '"null"' '"true"' '"false"' '"18446744073709551615"' '"9223372036854775808"' \
        '"-1"' '"1.5e3"' '"\\u0000"' '"[]"' '"{}"'
} >"$dict"

# abort_on_error: a report kills the target with SIGABRT, which libFuzzer counts as a crash.
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1:${UBSAN_OPTIONS:-}"

# libFuzzer's last status line, "#123456 DONE cov: 1234 ft: 5678 corp: 345/90Kb ... exec/s: 2000
# ...", in words: runs, edges covered, features (edges with hit counts...), corpus entries.
summary() {
    grep -E '^#[0-9]+[[:space:]]+DONE' "$1" | tail -n 1 | awk '{
        for (i = 1; i < NF; i++) value[$i] = $(i + 1)
        sub(/^#/, "", $1)
        split(value["corp:"], corpus, "/")
        printf "%s runs (%s/s), %s edges covered, %s features, %s inputs in the corpus\n",
            $1, value["exec/s:"], value["cov:"], value["ft:"], corpus[1]
    }'
}

count=$(echo "$targets" | wc -l)
share=$((FUZZ_SECONDS / count))
[ "$share" -ge 1 ] || share=1
mkdir -p "$FUZZ_BUILD_DIR/corpus" "$FUZZ_BUILD_DIR/artifacts" "$FUZZ_BUILD_DIR/logs"
status=0
for target in $targets; do
    name=$(basename "$target")
    target=$FUZZ_BUILD_DIR/$target
    corpus=$FUZZ_BUILD_DIR/corpus/$name
    log=$FUZZ_BUILD_DIR/logs/$name.log
    mkdir -p "$corpus"
    set -- "$corpus"
    [ -d "$seeds/$name" ] && set -- "$@" "$seeds/$name"
    case $name in fuzz_spec | fuzz_seccomp) set -- -dict="$dict" "$@" ;; esac
    echo "==> $name for ${share}s"
    # -timeout: an input taking 10 s is a hang; -rss_limit_mb: 2 GB is a memory blow-up.
    if "$target" -max_total_time="$share" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$FUZZ_BUILD_DIR/artifacts/$name-" "$@" >"$log" 2>&1; then
        echo "    ok: $(summary "$log")"
    else
        status=1
        echo "    FAILED: report (the whole log: $log):"
        # From the first report line to its SUMMARY line (ASan, UBSan, LeakSanitizer, libFuzzer's
        # own timeout/out-of-memory/deadly signal, or this harness's "fuzz_x: ..." message).
        awk '/ERROR|runtime error:|^fuzz_[a-z_]+: / { on = 1 } on { print } /^SUMMARY:/ { exit }' \
            "$log" | head -n 60 | sed 's/^/    /'
        grep -E '^artifact_prefix|Test unit written to' "$log" | sed 's/^/    /'
    fi
done
[ "$status" -eq 0 ] || fail "a fuzz target failed (see above)"
echo "fuzz: $count target(s), ${share}s each: no crash, leak or sanitizer report"
