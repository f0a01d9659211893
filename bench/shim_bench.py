#!/usr/bin/env python3
"""The containerd shim benchmark: our containerd-shim-ctr-v2 next to containerd's runc shim
(containerd-shim-runc-v2 driving runc), in one run, with one private containerd.

Measured for each shim:
  - its memory while a container sleeps: RSS and PSS of the shim process (smaps_rollup), the
    median over a few containers;
  - the wall time of N sequential `ctr run --rm IMAGE ID /bin/true` (create, start, wait, delete,
    shim start and exit included), interleaved: each round runs every shim once.
and the ratios ours/runc's. See bench/README.md.

    bench/shim_bench.sh [N] [--shim PATH]     # as root, after tests/setup.sh
"""

import argparse
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
SHIMS = {
    # name: (ctr --runtime, how to find it)
    "ctr-shim": "io.containerd.ctr.v2",
    "runc-shim": "io.containerd.runc.v2",
}


def run(cmd, env=None, check=True, **kwargs):
    result = subprocess.run([str(c) for c in cmd], env=env, stdin=subprocess.DEVNULL,
                            capture_output=True, text=True, **kwargs)
    if check and result.returncode != 0:
        sys.exit(f"shim_bench: {' '.join(map(str, cmd))} failed ({result.returncode}):\n"
                 f"{result.stdout}{result.stderr}")
    return result


class Containerd:
    def __init__(self, directory, shim):
        self.dir = directory
        self.socket = directory / "containerd.sock"
        bindir = directory / "bin"
        bindir.mkdir(parents=True)
        (bindir / "containerd-shim-ctr-v2").symlink_to(shim)
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
        self.log = open(directory / "containerd.log", "wb")
        self.process = subprocess.Popen(["containerd", "--config", str(config)], env=self.env,
                                        stdin=subprocess.DEVNULL, stdout=self.log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 30
        while run(["ctr", "--address", self.socket, "version"], env=self.env,
                  check=False).returncode != 0:
            if self.process.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"shim_bench: containerd did not start (see {directory}/containerd.log)")
            time.sleep(0.1)

    def ctr(self, *args, check=True):
        return run(["ctr", "--address", self.socket, "--namespace", NAMESPACE, *args],
                   env=self.env, check=check)

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

    def stop(self):
        self.remove_all()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


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
    """Runs `samples` sleeping containers one after the other; the shim's RSS and PSS each."""
    rss, pss = [], []
    for _ in range(samples):
        cid = f"bench-mem-{uuid.uuid4().hex[:8]}"
        cd.ctr("run", "-d", "--runtime", runtime, IMAGE, cid, "sleep", "1000")
        tasks = {f[0]: int(f[1]) for f in (l.split() for l in cd.ctr("task", "ls").stdout
                                            .splitlines()[1:]) if len(f) >= 3}
        time.sleep(0.5)  # let start-up settle (Go's shim frees memory lazily)
        r, p = memory_kib(parent_of(tasks[cid]))  # the init's parent is its shim
        rss.append(r)
        pss.append(p)
        cd.ctr("task", "kill", "--signal", "SIGKILL", cid)
        for _ in range(100):
            if " STOPPED" in cd.ctr("task", "ls").stdout or cid not in cd.ctr("task", "ls").stdout:
                break
            time.sleep(0.05)
        cd.ctr("task", "rm", cid, check=False)
        cd.ctr("container", "rm", cid)
    return statistics.median(rss), statistics.median(pss)


def timed_runs(cd, runtimes, count):
    times = {name: [] for name in runtimes}
    names = list(runtimes)
    for i in range(count):
        order = names[i % len(names):] + names[:i % len(names)]
        for name in order:
            cid = f"bench-run-{uuid.uuid4().hex[:8]}"
            start = time.monotonic()
            cd.ctr("run", "--rm", "--runtime", runtimes[name], IMAGE, cid, "/bin/true")
            times[name].append(time.monotonic() - start)
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", nargs="?", type=int, default=20,
                        help="sequential `ctr run --rm` per shim (default 20)")
    parser.add_argument("--shim", default=str(REPO / "build" / "shim" / "containerd-shim-ctr-v2"))
    parser.add_argument("--memory-samples", type=int, default=3)
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("shim_bench: run as root")
    shim = Path(args.shim).resolve()
    for need in ("containerd", "ctr", "umoci", "runc", "containerd-shim-runc-v2"):
        if shutil.which(need) is None:
            sys.exit(f"shim_bench: {need} is not installed (apt-get install containerd umoci runc)")
    if not os.access(shim, os.X_OK):
        sys.exit(f"shim_bench: {shim} is not built (ninja -C build)")

    work = Path(tempfile.mkdtemp(prefix="ctr-shim-bench-"))
    work.chmod(0o755)
    cd = None
    try:
        run([REPO / "tests" / "rootfs.sh", work / "rootfs"])
        cd = Containerd(work / "containerd", shim)
        cd.import_image(work / "rootfs")
        # Sanity: each shim runs the image and passes its output.
        for name, runtime in SHIMS.items():
            out = cd.ctr("run", "--rm", "--runtime", runtime, IMAGE, f"bench-check-{name}",
                         "echo", "ok").stdout
            if out.strip() != "ok":
                sys.exit(f"shim_bench: {name} printed {out!r} instead of ok")

        memory = {name: sleeping_shim_memory(cd, rt, args.memory_samples)
                  for name, rt in SHIMS.items()}
        times = timed_runs(cd, SHIMS, args.count)
    finally:
        if cd:
            cd.stop()
        subprocess.run(["rm", "-rf", "--one-file-system", str(work)], check=False)
        shutil.rmtree(Path("/run/containerd/ctr") / NAMESPACE, ignore_errors=True)

    print(f"containerd shims, {args.count} sequential `ctr run --rm {IMAGE} /bin/true` each "
          f"(interleaved), memory of the shim while a container sleeps "
          f"(median of {args.memory_samples})\n")
    print(f"{'shim':<10} {'RSS KiB':>8} {'PSS KiB':>8} {'median ms':>10} {'min ms':>8} "
          f"{'max ms':>8} {'total s':>8}")
    for name in SHIMS:
        t = times[name]
        print(f"{name:<10} {memory[name][0]:>8.0f} {memory[name][1]:>8.0f} "
              f"{statistics.median(t) * 1000:>10.1f} {min(t) * 1000:>8.1f} "
              f"{max(t) * 1000:>8.1f} {sum(t):>8.2f}")
    ours, theirs = "ctr-shim", "runc-shim"
    print(f"\nratios ctr-shim/runc-shim: RSS {memory[ours][0] / memory[theirs][0]:.2f}, "
          f"PSS {memory[ours][1] / memory[theirs][1]:.2f}, "
          f"time (median) {statistics.median(times[ours]) / statistics.median(times[theirs]):.2f}, "
          f"time (total) {sum(times[ours]) / sum(times[theirs]):.2f}")
    print("targets: RSS <= 1536 KiB; time <= 0.5x the runc shim")


if __name__ == "__main__":
    main()
