"""containerd 1.6 runs busybox containers with ctr-run as the runc binary of its runc shim.

containerd runs in the background with private root, state and sockets (managers.Containerd), the
image is an OCI archive made with umoci from the busybox rootfs, and containers are run with
`ctr run --runc-binary WRAPPER --runc-root DIR`, where WRAPPER records each call and runs ctr-run.
Each test checks what ctr reports (output, exit status, task status) and that the shim really drove
ctr-run: the calls recorded, with runc's command line, and ctr-run's own `state` of the container.
"""

import pytest

import ctrtest
import managers


@pytest.fixture(scope="module")
def containerd_service(workdir, rootfs, ctr_run):
    yield from managers.serve(managers.Containerd(workdir / "containerd", ctr_run), rootfs)


@pytest.fixture
def containerd(containerd_service):
    yield containerd_service
    containerd_service.check_after_test()


def assert_runtime_calls_shape(containerd, container):
    """The shim calls the runtime with runc's global flags: --root (the --runc-root given to ctr,
    per namespace), --log FILE and --log-format json."""
    for call in containerd.wrapper.calls(container=container):
        assert call.flags.get("--root") == str(containerd.runc_root / containerd.namespace), call
        assert call.flags.get("--log", "").endswith("/log.json"), call
        assert call.flags.get("--log-format") == "json", call


def test_run_rm_passes_output_and_exit_status(containerd):
    container = containerd.new_container_id()
    result = containerd.run("--rm", container=container,
                            command=["sh", "-c", "echo hello from ctr-run; exit 3"])
    assert result.stdout == "hello from ctr-run\n", result.stderr
    assert result.returncode == 3, result.stderr

    create = containerd.wrapper.assert_called("create", container)
    assert "--bundle" in create.args and "--pid-file" in create.args, create
    containerd.wrapper.assert_called("start", container)
    containerd.wrapper.assert_called("delete", container)
    assert_runtime_calls_shape(containerd, container)
    assert container not in containerd.tasks()


def test_run_detached_task_exec_kill_rm(containerd):
    container = containerd.new_container_id()
    script = 'trap "exit 9" TERM; echo up; while :; do sleep 0.1; done'
    containerd.run("--detach", container=container, command=["sh", "-c", script], check=True)
    pid, status = containerd.tasks()[container]
    assert status == "RUNNING"
    state = containerd.wrapper.state(container)
    assert state is not None, f"ctr-run does not know {container}"
    assert (state["status"], state["pid"]) == ("running", pid)

    executed = containerd.ctr("task", "exec", "--exec-id", f"{container}-exec", container,
                              "sh", "-c", "echo in the container; exit 4")
    assert executed.stdout == "in the container\n", executed.stderr
    assert executed.returncode == 4, executed.stderr
    exec_call = containerd.wrapper.assert_called("exec", container)
    assert "--process" in exec_call.args and "--detach" in exec_call.args, exec_call

    # `ctr task ps` asks the runtime: `ps --format json ID`.
    listed = containerd.ctr("task", "ps", container, check=True).stdout.split()
    assert str(pid) in listed
    ps_call = containerd.wrapper.assert_called("ps", container)
    assert ps_call.args[:2] == ["--format", "json"], ps_call

    containerd.ctr("task", "kill", container, check=True)
    ctrtest.wait_for(lambda: containerd.tasks()[container][1] == "STOPPED",
                      f"task {container} to stop after SIGTERM")
    kill_call = containerd.wrapper.assert_called("kill", container)
    assert kill_call.args[-1] in ("15", "TERM", "SIGTERM"), kill_call

    removed = containerd.ctr("task", "rm", container, check=True)
    # ctr reports the exit status the shim collected: the trap's.
    assert "exit code 9" in removed.stderr, removed.stderr
    containerd.wrapper.assert_called("delete", container)
    assert container not in containerd.tasks()
    assert containerd.wrapper.state(container) is None, "ctr-run still has the container"
    containerd.ctr("container", "rm", container, check=True)
    assert_runtime_calls_shape(containerd, container)


def test_pause_and_resume(containerd):
    container = containerd.new_container_id()
    containerd.run("--detach", container=container, command=["sleep", "1000"], check=True)
    pid = containerd.tasks()[container][0]

    containerd.ctr("task", "pause", container, check=True)
    assert containerd.tasks()[container][1] == "PAUSED"
    containerd.wrapper.assert_called("pause", container)
    assert managers.is_frozen(pid), "containerd says paused but the cgroup is not frozen"
    assert containerd.wrapper.state(container)["status"] == "paused"

    containerd.ctr("task", "resume", container, check=True)
    assert containerd.tasks()[container][1] == "RUNNING"
    containerd.wrapper.assert_called("resume", container)
    assert not managers.is_frozen(pid)
    assert containerd.wrapper.state(container)["status"] == "running"
    executed = containerd.ctr("task", "exec", "--exec-id", f"{container}-exec", container,
                              "echo", "thawed", check=True)
    assert executed.stdout == "thawed\n"

    containerd.ctr("task", "kill", "--signal", "SIGKILL", container, check=True)
    ctrtest.wait_for(lambda: containerd.tasks()[container][1] == "STOPPED",
                      f"task {container} to stop after SIGKILL")
    containerd.ctr("task", "rm", container, check=True)
    containerd.ctr("container", "rm", container, check=True)
