"""Many commands at once on many containers: the state directory's locks keep every container's
state intact, and nothing leaks."""

import json
from concurrent.futures import ThreadPoolExecutor

import ctrtest


def lifecycle(ctr, bundle_path):
    cid = ctrtest.new_id()
    steps = [("create", "--bundle", bundle_path, cid), ("start", cid), ("state", cid),
             ("kill", cid, "KILL"), ("delete", "--force", cid)]
    results = [ctr(*step, timeout=60) for step in steps]
    return cid, results


def test_twenty_containers_in_parallel(ctr, bundle, ctr_root):
    path = bundle(["sleep", "100"]).write()
    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(lambda _: lifecycle(ctr, path), range(20)))
    for cid, results in outcomes:
        for result in results:
            assert result.returncode == 0, (cid, result.args, result.stderr)
        state = json.loads(results[2].stdout)
        assert state["id"] == cid and state["status"] == "running"
    assert list(ctr_root.iterdir()) == []


def test_concurrent_commands_on_one_container_keep_its_state(ctr, bundle):
    cid = ctrtest.new_id()
    ctr("run", "--detach", "--bundle", bundle(["sleep", "100"]).write(), cid, check=True)
    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(lambda i: ctr(*(["state", cid] if i % 2 else
                                                 ["ps", "--format", "json", cid])), range(30)))
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results if r.returncode]
    states = [json.loads(r.stdout) for r in results if r.args[-2] == "state"]
    assert all(s["status"] == "running" for s in states)
    ctr("delete", "--force", cid, check=True)
