"""The `process` object and the process-related `linux` fields, seen from inside real containers
(runtime-spec config.md, "Process", "POSIX process", "Linux Process", "User"; config-linux.md,
"Seccomp", "Personality"), and what `ctr-run run` passes through: exit status, stdio, signals.
"""

import os
import resource
import signal
import subprocess

import pytest

import ctrtest

# capabilities(7) numbers.
CAP_NUMBERS = {"CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_FOWNER": 3, "CAP_KILL": 5,
               "CAP_NET_BIND_SERVICE": 10, "CAP_NET_RAW": 13, "CAP_SYS_RESOURCE": 24}


def run_ok(run, bundle, **kwargs):
    """Runs the bundle, fails the test unless it exits 0, returns its stdout."""
    result = run(bundle, **kwargs)
    assert result.returncode == 0, (
        f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}")
    return result.stdout


def assert_refused(result, *phrases):
    """The runtime refused the config before running anything: a non-zero exit, nothing from the
    container on stdout, and an error naming `phrases`."""
    assert result.returncode != 0, result.stdout + result.stderr
    assert result.stdout == ""
    for phrase in phrases:
        assert phrase in result.stderr, f"{phrase!r} not in the error:\n{result.stderr}"


def ctr_command(ctr_run, ctr_root, bundle):
    """`ctr-run run` of the bundle, for tests that start it themselves."""
    return [str(ctr_run), "--root", str(ctr_root), "run", "--bundle", str(bundle.write()),
            ctrtest.new_id()]


def status_fields(text):
    """/proc/PID/status as a dict."""
    return {key: value.strip() for key, _, value in
            (line.partition(":") for line in text.splitlines()) if value}


def cap_mask(*names):
    return f"{sum(1 << CAP_NUMBERS[n] for n in names):016x}"


def runtime_bounding_set_has(cap):
    with open("/proc/self/status") as f:
        return bool(int(status_fields(f.read())["CapBnd"], 16) & (1 << CAP_NUMBERS[cap]))


# ---- args, env, cwd --------------------------------------------------------------------------

def test_args_are_passed_exactly(bundle, run):
    args = ["a b", "c=d", "", "*", "'quoted'", "$HOME", "tab\there"]
    b = bundle(["/bin/sh", "-c", 'for a in "$@"; do echo "[$a]"; done', "sh", *args])
    assert run_ok(run, b).splitlines() == [f"[{a}]" for a in args]


def test_env_is_exactly_the_configured_environment(bundle, run):
    """`env` has environ(7)'s semantics: the process gets these strings, in order, and nothing
    else (no HOME or PWD added)."""
    b = bundle(["/bin/env"])
    b.process["env"] = ["PATH=/bin", "WITH_SPACES=a b  c ", "WITH_EQUALS=x=y==z", "EMPTY="]
    assert run_ok(run, b).splitlines() == b.process["env"]


@pytest.mark.parametrize("cwd", ["/etc", "/tmp"])
def test_cwd_is_the_working_directory(bundle, run, cwd):
    b = bundle(["/bin/pwd"])
    b.process["cwd"] = cwd
    assert run_ok(run, b) == f"{cwd}\n"


# ---- user ------------------------------------------------------------------------------------

def test_user_uid_and_gid_are_set(bundle, run):
    b = bundle().shell("id -u; id -g; grep -E '^(Uid|Gid):' /proc/self/status")
    b.process["user"] = {"uid": 1000, "gid": 1001}
    lines = run_ok(run, b).splitlines()
    assert lines[:2] == ["1000", "1001"]
    # Real, effective, saved and filesystem ids alike.
    assert lines[2].split()[1:] == ["1000"] * 4
    assert lines[3].split()[1:] == ["1001"] * 4


def test_additional_gids_are_the_supplementary_groups(bundle, run):
    b = bundle(["/bin/grep", "^Groups:", "/proc/self/status"])
    b.process["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [10, 20, 2000]}
    assert run_ok(run, b).split()[1:] == ["10", "20", "2000"]


def test_without_additional_gids_no_supplementary_group_is_kept(bundle, ctr_run, ctr_root):
    """The runtime's own supplementary groups (here 4242, given to ctr-run) must not leak into
    the container."""
    b = bundle(["/bin/grep", "^Groups:", "/proc/self/status"])
    b.process["user"] = {"uid": 1000, "gid": 1000}
    result = subprocess.run(ctr_command(ctr_run, ctr_root, b), stdin=subprocess.DEVNULL,
                            capture_output=True, text=True, timeout=30, extra_groups=[4242])
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["Groups:"]


def test_umask_applies_to_new_files(bundle, run):
    b = bundle().shell("umask; touch /tmp/f; mkdir /tmp/d; stat -c %a /tmp/f /tmp/d")
    b.process["user"]["umask"] = 0o027
    assert run_ok(run, b).split() == ["0027", "640", "750"]


# ---- rlimits ---------------------------------------------------------------------------------

def test_rlimit_soft_and_hard_values_are_set(bundle, run):
    b = bundle().shell("ulimit -Sn; ulimit -Hn; grep 'Max open files' /proc/self/limits")
    b.process["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 256, "hard": 512}]
    lines = run_ok(run, b).splitlines()
    assert lines[:2] == ["256", "512"]
    assert lines[2].split()[3:5] == ["256", "512"]


def test_rlimit_above_the_runtimes_hard_limit_is_a_clear_error(bundle, run):
    """Raising a hard limit needs CAP_SYS_RESOURCE, which this host's bounding set lacks: the
    runtime must fail, naming the rlimit, not run the container with another limit."""
    if runtime_bounding_set_has("CAP_SYS_RESOURCE"):
        pytest.skip("the runtime has CAP_SYS_RESOURCE here, so any hard limit can be raised")
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard == resource.RLIM_INFINITY:
        pytest.skip("RLIMIT_NOFILE's hard limit is unlimited here: nothing is above it")
    b = bundle(["/bin/echo", "ran"])
    b.process["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 1024, "hard": hard + 1000}]
    assert_refused(run(b), "RLIMIT_NOFILE", str(hard + 1000), "CAP_SYS_RESOURCE")


# ---- capabilities ----------------------------------------------------------------------------

CAP_FIELDS = ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")


def container_caps(run, bundle):
    bundle.args = ["/bin/cat", "/proc/self/status"]
    fields = status_fields(run_ok(run, bundle))
    return {k: fields[k] for k in CAP_FIELDS}


def test_capability_sets_with_ambient_for_a_non_root_user(bundle, run):
    """All five sets for uid 1000. After execve of a file without file capabilities, as a
    non-root user (capabilities(7)): inheritable and bounding are kept as configured, ambient
    survives, and permitted and effective become the ambient set."""
    b = bundle()
    b.process["user"] = {"uid": 1000, "gid": 1000}
    b.process["capabilities"] = {
        "bounding": ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_KILL",
                     "CAP_NET_BIND_SERVICE", "CAP_NET_RAW"],
        "permitted": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW"],
        "effective": ["CAP_CHOWN", "CAP_KILL"],
        "inheritable": ["CAP_FOWNER", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
        "ambient": ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
    }
    ambient = cap_mask("CAP_KILL", "CAP_NET_BIND_SERVICE")
    assert container_caps(run, b) == {
        "CapInh": cap_mask("CAP_FOWNER", "CAP_KILL", "CAP_NET_BIND_SERVICE"),
        "CapPrm": ambient,
        "CapEff": ambient,
        "CapBnd": cap_mask(*b.process["capabilities"]["bounding"]),
        "CapAmb": ambient,
    }


def test_capability_sets_for_root(bundle, run):
    """For uid 0, execve makes permitted inheritable | bounding, effective all of permitted, and
    clears ambient (capabilities(7), "Capabilities and execution of programs by root"); with
    no_new_privs it may not gain anything, so permitted stays within the configured permitted set:
    (inheritable | bounding) & permitted."""
    b = bundle()
    b.process["noNewPrivileges"] = True
    b.process["capabilities"] = {
        "bounding": ["CAP_CHOWN", "CAP_FOWNER", "CAP_KILL", "CAP_NET_RAW"],
        "permitted": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"],
        "effective": ["CAP_CHOWN"],
        "inheritable": ["CAP_KILL"],
        "ambient": [],
    }
    permitted = cap_mask("CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW")
    assert container_caps(run, b) == {
        "CapInh": cap_mask("CAP_KILL"),
        "CapPrm": permitted,
        "CapEff": permitted,
        "CapBnd": cap_mask(*b.process["capabilities"]["bounding"]),
        "CapAmb": "0" * 16,
    }


def test_capability_outside_the_runtimes_bounding_set_is_refused(bundle, run):
    if runtime_bounding_set_has("CAP_SYS_RESOURCE"):
        pytest.skip("CAP_SYS_RESOURCE is in the runtime's bounding set here, so it can be granted")
    b = bundle(["/bin/echo", "ran"])
    for kind in ("bounding", "effective", "permitted"):
        b.process["capabilities"][kind].append("CAP_SYS_RESOURCE")
    assert_refused(run(b), "CAP_SYS_RESOURCE", "bounding set")


# ---- no_new_privs, oom_score_adj -------------------------------------------------------------

@pytest.mark.parametrize("enabled, expected", [(True, "1"), (False, "0")])
def test_no_new_privileges_sets_no_new_privs(bundle, run, enabled, expected):
    b = bundle(["/bin/grep", "^NoNewPrivs:", "/proc/self/status"])
    b.process["noNewPrivileges"] = enabled
    assert run_ok(run, b).split() == ["NoNewPrivs:", expected]


def test_oom_score_adj_is_set(bundle, run):
    b = bundle(["/bin/cat", "/proc/self/oom_score_adj"])
    b.process["oomScoreAdj"] = 500
    assert run_ok(run, b) == "500\n"


def test_oom_score_adj_is_set_in_a_new_user_namespace(bundle, run):
    b = bundle(["/bin/cat", "/proc/self/oom_score_adj"]).map_root_to(100000)
    b.process["oomScoreAdj"] = 500
    assert run_ok(run, b) == "500\n"


def test_oom_score_adj_below_the_runtimes_is_a_clear_error_every_time(bundle, run):
    """Lowering oom_score_adj needs CAP_SYS_RESOURCE. The init fails early in its set-up, while
    the runtime may still be talking to it: repeated, so an error lost in that race shows."""
    if runtime_bounding_set_has("CAP_SYS_RESOURCE"):
        pytest.skip("the runtime has CAP_SYS_RESOURCE here, so it may lower oom_score_adj")
    with open("/proc/self/oom_score_adj") as f:
        current = int(f.read())
    if current <= -1000:
        pytest.skip("oom_score_adj is already -1000 here: it cannot be lowered")
    b = bundle(["/bin/echo", "ran"])
    b.process["oomScoreAdj"] = max(current - 500, -1000)
    for _ in range(50):  # it lost the error in 1-2 runs of 100 (ECONNRESET before it)
        assert_refused(run(b), "process.oomScoreAdj", "CAP_SYS_RESOURCE")


# ---- seccomp ---------------------------------------------------------------------------------

# busybox calls mkdir(2); other libcs use mkdirat(2).
MKDIR = ["mkdir", "mkdirat"]
ENOSYS = 38


def seccomp(default_action, *rules, **extra):
    return {"defaultAction": default_action, "architectures": ["SCMP_ARCH_X86_64"],
            "syscalls": list(rules), **extra}


def test_seccomp_errno_action_returns_errno_ret(bundle, run):
    b = bundle().shell('mkdir /tmp/d; echo "mkdir=$?"; [ -e /tmp/d ] || echo absent')
    b.linux["seccomp"] = seccomp(
        "SCMP_ACT_ALLOW", {"names": MKDIR, "action": "SCMP_ACT_ERRNO", "errnoRet": ENOSYS})
    result = run(b)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["mkdir=1", "absent"]
    assert "Function not implemented" in result.stderr


def test_seccomp_argument_conditions_select_the_calls(bundle, run):
    """kill(2) is denied only when its signal argument (index 1) is SIGUSR1; signal 0 passes."""
    b = bundle().shell('kill -0 $$ && echo sig0-allowed; kill -USR1 $$ || echo usr1-denied')
    b.linux["seccomp"] = seccomp("SCMP_ACT_ALLOW", {
        "names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
        "args": [{"index": 1, "value": int(signal.SIGUSR1), "op": "SCMP_CMP_EQ"}]})
    result = run(b)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["sig0-allowed", "usr1-denied"]
    assert "Operation not permitted" in result.stderr


# What busybox's static sh needs to start, write, fork a child and wait for it.
SH_SYSCALLS = ["arch_prctl", "brk", "clone", "clone3", "close", "dup2", "execve", "exit",
               "exit_group", "fcntl", "getegid", "geteuid", "getgid", "getpid", "getppid",
               "getrandom", "getuid", "ioctl", "mmap", "mprotect", "munmap", "newfstatat", "open",
               "openat", "prctl", "prlimit64", "read", "readlink", "rseq", "rt_sigaction",
               "rt_sigprocmask", "rt_sigreturn", "set_robust_list", "set_tid_address", "uname",
               "wait4", "write"]


def test_seccomp_default_errno_with_an_allow_list(bundle, run):
    b = bundle().shell('echo allowed; mkdir /tmp/d; echo "mkdir=$?"')
    b.linux["seccomp"] = seccomp("SCMP_ACT_ERRNO",
                                 {"names": SH_SYSCALLS, "action": "SCMP_ACT_ALLOW"})
    result = run(b)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["allowed", "mkdir=1"]
    assert "Operation not permitted" in result.stderr


def test_seccomp_kill_process_kills_with_sigsys(bundle, run):
    b = bundle(["/bin/mkdir", "/tmp/d"])
    b.linux["seccomp"] = seccomp("SCMP_ACT_ALLOW",
                                 {"names": MKDIR, "action": "SCMP_ACT_KILL_PROCESS"})
    result = run(b)
    assert result.returncode == 128 + signal.SIGSYS, result.stdout + result.stderr


# ---- personality, scheduler, I/O priority, cpu affinity -------------------------------------

def test_personality_linux32_reports_a_32_bit_machine(bundle, run):
    if os.uname().machine != "x86_64":
        pytest.skip(f"LINUX32 shows i686 on x86_64; this host is {os.uname().machine}")
    b = bundle(["/bin/uname", "-m"])
    b.linux["personality"] = {"domain": "LINUX32"}
    assert run_ok(run, b) == "i686\n"


def proc_stat_fields(text):
    """/proc/PID/stat's fields, numbered as in proc(5) (1 is the pid)."""
    after_comm = text[text.rindex(")") + 2:].split()
    return {i + 3: value for i, value in enumerate(after_comm)}


@pytest.mark.parametrize("policy, number, nice", [("SCHED_BATCH", 3, 5), ("SCHED_IDLE", 5, None)])
def test_scheduler_policy_and_nice_are_applied(bundle, run, policy, number, nice):
    """proc(5): field 19 of /proc/PID/stat is the nice value, field 41 the policy."""
    b = bundle(["/bin/cat", "/proc/self/stat"])
    b.process["scheduler"] = {"policy": policy}
    if nice is not None:
        b.process["scheduler"]["nice"] = nice
    fields = proc_stat_fields(run_ok(run, b))
    assert fields[41] == str(number)
    if nice is not None:
        assert fields[19] == str(nice)


@pytest.mark.parametrize("io_class, priority, shown", [
    ("IOPRIO_CLASS_IDLE", 0, "idle"),  # the idle class has no levels
    ("IOPRIO_CLASS_BE", 6, "best-effort: prio 6"),
])
def test_io_priority_is_applied(bundle, run, io_class, priority, shown):
    b = bundle(["/bin/ionice", "-p", "1"])
    b.process["ioPriority"] = {"class": io_class, "priority": priority}
    assert run_ok(run, b) == f"{shown}\n"


def test_exec_cpu_affinity_final_pins_the_process(bundle, run):
    """The spec scopes execCPUAffinity to processes run with `exec`; libctr applies it to the
    container's first process too (ctr-run has no `exec`), which is what this checks."""
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("the runtime may use only one cpu here: pinning to cpu 0 would change nothing")
    cpu = min(os.sched_getaffinity(0))
    b = bundle(["/bin/grep", "^Cpus_allowed_list:", "/proc/self/status"])
    b.process["execCPUAffinity"] = {"final": str(cpu)}
    assert run_ok(run, b).split() == ["Cpus_allowed_list:", str(cpu)]


# ---- exit status ------------------------------------------------------------------------------

def test_exit_status_is_the_processs(bundle, run):
    result = run(bundle().shell("exit 7"))
    assert result.returncode == 7, result.stderr


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_process_killed_by_a_signal_exits_128_plus_the_signal(bundle, run, sig):
    """Without a pid namespace: as pid 1 of its own namespace the shell could not kill itself
    (the kernel drops signals a pid namespace's init sends itself with the default action)."""
    b = bundle().remove_namespace("pid").shell(f"kill -{int(sig)} $$; echo survived")
    result = run(b)
    assert result.returncode == 128 + sig, result.stdout + result.stderr
    assert result.stdout == ""


# ---- stdio and signals -------------------------------------------------------------------------

def test_stdout_and_stderr_are_passed_through_separately(bundle, run):
    result = run(bundle().shell("echo to-stdout; echo to-stderr >&2"))
    assert result.returncode == 0
    assert (result.stdout, result.stderr) == ("to-stdout\n", "to-stderr\n")


def test_stdin_is_passed_through(bundle, run):
    data = "line one\nline two with spaces\n"
    assert run_ok(run, bundle(["/bin/cat"]), input=data) == data


def test_sigterm_to_the_runtime_is_forwarded_to_the_container_process(bundle, ctr_run, ctr_root):
    b = bundle().shell("trap 'echo got-term; exit 3' TERM; echo ready; sleep 30 & wait")
    proc = subprocess.Popen(ctr_command(ctr_run, ctr_root, b), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == "ready\n", proc.stderr.read()
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert (proc.returncode, stdout) == (3, "got-term\n"), stderr


def test_missing_executable_is_reported_like_runc(bundle, run):
    result = run(bundle(["nosuch"]))
    assert_refused(result, 'exec: "nosuch": executable file not found in $PATH')


@pytest.mark.parametrize("mode,nodes,shown", [("MPOL_BIND", "0", "bind:0"),
                                               ("MPOL_INTERLEAVE", "0", "interleave:0"),
                                               ("MPOL_PREFERRED", "0", "prefer:0")])
def test_memory_policy_is_the_process_policy(run, bundle, mode, nodes, shown):
    """linux.memoryPolicy (1.3): set_mempolicy for the container process, as numa_maps shows it
    for each of its mappings."""
    if not os.path.exists("/proc/self/numa_maps"):
        pytest.skip("this kernel has no NUMA support (/proc/self/numa_maps)")
    b = bundle().shell("head -1 /proc/self/numa_maps")
    b.set("linux.memoryPolicy", {"mode": mode, "nodes": nodes})
    result = run(b)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[1] == shown


def test_memory_policy_on_a_node_that_does_not_exist_is_a_clear_error(run, bundle):
    if not os.path.exists("/proc/self/numa_maps"):
        pytest.skip("this kernel has no NUMA support (/proc/self/numa_maps)")
    b = bundle(["true"])
    b.set("linux.memoryPolicy", {"mode": "MPOL_BIND", "nodes": "63"})
    result = run(b)
    assert result.returncode != 0
    assert "linux.memoryPolicy" in result.stderr
