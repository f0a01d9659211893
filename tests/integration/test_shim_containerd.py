"""containerd 1.6 runs busybox containers through our shim, containerd-shim-ctr-v2
(`ctr run --runtime io.containerd.ctr.v2`), which drives libctr in-process.

containerd runs in the background with private root, state and sockets (managers.Containerd,
reused here with the shim's directory put first on containerd's PATH); the image is an OCI archive
made with umoci from the busybox rootfs. Each test removes its containers through containerd and
then checks that nothing of them is left: no shim process, no shim socket, no libctr state, no
rootfs mount (and conftest's leak check adds cgroups and processes: the test process is made a
subreaper for the module, so the daemonized shims and whatever they leave are its descendants).
"""

import contextlib
import ctypes
import os
import pty
import re
import select
import signal
import struct
import subprocess
import termios
import fcntl
import time
from pathlib import Path

import pytest

import ctrtest
import managers
from ctrtest import DEFAULT_TIMEOUT

RUNTIME = "io.containerd.ctr.v2"
SHIM_NAME = "containerd-shim-ctr-v2"
SHIM_STATE = Path("/run/containerd/ctr")
_PR_SET_CHILD_SUBREAPER = 36


def shim_binary(build_dir):
    path = Path(os.environ.get("CTR_SHIM", build_dir / "shim" / SHIM_NAME))
    if not os.access(path, os.X_OK):
        pytest.skip(f"{path} is not built (it needs protobuf-c-compiler and libprotobuf-c-dev; "
                    "tests/setup.sh installs them)")
    return path


def _set_subreaper(on):
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_CHILD_SUBREAPER, 1 if on else 0, 0, 0, 0)


@contextlib.contextmanager
def as_subreaper():
    """Shims daemonize: as a subreaper this process inherits them (and what they leave), so the
    leak check sees them. Undone at the end: other modules expect the usual reparenting."""
    _set_subreaper(True)
    try:
        yield
    finally:
        _set_subreaper(False)
        ctrtest.reap_zombie_children()


class ShimContainerd(managers.Containerd):
    """managers.Containerd whose containers run with our shim rather than runc's."""

    name = "containerd (ctr shim)"

    def __init__(self, directory, ctr_run, shim):
        super().__init__(directory, ctr_run)
        bindir = self.dir / "shim-bin"
        bindir.mkdir()
        (bindir / SHIM_NAME).symlink_to(shim)
        # containerd finds `containerd-shim-ctr-v2` for io.containerd.ctr.v2 on its PATH.
        self.env["PATH"] = f"{bindir}:{self.env.get('PATH', '/usr/bin:/bin')}"
        self.ids = set()
        self.state_root = SHIM_STATE / self.namespace

    def run(self, *options, container, command, **kwargs):
        self.ids.add(container)
        return self.ctr("run", *options, "--runtime", RUNTIME, f"{managers.IMAGE}:latest",
                        container, *command, **kwargs)

    def bundle(self, container):
        return self.dir / "state" / "io.containerd.runtime.v2.task" / self.namespace / container

    def shim_pids(self, container=None):
        """Live shim processes of this containerd (of one container when given)."""
        pids = []
        for p in ctrtest.read_processes().values():
            if p.state == "Z":
                continue
            try:
                argv = Path(f"/proc/{p.pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if not argv[0].endswith(SHIM_NAME.encode()):
                continue
            args = [a.decode(errors="replace") for a in argv]
            if str(self.socket) not in args:
                continue
            if container is None or container in args:
                pids.append(p.pid)
        return pids

    def leftovers(self):
        """What a removed container must not have left: shims, sockets, state, mounts."""
        found = [f"shim process: {pid} ({ctrtest.cmdline(pid)})" for pid in self.shim_pids()]
        found += [f"shim socket: {self._shim_socket(c)} (container {c})" for c in self.ids
                  if os.path.lexists(self._shim_socket(c))]
        if self.state_root.is_dir():
            found += [f"libctr state: {p}" for p in self.state_root.iterdir()]
        found += [f"mount: {m}" for m in ctrtest.mounts_below(self.dir)]
        return found

    def check_after_test(self):
        self.remove_all_containers()
        deadline = time.monotonic() + 5
        while self.leftovers() and time.monotonic() < deadline:
            time.sleep(0.05)
        left = self.leftovers()
        if left:
            self.clean_leftovers()
            pytest.fail("the ctr shim left behind:\n" + "\n".join(f"  {x}" for x in left),
                        pytrace=False)

    def clean_leftovers(self):
        for pid in self.shim_pids():
            managers._kill_and_reap(pid)
        for c in self.ids:
            result = ctrtest.run_command([SHIM_NAME, "-namespace", self.namespace, "-id", c,
                                           "-address", self.socket, "-bundle", self.bundle(c),
                                           "delete"], env=self.env, timeout=15)
            if result.returncode != 0:
                print(f"shim delete {c}: {result.stderr}")

    def _container_ids(self):
        return self.ids

    def _clean_run_containerd(self):
        problems = super()._clean_run_containerd()
        if self.state_root.is_dir():
            left = list(self.state_root.iterdir())
            problems += [f"libctr state left: {p}" for p in left]
            subprocess.run(["rm", "-rf", str(self.state_root)], check=False)
        # The shims' state root, made by the first of them; empty now unless another namespace
        # still uses it. Gone, /run/containerd can go too, if this run made it.
        try:
            SHIM_STATE.rmdir()
        except OSError:
            pass
        return problems


@pytest.fixture(scope="module")
def shim_service(workdir, rootfs, ctr_run, build_dir):
    shim = shim_binary(build_dir)
    with as_subreaper():
        yield from managers.serve(ShimContainerd(workdir / "containerd-shim", ctr_run, shim),
                                  rootfs)


@pytest.fixture
def containerd(shim_service):
    yield shim_service
    shim_service.check_after_test()


def task_status(containerd, container):
    return containerd.tasks().get(container, (None, None))[1]


def run_in_pty(argv, env, rows=33, cols=111, timeout=DEFAULT_TIMEOUT):
    """Runs argv with a pty of rows x cols as its terminal; returns (output, exit status)."""
    pid, fd = pty.fork()
    if pid == 0:
        try:
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
            os.execvpe(argv[0], [str(a) for a in argv], env)
        finally:
            os._exit(127)
    out = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                os.close(fd)
                pytest.fail("process exited without its terminal closing", pytrace=False)
            continue
        try:
            data = os.read(fd, 4096)
        except OSError:  # EIO: the terminal's other side is closed
            break
        if not data:
            break
        out += data
    else:
        os.kill(pid, signal.SIGKILL)
    os.close(fd)
    _, status = os.waitpid(pid, 0)
    return out.decode(errors="replace"), os.waitstatus_to_exitcode(status)


# ---- the tests ------------------------------------------------------------------------------

def test_run_rm_prints_output_and_exit_code(containerd):
    container = containerd.new_container_id()
    result = containerd.run("--rm", container=container,
                            command=["sh", "-c", "echo hi; echo oops >&2; exit 3"])
    assert result.stdout == "hi\n", result.stderr
    assert "oops" in result.stderr
    assert result.returncode == 3, result.stderr
    assert container not in containerd.tasks()


def test_run_rm_copies_stdin_until_its_end(containerd):
    container = containerd.new_container_id()
    result = containerd.run("--rm", container=container, command=["sh", "-c", "cat; echo done"],
                            input="line one\nline two\n")
    assert result.stdout == "line one\nline two\ndone\n", result.stderr
    assert result.returncode == 0


def test_run_detached_is_running_in_task_ls(containerd):
    container = containerd.new_container_id()
    containerd.run("--detach", container=container, command=["sleep", "1000"], check=True)
    pid, status = containerd.tasks()[container]
    assert status == "RUNNING"
    # The shim is the init's parent (libctr runs it in-process, no runtime binary in between).
    assert ctrtest.read_processes()[pid].ppid in containerd.shim_pids(container)
    assert Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0] == b"sleep"


def test_task_exec_returns_the_exec_exit_code(containerd):
    container = containerd.new_container_id()
    containerd.run("--detach", container=container, command=["sleep", "1000"], check=True)
    result = containerd.ctr("task", "exec", "--exec-id", f"{container}-e1", container,
                            "sh", "-c", "echo in $(hostname); exit 7")
    assert result.returncode == 7, result.stderr
    assert result.stdout.startswith("in ")
    ok = containerd.ctr("task", "exec", "--exec-id", f"{container}-e2", container, "true")
    assert ok.returncode == 0, ok.stderr


def test_a_config_libctr_refuses_comes_back_as_invalid_argument(containerd):
    # libctr's EINVAL travels as the gRPC code InvalidArgument, which containerd turns back into
    # its own "invalid argument" error, with libctr's message naming the field.
    container = containerd.new_container_id()
    result = containerd.run("--rm", "--cwd", "relative/dir", container=container, command=["true"])
    assert result.returncode != 0
    assert "process.cwd" in result.stderr, result.stderr
    assert result.stderr.rstrip().endswith("invalid argument"), result.stderr
    assert container not in containerd.tasks()
    ctrtest.wait_for(lambda: not containerd.leftovers(), "the failed shim to clean up")


def test_pause_and_resume(containerd):
    container = containerd.new_container_id()
    containerd.run("--detach", container=container, command=["sleep", "1000"], check=True)
    pid = containerd.tasks()[container][0]
    containerd.ctr("task", "pause", container, check=True)
    assert task_status(containerd, container) == "PAUSED"
    assert managers.is_frozen(pid)
    containerd.ctr("task", "resume", container, check=True)
    assert task_status(containerd, container) == "RUNNING"
    assert not managers.is_frozen(pid)


def test_kill_then_task_rm_and_container_rm_leave_nothing(containerd):
    container = containerd.new_container_id()
    containerd.run("--detach", container=container, command=["sleep", "1000"], check=True)
    pid = containerd.tasks()[container][0]
    assert containerd.shim_pids(container)
    containerd.ctr("task", "kill", "--signal", "SIGKILL", container, check=True)
    ctrtest.wait_for(lambda: task_status(containerd, container) == "STOPPED", "STOPPED")
    containerd.ctr("task", "rm", container, check=True)
    containerd.ctr("container", "rm", container, check=True)
    ctrtest.wait_for(lambda: not containerd.leftovers(), "the shim to exit and clean up")
    assert pid not in {p.pid for p in ctrtest.read_processes().values() if p.state != "Z"}
    assert not containerd.bundle(container).exists()


def test_run_tty_gives_a_terminal_of_the_client_size(containerd):
    container = containerd.new_container_id()
    containerd.ids.add(container)
    out, status = run_in_pty(
        ["ctr", "--address", containerd.socket, "--namespace", containerd.namespace, "run",
         "--rm", "-t", "--runtime", RUNTIME, f"{managers.IMAGE}:latest", container,
         "sh", "-c", "tty; sleep 0.3; stty size; exit 4"], containerd.env)
    assert status == 4, out
    assert re.search(r"/dev/pts/\d+", out), out
    assert "33 111" in out, out  # ResizePty reached the container's terminal


def test_stats_and_pids(containerd):
    container = containerd.new_container_id()
    containerd.run("--detach", container=container, command=["sleep", "1000"], check=True)
    pid = containerd.tasks()[container][0]
    ps = containerd.ctr("task", "ps", container, check=True).stdout
    assert str(pid) in ps.split()
    metrics = containerd.ctr("task", "metrics", container, check=True).stdout
    assert re.search(r"pids\.current\s+1\b", metrics), metrics
    assert "memory.usage_in_bytes" in metrics, metrics


class EventWatcher:
    """`ctr events` of the test's namespace in the background, printing to a file."""

    def __init__(self, containerd, name):
        self.file = containerd.dir / f"events-{name}.txt"
        with open(self.file, "w") as out:
            self.process = subprocess.Popen(
                ["ctr", "--address", str(containerd.socket), "--namespace", containerd.namespace,
                 "events"], stdout=out, stderr=subprocess.STDOUT, env=containerd.env)
        time.sleep(0.3)  # subscribed before the first event

    def topics(self, container):
        """The /tasks/ topics of the events naming `container`, in the order ctr printed them."""
        found = []
        for line in self.file.read_text().splitlines():
            # DATE TIME ZONE UTC NAMESPACE TOPIC EVENT-JSON
            parts = line.split(maxsplit=6)
            if len(parts) == 7 and f'"{container}"' in parts[6] and parts[5].startswith("/tasks/"):
                found.append(parts[5])
        return found

    def wait_for(self, container, topic, count=1):
        ctrtest.wait_for(lambda: self.topics(container).count(topic) >= count,
                          f"{count} {topic} event(s) of {container}")

    def stop(self):
        self.process.terminate()
        self.process.wait()


@pytest.fixture
def events(containerd, request):
    watcher = EventWatcher(containerd, request.node.name)
    yield watcher
    watcher.stop()


def test_events_arrive_in_order(containerd, events):
    container = containerd.new_container_id()
    containerd.run("--detach", container=container, command=["sleep", "1000"], check=True)
    containerd.ctr("task", "exec", "--exec-id", f"{container}-x", container, "true", check=True)
    containerd.ctr("task", "pause", container, check=True)
    containerd.ctr("task", "resume", container, check=True)
    containerd.ctr("task", "kill", "--signal", "SIGKILL", container, check=True)
    ctrtest.wait_for(lambda: task_status(containerd, container) == "STOPPED", "STOPPED")
    containerd.ctr("task", "rm", container, check=True)
    events.wait_for(container, "/tasks/delete")
    assert events.topics(container) == [
        "/tasks/create", "/tasks/start", "/tasks/exec-added", "/tasks/exec-started",
        "/tasks/exit", "/tasks/paused", "/tasks/resumed", "/tasks/exit", "/tasks/delete"]


def _swap_total_kib():
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("SwapTotal:"):
            return int(line.split()[1])
    return 0


def _oom_kills(memory_cgroup, version):
    """The kernel's count of OOM kills in a memory cgroup."""
    text = (memory_cgroup / ("memory.oom_control" if version == 1 else "memory.events")).read_text()
    return int(next(line.split()[1] for line in text.splitlines()
                    if line.startswith("oom_kill ")))


def test_oom_kills_are_published_as_task_oom_before_the_exit(containerd, events):
    if _swap_total_kib():
        pytest.skip("the host has swap: `ctr run --memory-limit` limits memory only, so the "
                    "memory hog could swap instead of being OOM-killed")
    container = containerd.new_container_id()
    limit = 32 << 20
    containerd.run("--detach", "--memory-limit", str(limit), container=container,
                   command=["sleep", "1000"], check=True)
    init = containerd.tasks()[container][0]
    assert managers.memory_limit_of(init) == limit
    memory_cgroup, version = managers.cgroup_of(init, "memory")
    # `tail` keeps its input (200 MiB without a newline): the OOM killer takes it (and may take
    # more than one process to get the memory back), and the shell passes on the 137.
    hog = containerd.ctr("task", "exec", "--exec-id", f"{container}-hog", container,
                         "sh", "-c", "head -c 200m /dev/zero | tail")
    assert hog.returncode == 137, hog.stderr
    events.wait_for(container, "/tasks/exit")
    kills = _oom_kills(memory_cgroup, version)
    assert kills >= 1
    topics = events.topics(container)
    # One event per kill, published before the exit of the exec'd process they ended.
    assert topics.count("/tasks/oom") == kills, (kills, topics)
    assert topics[-1] == "/tasks/exit", topics
    # The init lives on; kills while the exec'd shell keeps running are published as they come
    # (from the cgroup's OOM notification, with no exit to look at).
    containerd.ctr("task", "exec", "--detach", "--exec-id", f"{container}-hog2", container,
                   "sh", "-c", "head -c 200m /dev/zero | tail; sleep 600", check=True)
    ctrtest.wait_for(lambda: _oom_kills(memory_cgroup, version) > kills, "another OOM kill")
    ctrtest.wait_for(lambda: events.topics(container).count("/tasks/oom") ==
                      _oom_kills(memory_cgroup, version), "a /tasks/oom per kill")
    assert task_status(containerd, container) == "RUNNING"


def _shim_logged(containerd, text):
    return text in (containerd.dir / "containerd.log").read_text(errors="replace")


@pytest.mark.parametrize("signo, running", [(signal.SIGTERM, True), (signal.SIGINT, False)],
                         ids=["SIGTERM-running-task", "SIGINT-stopped-task"])
def test_exit_signal_ends_the_shim_and_containerd_cleans_up_with_delete(containerd, events,
                                                                         signo, running):
    """What containerd's own shims do on SIGTERM and SIGINT (shim.go's handleExitSignals): stop
    serving and exit, leaving the container as it is; containerd sees the connection close and
    runs `delete` (cleanupAfterDeadShim), which kills the container and publishes its exit."""
    container = containerd.new_container_id()
    containerd.run("--detach", container=container,
                   command=["sleep", "1000"] if running else ["true"], check=True)
    pid = containerd.tasks()[container][0]
    if not running:
        ctrtest.wait_for(lambda: task_status(containerd, container) == "STOPPED", "STOPPED")
    [shim] = containerd.shim_pids(container)
    socket = containerd._shim_socket(container)
    assert socket.exists()
    os.kill(shim, signo)
    ctrtest.wait_for(lambda: shim not in containerd.shim_pids(), "the shim to exit")
    ctrtest.wait_for(lambda: not socket.exists(), "the shim's socket to go")
    # A clean exit, not death by the signal: the shim said why it left.
    ctrtest.wait_for(lambda: _shim_logged(containerd, f"{signal.strsignal(signo)}: exiting"),
                      "the shim's farewell in containerd's log")
    ctrtest.wait_for(lambda: container not in containerd.tasks(), "containerd to drop the task")
    ctrtest.wait_for(lambda: pid not in {p.pid for p in ctrtest.read_processes().values()
                                          if p.state != "Z"}, "the container's init to die")
    events.wait_for(container, "/tasks/delete")
    assert events.topics(container)[-2:] == ["/tasks/exit", "/tasks/delete"]
    containerd.ctr("container", "rm", container, check=True)


def test_shim_killed_with_sigkill_is_cleaned_up_by_delete(containerd):
    container = containerd.new_container_id()
    containerd.run("--detach", container=container, command=["sleep", "1000"], check=True)
    pid = containerd.tasks()[container][0]
    [shim] = containerd.shim_pids(container)
    os.kill(shim, signal.SIGKILL)
    # containerd sees the connection close and runs `containerd-shim-ctr-v2 ... delete`, which
    # kills the container, unmounts its rootfs and removes the socket.
    ctrtest.wait_for(lambda: container not in containerd.tasks(), "the task to go")
    ctrtest.wait_for(lambda: pid not in {p.pid for p in ctrtest.read_processes().values()
                                          if p.state != "Z"}, "the container's init to die")
    ctrtest.wait_for(lambda: not containerd.leftovers(), "the shim's leftovers to go")
    containerd.ctr("container", "rm", container, check=True)


def test_version_and_delete_of_an_unknown_container(containerd, test_dir):
    shim = containerd.env["PATH"].split(":")[0] + "/" + SHIM_NAME
    version = ctrtest.run_command([shim, "-v"], check=True)
    assert "Version:" in version.stdout
    # containerd calls `delete` for a shim that died, whatever it left: nothing is fine too.
    result = ctrtest.run_command([shim, "-namespace", containerd.namespace, "-id", "nothing",
                                   "-address", containerd.socket, "-bundle", test_dir, "delete"])
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""

