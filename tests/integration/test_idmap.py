"""Idmapped bind mounts (config.md "Mounts": the idmap/ridmap options, uidMappings/gidMappings of a
mount) in containers with a user namespace of their own, whose root is host uid/gid 100000.

Inside such a namespace the kernel refuses mount_setattr(MOUNT_ATTR_IDMAP) on the host's
filesystems, so the runtime prepares each tree and the init attaches it (sync.h, SYNC_IDMAP_MOUNTS).
Without mappings of its own a mount is idmapped with the container's user namespace: what the host
stores as uid 0 is the container's root, both ways. A mount's own mappings say which host ids
(containerID, as stored on disk) appear as which ids (hostID) through the mount.
"""

import os
import re
import subprocess

import pytest

import ctrtest


HOST_ID = 100000
NOBODY = 65534  # the overflow id an unmapped owner shows as


def owned_dir(path, uid, gid, mode=0o755):
    path.mkdir()
    os.chown(path, uid, gid)
    path.chmod(mode)
    return path


def run_or_skip(run, b):
    """Runs the bundle; a filesystem that cannot be idmapped is a reason to skip, not a failure."""
    result = run(b)
    if result.returncode != 0 and re.search(r"idmap: (Invalid argument|Operation not supported)",
                                            result.stderr):
        pytest.skip(f"this filesystem cannot be idmapped: {result.stderr.strip()}")
    return result


def test_plain_bind_shows_host_ids_shifted(bundle, run, test_dir):
    """The baseline the idmapped mounts change: through a plain bind, host uid 100000 is the
    container's root and host root is nobody."""
    src = owned_dir(test_dir / "src", HOST_ID, HOST_ID)
    (src / "mine").write_text("x")
    os.chown(src / "mine", 0, 0)
    b = bundle().map_root_to(HOST_ID).shell("stat -c '%u:%g' /tmp/b /tmp/b/mine")
    b.add_mount("/tmp/b", source=str(src), options=["bind", "rw"])
    result = run(b)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["0:0", f"{NOBODY}:{NOBODY}"]


def test_idmap_with_the_container_user_namespace_makes_host_root_the_container_root(
        bundle, run, test_dir):
    """No mappings of its own: the container's user namespace is the idmap. A host directory owned
    by root is the container root's, and what the container's root creates there is the host
    root's."""
    src = owned_dir(test_dir / "src", 0, 0)
    (src / "file").write_text("x")
    b = bundle().map_root_to(HOST_ID).shell(
        "stat -c '%u:%g' /tmp/id /tmp/id/file && echo new > /tmp/id/created && "
        "stat -c '%u:%g' /tmp/id/created")
    b.add_mount("/tmp/id", source=str(src), options=["bind", "rw", "idmap"])
    result = run_or_skip(run, b)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["0:0", "0:0", "0:0"]
    created = os.stat(src / "created")
    assert (created.st_uid, created.st_gid) == (0, 0)


def test_idmap_with_mount_mappings_makes_a_host_user_the_container_root(bundle, run, test_dir):
    """The reverse direction, with the mount's own mappings: on-disk uid/gid 1000 are shown as host
    id 100000, the container's root; the container root's new files are stored as 1000."""
    src = owned_dir(test_dir / "src", 1000, 1000)
    (src / "file").write_text("x")
    os.chown(src / "file", 1000, 1000)
    b = bundle().map_root_to(HOST_ID).shell(
        "stat -c '%u:%g' /tmp/m/file && echo new > /tmp/m/created")
    b.add_mount("/tmp/m", source=str(src), options=["bind", "rw", "idmap"])
    b.config["mounts"][-1].update({
        "uidMappings": [{"containerID": 1000, "hostID": HOST_ID, "size": 1}],
        "gidMappings": [{"containerID": 1000, "hostID": HOST_ID, "size": 1}],
    })
    result = run_or_skip(run, b)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["0:0"]
    created = os.stat(src / "created")
    assert (created.st_uid, created.st_gid) == (1000, 1000)


def test_idmap_of_a_file_and_read_only(bundle, run, test_dir):
    """A single file can be idmapped, and the entry's other options (ro) still apply."""
    src = test_dir / "file"
    src.write_text("hello\n")
    b = bundle().map_root_to(HOST_ID).shell(
        "stat -c '%u:%g' /tmp/f; cat /tmp/f; echo x > /tmp/f && echo WRITABLE")
    b.add_mount("/tmp/f", source=str(src), options=["bind", "ro", "idmap"])
    result = run_or_skip(run, b)
    assert result.stdout.split()[:2] == ["0:0", "hello"], result.stderr
    assert "WRITABLE" not in result.stdout
    assert "Read-only file system" in result.stderr


@pytest.fixture
def source_with_submount(test_dir):
    """A source directory with a tmpfs mounted below it (unmounted at the end of the test)."""
    src = owned_dir(test_dir / "src", 0, 0)
    sub = src / "sub"
    sub.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=755", "tmpfs", str(sub)], check=True)
    try:
        (sub / "inner").write_text("x")
        yield src
    finally:
        ctrtest.unmount(str(sub))


def test_rbind_ridmap_idmaps_the_submounts_too(bundle, run, source_with_submount):
    b = bundle().map_root_to(HOST_ID).shell("stat -c '%u:%g' /tmp/r /tmp/r/sub /tmp/r/sub/inner")
    b.add_mount("/tmp/r", source=str(source_with_submount), options=["rbind", "rw", "ridmap"])
    result = run_or_skip(run, b)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["0:0", "0:0", "0:0"]


def test_rbind_idmap_idmaps_only_the_top_mount(bundle, run, source_with_submount):
    """idmap (not ridmap) on an rbind: the submount comes along, with the ids it had."""
    b = bundle().map_root_to(HOST_ID).shell("stat -c '%u:%g' /tmp/r /tmp/r/sub")
    b.add_mount("/tmp/r", source=str(source_with_submount), options=["rbind", "rw", "idmap"])
    result = run_or_skip(run, b)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["0:0", f"{NOBODY}:{NOBODY}"]


def test_idmap_of_a_missing_source_names_the_mount(bundle, run, test_dir):
    b = bundle(["true"]).map_root_to(HOST_ID)
    b.add_mount("/tmp/x", source=str(test_dir / "missing"), options=["bind", "idmap"])
    result = run(b)
    assert result.returncode != 0
    assert f"mount `{test_dir}/missing` on `/tmp/x` (mounts[7])" in result.stderr
    assert "No such file or directory" in result.stderr


def test_idmap_on_the_fork_path(bundle, run, test_dir, uts_namespace):
    """The same handshake when the init unshares its namespaces itself (a UTS namespace joined by
    path takes the runtime off the one-clone3 path)."""
    src = owned_dir(test_dir / "src", 0, 0)
    b = bundle().map_root_to(HOST_ID).shell("stat -c '%u:%g' /tmp/id")
    b.add_namespace("uts", path=uts_namespace)
    del b.config["hostname"]  # the UTS namespace is not the container's own
    b.add_mount("/tmp/id", source=str(src), options=["bind", "idmap"])
    result = run_or_skip(run, b)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["0:0"]
