"""A bad config.json, or a bad command line, fails clearly and touches nothing on the host.

Every bad config goes through the command line a manager uses (`ctr-run run --bundle B ID`) and
must give:
  - a non-zero exit status, and no container run (its process would print CONTAINER_RAN);
  - exactly one line on stderr, naming the JSON path of the offending field
    (`linux.namespaces[6].type`) and the config file it is in;
  - nothing left on the host: no cgroup (checked here in every hierarchy, under ctr-run's default
    parent /ctr/<id>), no mount, no process, no state directory (the autouse leak checker).

The command line itself (--help, --version, unknown subcommand, missing id, missing bundle)
answers with a clear message and a meaningful exit status.
"""

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import pytest

import ctrtest

CONTAINER_RAN = "CONTAINER_RAN"


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------

def container_cgroups(container_id):
    """The cgroup directories ctr-run's default path (/ctr/<id>) would have, that exist now."""
    return [str(Path(h) / "ctr" / container_id) for h in ctrtest.cgroup_hierarchies()
            if (Path(h) / "ctr" / container_id).exists()]


def stderr_lines(result):
    return result.stderr.splitlines()


def assert_one_clear_line(result, *expected):
    """Exactly one line on stderr, containing every string of `expected`."""
    lines = stderr_lines(result)
    assert len(lines) == 1, \
        f"expected exactly one line on stderr, got {len(lines)}:\n{result.stderr}"
    missing = [e for e in expected if e not in lines[0]]
    assert not missing, f"stderr does not name {missing}:\n{lines[0]}"
    return lines[0]


def without_namespace(config, type):
    config["linux"]["namespaces"] = [n for n in config["linux"]["namespaces"]
                                     if n["type"] != type]


def add_namespace(config, type, path=None):
    entry = {"type": type}
    if path is not None:
        entry["path"] = path
    config["linux"]["namespaces"].append(entry)


def set_namespace_path(config, type, path):
    """Makes the container join the namespace at `path` instead of creating its own `type`
    (the default config lists network at index 1)."""
    [entry] = [n for n in config["linux"]["namespaces"] if n["type"] == type]
    entry["path"] = path


def set_path(config, dotted, value):
    *parents, last = dotted.split(".")
    node = config
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = value


def delete_path(config, dotted):
    *parents, last = dotted.split(".")
    node = config
    for key in parents:
        node = node[key]
    del node[last]


# --------------------------------------------------------------------------------------------
# The table of bad configs
# --------------------------------------------------------------------------------------------

@dataclass
class BadConfig:
    """`change(config)` edits the default config in place; `text(config)` instead returns the
    whole config.json text. `names` are what the error line must name besides the file (a JSON
    path, and sometimes the offending value)."""
    id: str
    names: tuple
    change: Optional[Callable] = None
    text: Optional[Callable] = None


# Index the default config's namespaces list ends at: an appended namespace is at this index.
N_DEFAULT_NAMESPACES = 6
N_DEFAULT_MOUNTS = 7


def _seccomp(**overrides):
    profile = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
               "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}]}
    profile.update(overrides)
    return profile


BAD_CONFIGS = [
    # ---- the document itself ----
    BadConfig("malformed_json", ("line 3",),  # where the comma is missing
              text=lambda c: '{\n  "ociVersion": "1.2.0"\n  "root": {"path": "rootfs"}\n}\n'),
    BadConfig("top_level_is_not_an_object", ("object",),
              text=lambda c: "[]"),
    # ---- required fields ----
    BadConfig("oci_version_missing", ("ociVersion",),
              change=lambda c: delete_path(c, "ociVersion")),
    BadConfig("oci_version_major_2_unsupported", ("ociVersion", "2.0.0"),
              change=lambda c: set_path(c, "ociVersion", "2.0.0")),
    BadConfig("oci_version_not_semver", ("ociVersion",),
              change=lambda c: set_path(c, "ociVersion", "1.2")),
    BadConfig("root_missing", ("root",),
              change=lambda c: delete_path(c, "root")),
    BadConfig("root_path_missing", ("root.path",),
              change=lambda c: delete_path(c, "root.path")),
    BadConfig("process_cwd_missing", ("process.cwd",),
              change=lambda c: delete_path(c, "process.cwd")),
    BadConfig("process_args_empty", ("process.args",),
              change=lambda c: set_path(c, "process.args", [])),
    BadConfig("mount_destination_missing", (f"mounts[{N_DEFAULT_MOUNTS}].destination",),
              change=lambda c: c["mounts"].append({"type": "tmpfs", "source": "tmpfs"})),
    # ---- wrong types ----
    BadConfig("oci_version_is_a_number", ("ociVersion",),
              change=lambda c: set_path(c, "ociVersion", 1)),
    BadConfig("root_path_is_a_number", ("root.path",),
              change=lambda c: set_path(c, "root.path", 42)),
    BadConfig("process_args_item_is_a_number", ("process.args[1]",),
              change=lambda c: set_path(c, "process.args", ["/bin/true", 7])),
    BadConfig("process_terminal_is_a_string", ("process.terminal",),
              change=lambda c: set_path(c, "process.terminal", "yes")),
    BadConfig("process_user_uid_is_negative", ("process.user.uid",),
              change=lambda c: set_path(c, "process.user.uid", -1)),
    BadConfig("namespaces_is_an_object", ("linux.namespaces",),
              change=lambda c: set_path(c, "linux.namespaces", {"type": "pid"})),
    BadConfig("memory_limit_is_a_string", ("linux.resources.memory.limit",),
              change=lambda c: set_path(c, "linux.resources.memory", {"limit": "64M"})),
    # ---- unknown names ----
    BadConfig("unknown_namespace_type", (f"linux.namespaces[{N_DEFAULT_NAMESPACES}].type", "foo"),
              change=lambda c: add_namespace(c, "foo")),
    BadConfig("unknown_capability", ("process.capabilities.bounding[14]", "CAP_FLY"),
              change=lambda c: c["process"]["capabilities"]["bounding"].append("CAP_FLY")),
    BadConfig("unknown_rlimit", ("process.rlimits[1].type", "RLIMIT_FOO"),
              change=lambda c: c["process"]["rlimits"].append(
                  {"type": "RLIMIT_FOO", "soft": 1, "hard": 1})),
    BadConfig("unknown_seccomp_default_action", ("linux.seccomp.defaultAction", "SCMP_ACT_MAYBE"),
              change=lambda c: set_path(c, "linux.seccomp",
                                        _seccomp(defaultAction="SCMP_ACT_MAYBE"))),
    BadConfig("unknown_seccomp_syscall_action", ("linux.seccomp.syscalls[0].action",
                                                 "SCMP_ACT_PERHAPS"),
              change=lambda c: set_path(c, "linux.seccomp", _seccomp(
                  syscalls=[{"names": ["mkdir"], "action": "SCMP_ACT_PERHAPS"}]))),
    BadConfig("unknown_seccomp_architecture", ("linux.seccomp.architectures[0]", "SCMP_ARCH_Z80"),
              change=lambda c: set_path(c, "linux.seccomp",
                                        _seccomp(architectures=["SCMP_ARCH_Z80"]))),
    # ---- relative paths where the spec wants absolute ones ----
    BadConfig("relative_cwd", ("process.cwd", "tmp"),
              change=lambda c: set_path(c, "process.cwd", "tmp")),
    BadConfig("relative_hook_path", ("hooks.prestart[0].path", "bin/true"),
              change=lambda c: set_path(c, "hooks", {"prestart": [{"path": "bin/true"}]})),
    BadConfig("relative_namespace_path", ("linux.namespaces[1].path", "proc/1/ns/net"),
              change=lambda c: set_namespace_path(c, "network", "proc/1/ns/net")),
    BadConfig("relative_masked_path", ("linux.maskedPaths[10]", "proc/kcore"),
              change=lambda c: c["linux"]["maskedPaths"].append("proc/kcore")),
    BadConfig("relative_device_path", ("linux.devices[0].path", "dev/fuse"),
              change=lambda c: set_path(c, "linux.devices", [
                  {"path": "dev/fuse", "type": "c", "major": 10, "minor": 229}])),
    # ---- duplicates ----
    BadConfig("duplicate_namespace", (f"linux.namespaces[{N_DEFAULT_NAMESPACES}].type", "pid"),
              change=lambda c: add_namespace(c, "pid")),
    BadConfig("duplicate_rlimit", ("process.rlimits[1].type", "RLIMIT_NOFILE"),
              change=lambda c: c["process"]["rlimits"].append(
                  {"type": "RLIMIT_NOFILE", "soft": 512, "hard": 512})),
    # ---- fields that need something the config does not have ----
    BadConfig("hostname_without_uts_namespace", ("hostname",),
              change=lambda c: without_namespace(c, "uts")),
    BadConfig("uid_mappings_without_user_namespace", ("linux.uidMappings",),
              change=lambda c: (set_path(c, "linux.uidMappings",
                                         [{"containerID": 0, "hostID": 100000, "size": 65536}]),
                                set_path(c, "linux.gidMappings",
                                         [{"containerID": 0, "hostID": 100000, "size": 65536}]))),
    BadConfig("cgroups_path_climbing_out", ("linux.cgroupsPath", "../../escape"),
              change=lambda c: set_path(c, "linux.cgroupsPath", "../../escape")),
    # ---- what this host cannot honour ----
    BadConfig("root_path_does_not_exist", ("root.path", "/nonexistent-ctr-test-rootfs"),
              change=lambda c: set_path(c, "root.path", "/nonexistent-ctr-test-rootfs")),
    BadConfig("namespace_path_does_not_exist", ("linux.namespaces[1].path",
                                                "/proc/self/ns/nonexistent"),
              change=lambda c: set_namespace_path(c, "network", "/proc/self/ns/nonexistent")),
    BadConfig("apparmor_profile_without_apparmor", ("process.apparmorProfile", "ctr-test"),
              change=lambda c: set_path(c, "process.apparmorProfile", "ctr-test")),
    BadConfig("selinux_label_without_selinux", ("process.selinuxLabel",),
              change=lambda c: set_path(c, "process.selinuxLabel",
                                        "system_u:system_r:container_t:s0")),
    BadConfig("capability_outside_the_bounding_set", ("process.capabilities.bounding",
                                                      "CAP_SYS_RESOURCE"),
              change=lambda c: c["process"]["capabilities"]["bounding"].append(
                  "CAP_SYS_RESOURCE")),
]


# --------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------

def test_the_table_covers_at_least_25_bad_configs():
    assert len(BAD_CONFIGS) >= 25
    assert len({case.id for case in BAD_CONFIGS}) == len(BAD_CONFIGS), "duplicate case ids"


@pytest.mark.parametrize("case", BAD_CONFIGS, ids=lambda case: case.id)
def test_bad_config_fails_with_one_line_naming_field_and_file_and_leaves_nothing(
        case, bundle, run):
    b = bundle(["/bin/sh", "-c", f"echo {CONTAINER_RAN}"])
    config_file = b.path / "config.json"
    if case.text is not None:
        b.path.mkdir(parents=True, exist_ok=True)
        config_file.write_text(case.text(b.config))
        target = b.path
    else:
        case.change(b.config)
        target = b  # run() writes config.json from the edited dict
    result = run(target)

    assert result.returncode != 0, f"a bad config ran:\n{result.stdout}{result.stderr}"
    assert CONTAINER_RAN not in result.stdout, "the container's process ran"
    assert_one_clear_line(result, str(config_file), *case.names)
    assert not container_cgroups(result.container_id), "a cgroup was left behind"


def test_missing_config_json_names_the_file(bundle, run, test_dir):
    empty_bundle = test_dir / "empty-bundle"
    empty_bundle.mkdir()
    result = run(empty_bundle)
    assert result.returncode != 0
    assert_one_clear_line(result, str(empty_bundle / "config.json"), "No such file or directory")
    assert not container_cgroups(result.container_id)


def test_missing_bundle_directory_names_the_bundle(ctr, test_dir):
    missing = test_dir / "no-such-bundle"
    container_id = ctrtest.new_id()
    result = ctr("run", "--bundle", missing, container_id)
    assert result.returncode != 0
    assert_one_clear_line(result, str(missing), "No such file or directory")
    assert not container_cgroups(container_id)


# ---- the command line ----

def test_help_prints_usage_on_stdout_and_exits_0(ctr):
    result = ctr("--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: ctr-run"), result.stdout
    assert re.search(r"^\s+run\s", result.stdout, re.M), "--help does not list `run`"
    assert result.stderr == ""


def test_version_prints_runtime_and_spec_versions(ctr):
    result = ctr("--version")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert re.fullmatch(r"ctr-run version \d+\.\d+\.\d+\S*", lines[0]), lines
    assert "spec: 1.2.0" in lines, lines
    assert result.stderr == ""


def test_no_arguments_prints_usage_on_stderr_and_fails(ctr):
    result = ctr()
    assert result.returncode != 0
    assert result.stderr.startswith("Usage: ctr-run"), result.stderr
    assert result.stdout == ""


def test_unknown_subcommand_is_named_in_one_line_and_fails(ctr):
    result = ctr("frobnicate", "ctr-test-x")
    assert result.returncode != 0
    assert_one_clear_line(result, "frobnicate")
    assert result.stdout == ""


def test_run_without_a_container_id_fails_with_a_usage_message(ctr, bundle):
    b = bundle()
    result = ctr("run", "--bundle", b.write())
    assert result.returncode != 0
    assert_one_clear_line(result, "run", "container id")
    assert result.stdout == ""


def test_terminal_true_gives_the_process_a_terminal_or_fails_clearly(bundle, run):
    """process.terminal asks for a pseudo-terminal as the process's stdio. `run` in the
    foreground may provide one (runc does), or refuse the config in one line; running the
    process on plain stdio as if the field were absent is not an option."""
    b = bundle(["/bin/sh", "-c",
                f"[ -t 0 ] && [ -t 1 ] && echo HAS_TERMINAL; echo {CONTAINER_RAN}"])
    b.set("process.terminal", True)
    result = run(b)
    if result.returncode == 0:
        assert "HAS_TERMINAL" in result.stdout, \
            "process.terminal was ignored: the process ran without a terminal"
    else:
        assert CONTAINER_RAN not in result.stdout
        assert_one_clear_line(result, str(b.path / "config.json"), "process.terminal")
    assert not container_cgroups(result.container_id)
