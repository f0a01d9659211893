"""The runtime-spec lifecycle through ctr-run's runc-compatible commands (runtime.md "Lifecycle",
"Operations"): create/start/state/kill/delete, their errors, and the state they report."""

import json
import os
import time

import ctrtest


def created(ctr, bundle, id=None, *extra):
    """Creates a container and returns its id (create must succeed)."""
    container_id = id or ctrtest.new_id()
    ctr("create", "--bundle", bundle.write(), *extra, container_id, check=True)
    return container_id


def state(ctr, container_id):
    result = ctr("state", container_id, check=True)
    return json.loads(result.stdout)


def wait_status(ctr, container_id, status, timeout=5.0):
    """The status changes when the kernel says so (a killed init exits asynchronously)."""
    deadline = time.monotonic() + timeout
    while True:
        current = state(ctr, container_id)["status"]
        if current == status or time.monotonic() > deadline:
            return current
        time.sleep(0.02)


def marker_bundle(bundle, test_dir, script):
    """A bundle whose process runs `script` with a writable host directory at /out."""
    out = test_dir / "out"
    out.mkdir(exist_ok=True)
    b = bundle().shell(script)
    b.add_mount("/out", source=str(out), options=["rbind", "rw"])
    return b, out


def test_create_leaves_the_process_not_run_and_status_created(ctr, bundle, test_dir):
    b, out = marker_bundle(bundle, test_dir, "touch /out/ran; sleep 100")
    pid_file = test_dir / "pid"
    cid = created(ctr, b, None, "--pid-file", pid_file)
    s = state(ctr, cid)
    assert s["status"] == "created"
    assert s["id"] == cid and s["ociVersion"] == "1.2.0"
    assert s["bundle"] == str(b.path)
    assert int(pid_file.read_text()) == s["pid"] > 0
    # runtime.md: the user-specified program MUST NOT be run at create.
    assert not (out / "ran").exists()
    ctr("delete", cid, check=True)  # a created container may be deleted without --force


def test_start_runs_the_process_and_status_becomes_running(ctr, bundle, test_dir):
    b, out = marker_bundle(bundle, test_dir, "touch /out/ran; exec sleep 100")
    cid = created(ctr, b)
    ctr("start", cid, check=True)
    assert state(ctr, cid)["status"] == "running"
    # start returns once the program is exec'd; its first command runs right after.
    deadline = time.monotonic() + 5
    while not (out / "ran").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert (out / "ran").exists()
    ctr("delete", "--force", cid, check=True)


def test_start_of_a_started_container_is_an_error(ctr, bundle):
    cid = created(ctr, bundle(["sleep", "100"]))
    ctr("start", cid, check=True)
    again = ctr("start", cid)
    assert again.returncode != 0
    assert "running, not created" in again.stderr
    ctr("delete", "--force", cid, check=True)


def test_exit_makes_status_stopped_and_pid_zero(ctr, bundle):
    cid = created(ctr, bundle(["true"]))
    ctr("start", cid, check=True)
    assert wait_status(ctr, cid, "stopped") == "stopped"
    assert state(ctr, cid)["pid"] == 0
    ctr("delete", cid, check=True)


def test_kill_sends_the_signal_and_the_container_stops(ctr, bundle):
    cid = created(ctr, bundle(["sleep", "100"]))
    ctr("start", cid, check=True)
    ctr("kill", cid, "KILL", check=True)
    assert wait_status(ctr, cid, "stopped") == "stopped"
    # runtime.md "Kill": signalling a container that is not running is an error.
    again = ctr("kill", cid, "KILL")
    assert again.returncode != 0 and "stopped" in again.stderr
    ctr("delete", cid, check=True)


def test_kill_accepts_names_with_and_without_sig_and_numbers(ctr, bundle):
    # As pid 1 of its namespace, the process only gets signals it handles.
    cid = created(ctr, bundle().shell("trap 'exit 0' TERM; sleep 100 & wait"))
    ctr("start", cid, check=True)
    for signal in ("SIGCONT", "cont", "18"):
        ctr("kill", cid, signal, check=True)
    bad = ctr("kill", cid, "NOSUCHSIGNAL")
    assert bad.returncode != 0 and "unknown signal `NOSUCHSIGNAL`" in bad.stderr
    ctr("kill", cid, check=True)  # SIGTERM by default, which the trap turns into an exit
    assert wait_status(ctr, cid, "stopped") == "stopped"
    ctr("delete", cid, check=True)


def test_kill_all_signals_every_process_of_the_container(ctr, bundle, test_dir):
    b, out = marker_bundle(bundle, test_dir,
                           "trap '' TERM; sleep 100 & echo $! > /out/child; wait")
    cid = created(ctr, b)
    ctr("start", cid, check=True)
    deadline = time.monotonic() + 5
    while not (out / "child").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    ps = json.loads(ctr("ps", "--format", "json", cid, check=True).stdout)
    assert len(ps) == 2 and state(ctr, cid)["pid"] in ps
    ctr("kill", "--all", cid, "KILL", check=True)
    assert wait_status(ctr, cid, "stopped") == "stopped"
    ctr("delete", cid, check=True)


def test_delete_of_a_running_container_is_an_error_and_force_kills_it(ctr, bundle, ctr_root):
    cid = created(ctr, bundle(["sleep", "100"]))
    ctr("start", cid, check=True)
    refused = ctr("delete", cid)
    assert refused.returncode != 0 and "is running" in refused.stderr
    assert state(ctr, cid)["status"] == "running"
    ctr("delete", "--force", cid, check=True)
    assert not (ctr_root / cid).exists()
    gone = ctr("state", cid)
    assert gone.returncode != 0 and f"container `{cid}` does not exist" in gone.stderr


def test_delete_force_of_a_missing_container_succeeds(ctr):
    assert ctr("delete", "--force", "ctr-test-never-existed").returncode == 0
    plain = ctr("delete", "ctr-test-never-existed")
    assert plain.returncode != 0 and "does not exist" in plain.stderr


def test_duplicate_id_is_refused_and_the_first_container_is_untouched(ctr, bundle):
    cid = created(ctr, bundle(["sleep", "100"]))
    first = state(ctr, cid)
    dup = ctr("create", "--bundle", bundle(["true"]).write(), cid)
    assert dup.returncode != 0 and f"container `{cid}` already exists" in dup.stderr
    assert state(ctr, cid) == first
    ctr("delete", cid, check=True)


def test_unknown_id_is_an_error_for_every_command(ctr):
    for args in (["start"], ["state"], ["kill"], ["pause"], ["resume"], ["ps"],
                 ["exec"], ["events", "--stats"]):
        cmd = args + ["ctr-test-nope"] + (["true"] if args == ["exec"] else [])
        result = ctr(*cmd)
        assert result.returncode != 0, cmd
        assert "container `ctr-test-nope` does not exist" in result.stderr, cmd


def test_state_includes_annotations(ctr, bundle):
    b = bundle(["true"])
    b.config["annotations"] = {"org.example.key": "value"}
    cid = created(ctr, b)
    assert state(ctr, cid)["annotations"] == {"org.example.key": "value"}
    ctr("delete", cid, check=True)


def test_list_shows_every_container_with_its_status(ctr, bundle):
    a = created(ctr, bundle(["sleep", "100"]))
    b = created(ctr, bundle(["sleep", "100"]))
    ctr("start", b, check=True)
    listed = {s["id"]: s["status"] for s in json.loads(ctr("list", "--format", "json",
                                                           check=True).stdout)}
    assert listed == {a: "created", b: "running"}
    quiet = ctr("list", "-q", check=True).stdout.split()
    assert sorted(quiet) == sorted([a, b])
    ctr("delete", "--force", a, check=True)
    ctr("delete", "--force", b, check=True)


def test_run_detach_and_keep(ctr, bundle):
    cid = ctrtest.new_id()
    ctr("run", "--detach", "--bundle", bundle(["sleep", "100"]).write(), cid, check=True)
    assert state(ctr, cid)["status"] == "running"
    ctr("delete", "--force", cid, check=True)
    kept = ctrtest.new_id()
    result = ctr("run", "--keep", "--bundle", bundle(["sh", "-c", "exit 4"]).write(), kept)
    assert result.returncode == 4
    assert state(ctr, kept)["status"] == "stopped"
    ctr("delete", kept, check=True)


def test_errors_go_to_the_log_file_as_json_lines(ctr_run, ctr_root, test_dir):
    log = test_dir / "log.json"
    import subprocess
    result = subprocess.run([str(ctr_run), "--root", str(ctr_root), "--log", str(log),
                             "--log-format", "json", "state", "ctr-test-nope"],
                            capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert result.returncode == 1
    line = json.loads(log.read_text().splitlines()[-1])
    assert line["level"] == "error"
    assert "container `ctr-test-nope` does not exist" in line["msg"]
    assert line["time"].endswith("Z")


def test_preserve_fds_passes_the_callers_fd_to_the_container(ctr_run, ctr_root, bundle, test_dir):
    import subprocess
    data = test_dir / "data"
    data.write_text("passed through fd 3\n")
    b = bundle(["cat", "/proc/self/fd/3"])
    # The shell opens fd 3 for ctr-run, which passes it on with --preserve-fds 1.
    script = (f'exec 3<"{data}"; exec "{ctr_run}" --root "{ctr_root}" run --preserve-fds 1 '
              f'--bundle "{b.write()}" {ctrtest.new_id()}')
    result = subprocess.run(["/bin/sh", "-c", script], capture_output=True, text=True,
                            stdin=subprocess.DEVNULL, timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "passed through fd 3\n"


def test_no_runtime_fd_leaks_into_the_container(run, bundle):
    """CVE-2024-21626: only stdio reach the container process."""
    result = run(bundle(["ls", "/proc/self/fd"]))
    assert result.returncode == 0, result.stderr
    # 0, 1, 2 and the fd ls itself opens to read the directory.
    assert sorted(int(fd) for fd in result.stdout.split()) == [0, 1, 2, 3]


def test_systemd_cgroup_driver_is_refused_clearly_without_systemd(ctr, bundle, ctr_root):
    """--systemd-cgroup needs systemd as PID 1; where it is not (this machine), the create fails
    naming why, and leaves nothing."""
    if os.path.isdir("/run/systemd/system"):
        import pytest
        pytest.skip("systemd is PID 1 here: the refusal cannot be seen")
    cid = ctrtest.new_id()
    b = bundle(["true"])
    b.set("linux.cgroupsPath", "system.slice:ctr:" + cid)
    result = ctr("--systemd-cgroup", "run", "--bundle", b.write(), cid)
    assert result.returncode != 0
    assert "the systemd cgroup driver (--systemd-cgroup) needs systemd as PID 1" in result.stderr
    assert not (ctr_root / cid).exists()


def test_cgroup_manager_disabled_runs_without_a_cgroup_and_refuses_limits(ctr, bundle):
    """crun's --cgroup-manager=disabled: no cgroup is made (the process stays in the runtime's),
    device rules are accepted but cannot be enforced, any other limit is refused."""
    b = bundle().shell("cat /proc/self/cgroup")
    b.remove_namespace("cgroup")  # so the paths read are the real ones
    with open("/proc/self/cgroup") as f:
        ours = f.read()
    result = ctr("--cgroup-manager=disabled", "run", "--bundle", b.write(), ctrtest.new_id())
    assert result.returncode == 0, result.stderr
    assert result.stdout == ours  # the runtime's (our) cgroups: none was made for it
    limited = bundle(["true"]).set("linux.resources.memory", {"limit": 64 << 20})
    refused = ctr("--cgroup-manager=disabled", "run", "--bundle", limited.write(),
                  ctrtest.new_id())
    assert refused.returncode != 0
    assert "linux.resources: limits cannot be applied with cgroups disabled" in refused.stderr
    bad = ctr("--cgroup-manager=nosuch", "list")
    assert bad.returncode != 0 and "none of cgroupfs, systemd, disabled" in bad.stderr
