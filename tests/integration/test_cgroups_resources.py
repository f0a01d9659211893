"""Every field of linux.resources on this host (hybrid: cgroup v1 controllers, plus a cgroup2 tree
with only hugetlb): each one the kernel offers is checked in its cgroup file and, where cheap, by
its effect; each one it does not offer is refused with an error naming the field and the file or
controller, and leaves nothing behind. (test_cgroups.py covers the basics: memory and pids limits,
cpu shares/quota/period, cpuset, paths, the v2 view; a pure cgroup v2 host is test_cgroup_v2_vm.py.)

A container to look at while it runs is started with `run --detach` and removed with
`delete --force`; what it does in the background is waited for by polling its cgroup files, with a
deadline.
"""

import json
import os
import time
from pathlib import Path

import pytest

import ctrtest

CGROUP = Path("/sys/fs/cgroup")
MiB = 1 << 20


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------

def v1(controller):
    """The host's v1 hierarchy of `controller`, or skips saying it is not mounted."""
    for mount in ctrtest.read_mounts():
        if mount.fstype == "cgroup" and mount.mountpoint == str(CGROUP / controller):
            return CGROUP / controller
    pytest.skip(f"the cgroup v1 {controller} controller is not mounted on this host")


def v2_tree():
    """The cgroup2 tree of this hybrid host, or skips."""
    unified = CGROUP / "unified"
    if not (unified / "cgroup.controllers").exists():
        pytest.skip("this host has no cgroup2 tree at /sys/fs/cgroup/unified")
    return unified


def cgroup_file(hierarchy, cid, name, parent="ctr"):
    return hierarchy / parent / cid / name if parent else hierarchy / cid / name


def read(path):
    return Path(path).read_text().strip()


def wait_for(predicate, what):
    ctrtest.wait_for(predicate, what, timeout=15.0)


def root_disk():
    """major:minor of the whole disk under /, or skips (throttles apply to whole disks)."""
    st = os.stat("/")
    devno = f"{os.major(st.st_dev)}:{os.minor(st.st_dev)}"
    if not Path(f"/sys/dev/block/{devno}").exists() or \
            Path(f"/sys/dev/block/{devno}/partition").exists():
        pytest.skip(f"the root file system ({devno}) is not on a whole block device")
    return os.major(st.st_dev), os.minor(st.st_dev)


def refused(ctr, bundle, resources, *parts):
    """Running a container with `resources` fails, and the error names every one of `parts`."""
    b = bundle()
    b.linux["resources"].update(resources)
    result = ctr("run", "--bundle", b.write(), ctrtest.new_id())
    assert result.returncode != 0, "the runtime accepted it"
    for part in parts:
        assert part in result.stderr, f"{part!r} not in: {result.stderr}"
    return result.stderr


def resources(**groups):
    return lambda b: b.linux["resources"].update(groups)


def stats(ctr, cid):
    event = json.loads(ctr("events", "--stats", cid, check=True).stdout)
    assert event["type"] == "stats" and event["id"] == cid
    return event["data"]


# --------------------------------------------------------------------------------------------
# memory
# --------------------------------------------------------------------------------------------

def test_memory_reservation_is_the_soft_limit(detached):
    memory = v1("memory")
    cid = detached(resources(memory={"limit": 64 * MiB, "reservation": 32 * MiB}))
    assert read(cgroup_file(memory, cid, "memory.soft_limit_in_bytes")) == str(32 * MiB)


def test_memory_swap_is_the_memory_plus_swap_limit(detached):
    memory = v1("memory")
    if not (memory / "memory.memsw.limit_in_bytes").exists():
        pytest.skip("swap accounting is off on this kernel (no memory.memsw.limit_in_bytes)")
    cid = detached(resources(memory={"limit": 64 * MiB, "swap": 96 * MiB}))
    assert read(cgroup_file(memory, cid, "memory.limit_in_bytes")) == str(64 * MiB)
    assert read(cgroup_file(memory, cid, "memory.memsw.limit_in_bytes")) == str(96 * MiB)


def test_memory_swap_below_the_limit_is_refused_naming_the_file(ctr, bundle):
    memory = v1("memory")
    if not (memory / "memory.memsw.limit_in_bytes").exists():
        pytest.skip("swap accounting is off on this kernel")
    refused(ctr, bundle, {"memory": {"limit": 64 * MiB, "swap": 32 * MiB}},
            "linux.resources.memory.swap", "memory.memsw.limit_in_bytes")


def test_memory_swappiness_is_written(detached):
    memory = v1("memory")
    cid = detached(resources(memory={"swappiness": 17}))
    assert read(cgroup_file(memory, cid, "memory.swappiness")) == "17"


def test_memory_kernel_tcp_limit_is_written(detached):
    memory = v1("memory")
    if not (memory / "memory.kmem.tcp.limit_in_bytes").exists():
        pytest.skip("this kernel has no kernel TCP memory limit")
    cid = detached(resources(memory={"kernelTCP": 8 * MiB}))
    assert read(cgroup_file(memory, cid, "memory.kmem.tcp.limit_in_bytes")) == str(8 * MiB)


def test_memory_kernel_limit_is_refused_where_the_kernel_ignores_it(ctr, bundle):
    v1("memory")
    refused(ctr, bundle, {"memory": {"kernel": 8 * MiB}}, "linux.resources.memory.kernel",
            "kernel memory limits were removed")


def test_memory_use_hierarchy_true_is_written_and_false_is_refused(ctr, bundle, detached):
    memory = v1("memory")
    cid = detached(resources(memory={"useHierarchy": True}))
    assert read(cgroup_file(memory, cid, "memory.use_hierarchy")) == "1"
    # Kernels since 5.x are always hierarchical and refuse 0: said, not skipped.
    refused(ctr, bundle, {"memory": {"useHierarchy": False}}, "linux.resources.memory.useHierarchy",
            "memory.use_hierarchy")


def test_oom_kill_is_counted_in_the_containers_cgroup(detached):
    """A hog past the limit is killed by the OOM killer, and the kill is counted where the
    runtime reads OOM events (memory.oom_control's oom_kill)."""
    memory = v1("memory")
    cid = detached(resources(memory={"limit": 16 * MiB}),
                   args=["sh", "-c", "dd if=/dev/zero of=/dev/null bs=64M count=1; sleep 100"])
    control = cgroup_file(memory, cid, "memory.oom_control")
    wait_for(lambda: "oom_kill 1" in read(control), "oom_kill 1 in memory.oom_control")


def test_disable_oom_killer_stalls_the_hog_instead_of_killing_it(ctr, detached):
    memory = v1("memory")
    # The hog touches its memory from user space (awk doubling a string): a charge that fails
    # in a kernel copy (dd's read into its buffer) may just fail the read instead of waiting.
    hog = "awk 'BEGIN { s = \"x\"; while (1) s = s s }'"
    cid = detached(resources(memory={"limit": 16 * MiB, "disableOOMKiller": True}),
                   args=["sh", "-c", hog])
    control = cgroup_file(memory, cid, "memory.oom_control")
    assert "oom_kill_disable 1" in read(control)
    wait_for(lambda: "under_oom 1" in read(control), "under_oom 1 in memory.oom_control")
    assert "oom_kill 0" in read(control)
    # The stalled container is still removable (fixture: delete --force).


def test_check_before_update_refuses_a_limit_below_the_usage(ctr, detached):
    memory = v1("memory")
    cid = detached(resources(memory={"limit": 64 * MiB}),
                   args=["sh", "-c", "dd if=/dev/zero of=/dev/shm/fill bs=1M count=8; sleep 100"])
    usage = cgroup_file(memory, cid, "memory.usage_in_bytes")
    wait_for(lambda: int(read(usage)) >= 8 * MiB, "8 MiB of usage")
    body = {"memory": {"limit": 2 * MiB, "checkBeforeUpdate": True}}
    result = ctr("update", "--resources", "-", cid, input=json.dumps(body))
    assert result.returncode != 0
    assert "below the current usage" in result.stderr, result.stderr
    assert read(cgroup_file(memory, cid, "memory.limit_in_bytes")) == str(64 * MiB)


# --------------------------------------------------------------------------------------------
# cpu
# --------------------------------------------------------------------------------------------

def test_cpu_burst_is_written(detached):
    cpu = v1("cpu")
    if not (cpu / "cpu.cfs_burst_us").exists():
        pytest.skip("this kernel has no CFS burst (cpu.cfs_burst_us)")
    cid = detached(resources(cpu={"quota": 50000, "period": 100000, "burst": 20000}))
    assert read(cgroup_file(cpu, cid, "cpu.cfs_burst_us")) == "20000"


def test_cpu_idle_is_written(detached):
    cpu = v1("cpu")
    if not (cpu / "cpu.idle").exists():
        pytest.skip("this kernel has no SCHED_IDLE cgroups (cpu.idle)")
    cid = detached(resources(cpu={"idle": 1}))
    assert read(cgroup_file(cpu, cid, "cpu.idle")) == "1"


def test_cpu_realtime_period_and_runtime_are_written(detached):
    cpu = v1("cpu")
    if not (cpu / "cpu.rt_runtime_us").exists():
        pytest.skip("this kernel has no realtime group scheduling")
    # Right below the root, whose realtime budget it borrows from (ctr-test-*: leak-checked).
    cid = detached(resources(cpu={"realtimePeriod": 1000000, "realtimeRuntime": 20000}),
                   cgroups_path="/{id}")
    assert read(cgroup_file(cpu, cid, "cpu.rt_period_us", parent=None)) == "1000000"
    assert read(cgroup_file(cpu, cid, "cpu.rt_runtime_us", parent=None)) == "20000"


def test_cpu_realtime_runtime_beyond_the_parents_budget_is_refused(ctr, bundle):
    cpu = v1("cpu")
    if not (cpu / "cpu.rt_runtime_us").exists():
        pytest.skip("this kernel has no realtime group scheduling")
    refused(ctr, bundle, {"cpu": {"realtimeRuntime": 990000}},
            "linux.resources.cpu.realtimeRuntime", "cpu.rt_runtime_us", '"990000"')


# --------------------------------------------------------------------------------------------
# pids
# --------------------------------------------------------------------------------------------

def test_fork_bomb_stops_at_pids_max_and_is_counted(detached):
    pids = v1("pids")
    bomb = "i=0; while [ $i -lt 40 ]; do sleep 100 & i=$((i+1)); done; sleep 100"
    cid = detached(resources(pids={"limit": 10}), args=["sh", "-c", bomb])
    events = cgroup_file(pids, cid, "pids.events")
    wait_for(lambda: read(events) != "max 0", "a refused fork in pids.events")
    assert int(read(cgroup_file(pids, cid, "pids.current"))) <= 10


# --------------------------------------------------------------------------------------------
# block I/O
# --------------------------------------------------------------------------------------------

def blkio_file(blkio, name):
    """blkio.<name>, or BFQ's blkio.bfq.<name> where CFQ's is gone (as the runtime picks)."""
    probe = blkio / "ctr"
    if (probe / f"blkio.{name}").exists() or not (probe / f"blkio.bfq.{name}").exists():
        return f"blkio.{name}"
    return f"blkio.bfq.{name}"


def test_blkio_weight_is_written(detached):
    blkio = v1("blkio")
    cid = detached(resources(blockIO={"weight": 300}))
    name = blkio_file(blkio, "weight")
    if not cgroup_file(blkio, cid, name).exists():
        pytest.skip("no blkio weight file (neither CFQ nor BFQ)")
    assert read(cgroup_file(blkio, cid, name)).split()[-1] == "300"


def test_blkio_leaf_weight_is_refused_naming_the_file(ctr, bundle):
    blkio = v1("blkio")
    if (blkio / "ctr" / "blkio.leaf_weight").exists():
        pytest.skip("this kernel has CFQ's leaf weights")
    refused(ctr, bundle, {"blockIO": {"leafWeight": 300}}, "linux.resources.blockIO.leafWeight",
            "blkio.leaf_weight")


def test_blkio_throttles_are_written_for_the_root_disk(detached):
    blkio = v1("blkio")
    major, minor = root_disk()
    dev = {"major": major, "minor": minor}
    cid = detached(resources(blockIO={
        "throttleReadBpsDevice": [dict(dev, rate=4 * MiB)],
        "throttleWriteBpsDevice": [dict(dev, rate=2 * MiB)],
        "throttleReadIOPSDevice": [dict(dev, rate=300)],
        "throttleWriteIOPSDevice": [dict(dev, rate=200)]}))
    for name, rate in (("read_bps_device", 4 * MiB), ("write_bps_device", 2 * MiB),
                       ("read_iops_device", 300), ("write_iops_device", 200)):
        assert read(cgroup_file(blkio, cid, f"blkio.throttle.{name}")) == \
            f"{major}:{minor} {rate}"


def test_blkio_read_throttle_slows_direct_reads(bundle, run, test_dir):
    """2 MiB read with O_DIRECT (no page cache) at 1 MiB/s takes about two seconds."""
    v1("blkio")
    major, minor = root_disk()
    node = test_dir / "disk"
    os.mknod(node, 0o600 | 0o060000, os.makedev(major, minor))
    try:
        os.close(os.open(node, os.O_RDONLY))
    except PermissionError as e:
        pytest.skip(f"even the host may not open its root disk {major}:{minor} here: {e}")
    finally:
        node.unlink()
    b = bundle()
    b.linux["resources"]["blockIO"] = {
        "throttleReadBpsDevice": [{"major": major, "minor": minor, "rate": MiB}]}
    b.linux["resources"]["devices"].append(
        {"allow": True, "type": "b", "major": major, "minor": minor, "access": "r"})
    b.shell(f"mknod /dev/disk b {major} {minor} && "
            "dd if=/dev/disk of=/dev/null bs=256k count=8 iflag=direct 2>&1")
    start = time.monotonic()
    result = run(b)
    elapsed = time.monotonic() - start
    if "direct" in result.stdout and result.returncode != 0:
        pytest.skip(f"busybox dd lacks iflag=direct: {result.stdout.strip()}")
    assert result.returncode == 0, result.stdout + result.stderr
    # The first second's budget is granted at once: at least a second for the rest.
    assert elapsed >= 0.9, f"2 MiB at 1 MiB/s took only {elapsed:.2f}s"


def test_blkio_weight_device_on_a_disk_without_a_weight_scheduler_is_refused(ctr, bundle):
    v1("blkio")
    major, minor = root_disk()
    scheduler = Path(f"/sys/dev/block/{major}:{minor}/queue/scheduler").read_text()
    if "[bfq]" in scheduler or "[cfq]" in scheduler:
        pytest.skip(f"the root disk uses a weight-based scheduler: {scheduler.strip()}")
    refused(ctr, bundle,
            {"blockIO": {"weightDevice": [{"major": major, "minor": minor, "weight": 200}]}},
            "linux.resources.blockIO.weightDevice[0].weight", "weight_device",
            f"{major}:{minor} 200")


# --------------------------------------------------------------------------------------------
# hugetlb, network, rdma, unified
# --------------------------------------------------------------------------------------------

def test_hugepage_limit_goes_to_the_v2_tree_of_a_hybrid_host(detached):
    if (CGROUP / "hugetlb").is_dir():
        pytest.skip("this host has a v1 hugetlb hierarchy")
    unified = v2_tree()
    if "hugetlb" not in read(unified / "cgroup.controllers") or \
            not Path("/sys/kernel/mm/hugepages/hugepages-2048kB").is_dir():
        pytest.skip("no hugetlb controller with 2 MB pages in the cgroup2 tree")
    cid = detached(resources(hugepageLimits=[{"pageSize": "2MB", "limit": 4 * MiB}]))
    assert read(cgroup_file(unified, cid, "hugetlb.2MB.max")) == str(4 * MiB)
    # Reservations are limited too, or mmap could reserve past the limit.
    rsvd = cgroup_file(unified, cid, "hugetlb.2MB.rsvd.max")
    if rsvd.exists():
        assert read(rsvd) == str(4 * MiB)


def test_hugepage_size_the_kernel_lacks_is_refused_naming_the_file(ctr, bundle):
    v2_tree()
    refused(ctr, bundle, {"hugepageLimits": [{"pageSize": "16MB", "limit": 16 * MiB}]},
            "linux.resources.hugepageLimits[0]", "hugetlb.16MB")


def test_network_class_id_is_refused_without_net_cls(ctr, bundle):
    if (CGROUP / "net_cls").is_dir():
        pytest.skip("net_cls is mounted here")
    refused(ctr, bundle, {"network": {"classID": 0x100001}}, "linux.resources.network.classID",
            "`net_cls`")


def test_network_priorities_are_refused_without_net_prio(ctr, bundle):
    if (CGROUP / "net_prio").is_dir():
        pytest.skip("net_prio is mounted here")
    refused(ctr, bundle, {"network": {"priorities": [{"name": "eth0", "priority": 5}]}},
            "linux.resources.network.priorities", "`net_prio`")


def test_rdma_is_refused_without_the_rdma_controller(ctr, bundle):
    if (CGROUP / "rdma").is_dir():
        pytest.skip("rdma is mounted here")
    refused(ctr, bundle, {"rdma": {"mlx5_0": {"hcaHandles": 2}}}, "linux.resources.rdma",
            "`rdma`")


def test_unified_keys_go_to_the_v2_tree_of_a_hybrid_host(detached):
    unified = v2_tree()
    cid = detached(resources(unified={"cgroup.max.descendants": "4"}))
    assert read(cgroup_file(unified, cid, "cgroup.max.descendants")) == "4"


def test_unified_key_of_a_controller_v2_lacks_here_is_refused(ctr, bundle):
    unified = v2_tree()
    if "memory" in read(unified / "cgroup.controllers").split():
        pytest.skip("the cgroup2 tree has the memory controller here")
    refused(ctr, bundle, {"unified": {"memory.high": "1000000"}},
            'linux.resources.unified["memory.high"]', "`memory`")


# --------------------------------------------------------------------------------------------
# devices (v1 here)
# --------------------------------------------------------------------------------------------

# c 10:229 (/dev/fuse) is no default device, and any process may open it both ways when the
# cgroup lets it. (A subshell: a failed redirection of `:` ends the shell that runs it.)
OPEN_BOTH_WAYS = ("mknod /dev/x c 10 229; "
                  "if (: < /dev/x); then echo read-ok; else echo read-denied; fi; "
                  "if (: > /dev/x); then echo write-ok; else echo write-denied; fi")


def openable_device():
    v1("devices")
    try:
        os.close(os.open("/dev/fuse", os.O_RDWR))
    except OSError as e:
        pytest.skip(f"/dev/fuse (c 10:229) cannot be opened on this host: {e}")


def test_device_without_a_rule_cannot_be_opened(bundle, run):
    openable_device()
    result = run(bundle().shell(OPEN_BOTH_WAYS))
    assert result.stdout.split() == ["read-denied", "write-denied"], result.stderr
    assert "Operation not permitted" in result.stderr


def test_device_rules_apply_in_order_the_last_match_winning(bundle, run):
    openable_device()
    b = bundle().shell(OPEN_BOTH_WAYS)
    b.linux["resources"]["devices"] += [
        {"allow": True, "type": "c", "major": 10, "minor": 229, "access": "rwm"},
        {"allow": False, "type": "c", "major": 10, "minor": 229, "access": "w"}]
    assert run(b).stdout.split() == ["read-ok", "write-denied"]


def test_device_rules_are_what_devices_list_shows(detached):
    devices = v1("devices")
    cid = detached(resources(devices=[
        {"allow": False, "access": "rwm"},
        {"allow": True, "type": "c", "major": 10, "minor": 200, "access": "rwm"}]))
    listed = read(cgroup_file(devices, cid, "devices.list")).splitlines()
    assert "c 10:200 rwm" in listed
    assert "c 1:3 rwm" in listed  # a default device
    assert "a *:* rwm" not in listed


def test_update_replaces_the_device_rules(ctr, detached):
    devices = v1("devices")
    cid = detached()
    body = {"devices": [{"allow": False, "access": "rwm"},
                        {"allow": True, "type": "c", "major": 1, "minor": 11, "access": "r"}]}
    ctr("update", "--resources", "-", cid, input=json.dumps(body), check=True)
    listed = read(cgroup_file(devices, cid, "devices.list")).splitlines()
    assert "c 1:11 r" in listed and "c 1:3 rwm" in listed


def test_failed_update_puts_every_changed_limit_back(ctr, detached):
    pids, memory = v1("pids"), v1("memory")
    cid = detached(resources(memory={"limit": 64 * MiB}, pids={"limit": 50}))
    # memory and pids are written before cpuset, which the kernel refuses.
    body = {"memory": {"limit": 80 * MiB}, "pids": {"limit": 60}, "cpu": {"cpus": "4096"}}
    result = ctr("update", "--resources", "-", cid, input=json.dumps(body))
    assert result.returncode != 0
    assert "cpuset.cpus" in result.stderr and "were restored" in result.stderr, result.stderr
    assert read(cgroup_file(memory, cid, "memory.limit_in_bytes")) == str(64 * MiB)
    assert read(cgroup_file(pids, cid, "pids.max")) == "50"


# --------------------------------------------------------------------------------------------
# events --stats
# --------------------------------------------------------------------------------------------

def test_events_stats_has_runcs_shape(ctr, detached):
    cid = detached(resources(memory={"limit": 64 * MiB}, pids={"limit": 30}),
                   args=["sh", "-c", "dd if=/dev/zero of=/dev/shm/f bs=1M count=4; sleep 100"])
    memory = v1("memory")
    wait_for(lambda: int(read(cgroup_file(memory, cid, "memory.usage_in_bytes"))) >= 4 * MiB,
             "4 MiB of usage")
    data = stats(ctr, cid)
    usage = data["cpu"]["usage"]
    assert usage["total"] > 0 and {"kernel", "user"} <= usage.keys()
    assert len(usage["percpu"]) == os.cpu_count()
    assert {"periods", "throttledPeriods", "throttledTime"} <= data["cpu"]["throttling"].keys()
    mem = data["memory"]
    assert mem["usage"]["limit"] == 64 * MiB and mem["usage"]["usage"] >= 4 * MiB
    assert {"usage", "max", "failcnt", "limit"} <= mem["usage"].keys()
    assert mem["cache"] >= 4 * MiB  # /dev/shm is page cache
    assert mem["raw"]["cache"] == mem["cache"]
    assert data["pids"]["limit"] == 30 and data["pids"]["current"] >= 1
    assert isinstance(data["blkio"].get("ioServiceBytesRecursive", []), list)
    if "hugetlb" in data:
        assert all({"usage", "max", "failcnt"} <= v.keys() for v in data["hugetlb"].values())
