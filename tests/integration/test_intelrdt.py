"""linux.intelRdt (config-linux.md "IntelRdt"): the container's init in a resctrl CLOS group (its
own, named after the container, or the closID's), with its schemata, and in a MON group of its own
with enableMonitoring; delete removes what was created for the container.

This machine has no resctrl (no RDT in the CPU, nothing at /sys/fs/resctrl): there a config with
intelRdt must fail before anything is created, and the tests of the groups skip with that reason.
"""

import json
import os
import uuid
from pathlib import Path

import pytest

import ctrtest

RESCTRL = Path("/sys/fs/resctrl")


def resctrl_mounted():
    try:
        with open("/proc/self/mountinfo") as f:
            return any(line.split(" - ")[1].split()[0] == "resctrl" and
                       line.split()[4] == str(RESCTRL) for line in f)
    except OSError:
        return False


needs_resctrl = pytest.mark.skipif(not resctrl_mounted(),
                                   reason="resctrl is not mounted at /sys/fs/resctrl (no Intel "
                                          "RDT on this machine)")


def created(ctr, b):
    cid = ctrtest.new_id()
    ctr("create", "--bundle", b.write(), cid, check=True)
    state = json.loads(ctr("state", cid, check=True).stdout)
    return cid, state["pid"]


def tasks(group):
    return (group / "tasks").read_text().split()


def test_intel_rdt_without_resctrl_fails_before_anything_is_created(run, bundle, ctr_root):
    if resctrl_mounted():
        pytest.skip("resctrl is mounted here: the refusal cannot be seen")
    b = bundle(["true"])
    b.linux["intelRdt"] = {"closID": "guaranteed_group", "schemata": ["L3:0=f"]}
    result = run(b)
    assert result.returncode != 0
    assert "linux.intelRdt: resctrl is not mounted at /sys/fs/resctrl" in result.stderr
    # Refused before the state, the cgroups or the init existed: the leak check sees none, and
    # nothing was made in resctrl's place.
    assert not RESCTRL.exists() or not any(RESCTRL.iterdir())


@needs_resctrl
def test_intel_rdt_puts_the_init_in_a_group_of_its_own_removed_at_delete(ctr, bundle):
    b = bundle(["sleep", "100"])
    b.linux["intelRdt"] = {}
    cid, pid = created(ctr, b)
    try:
        group = RESCTRL / cid
        assert str(pid) in tasks(group)
    finally:
        ctr("delete", "--force", cid, check=True)
    assert not (RESCTRL / cid).exists()


@needs_resctrl
def test_intel_rdt_monitoring_group_is_the_container_id(ctr, bundle):
    if not (RESCTRL / "info" / "L3_MON").exists():
        pytest.skip("resctrl has no monitoring here (no info/L3_MON)")
    b = bundle(["sleep", "100"])
    b.linux["intelRdt"] = {"enableMonitoring": True}
    cid, pid = created(ctr, b)
    try:
        mon = RESCTRL / cid / "mon_groups" / cid
        assert str(pid) in tasks(mon)
    finally:
        ctr("delete", "--force", cid, check=True)
    assert not (RESCTRL / cid).exists()


@needs_resctrl
def test_intel_rdt_joins_an_existing_clos_and_leaves_it_at_delete(ctr, bundle):
    clos = RESCTRL / f"ctr-test-clos-{uuid.uuid4().hex[:8]}"
    clos.mkdir()
    try:
        b = bundle(["sleep", "100"])
        b.linux["intelRdt"] = {"closID": clos.name}
        cid, pid = created(ctr, b)
        try:
            assert str(pid) in tasks(clos)
        finally:
            ctr("delete", "--force", cid, check=True)
        # "If closID is set ... the runtime MUST NOT remove the sub-directory".
        assert clos.is_dir()
    finally:
        os.rmdir(clos)


@needs_resctrl
def test_intel_rdt_missing_clos_without_schema_is_an_error(run, bundle):
    b = bundle(["true"])
    b.linux["intelRdt"] = {"closID": f"ctr-test-missing-{uuid.uuid4().hex[:8]}"}
    result = run(b)
    assert result.returncode != 0
    assert "linux.intelRdt.closID" in result.stderr and "no such group" in result.stderr
