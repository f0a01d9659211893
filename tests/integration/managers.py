"""Real container managers driving ctr-run: podman 4.3, containerd 1.6 and docker 20.10, each run
with private state, as ENVIRONMENT.md ("Real container managers, offline") describes.

Shared by test_managers_podman.py, test_managers_containerd.py and test_managers_docker.py:

    RuntimeWrapper  the runtime each manager is given: a script in the module's directory that
                    records every call (the arguments the manager sent, and the exit status) and
                    runs ctr-run with them. It is how the tests prove that the manager really ran
                    our binary, and with which command line.
    Podman, Containerd, Docker
                    one manager each: private configuration and state under one directory,
                    started (containerd and dockerd in the background), given the busybox image,
                    and shut down by `shutdown()`, which stops the daemon by its pid and removes
                    everything the manager made on the host. What should not have been left
                    (a mount, a process, a container's cgroup or runtime state) is returned as a
                    problem, and the module fixture fails with it.
    serve()         the module fixture's body: start, yield, shut down; a manager that cannot
                    start on this machine (not installed, daemon fails) skips the module's tests
                    with the reason.

Each manager's containers go under a cgroup parent named `ctr-test-...`, which conftest's
leak check watches after every test, and each test removes its containers through the manager
(`remove_all_containers()`) and then checks that ctr-run holds no state for them
(`runtime_state_left()`).
"""

import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

import ctrtest
from ctrtest import cgroup_dirs, run_command

IMAGE = "localhost/bb"

# The Debian packages each manager comes from (tests/setup.sh installs them).
PODMAN_PACKAGES = "podman conmon fuse-overlayfs catatonit golang-github-containers-common"
CONTAINERD_PACKAGES = "containerd umoci"
DOCKER_PACKAGES = "docker.io"


class Unavailable(Exception):
    """The manager cannot run on this machine: its tests skip with this reason."""


# --------------------------------------------------------------------------------------------
# The runtime as the manager sees it
# --------------------------------------------------------------------------------------------

# runc's global flags that take a value (the rest are booleans).
_GLOBAL_FLAGS_WITH_VALUE = {"--root", "--log", "--log-format", "--criu", "--rootless"}
_SEPARATOR = "\x1f"


@dataclass
class Invocation:
    """One call of the runtime by the manager: its arguments as sent, and how it ended."""
    pid: int
    argv: list
    status: int = None  # None: still running, or killed before it could say

    @property
    def parts(self):
        """(global flags as a dict, subcommand, the subcommand's arguments). A flag given in the
        joined form (--root=X) is recorded in `joined_flags`."""
        flags, i = {}, 0
        while i < len(self.argv) and self.argv[i].startswith("-"):
            name, eq, value = self.argv[i].partition("=")
            if not eq and name in _GLOBAL_FLAGS_WITH_VALUE and i + 1 < len(self.argv):
                i += 1
                value = self.argv[i]
            flags[name] = value if (eq or name in _GLOBAL_FLAGS_WITH_VALUE) else True
            i += 1
        command = self.argv[i] if i < len(self.argv) else None
        return flags, command, self.argv[i + 1:]

    @property
    def flags(self):
        return self.parts[0]

    @property
    def command(self):
        return self.parts[1]

    @property
    def args(self):
        return self.parts[2]

    def __str__(self):
        status = "still running" if self.status is None else f"exit {self.status}"
        return f"{' '.join(shlex.quote(a) for a in self.argv)}  [{status}]"


class RuntimeWrapper:
    """The runtime given to a manager: a shell script at `path` that appends one line per call
    to `<path>.calls` (the arguments as the manager sent them, then the exit status) and runs
    ctr-run with the same arguments, stdin, stdout and stderr. ctr-run is run, not exec'd, so
    the exit status can be recorded; the container init it forks is reparented to the manager's
    shim or conmon (subreapers) all the same.

    `default_root`: a --root to add when the manager gives none (podman as root relies on the
    runtime's default state directory, which the tests must not share with the host's)."""

    def __init__(self, path, ctr_run, default_root=None):
        self.path = Path(path)
        self.calls_file = self.path.with_name(self.path.name + ".calls")
        self.ctr_run = Path(ctr_run)
        self.default_root = Path(default_root) if default_root else None
        add_root = ""
        if self.default_root:
            add_root = f"""
case " $* " in
*" --root "* | *" --root="*) ;;
*) set -- --root {shlex.quote(str(self.default_root))} "$@" ;;
esac"""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(f"""#!/bin/sh
# Made by tests/integration/managers.py: records how the container manager calls the runtime,
# then runs ctr-run. One line per call and one per exit, fields separated by \\037.
calls={shlex.quote(str(self.calls_file))}
sep=$(printf '\\037')
line="call$sep$$"
for arg in "$@"; do line="$line$sep$arg"; done
printf '%s\\n' "$line" >>"$calls"{add_root}
{shlex.quote(str(self.ctr_run))} "$@"
status=$?
printf 'exit%s%s%s%s\\n' "$sep" "$$" "$sep" "$status" >>"$calls"
exit $status
""")
        self.path.chmod(0o755)
        self.calls_file.touch()

    def invocations(self):
        calls, running = [], {}
        # The last line may be one a call is writing right now: only whole lines count.
        for line in self.calls_file.read_text().split("\n")[:-1]:
            kind, pid, *rest = line.split(_SEPARATOR)
            if kind == "call":
                running[pid] = Invocation(int(pid), rest)
                calls.append(running[pid])
            elif kind == "exit" and pid in running:
                running.pop(pid).status = int(rest[0])
        return calls

    def calls(self, command=None, container=None):
        """The invocations of `command` (any if None) naming `container` (any if None)."""
        return [c for c in self.invocations()
                if (command is None or c.command == command)
                and (container is None or container in c.args)]

    def describe(self, container=None):
        calls = self.calls(container=container)
        return "\n".join(f"  {c}" for c in calls) or "  (none)"

    def assert_called(self, command, container, status=0):
        """Asserts the manager ran `<runtime> ... command ... container` and it exited `status`;
        returns the last such call."""
        matching = self.calls(command, container)
        assert matching, (f"the manager never ran `{self.path.name} {command}` for {container}; "
                          f"its calls of the runtime for it:\n{self.describe(container)}")
        assert matching[-1].status == status, (
            f"`{command}` of {container} exited {matching[-1].status}, expected {status}:\n"
            f"{self.describe(container)}")
        return matching[-1]

    def last_created(self):
        """The id of the container the manager created last (runc's `create ... ID`)."""
        creates = self.calls("create")
        assert creates, f"the manager never ran `{self.path.name} create`:\n{self.describe()}"
        return creates[-1].args[-1]

    def roots(self):
        """Every state directory the runtime was told to use (or the added default)."""
        found = {Path(c.flags["--root"]) for c in self.invocations() if "--root" in c.flags}
        if self.default_root:
            found.add(self.default_root)
        return found

    def root_of(self, container):
        calls = self.calls("create", container)
        assert calls, f"no create call for {container}:\n{self.describe()}"
        root = calls[-1].flags.get("--root")
        return Path(root) if root else self.default_root

    def state(self, container):
        """ctr-run's own view of `container` (`ctr-run --root R state ID`), where R is the root
        the manager created it in: the proof that the container the manager reports is one that
        ctr-run holds. Returns the state document, or None if ctr-run does not know it."""
        result = run_command([self.ctr_run, "--root", self.root_of(container), "state", container])
        return json.loads(result.stdout) if result.returncode == 0 else None

    def runtime_state_left(self):
        """Container state directories ctr-run still holds in any root the manager used."""
        return sorted(str(p) for root in self.roots() if root.is_dir()
                      for p in root.iterdir() if p.is_dir())

    def force_delete_left(self):
        """`ctr-run delete --force` of whatever runtime_state_left() finds."""
        for path in self.runtime_state_left():
            p = Path(path)
            run_command([self.ctr_run, "--root", p.parent, "delete", "--force", p.name],
                        timeout=15)


# --------------------------------------------------------------------------------------------
# cgroups
# --------------------------------------------------------------------------------------------

def make_cgroup(path):
    """Makes cgroup `path` in every hierarchy. A new v1 cpuset group starts with no cpus and no
    memory nodes, so no task could join it: it gets its parent's, as container managers do."""
    for hierarchy in ctrtest.cgroup_hierarchies():
        directory = Path(hierarchy)
        for part in path.strip("/").split("/"):
            parent, directory = directory, directory / part
            directory.mkdir(exist_ok=True)
            for name in ("cpuset.cpus", "cpuset.mems"):
                if (directory / name).exists() and not (directory / name).read_text().strip():
                    (directory / name).write_text((parent / name).read_text())


def _cgroup_mount(controller):
    """The mount point of the v1 hierarchy with `controller`, else of the cgroup2 hierarchy, and
    its version ((None, None) if neither)."""
    v1 = ctrtest.v1_hierarchy(controller)
    if v1 is not None:
        return v1, 1
    v2 = ctrtest.cgroup2_mount()
    return (v2, 2) if v2 else (None, None)


def cgroup_of(pid, controller):
    """(directory of `pid`'s cgroup for `controller` on the host, cgroup version)."""
    mount, version = _cgroup_mount(controller)
    if mount is None:
        pytest.skip(f"no cgroup hierarchy with the {controller} controller on this host")
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if (version == 1 and controller in controllers.split(",")) or \
                (version == 2 and controllers == ""):
            return mount / path.lstrip("/"), version
    pytest.fail(f"pid {pid} is in no {controller} cgroup:\n"
                + Path(f"/proc/{pid}/cgroup").read_text(), pytrace=False)


def memory_limit_of(pid):
    """The memory limit of `pid`'s cgroup in bytes, as the kernel has it (v1 or v2)."""
    directory, version = cgroup_of(pid, "memory")
    text = (directory / ("memory.limit_in_bytes" if version == 1 else "memory.max")).read_text()
    return None if text.strip() == "max" else int(text)


def is_frozen(pid):
    """Whether `pid`'s cgroup is frozen (v1 freezer.state, or v2 cgroup.freeze)."""
    directory, version = cgroup_of(pid, "freezer")
    if version == 1:
        return (directory / "freezer.state").read_text().strip() == "FROZEN"
    return (directory / "cgroup.freeze").read_text().strip() == "1"


# --------------------------------------------------------------------------------------------
# The host outside the manager's private directory
# --------------------------------------------------------------------------------------------

def _kill_and_reap(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    try:
        os.waitpid(pid, 0)  # only succeeds for our own children; others go to their parent
    except ChildProcessError:
        pass


class HostGuard:
    """Records the host before a manager starts, and afterwards removes what the manager and
    its containers made on it, reporting what should not have been left.

    directory    the manager's private directory: processes naming it are killed, mounts below
                 it unmounted, and then it is removed
    cgroup_parents  made in every hierarchy now (so conftest's leak check, which watches
                 `ctr-test*`, counts only what a test adds below them), removed at the end;
                 anything below them but `manager_cgroups` (podman's `conmon`) is reported
    created_paths   host paths the manager makes whatever its configuration and that are its
                 alone (podman's blob info cache): removed at the end if they did not exist before
    shared_dirs  host directories the manager makes whatever its configuration and that other
                 users of the host share (/run/containerd/s, dockerd's /run/docker/plugins):
                 removed at the end if they did not exist before and are empty by then (what
                 this module put in them is removed by its `extra_cleanup`)

    Mounts are looked for below the private directory, the paths above and the places in
    `mount_places`; other users of the host may mount elsewhere meanwhile. With CTR_TEST_KEEP=1
    the private directory is kept (logs, configurations, the runtime calls) once nothing is
    mounted below it.
    """

    # Where the managers mount things outside their configured directories, if anywhere.
    mount_places = ["/run/containerd/", "/run/docker/", "/run/netns/", "/var/lib/containers/",
                    "/var/lib/docker/", "/run/containers/", "/run/libpod/"]

    def __init__(self, directory, cgroup_parents=(), manager_cgroups=(), created_paths=(),
                 shared_dirs=()):
        self.directory = Path(directory)
        self.mounts_before = {(m.mount_id, m.mountpoint) for m in ctrtest.read_mounts()}
        self.cgroup_parents = list(cgroup_parents)
        self.manager_cgroups = set(manager_cgroups)
        self.created_paths = [Path(p) for p in created_paths if not os.path.lexists(p)]
        self.shared_dirs = [Path(p) for p in shared_dirs if not os.path.lexists(p)]
        self.extra_cleanup = []  # callables returning a list of problems, run before paths
        for parent in self.cgroup_parents:
            make_cgroup(parent)

    def _processes(self):
        """Live processes whose command line names the private directory (conmon, shims, a
        daemon's children), but not this one."""
        naming = re.compile(re.escape(str(self.directory)) + r"(/|\s|$)")
        return [p for p in ctrtest.read_processes().values()
                if p.state != "Z" and p.pid != os.getpid() and naming.search(ctrtest.cmdline(p.pid))]

    def restore(self):
        problems = []
        for p in self._processes():
            problems.append(f"process still running: {p}")
            _kill_and_reap(p.pid)
        for parent in self.cgroup_parents:
            for top in cgroup_dirs(parent):
                if not top.is_dir():
                    continue
                for dirpath, dirnames, _ in os.walk(top):
                    rel = os.path.relpath(dirpath, top)
                    for d in dirnames:
                        if not (rel == "." and d in self.manager_cgroups):
                            problems.append(f"cgroup left: {os.path.join(dirpath, d)}")
                    try:
                        procs = Path(dirpath, "cgroup.procs").read_text().split()
                    except OSError:
                        procs = []
                    if procs:
                        problems.append(f"processes left in cgroup {dirpath}: " + ", ".join(
                            f"{pid} ({ctrtest.cmdline(int(pid))})" for pid in procs))
                error = ctrtest.remove_cgroup(str(top))
                if error:
                    problems.append(error)
        places = [str(p) for p in [self.directory, *self.created_paths, *self.shared_dirs]]
        places += self.mount_places
        new_mounts = [m for m in ctrtest.read_mounts()
                      if (m.mount_id, m.mountpoint) not in self.mounts_before
                      and any(m.mountpoint.startswith(p.rstrip("/") + "/") for p in places)]
        for m in reversed(new_mounts):
            problems.append(f"mount left: {m.describe()}")
            if m.mountpoint.startswith(str(self.directory) + "/"):
                error = ctrtest.unmount(m.mountpoint)
                if error:
                    problems.append(error)
        for cleanup in self.extra_cleanup:
            problems += cleanup()
        for path in self.created_paths:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            elif os.path.lexists(path):
                path.unlink()
        for path in sorted(self.shared_dirs, key=lambda p: len(p.parts), reverse=True):
            try:
                path.rmdir()
            except OSError:
                pass  # gone already, or someone else's entries are in it
        if ctrtest.mounts_below(self.directory):
            problems.append(f"not removing {self.directory}: something is still mounted below it")
        elif os.environ.get("CTR_TEST_KEEP") == "1":
            print(f"\nkeeping {self.directory}")
        elif self.directory.exists():
            ctrtest.remove_tree(self.directory)
        return problems


# --------------------------------------------------------------------------------------------
# Daemons
# --------------------------------------------------------------------------------------------

def _tail(path, lines=15):
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class Daemon:
    """A daemon in the background (stdout and stderr to `log`), stopped by its pid."""

    def __init__(self, name, argv, log, env):
        self.name, self.argv, self.log, self.env = name, [str(a) for a in argv], Path(log), env
        self.process = None

    def start(self, ready, timeout=30):
        """Starts it and waits until `ready()` is true; raises Unavailable with the reason if it
        exits or is not ready in time."""
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=subprocess.STDOUT, env=self.env,
                                            start_new_session=True)
        deadline = time.monotonic() + timeout
        while not ready():
            status = self.process.poll()
            if status is not None:
                raise Unavailable(f"{self.name} exited with status {status} at start-up "
                                  f"({' '.join(self.argv)}); the end of its log:\n"
                                  f"{_tail(self.log)}")
            if time.monotonic() >= deadline:
                raise Unavailable(f"{self.name} was not ready after {timeout}s "
                                  f"({' '.join(self.argv)}); the end of its log:\n"
                                  f"{_tail(self.log)}")
            time.sleep(0.05)

    def stop(self, timeout=20):
        """SIGTERM to its pid, SIGKILL if it has not exited after `timeout` seconds. Returns a
        problem string if it had to be killed, else None."""
        if self.process is None or self.process.poll() is not None:
            return None
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
            return None
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return f"{self.name} (pid {self.process.pid}) ignored SIGTERM for {timeout}s: killed"


# --------------------------------------------------------------------------------------------
# The managers
# --------------------------------------------------------------------------------------------

def _require(programs, packages):
    for program in programs:
        if shutil.which(program) is None and not os.access(program, os.X_OK):
            raise Unavailable(f"{program} is not installed (Debian packages: {packages}; "
                              "tests/setup.sh installs them)")


def rootfs_tarball(rootfs, path):
    """The busybox rootfs as a tar archive, for `podman import` and `docker import`."""
    subprocess.run(["tar", "-C", str(rootfs), "--exclude=./.libctr-rootfs", "-cf", str(path), "."],
                   check=True)
    return path


class Manager:
    """What the three managers share. A subclass makes `self.wrapper` (its RuntimeWrapper) and
    provides start(rootfs) (raising Unavailable where it cannot run) and remove_all_containers().
    """

    name = "manager"

    def __init__(self, directory, ctr_run):
        self.dir = Path(directory)
        self.dir.mkdir(mode=0o755)
        self.dir.chmod(0o755)
        self.ctr_run = Path(ctr_run)
        self.tmp = self.dir / "tmp"
        self.tmp.mkdir()
        self.guard = None
        self.daemon = None
        self.env = dict(os.environ, TMPDIR=str(self.tmp))

    def shutdown(self):
        """Removes every container, stops the daemon by its pid, and restores the host; returns
        the problems found (what should not have been left)."""
        problems = []
        daemon_up = self.daemon is not None and self.daemon.process is not None \
            and self.daemon.process.poll() is None
        if self.guard is not None and (daemon_up or self.daemon is None):
            try:
                self.remove_all_containers()
            except BaseException as e:  # pytest.fail included: the rest must still run
                problems.append(f"removing the containers failed: {e}")
        problems += [f"ctr-run state left: {p}" for p in self.wrapper.runtime_state_left()]
        self.wrapper.force_delete_left()
        if self.daemon is not None:
            problem = self.daemon.stop()
            if problem:
                problems.append(problem)
        if self.guard is not None:
            problems += self.guard.restore()
        else:  # it did not get as far as starting anything
            shutil.rmtree(self.dir, ignore_errors=True)
        return problems

    def check_after_test(self):
        """After a test: its containers removed through the manager, ctr-run must hold no state
        for them."""
        self.remove_all_containers()
        left = self.wrapper.runtime_state_left()
        if left:
            self.wrapper.force_delete_left()
            pytest.fail(f"{self.name} removed its containers, but ctr-run still has their state: "
                        + ", ".join(left)
                        + f"\nthe calls of the runtime:\n{self.wrapper.describe()}",
                        pytrace=False)


class Podman(Manager):
    """podman with all state under `directory`: CONTAINERS_CONF and CONTAINERS_STORAGE_CONF,
    overlay storage, cgroupfs, events in a file, file locks (not /dev/shm/libpod_lock), and the
    runtime a wrapper named `runc`: podman passes --log and --log-format only to runtimes whose
    file name it knows.

    static_dir and volume_path are left to their defaults below graphroot on purpose: conmon runs
    podman's exit command (`podman --root GRAPHROOT ... container cleanup`) when a container
    exits, and given --root podman derives its database directory from it; a static_dir elsewhere
    makes that cleanup look in another database, and every attached `podman run` then waits out
    conmon's 20 s timeout. podman as root gives the runtime no --root: the wrapper adds one, so
    ctr-run's state stays under `directory` too."""

    name = "podman"

    def __init__(self, directory, ctr_run):
        super().__init__(directory, ctr_run)
        self.wrapper = RuntimeWrapper(self.dir / "bin" / "runc", ctr_run,
                                      default_root=self.dir / "ctr-root")
        self.cgroup_parent = "/" + ctrtest.new_id("ctr-test-podman")
        d = self.dir
        (d / "containers.conf").write_text(f"""\
[containers]
# The default nofile (1048576) is above this host's hard limit, which cannot be raised.
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "{d}/events.log"
tmp_dir = "{d}/libpod-tmp"
image_copy_tmp_dir = "{self.tmp}"
lock_type = "file"
runtime = "runc"
[engine.runtimes]
runc = ["{self.wrapper.path}"]
[network]
network_config_dir = "{d}/networks"
""")
        (d / "storage.conf").write_text(f"""\
[storage]
driver = "overlay"
runroot = "{d}/runroot"
graphroot = "{d}/graphroot"
""")
        self.env.update(CONTAINERS_CONF=str(d / "containers.conf"),
                        CONTAINERS_STORAGE_CONF=str(d / "storage.conf"))

    def __call__(self, *args, **kwargs):
        return run_command(["podman", "--runtime", self.wrapper.path, *args], env=self.env,
                           **kwargs)

    def run(self, *options, command, **kwargs):
        """`podman run OPTIONS... --network none --cgroup-parent P IMAGE COMMAND...`"""
        return self("run", *options, "--network", "none", "--cgroup-parent", self.cgroup_parent,
                    IMAGE, *command, **kwargs)

    def inspect(self, container):
        return json.loads(self("inspect", container, check=True).stdout)[0]

    def start(self, rootfs):
        _require(["podman", "conmon"], PODMAN_PACKAGES)
        # podman writes its blob info cache to /var/lib/containers/cache whatever its storage
        # root; podman puts conmon in PARENT/conmon.
        self.guard = HostGuard(self.dir, cgroup_parents=[self.cgroup_parent],
                               manager_cgroups=["conmon"],
                               created_paths=["/var/lib/containers", "/var/lib/containers/cache"])
        make_cgroup(self.cgroup_parent + "/conmon")
        info = self("info", "--format", "json")
        if info.returncode != 0:
            raise Unavailable(f"`podman info` fails with private state: {info.stderr.strip()}")
        tarball = rootfs_tarball(rootfs, self.dir / "rootfs.tar")
        imported = self("import", tarball, IMAGE)
        if imported.returncode != 0:
            raise Unavailable(f"`podman import` fails: {imported.stderr.strip()}")

    def remove_all_containers(self):
        self("rm", "--all", "--force", "--time", "0", check=True)


# Where containerd 1.6 puts shim sockets, whatever its configuration.
SHIM_SOCKETS = Path("/run/containerd/s")


def remove_shim_sockets(address, namespace, containers):
    """Removes the shim sockets left for `containers` of the containerd at `address`
    (/run/containerd/s/sha256(ADDRESS/NAMESPACE/ID)); returns them as problems."""
    problems = []
    for container in containers:
        sock = shim_socket(address, namespace, container)
        if os.path.lexists(sock):
            problems.append(f"shim socket left: {sock} (container {container})")
            sock.unlink()
    return problems


def shim_socket(address, namespace, container):
    digest = hashlib.sha256(f"{address}/{namespace}/{container}".encode()).hexdigest()
    return SHIM_SOCKETS / digest


class Containerd(Manager):
    """containerd with root, state, and the grpc and ttrpc sockets under `directory`, the CRI
    plugin disabled, and `ctr run --runc-binary WRAPPER --runc-root DIR` for containers. The
    namespace is `ctr-test-...`: containers' cgroups are /NAMESPACE/ID."""

    name = "containerd"
    # Where the ctr client puts its FIFOs, whatever the configuration.
    FIFOS = Path("/run/containerd/fifo")

    def __init__(self, directory, ctr_run):
        super().__init__(directory, ctr_run)
        self.wrapper = RuntimeWrapper(self.dir / "bin" / "ctr-run", ctr_run)
        self.namespace = ctrtest.new_id("ctr-test-cd")
        self.socket = self.dir / "containerd.sock"
        self.runc_root = self.dir / "runc-root"
        d = self.dir
        self.config = d / "config.toml"
        self.config.write_text(f"""\
version = 2
root = "{d}/root"
state = "{d}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = "{self.socket}"

[ttrpc]
  address = "{self.socket}.ttrpc"

[plugins."io.containerd.internal.v1.opt"]
  path = "{d}/opt"
""")

    def new_container_id(self):
        """A container id starting with the namespace's name: the ctr client's FIFOs (named after
        the container and exec ids) can then be told apart from other users' in
        /run/containerd/fifo."""
        return ctrtest.new_id(self.namespace)

    def ctr(self, *args, **kwargs):
        return run_command(["ctr", "--address", self.socket, "--namespace", self.namespace, *args],
                           env=self.env, **kwargs)

    def run(self, *options, container, command, **kwargs):
        """`ctr run OPTIONS... --runc-binary WRAPPER --runc-root DIR IMAGE ID COMMAND...`"""
        return self.ctr("run", *options, "--runc-binary", self.wrapper.path, "--runc-root",
                        self.runc_root, f"{IMAGE}:latest", container, *command, **kwargs)

    def ready(self):
        """Whether the daemon answers on its socket."""
        return self.socket.exists() and \
            run_command(["ctr", "--address", self.socket, "version"]).returncode == 0

    def tasks(self):
        """{task id: (pid, status)} from `ctr task ls`."""
        lines = self.ctr("task", "ls", check=True).stdout.splitlines()[1:]
        return {f[0]: (int(f[1]), f[2]) for f in (line.split() for line in lines) if len(f) >= 3}

    def start(self, rootfs):
        _require(["containerd", "ctr", "umoci"], CONTAINERD_PACKAGES)
        self.guard = HostGuard(self.dir, cgroup_parents=["/" + self.namespace],
                               shared_dirs=["/run/containerd", SHIM_SOCKETS, self.FIFOS])
        self.guard.extra_cleanup.append(self._clean_run_containerd)
        self.daemon = Daemon("containerd", ["containerd", "--config", self.config],
                             self.dir / "containerd.log", self.env)
        self.daemon.start(self.ready)
        archive = self.oci_archive(rootfs)
        imported = self.ctr("images", "import", "--base-name", IMAGE, archive)
        if imported.returncode != 0:
            raise Unavailable(f"`ctr images import` of umoci's OCI archive fails: "
                              f"{imported.stderr.strip()}")

    def oci_archive(self, rootfs):
        """An OCI image archive of the busybox rootfs (one layer), made with umoci."""
        layout = self.dir / "oci"
        image = f"{layout}:latest"
        for cmd in (["umoci", "init", "--layout", layout], ["umoci", "new", "--image", image],
                    ["umoci", "insert", "--image", image, rootfs, "/"]):
            result = run_command(cmd, env=self.env, timeout=120)
            if result.returncode != 0:
                raise Unavailable(f"umoci cannot make the test image: {' '.join(map(str, cmd))}: "
                                  f"{result.stderr.strip()}")
        archive = self.dir / "image.tar"
        subprocess.run(["tar", "-C", str(layout), "-cf", str(archive), "."], check=True)
        return archive

    def remove_all_containers(self):
        for task in self.tasks():
            self.ctr("task", "rm", "--force", task, check=True)
        for container in self.ctr("container", "ls", "--quiet", check=True).stdout.split():
            self.ctr("container", "rm", container, check=True)

    def _shim_socket(self, container):
        return shim_socket(self.socket, self.namespace, container)

    def _container_ids(self):
        """The ids of this module's containers: those the runtime was asked to create."""
        return {c.args[-1] for c in self.wrapper.calls("create")}

    def _clean_run_containerd(self):
        """Removes the shim sockets of this module's containers and the ctr client's FIFO
        directories for them (their files are named after the task's container or exec id: the
        tests start exec ids with the container id), leaving other users' alone."""
        ids = self._container_ids()
        problems = remove_shim_sockets(self.socket, self.namespace, ids)
        if self.FIFOS.is_dir():
            for d in self.FIFOS.iterdir():
                try:
                    names = os.listdir(d)
                except OSError:
                    continue
                if any(n.startswith(tuple(ids)) for n in names):
                    shutil.rmtree(d, ignore_errors=True)
        # The directories themselves, if this module made them, go with shared_dirs; if they
        # existed before, they stay.
        return problems


class Docker(Manager):
    """dockerd with data-root, exec-root, pid file and socket under `directory`, no networking
    set-up (no iptables, no bridge), overlay2, cgroupfs, containers under a `ctr-test-...`
    cgroup parent, and ctr-run added as the runtime `ctr-run`."""

    name = "docker"
    RUNTIME = "ctr-run"

    def __init__(self, directory, ctr_run):
        super().__init__(directory, ctr_run)
        self.wrapper = RuntimeWrapper(self.dir / "bin" / "ctr-run", ctr_run)
        self.cgroup_parent = "/" + ctrtest.new_id("ctr-test-docker")
        self.socket = self.dir / "docker.sock"
        self.config = self.dir / "daemon.json"
        # Without it dockerd writes its (deprecated) key to /etc/docker/key.json.
        self.config.write_text(json.dumps({"deprecated-key-path": str(self.dir / "key.json")}))
        self.env.update(DOCKER_HOST=f"unix://{self.socket}", DOCKER_CONFIG=str(self.dir / "cli"))

    def __call__(self, *args, **kwargs):
        return run_command(["/usr/bin/docker", *args], env=self.env, **kwargs)

    def run(self, *options, command, **kwargs):
        """`docker run OPTIONS... --runtime ctr-run --network none IMAGE COMMAND...`"""
        return self("run", *options, "--runtime", self.RUNTIME, "--network", "none", IMAGE,
                    *command, **kwargs)

    def inspect(self, container):
        return json.loads(self("inspect", container, check=True).stdout)[0]

    def start(self, rootfs):
        _require(["dockerd", "/usr/bin/docker", "containerd"], DOCKER_PACKAGES)
        # dockerd makes /run/docker/plugins whatever its exec-root; the shims of its containerd
        # put their sockets in /run/containerd/s.
        self.guard = HostGuard(self.dir, cgroup_parents=[self.cgroup_parent],
                               shared_dirs=["/run/docker", "/run/docker/plugins",
                                            "/run/containerd", SHIM_SOCKETS])
        self.guard.extra_cleanup.append(self._clean_shim_sockets)
        d = self.dir
        self.daemon = Daemon("dockerd", [
            "dockerd", "--config-file", self.config, "--data-root", d / "data",
            "--exec-root", d / "exec", "--pidfile", d / "docker.pid",
            "--host", f"unix://{self.socket}", "--iptables=false", "--ip6tables=false",
            "--ip-forward=false", "--ip-masq=false", "--bridge=none", "--userland-proxy=false",
            "--storage-driver", "overlay2", "--exec-opt", "native.cgroupdriver=cgroupfs",
            "--cgroup-parent", self.cgroup_parent,
            "--add-runtime", f"{self.RUNTIME}={self.wrapper.path}"], d / "dockerd.log", self.env)
        self.daemon.start(lambda: self.socket.exists() and self("version").returncode == 0,
                          timeout=60)
        tarball = rootfs_tarball(rootfs, self.dir / "rootfs.tar")
        imported = self("import", tarball, IMAGE)
        if imported.returncode != 0:
            raise Unavailable(f"`docker import` fails: {imported.stderr.strip()}")

    def remove_all_containers(self):
        containers = self("ps", "--all", "--quiet", check=True).stdout.split()
        if containers:
            self("rm", "--force", *containers, check=True)

    def _clean_shim_sockets(self):
        """dockerd's containerd: address EXEC_ROOT/containerd/containerd.sock, namespace moby."""
        return remove_shim_sockets(self.dir / "exec" / "containerd" / "containerd.sock", "moby",
                                   {c.args[-1] for c in self.wrapper.calls("create")})


def serve(manager, rootfs):
    """The body of a module fixture: starts `manager` (skipping the module's tests with the
    reason if it cannot run here), yields it, and shuts it down, failing with what was left."""
    try:
        manager.start(rootfs)
    except Unavailable as e:
        problems = manager.shutdown()
        reason = f"{manager.name} cannot run here: {e}"
        if problems:
            reason += "\n(and it left behind, now cleaned up: " + "; ".join(problems) + ")"
        pytest.skip(reason)
    except BaseException:
        manager.shutdown()
        raise
    try:
        yield manager
    finally:
        problems = manager.shutdown()
    if problems:
        pytest.fail(f"{manager.name} left behind (now cleaned up):\n"
                    + "\n".join(f"  {p}" for p in problems), pytrace=False)
