"""Regression tests for known runtime escape classes: each attacks the runtime the way the CVE
did and checks the defence holds."""

import hashlib
import json
import stat

import ctrtest


def evil_script(test_dir):
    """A program whose interpreter is /proc/self/exe: exec'd by a vulnerable runtime's process,
    the kernel would run the runtime's own host binary inside the container (CVE-2019-5736)."""
    script = test_dir / "evil"
    script.write_text("#!/proc/self/exe\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return script


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_proc_self_exe_as_interpreter_never_runs_the_runtime_binary(run, bundle, test_dir,
                                                                    ctr_run):
    """CVE-2019-5736: the container's init execs "#!/proc/self/exe". Through the exec trampoline,
    /proc/self/exe is then the sealed trampoline, which refuses and exits 127; the host's ctr-run
    never runs in the container, and is unchanged."""
    before = sha256(ctr_run)
    b = bundle(["/evil", "--version"])
    b.add_mount("/evil", source=str(evil_script(test_dir)), options=["bind", "ro"])
    result = run(b)
    assert result.returncode == 127, (result.stdout, result.stderr)
    assert "ctr-run version" not in result.stdout  # what the runtime binary would have printed
    assert sha256(ctr_run) == before


def test_proc_self_exe_as_interpreter_in_exec_never_runs_the_runtime_binary(ctr, bundle,
                                                                            test_dir, ctr_run):
    """The same through `exec`, whose process joins a container where other processes run."""
    b = bundle(["sleep", "100"])
    b.add_mount("/evil", source=str(evil_script(test_dir)), options=["bind", "ro"])
    cid = ctrtest.new_id()
    ctr("run", "--detach", "--bundle", b.write(), cid, check=True)
    result = ctr("exec", cid, "/evil", "--version")
    assert result.returncode == 127
    assert "ctr-run version" not in result.stdout
    ctr("delete", "--force", cid, check=True)


def test_the_exec_trampoline_is_not_the_runtime_binary(run, bundle):
    """What /proc/self/exe is while the container's program is exec'd: a sealed memfd."""
    b = bundle().shell("readlink /proc/self/exe")
    result = run(b)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "/bin/busybox"


def test_a_failed_final_exec_is_still_reported(run, bundle, test_dir):
    """The trampoline reports a failure of the program's exec (here: not a valid executable)."""
    bad = test_dir / "notelf"
    bad.write_bytes(b"\x7fELF garbage")
    bad.chmod(0o755)
    b = bundle(["/notelf"])
    b.add_mount("/notelf", source=str(bad), options=["bind", "ro"])
    result = run(b)
    assert result.returncode != 0
    assert "exec `/notelf`: Exec format error" in result.stderr
