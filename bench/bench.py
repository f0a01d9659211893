#!/usr/bin/python3
"""Container start-up cost, side by side: ctr-run, runc, crun and the floor.

Runs N sequential containers of /bin/true per runtime from the same busybox bundle, interleaved
(each iteration runs each runtime once, in a rotating order, so drift in the machine's load hits
all alike), and prints each runtime's median milliseconds per container and the ratios.

    ctr-run   ctr-run --root R run --bundle B ID
    runc      runc --root R run --bundle B ID
    crun      crun --cgroup-manager=disabled --root R run --bundle B ID, from inside a private
              mount namespace whose /sys/fs/cgroup is a fresh cgroup2 mount: crun 1.8 refuses a
              hybrid cgroup layout, and its eBPF device filter needs a memlock limit that cannot
              be raised without CAP_SYS_RESOURCE (see /work/shared/ENVIRONMENT.md). That
              namespace is made once, by a worker process; only crun's own run is timed.
    floor     unshare of the same namespaces + a fresh /proc mount + chroot + exec /bin/true:
              what any runtime must at least do, and nothing else.

Each timing is the wall time of one command, from fork to exit, measured the same way for all.
Run as root: bench/bench.sh [N] (see bench/README.md).
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# The namespaces of the bundle, and the unshare(1) flags that make the same ones for the floor.
NAMESPACES = {"pid": "--pid", "network": "--net", "ipc": "--ipc", "uts": "--uts",
              "mount": "--mount"}
CHECK_WORD = "bench-check-ok"
CRUN_NOTE = ("run in a private mount namespace with a fresh cgroup2 /sys/fs/cgroup and "
             "--cgroup-manager=disabled (no cgroup is made for its containers)")


def bundle_config(rootfs, args):
    """A runc-spec-like configuration: the usual mounts, read-only root, no terminal.
    ociVersion 1.0.2 (what `runc spec` writes) because crun 1.8 rejects "1.2.0" as an unknown
    version; every runtime must accept an older 1.x configuration anyway."""
    return {
        "ociVersion": "1.0.2",
        "process": {
            "terminal": False,
            "user": {"uid": 0, "gid": 0},
            "args": args,
            "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],
            "cwd": "/",
            "capabilities": {k: ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
                             for k in ("bounding", "effective", "permitted")},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True,
        },
        "root": {"path": str(rootfs), "readonly": True},
        "hostname": "bench",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620",
                         "gid=5"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
             "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
             "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs",
             "options": ["nosuid", "noexec", "nodev", "ro"]},
        ],
        "linux": {
            "resources": {"devices": [{"allow": False, "access": "rwm"}]},
            "namespaces": [{"type": t} for t in NAMESPACES],
        },
    }


def make_bundle(path, rootfs, args):
    path.mkdir(parents=True)
    (path / "config.json").write_text(json.dumps(bundle_config(rootfs, args), indent=2))
    return path


def timed(cmd, capture=False):
    """Runs cmd; returns (exit status, seconds, stdout, stderr). Output is discarded unless
    capture is set (the sanity check reads it), so writing it costs nothing in the timings."""
    out = subprocess.PIPE if capture else subprocess.DEVNULL
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    return (proc.returncode, elapsed, (proc.stdout or b"").decode(errors="replace"),
            proc.stderr.decode(errors="replace"))


# ---- the runtimes ----

class Runtime:
    """One way of running a bundle. run(bundle, id, capture) -> (status, seconds, out, err)."""

    def __init__(self, name, note=None):
        self.name = name
        self.note = note
        self.seconds = []
        self.failure = None

    def run(self, bundle, container_id, capture=False):
        raise NotImplementedError

    def close(self):
        pass


class OciRuntime(Runtime):
    """A runtime with runc's command line, run directly on the host."""

    def __init__(self, name, command, state_root):
        super().__init__(name)
        self.command = command
        self.state_root = state_root

    def run(self, bundle, container_id, capture=False):
        return timed([*self.command, "--root", str(self.state_root), "run", "--bundle",
                      str(bundle), container_id], capture)

    def close(self):
        # `run` deletes its container; anything left (an interrupted run) goes here.
        if self.state_root.is_dir():
            for state in self.state_root.iterdir():
                subprocess.run([*self.command, "--root", str(self.state_root), "delete",
                                "--force", state.name], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)


class CrunInPrivateNamespace(Runtime):
    """crun, driven through a worker that lives in a private mount namespace with cgroup2 on
    /sys/fs/cgroup. The worker times each crun run itself and reports it as a JSON line."""

    def __init__(self, state_root):
        super().__init__("crun", CRUN_NOTE)
        self.worker = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", sys.executable,
             os.path.abspath(__file__), "--crun-worker", str(state_root)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def run(self, bundle, container_id, capture=False):
        try:
            self.worker.stdin.write(json.dumps([str(bundle), container_id, capture]) + "\n")
            self.worker.stdin.flush()
            reply = self.worker.stdout.readline()
        except BrokenPipeError:
            reply = ""
        if not reply:
            return 1, 0.0, "", "the crun worker died (see its error above)"
        return tuple(json.loads(reply))

    def close(self):
        try:
            self.worker.stdin.close()
        except BrokenPipeError:
            pass  # it died with a request unread: the other runtimes' clean-up still runs
        self.worker.wait()


def crun_worker(state_root):
    """The worker's side: runs in the private mount namespace `unshare` made for it."""
    subprocess.run(["mount", "-t", "cgroup2", "none", "/sys/fs/cgroup"], check=True)
    command = ["crun", "--cgroup-manager=disabled", "--root", state_root]
    for line in sys.stdin:
        bundle, container_id, capture = json.loads(line)
        result = timed([*command, "run", "--bundle", bundle, container_id], capture)
        print(json.dumps(result), flush=True)
    # Leftovers of an interrupted run; the mount namespace and its cgroup2 mount die with us.
    if os.path.isdir(state_root):
        for name in os.listdir(state_root):
            subprocess.run([*command, "delete", "--force", name], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)


class Floor(Runtime):
    """unshare(1) of the bundle's namespaces, proc mounted on the rootfs, chroot, exec."""

    def __init__(self, rootfs):
        super().__init__("floor", "unshare of the same namespaces + a /proc mount + chroot + "
                                  "exec, nothing else")
        self.rootfs = rootfs

    def run(self, bundle, container_id, capture=False):
        args = json.loads((Path(bundle) / "config.json").read_text())["process"]["args"]
        return timed(["unshare", "--fork", *NAMESPACES.values(),
                      f"--mount-proc={self.rootfs}/proc", "chroot", str(self.rootfs), *args],
                     capture)


# ---- the benchmark ----

def default_ctr_run():
    return os.environ.get("CTR_RUN", str(REPO / "build" / "cli" / "ctr-run"))


def make_runtimes(wanted, ctr_run, workdir, rootfs):
    """The runtimes to compare, and a reason for each one that cannot take part. Their state
    roots are in `workdir`, which lives on /run's tmpfs as the runtimes' defaults do (/run/runc,
    /run/crun, /run/ctr): state on a disk filesystem would time the disk, not the runtime."""
    runtimes, skipped = [], {}
    for name in wanted:
        if name in ("ctr-run", "ctr-nocg"):
            # ctr-nocg: ctr-run with --cgroup-manager=disabled, crun's set-up here: the one
            # comparison with crun that times the same work.
            extra = ["--cgroup-manager=disabled"] if name == "ctr-nocg" else []
            if os.access(ctr_run, os.X_OK):
                runtimes.append(OciRuntime(name, [ctr_run, *extra], workdir / f"state-{name}"))
            else:
                skipped[name] = f"{ctr_run} not built (meson setup build && ninja -C build)"
        elif name == "runc":
            if shutil.which("runc"):
                runtimes.append(OciRuntime("runc", ["runc"], workdir / "state-runc"))
            else:
                skipped[name] = "runc not installed (apt-get install runc)"
        elif name == "crun":
            if shutil.which("crun"):
                runtimes.append(CrunInPrivateNamespace(workdir / "state-crun"))
            else:
                skipped[name] = "crun not installed (apt-get install crun)"
        elif name == "floor":
            runtimes.append(Floor(rootfs))
    return runtimes, skipped


def sanity_check(runtime, check_bundle):
    """One run that must print CHECK_WORD: a runtime that exits 0 without running the container
    would otherwise look very fast."""
    status, _, out, err = runtime.run(check_bundle, f"bench-check-{runtime.name}", capture=True)
    if status != 0 or CHECK_WORD not in out:
        return f"sanity run failed (exit {status}): {(err or out).strip()[-500:]}"
    return None


def benchmark(runtimes, bundle, iterations):
    for i in range(iterations):
        live = [r for r in runtimes if r.failure is None]
        shift = i % len(live) if live else 0
        for runtime in live[shift:] + live[:shift]:
            status, seconds, _, err = runtime.run(bundle, f"bench-{runtime.name}-{i}")
            if status != 0:
                runtime.failure = f"run {i} failed (exit {status}): {err.strip()[-500:]}"
            else:
                runtime.seconds.append(seconds)


def report(runtimes, skipped, iterations):
    print(f"{iterations} sequential containers of /bin/true per runtime, interleaved round-robin; "
          f"busybox bundle, namespaces {' '.join(NAMESPACES)}, read-only root")
    print(f"host: Linux {os.uname().release}, {os.cpu_count()} CPUs")
    print()
    print(f"{'runtime':<10}{'median ms':>11}{'min ms':>9}{'max ms':>9}{'runs':>6}")
    medians = {}
    for r in runtimes:
        if r.seconds:
            ms = [s * 1000 for s in r.seconds]
            medians[r.name] = statistics.median(ms)
            print(f"{r.name:<10}{medians[r.name]:>11.2f}{min(ms):>9.2f}{max(ms):>9.2f}"
                  f"{len(ms):>6}")
        if r.failure:
            print(f"{r.name:<10}  FAILED: {r.failure}")
    for name, reason in skipped.items():
        print(f"{name:<10}  skipped: {reason}")
    print()
    for r in runtimes:
        if r.note and r.name in medians:
            print(f"{r.name}: {r.note}")
    print()
    print("ratios of medians:")
    for a, b in (("ctr-run", "crun"), ("ctr-nocg", "crun"), ("ctr-run", "runc"),
                 ("ctr-run", "floor"), ("ctr-nocg", "floor"), ("crun", "floor"), ("runc", "floor")):
        if a in medians and b in medians:
            print(f"  {a}/{b}: {medians[a] / medians[b]:.2f}")
        else:
            print(f"  {a}/{b}: n/a")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("iterations", nargs="?", type=int, default=50,
                        help="containers per runtime (default 50)")
    parser.add_argument("--ctr-run", default=default_ctr_run(),
                        help="the ctr-run binary (default $CTR_RUN or build/cli/ctr-run)")
    parser.add_argument("--runtimes", default="ctr-run,ctr-nocg,runc,crun,floor",
                        help="comma-separated subset of ctr-run,ctr-nocg (no cgroups, as crun "
                             "runs here),runc,crun,floor")
    parser.add_argument("--crun-worker", metavar="STATE_ROOT", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.crun_worker:
        return crun_worker(args.crun_worker)
    if os.geteuid() != 0:
        sys.exit("bench: run as root (containers need namespaces and mounts)")
    if args.iterations < 1:
        sys.exit("bench: the number of containers must be at least 1")
    wanted = [name.strip() for name in args.runtimes.split(",") if name.strip()]
    unknown = set(wanted) - {"ctr-run", "ctr-nocg", "runc", "crun", "floor"}
    if unknown:
        sys.exit(f"bench: unknown runtimes: {', '.join(sorted(unknown))}")

    workdir = Path(tempfile.mkdtemp(prefix="ctr-bench-"))
    workdir.chmod(0o755)
    state_dir = Path(tempfile.mkdtemp(prefix="ctr-bench-state-", dir="/run"))
    runtimes = []
    try:
        rootfs = workdir / "rootfs"
        subprocess.run([str(REPO / "tests" / "rootfs.sh"), str(rootfs)], check=True)
        bundle = make_bundle(workdir / "bundle-true", rootfs, ["/bin/true"])
        check_bundle = make_bundle(workdir / "bundle-check", rootfs, ["/bin/echo", CHECK_WORD])

        runtimes, skipped = make_runtimes(wanted, os.path.abspath(args.ctr_run), state_dir, rootfs)
        for runtime in runtimes:
            runtime.failure = sanity_check(runtime, check_bundle)
        benchmark(runtimes, bundle, args.iterations)
        report(runtimes, skipped, args.iterations)
    finally:
        for runtime in runtimes:
            runtime.close()
        subprocess.run(["rm", "-rf", "--one-file-system", str(workdir), str(state_dir)],
                       check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
