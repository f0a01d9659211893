"""Helpers for libctr's integration tests: running commands, bundles, the mount table, the
host-leak checker and a console socket.

conftest.py turns these into fixtures; tests import from here only what they need directly
(e.g. `default_config` or `Bundle` to build something unusual). managers.py builds on them.
"""

import copy
import ctypes
import json
import os
import re
import select
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

# Generous: under qemu's software emulation programs run 10-50x slower than natively.
DEFAULT_TIMEOUT = float(os.environ.get("CTR_TEST_TIMEOUT", "30"))


# --------------------------------------------------------------------------------------------
# Running commands
# --------------------------------------------------------------------------------------------

def _format_failure(what, cmd, stdout, stderr):
    return (f"{what}: {' '.join(map(str, cmd))}\n--- stdout\n{stdout.rstrip() or '(empty)'}\n"
            f"--- stderr\n{stderr.rstrip() or '(empty)'}")


def run_command(cmd, env=None, timeout=DEFAULT_TIMEOUT, input=None, check=False):
    """Runs `cmd`, returns the CompletedProcess with text stdout and stderr. Output goes through
    temporary files, not pipes: a detached container, a container process or a shim that inherits
    them must not keep the call waiting for an end of file that never comes. A timeout fails the
    test, showing what was printed; so does a non-zero exit with check=True."""
    cmd = [str(c) for c in cmd]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        timed_out = False
        try:
            result = subprocess.run(cmd, env=env, stdout=out, stderr=err, timeout=timeout,
                                    input=input.encode() if input is not None else None,
                                    stdin=None if input is not None else subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            timed_out = True
        out.seek(0)
        err.seek(0)
        stdout, stderr = (f.read().decode(errors="replace") for f in (out, err))
    if timed_out:
        pytest.fail(_format_failure(f"timed out after {timeout:g}s", cmd, stdout, stderr),
                    pytrace=False)
    result.stdout, result.stderr = stdout, stderr
    if check and result.returncode != 0:
        pytest.fail(_format_failure(f"exit status {result.returncode}", cmd, stdout, stderr),
                    pytrace=False)
    return result


def wait_for(predicate, what, timeout=DEFAULT_TIMEOUT, interval=0.05):
    """Polls `predicate` until it returns something true, which is returned; fails the test
    saying `what` was awaited otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {timeout:g}s waiting for {what}", pytrace=False)
        time.sleep(interval)


def remove_tree(path):
    """rm -rf that never descends into something mounted below `path` (a failed test's leftover,
    which the leak check reports and unmounts)."""
    subprocess.run(["rm", "-rf", "--one-file-system", str(path)], check=False)

# --------------------------------------------------------------------------------------------
# Bundles
# --------------------------------------------------------------------------------------------

# Docker's default capability set, as in oci-spec-examples/.
DEFAULT_CAPS = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
                "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
                "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"]

_DEFAULT_CONFIG = {
    "ociVersion": "1.2.0",
    "process": {
        "terminal": False,
        "user": {"uid": 0, "gid": 0},
        "args": ["/bin/true"],
        "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
        "cwd": "/",
        "capabilities": {k: list(DEFAULT_CAPS) for k in ("bounding", "effective", "permitted")},
        # Below this host's hard limit (20000): raising one needs CAP_SYS_RESOURCE, absent here.
        "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
        "noNewPrivileges": True,
    },
    # The rootfs is shared by every test of the session, so it is read-only; /tmp is a tmpfs.
    "root": {"path": None, "readonly": True},
    "hostname": "ctr-test",
    "mounts": [
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
         "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
        {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
         "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
         "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs",
         "options": ["nosuid", "noexec", "nodev", "ro"]},
        {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "nodev", "mode=1777", "size=16m"]},
    ],
    "linux": {
        "resources": {"devices": [{"allow": False, "access": "rwm"}]},
        "namespaces": [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount", "cgroup")],
        "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                        "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                        "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
        "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                          "/proc/sysrq-trigger"],
    },
}


def default_config(rootfs, args=None):
    """A fresh copy of the default test configuration (like the examples'), rooted at `rootfs`."""
    config = copy.deepcopy(_DEFAULT_CONFIG)
    config["root"]["path"] = str(rootfs)
    if args is not None:
        config["process"]["args"] = list(args)
    return config


def new_id(prefix="ctr-test"):
    """A unique container id. The `ctr-test` prefix is what the leak checker watches for in cgroup
    hierarchies when a runtime puts containers at the hierarchy root (runc does, by id)."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


class Bundle:
    """A bundle directory whose config.json is written from `self.config` (a plain dict) every
    time the bundle is run, so a test can tweak the dict freely until then."""

    def __init__(self, path, config):
        self.path = Path(path)
        self.config = config

    # The parts tests touch most often.
    @property
    def process(self):
        return self.config["process"]

    @property
    def linux(self):
        return self.config.setdefault("linux", {})

    @property
    def args(self):
        return self.process["args"]

    @args.setter
    def args(self, value):
        self.process["args"] = list(value)

    def shell(self, script):
        """Runs `script` with the container's /bin/sh."""
        self.args = ["/bin/sh", "-c", script]
        return self

    def set(self, dotted, value):
        """Sets a value by JSON path, creating objects on the way:
        bundle.set("linux.resources.memory.limit", 64 << 20)."""
        *parents, last = dotted.split(".")
        node = self.config
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
        return self

    def add_env(self, *assignments):
        self.process.setdefault("env", []).extend(assignments)
        return self

    def add_mount(self, destination, type="bind", source=None, options=None):
        """Appends a mount; a bind mount defaults to options ["rbind", "ro"]."""
        if options is None:
            options = ["rbind", "ro"] if type == "bind" else []
        mount = {"destination": destination, "type": type, "source": source or type}
        if options:
            mount["options"] = list(options)
        self.config.setdefault("mounts", []).append(mount)
        return self

    def remove_mount(self, destination):
        self.config["mounts"] = [m for m in self.config.get("mounts", [])
                                 if m["destination"] != destination]
        return self

    def add_namespace(self, type, path=None):
        self.remove_namespace(type)
        namespace = {"type": type}
        if path is not None:
            namespace["path"] = str(path)
        self.linux.setdefault("namespaces", []).append(namespace)
        return self

    def remove_namespace(self, type):
        self.linux["namespaces"] = [n for n in self.linux.get("namespaces", [])
                                    if n["type"] != type]
        return self

    def map_root_to(self, host_id, size=65536):
        """Adds a user namespace mapping ids 0..size-1 inside to host_id.. outside."""
        self.add_namespace("user")
        self.linux["uidMappings"] = [{"containerID": 0, "hostID": host_id, "size": size}]
        self.linux["gidMappings"] = [{"containerID": 0, "hostID": host_id, "size": size}]
        return self

    def write(self):
        self.path.mkdir(parents=True, exist_ok=True)
        self.path.chmod(0o755)  # traversable by a user-namespaced container's root
        with open(self.path / "config.json", "w") as f:
            json.dump(self.config, f, indent=2)
        return self.path


def run_ok(run, bundle, **kwargs):
    """Runs the bundle (with the `run` fixture) and asserts it exited 0, showing everything it
    printed if not; returns the CompletedProcess."""
    result = run(bundle, **kwargs)
    assert result.returncode == 0, \
        f"exit status {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    return result


def values(text):
    """The `key=value` lines of a container's output, as a dict."""
    out = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and re.fullmatch(r"[A-Za-z0-9_.-]+", key):
            out[key] = value
    return out


# --------------------------------------------------------------------------------------------
# Terminals
# --------------------------------------------------------------------------------------------

class ConsoleSocket:
    """A unix socket that receives one pty master, like conmon's or containerd's."""

    def __init__(self, path):
        self.path = str(path)
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(self.path)
        self.server.listen(1)
        self.master = None
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        try:
            conn, _ = self.server.accept()
        except OSError:  # close() before the runtime connected
            return
        with conn:
            _, fds, _, _ = socket.recv_fds(conn, 16, 1)
        self.master = fds[0]

    def read_all(self, timeout=10):
        self.thread.join(timeout)
        assert self.master is not None, "no pty master arrived on the console socket"
        out = b""
        while True:
            ready, _, _ = select.select([self.master], [], [], timeout)
            if not ready:
                break
            try:
                chunk = os.read(self.master, 4096)
            except OSError:  # EIO: the slave side is closed
                break
            if not chunk:
                break
            out += chunk
        return out.decode(errors="replace")

    def close(self):
        # shutdown() ends an accept() still waiting (close() alone would leave the thread blocked
        # in it); the socket file goes with the test's directory.
        self.server.shutdown(socket.SHUT_RDWR)
        self.thread.join(5)
        if self.master is not None:
            os.close(self.master)
        self.server.close()


def terminal_bundle(bundle, script):
    """A bundle from the `bundle` fixture running `script` with a terminal of 33 x 101."""
    b = bundle().shell(script)
    b.process["terminal"] = True
    b.process["consoleSize"] = {"height": 33, "width": 101}
    return b


def console_lines(ctr, bundle, console):
    """Creates and starts `bundle` with its pty sent to `console` (a ConsoleSocket) and returns the
    lines the container wrote on it, without the pty's carriage returns. The container is deleted
    and the socket closed whatever happens."""
    cid = new_id()
    try:
        ctr("create", "--console-socket", console.path, "--bundle", bundle.write(), cid, check=True)
        ctr("start", cid, check=True)
        return console.read_all().replace("\r", "").splitlines()
    finally:
        ctr("delete", "--force", cid)
        console.close()


# --------------------------------------------------------------------------------------------
# The mount table and the cgroup hierarchies
# --------------------------------------------------------------------------------------------

_libc = ctypes.CDLL(None, use_errno=True)
_MNT_DETACH = 2
_MOUNTINFO_LINE = re.compile(r"^\d+ \d+ \d+:\d+ ")


def _unescape_mountinfo(text):
    # mountinfo escapes space, tab, newline and backslash as \ooo octal.
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), text)


@dataclass(frozen=True)
class MountInfo:
    """One line of /proc/self/mountinfo (proc(5))."""
    mount_id: int
    parent_id: int
    device: str        # "major:minor" of the filesystem
    root: str          # the directory of the filesystem mounted here
    mountpoint: str
    options: frozenset     # per-mount options: ro, nosuid, ...
    optional: tuple        # shared:N, master:N, propagate_from:N, unbindable
    fstype: str
    source: str
    super_options: frozenset  # per-superblock options: size=..., mode=..., a v1 cgroup's controllers

    def tag(self, name):
        """The value of the optional field `name` ("shared", "master"), or None."""
        for field_ in self.optional:
            key, _, value = field_.partition(":")
            if key == name:
                return value
        return None

    def describe(self):
        return f"{self.mountpoint} ({self.fstype} from {self.source}, mount id {self.mount_id})"


def parse_mountinfo(text):
    """The mountinfo lines found in `text` (a container's output: other lines are ignored), in
    mount order."""
    mounts = []
    for line in text.splitlines():
        if not _MOUNTINFO_LINE.match(line):
            continue
        before, _, after = line.partition(" - ")
        fields, rest = before.split(), after.split()
        unescape = _unescape_mountinfo
        mounts.append(MountInfo(int(fields[0]), int(fields[1]), fields[2], unescape(fields[3]),
                                unescape(fields[4]), frozenset(fields[5].split(",")),
                                tuple(fields[6:]), rest[0], unescape(rest[1]),
                                frozenset(rest[2].split(",")) if len(rest) > 2 else frozenset()))
    return mounts


def read_mounts():
    """This process's mount table, in mount order."""
    with open("/proc/self/mountinfo") as f:
        return parse_mountinfo(f.read())


def mounts_at(mounts, mountpoint):
    return [m for m in mounts if m.mountpoint == mountpoint]


def mount_at(mounts, mountpoint):
    """The mount on top at `mountpoint` (the last one mounted there); fails if there is none."""
    found = mounts_at(mounts, mountpoint)
    assert found, f"nothing is mounted at {mountpoint} inside the container; mountinfo:\n" + \
        "\n".join(f"  {m.mountpoint} {m.fstype} {m.source}" for m in mounts)
    return found[-1]


def mounts_below(path):
    prefix = str(path).rstrip("/") + "/"
    return [m for m in read_mounts() if m.mountpoint.startswith(prefix)]


def unmount(mountpoint):
    if _libc.umount2(mountpoint.encode(), _MNT_DETACH) != 0:
        return f"cannot unmount {mountpoint}: {os.strerror(ctypes.get_errno())}"
    return None


def cgroup_hierarchies():
    """Mount points of the host's cgroup hierarchies (each v1 controller, named v1 hierarchies
    and cgroup2), whichever of v1, v2 or hybrid the host uses."""
    return sorted({m.mountpoint for m in read_mounts()
                   if m.fstype in ("cgroup", "cgroup2") and m.mountpoint.startswith("/sys/fs/cgroup")})


def v1_hierarchy(controller):
    """The mount point of the host's v1 hierarchy with `controller` (a word of its super options),
    or None."""
    for m in read_mounts():
        if m.fstype == "cgroup" and m.mountpoint.startswith("/sys/fs/cgroup/") and \
                controller in m.super_options:
            return Path(m.mountpoint)
    return None


def cgroup2_mount():
    """Where the host sees its cgroup2 hierarchy, or None."""
    for m in read_mounts():
        if m.fstype == "cgroup2" and m.mountpoint.startswith("/sys/fs/cgroup"):
            return Path(m.mountpoint)
    return None


def cgroup_dirs(path):
    """The directory of cgroup `path` (/ctr/ID) in every hierarchy, whether it exists or not."""
    return [Path(h) / path.strip("/") for h in cgroup_hierarchies()]


# --------------------------------------------------------------------------------------------
# What a test may leave behind on the host
# --------------------------------------------------------------------------------------------

def watched_cgroups():
    """Every cgroup a container run by the tests may create: anything below `ctr/` (ctr-run's
    default parent) and any `ctr-test*` group (ids from new_id(), for runtimes that put containers
    at the hierarchy root), in every hierarchy. The shared `ctr/` parent itself is not counted."""
    found = set()
    for hierarchy in cgroup_hierarchies():
        root = Path(hierarchy)
        tops = [root / "ctr"] if (root / "ctr").is_dir() else []
        try:
            tops += [p for p in root.glob("ctr-test*") if p.is_dir()]
        except OSError:
            continue
        for top in tops:
            if top.name.startswith("ctr-test"):
                found.add(str(top))
            for dirpath, dirnames, _ in os.walk(top):
                found.update(os.path.join(dirpath, d) for d in dirnames)
    return found


def cmdline(pid):
    """The command line of `pid`, its arguments joined by spaces ("" once it is gone)."""
    try:
        text = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return ""
    return text.decode(errors="replace").strip()


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    state: str
    comm: str

    def __str__(self):
        return f"pid {self.pid} ({cmdline(self.pid) or self.comm})"


def read_processes():
    procs = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue  # it exited while we looked
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        state, ppid = stat[stat.rindex(")") + 2:].split()[:2]
        procs[int(entry)] = Proc(int(entry), int(ppid), state, comm)
    return procs


def descendants(procs, root_pid):
    """The live (non-zombie) descendants of root_pid."""
    children = {}
    for p in procs.values():
        children.setdefault(p.ppid, []).append(p)
    found, todo = {}, [root_pid]
    while todo:
        for child in children.get(todo.pop(), []):
            todo.append(child.pid)
            if child.state != "Z":
                found[child.pid] = child
    return found


def reap_zombie_children():
    """Collects exited children nobody waited for; an exited process is no leak."""
    for p in read_processes().values():
        if p.ppid == os.getpid() and p.state == "Z":
            try:
                os.waitpid(p.pid, os.WNOHANG)
            except ChildProcessError:
                pass


@dataclass
class HostState:
    mounts: list
    cgroups: set
    processes: dict

    @classmethod
    def capture(cls):
        reap_zombie_children()
        return cls(read_mounts(), watched_cgroups(), descendants(read_processes(), os.getpid()))


@dataclass
class Leaks:
    mounts: list = field(default_factory=list)
    cgroups: list = field(default_factory=list)
    processes: list = field(default_factory=list)
    state_dirs: list = field(default_factory=list)

    def __bool__(self):
        return bool(self.mounts or self.cgroups or self.processes or self.state_dirs)

    def describe(self):
        lines = [f"  mount: {m.describe()}" for m in self.mounts]
        lines += [f"  cgroup: {c}" for c in self.cgroups]
        lines += [f"  process: {p}" for p in self.processes]
        lines += [f"  state dir: {d}" for d in self.state_dirs]
        return "\n".join(lines)


def find_leaks(before, state_root):
    """What exists now that did not before the test, plus any container state under state_root."""
    now = HostState.capture()
    known_mounts = {(m.mount_id, m.mountpoint) for m in before.mounts}
    leaks = Leaks()
    leaks.mounts = [m for m in now.mounts if (m.mount_id, m.mountpoint) not in known_mounts]
    leaks.cgroups = sorted(now.cgroups - before.cgroups)
    leaks.processes = [p for pid, p in now.processes.items() if pid not in before.processes]
    if state_root is not None and Path(state_root).is_dir():
        leaks.state_dirs = sorted(str(p) for p in Path(state_root).iterdir() if p.is_dir())
    return leaks


def wait_for_no_leaks(before, state_root, timeout=2.0):
    """Gives processes that are already dying and cgroups being removed a moment to go."""
    deadline = time.monotonic() + timeout
    while True:
        leaks = find_leaks(before, state_root)
        if not leaks or time.monotonic() >= deadline:
            return leaks
        time.sleep(0.05)


# ---- cleaning up, so one test's leftovers do not fail the next ----

def _kill(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _write(path, value):
    try:
        Path(path).write_text(value)
    except OSError:
        pass


def remove_cgroup(path, timeout=2.0):
    """Kills whatever runs in the cgroup (thawing it first: frozen tasks cannot die), then
    removes it and its children, deepest first. Returns an error string or None."""
    dirs = [dirpath for dirpath, _, _ in os.walk(path)]
    for d in reversed(dirs):
        _write(f"{d}/freezer.state", "THAWED")  # v1 freezer
        _write(f"{d}/cgroup.freeze", "0")  # v2
        _write(f"{d}/cgroup.kill", "1")  # v2, kernel >= 5.14
        deadline = time.monotonic() + timeout
        while True:
            try:
                pids = Path(f"{d}/cgroup.procs").read_text().split()
            except OSError:
                pids = []
            for pid in pids:
                _kill(int(pid))
            try:
                os.rmdir(d)
                break
            except FileNotFoundError:
                break
            except OSError as e:
                if time.monotonic() >= deadline:
                    return f"cannot remove {d}: {e.strerror}"
                time.sleep(0.02)
    return None


def clean_up(leaks, delete_container):
    """Removes what find_leaks() found. `delete_container(state_dir)` asks the runtime to delete a
    container it still has state for. Returns the errors of what could not be removed."""
    errors = []
    for p in leaks.processes:
        _kill(p.pid)
    for p in leaks.processes:
        if p.ppid == os.getpid():
            try:
                os.waitpid(p.pid, 0)
            except ChildProcessError:
                pass
    for state_dir in leaks.state_dirs:
        delete_container(state_dir)
    for cgroup in sorted(leaks.cgroups, key=lambda c: c.count("/"), reverse=True):
        if os.path.isdir(cgroup):
            errors.append(remove_cgroup(cgroup))
    # Later mounts may sit on earlier ones: undo them in reverse order.
    for m in reversed(leaks.mounts):
        errors.append(unmount(m.mountpoint))
    for state_dir in leaks.state_dirs:
        if mounts_below(state_dir):
            errors.append(f"not removing {state_dir}: something is still mounted below it")
        else:
            remove_tree(state_dir)
    return [e for e in errors if e]
