"""Devices, seen from inside real containers: config-linux.md "Devices" and "Default Devices", and
runtime-linux.md's /dev symbolic links.

Each test reads what the container sees (stat of the nodes, readlink, mountinfo, reads and writes
through the devices). The hostile-image test plants a /dev symlink pointing at a host directory in
a private rootfs copy and checks that no node lands there.
"""

import pytest

from ctrtest import mount_at, parse_mountinfo, run_ok, values

# config-linux.md "Default Devices": path -> (major, minor).
DEFAULT_DEVICES = {"/dev/null": (1, 3), "/dev/zero": (1, 5), "/dev/full": (1, 7),
                   "/dev/random": (1, 8), "/dev/urandom": (1, 9), "/dev/tty": (5, 0)}

# One line per node: path|type|major|minor|mode|uid|gid (busybox stat prints the numbers in hex).
STAT_FORMAT = "'%n|%F|%t|%T|%a|%u|%g'"


def parse_stats(text):
    """The STAT_FORMAT lines of `text`, as {path: (type, major, minor, mode, uid, gid)}."""
    nodes = {}
    for line in text.splitlines():
        fields = line.split("|")
        if len(fields) == 7 and fields[0].startswith("/"):
            path, kind, major, minor, mode, uid, gid = fields
            nodes[path] = (kind, int(major, 16), int(minor, 16), mode, int(uid), int(gid))
    return nodes


def stat_script(paths):
    return f"stat -c {STAT_FORMAT} " + " ".join(paths)


def test_default_devices_exist_with_their_numbers_and_mode_0666(bundle, run):
    b = bundle().shell(stat_script(DEFAULT_DEVICES) +
                       "; echo written > /dev/null && echo null=ok;"
                       " echo zero=$(head -c 3 /dev/zero | wc -c);"
                       " echo urandom=$(head -c 5 /dev/urandom | wc -c);"
                       " echo x > /dev/full 2>/dev/null || echo full=ENOSPC")
    result = run_ok(run, b)
    nodes = parse_stats(result.stdout)
    for path, (major, minor) in DEFAULT_DEVICES.items():
        assert nodes.get(path) == ("character special file", major, minor, "666", 0, 0), path
    # And they are the devices they claim to be (the cgroup lets them through).
    assert values(result.stdout) == {"null": "ok", "zero": "3", "urandom": "5", "full": "ENOSPC"}


def test_dev_ptmx_and_the_standard_links_point_where_the_spec_says(bundle, run):
    """/dev/ptmx is a symlink to the container's own devpts' ptmx (config-linux.md); /dev/fd,
    /dev/stdin, /dev/stdout and /dev/stderr link into /proc/self/fd (runtime-linux.md)."""
    links = {"ptmx": "pts/ptmx", "fd": "/proc/self/fd", "stdin": "/proc/self/fd/0",
             "stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2"}
    script = "; ".join(f"echo {name}=$(readlink /dev/{name})" for name in links)
    # Through the links: the pts multiplexer of the new devpts instance, and our own stdout
    # (appended to: stdout is a file here, which opening /dev/stdout with O_TRUNC would empty).
    script += "; stat -c 'ptmx-target=%t:%T' -L /dev/ptmx; echo via-stdout >> /dev/stdout"
    b = bundle().shell(script)
    result = run_ok(run, b)
    out = values(result.stdout)
    for name, target in links.items():
        assert out.get(name) == target, f"/dev/{name}: {result.stdout}"
    assert out["ptmx-target"] == "5:2"
    assert "via-stdout" in result.stdout.splitlines()


def test_configured_devices_are_created_with_type_numbers_mode_and_owner(bundle, run):
    devices = [
        {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o600,
         "uid": 1000, "gid": 1000},
        {"path": "/dev/loop-test", "type": "b", "major": 7, "minor": 200, "fileMode": 0o640,
         "uid": 0, "gid": 6},
        # Anywhere in the container, not only in /dev (it lands in the /tmp tmpfs here).
        {"path": "/tmp/devs/fifo", "type": "p", "fileMode": 0o620, "gid": 5},
    ]
    b = bundle().shell(stat_script(d["path"] for d in devices))
    b.linux["devices"] = devices
    nodes = parse_stats(run_ok(run, b).stdout)
    assert nodes["/dev/fuse"] == ("character special file", 10, 229, "600", 1000, 1000)
    assert nodes["/dev/loop-test"] == ("block special file", 7, 200, "640", 0, 6)
    kind, _, _, mode, uid, gid = nodes["/tmp/devs/fifo"]
    assert (kind, mode, uid, gid) == ("fifo", "620", 0, 5)


@pytest.mark.parametrize("style", ["absolute", "relative"])
def test_dev_symlink_in_the_image_cannot_redirect_device_creation_to_the_host(
        bundle, run, test_dir, private_rootfs, style):
    """The image's /dev is a symlink to a host directory (and nothing is mounted on /dev): the
    nodes, links and configured devices are made where the link leads inside the rootfs, and the
    host directory stays empty."""
    root = private_rootfs(dev=False)
    evil = test_dir / "evil"
    evil.mkdir()
    if style == "absolute":
        (root / "dev").symlink_to(evil)
    else:
        (root / "dev").symlink_to("../" * (len(root.parts) + 3) + str(evil).lstrip("/"))
    b = bundle().shell(stat_script(["/dev/null", "/dev/fuse"]) +
                       "; echo fd=$(readlink /dev/fd); echo x > /dev/null && echo null=ok")
    b.set("root.path", str(root))
    # Nothing mounted on /dev, nor on /tmp, which the link's target is under.
    for destination in ("/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/tmp"):
        b.remove_mount(destination)
    b.linux["devices"] = [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229,
                           "fileMode": 0o600}]
    result = run_ok(run, b)
    nodes = parse_stats(result.stdout)
    assert nodes["/dev/null"][:4] == ("character special file", 1, 3, "666")
    assert nodes["/dev/fuse"][:4] == ("character special file", 10, 229, "600")
    assert values(result.stdout)["fd"] == "/proc/self/fd"
    assert list(evil.iterdir()) == [], "device nodes were created on the host"
    inside = root / str(evil).lstrip("/")
    assert (inside / "null").is_char_device() and (inside / "fuse").is_char_device()


def test_devices_in_a_user_namespace_are_bound_from_the_host_and_usable(bundle, run):
    """mknod is not allowed in a user namespace: the default devices are bind mounts of the host's
    nodes, and still work."""
    b = bundle().shell(stat_script(DEFAULT_DEVICES) +
                       "; cat /proc/self/uid_map; cat /proc/self/mountinfo;"
                       " echo written > /dev/null && echo null=ok;"
                       " echo zero=$(head -c 3 /dev/zero | wc -c);"
                       " echo urandom=$(head -c 5 /dev/urandom | wc -c)")
    b.map_root_to(100000)
    result = run_ok(run, b)
    assert result.stdout.split("\n")[len(DEFAULT_DEVICES)].split() == ["0", "100000", "65536"]
    nodes = parse_stats(result.stdout)
    mounts = parse_mountinfo(result.stdout)
    for path, (major, minor) in DEFAULT_DEVICES.items():
        assert nodes[path][:3] == ("character special file", major, minor), path
        assert mount_at(mounts, path).root == path[len("/dev"):], path  # the host's node
    out = values(result.stdout)
    assert (out["null"], out["zero"], out["urandom"]) == ("ok", "3", "5")
