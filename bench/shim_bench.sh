#!/bin/sh
# containerd shim benchmark: containerd-shim-ctr-v2 next to containerd's runc shim (see
# bench/shim_bench.py and bench/README.md). As root, after tests/setup.sh:
#   bench/shim_bench.sh                      # 20 sequential `ctr run --rm` per shim
#   bench/shim_bench.sh 20 --rounds 5        # five rounds: medians and spread
#   bench/shim_bench.sh 20 --shim build-release/shim/containerd-shim-ctr-v2
#   bench/shim_bench.sh 20 --shim /tmp/before --shim build/shim/containerd-shim-ctr-v2
set -eu
cd "$(dirname "$0")/.."
exec /usr/bin/python3 bench/shim_bench.py "$@"
