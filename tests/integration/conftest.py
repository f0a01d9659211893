"""Fixtures for libctr's integration tests: real containers, run as root, from a busybox rootfs.

    ctr_run     path of the ctr-run binary ($CTR_RUN, else $CTR_BUILD_DIR/cli/ctr-run, else
                build/cli/ctr-run in the repository)
    build_dir   the meson build directory ($CTR_BUILD_DIR, else build/)
    rootfs      (session) a busybox rootfs made by tests/rootfs.sh in a temporary directory
    bundle      factory: bundle(args=None) -> ctrtest.Bundle with the default configuration
    ctr_root    this test's --root state directory (created by ctr-run; must be empty at the end)
    ctr         ctr(*args) runs `ctr-run --root ctr_root ARGS...`
    run         run(bundle, id=None) runs `ctr-run --root ctr_root run --bundle B ID`
    detached    detached(configure=None, ...) starts a container with `run --detach`, returns its
                id, and deletes it at the end of the test
    private_rootfs  factory: a small busybox rootfs of the test's own, which it may change
    uts_namespace   the path of a UTS namespace held by a helper process for the test

Every test is followed by a leak check (autouse): a mount, a cgroup, a process or a container
state directory that the test left behind fails it with the list, and is cleaned up so the next
test starts from a clean host.
"""

import itertools
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

import ctrtest

REPO = Path(__file__).resolve().parents[2]


def pytest_collection_modifyitems(config, items):
    if os.geteuid() != 0:
        skip = pytest.mark.skip(reason="integration tests need root: they create namespaces, "
                                       "mounts and cgroups")
        for item in items:
            item.add_marker(skip)


# ---- the binaries under test ----

def _build_dir():
    return Path(os.environ.get("CTR_BUILD_DIR", REPO / "build")).resolve()


def _ctr_run_path():
    return Path(os.environ.get("CTR_RUN", _build_dir() / "cli" / "ctr-run")).resolve()


@pytest.fixture(scope="session", autouse=True)
def default_cgroup_parents_removed():
    """ctr-run's default cgroup parent (`ctr` in each hierarchy) is shared by all containers; when
    two run at once, the one that made it cannot remove it (the other's cgroup is inside) and the
    last one out did not make it, so it stays, empty, as the runtime means it to (an administrator
    may have made it, with limits for all containers). The session removes the ones it caused."""
    def parents():
        return {Path(h) / "ctr" for h in ctrtest.cgroup_hierarchies() if (Path(h) / "ctr").is_dir()}

    before = parents()
    yield
    for parent in sorted(parents() - before):
        try:
            parent.rmdir()  # only ever succeeds on an empty cgroup
        except OSError:
            pass


@pytest.fixture(scope="session")
def build_dir():
    path = _build_dir()
    if not (path / "build.ninja").is_file():
        pytest.fail(f"{path} is not a meson build directory: run tests/setup.sh "
                    "(or set CTR_BUILD_DIR)", pytrace=False)
    return path


@pytest.fixture(scope="session")
def ctr_run():
    path = _ctr_run_path()
    if not os.access(path, os.X_OK):
        # A missing binary is a broken build, not a reason to skip: fail loudly.
        pytest.fail(f"ctr-run not found at {path}: build it (tests/setup.sh) or set CTR_RUN",
                    pytrace=False)
    return path


# ---- directories ----

@pytest.fixture(scope="session")
def workdir():
    """The session's scratch directory. Not pytest's tmp_path: that is mode 0700, and a container
    whose root maps to an unprivileged host uid must be able to traverse to its rootfs and bind
    mount sources. Kept when CTR_TEST_KEEP=1."""
    path = Path(tempfile.mkdtemp(prefix="ctr-test-"))
    path.chmod(0o755)
    yield path
    if os.environ.get("CTR_TEST_KEEP") == "1":
        print(f"\nkeeping {path}")
        return
    still_mounted = ctrtest.mounts_below(path)
    if still_mounted:
        # rm -rf would descend into them; leave everything for a human to look at.
        print(f"\nnot removing {path}: still mounted below it: "
              + ", ".join(m.mountpoint for m in still_mounted))
        return
    ctrtest.remove_tree(path)


@pytest.fixture(scope="session")
def rootfs(workdir):
    path = workdir / "rootfs"
    subprocess.run([str(REPO / "tests" / "rootfs.sh"), str(path)], check=True)
    return path


_test_numbers = itertools.count(1)


@pytest.fixture
def test_dir(workdir, request):
    """A fresh directory for this test, named after it (and numbered: names repeat)."""
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in request.node.name)[:80]
    path = workdir / f"{next(_test_numbers):04d}-{name}"
    path.mkdir()
    path.chmod(0o755)  # whatever the umask: see workdir
    return path


@pytest.fixture
def ctr_root(test_dir):
    """This test's ctr-run --root. Not created here: making it is ctr-run's job."""
    return test_dir / "state"


# ---- the leak check ----

@pytest.fixture(autouse=True)
def no_leaks(ctr_root):
    """Fails the test if it left a mount, a cgroup, a process or container state behind.

    Being autouse and function-scoped, it is set up before the test's other fixtures and torn
    down after them, so what those fixtures clean up is not reported."""
    before = ctrtest.HostState.capture()
    yield
    leaks = ctrtest.wait_for_no_leaks(before, ctr_root)
    if not leaks:
        return

    def delete_container(state_dir):
        ctr_run = _ctr_run_path()
        if os.access(ctr_run, os.X_OK):
            try:
                subprocess.run([str(ctr_run), "--root", str(ctr_root), "delete", "--force",
                                Path(state_dir).name], stdin=subprocess.DEVNULL,
                               capture_output=True, timeout=10, check=False)
            except subprocess.TimeoutExpired:
                pass  # clean_up() still kills, removes and unmounts what it found

    errors = ctrtest.clean_up(leaks, delete_container)
    message = "the test left behind:\n" + leaks.describe()
    if errors:
        message += "\nand cleaning up failed:\n" + "\n".join(f"  {e}" for e in errors)
    pytest.fail(message, pytrace=False)


# ---- running containers ----

@pytest.fixture
def bundle(test_dir, rootfs):
    """bundle(args=None) makes a new bundle directory with the default configuration
    (ctrtest.default_config) rooted at the session's rootfs; tweak it through the returned
    ctrtest.Bundle before running it."""
    made = 0

    def make(args=None):
        nonlocal made
        made += 1
        return ctrtest.Bundle(test_dir / f"bundle{made}", ctrtest.default_config(rootfs, args))

    return make


@pytest.fixture
def ctr(ctr_run, ctr_root):
    """ctr(*args, timeout=..., input=None, check=False, env=None) runs
    `ctr-run --root ctr_root ARGS...` with ctrtest.run_command and returns the
    subprocess.CompletedProcess with its stdout and stderr as text. With check=True a non-zero
    exit fails the test, showing the output."""

    def call(*args, timeout=ctrtest.DEFAULT_TIMEOUT, input=None, check=False, env=None):
        return ctrtest.run_command([ctr_run, "--root", ctr_root, *args], env=env,
                                   timeout=timeout, input=input, check=check)

    return call


@pytest.fixture
def run(ctr):
    """run(bundle, id=None, ...) writes the bundle's config.json and runs it to completion with
    `ctr-run run --bundle B ID` (a fresh ctr-test-* id by default). Returns the CompletedProcess,
    with the id as `.container_id`. Other keyword arguments go to ctr()."""

    def call(bundle, id=None, **kwargs):
        container_id = id or ctrtest.new_id()
        path = bundle.write() if isinstance(bundle, ctrtest.Bundle) else bundle
        result = ctr("run", "--bundle", path, container_id, **kwargs)
        result.container_id = container_id
        return result

    return call


@pytest.fixture
def detached(ctr, bundle):
    """detached(configure=None, args=("sleep", "100"), cgroups_path=None) starts a container from a
    new bundle with `ctr-run run --detach` (which must succeed) and returns its id.
    `configure(bundle)` may change the bundle first; `cgroups_path` is a linux.cgroupsPath with
    `{id}` for the container's id. Every container started is deleted with --force at the end of
    the test, whether it passed or not."""
    started = []

    def start(configure=None, args=("sleep", "100"), cgroups_path=None):
        b = bundle(list(args))
        if configure:
            configure(b)
        cid = ctrtest.new_id()
        if cgroups_path is not None:
            b.linux["cgroupsPath"] = cgroups_path.format(id=cid)
        started.append(cid)
        ctr("run", "--detach", "--bundle", b.write(), cid, check=True)
        return cid

    yield start
    for cid in started:
        ctr("delete", "--force", cid)


# ---- for tests that need more than the shared rootfs ----

# The applets the tests' scripts use; a private rootfs gets a symlink for each.
APPLETS = ["sh", "cat", "echo", "ls", "stat", "touch", "mkdir", "readlink", "grep", "test",
           "wc", "true", "head", "rm", "ln"]


@pytest.fixture
def private_rootfs(test_dir):
    """private_rootfs(name="rootfs") makes a small busybox rootfs of the test's own, which the test
    may plant symlinks in or let the container write to: /bin/busybox with the APPLETS links,
    /etc/passwd and /etc/group, empty /proc /sys /tmp and (unless dev=False) /dev. Removed
    afterwards."""
    made = []

    def make(name="rootfs", dev=True, parent=None):
        root = Path(parent or test_dir) / name
        for d in ["bin", "etc", "proc", "sys", "tmp"] + (["dev"] if dev else []):
            (root / d).mkdir(parents=True, exist_ok=True)
        root.chmod(0o755)
        (root / "tmp").chmod(0o1777)
        shutil.copy2("/bin/busybox", root / "bin" / "busybox")
        for applet in APPLETS:
            (root / "bin" / applet).symlink_to("busybox")
        (root / "etc" / "passwd").write_text("root:x:0:0:root:/:/bin/sh\n")
        (root / "etc" / "group").write_text("root:x:0:\ntty:x:5:\n")
        made.append(root)
        return root

    yield make
    for root in made:
        ctrtest.remove_tree(root)


@pytest.fixture
def uts_namespace():
    """A UTS namespace held by a helper process for the test: joining it by path makes the runtime
    take its general (fork, then setns/unshare) path instead of one clone3."""
    helper = subprocess.Popen(["unshare", "--uts", "sleep", "100"])
    try:
        ns = f"/proc/{helper.pid}/ns/uts"
        deadline = time.monotonic() + 5
        while os.readlink(ns) == os.readlink("/proc/self/ns/uts"):
            assert time.monotonic() < deadline, "unshare did not make a UTS namespace"
            time.sleep(0.01)
        yield ns
    finally:
        helper.kill()
        helper.wait()
