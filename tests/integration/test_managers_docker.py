"""docker 20.10 runs busybox containers with ctr-run added as a runtime (`--add-runtime`).

dockerd runs in the background with private data-root, exec-root, socket and pid file, and no
networking set-up (managers.Docker); its own containerd's runc shim calls the runtime, a wrapper
that records each call and runs ctr-run. Each test checks what docker reports (output, exit status,
`docker inspect`) and that ctr-run really ran the container: the calls recorded, with runc's
command line, and ctr-run's own `state` of the container.
"""

import pytest

import ctrtest
import managers


@pytest.fixture(scope="module")
def docker_service(workdir, rootfs, ctr_run):
    yield from managers.serve(managers.Docker(workdir / "docker", ctr_run), rootfs)


@pytest.fixture
def docker(docker_service):
    yield docker_service
    docker_service.check_after_test()


def test_run_rm_passes_output_and_exit_status(docker):
    result = docker.run("--rm", command=["sh", "-c", "echo hello from ctr-run; exit 3"])
    assert result.stdout == "hello from ctr-run\n", result.stderr
    assert result.returncode == 3, result.stderr

    container = docker.wrapper.last_created()
    create = docker.wrapper.assert_called("create", container)
    assert create.flags.get("--log-format") == "json", create
    assert "--log" in create.flags and "--root" in create.flags, create
    docker.wrapper.assert_called("start", container)
    docker.wrapper.assert_called("delete", container)
    assert docker("ps", "--all", "--quiet").stdout.strip() == "", "--rm left the container"


def test_exec_in_a_running_container(docker):
    container = docker.run("--detach", command=["sleep", "1000"], check=True).stdout.strip()
    inspected = docker.inspect(container)
    assert inspected["State"]["Status"] == "running"
    assert inspected["HostConfig"]["Runtime"] == docker.RUNTIME
    state = docker.wrapper.state(container)
    assert state is not None, f"ctr-run does not know {container}"
    assert (state["status"], state["pid"]) == ("running", inspected["State"]["Pid"])

    executed = docker("exec", container, "sh", "-c", "echo in the container; exit 4")
    assert executed.stdout == "in the container\n", executed.stderr
    assert executed.returncode == 4, executed.stderr
    exec_call = docker.wrapper.assert_called("exec", container)
    assert "--process" in exec_call.args and "--detach" in exec_call.args, exec_call

    docker("rm", "--force", container, check=True)
    assert docker.wrapper.state(container) is None, "ctr-run still has the container"


def test_stop_sends_sigterm_and_reports_the_exit_status(docker):
    script = 'trap "echo bye; exit 6" TERM; echo started; while :; do sleep 0.1; done'
    container = docker.run("--detach", command=["sh", "-c", script], check=True).stdout.strip()
    ctrtest.wait_for(lambda: "started" in docker("logs", container).stdout,
                      "the container's first output in `docker logs`")

    docker("stop", "--time", "10", container, check=True)
    inspected = docker.inspect(container)
    assert inspected["State"]["Status"] == "exited"
    assert inspected["State"]["ExitCode"] == 6, "SIGTERM did not reach the container's trap"
    kill_call = docker.wrapper.assert_called("kill", container)
    assert kill_call.args[-1] in ("15", "TERM", "SIGTERM"), kill_call
    docker.wrapper.assert_called("delete", container)
    assert docker("logs", container).stdout == "started\nbye\n"

    docker("rm", container, check=True)


def test_update_memory_reaches_the_cgroup(docker):
    """docker sends the new resources as JSON on stdin (`update --resources - ID`), with a 0 for
    every value it leaves alone (memory.reservation, memory.kernel, cpu.*, blockIO.weight), which
    runc reads as "unchanged"."""
    container = docker.run("--detach", command=["sleep", "1000"], check=True).stdout.strip()
    pid = docker.inspect(container)["State"]["Pid"]

    docker("update", "--memory", "32m", "--memory-swap", "64m", container, check=True)
    update = docker.wrapper.assert_called("update", container)
    assert update.args[:2] == ["--resources", "-"], update
    assert managers.memory_limit_of(pid) == 32 << 20
    assert docker.inspect(container)["HostConfig"]["Memory"] == 32 << 20

    docker("rm", "--force", container, check=True)
