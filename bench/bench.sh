#!/bin/sh
# Start-up cost of ctr-run next to runc, crun and the bare-namespaces floor: N (default 50)
# sequential containers of /bin/true each, interleaved. See bench/README.md.
#   bench/bench.sh [N] [--runtimes ctr-run,runc,crun,floor] [--ctr-run PATH]
# Run as root. The work is done by bench/bench.py with Debian's python3 (standard library only).
set -eu
[ "$(id -u)" = 0 ] || { echo "bench.sh: run as root" >&2; exit 1; }
exec /usr/bin/python3 "$(dirname "$0")/bench.py" "$@"
