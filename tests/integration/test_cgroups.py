"""The container's cgroup: where it is, what is written into it, what the limits do, and that it is
gone with the container.

These run on the host as it is (here: hybrid, cgroup v1 controllers plus a cgroup2 tree with only
hugetlb), and in a pure cgroup v2 view of it: a private mount namespace where /sys/fs/cgroup is a
fresh cgroup2 mount (ENVIRONMENT.md). That v2 tree is the host's own cgroup2 hierarchy, so the
host still sees what the container made, at its cgroup2 mount (/sys/fs/cgroup/unified here).

A container that must be looked at while it runs prints `ready` and waits on its stdin
(`read`): the test reads that line, looks, then writes a line to let it finish. No sleeps.
"""

import os
import select
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

import ctrtest
from ctrtest import DEFAULT_TIMEOUT, cgroup2_mount, cgroup_dirs

WAIT_ON_STDIN = "echo ready; read line"


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------

def existing(path):
    return [str(d) for d in cgroup_dirs(path) if d.exists()]


def v1_hierarchy(controller):
    """The mount point of the v1 hierarchy with `controller`, or skips the test saying why."""
    mount = ctrtest.v1_hierarchy(controller)
    if mount is None:
        pytest.skip(f"no cgroup v1 hierarchy has the {controller} controller on this host")
    return mount


def proc_cgroups(pid):
    """/proc/PID/cgroup as {hierarchy id and controllers: path}."""
    found = {}
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        number, controllers, path = line.split(":", 2)
        found[f"{number}:{controllers}"] = path
    return found


def read(path):
    return Path(path).read_text().strip()


def alive(pid):
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def without_namespace(bundle, type):
    bundle.remove_namespace(type)
    return bundle


class RunningContainer:
    """`ctr-run run` in the background, its container printing `ready` and then waiting on stdin.

    pid is the container's process as the host sees it (ctr-run's only child). finish() lets it
    go on and returns (exit status, stdout, stderr). Leaving the `with` block without finish()
    still ends it: stdin is closed, so `read` returns and the container exits."""

    def __init__(self, cmd, container_id):
        self.cmd = [str(c) for c in cmd]
        self.container_id = container_id
        self.proc = None
        self.pid = None
        self._out = b""

    def __enter__(self):
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        try:
            self._wait_ready()
            self.pid = self._only_child()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _wait_ready(self):
        deadline = time.monotonic() + DEFAULT_TIMEOUT
        fd = self.proc.stdout.fileno()
        while b"ready\n" not in self._out:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                pytest.fail(f"the container did not print `ready` within {DEFAULT_TIMEOUT:g}s",
                            pytrace=False)
            chunk = os.read(fd, 4096)
            if not chunk:
                _, err = self.proc.communicate(timeout=DEFAULT_TIMEOUT)
                pytest.fail(f"ctr-run exited ({self.proc.returncode}) before the container was "
                            f"ready:\n{self._out.decode(errors='replace')}"
                            f"{err.decode(errors='replace')}", pytrace=False)
            self._out += chunk

    def _only_child(self):
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        assert len(children) == 1, f"ctr-run has {len(children)} children, expected the init"
        return int(children[0])

    def finish(self):
        try:
            out, err = self.proc.communicate(b"go\n", timeout=DEFAULT_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate()
            pytest.fail(f"ctr-run did not exit within {DEFAULT_TIMEOUT:g}s after the container "
                        "was let go", pytrace=False)
        return self.proc.returncode, (self._out + out).decode(errors="replace"), \
            err.decode(errors="replace")

    def __exit__(self, *exc):
        if self.proc.returncode is None:
            try:
                self.proc.communicate(timeout=DEFAULT_TIMEOUT)  # closes stdin: `read` ends
            except subprocess.TimeoutExpired:
                self.proc.kill()  # what it leaves behind, the leak checker reports
                self.proc.communicate()
        return False


@pytest.fixture
def running(ctr_run, ctr_root):
    """running(bundle, id=None, wrapper=()) -> RunningContainer for `with`; the bundle's process
    is replaced by one printing `ready` and waiting on stdin. `wrapper` is a command prefix (the
    cgroup v2 view)."""

    def start(bundle, id=None, wrapper=()):
        bundle.shell(WAIT_ON_STDIN)
        container_id = id or ctrtest.new_id()
        cmd = [*wrapper, ctr_run, "--root", ctr_root, "run", "--bundle", bundle.write(),
               container_id]
        return RunningContainer(cmd, container_id)

    return start


def one_error_line(stderr):
    lines = stderr.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{stderr}"
    return lines[0]


# --------------------------------------------------------------------------------------------
# Where the container's process is
# --------------------------------------------------------------------------------------------

def test_container_process_is_alone_in_its_own_cgroup_in_every_hierarchy(bundle, running):
    with running(bundle()) as c:
        expected = f"/ctr/{c.container_id}"
        seen = proc_cgroups(c.pid)
        assert seen.keys() == proc_cgroups("self").keys(), "not in every hierarchy of the host"
        assert all(path == expected for path in seen.values()), seen
        for d in cgroup_dirs(expected):
            assert read(d / "cgroup.procs").split() == [str(c.pid)], \
                f"{d}/cgroup.procs holds more (or other) than the container's process"
        c.finish()


def test_cgroup_namespace_shows_the_container_its_cgroup_as_the_root(bundle, run):
    b = bundle().shell("cat /proc/self/cgroup")  # the default config has a cgroup namespace
    result = run(b)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(proc_cgroups("self")), result.stdout
    assert all(line.endswith(":/") for line in lines), result.stdout


def test_container_sees_its_cgroup_paths_without_a_cgroup_namespace(bundle, run):
    container_id = ctrtest.new_id()
    b = without_namespace(bundle(), "cgroup").shell("cat /proc/self/cgroup")
    result = run(b, id=container_id)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(proc_cgroups("self")), result.stdout
    assert all(line.endswith(f":/ctr/{container_id}") for line in lines), result.stdout


# --------------------------------------------------------------------------------------------
# What is written, and what it does
# --------------------------------------------------------------------------------------------

def test_memory_limit_is_written_to_memory_limit_in_bytes(bundle, running):
    memory = v1_hierarchy("memory")
    b = bundle().set("linux.resources.memory", {"limit": 32 << 20})
    with running(b) as c:
        assert read(memory / "ctr" / c.container_id / "memory.limit_in_bytes") == str(32 << 20)
        c.finish()


def test_memory_hog_above_the_limit_is_oom_killed(bundle, run):
    """100 MiB held by `tail` (no newline in /dev/zero: it keeps it all) in a 32 MiB container is
    killed by the OOM killer (137 = 128 + SIGKILL); under a 256 MiB limit the same command
    completes, so it is the limit that kills it."""
    memory = v1_hierarchy("memory")
    hog = "head -c 100m /dev/zero | tail | wc -c"
    roomy = bundle().shell(hog).set("linux.resources.memory", {"limit": 256 << 20})
    result = run(roomy)
    assert result.returncode == 0 and result.stdout.split() == [str(100 << 20)], \
        f"the hog fails even with room to spare ({result.returncode}):\n{result.stderr}"

    limits = {"limit": 32 << 20}
    if (memory / "memory.memsw.limit_in_bytes").exists():
        limits["swap"] = 32 << 20  # memory+swap: no escaping into swap, if the host has some
    tight = bundle().shell("head -c 100m /dev/zero | tail").set("linux.resources.memory", limits)
    result = run(tight)
    assert result.returncode == 137, \
        f"expected an OOM kill (137), got {result.returncode}:\n{result.stderr}"


def test_pids_limit_is_written_to_pids_max(bundle, running):
    pids = v1_hierarchy("pids")
    b = bundle().set("linux.resources.pids", {"limit": 8})
    with running(b) as c:
        assert read(pids / "ctr" / c.container_id / "pids.max") == "8"
        c.finish()


def test_pids_limit_makes_fork_fail_in_a_fork_loop(bundle, run):
    """With pids.limit 8 the shell (1) starts 7 background sleeps, then fork fails (EAGAIN) and
    the shell gives up; the pid namespace's end takes the sleeps with it."""
    v1_hierarchy("pids")
    limit = 8
    b = bundle().shell("i=0; while [ $i -lt 30 ]; do sleep 1000 & i=$((i+1)); echo $i; done")
    b.set("linux.resources.pids", {"limit": limit})
    result = run(b)
    started = [int(n) for n in result.stdout.split()]
    assert result.returncode != 0, "the fork loop ran to its end"
    assert "can't fork" in result.stderr, result.stderr
    assert max(started, default=0) == limit - 1, f"started {started}"


def test_cpu_shares_quota_and_period_are_written(bundle, running):
    cpu = v1_hierarchy("cpu")
    b = bundle().set("linux.resources.cpu", {"shares": 512, "quota": 50000, "period": 200000})
    with running(b) as c:
        d = cpu / "ctr" / c.container_id
        assert read(d / "cpu.shares") == "512"
        assert read(d / "cpu.cfs_quota_us") == "50000"
        assert read(d / "cpu.cfs_period_us") == "200000"
        c.finish()


def test_cpuset_cpus_and_mems_are_written_and_bind_the_process(bundle, running):
    cpuset = v1_hierarchy("cpuset")
    host_cpus = read(cpuset / "cpuset.effective_cpus")
    if host_cpus.isdigit():
        pytest.skip(f"the host's cpuset has a single CPU ({host_cpus}): no subset to bind to")
    last_cpu = host_cpus.replace("-", ",").split(",")[-1]
    first_mem = read(cpuset / "cpuset.effective_mems").replace("-", ",").split(",")[0]
    b = bundle().set("linux.resources.cpu", {"cpus": last_cpu, "mems": first_mem})
    with running(b) as c:
        d = cpuset / "ctr" / c.container_id
        assert read(d / "cpuset.cpus") == last_cpu
        assert read(d / "cpuset.mems") == first_mem
        status = Path(f"/proc/{c.pid}/status").read_text()
        assert f"Cpus_allowed_list:\t{last_cpu}\n" in status, status
        c.finish()


# --------------------------------------------------------------------------------------------
# linux.cgroupsPath
# --------------------------------------------------------------------------------------------

def test_absolute_cgroups_path_is_honoured_and_removed(bundle, running):
    top = f"/{ctrtest.new_id()}"  # ctr-test-*: watched by the leak checker too
    path = f"{top}/inner"
    b = bundle().set("linux.cgroupsPath", path)
    with running(b) as c:
        seen = proc_cgroups(c.pid)  # relative to our cgroup namespace, the host's
        assert all(p == path for p in seen.values()), seen
        for d in cgroup_dirs(path):
            assert read(d / "cgroup.procs").split() == [str(c.pid)], d
        status, _, stderr = c.finish()
    assert status == 0, stderr
    assert not existing(path), "the container's cgroup is still there"
    assert not existing(top), "the parent ctr-run made for it is still there"


def test_relative_cgroups_path_goes_below_ctr_and_is_removed(bundle, running):
    relative = f"{ctrtest.new_id()}/inner"
    path = f"/ctr/{relative}"
    b = bundle().set("linux.cgroupsPath", relative)
    with running(b) as c:
        for d in cgroup_dirs(path):
            assert read(d / "cgroup.procs").split() == [str(c.pid)], d
        status, _, stderr = c.finish()
    assert status == 0, stderr
    assert not existing(path)
    assert not existing(f"/ctr/{relative.split('/')[0]}")


# --------------------------------------------------------------------------------------------
# Removal
# --------------------------------------------------------------------------------------------

def test_cgroup_is_removed_in_every_hierarchy_when_the_container_exits(bundle, running):
    with running(bundle()) as c:
        path = f"/ctr/{c.container_id}"
        missing = [str(d) for d in cgroup_dirs(path) if not d.is_dir()]
        assert not missing, f"the container has no cgroup in {missing}"
        status, _, stderr = c.finish()
    assert status == 0, stderr
    assert not existing(path)


def test_background_process_left_behind_is_killed_and_cgroup_removed(bundle, run):
    """Without a pid namespace, the end of the container's process does not end its children: a
    `sleep 1000 &` it leaves behind is still in the container's cgroup, and ctr-run must kill it
    before it can remove the cgroup."""
    b = without_namespace(bundle(), "pid").shell("sleep 1000 & echo $!")
    result = run(b)
    leftover = int(result.stdout.split()[0]) if result.stdout.split() else None
    try:
        assert result.returncode == 0, result.stderr
        assert leftover and leftover > 1, f"no pid printed: {result.stdout!r}"
        assert not alive(leftover), f"the background `sleep` (pid {leftover}) is still running"
        assert not existing(f"/ctr/{result.container_id}")
    finally:
        # Orphaned to the host's init, it is no descendant of ours: the leak checker cannot see
        # it. Kill it here, if it is still our sleep.
        if leftover and alive(leftover) and \
                Path(f"/proc/{leftover}/cmdline").read_bytes() == b"sleep\x001000\x00":
            os.kill(leftover, signal.SIGKILL)


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------

def test_value_the_kernel_rejects_names_field_file_and_value_and_leaves_nothing(bundle, run):
    """cpu.cfs_quota_us must be at least 1000 (1 ms): the kernel refuses 500 with EINVAL."""
    v1_hierarchy("cpu")
    b = bundle(["/bin/sh", "-c", "echo CONTAINER_RAN"])
    b.set("linux.resources.cpu", {"quota": 500, "period": 100000})
    result = run(b)
    assert result.returncode != 0
    assert "CONTAINER_RAN" not in result.stdout
    line = one_error_line(result.stderr)
    for part in ("linux.resources.cpu.quota", "cpu.cfs_quota_us", '"500"', "Invalid argument"):
        assert part in line, f"the error does not name {part}: {line}"
    assert not existing(f"/ctr/{result.container_id}")


def test_init_killed_by_a_tiny_memory_limit_is_reported_as_killed(bundle, run):
    """The kernel accepts a 4 KiB memory limit, but the container's init is OOM-killed while it
    sets up. The error must say that it was killed (by SIGKILL), not just that the handshake
    socket closed."""
    v1_hierarchy("memory")
    b = bundle(["/bin/sh", "-c", "echo CONTAINER_RAN"])
    b.set("linux.resources.memory", {"limit": 4096})
    result = run(b)
    assert result.returncode != 0
    assert "CONTAINER_RAN" not in result.stdout
    line = one_error_line(result.stderr)
    assert "SIGKILL" in line or "signal 9" in line, \
        f"the error does not say how the init died: {line}"
    assert not existing(f"/ctr/{result.container_id}")


# --------------------------------------------------------------------------------------------
# A pure cgroup v2 view of this host
# --------------------------------------------------------------------------------------------

V2_VIEW = ["unshare", "-m", "--propagation", "private", "sh", "-c",
           'mount -t cgroup2 none /sys/fs/cgroup && exec "$@"', "sh"]


@pytest.fixture
def v2_tree():
    """The host's view of the cgroup2 tree that V2_VIEW mounts as /sys/fs/cgroup."""
    if shutil.which("unshare") is None:
        pytest.skip("unshare (util-linux) is not installed: no way to make a cgroup v2 view")
    mount = cgroup2_mount()
    if mount is None:
        pytest.skip("the host has no cgroup2 mount under /sys/fs/cgroup from which to watch "
                    "the v2 view's tree")
    return mount


def test_v2_container_runs_in_its_own_cgroup_and_it_is_removed(bundle, running, v2_tree):
    with running(bundle(), wrapper=V2_VIEW) as c:
        path = f"/ctr/{c.container_id}"
        assert read(v2_tree / path.lstrip("/") / "cgroup.procs").split() == [str(c.pid)]
        assert proc_cgroups(c.pid)["0:"] == path
        v1_made = [d for d in existing(path) if not d.startswith(str(v2_tree))]
        assert not v1_made, f"cgroup v1 directories made from a pure v2 view: {v1_made}"
        status, _, stderr = c.finish()
    assert status == 0, stderr
    assert not existing(path)


def test_v2_device_rules_are_enforced(bundle, ctr_run, ctr_root, v2_tree):
    """cgroup v2 has no devices.* files: linux.resources.devices must become an eBPF program
    attached to the container's cgroup. The default config denies every device but the standard
    ones, so a /dev/net/tun the container makes itself (it has CAP_MKNOD) must not open."""
    if not Path("/dev/net/tun").exists():
        pytest.skip("the host has no /dev/net/tun (10:200) to try opening")
    b = bundle().shell("mknod /dev/tun c 10 200 || exit 3\n"
                       "if exec 3</dev/tun; then echo OPENED; fi")
    container_id = ctrtest.new_id()
    result = subprocess.run([*V2_VIEW, str(ctr_run), "--root", str(ctr_root), "run", "--bundle",
                             str(b.write()), container_id], stdin=subprocess.DEVNULL,
                            capture_output=True, text=True, timeout=DEFAULT_TIMEOUT)
    assert result.returncode != 3, f"mknod failed, nothing was tried:\n{result.stderr}"
    assert "OPENED" not in result.stdout, \
        "a device outside linux.resources.devices opened: no device filter on cgroup v2"
    assert "Operation not permitted" in result.stderr, result.stderr


def test_v2_memory_limit_fails_clearly_when_the_tree_lacks_the_memory_controller(
        bundle, ctr_run, ctr_root, v2_tree):
    available = read(v2_tree / "cgroup.controllers").split()
    if "memory" in available:
        pytest.skip(f"this host's cgroup2 tree offers memory ({' '.join(available)}): "
                    "no failure to provoke")
    b = bundle(["/bin/sh", "-c", "echo CONTAINER_RAN"])
    b.set("linux.resources.memory", {"limit": 32 << 20})
    container_id = ctrtest.new_id()
    result = subprocess.run([*V2_VIEW, str(ctr_run), "--root", str(ctr_root), "run", "--bundle",
                             str(b.write()), container_id], stdin=subprocess.DEVNULL,
                            capture_output=True, text=True, timeout=DEFAULT_TIMEOUT)
    assert result.returncode != 0
    assert "CONTAINER_RAN" not in result.stdout
    line = one_error_line(result.stderr)
    for part in ("linux.resources.memory.limit", "memory", "cgroup.controllers", *available):
        assert part in line, f"the error does not name {part}: {line}"
    assert not existing(f"/ctr/{container_id}")
