"""linux.netDevices (config-linux.md "Network Devices", runtime-spec 1.3): host interfaces moved into
the container's network namespace before its process starts, renamed when the entry says so, with
their permanent global addresses, and up.

The interfaces are veth pairs made for each test with iproute2: one end is given to the container.
This machine has no physical interface to spare (its eth0 is its connectivity and is never
touched), so what the kernel does to a physical device when the namespace goes (it returns to the
host) is not exercised; a virtual one is destroyed with the namespace, its peer with it, and that
is checked. Whatever a test made that is still there at its end is deleted.

Addresses used are documentation ranges the host does not use (it has 192.0.2.0/24 on eth0), and
added with noprefixroute on an interface that is down: the host gets no route to them.
"""

import re
import shutil
import subprocess
import time
import uuid

import pytest

import ctrtest


def ip(*args, check=True):
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


def link_exists(name):
    return ip("link", "show", "dev", name, check=False).returncode == 0


@pytest.fixture
def veth():
    """veth() makes a veth pair on the host and returns (name, peer); both are deleted at the end
    of the test if they still exist."""
    if shutil.which("ip") is None:
        pytest.skip("iproute2's ip is not installed")
    made = []

    def make():
        suffix = uuid.uuid4().hex[:8]
        name, peer = f"ctrv{suffix}", f"ctrp{suffix}"
        result = ip("link", "add", name, "type", "veth", "peer", "name", peer, check=False)
        if result.returncode != 0:
            pytest.skip(f"cannot make a veth pair here: {result.stderr.strip()}")
        made.append((name, peer))
        return name, peer

    yield make
    for pair in made:
        for name in pair:
            if link_exists(name):
                ip("link", "del", "dev", name, check=False)


def links(text):
    """`ip -o link` output -> {name: set of flags}."""
    found = {}
    for line in text.splitlines():
        m = re.match(r"\d+: ([^:@\s]+)(?:@\S+)?: <([^>]*)>", line)
        if m:
            found[m.group(1)] = set(m.group(2).split(","))
    return found


def run_created(ctr, b, check_host, skip_if_refused=None):
    """Creates the container (the devices move now), calls check_host() while it exists, then runs
    its process to the end and deletes it. Returns what the process wrote to /tmp/out/out (/tmp
    is the container's tmpfs: a root mapped to another uid can make the mount point there).
    With skip_if_refused (a reason), a create the kernel refuses (EPERM) skips the test."""
    out = b.path.parent / f"{b.path.name}-out"
    out.mkdir()
    out.chmod(0o777)
    b.add_mount("/tmp/out", source=str(out), options=["rbind", "rw"])
    cid = ctrtest.new_id()
    result = ctr("create", "--bundle", b.write(), cid)
    if result.returncode != 0 and skip_if_refused and "Operation not permitted" in result.stderr:
        pytest.skip(f"{skip_if_refused}: {result.stderr.strip()}")
    assert result.returncode == 0, result.stderr
    try:
        check_host()
        ctr("start", cid, check=True)
        deadline = time.monotonic() + 10
        while not (out / "done").exists() and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        ctr("delete", "--force", cid, check=True)
    return (out / "out").read_text()


def show_links_script(device):
    return (f"cd /tmp/out; ip -o link > out; echo ADDR >> out; ip -o addr show dev {device} >> out;"
            f" ls /sys/class/net >> out; touch done")


def wait_gone(names, timeout=5.0):
    """A namespace is cleaned up asynchronously after its last process exits."""
    deadline = time.monotonic() + timeout
    while any(link_exists(n) for n in names) and time.monotonic() < deadline:
        time.sleep(0.05)
    return [n for n in names if link_exists(n)]


def test_net_device_is_moved_in_under_its_host_name_and_set_up(ctr, bundle, veth):
    name, peer = veth()
    b = bundle().shell(show_links_script(name))
    b.linux["netDevices"] = {name: {}}

    def gone_from_host():
        assert not link_exists(name), "the device is still in the host's namespace"
        assert link_exists(peer)

    output = run_created(ctr, b, gone_from_host)
    inside = links(output)
    assert name in inside, output
    assert "UP" in inside[name]  # "the runtime MUST set the network device state to up"
    assert name in output.split("ADDR")[1].split()  # /sys/class/net of the container's sysfs
    # A virtual device is destroyed with the namespace; its peer goes with it.
    assert wait_gone([name, peer]) == []


def test_net_device_is_renamed_to_the_entry_name(ctr, bundle, veth):
    name, _ = veth()
    b = bundle().shell(show_links_script("ctr0"))
    b.linux["netDevices"] = {name: {"name": "ctr0"}}
    output = run_created(ctr, b, lambda: None)
    inside = links(output)
    assert "ctr0" in inside and name not in inside, output
    assert "UP" in inside["ctr0"]


def test_net_device_name_template_is_filled_by_the_kernel(ctr, bundle, veth):
    name, _ = veth()
    b = bundle().shell(show_links_script("eth0"))
    b.linux["netDevices"] = {name: {"name": "eth%d"}}
    output = run_created(ctr, b, lambda: None)
    # The container's namespace has only lo: the first free number is 0.
    assert "eth0" in links(output), output


def test_net_device_keeps_its_permanent_global_addresses(ctr, bundle, veth):
    name, _ = veth()
    ip("addr", "add", "198.51.100.7/24", "dev", name, "noprefixroute")
    ip("addr", "add", "2001:db8:7::7/64", "dev", name, "nodad", "noprefixroute")
    b = bundle().shell(show_links_script("ctr1"))
    b.linux["netDevices"] = {name: {"name": "ctr1"}}
    output = run_created(ctr, b, lambda: None)
    addresses = output.split("ADDR")[1]
    assert "inet 198.51.100.7/24" in addresses, output
    assert "inet6 2001:db8:7::7/64" in addresses, output


def test_net_device_missing_on_the_host_is_an_error_naming_it(run, bundle):
    b = bundle(["true"])
    b.linux["netDevices"] = {"ctrnosuch0": {}}
    result = run(b)
    assert result.returncode != 0
    assert 'linux.netDevices["ctrnosuch0"]: no such network interface on the host' in result.stderr


def test_net_device_name_taken_in_the_container_is_an_error(run, bundle, veth):
    name, peer = veth()
    b = bundle(["true"])
    b.linux["netDevices"] = {name: {"name": "lo"}}
    result = run(b)
    assert result.returncode != 0
    assert (f'linux.netDevices["{name}"]: the container\'s network namespace has a `lo` already'
            in result.stderr)
    # Checked before the move: the device never left the host.
    assert link_exists(name) and link_exists(peer)


def test_net_devices_need_a_network_namespace(run, bundle, veth):
    name, _ = veth()
    b = bundle(["true"]).remove_namespace("network")
    b.linux["netDevices"] = {name: {}}
    result = run(b)
    assert result.returncode != 0
    assert "linux.netDevices: needs a network namespace in linux.namespaces" in result.stderr
    assert link_exists(name)


def test_net_device_is_moved_into_a_container_with_a_user_namespace(ctr, bundle, veth):
    name, peer = veth()
    b = bundle().map_root_to(100000).shell(show_links_script("ctr2"))
    b.linux["netDevices"] = {name: {"name": "ctr2"}}
    output = run_created(ctr, b, lambda: None,
                         skip_if_refused="this kernel does not let a device move into a network "
                                         "namespace owned by a user namespace")
    inside = links(output)
    assert "ctr2" in inside, output
    assert "UP" in inside["ctr2"]
    assert wait_gone([peer]) == []


def test_net_device_is_moved_in_on_the_fork_path(ctr, bundle, veth, uts_namespace):
    name, _ = veth()
    b = bundle().map_root_to(100000).shell(show_links_script("ctr3"))
    b.add_namespace("uts", path=uts_namespace)
    del b.config["hostname"]  # the UTS namespace is not the container's own
    b.linux["netDevices"] = {name: {"name": "ctr3"}}
    output = run_created(ctr, b, lambda: None)
    assert "ctr3" in links(output), output
