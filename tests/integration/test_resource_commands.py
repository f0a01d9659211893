"""update, pause/resume, ps and events: runc's commands acting on a running container's cgroup,
checked against the cgroup files of this host (hybrid: v1 controllers)."""

import json
from pathlib import Path

import pytest

V1 = Path("/sys/fs/cgroup")


def v1(controller, cid, name):
    path = V1 / controller / "ctr" / cid / name
    if not (V1 / controller).is_dir():
        pytest.skip(f"the cgroup v1 {controller} controller is not mounted here")
    return path.read_text().strip()


def test_update_flags_change_the_limits(ctr, detached):
    cid = detached(lambda b: b.set("linux.resources.memory", {"limit": 64 << 20}))
    ctr("update", "--memory", "96m", "--pids-limit", "40", "--cpu-shares", "700", cid, check=True)
    assert v1("memory", cid, "memory.limit_in_bytes") == str(96 << 20)
    assert v1("pids", cid, "pids.max") == "40"
    assert v1("cpu", cid, "cpu.shares") == "700"
    ctr("delete", "--force", cid, check=True)


def test_update_resources_from_stdin_as_containerd_sends_it(ctr, detached):
    cid = detached()
    resources = {"memory": {"limit": 80 << 20}, "cpu": {"quota": 20000, "period": 100000}}
    ctr("update", "--resources", "-", cid, input=json.dumps(resources), check=True)
    assert v1("memory", cid, "memory.limit_in_bytes") == str(80 << 20)
    assert v1("cpu", cid, "cpu.cfs_quota_us") == "20000"
    ctr("delete", "--force", cid, check=True)


def test_update_with_a_bad_value_names_it_and_keeps_the_old_limits(ctr, detached):
    cid = detached(lambda b: b.set("linux.resources.pids", {"limit": 50}))
    bad = ctr("update", "--cpu-quota", "500", "--pids-limit", "60", cid)
    assert bad.returncode != 0
    assert "cpu.cfs_quota_us" in bad.stderr
    assert v1("pids", cid, "pids.max") == "50"
    ctr("delete", "--force", cid, check=True)


def test_update_malformed_resources_is_refused(ctr, detached, test_dir):
    cid = detached()
    path = test_dir / "resources.json"
    path.write_text('{"memory": {"limit": "lots"}}')
    bad = ctr("update", "--resources", path, cid)
    assert bad.returncode != 0 and "memory.limit" in bad.stderr
    unknown = ctr("update", "--memory", "lots", cid)
    assert unknown.returncode != 0 and "--memory `lots`" in unknown.stderr
    ctr("delete", "--force", cid, check=True)


def test_pause_freezes_and_resume_thaws(ctr, detached):
    cid = detached()
    ctr("pause", cid, check=True)
    assert json.loads(ctr("state", cid, check=True).stdout)["status"] == "paused"
    assert v1("freezer", cid, "freezer.state") == "FROZEN"
    again = ctr("pause", cid)
    assert again.returncode != 0 and "the container is paused" in again.stderr
    ctr("resume", cid, check=True)
    assert json.loads(ctr("state", cid, check=True).stdout)["status"] == "running"
    assert v1("freezer", cid, "freezer.state") == "THAWED"
    bad = ctr("resume", cid)
    assert bad.returncode != 0 and "the container is running" in bad.stderr
    ctr("delete", "--force", cid, check=True)


def test_delete_force_of_a_paused_container(ctr, detached, ctr_root):
    cid = detached()
    ctr("pause", cid, check=True)
    ctr("delete", "--force", cid, check=True)
    assert not (ctr_root / cid).exists()


def test_ps_table_shows_the_processes(ctr, detached):
    cid = detached()
    table = ctr("ps", cid, check=True).stdout.splitlines()
    assert table[0].split() == ["PID", "CMD"]
    pid = json.loads(ctr("state", cid, check=True).stdout)["pid"]
    assert any(line.split()[0] == str(pid) and "sleep 100" in line for line in table[1:])
    ctr("delete", "--force", cid, check=True)


def test_events_stats_reports_the_cgroup_counters(ctr, detached):
    cid = detached(lambda b: b.set("linux.resources.pids", {"limit": 77}))
    event = json.loads(ctr("events", "--stats", cid, check=True).stdout)
    assert event["type"] == "stats" and event["id"] == cid
    data = event["data"]
    assert data["pids"]["current"] == 1 and data["pids"]["limit"] == 77
    assert data["memory"]["usage"]["usage"] > 0
    assert data["cpu"]["usage"]["total"] > 0
    ctr("delete", "--force", cid, check=True)


def test_events_streams_an_oom_event_when_the_oom_killer_acts(ctr, detached, ctr_run, ctr_root):
    import subprocess
    cid = detached(lambda b: b.set("linux.resources.memory",
                                               {"limit": 32 << 20, "swap": 32 << 20}))
    events = subprocess.Popen([str(ctr_run), "--root", str(ctr_root), "events", "--interval",
                               "60s", cid], stdout=subprocess.PIPE, text=True)
    try:
        first = json.loads(events.stdout.readline())  # the first stats event: it is watching
        assert first["type"] == "stats"
        hog = ctr("exec", cid, "sh", "-c", "head -c 200m /dev/zero | tail")
        assert hog.returncode != 0  # tail was OOM-killed
        event = json.loads(events.stdout.readline())
        assert event == {"type": "oom", "id": cid}
    finally:
        events.kill()
        events.wait()
        events.stdout.close()
    ctr("delete", "--force", cid, check=True)
