"""Mounts, masked and read-only paths, the root and its propagation, and sysctl, seen from inside
real containers.

What the runtime-spec asks for, one test per behaviour:
- config.md "Mounts": entries applied in order; bind sources (host directories and files, relative
  to the bundle); destinations created when the image lacks them, and resolved inside the root
  even when the image plants a symlink there; filesystem-independent flags, the recursive `r*`
  options (mount_setattr) and the propagation options; filesystem data (tmpfs size and mode,
  overlay's lowerdir/upperdir/workdir); proc, sysfs, mqueue, devpts and `cgroup` mounts.
- config.md "Root": `readonly`; config-linux.md "Rootfs Mount Propagation"; and the pivot_root that
  leaves no host path reachable.
- config-linux.md "Masked Paths", "Readonly Paths" and "Sysctl".

Every check reads what the container itself sees (/proc/self/mountinfo, stat, reads and writes
that must fail with the right error), and the tests that plant symlinks also check that nothing
was created on the host. Hostile images are private rootfs copies (`private_rootfs`): the shared
test rootfs is read-only for tests.
"""

import os
import subprocess
from pathlib import Path

import pytest

import ctrtest
from ctrtest import mount_at, mounts_at, parse_mountinfo, run_ok, values

# ---- helpers ------------------------------------------------------------------------------

def output(result):
    """What a container printed on stdout and stderr (the shell reports a failed redirection on its
    own stderr, whatever the command's redirections say)."""
    return result.stdout + result.stderr


@pytest.fixture
def host_mount():
    """host_mount(path, fstype="tmpfs", options=None, shared=False) mounts a filesystem on the
    host (for submounts and propagation sources); every one is unmounted afterwards."""
    mounted = []

    def mount(path, fstype="tmpfs", options="size=1m", shared=False):
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        cmd = ["mount", "-t", fstype, "-o", options, fstype, str(path)]
        subprocess.run(cmd, check=True)
        mounted.append(path)
        if shared:
            subprocess.run(["mount", "--make-shared", str(path)], check=True)
        return path

    yield mount
    for path in reversed(mounted):
        subprocess.run(["umount", "-l", str(path)], check=False)


def host_mountinfo(path):
    """The host's mountinfo entry for the mount at `path` (the top one)."""
    return mount_at(ctrtest.read_mounts(), str(path))


# ---- config.md "Mounts": order, binds ------------------------------------------------------


def test_mounts_are_applied_in_config_order_and_the_last_on_a_destination_wins(bundle, run,
                                                                               test_dir):
    first, second = test_dir / "first", test_dir / "second"
    for d in (first, second):
        (d / "nested").mkdir(parents=True)
        (d / "which").write_text(d.name)
    b = bundle().shell("cat /target/which; echo; cat /proc/self/mountinfo")
    b.add_mount("/target", "bind", str(first), ["bind", "ro"])
    b.add_mount("/target", "bind", str(second), ["bind", "ro"])
    # A mount below an earlier one lands on it; were the order reversed, /target would hide it.
    b.add_mount("/target/nested", "tmpfs", "tmpfs", ["size=1m"])
    result = run_ok(run, b)
    assert result.stdout.splitlines()[0] == "second"
    mounts = parse_mountinfo(result.stdout)
    stacked = mounts_at(mounts, "/target")
    assert [m.root for m in stacked] == [str(first), str(second)]
    assert stacked[1].parent_id == stacked[0].mount_id  # the second sits on the first
    assert mount_at(mounts, "/target/nested").parent_id == stacked[1].mount_id


def test_bind_mount_of_a_host_directory_and_a_host_file_shows_their_content(bundle, run,
                                                                            test_dir):
    data = test_dir / "data"
    data.mkdir()
    (data / "in-dir").write_text("from the host directory")
    host_file = test_dir / "file.txt"
    host_file.write_text("from the host file")
    b = bundle().shell("cat /tmp/dir/in-dir; echo; cat /tmp/file; echo; "
                       "stat -c 'kind=%F' /tmp/file")
    b.add_mount("/tmp/dir", "bind", str(data), ["bind", "ro"])
    b.add_mount("/tmp/file", "bind", str(host_file), ["bind", "ro"])
    lines = run_ok(run, b).stdout.splitlines()
    assert lines[:2] == ["from the host directory", "from the host file"]
    assert lines[2] == "kind=regular file"


def test_rbind_includes_submounts_and_bind_does_not(bundle, run, test_dir, host_mount):
    src = test_dir / "src"
    src.mkdir()
    host_mount(src / "sub")
    (src / "sub" / "on-submount").write_text("submount")
    b = bundle().shell("ls /tmp/bind/sub; echo ---; ls /tmp/rbind/sub; cat /proc/self/mountinfo")
    b.add_mount("/tmp/bind", "bind", str(src), ["bind"])
    b.add_mount("/tmp/rbind", "bind", str(src), ["rbind"])
    result = run_ok(run, b)
    bind_listing, _, rest = result.stdout.partition("---\n")
    assert bind_listing.strip() == ""  # the bare directory under the submount
    assert rest.splitlines()[0] == "on-submount"
    mounts = parse_mountinfo(result.stdout)
    assert mounts_at(mounts, "/tmp/bind/sub") == []
    assert mount_at(mounts, "/tmp/rbind/sub").fstype == "tmpfs"


def test_mount_flags_ro_nosuid_nodev_noexec_are_visible_in_mountinfo(bundle, run, test_dir):
    src = test_dir / "src"
    src.mkdir()
    b = bundle().shell("cat /proc/self/mountinfo; touch /tmp/flags/x 2>&1; touch /tmp/plain/x "
                       "&& echo plain=writable")
    b.add_mount("/tmp/flags", "bind", str(src), ["bind", "ro", "nosuid", "nodev", "noexec"])
    b.add_mount("/tmp/plain", "bind", str(src), ["bind", "rw"])
    result = run_ok(run, b)
    mounts = parse_mountinfo(result.stdout)
    assert {"ro", "nosuid", "nodev", "noexec"} <= mount_at(mounts, "/tmp/flags").options
    plain = mount_at(mounts, "/tmp/plain").options
    assert "rw" in plain and not {"nosuid", "nodev", "noexec"} & plain
    assert "Read-only file system" in output(result)
    assert values(result.stdout)["plain"] == "writable"


def test_recursive_options_apply_to_the_submounts_of_an_rbind(bundle, run, test_dir, host_mount):
    src = test_dir / "src"
    src.mkdir()
    host_mount(src / "sub")
    b = bundle().shell("cat /proc/self/mountinfo")
    b.add_mount("/tmp/rec", "bind", str(src), ["rbind", "rro", "rnosuid", "rnodev", "rnoexec"])
    # The plain options change only the top mount of an rbind.
    b.add_mount("/tmp/plain", "bind", str(src), ["rbind", "ro", "nosuid"])
    mounts = parse_mountinfo(run_ok(run, b).stdout)
    for path in ("/tmp/rec", "/tmp/rec/sub"):
        assert {"ro", "nosuid", "nodev", "noexec"} <= mount_at(mounts, path).options, path
    assert {"ro", "nosuid"} <= mount_at(mounts, "/tmp/plain").options
    sub = mount_at(mounts, "/tmp/plain/sub").options
    assert "rw" in sub and "nosuid" not in sub


def test_propagation_options_set_the_peer_group_of_a_bind(bundle, run, test_dir, host_mount):
    """shared: a peer group of its own (shared:N); slave: receives from the host's peer group
    (master:N, N being the host mount's shared:N); private: neither."""
    src = host_mount(test_dir / "src", shared=True)
    host_group = host_mountinfo(src).tag("shared")
    assert host_group, "the host mount should be shared"
    b = bundle().shell("cat /proc/self/mountinfo")
    b.add_mount("/tmp/shared", "bind", str(src), ["rbind", "rshared"])
    b.add_mount("/tmp/slave", "bind", str(src), ["rbind", "rslave"])
    b.add_mount("/tmp/private", "bind", str(src), ["bind", "private"])
    mounts = parse_mountinfo(run_ok(run, b).stdout)
    # Checked here, not by the leak check: unmounting `src` would hide what propagated to it.
    assert ctrtest.mounts_below(src) == []
    shared, slave, private = (mount_at(mounts, f"/tmp/{p}") for p in ("shared", "slave", "private"))
    # A peer group of the container's own, never the host's: what is mounted below it inside
    # must not appear on the host.
    assert shared.tag("shared") not in (None, host_group)
    assert slave.tag("master") == host_group and slave.tag("shared") is None
    assert private.optional == ()


def test_tmpfs_size_and_mode_options_reach_the_filesystem(bundle, run):
    b = bundle().shell("cat /proc/self/mountinfo; stat -c 'mode=%a' /tmp/scratch")
    b.add_mount("/tmp/scratch", "tmpfs", "tmpfs", ["size=1m", "mode=0710", "nodev"])
    result = run_ok(run, b)
    scratch = mount_at(parse_mountinfo(result.stdout), "/tmp/scratch")
    assert scratch.fstype == "tmpfs"
    assert {"size=1024k", "mode=710"} <= scratch.super_options
    assert "nodev" in scratch.options
    assert values(result.stdout)["mode"] == "710"


def test_proc_sysfs_and_mqueue_mounts_are_fresh_instances_with_their_flags(bundle, run):
    b = bundle().shell("cat /proc/self/mountinfo; echo pid1=$(cat /proc/1/comm); "
                       "touch /sys/kernel/x 2>&1; true")
    result = run_ok(run, b)
    mounts = parse_mountinfo(result.stdout)
    proc = mount_at(mounts, "/proc")
    assert (proc.fstype, proc.root) == ("proc", "/")
    assert values(result.stdout)["pid1"] == "sh"  # the container's own pid namespace
    sysfs = mount_at(mounts, "/sys")
    assert (sysfs.fstype, sysfs.root) == ("sysfs", "/")
    assert {"ro", "nosuid", "nodev", "noexec"} <= sysfs.options
    assert "Read-only file system" in output(result)
    mqueue = mount_at(mounts, "/dev/mqueue")
    assert mqueue.fstype == "mqueue"
    assert {"nosuid", "nodev", "noexec"} <= mqueue.options


def test_devpts_mount_is_a_new_instance_with_its_ptmxmode(bundle, run):
    host_devpts = {m.device for m in parse_mountinfo(Path("/proc/self/mountinfo").read_text())
                   if m.fstype == "devpts"}
    b = bundle().shell("cat /proc/self/mountinfo; echo entries=$(ls /dev/pts); "
                       "stat -c 'ptmx=%a' /dev/pts/ptmx")
    result = run_ok(run, b)
    devpts = mount_at(parse_mountinfo(result.stdout), "/dev/pts")
    assert devpts.fstype == "devpts"
    assert devpts.device not in host_devpts  # newinstance: not the host's
    assert {"ptmxmode=666", "mode=620", "gid=5"} <= devpts.super_options
    assert {"nosuid", "noexec"} <= devpts.options
    out = values(result.stdout)
    assert out["entries"] == "ptmx"  # no terminal of the host's
    assert out["ptmx"] == "666"


def test_cgroup_mount_shows_the_containers_cgroup_read_only(bundle, run):
    limit = 48 << 20
    b = bundle().shell("echo limit=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes); "
                       "echo procs=$(cat /sys/fs/cgroup/memory/cgroup.procs); "
                       "echo 0 > /sys/fs/cgroup/memory/memory.swappiness 2>&1; "
                       "mkdir /sys/fs/cgroup/memory/child 2>&1; cat /proc/self/mountinfo")
    b.set("linux.resources.memory.limit", limit)
    b.add_mount("/sys/fs/cgroup", "cgroup", "cgroup", ["nosuid", "noexec", "nodev", "ro"])
    result = run_ok(run, b)
    out = values(result.stdout)
    assert out["limit"] == str(limit)
    # The container's own processes, as its pid namespace numbers them: its init is 1.
    assert "1" in out["procs"].split()
    assert output(result).count("Read-only file system") == 2
    mounts = parse_mountinfo(result.stdout)
    for path in ("/sys/fs/cgroup", "/sys/fs/cgroup/memory"):
        assert "ro" in mount_at(mounts, path).options, path
    memory = mount_at(mounts, "/sys/fs/cgroup/memory")
    assert memory.fstype == "cgroup" and "memory" in memory.super_options


def test_overlay_mount_shows_lower_files_and_writes_go_to_the_upper_dir(bundle, run, test_dir):
    lower, upper, work = (test_dir / n for n in ("lower", "upper", "work"))
    for d in (lower, upper, work):
        d.mkdir()
    (lower / "from-lower").write_text("lower layer")
    b = bundle().shell("cat /tmp/ovl/from-lower; echo; echo written > /tmp/ovl/new; "
                       "cat /proc/self/mountinfo")
    b.add_mount("/tmp/ovl", "overlay", "overlay",
                [f"lowerdir={lower}", f"upperdir={upper}", f"workdir={work}"])
    result = run_ok(run, b)
    assert result.stdout.splitlines()[0] == "lower layer"
    assert mount_at(parse_mountinfo(result.stdout), "/tmp/ovl").fstype == "overlay"
    assert (upper / "new").read_text() == "written\n"
    assert not (lower / "new").exists()


def test_relative_bind_source_is_relative_to_the_bundle(bundle, run):
    b = bundle().shell("cat /tmp/data/marker")
    (b.path / "data").mkdir(parents=True)
    (b.path / "data" / "marker").write_text("in the bundle")
    b.add_mount("/tmp/data", "bind", "data", ["bind", "ro"])
    assert run_ok(run, b).stdout == "in the bundle"


def test_missing_mount_destinations_are_created_in_the_rootfs(bundle, run, test_dir,
                                                              private_rootfs):
    root = private_rootfs()
    src = test_dir / "src"
    src.mkdir()
    (src / "marker").write_text("dir")
    host_file = test_dir / "file"
    host_file.write_text("file")
    b = bundle().shell("cat /new/deep/dir/marker /etc/new/file; cat /proc/self/mountinfo")
    b.set("root.path", str(root))
    b.add_mount("/new/deep/dir", "bind", str(src), ["bind"])
    b.add_mount("/etc/new/file", "bind", str(host_file), ["bind"])
    result = run_ok(run, b)
    assert result.stdout.startswith("dirfile")
    mounts = parse_mountinfo(result.stdout)
    assert mount_at(mounts, "/new/deep/dir").root == str(src)
    assert mount_at(mounts, "/etc/new/file").root == str(host_file)
    # Created in the image, as a directory and as an (empty) file.
    assert (root / "new" / "deep" / "dir").is_dir()
    assert (root / "etc" / "new" / "file").is_file()
    assert (root / "etc" / "new" / "file").stat().st_size == 0


@pytest.mark.parametrize("style", ["absolute", "relative"])
def test_symlinked_mount_destination_is_resolved_inside_the_rootfs(bundle, run, test_dir,
                                                                   private_rootfs, style):
    """CVE-2021-30465 class: symlinks the image plants at (or on the way to) a destination point
    outside the rootfs; the runtime follows them as if the rootfs were `/`, so the mounts and the
    directories and files made for them land inside the rootfs, never on the host."""
    root = private_rootfs()
    outside = test_dir / "outside"  # where a host-side resolution would lead
    existing = test_dir / "existing"  # a host directory that exists
    existing.mkdir()
    host_file = test_dir / "file"
    host_file.write_text("bound file")

    def link(name, target):
        if style == "absolute":
            (root / name).symlink_to(target)
        else:
            # Enough `..` to climb from the rootfs up to the host's /, and beyond.
            (root / name).symlink_to("../" * (len(root.parts) + 3) + str(target).lstrip("/"))

    link("dir-link", outside / "dir")
    link("file-link", outside / "file")
    link("existing-link", existing)
    b = bundle().shell("cat /proc/self/mountinfo; cat /file-link; echo; ls /existing-link/sub")
    b.set("root.path", str(root))
    b.remove_mount("/tmp")  # the rootfs's own /tmp: what is created there is seen afterwards
    b.add_mount("/dir-link", "tmpfs", "tmpfs", ["size=1m"])
    b.add_mount("/file-link", "bind", str(host_file), ["bind", "ro"])
    b.add_mount("/existing-link/sub", "tmpfs", "tmpfs", ["size=1m"])
    result = run_ok(run, b)
    mounts = parse_mountinfo(result.stdout)
    # Inside, each mount sits where the link leads when / is the rootfs.
    assert mount_at(mounts, f"{outside}/dir").fstype == "tmpfs"
    assert mount_at(mounts, f"{outside}/file").root == str(host_file)
    assert mount_at(mounts, f"{existing}/sub").fstype == "tmpfs"
    assert "bound file" in result.stdout
    # On the host: nothing created, nothing mounted (the leak check sees mounts).
    assert not outside.exists()
    assert list(existing.iterdir()) == []
    inside = root / str(test_dir).lstrip("/")
    assert (inside / "outside" / "dir").is_dir()
    assert (inside / "outside" / "file").is_file()
    assert (inside / "existing" / "sub").is_dir()


# ---- config.md "Root" and config-linux.md "Rootfs Mount Propagation" -------------------------


def test_root_readonly_true_makes_writing_to_the_root_fail_with_erofs(bundle, run,
                                                                      private_rootfs):
    root = private_rootfs()
    b = bundle().shell("touch /written 2>&1; mkdir /madedir 2>&1; cat /proc/self/mountinfo")
    b.set("root.path", str(root))
    b.set("root.readonly", True)
    result = run_ok(run, b)
    assert output(result).count("Read-only file system") == 2
    assert "ro" in mount_at(parse_mountinfo(result.stdout), "/").options
    assert not (root / "written").exists() and not (root / "madedir").exists()


def test_root_readonly_false_leaves_the_root_writable(bundle, run, private_rootfs):
    root = private_rootfs()
    b = bundle().shell("echo from-container > /written && cat /proc/self/mountinfo")
    b.set("root.path", str(root))
    b.set("root.readonly", False)
    result = run_ok(run, b)
    assert "rw" in mount_at(parse_mountinfo(result.stdout), "/").options
    assert (root / "written").read_text() == "from-container\n"


@pytest.mark.parametrize("propagation", ["shared", "slave", "private", "unbindable", None])
def test_rootfs_propagation_sets_the_propagation_of_the_containers_root(
        bundle, run, test_dir, private_rootfs, host_mount, propagation):
    """The rootfs sits on a shared host mount, so each mode shows: shared gives the container's
    root a peer group of its own (not the host's: "this does not mean that it's shared with the
    host"), slave makes it receive from the host's (master:N), private neither, unbindable is
    private and unbindable. Without rootfsPropagation the root is a slave, as runc makes it. In
    every mode, nothing the container mounts appears on the host."""
    holder = host_mount(test_dir / "holder", options="size=16m", shared=True)
    host_group = host_mountinfo(holder).tag("shared")
    root = private_rootfs(parent=holder)
    b = bundle().shell("cat /proc/self/mountinfo")
    b.set("root.path", str(root))
    if propagation:
        b.set("linux.rootfsPropagation", propagation)
    slash = mount_at(parse_mountinfo(run_ok(run, b).stdout), "/")
    # Checked here, not by the leak check: unmounting the holder would hide what propagated.
    assert ctrtest.mounts_below(holder) == []
    assert slash.root == "/rootfs"  # the rootfs directory of the host's tmpfs
    if propagation == "shared":
        assert slash.tag("shared") not in (None, host_group)
    elif propagation == "private":
        assert slash.optional == ()
    elif propagation == "unbindable":
        assert slash.optional == ("unbindable",)
    else:
        assert slash.tag("master") == host_group and slash.tag("shared") is None


def test_pivot_root_leaves_only_the_rootfs_reachable(bundle, run, rootfs):
    """After pivot_root the container's / is the rootfs mount and the host's root is detached:
    mountinfo lists the config's mounts only, and no host path (/work, this test's own files) can
    be reached, not even through /proc/1/root or `..` from /."""
    marker = Path(__file__).resolve()
    b = bundle().shell(
        "cat /proc/self/mountinfo; "
        f"test -e {marker} && echo reached=marker; test -e /work && echo reached=work; "
        f"test -e /proc/1/root/{marker} && echo reached=proc-root; "
        f"test -e /../../{marker} && echo reached=dotdot; "
        "echo root-ino=$(stat -c %i /); echo parent-ino=$(stat -c %i /..)")
    result = run_ok(run, b)
    assert "reached=" not in result.stdout
    mounts = parse_mountinfo(result.stdout)
    slash = mount_at(mounts, "/")
    assert slash.root == str(rootfs)  # the rootfs directory of its host filesystem
    assert len(mounts_at(mounts, "/")) == 1
    ids = {m.mount_id for m in mounts}
    assert slash.parent_id not in ids  # what it was mounted on (the old root) is gone
    assert all(m.mount_id == slash.mount_id or m.parent_id in ids for m in mounts)
    expected = {m["destination"] for m in b.config["mounts"]} | {"/"}
    expected |= set(b.linux["maskedPaths"]) | set(b.linux["readonlyPaths"])
    unexpected = {m.mountpoint for m in mounts} - expected
    assert not unexpected, f"host mounts visible in the container: {sorted(unexpected)}"
    out = values(result.stdout)
    assert out["root-ino"] == out["parent-ino"]  # / is its own parent: nothing above it


# ---- config-linux.md "Masked Paths" ---------------------------------------------------------


def test_masked_file_reads_empty(bundle, run, test_dir):
    """/proc/kcore, the spec's example, does not exist on this kernel (no CONFIG_PROC_KCORE):
    /proc/timer_list (non-empty for root) and a bound host file stand in for it."""
    assert Path("/proc/timer_list").read_text(), "the host's /proc/timer_list should not be empty"
    secret = test_dir / "secret"
    secret.write_text("secret")
    b = bundle().shell("echo timer_list=$(wc -c < /proc/timer_list); "
                       "echo secret=$(wc -c < /tmp/secret); "
                       "stat -c 'secret-node=%F %t:%T' /tmp/secret")
    b.add_mount("/tmp/secret", "bind", str(secret), ["bind", "ro"])
    b.linux["maskedPaths"] = ["/proc/timer_list", "/tmp/secret"]
    out = values(run_ok(run, b).stdout)
    assert out["timer_list"] == "0"
    assert out["secret"] == "0"
    assert out["secret-node"] == "character special file 1:3"  # the null device


def test_masked_directory_is_an_empty_read_only_directory(bundle, run, test_dir):
    assert os.listdir("/sys/firmware"), "the host's /sys/firmware should not be empty"
    data = test_dir / "data"
    data.mkdir()
    (data / "hidden").write_text("hidden")
    b = bundle().shell("echo firmware=$(ls -A /sys/firmware); echo data=$(ls -A /tmp/data); "
                       "touch /tmp/data/new 2>&1; cat /proc/self/mountinfo")
    b.add_mount("/tmp/data", "bind", str(data), ["bind"])  # writable before it is masked
    b.linux["maskedPaths"] = ["/sys/firmware", "/tmp/data"]
    result = run_ok(run, b)
    out = values(result.stdout)
    assert out["firmware"] == "" and out["data"] == ""
    assert "Read-only file system" in output(result)
    mounts = parse_mountinfo(result.stdout)
    for path in ("/sys/firmware", "/tmp/data"):
        assert "ro" in mount_at(mounts, path).options, path
    assert not (data / "new").exists()


def test_missing_masked_path_is_ignored(bundle, run, rootfs):
    b = bundle().shell("echo ran")
    b.linux["maskedPaths"] = ["/proc/does-not-exist", "/no/such/dir", "/proc/timer_list"]
    result = run_ok(run, b)
    assert result.stdout == "ran\n"
    assert not (rootfs / "no").exists()  # nothing was created for it


# ---- config-linux.md "Readonly Paths" -------------------------------------------------------


def test_readonly_path_makes_writes_fail_with_erofs(bundle, run, test_dir):
    data = test_dir / "data"
    data.mkdir()
    b = bundle().shell("echo 1 > /proc/sys/net/ipv4/ip_forward 2>&1; "
                       "echo x > /tmp/data/new 2>&1; cat /proc/self/mountinfo")
    b.add_mount("/tmp/data", "bind", str(data), ["bind", "rw"])
    b.linux["readonlyPaths"] = ["/proc/sys", "/tmp/data"]
    result = run_ok(run, b)
    assert output(result).count("Read-only file system") == 2
    mounts = parse_mountinfo(result.stdout)
    for path in ("/proc/sys", "/tmp/data"):
        assert "ro" in mount_at(mounts, path).options, path
    assert not (data / "new").exists()


def test_readonly_path_is_writable_without_the_entry(bundle, run):
    """The control for the test above: the same write succeeds when /proc/sys is not listed (the
    container has a network namespace of its own, so this changes nothing on the host; writing a
    net sysctl takes CAP_NET_ADMIN over it)."""
    host = Path("/proc/sys/net/ipv4/ip_forward").read_text()
    b = bundle().shell("echo 1 > /proc/sys/net/ipv4/ip_forward && "
                       "echo value=$(cat /proc/sys/net/ipv4/ip_forward)")
    b.linux["readonlyPaths"] = []
    for caps in b.process["capabilities"].values():
        caps.append("CAP_NET_ADMIN")
    assert values(run_ok(run, b).stdout)["value"] == "1"
    assert Path("/proc/sys/net/ipv4/ip_forward").read_text() == host


def test_missing_readonly_path_is_ignored(bundle, run, rootfs):
    b = bundle().shell("echo ran")
    b.linux["readonlyPaths"] = ["/proc/does-not-exist", "/no/such/dir", "/proc/sys"]
    result = run_ok(run, b)
    assert result.stdout == "ran\n"
    assert not (rootfs / "no").exists()


# ---- config-linux.md "Sysctl" ---------------------------------------------------------------


def read_sysctl(key):
    return Path("/proc/sys", key.replace(".", "/")).read_text().strip()


def test_namespaced_sysctls_apply_inside_and_leave_the_host_unchanged(bundle, run):
    host_forward, host_shmmax = read_sysctl("net.ipv4.ip_forward"), read_sysctl("kernel.shmmax")
    forward = "0" if host_forward == "1" else "1"
    shmmax = "123456789" if host_shmmax != "123456789" else "987654321"
    b = bundle().shell("echo forward=$(cat /proc/sys/net/ipv4/ip_forward); "
                       "echo shmmax=$(cat /proc/sys/kernel/shmmax)")
    b.linux["sysctl"] = {"net.ipv4.ip_forward": forward, "kernel.shmmax": shmmax}
    out = values(run_ok(run, b).stdout)
    assert out["forward"] == forward
    assert out["shmmax"] == shmmax
    assert read_sysctl("net.ipv4.ip_forward") == host_forward
    assert read_sysctl("kernel.shmmax") == host_shmmax


@pytest.mark.parametrize("key,value,remove_namespace,why", [
    ("vm.swappiness", "7", None, "not namespaced"),
    ("net.ipv4.ip_forward", "1", "network", "needs a network namespace"),
    ("kernel.shmmax", "123456789", "ipc", "needs a ipc namespace"),
])
def test_sysctl_that_would_change_the_host_is_refused(bundle, run, key, value,
                                                      remove_namespace, why):
    host = read_sysctl(key)
    b = bundle().shell("echo ran")
    b.linux["sysctl"] = {key: value}
    if remove_namespace:
        b.remove_namespace(remove_namespace)
    result = run(b)
    assert result.returncode != 0
    assert "ran" not in result.stdout
    assert f'linux.sysctl["{key}"]' in result.stderr
    assert why in result.stderr
    assert read_sysctl(key) == host
