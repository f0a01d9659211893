"""linux.namespaces, hostname/domainname, user-namespace id maps and time offsets, seen from inside
real containers (runtime-spec config-linux.md, "Namespaces", "User namespace mappings", "Offset
for Time Namespace"; config.md, "Hostname", "Domainname").

A namespace is compared by the inode `readlink /proc/self/ns/TYPE` shows: inside the container
against this test process's own, which is the runtime's namespace (ctr-run runs as our child and
inherits them), the one the spec says a container shares when it does not ask for a new one.
"""

import os
import subprocess

import pytest

import ctrtest

# The spec's namespace types and their names under /proc/PID/ns/.
PROC_NS_NAME = {"pid": "pid", "network": "net", "mount": "mnt", "ipc": "ipc", "uts": "uts",
                "user": "user", "cgroup": "cgroup", "time": "time"}

# An unprivileged host range for user-namespaced containers (as oci-spec-examples/user-namespace).
HOST_ID = 100000


def host_namespace(type_):
    """`net:[4026531840]`: the runtime's namespace of this type."""
    return os.readlink(f"/proc/self/ns/{PROC_NS_NAME[type_]}")


def run_ok(run, bundle):
    """Runs the bundle, fails the test unless it exits 0, returns its stdout."""
    result = run(bundle)
    assert result.returncode == 0, (
        f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}")
    return result.stdout


def container_namespace(run, bundle, type_):
    bundle.args = ["/bin/readlink", f"/proc/self/ns/{PROC_NS_NAME[type_]}"]
    return run_ok(run, bundle).strip()


def with_new_namespace(bundle, type_):
    """The default bundle, plus what a new namespace of this type needs."""
    if type_ == "user":
        bundle.map_root_to(HOST_ID)
    else:
        bundle.add_namespace(type_)
    return bundle


# ---- new, absent and joined namespaces -------------------------------------------------------

def test_process_is_pid_1_in_new_pid_namespace(bundle, run):
    # `exit 0` last, so the shell forks cat instead of exec'ing it as pid 1.
    b = bundle().shell('echo "$$"; cat /proc/1/comm; exit 0')
    assert run_ok(run, b).split() == ["1", "sh"]


@pytest.mark.parametrize("type_", list(PROC_NS_NAME))
def test_new_namespace_differs_from_the_runtimes(bundle, run, type_):
    """A `namespaces` entry without `path`: the runtime creates a new namespace of that type."""
    b = with_new_namespace(bundle(), type_)
    inside = container_namespace(run, b, type_)
    assert inside.startswith(f"{PROC_NS_NAME[type_]}:["), inside
    assert inside != host_namespace(type_)


# mount is not here: libctr needs a new mount namespace to set up the rootfs at all. The default
# config has no user and no time entry: remove_namespace() leaves it so.
@pytest.mark.parametrize("type_", ["pid", "network", "ipc", "uts", "cgroup", "user", "time"])
def test_absent_namespace_is_shared_with_the_runtime(bundle, run, type_):
    """"If a namespace type is not specified in the namespaces array, the container MUST inherit
    the runtime namespace of that type.\""""
    b = bundle().remove_namespace(type_)
    if type_ == "uts":
        # A hostname needs a new UTS namespace (the runtime refuses it otherwise).
        del b.config["hostname"]
    assert container_namespace(run, b, type_) == host_namespace(type_)


@pytest.fixture
def persistent_namespace(test_dir):
    """persistent_namespace(type, *command) makes a namespace with `unshare --TYPE=FILE COMMAND`
    (COMMAND runs inside it, `true` by default), kept alive by the bind mount on FILE. Returns
    FILE. The namespaces are unmounted and their files removed afterwards."""
    made = []

    def make(type_, *command):
        path = test_dir / f"ns-{type_}-{len(made)}"
        path.touch()
        made.append(path)
        subprocess.run(["unshare", f"--{PROC_NS_NAME[type_]}={path}", *(command or ["true"])],
                       check=True, timeout=10)
        return path

    yield make
    errors = []
    for path in made:
        if any(m.mountpoint == str(path) for m in ctrtest.read_mounts()):
            errors.append(ctrtest.unmount(str(path)))
        path.unlink(missing_ok=True)
    errors = [e for e in errors if e]
    assert not errors, errors


# pid (needs a live process in it), user (its owner rules) and mount (libctr needs a new one) are
# not joined here.
@pytest.mark.parametrize("type_", ["network", "ipc", "uts", "cgroup", "time"])
def test_namespace_with_path_is_joined(bundle, run, persistent_namespace, type_):
    """"If a path is specified, the runtime MUST place the container process in the namespace
    at that path": the inode seen inside is the one bound at the path."""
    path = persistent_namespace(type_)
    b = bundle().add_namespace(type_, path)
    if type_ == "uts":
        del b.config["hostname"]  # only allowed with a new UTS namespace
    inode = os.stat(path).st_ino
    assert container_namespace(run, b, type_) == f"{PROC_NS_NAME[type_]}:[{inode}]"


def test_joined_uts_namespace_shows_the_hostname_set_in_it(bundle, run, persistent_namespace):
    path = persistent_namespace("uts", "sh", "-c", "echo joined-uts > /proc/sys/kernel/hostname")
    b = bundle().add_namespace("uts", path)
    # Joining an existing UTS namespace and setting a hostname is an error for the runtime.
    del b.config["hostname"]
    b.shell("hostname; readlink /proc/self/ns/uts")
    assert run_ok(run, b).split() == ["joined-uts", f"uts:[{os.stat(path).st_ino}]"]


# ---- uts -------------------------------------------------------------------------------------

def test_hostname_and_domainname_are_set(bundle, run):
    b = bundle().shell("hostname; cat /proc/sys/kernel/domainname")
    b.config["hostname"] = "spec-host"
    b.config["domainname"] = "spec.example"
    assert run_ok(run, b).split() == ["spec-host", "spec.example"]


# ---- user ------------------------------------------------------------------------------------

def test_uid_and_gid_mappings_apply(bundle, run, test_dir):
    """Root inside is HOST_ID outside: the maps read back as configured, and a file root creates
    in a host directory is owned by HOST_ID there."""
    out = test_dir / "out"
    out.mkdir()
    os.chown(out, HOST_ID, HOST_ID)
    b = bundle().map_root_to(HOST_ID, 65536)
    b.linux["uidMappings"].append({"containerID": 65536, "hostID": HOST_ID + 70000, "size": 10})
    b.add_mount("/tmp/out", source=str(out), options=["rbind", "rw"])
    b.shell("id -u; id -g; cat /proc/self/uid_map; echo --; cat /proc/self/gid_map; "
            "touch /tmp/out/made-by-root")
    lines = run_ok(run, b).splitlines()
    assert lines[:2] == ["0", "0"]
    uid_map, gid_map = "\n".join(lines[2:]).split("--")
    assert [line.split() for line in uid_map.strip().splitlines()] == [
        ["0", str(HOST_ID), "65536"], ["65536", str(HOST_ID + 70000), "10"]]
    assert [line.split() for line in gid_map.strip().splitlines()] == [
        ["0", str(HOST_ID), "65536"]]
    st = os.stat(out / "made-by-root")
    assert (st.st_uid, st.st_gid) == (HOST_ID, HOST_ID)


# ---- time ------------------------------------------------------------------------------------

def read_uptime():
    with open("/proc/uptime") as f:
        return float(f.read().split()[0])


def test_time_namespace_applies_boottime_and_monotonic_offsets(bundle, run):
    b = bundle().add_namespace("time")
    b.linux["timeOffsets"] = {"boottime": {"secs": 86400, "nanosecs": 0},
                              "monotonic": {"secs": 3600, "nanosecs": 500}}
    b.shell("cat /proc/uptime; cat /proc/self/timens_offsets")
    before = read_uptime()
    lines = run_ok(run, b).splitlines()
    after = read_uptime()
    inside = float(lines[0].split()[0])
    # /proc/uptime has two decimals: allow for the rounding on both sides.
    assert before + 86400 - 0.02 <= inside <= after + 86400 + 0.02, (before, inside, after)
    offsets = {fields[0]: fields[1:] for fields in (line.split() for line in lines[1:])}
    assert offsets == {"monotonic": ["3600", "500"], "boottime": ["86400", "0"]}


def test_time_offsets_apply_in_a_new_user_namespace(bundle, run):
    """The offsets are written by the init once it is root of its new user namespace, where
    procfs shows its /proc/self files as owned by the unmapped host root unless it helps."""
    b = bundle().map_root_to(HOST_ID).add_namespace("time")
    b.linux["timeOffsets"] = {"boottime": {"secs": 86400, "nanosecs": 0}}
    b.shell("cat /proc/uptime")
    before = read_uptime()
    inside = float(run_ok(run, b).split()[0])
    after = read_uptime()
    assert before + 86400 - 0.02 <= inside <= after + 86400 + 0.02, (before, inside, after)


# ---- cgroup ----------------------------------------------------------------------------------

def test_cgroup_namespace_shows_the_containers_cgroups_as_root(bundle, run):
    """With a new cgroup namespace, made after the process joined its cgroups, every hierarchy's
    path in /proc/self/cgroup is "/" (without one it would be the host path, ctr/...)."""
    b = bundle().add_namespace("cgroup")
    b.args = ["/bin/cat", "/proc/self/cgroup"]
    lines = run_ok(run, b).splitlines()
    assert lines
    paths = {line.split(":", 2)[2] for line in lines}
    assert paths == {"/"}, lines


def test_user_namespace_joined_by_path_makes_its_root_the_container_root(run, bundle, test_dir):
    """A user namespace joined by path has maps its creator wrote; the container's process runs as
    that namespace's root (and the runtime creates its files as it), as with one it creates."""
    import subprocess
    ns_file = test_dir / "userns"
    ns_file.touch()
    # A process in a new user namespace, whose maps we (root outside) write, bound to a file.
    holder = subprocess.Popen(["unshare", "--user", "sh", "-c", "echo ready; exec sleep 100"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "ready\n"  # it is in its new user namespace now
        ns = f"/proc/{holder.pid}/ns/user"
        with open(f"/proc/{holder.pid}/uid_map", "w") as f:
            f.write("0 100000 65536\n")
        with open(f"/proc/{holder.pid}/gid_map", "w") as f:
            f.write("0 100000 65536\n")
        subprocess.run(["mount", "--bind", ns, str(ns_file)], check=True)
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    try:
        b = bundle().shell("id -u; id -g; cat /proc/self/uid_map")
        b.add_namespace("user", path=str(ns_file))
        result = run(b)
        assert result.returncode == 0, result.stderr
        lines = result.stdout.split("\n")
        assert lines[0] == "0" and lines[1] == "0"
        assert lines[2].split() == ["0", "100000", "65536"]
    finally:
        subprocess.run(["umount", str(ns_file)], check=False)
