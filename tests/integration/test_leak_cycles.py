"""Hundreds of container lifecycles leave nothing behind: not on the host (mounts, cgroups,
processes, state directories), and not in a process that keeps the library loaded (its fds, its
heap, its RSS).

CTR_LEAK_CYCLES sets the number of cycles (default 500)."""

import os
import subprocess

import ctrtest

CYCLES = int(os.environ.get("CTR_LEAK_CYCLES", "500"))


def test_ctr_run_cycles_leave_no_mount_cgroup_process_or_state(ctr, bundle, ctr_root):
    """`ctr-run run` of /bin/true, CYCLES times: each run creates the namespaces, mounts and
    cgroups of the default test config and must remove them all."""
    path = bundle(["/bin/true"]).write()
    before = ctrtest.HostState.capture()
    for i in range(CYCLES):
        result = ctr("run", "--bundle", path, ctrtest.new_id("ctr-test-cycle"))
        assert result.returncode == 0, f"run {i + 1} of {CYCLES} failed: {result.stderr}"
    leaks = ctrtest.wait_for_no_leaks(before, ctr_root)
    assert not leaks, f"after {CYCLES} runs, left behind:\n{leaks.describe()}"


def test_in_process_cycles_keep_fds_and_heap_flat(build_dir, bundle, ctr_root):
    """tests/leak_cycles.c: create, start, wait and delete CYCLES times in one process through
    the library; its fd count and heap must not grow (it prints the figures it compared)."""
    helper = build_dir / "tests" / "leak_cycles"
    assert helper.is_file(), f"{helper} is missing: build the project (tests/setup.sh)"
    path = bundle(["/bin/true"]).write()
    before = ctrtest.HostState.capture()
    result = subprocess.run([str(helper), str(path), str(CYCLES), str(ctr_root)],
                            capture_output=True, text=True, stdin=subprocess.DEVNULL,
                            timeout=max(60, CYCLES / 5))
    print(result.stdout, end="")
    assert result.returncode == 0, result.stdout + result.stderr
    leaks = ctrtest.wait_for_no_leaks(before, ctr_root)
    assert not leaks, f"after {CYCLES} cycles, left behind:\n{leaks.describe()}"
