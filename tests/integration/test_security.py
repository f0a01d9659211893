"""Regression tests for known runtime escape classes: each attacks the runtime the way the CVE
did and checks the defence holds."""

import copy
import errno
import fcntl
import hashlib
import json
import os
import select
import socket
import stat
import struct
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest

import ctrtest
from ctrtest import ConsoleSocket, mount_at, parse_mountinfo, terminal_bundle, values


def evil_script(test_dir):
    """A program whose interpreter is /proc/self/exe: exec'd by a vulnerable runtime's process,
    the kernel would run the runtime's own host binary inside the container (CVE-2019-5736)."""
    script = test_dir / "evil"
    script.write_text("#!/proc/self/exe\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return script


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_proc_self_exe_as_interpreter_never_runs_the_runtime_binary(run, bundle, test_dir,
                                                                    ctr_run):
    """CVE-2019-5736: the container's init execs "#!/proc/self/exe". Through the exec trampoline,
    /proc/self/exe is then the sealed trampoline, which refuses and exits 127; the host's ctr-run
    never runs in the container, and is unchanged."""
    before = sha256(ctr_run)
    b = bundle(["/evil", "--version"])
    b.add_mount("/evil", source=str(evil_script(test_dir)), options=["bind", "ro"])
    result = run(b)
    assert result.returncode == 127, (result.stdout, result.stderr)
    assert "ctr-run version" not in result.stdout  # what the runtime binary would have printed
    assert sha256(ctr_run) == before


def test_proc_self_exe_as_interpreter_in_exec_never_runs_the_runtime_binary(ctr, bundle,
                                                                            test_dir, ctr_run):
    """The same through `exec`, whose process joins a container where other processes run."""
    b = bundle(["sleep", "100"])
    b.add_mount("/evil", source=str(evil_script(test_dir)), options=["bind", "ro"])
    cid = ctrtest.new_id()
    ctr("run", "--detach", "--bundle", b.write(), cid, check=True)
    result = ctr("exec", cid, "/evil", "--version")
    assert result.returncode == 127
    assert "ctr-run version" not in result.stdout
    ctr("delete", "--force", cid, check=True)


def test_the_exec_trampoline_is_not_the_runtime_binary(run, bundle):
    """What /proc/self/exe is while the container's program is exec'd: a sealed memfd."""
    b = bundle().shell("readlink /proc/self/exe")
    result = run(b)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "/bin/busybox"


def test_a_failed_final_exec_is_still_reported(run, bundle, test_dir):
    """The trampoline reports a failure of the program's exec (here: not a valid executable)."""
    bad = test_dir / "notelf"
    bad.write_bytes(b"\x7fELF garbage")
    bad.chmod(0o755)
    b = bundle(["/notelf"])
    b.add_mount("/notelf", source=str(bad), options=["bind", "ro"])
    result = run(b)
    assert result.returncode != 0
    assert "exec `/notelf`: Exec format error" in result.stderr


# ---- proc and sysfs only on a real directory of the image ------------------------------------

CONTAINER_RAN = "CONTAINER_RAN"


@pytest.mark.parametrize("fstype,destination,link,target,index", [
    ("proc", "/proc", "proc", "/fake", 0),    # the image's /proc is a symlink
    ("sysfs", "/sys", "sys", "/fake", 5),     # the image's /sys is a symlink
    ("proc", "/host/proc", "host", "/", 7),   # the destination passes through one
])
def test_proc_or_sysfs_mount_through_a_symlink_in_the_image_is_refused(
        bundle, run, private_rootfs, fstype, destination, link, target, index):
    """CVE-2019-16884, CVE-2023-27561, CVE-2019-19921 class: the image makes a proc or sysfs
    destination a symlink to a directory the container owns, so that a runtime following it puts
    the kernel's view there and leaves the image's own files where everything, the runtime's LSM
    label write included, looks for /proc. The mount is refused, naming it, and nothing runs."""
    root = private_rootfs()
    (root / "fake").mkdir()
    if (root / link).is_dir():
        (root / link).rmdir()
    (root / link).symlink_to(target)
    b = bundle().shell(f"echo {CONTAINER_RAN}")
    b.set("root.path", str(root))
    if destination == "/host/proc":
        b.add_mount(destination, "proc", "proc")
    result = run(b)
    assert result.returncode != 0
    assert CONTAINER_RAN not in result.stdout
    assert f"mount `{fstype}` on `{destination}` (mounts[{index}])" in result.stderr
    assert f"`/{link}` is a symlink in the image" in result.stderr
    assert list((root / "fake").iterdir()) == [], "something was made through the symlink"


# ---- /proc writes go through the runtime's own procfs ----------------------------------------

def fake_proc(test_dir):
    """A directory made up like a procfs (a hostile volume), with files where the runtime writes."""
    fake = test_dir / "fakeproc"
    (fake / "self").mkdir(parents=True)
    (fake / "self" / "oom_score_adj").write_text("0\n")
    (fake / "sys" / "kernel").mkdir(parents=True)
    (fake / "sys" / "kernel" / "shmmax").write_text("1\n")
    return fake


def host_oom_score_adj(pid):
    return Path(f"/proc/{pid}/oom_score_adj").read_text().strip()


def test_the_inits_proc_writes_reach_the_kernel_whatever_is_mounted_over_proc(bundle, run,
                                                                             test_dir):
    """CVE-2019-16884 / CVE-2025-52881 class: the config covers /proc/sys with a tmpfs and binds a
    file of its own over the init's /proc/self/oom_score_adj (as a racing or shared mount would).
    The init's sysctl and oom_score_adj writes still reach the kernel, as a second, real procfs
    shows, and the file put in their way is untouched."""
    decoy = test_dir / "oom_score_adj"
    decoy.write_text("0\n")
    # The init is pid 1 of its pid namespace: /proc/self there is /proc/1.
    b = bundle().shell("echo shown=$(cat /proc/1/oom_score_adj); "
                       "echo sys=$(ls /proc/sys | wc -l); "
                       "echo oom=$(cat /tmp/kernel/1/oom_score_adj); "
                       "echo shmmax=$(cat /tmp/kernel/sys/kernel/shmmax)")
    b.process["oomScoreAdj"] = 123
    b.linux["sysctl"] = {"kernel.shmmax": "123456789"}
    b.add_mount("/proc/sys", "tmpfs", "tmpfs", ["size=1m"])
    b.add_mount("/proc/self/oom_score_adj", "bind", str(decoy), ["bind"])
    b.add_mount("/tmp/kernel", "proc", "proc")
    result = run(b)
    assert result.returncode == 0, result.stderr
    out = values(result.stdout)
    assert out["shown"] == "0"  # the decoy covers the file inside...
    assert out["sys"] == "0"    # ...and the tmpfs /proc/sys
    assert out["oom"] == "123"  # but the kernel got the writes
    assert out["shmmax"] == "123456789"
    assert decoy.read_text() == "0\n"


def test_an_exec_writes_its_oom_score_adj_to_the_kernel_not_to_a_fake_proc(ctr, bundle,
                                                                           test_dir):
    """CVE-2019-16884 class: a process exec'd into a container joins its mounts, where /proc is
    whatever the container put there: here a writable directory made up like a procfs. The exec'd
    process's oom_score_adj (and the init's) is written through the runtime's procfs, never into
    the fake file a path-based write would open."""
    fake = fake_proc(test_dir)
    b = bundle(["sleep", "100"])
    b.process["oomScoreAdj"] = 123
    b.add_mount("/proc", "bind", str(fake), ["bind"])
    cid = ctrtest.new_id()
    ctr("run", "--detach", "--bundle", b.write(), cid, check=True)
    init = json.loads(ctr("state", cid, check=True).stdout)["pid"]
    process = copy.deepcopy(b.process)
    process["oomScoreAdj"] = 321
    process_json = test_dir / "process.json"
    process_json.write_text(json.dumps(process))
    pid_file = test_dir / "exec.pid"
    result = ctr("exec", "--process", process_json, "--detach", "--pid-file", pid_file, cid)
    try:
        assert result.returncode == 0, result.stderr
        exec_pid = int(pid_file.read_text())
        assert host_oom_score_adj(exec_pid) == "321"
        assert host_oom_score_adj(init) == "123"
        assert (fake / "self" / "oom_score_adj").read_text() == "0\n"
    finally:
        ctr("delete", "--force", cid, check=True)


# ---- cgroupfs is read-only for unprivileged containers ---------------------------------------

CGROUP_SCRIPT = ("cat /proc/self/mountinfo; "
                 "mkdir /sys/fs/cgroup/memory/ctr-sub 2>&1 && rmdir /sys/fs/cgroup/memory/ctr-sub "
                 "&& echo writable=yes; true")


def cgroup_mounts(stdout):
    mounts = [m for m in parse_mountinfo(stdout)
              if m.mountpoint == "/sys/fs/cgroup" or m.mountpoint.startswith("/sys/fs/cgroup/")]
    assert mounts, "no cgroup mount in the container"
    return mounts


def test_cgroup_mount_is_read_only_without_cap_sys_admin_whatever_its_options(bundle, run):
    """CVE-2023-25809 class: a container without CAP_SYS_ADMIN asks for a writable cgroupfs, with
    which it could raise its own limits (or, sharing the host's cgroup namespace, reach other
    cgroups). It gets the mount read-only: every cgroup mount, and any write fails."""
    b = bundle().shell(CGROUP_SCRIPT)
    b.add_mount("/sys/fs/cgroup", "cgroup", "cgroup", ["nosuid", "noexec", "nodev", "rw"])
    assert "CAP_SYS_ADMIN" not in b.process["capabilities"]["bounding"]
    result = run(b)
    assert result.returncode == 0, result.stderr
    for m in cgroup_mounts(result.stdout):
        assert "ro" in m.options, m
    assert "Read-only file system" in result.stdout
    assert "writable=yes" not in result.stdout


def test_cgroup_mount_of_a_container_with_cap_sys_admin_keeps_its_options(bundle, run):
    """A privileged container (CAP_SYS_ADMIN in its bounding set) could remount the cgroupfs
    writable anyway: it gets the read-write mount it asks for."""
    b = bundle().shell(CGROUP_SCRIPT)
    b.add_mount("/sys/fs/cgroup", "cgroup", "cgroup", ["nosuid", "noexec", "nodev", "rw"])
    for caps in b.process["capabilities"].values():
        caps.append("CAP_SYS_ADMIN")
    result = run(b)
    assert result.returncode == 0, result.stderr
    for m in cgroup_mounts(result.stdout):
        assert "rw" in m.options, m
    assert "writable=yes" in result.stdout


# ---- seccomp notify: the listener goes to the agent ------------------------------------------

# linux/seccomp.h: _IOWR('!', 0, struct seccomp_notif) and _IOWR('!', 1, struct
# seccomp_notif_resp), whose sizes are 80 and 24 bytes.
SECCOMP_IOCTL_NOTIF_RECV = 0xC0502100
SECCOMP_IOCTL_NOTIF_SEND = 0xC0182101
SECCOMP_USER_NOTIF_FLAG_CONTINUE = 1


@pytest.fixture
def socket_dir():
    """A directory with a short path, for unix sockets: sun_path holds 108 bytes, and test
    directories are longer."""
    path = Path(tempfile.mkdtemp(prefix="ctr-sock-"))
    yield path
    subprocess.run(["rm", "-rf", str(path)], check=False)


class SeccompAgent:
    """A seccomp agent (config-linux.md "Seccomp", listenerPath), in a thread, listening at `path`:
    it accepts the runtime's connections, keeps each container process state and listener fd it
    receives, and answers the notified syscalls with `answers` in order, as (value, -errno) pairs;
    once they run out, the syscalls go on as the kernel would run them."""

    def __init__(self, path, answers):
        self.path = str(path)
        self.answers = list(answers)
        self.states, self.notified, self.errors = [], [], []
        self._listeners = []
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(self.path)
        self._server.listen(4)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _receive(self):
        conn, _ = self._server.accept()
        with conn:
            conn.settimeout(5)
            data, fds, _, _ = socket.recv_fds(conn, 1 << 16, 4)
            while chunk := conn.recv(1 << 16):
                data += chunk
        self.states.append((json.loads(data), len(fds)))
        self._listeners += fds
        return fds

    def _answer(self, listener):
        notif = bytearray(80)  # the kernel wants it zeroed
        try:
            fcntl.ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, notif, True)
        except OSError as e:
            if e.errno == errno.ENOENT:  # the caller died meanwhile
                return
            raise
        notif_id, _, _, nr = struct.unpack_from("<QIIi", notif)
        self.notified.append(nr)
        value, error, flags = (*self.answers.pop(0), 0) if self.answers else \
            (0, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE)
        response = bytearray(struct.pack("<QqiI", notif_id, value, error, flags))
        try:
            fcntl.ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, response, True)
        except OSError as e:
            if e.errno != errno.ENOENT:
                raise

    def _serve(self):
        poller = select.poll()
        poller.register(self._server, select.POLLIN)
        try:
            while not self._stop.is_set():
                for fd, events in poller.poll(100):
                    if fd == self._server.fileno():
                        for listener in self._receive():
                            poller.register(listener, select.POLLIN)
                    elif events & select.POLLIN:
                        self._answer(fd)
                    else:  # every process on the filter is gone
                        poller.unregister(fd)
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.errors.append(repr(e))

    def close(self):
        self._stop.set()
        self._thread.join(5)
        self._server.close()
        for fd in self._listeners:
            os.close(fd)


@pytest.fixture
def seccomp_agent(socket_dir):
    agents = []

    def start(answers=()):
        agents.append(SeccompAgent(socket_dir / f"agent{len(agents)}.sock", answers))
        return agents[-1]

    yield start
    for agent in agents:
        agent.close()


def notify_mkdir(bundle_, listener_path):
    bundle_.linux["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "listenerPath": str(listener_path),
        "listenerMetadata": "ctr-test-metadata",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}],
    }
    return bundle_


MKDIR_SCRIPT = ("mkdir /tmp/a 2>&1; echo a=$?; mkdir /tmp/b; echo b=$?; "
                "test -d /tmp/b && echo b_made=yes || echo b_made=no")


@pytest.mark.parametrize("no_new_privileges", [True, False])
def test_seccomp_notify_hands_the_listener_to_the_agent_which_answers_the_syscalls(
        bundle, run, seccomp_agent, no_new_privileges):
    """config-linux.md "Seccomp": with SCMP_ACT_NOTIFY the runtime connects to listenerPath and
    sends the container process state with the listener fd (SCM_RIGHTS). The agent here answers the
    container's first mkdir with ENOMEDIUM and its second with a success it never performs: only
    an agent holding the listener can make mkdir behave so. Both orders of loading the filter
    (noNewPrivileges or not) hand the listener over."""
    agent = seccomp_agent([(0, -errno.ENOMEDIUM), (0, 0)])
    b = notify_mkdir(bundle().shell(MKDIR_SCRIPT), agent.path)
    b.process["noNewPrivileges"] = no_new_privileges
    result = run(b)
    assert result.returncode == 0, result.stderr
    out = values(result.stdout)
    assert os.strerror(errno.ENOMEDIUM) in result.stdout
    assert (out["a"], out["b"], out["b_made"]) == ("1", "0", "no")
    assert agent.errors == []
    assert len(agent.notified) >= 2
    (state, fd_count), = agent.states
    assert fd_count == 1
    assert state["ociVersion"] == b.config["ociVersion"]
    assert state["fds"] == ["seccompFd"]
    assert state["metadata"] == "ctr-test-metadata"
    assert state["state"]["id"] == result.container_id
    assert state["state"]["status"] == "creating"
    assert state["state"]["bundle"] == str(b.path)
    assert state["pid"] == state["state"]["pid"] > 0


def test_seccomp_notify_for_an_exec_hands_over_the_exec_processs_own_listener(
        ctr, bundle, seccomp_agent):
    """An exec'd process gets the container's filter, hence a listener of its own, sent with the
    state of the running container and the exec'd process's pid."""
    agent = seccomp_agent([(0, -errno.ENOMEDIUM)])
    b = notify_mkdir(bundle(["sleep", "100"]), agent.path)
    cid = ctrtest.new_id()
    ctr("run", "--detach", "--bundle", b.write(), cid, check=True)
    try:
        init = json.loads(ctr("state", cid, check=True).stdout)["pid"]
        result = ctr("exec", cid, "sh", "-c", "mkdir /tmp/x 2>&1; echo x=$?")
        assert result.returncode == 0, result.stderr
        assert os.strerror(errno.ENOMEDIUM) in result.stdout
        assert values(result.stdout)["x"] == "1"
        assert [s["state"]["status"] for s, _ in agent.states] == ["creating", "running"]
        exec_state = agent.states[1][0]
        assert exec_state["state"]["pid"] == init
        assert exec_state["pid"] != init
    finally:
        ctr("delete", "--force", cid, check=True)


def test_seccomp_notify_with_an_unreachable_agent_fails_clearly_and_leaves_nothing(
        bundle, run, socket_dir):
    """Sending to listenerPath failing "MUST generate an error": the create fails naming the
    socket, the container never runs, and nothing is left (the leak check)."""
    missing = socket_dir / "no-agent.sock"
    b = notify_mkdir(bundle().shell(f"echo {CONTAINER_RAN}"), missing)
    result = run(b)
    assert result.returncode != 0
    assert CONTAINER_RAN not in result.stdout
    assert f"linux.seccomp.listenerPath `{missing}`: connect to the seccomp agent" in result.stderr
    assert os.strerror(errno.ENOENT) in result.stderr


# ---- LSM labels ------------------------------------------------------------------------------

def apparmor_enabled():
    """As the runtime decides it (libctr/lsm.c)."""
    try:
        return (os.path.isdir("/sys/kernel/security/apparmor") and
                Path("/sys/module/apparmor/parameters/enabled").read_text().startswith("Y"))
    except OSError:
        return False


def selinux_enabled():
    return os.path.exists("/sys/fs/selinux/enforce")


LSM_FIELDS = {
    "process.apparmorProfile": ("ctr-test-profile", apparmor_enabled, "AppArmor"),
    "process.selinuxLabel": ("system_u:system_r:container_t:s0:c1,c2", selinux_enabled, "SELinux"),
    "linux.mountLabel": ("system_u:object_r:container_file_t:s0:c1,c2", selinux_enabled,
                         "SELinux"),
}


@pytest.mark.parametrize("field", sorted(LSM_FIELDS))
def test_lsm_label_is_refused_where_the_lsm_is_not_enabled(bundle, run, field):
    """A label silently dropped would run the container unconfined while its manager believes it
    confined: where the LSM is not enabled the create fails, naming the field and its value."""
    value, enabled, lsm = LSM_FIELDS[field]
    if enabled():
        pytest.skip(f"{lsm} is enabled on this host: the label would be applied")
    b = bundle().shell(f"echo {CONTAINER_RAN}").set(field, value)
    result = run(b)
    assert result.returncode != 0
    assert CONTAINER_RAN not in result.stdout
    assert f"{field} `{value}`: {lsm} is not enabled on this host" in result.stderr


def test_exec_with_an_apparmor_profile_is_refused_where_apparmor_is_not_enabled(ctr, bundle,
                                                                                test_dir):
    if apparmor_enabled():
        pytest.skip("AppArmor is enabled on this host: the profile would be applied")
    b = bundle(["sleep", "100"])
    cid = ctrtest.new_id()
    ctr("run", "--detach", "--bundle", b.write(), cid, check=True)
    try:
        process = dict(b.process, args=["echo", CONTAINER_RAN], apparmorProfile="ctr-test-profile")
        process_json = test_dir / "process.json"
        process_json.write_text(json.dumps(process))
        result = ctr("exec", "--process", process_json, cid)
        assert result.returncode != 0
        assert CONTAINER_RAN not in result.stdout
        assert ("process.json: process.apparmorProfile `ctr-test-profile`: AppArmor is not "
                "enabled on this host") in result.stderr
    finally:
        ctr("delete", "--force", cid, check=True)


TEST_PROFILE = """profile ctr-test-profile flags=(attach_disconnected,mediate_deleted) {
  file, capability, network, mount, umount, pivot_root, signal, ptrace, unix, dbus,
}
"""


@pytest.fixture
def apparmor_test_profile(test_dir):
    if not apparmor_enabled():
        pytest.skip("AppArmor is not enabled on this host (no /sys/kernel/security/apparmor): "
                    "the profile cannot be applied here")
    parser = subprocess.run(["sh", "-c", "command -v apparmor_parser"], capture_output=True,
                            text=True).stdout.strip()
    if not parser:
        pytest.skip("apparmor_parser is not installed: no test profile can be loaded")
    profile = test_dir / "ctr-test-profile"
    profile.write_text(TEST_PROFILE)
    subprocess.run([parser, "-r", str(profile)], check=True)
    yield "ctr-test-profile"
    subprocess.run([parser, "-R", str(profile)], check=False)


def test_apparmor_profile_is_applied_even_with_a_fake_proc(bundle, run, test_dir,
                                                           apparmor_test_profile):
    """CVE-2019-16884: the container's /proc is a writable directory of its own, where runc's label
    write went, leaving the process unconfined. The profile is written through the runtime's
    procfs: the process runs under it, as a second, real procfs shows."""
    fake = fake_proc(test_dir)
    b = bundle().shell("cat /tmp/kernel/self/attr/current")
    b.process["apparmorProfile"] = apparmor_test_profile
    b.add_mount("/proc", "bind", str(fake), ["bind"])
    b.add_mount("/tmp/kernel", "proc", "proc")
    result = run(b)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [apparmor_test_profile, "(enforce)"]


def valid_selinux_context(context):
    """What libselinux's security_check_context() asks the kernel."""
    try:
        Path("/sys/fs/selinux/context").write_text(context + "\0")
        return True
    except OSError:
        return False


def test_selinux_labels_are_applied_to_the_process_and_mounts(bundle, run, test_dir):
    """process.selinuxLabel becomes the process's context (through the runtime's procfs, so a fake
    /proc does not stop it) and linux.mountLabel the context= of the container's tmpfs."""
    if not selinux_enabled():
        pytest.skip("SELinux is not enabled on this host (no /sys/fs/selinux): the labels cannot "
                    "be applied here")
    process_label, _, _ = LSM_FIELDS["process.selinuxLabel"]
    mount_label, _, _ = LSM_FIELDS["linux.mountLabel"]
    if not (valid_selinux_context(process_label) and valid_selinux_context(mount_label)):
        pytest.skip("the SELinux policy here has no container_t / container_file_t types")
    fake = fake_proc(test_dir)
    b = bundle().shell("cat /tmp/kernel/self/attr/current; echo; cat /tmp/kernel/self/mountinfo")
    b.process["selinuxLabel"] = process_label
    b.linux["mountLabel"] = mount_label
    b.add_mount("/proc", "bind", str(fake), ["bind"])
    b.add_mount("/tmp/kernel", "proc", "proc")
    result = run(b)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].rstrip("\0") == process_label
    tmp = mount_at(parse_mountinfo(result.stdout), "/tmp")
    assert any(o.startswith("context=") and mount_label in o for o in tmp.super_options)


# ---- the runtime's own process and fds -------------------------------------------------------

def test_the_init_waiting_at_the_exec_barrier_cannot_be_inspected_from_the_container(ctr, bundle):
    """CVE-2016-9962: between create and start the init sits in the container's namespaces still
    running the runtime's binary, with the runtime's fds and environment. A process of the
    container (same uid, same capabilities, no CAP_SYS_PTRACE) tries to follow those fds, read that
    environment and open the binary through /proc/1: the init is non-dumpable until its execve,
    so every one is refused."""
    cid = ctrtest.new_id()
    ctr("create", "--bundle", bundle(["sleep", "100"]).write(), cid, check=True)
    try:
        result = ctr("exec", cid, "sh", "-c",
                     "for fd in /proc/1/fd/*; do echo tried=$fd; "
                     "readlink $fd >/dev/null 2>&1 && echo leaked=$fd; done; "
                     "cat /proc/1/environ >/dev/null 2>&1 && echo environ=readable; "
                     "cat /proc/1/exe >/dev/null 2>&1 && echo exe=readable; echo done")
        assert result.returncode == 0, result.stderr
        assert "tried=/proc/1/fd/0" in result.stdout, "the init's fds were not even listed"
        assert "leaked=" not in result.stdout
        assert "readable" not in result.stdout
    finally:
        ctr("delete", "--force", cid, check=True)


# The fds a runtime has open while the init sets up include its state directories and its procfs
# handle; which numbers they get is the runtime's business, so every low number is tried.
RUNTIME_FD_NUMBERS = range(3, 16)
CWD_REFUSAL = "outside the container's root filesystem (refused: CVE-2024-21626)"


def test_cwd_through_a_runtime_fd_is_refused(bundle, run):
    """CVE-2024-21626: process.cwd /proc/self/fd/N names a directory fd the runtime still holds
    while the init chdirs (a host directory): the process would start outside the container's
    root, in the host's filesystem. Every such cwd is refused; none runs the process."""
    refused = 0
    for n in RUNTIME_FD_NUMBERS:
        b = bundle().shell(f"echo {CONTAINER_RAN}; pwd")
        b.process["cwd"] = f"/proc/self/fd/{n}"
        result = run(b)
        assert result.returncode != 0, f"cwd /proc/self/fd/{n}: ran in `{result.stdout}`"
        assert CONTAINER_RAN not in result.stdout
        refused += CWD_REFUSAL in result.stderr
    assert refused > 0, "no runtime directory fd was tried: the test proves nothing"


def test_cwd_of_an_exec_through_a_runtime_fd_is_refused(ctr, bundle):
    """The same for a process exec'd into a running container."""
    cid = ctrtest.new_id()
    ctr("run", "--detach", "--bundle", bundle(["sleep", "100"]).write(), cid, check=True)
    try:
        refused = 0
        for n in RUNTIME_FD_NUMBERS:
            result = ctr("exec", "--cwd", f"/proc/self/fd/{n}", cid, "echo", CONTAINER_RAN)
            assert result.returncode != 0 and CONTAINER_RAN not in result.stdout, n
            refused += CWD_REFUSAL in result.stderr
        assert refused > 0, "no runtime directory fd was tried: the test proves nothing"
    finally:
        ctr("delete", "--force", cid, check=True)


# ---- masks and the console are bound from verified objects, not the image's paths ------------

def provided_dev(b, test_dir, **entries):
    """The config binds a host directory at /dev (so the runtime creates no device there) holding
    symlinks of the image's choosing: name -> target."""
    dev = test_dir / "hostdev"
    dev.mkdir()
    for name, target in entries.items():
        (dev / name).symlink_to(target)
    for destination in ("/dev", "/dev/shm", "/dev/mqueue"):
        b.remove_mount(destination)
    b.config["mounts"].insert(1, {"destination": "/dev", "type": "bind", "source": str(dev),
                                  "options": ["bind"]})
    return dev


def test_masked_paths_are_covered_with_the_real_null_device_whatever_dev_null_is(bundle, run,
                                                                                test_dir):
    """CVE-2025-31133: the container's /dev/null is a symlink to /proc/sys/kernel/core_pattern, so
    a runtime binding "/dev/null" over each masked path would make core_pattern (the host's: it is
    not namespaced) appear, writable, at /proc/kcore. The mask is the runtime's own, verified null
    device (char 1:3)."""
    masked = "/proc/keys"  # a file every kernel has (/proc/kcore needs CONFIG_PROC_KCORE)
    b = bundle().shell(f"stat -c '%F %t:%T' {masked}; grep ' {masked} ' /proc/self/mountinfo")
    provided_dev(b, test_dir, null="/proc/sys/kernel/core_pattern")
    b.linux["maskedPaths"] = [masked]
    result = run(b)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "character special file 1:3"
    mask = mount_at(parse_mountinfo(result.stdout), masked)
    assert mask.fstype != "proc" and "core_pattern" not in mask.root, mask


def test_dev_console_is_bound_from_the_pty_whatever_the_image_has_there(ctr, bundle, test_dir,
                                                                        socket_dir):
    """CVE-2025-52565: the container's /dev/console is a symlink to /proc/sys/kernel/core_pattern;
    a runtime binding the pty by path onto /dev/console would mount it wherever the link leads.
    The link is replaced and the pty bound from the runtime's own fd: /dev/console is a devpts
    character device."""
    b = terminal_bundle(bundle, "ls -l /dev/console | cut -c1; "
                                "grep ' /dev/console ' /proc/self/mountinfo | cut -d' ' -f9")
    dev = provided_dev(b, test_dir, console="/proc/sys/kernel/core_pattern")
    out = ctrtest.console_lines(ctr, b, ConsoleSocket(socket_dir / "console.sock"))
    assert out[:2] == ["c", "devpts"], out
    assert not (dev / "console").is_symlink()


# ---- capabilities ----------------------------------------------------------------------------

def capability_sets(status_text):
    return {key: value.strip() for key, _, value in
            (line.partition(":") for line in status_text.splitlines())
            if key in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")}


def test_an_exec_without_capabilities_gets_the_containers_sets_not_the_runtimes(ctr, bundle,
                                                                                test_dir):
    """A process.json without `capabilities` (what a careless manager sends) must not run with
    the runtime's own sets, all of them: it gets the container's, exactly (inheritable included,
    CVE-2022-29162)."""
    b = bundle(["sleep", "100"])
    b.process["capabilities"]["inheritable"] = ["CAP_KILL"]
    cid = ctrtest.new_id()
    ctr("run", "--detach", "--bundle", b.write(), cid, check=True)
    try:
        init = json.loads(ctr("state", cid, check=True).stdout)["pid"]
        process = {k: v for k, v in b.process.items() if k != "capabilities"}
        process["args"] = ["cat", "/proc/self/status"]
        process_json = test_dir / "process.json"
        process_json.write_text(json.dumps(process))
        result = ctr("exec", "--process", process_json, cid)
        assert result.returncode == 0, result.stderr
        container = capability_sets(Path(f"/proc/{init}/status").read_text())
        runtime = capability_sets(Path("/proc/self/status").read_text())
        assert capability_sets(result.stdout) == container
        assert container["CapEff"] != runtime["CapEff"]
    finally:
        ctr("delete", "--force", cid, check=True)
