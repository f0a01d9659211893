"""OCI hooks (config.md "POSIX-platform Hooks", runtime.md "Lifecycle"): each runs at its moment,
in the namespace the spec assigns, with the state on its stdin; create hooks that fail fail the
create, poststart and poststop failures are only warnings."""

import json
import stat

import ctrtest

HOOK_NAMES = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart",
              "poststop"]


def recording_hook(test_dir, log):
    """A host script that appends "NAME <state JSON>" to `log`. startContainer hooks run inside
    the container, so the script is bind-mounted there at the same path."""
    script = test_dir / "hook.sh"
    script.write_text(f"#!/bin/sh\nread -r state\necho \"$1 $state\" >> {log}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return script


def hooks_bundle(bundle, test_dir, args):
    log = test_dir / "hooks.log"
    log.touch()
    script = recording_hook(test_dir, log)
    b = bundle(args)
    # startContainer resolves in the container: the same script and log, bound at their paths.
    b.add_mount(str(script), source=str(script), options=["bind", "ro"])
    b.add_mount(str(log), source=str(log), options=["bind", "rw"])
    b.config["hooks"] = {name: [{"path": str(script), "args": ["hook.sh", name]}]
                         for name in HOOK_NAMES}
    b.config["annotations"] = {"test": "hooks"}
    return b, log


def records(log):
    out = []
    for line in log.read_text().splitlines():
        name, state = line.split(" ", 1)
        out.append((name, json.loads(state)))
    return out


def test_hooks_run_in_lifecycle_order_with_the_state_on_stdin(ctr, bundle, test_dir):
    b, log = hooks_bundle(bundle, test_dir, ["sleep", "100"])
    cid = ctrtest.new_id()
    ctr("create", "--bundle", b.write(), cid, check=True)
    assert [n for n, _ in records(log)] == ["prestart", "createRuntime", "createContainer"]
    ctr("start", cid, check=True)
    assert [n for n, _ in records(log)][3:] == ["startContainer", "poststart"]
    pid = json.loads(ctr("state", cid, check=True).stdout)["pid"]
    ctr("delete", "--force", cid, check=True)
    got = records(log)
    assert [n for n, _ in got] == HOOK_NAMES
    expected_status = {"prestart": "creating", "createRuntime": "creating",
                       "createContainer": "creating", "startContainer": "created",
                       "poststart": "running", "poststop": "stopped"}
    for name, state in got:
        assert state["id"] == cid and state["bundle"] == str(b.path), name
        assert state["status"] == expected_status[name], name
        assert state["annotations"] == {"test": "hooks"}, name
        assert state["pid"] == (0 if name == "poststop" else pid), name


def test_a_failing_create_runtime_hook_fails_create_and_leaves_nothing(ctr, bundle, test_dir,
                                                                        ctr_root):
    b = bundle(["true"])
    b.config["hooks"] = {"createRuntime": [{"path": "/bin/sh",
                                            "args": ["sh", "-c", "echo no network; exit 3"]}]}
    cid = ctrtest.new_id()
    result = ctr("create", "--bundle", b.write(), cid)
    assert result.returncode != 0
    assert "hooks.createRuntime[0] (`/bin/sh`): exit status 3: no network" in result.stderr
    assert not (ctr_root / cid).exists()


def test_a_hook_that_outlives_its_timeout_is_killed_and_fails(ctr, bundle):
    b = bundle(["true"])
    b.config["hooks"] = {"prestart": [{"path": "/bin/sleep", "args": ["sleep", "30"],
                                       "timeout": 1}]}
    result = ctr("create", "--bundle", b.write(), ctrtest.new_id(), timeout=20)
    assert result.returncode != 0
    assert "hooks.prestart[0] (`/bin/sleep`): killed after its timeout of 1 s" in result.stderr


def test_a_failing_poststart_hook_is_a_warning_and_the_container_runs(ctr, bundle):
    b = bundle(["sleep", "100"])
    b.config["hooks"] = {"poststart": [{"path": "/bin/false"}]}
    cid = ctrtest.new_id()
    ctr("create", "--bundle", b.write(), cid, check=True)
    started = ctr("start", cid)
    assert started.returncode == 0
    assert "warning: hooks.poststart[0] (`/bin/false`): exit status 1" in started.stderr
    assert json.loads(ctr("state", cid, check=True).stdout)["status"] == "running"
    ctr("delete", "--force", cid, check=True)


def test_hook_env_and_args_are_passed(ctr, bundle, test_dir):
    out = test_dir / "env.out"
    b = bundle(["true"])
    b.config["hooks"] = {"prestart": [{"path": "/bin/sh",
                                       "args": ["sh", "-c", f"echo \"$0 $FOO\" > {out}", "zero"],
                                       "env": ["FOO=bar baz"]}]}
    cid = ctrtest.new_id()
    ctr("create", "--bundle", b.write(), cid, check=True)
    assert out.read_text() == "zero bar baz\n"
    ctr("delete", cid, check=True)
