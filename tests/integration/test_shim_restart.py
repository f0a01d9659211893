"""Our shim keeps its task while containerd restarts: the new containerd finds the shim through
the `address` file in the bundle, and the shim reconnects to it for its next event.

The restart happens in the module fixture, so that the new containerd process is part of the host
as the leak check finds it before the test (it is stopped at the end of the module).
"""

import pytest

import ctrtest
import managers
from test_shim_containerd import ShimContainerd, as_subreaper, shim_binary, \
    task_status


@pytest.fixture(scope="module")
def restarted(workdir, rootfs, ctr_run, build_dir):
    """containerd with a task started before a restart: (containerd, container, init pid)."""
    shim = shim_binary(build_dir)
    with as_subreaper():
        for containerd in managers.serve(ShimContainerd(workdir / "containerd-restart", ctr_run,
                                                        shim), rootfs):
            container = containerd.new_container_id()
            containerd.run("--detach", container=container, command=["sleep", "1000"],
                           check=True)
            pid = containerd.tasks()[container][0]
            problem = containerd.daemon.stop()
            assert problem is None, problem
            containerd.daemon.start(containerd.ready)
            yield containerd, container, pid


def test_task_survives_a_containerd_restart(restarted):
    containerd, container, pid = restarted
    assert containerd.tasks()[container] == (pid, "RUNNING")
    containerd.ctr("task", "kill", "--signal", "SIGKILL", container, check=True)
    # The shim answers the new containerd about the exit (its TaskExit goes over a new connection).
    ctrtest.wait_for(lambda: task_status(containerd, container) == "STOPPED", "STOPPED")
    containerd.ctr("task", "rm", container, check=True)
    containerd.ctr("container", "rm", container, check=True)
    ctrtest.wait_for(lambda: not containerd.leftovers(), "the shim to exit and clean up")
