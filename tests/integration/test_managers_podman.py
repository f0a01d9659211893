"""podman 4.3 runs busybox containers with ctr-run as its OCI runtime.

podman is given ctr-run through a wrapper named `runc` (managers.RuntimeWrapper), with all of its
state under the session's scratch directory; see managers.Podman for the configuration. Each test
checks what podman reports (output, exit status, `podman inspect`) and that podman really drove
ctr-run: the calls the wrapper recorded, with runc's command line, and ctr-run's own `state` of the
container.
"""

import json

import pytest

import ctrtest
import managers

# A container that says it is up, then waits for SIGTERM and exits 7 on it.
UNTIL_TERM = 'trap "echo bye; exit 7" TERM; echo started; while :; do sleep 0.1; done'


@pytest.fixture(scope="module")
def podman_service(workdir, rootfs, ctr_run):
    yield from managers.serve(managers.Podman(workdir / "podman", ctr_run), rootfs)


@pytest.fixture
def podman(podman_service):
    yield podman_service
    podman_service.check_after_test()


def created_with_log(podman, container):
    """The create call podman made: runc's syntax, with the --log file and JSON log format
    podman reads errors from."""
    create = podman.wrapper.assert_called("create", container)
    assert create.flags.get("--log-format") == "json", create
    assert create.flags.get("--log", "").endswith("/oci-log"), create
    assert "--bundle" in create.args and "--pid-file" in create.args, create
    return create


def test_run_rm_passes_output_and_exit_status(podman):
    result = podman.run("--rm", command=["sh", "-c", "echo hello from ctr-run; exit 3"])
    assert result.stdout == "hello from ctr-run\n", result.stderr
    assert result.returncode == 3, result.stderr

    container = podman.wrapper.last_created()
    created_with_log(podman, container)
    podman.wrapper.assert_called("start", container)
    podman.wrapper.assert_called("delete", container)
    assert podman("ps", "--all", "--quiet").stdout.strip() == "", "--rm left the container"


def test_run_detached_logs_exec_stop_rm(podman):
    container = podman.run("-d", command=["sh", "-c", UNTIL_TERM], check=True).stdout.strip()
    ctrtest.wait_for(lambda: "started" in podman("logs", container).stdout,
                      "the container's first output in `podman logs`")

    inspected = podman.inspect(container)
    assert inspected["State"]["Status"] == "running"
    created_with_log(podman, container)
    podman.wrapper.assert_called("start", container)
    # ctr-run holds the container podman reports, with the same init pid.
    state = podman.wrapper.state(container)
    assert state is not None, f"ctr-run does not know {container}"
    assert state["status"] == "running"
    assert state["pid"] == inspected["State"]["Pid"]

    executed = podman("exec", container, "sh", "-c", "echo in the container; exit 5")
    assert executed.stdout == "in the container\n", executed.stderr
    assert executed.returncode == 5, executed.stderr
    exec_call = podman.wrapper.assert_called("exec", container)
    assert "--process" in exec_call.args and "--detach" in exec_call.args, exec_call

    podman("stop", "--time", "10", container, check=True)
    inspected = podman.inspect(container)
    assert inspected["State"]["Status"] == "exited"
    assert inspected["State"]["ExitCode"] == 7, "SIGTERM did not reach the container's trap"
    podman.wrapper.assert_called("kill", container)
    assert podman.wrapper.calls("kill", container)[0].args[-1] in ("15", "TERM", "SIGTERM")
    assert podman("logs", container).stdout == "started\nbye\n"

    podman("rm", container, check=True)
    podman.wrapper.assert_called("delete", container)
    assert podman.wrapper.state(container) is None, "ctr-run still has the container"


def test_run_with_terminal(podman):
    result = podman.run("--rm", "-t",
                        command=["sh", "-c", "tty; test -t 1 && echo on-a-tty; exit 2"])
    # The pty's line discipline turns \n into \r\n: the output came through a terminal.
    assert result.stdout.startswith("/dev/pts/"), result.stdout + result.stderr
    assert "on-a-tty\r\n" in result.stdout, result.stdout + result.stderr
    assert result.returncode == 2, result.stderr

    container = podman.wrapper.last_created()
    create = created_with_log(podman, container)
    assert "--console-socket" in create.args, f"podman passed no console socket: {create}"


def test_pause_and_unpause(podman):
    container = podman.run("-d", command=["sleep", "1000"], check=True).stdout.strip()
    pid = podman.inspect(container)["State"]["Pid"]

    podman("pause", container, check=True)
    assert podman.inspect(container)["State"]["Status"] == "paused"
    podman.wrapper.assert_called("pause", container)
    assert managers.is_frozen(pid), "podman says paused but the cgroup is not frozen"
    assert podman.wrapper.state(container)["status"] == "paused"

    podman("unpause", container, check=True)
    assert podman.inspect(container)["State"]["Status"] == "running"
    podman.wrapper.assert_called("resume", container)
    assert not managers.is_frozen(pid)
    assert podman.wrapper.state(container)["status"] == "running"
    # Thawed for real: it runs a new process.
    assert podman("exec", container, "echo", "thawed", check=True).stdout == "thawed\n"

    podman("rm", "--force", "--time", "0", container, check=True)


def test_update_memory_reaches_the_cgroup(podman):
    container = podman.run("-d", command=["sleep", "1000"], check=True).stdout.strip()
    pid = podman.inspect(container)["State"]["Pid"]

    podman("update", "--memory", "64m", container, check=True)
    update = podman.wrapper.assert_called("update", container)
    assert any(a == "--resources" or a.startswith("--resources=") for a in update.args), update
    # The kernel's limit is the proof (podman 4.3's inspect keeps showing the limit the container
    # was created with).
    assert managers.memory_limit_of(pid) == 64 << 20

    podman("rm", "--force", "--time", "0", container, check=True)


def test_runtime_error_reaches_podman_through_the_json_log(podman):
    """ctr-run writes its error to the --log file as JSON lines, podman reads it from there and
    reports it; a missing executable is exit status 127, which podman derives from the message."""
    result = podman.run(command=["/no/such/program"])
    assert result.returncode == 127, result.stdout + result.stderr
    assert "/no/such/program" in result.stderr, result.stderr

    container = podman.wrapper.last_created()
    create = podman.wrapper.calls("create", container)[-1]
    assert create.status != 0, create
    with open(create.flags["--log"]) as log:
        entries = [json.loads(line) for line in log if line.strip()]
    errors = [e for e in entries if e.get("level") == "error"]
    assert errors and "/no/such/program" in errors[-1]["msg"], entries
    assert "time" in errors[-1], errors[-1]

    podman("rm", container, check=True)
