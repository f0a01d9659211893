#!/usr/bin/env python3
"""The containerd shim benchmark: our containerd-shim-ctr-v2 next to containerd's runc shim
(containerd-shim-runc-v2 driving runc), in one run, with one private containerd.

Measured for each shim:
  - its memory while a container sleeps: RSS and PSS of the shim process (smaps_rollup), the
    median over a few containers, twice: right after a call (`ctr task ls`, which asks the shim
    for the task's State) and once the shim has been idle for a second;
  - the wall time of N sequential `ctr run --rm IMAGE ID /bin/true` (create, start, wait, delete,
    shim start and exit included), interleaved: each round runs every shim once; with --rounds R
    that is done R times, and each round's medians and ratios are shown, then their median and
    spread;
and the ratios ours/runc's. Several builds of our shim can be compared in the same run (--shim
given more than once: before and after a change, side by side). See bench/README.md.

    bench/shim_bench.sh [N] [--rounds R] [--shim PATH ...]     # as root, after tests/setup.sh
"""

import argparse
import hashlib
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
IMAGE = "localhost/bb:latest"
NAMESPACE = "ctr-bench-shim"
RUNC_SHIM = "runc-shim"
# containerd's own socket directory for shims, whatever its configuration.
SHIM_SOCKETS = Path("/run/containerd/s")
# What containerd, ctr and the shims make under /run whatever their configuration: removed at the
# end when this run made them and they are empty (a containerd of the host may use them too).
RUN_DIRS = [Path("/run/containerd"), SHIM_SOCKETS, Path("/run/containerd/fifo"),
            Path("/run/containerd/runc"), Path("/run/containerd/ctr")]


def run(cmd, env=None, check=True, **kwargs):
    result = subprocess.run([str(c) for c in cmd], env=env, stdin=subprocess.DEVNULL,
                            capture_output=True, text=True, **kwargs)
    if check and result.returncode != 0:
        sys.exit(f"shim_bench: {' '.join(map(str, cmd))} failed ({result.returncode}):\n"
                 f"{result.stdout}{result.stderr}")
    return result


def our_shims(paths):
    """{name: (runtime, binary)} for our shim builds: io.containerd.ctr.v2 for the first,
    io.containerd.ctr2.v2 ... for the others (containerd finds containerd-shim-ctr2-v2 etc. on
    its PATH)."""
    shims = {}
    for i, path in enumerate(paths):
        suffix = "" if i == 0 else str(i + 1)
        shims[f"ctr-shim{suffix and '-' + suffix}"] = (f"io.containerd.ctr{suffix}.v2",
                                                       f"containerd-shim-ctr{suffix}-v2", path)
    return shims


class Containerd:
    def __init__(self, directory, shims):
        self.dir = directory
        self.socket = directory / "containerd.sock"
        bindir = directory / "bin"
        bindir.mkdir(parents=True)
        for _, binary, path in shims.values():
            (bindir / binary).symlink_to(path)
        self.env = dict(os.environ, PATH=f"{bindir}:{os.environ.get('PATH', '/usr/bin:/bin')}",
                        TMPDIR=str(directory))
        config = directory / "config.toml"
        config.write_text(f"""version = 2
root = "{directory}/root"
state = "{directory}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "{self.socket}"
[ttrpc]
  address = "{self.socket}.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "{directory}/opt"
""")
        self.ids = {}  # container id: runtime
        self.log = open(directory / "containerd.log", "wb")
        self.process = subprocess.Popen(["containerd", "--config", str(config)], env=self.env,
                                        stdin=subprocess.DEVNULL, stdout=self.log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 30
        while run(["ctr", "--address", self.socket, "version"], env=self.env,
                  check=False).returncode != 0:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self._stop_daemon()  # the caller has no handle to stop it with
                sys.exit(f"shim_bench: containerd did not start (see {directory}/containerd.log)")
            time.sleep(0.1)

    def ctr(self, *args, check=True):
        return run(["ctr", "--address", self.socket, "--namespace", NAMESPACE, *args],
                   env=self.env, check=check)

    def run_container(self, runtime, *args):
        cid = f"bench-{uuid.uuid4().hex[:8]}"
        self.ids[cid] = runtime
        return cid, self.ctr("run", *args[:-1], "--runtime", runtime, IMAGE, cid, *args[-1])

    def import_image(self, rootfs):
        layout = self.dir / "oci"
        for cmd in (["umoci", "init", "--layout", layout],
                    ["umoci", "new", "--image", f"{layout}:latest"],
                    ["umoci", "insert", "--image", f"{layout}:latest", rootfs, "/"]):
            run(cmd, env=self.env)
        archive = self.dir / "image.tar"
        run(["tar", "-C", layout, "-cf", archive, "."])
        self.ctr("images", "import", "--base-name", IMAGE.split(":")[0], archive)

    def remove_all(self):
        for line in self.ctr("task", "ls", check=False).stdout.splitlines()[1:]:
            self.ctr("task", "rm", "--force", line.split()[0], check=False)
        for c in self.ctr("container", "ls", "--quiet", check=False).stdout.split():
            self.ctr("container", "rm", c, check=False)

    def sockets_left(self):
        """Shim sockets of this run's containers still on disk (containerd names them
        sha256(ADDRESS/NAMESPACE/ID)); removed, and returned to be reported."""
        left = []
        for cid, runtime in self.ids.items():
            digest = hashlib.sha256(f"{self.socket}/{NAMESPACE}/{cid}".encode()).hexdigest()
            path = SHIM_SOCKETS / digest
            if os.path.lexists(path):
                left.append(f"{path} (container {cid}, {runtime})")
                path.unlink()
        return left

    def stop(self):
        self.remove_all()
        self._stop_daemon()

    def _stop_daemon(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def remove_namespace_cgroups():
    """The containers' cgroups are /NAMESPACE/ID in every hierarchy (ctr's default spec); the
    runtimes remove the IDs, the bench removes the NAMESPACE parents it made them create."""
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        before, _, after = line.partition(" - ")
        if after.split()[0] in ("cgroup", "cgroup2"):
            try:
                os.rmdir(Path(before.split()[4]) / NAMESPACE)
            except OSError:
                pass


def memory_kib(pid):
    """(RSS, PSS) in KiB of one process."""
    values = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("Rss", "Pss"):
            values[key] = int(rest.split()[0])
    return values["Rss"], values["Pss"]


def parent_of(pid):
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat[stat.rindex(")") + 2:].split()[1])


def sleeping_shim_memory(cd, runtime, samples):
    """Runs `samples` sleeping containers one after the other; the shim's (RSS, PSS) right after
    a call and once idle, each the median of the samples."""
    after_call, idle = [], []
    for _ in range(samples):
        cid, _ = cd.run_container(runtime, "-d", ["sleep", "1000"])
        time.sleep(1)  # let start-up settle (Go's shim frees memory lazily)
        tasks = {f[0]: int(f[1]) for f in (l.split() for l in cd.ctr("task", "ls").stdout
                                            .splitlines()[1:]) if len(f) >= 3}
        shim = parent_of(tasks[cid])  # the init's parent is its shim
        after_call.append(memory_kib(shim))
        time.sleep(1)
        idle.append(memory_kib(shim))
        cd.ctr("task", "kill", "--signal", "SIGKILL", cid)
        for _ in range(100):
            if " STOPPED" in cd.ctr("task", "ls").stdout or cid not in cd.ctr("task", "ls").stdout:
                break
            time.sleep(0.05)
        cd.ctr("task", "rm", cid, check=False)
        cd.ctr("container", "rm", cid)

    def medians(pairs):
        return tuple(statistics.median(p[i] for p in pairs) for i in (0, 1))
    return medians(after_call), medians(idle)


def timed_runs(cd, runtimes, count):
    times = {name: [] for name in runtimes}
    names = list(runtimes)
    for i in range(count):
        order = names[i % len(names):] + names[:i % len(names)]
        for name in order:
            start = time.monotonic()
            cd.run_container(runtimes[name], "--rm", ["/bin/true"])
            times[name].append(time.monotonic() - start)
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", nargs="?", type=int, default=20,
                        help="sequential `ctr run --rm` per shim and round (default 20)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="timing rounds (default 1): medians and spread over rounds")
    parser.add_argument("--shim", action="append",
                        help="our shim binary; more than once to compare builds (default "
                             "build/shim/containerd-shim-ctr-v2)")
    parser.add_argument("--memory-samples", type=int, default=3)
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("shim_bench: run as root")
    paths = [Path(p).resolve() for p in
             (args.shim or [REPO / "build" / "shim" / "containerd-shim-ctr-v2"])]
    for need in ("containerd", "ctr", "umoci", "runc", "containerd-shim-runc-v2"):
        if shutil.which(need) is None:
            sys.exit(f"shim_bench: {need} is not installed (apt-get install containerd umoci runc)")
    for path in paths:
        if not os.access(path, os.X_OK):
            sys.exit(f"shim_bench: {path} is not built (ninja -C build)")
    ours = our_shims(paths)
    runtimes = {name: runtime for name, (runtime, _, _) in ours.items()}
    runtimes[RUNC_SHIM] = "io.containerd.runc.v2"

    made_run_dirs = [d for d in RUN_DIRS if not d.exists()]
    work = Path(tempfile.mkdtemp(prefix="ctr-shim-bench-"))
    work.chmod(0o755)
    cd = None
    sockets_left = []
    try:
        run([REPO / "tests" / "rootfs.sh", work / "rootfs"])
        cd = Containerd(work / "containerd", ours)
        cd.import_image(work / "rootfs")
        # Sanity: each shim runs the image and passes its output.
        for name, runtime in runtimes.items():
            _, result = cd.run_container(runtime, "--rm", ["echo", "ok"])
            if result.stdout.strip() != "ok":
                sys.exit(f"shim_bench: {name} printed {result.stdout!r} instead of ok")

        memory = {name: sleeping_shim_memory(cd, rt, args.memory_samples)
                  for name, rt in runtimes.items()}
        rounds = [timed_runs(cd, runtimes, args.count) for _ in range(args.rounds)]
    finally:
        if cd:
            cd.stop()
            sockets_left = cd.sockets_left()
        subprocess.run(["rm", "-rf", "--one-file-system", str(work)], check=False)
        shutil.rmtree(Path("/run/containerd/ctr") / NAMESPACE, ignore_errors=True)
        try:
            (Path("/run/containerd/runc") / NAMESPACE).rmdir()  # the runc shim's root, if empty
        except OSError:
            pass
        remove_namespace_cgroups()
        for directory in sorted(made_run_dirs, key=lambda d: len(d.parts), reverse=True):
            try:
                directory.rmdir()
            except OSError:
                pass  # gone already, or not empty: someone else's

    print(f"containerd shims, {args.count} sequential `ctr run --rm {IMAGE} /bin/true` each "
          f"(interleaved) x {args.rounds} round(s); memory of the shim while a container "
          f"sleeps (median of {args.memory_samples}), right after a call and idle\n")
    for name, path in ((n, p) for n, (_, _, p) in ours.items()):
        print(f"  {name}: {path}")
    print(f"\n{'shim':<11} {'RSS KiB':>8} {'PSS KiB':>8} {'idle RSS':>9} {'idle PSS':>9} "
          f"{'median ms':>10} {'min ms':>8} {'max ms':>8}")
    for name in runtimes:
        t = [x for r in rounds for x in r[name]]
        (rss, pss), (idle_rss, idle_pss) = memory[name]
        print(f"{name:<11} {rss:>8.0f} {pss:>8.0f} {idle_rss:>9.0f} {idle_pss:>9.0f} "
              f"{statistics.median(t) * 1000:>10.1f} {min(t) * 1000:>8.1f} {max(t) * 1000:>8.1f}")
    print()
    runc_idle = memory[RUNC_SHIM][1]
    for name in ours:
        per_round = [statistics.median(r[name]) / statistics.median(r[RUNC_SHIM]) for r in rounds]
        spread = (f", rounds {' '.join(f'{x:.2f}' for x in per_round)} "
                  f"(min {min(per_round):.2f}, max {max(per_round):.2f})"
                  if len(per_round) > 1 else "")
        print(f"ratios {name}/{RUNC_SHIM}: idle RSS {memory[name][1][0] / runc_idle[0]:.2f}, "
              f"idle PSS {memory[name][1][1] / runc_idle[1]:.2f}, time (median of the round "
              f"medians) {statistics.median(per_round):.2f}{spread}")
    print("targets: RSS <= 1536 KiB; time <= 0.5x the runc shim")
    if sockets_left:
        print("\nshim sockets left behind (now removed):\n  " + "\n  ".join(sockets_left))
        sys.exit(1)


if __name__ == "__main__":
    main()
