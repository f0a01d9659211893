"""`exec`: a new process in a running container (runtime-spec process.json, or runc's flags on top
of the container's own process), with the container's namespaces and cgroup."""

import json

import ctrtest


def test_exec_returns_the_exit_code_of_the_process(ctr, detached):
    cid = detached()
    assert ctr("exec", cid, "sh", "-c", "exit 7").returncode == 7
    assert ctr("exec", cid, "true").returncode == 0
    ctr("delete", "--force", cid, check=True)


def test_exec_into_a_pid_namespace_reports_the_init_before_it_speaks(ctr, detached):
    # Joining a pid namespace takes a second fork; the forking process reports the real init's
    # pid and exits while the init goes on on the same socket. The parent must always hear the
    # pid first, or it mistakes the order (it failed about 1 exec in 100 here before the init
    # waited for it). Many short execs give that race its chances.
    cid = detached()
    codes = [ctr("exec", cid, "sh", "-c", f"exit {n % 50}") for n in range(200)]
    wrong = [(n, c.returncode, c.stderr) for n, c in enumerate(codes) if c.returncode != n % 50]
    assert wrong == []
    ctr("delete", "--force", cid, check=True)


def test_exec_joins_the_container_namespaces_and_cgroup(ctr, detached):
    cid = detached()
    init = json.loads(ctr("state", cid, check=True).stdout)["pid"]
    out = ctr("exec", cid, "sh", "-c", "hostname; readlink /proc/1/exe; cat /proc/self/cgroup",
              check=True).stdout.splitlines()
    assert out[0] == "ctr-test"
    assert out[1] == "/bin/busybox"  # pid 1 of its pid namespace is the container's sleep
    with open(f"/proc/{init}/cgroup") as f:
        host_view = f.read()
    assert "/ctr/" + cid in host_view  # and the exec'd process is in the same cgroup
    ctr("delete", "--force", cid, check=True)


def test_exec_flags_set_env_cwd_and_user(ctr, detached):
    cid = detached()
    out = ctr("exec", "--env", "GREETING=hi there", "--cwd", "/tmp", "--user", "1000:1000", cid,
              "sh", "-c", 'echo "$GREETING|$(pwd)|$(id -u):$(id -g)"', check=True).stdout
    assert out == "hi there|/tmp|1000:1000\n"
    ctr("delete", "--force", cid, check=True)


def test_exec_process_file_is_used_as_given(ctr, detached, test_dir):
    cid = detached()
    process = {"args": ["sh", "-c", "echo $A; grep CapEff /proc/self/status"], "cwd": "/",
               "env": ["A=from-process-json", "PATH=/bin"], "user": {"uid": 0, "gid": 0},
               "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"],
                                "permitted": ["CAP_KILL"]}}
    path = test_dir / "process.json"
    path.write_text(json.dumps(process))
    out = ctr("exec", "--process", path, cid, check=True).stdout.splitlines()
    assert out[0] == "from-process-json"
    assert out[1].split() == ["CapEff:", f"{1 << 5:016x}"]
    ctr("delete", "--force", cid, check=True)


def test_exec_malformed_process_json_is_refused(ctr, detached, test_dir):
    cid = detached()
    path = test_dir / "process.json"
    path.write_text('{"args": ["true"], "cwd": 5}')
    result = ctr("exec", "--process", path, cid)
    assert result.returncode != 0 and "process.cwd" in result.stderr
    path.write_text("{not json")
    result = ctr("exec", "--process", path, cid)
    assert result.returncode != 0 and "process.json" in result.stderr.replace(str(path), "process.json")
    ctr("delete", "--force", cid, check=True)


def test_exec_in_a_stopped_container_is_an_error(ctr, bundle):
    cid = ctrtest.new_id()
    ctr("run", "--keep", "--bundle", bundle(["true"]).write(), cid, check=True)
    result = ctr("exec", cid, "true")
    assert result.returncode != 0 and "the container is stopped" in result.stderr
    ctr("delete", cid, check=True)


def test_exec_detach_writes_the_pid_file(ctr, detached, test_dir):
    cid = detached()
    pid_file = test_dir / "exec.pid"
    ctr("exec", "--detach", "--pid-file", pid_file, cid, "sleep", "100", check=True)
    pid = int(pid_file.read_text())
    pids = json.loads(ctr("ps", "--format", "json", cid, check=True).stdout)
    assert pid in pids
    ctr("delete", "--force", cid, check=True)


def test_exec_fails_and_kills_its_process_when_the_pid_file_cannot_be_written(ctr, detached,
                                                                              test_dir):
    # As runc: a caller that asked for the pid cannot track the process without it.
    cid = detached()
    init = json.loads(ctr("state", cid, check=True).stdout)["pid"]
    pid_file = test_dir / "missing" / "exec.pid"
    for detach in ([], ["--detach"]):
        result = ctr("exec", *detach, "--pid-file", pid_file, cid, "sleep", "100")
        assert result.returncode != 0
        assert f"write pid file `{pid_file}`: No such file or directory" in result.stderr
        pids = json.loads(ctr("ps", "--format", "json", cid, check=True).stdout)
        assert pids == [init]  # the exec'd sleep is gone
    ctr("delete", "--force", cid, check=True)


def test_exec_missing_executable_names_it(ctr, detached):
    cid = detached()
    result = ctr("exec", cid, "nosuchcommand")
    assert result.returncode != 0
    assert 'exec: "nosuchcommand": executable file not found in $PATH' in result.stderr
    ctr("delete", "--force", cid, check=True)
