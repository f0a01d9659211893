"""`ctr-run features` and `ctr-run spec`.

features (runtime-spec features.md, features-linux.md) is what containerd and podman read to
decide which config fields they may use, so it must not claim what the runtime does not do: every
list is checked here against real containers (each capability granted, each mount option mounted,
each seccomp name loaded), not only against the document's shape.

spec writes runc's default config.json (specconv.Example, and ToRootless with --rootless); both
variants are run as real containers once root.path points at the test rootfs.
"""

import json
import os
import re
import subprocess

import pytest

import ctrtest

# features.md for runtime-spec 1.2.0: "The Features structure MUST NOT contain properties that
# are not defined in this version".
TOP_LEVEL_KEYS = {"ociVersionMin", "ociVersionMax", "hooks", "mountOptions", "annotations",
                  "potentiallyUnsafeConfigAnnotations", "linux"}
LINUX_KEYS = {"namespaces", "capabilities", "cgroup", "seccomp", "apparmor", "selinux",
              "intelRdt", "mountExtensions"}

SECCOMP_ACTIONS = ["SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
                   "SCMP_ACT_TRAP", "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW",
                   "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY"]
SECCOMP_OPERATORS = ["SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE",
                     "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"]
SECCOMP_FLAGS = ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
                 "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]

# Options that only make sense on a bind mount; every other listed option is mounted on a tmpfs.
BIND_ONLY_OPTIONS = {"bind", "rbind", "idmap", "ridmap"}


@pytest.fixture
def features(ctr):
    result = ctr("features", check=True)
    return json.loads(result.stdout)


def version_info(ctr):
    """`ctr-run --version` as a dict: {"spec": "1.2.0", "libseccomp": "2.5.4", ...}."""
    out = ctr("--version", check=True).stdout
    return dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)


# ---- features: the document ------------------------------------------------------------------

def test_features_prints_the_documented_structure(ctr, features):
    assert set(features) <= TOP_LEVEL_KEYS
    assert set(features["linux"]) <= LINUX_KEYS
    assert features["ociVersionMin"] == "1.0.0"
    assert features["ociVersionMax"] == version_info(ctr)["spec"]
    assert features["hooks"] == ["prestart", "createRuntime", "createContainer",
                                 "startContainer", "poststart", "poststop"]
    assert features["potentiallyUnsafeConfigAnnotations"] == []


def test_features_annotations_name_the_versions(ctr, features):
    versions = version_info(ctr)
    annotations = features["annotations"]
    assert annotations["io.github.seccomp.libseccomp.version"] == versions["libseccomp"]
    assert annotations["io.github.libctr.version"] == versions["libctr"]


def test_features_linux_lists_what_libctr_implements(features):
    lx = features["linux"]
    assert sorted(lx["namespaces"]) == sorted(["pid", "network", "mount", "ipc", "uts", "user",
                                               "cgroup", "time"])
    assert lx["cgroup"] == {"v1": True, "v2": True, "systemd": False, "systemdUser": False,
                            "rdma": True}
    # No LSM code and no resctrl code: claiming them would invite configs that fail.
    assert lx["apparmor"] == {"enabled": True}  # built in; this host's lack of the LSM aside
    assert lx["selinux"] == {"enabled": True}
    assert lx["intelRdt"] == {"enabled": True}
    assert lx["mountExtensions"] == {"idmap": {"enabled": True}}


def test_features_seccomp_lists_every_name_the_parser_takes(features):
    seccomp = features["linux"]["seccomp"]
    assert seccomp["enabled"] is True
    assert seccomp["actions"] == SECCOMP_ACTIONS
    assert seccomp["operators"] == SECCOMP_OPERATORS
    assert seccomp["knownFlags"] == SECCOMP_FLAGS
    assert set(seccomp["supportedFlags"]) <= set(seccomp["knownFlags"])
    assert all(re.fullmatch(r"SCMP_ARCH_[A-Z0-9_]+", a) for a in seccomp["archs"])
    assert "SCMP_ARCH_X86_64" in seccomp["archs"] and "SCMP_ARCH_AARCH64" in seccomp["archs"]


def test_features_capabilities_are_spelled_as_the_spec_says(features):
    caps = features["linux"]["capabilities"]
    assert all(re.fullmatch(r"CAP_[A-Z_]+", c) for c in caps)
    assert len(set(caps)) == len(caps)
    assert {"CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_NET_BIND_SERVICE", "CAP_AUDIT_READ"} <= set(caps)


def test_features_mount_options_include_the_oci_extras(features):
    options = features["mountOptions"]
    assert options == sorted(set(options))
    for option in ["bind", "rbind", "ro", "nosuid", "rro", "rnosymfollow", "rprivate",
                   "tmpcopyup", "idmap", "ridmap", "strictatime"]:
        assert option in options


@pytest.mark.parametrize("args", [["extra"], ["--bogus"]])
def test_features_rejects_arguments(ctr, args):
    result = ctr("features", *args)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "ctr-run: features:" in result.stderr


# ---- features: checked against real containers -----------------------------------------------

def test_features_capabilities_are_all_granted(features, bundle, run):
    """Every listed capability in all three sets. The only ones allowed to fail are those this
    host's bounding set lacks (CAP_SYS_RESOURCE here), which the runtime names and refuses."""
    caps = list(features["linux"]["capabilities"])
    b = bundle(["/bin/sh", "-c", "grep '^CapEff:' /proc/self/status"])
    lacking = []
    for _ in range(len(caps)):
        for key in ("bounding", "effective", "permitted"):
            b.process["capabilities"][key] = list(caps)
        result = run(b)
        if result.returncode == 0:
            break
        assert "unknown capability" not in result.stderr
        match = re.search(r"(CAP_[A-Z_]+) is not in the runtime's bounding set", result.stderr)
        assert match, result.stderr
        lacking.append(match.group(1))
        caps.remove(match.group(1))
    assert result.returncode == 0, result.stderr
    effective = int(result.stdout.split()[1], 16)
    assert bin(effective).count("1") == len(caps)

    with open("/proc/self/status") as f:
        host_bounding = int(re.search(r"^CapBnd:\s*([0-9a-f]+)", f.read(), re.M).group(1), 16)
    with open("/proc/sys/kernel/cap_last_cap") as f:
        known_to_kernel = int(f.read()) + 1
    assert len(lacking) <= known_to_kernel - bin(host_bounding).count("1")


def test_features_mount_options_are_recognised(features, bundle, run):
    """One tmpfs per listed option. tmpfs refuses options it does not know, so an option the
    parser did not recognise (and passed on as filesystem data) would fail its mount."""
    options = [o for o in features["mountOptions"] if o not in BIND_ONLY_OPTIONS]
    b = bundle(["/bin/sh", "-c", "grep -c ' /tmp/opt-' /proc/self/mountinfo"])
    for i, option in enumerate(options):
        b.add_mount(f"/tmp/opt-{i}", type="tmpfs", source="tmpfs", options=[option, "size=1m"])
    result = run(b)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(len(options))]


def test_mount_option_unknown_to_the_parser_fails_on_tmpfs(bundle, run):
    """The premise of the test above: an unrecognised option reaches tmpfs, which refuses it."""
    b = bundle(["/bin/true"]).add_mount("/tmp/bogus", type="tmpfs", source="tmpfs",
                                        options=["rnosuchoption"])
    result = run(b)
    assert result.returncode == 1
    assert "/tmp/bogus" in result.stderr


def test_features_bind_options_are_recognised(bundle, run, test_dir):
    source = test_dir / "src"
    source.mkdir()
    (source / "file").write_text("bound\n")
    b = bundle(["/bin/sh", "-c", "cat /tmp/b/file /tmp/rb/file"])
    b.add_mount("/tmp/b", source=str(source), options=["bind"])
    b.add_mount("/tmp/rb", source=str(source), options=["rbind"])
    result = run(b)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["bound", "bound"]


def test_features_idmap_mounts_work(bundle, run, test_dir):
    """mountExtensions.idmap: a bind with its own mappings shows the host's root-owned file as
    owned by the mapped ids."""
    source = test_dir / "src"
    source.mkdir()
    (source / "file").write_text("x")
    b = bundle(["/bin/sh", "-c", "stat -c '%u:%g' /tmp/id/file /tmp/rid/file"])
    maps = {"uidMappings": [{"containerID": 0, "hostID": 1234, "size": 1}],
            "gidMappings": [{"containerID": 0, "hostID": 4321, "size": 1}]}
    for dest, option in (("/tmp/id", ["bind", "idmap"]), ("/tmp/rid", ["rbind", "ridmap"])):
        b.add_mount(dest, source=str(source), options=option)
        b.config["mounts"][-1].update(maps)
    result = run(b)
    if result.returncode != 0 and re.search(r"idmap: (Invalid argument|Operation not supported)",
                                            result.stderr):
        pytest.skip(f"the filesystem of {test_dir} cannot be idmapped: {result.stderr.strip()}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1234:4321", "1234:4321"]


def test_features_seccomp_actions_operators_and_flags_load(features, bundle, run):
    """A filter using every listed action (NOTIFY needs an agent: it has its own tests), every
    operator and every supported flag, on syscalls the container never makes."""
    seccomp = features["linux"]["seccomp"]
    actions = [a for a in seccomp["actions"] if a != "SCMP_ACT_NOTIFY"]
    unused = ["acct", "swapon", "swapoff", "kexec_load", "reboot", "syslog", "delete_module",
              "init_module", "pivot_root", "quotactl"]
    rules = [{"names": [name], "action": action} for name, action in zip(unused, actions)]
    rules.append({"names": ["settimeofday"], "action": "SCMP_ACT_ERRNO",
                  "args": [{"index": i, "value": 1, "valueTwo": 1, "op": op}
                           for i, op in enumerate(seccomp["operators"][:6])]})
    rules.append({"names": ["adjtimex"], "action": "SCMP_ACT_ERRNO",
                  "args": [{"index": 0, "value": 1, "valueTwo": 1,
                            "op": seccomp["operators"][-1]}]})
    b = bundle(["/bin/sh", "-c", "grep '^Seccomp:' /proc/self/status"])
    b.linux["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "flags": seccomp["supportedFlags"],
                          "syscalls": rules}
    result = run(b)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["Seccomp:", "2"]


def test_features_seccomp_archs_are_known(features, bundle, run):
    """Every listed architecture name is one the parser resolves. A filter cannot hold them all
    at once (libseccomp refuses mixing byte orders), so this asks only that none is unknown;
    the control shows what an unknown one looks like."""
    b = bundle(["/bin/true"])
    b.linux["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW",
                          "architectures": features["linux"]["seccomp"]["archs"]}
    result = run(b)
    assert "unknown seccomp architecture" not in result.stderr
    b.linux["seccomp"]["architectures"] = ["SCMP_ARCH_VAX"]
    result = run(b)
    assert result.returncode == 1
    assert "unknown seccomp architecture" in result.stderr


# ---- spec ------------------------------------------------------------------------------------

def spec_in(ctr_run, directory, *args):
    """`ctr-run spec ARGS` run from `directory` (spec writes to the current directory)."""
    return subprocess.run([str(ctr_run), "spec", *map(str, args)], cwd=directory,
                          capture_output=True, text=True, timeout=30, check=False)


def runnable(config, rootfs, args):
    config["root"]["path"] = str(rootfs)
    config["process"]["args"] = list(args)
    return config


def test_spec_writes_runcs_default_config(ctr_run, test_dir, features):
    result = spec_in(ctr_run, test_dir)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    config = json.loads((test_dir / "config.json").read_text())
    assert config["ociVersion"] == features["ociVersionMax"]
    assert config["root"] == {"path": "rootfs", "readonly": True}
    assert config["hostname"] == "ctr"
    process = config["process"]
    assert process["terminal"] is True
    assert process["args"] == ["sh"]
    assert process["user"] == {"uid": 0, "gid": 0}
    assert process["cwd"] == "/"
    assert process["noNewPrivileges"] is True
    caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    assert process["capabilities"] == {"bounding": caps, "effective": caps, "permitted": caps}
    assert process["rlimits"] == [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}]
    assert [m["destination"] for m in config["mounts"]] == [
        "/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup"]
    lx = config["linux"]
    assert lx["resources"] == {"devices": [{"allow": False, "access": "rwm"}]}
    assert [n["type"] for n in lx["namespaces"]] == ["pid", "network", "ipc", "uts", "mount",
                                                    "cgroup"]
    assert "/proc/kcore" in lx["maskedPaths"] and "/proc/sys" in lx["readonlyPaths"]


def test_spec_config_runs(ctr_run, test_dir, rootfs, ctr):
    """The default, as is but for the root and the command: a terminal, a cgroup mount, ..."""
    bundle = test_dir / "bundle"
    bundle.mkdir()
    assert spec_in(ctr_run, test_dir, "--bundle", bundle).returncode == 0
    path = bundle / "config.json"
    config = runnable(json.loads(path.read_text()), rootfs, ["/bin/hostname"])
    path.write_text(json.dumps(config))
    result = ctr("run", "--bundle", bundle, ctrtest.new_id())
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["ctr"]


def test_spec_refuses_to_overwrite(ctr_run, test_dir):
    (test_dir / "config.json").write_text("mine")
    result = spec_in(ctr_run, test_dir, "--bundle", test_dir)
    assert result.returncode == 1
    assert f"File {test_dir}/config.json exists. Remove it first" in result.stderr
    assert (test_dir / "config.json").read_text() == "mine"
    # The same without --bundle: runc's message names the file as given.
    result = spec_in(ctr_run, test_dir)
    assert result.returncode == 1
    assert "File config.json exists. Remove it first" in result.stderr


def test_spec_rootless_maps_the_caller(ctr_run, test_dir, rootfs, ctr):
    result = spec_in(ctr_run, test_dir, "--rootless")
    assert result.returncode == 0, result.stderr
    path = test_dir / "config.json"
    config = json.loads(path.read_text())
    lx = config["linux"]
    types = [n["type"] for n in lx["namespaces"]]
    assert "user" in types and "network" not in types
    assert lx["uidMappings"] == [{"containerID": 0, "hostID": os.geteuid(), "size": 1}]
    assert lx["gidMappings"] == [{"containerID": 0, "hostID": os.getegid(), "size": 1}]
    assert "resources" not in lx
    sys_mount = next(m for m in config["mounts"] if m["destination"] == "/sys")
    assert sys_mount["source"] == "/sys" and "rbind" in sys_mount["options"]
    assert not [o for m in config["mounts"] for o in m.get("options", [])
                if o.startswith(("uid=", "gid="))]

    path.write_text(json.dumps(runnable(config, rootfs, ["/bin/cat", "/proc/self/uid_map"])))
    result = ctr("run", "--bundle", test_dir, ctrtest.new_id())
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["0", str(os.geteuid()), "1"]


@pytest.mark.parametrize("args", [["--bogus"], ["extra"], ["--bundle"]])
def test_spec_rejects_bad_arguments(ctr_run, test_dir, args):
    result = spec_in(ctr_run, test_dir, *args)
    assert result.returncode == 1
    assert result.stderr.strip()
    assert not (test_dir / "config.json").exists()


def test_spec_into_a_missing_directory_fails(ctr_run, test_dir):
    missing = test_dir / "missing"
    result = spec_in(ctr_run, test_dir, "--bundle", missing)
    assert result.returncode == 1
    assert f"{missing}/config.json" in result.stderr
    assert not missing.exists()
