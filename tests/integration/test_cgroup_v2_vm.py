"""linux.resources on a pure cgroup v2 host with every controller (cpuset cpu io memory hugetlb
pids rdma misc), which this machine is not: a VM under qemu's software emulation boots Debian's
kernel with an initramfs built here (tests/vm/build-initramfs.sh: busybox, ctr-run and its
libraries, the busybox rootfs), runs tests/vm/v2-checks.sh as part of its /init, and powers off.
Each `check NAME` of that script prints `RESULT NAME PASS|FAIL|SKIP detail` on the console; each
is one test here, so a v2 regression fails the suite by name.

Skips, saying why, where qemu-system-x86_64 or a kernel with its modules is missing
(tests/setup.sh installs qemu-system-x86 and linux-image-amd64). CTR_VM_TIMEOUT bounds the VM
(seconds, default 240); the console is kept in the session's work directory.
"""

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
VM_DIR = REPO / "tests" / "vm"
CHECKS = re.findall(r"^check (\w+)$", (VM_DIR / "v2-checks.sh").read_text(), re.MULTILINE)
VM_TIMEOUT = float(os.environ.get("CTR_VM_TIMEOUT", "240"))
# The whole run (build, boot, checks, power-off) is meant to stay within this.
VM_BUDGET = 180


def newest_kernel():
    """(vmlinuz path, version) of the newest kernel in /boot that has its modules, or None."""
    found = []
    for image in Path("/boot").glob("vmlinuz-*"):
        version = image.name[len("vmlinuz-"):]
        if (Path("/lib/modules") / version / "modules.dep").exists():
            found.append((image.stat().st_mtime, image, version))
    return max(found)[1:] if found else None


class VmRun:
    def __init__(self, results, seconds, console):
        self.results = results  # name -> (status, detail)
        self.seconds = seconds
        self.console = console


def parse_results(console):
    results = {}
    for line in console.splitlines():
        match = re.match(r"RESULT (\w+) (PASS|FAIL|SKIP) ?(.*)$", line.strip())
        if match:
            results[match.group(1)] = (match.group(2), match.group(3).strip())
    return results


@pytest.fixture(scope="module")
def vm(ctr_run, build_dir, workdir):
    qemu = shutil.which("qemu-system-x86_64")
    if qemu is None:
        pytest.skip("qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)")
    kernel = newest_kernel()
    if kernel is None:
        pytest.skip("no kernel image with its modules in /boot (apt-get install linux-image-amd64)")
    image, version = kernel
    if not os.access(image, os.R_OK):
        pytest.skip(f"{image} is not readable")

    start = time.monotonic()
    initramfs = workdir / "vm-initramfs.cpio.gz"
    # The unit tests of the cgroup operations have checks that need this VM's kind of host.
    unit_tests = [p for p in [build_dir / "tests" / "unit" / "test_cgroup_ops"] if p.exists()]
    subprocess.run([str(VM_DIR / "build-initramfs.sh"), str(initramfs), str(ctr_run), version,
                    *map(str, unit_tests)], check=True)
    console_path = workdir / "vm-console.log"
    cmd = [qemu, "-accel", "tcg", "-m", "1024", "-smp", "2", "-nographic", "-no-reboot",
           "-nic", "none", "-kernel", str(image), "-initrd", str(initramfs),
           "-append", "console=ttyS0 quiet loglevel=3 panic=-1"]
    with open(console_path, "wb") as out:
        try:
            # run() kills qemu when the timeout expires: no VM outlives the test.
            subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                           timeout=VM_TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            pass
    seconds = time.monotonic() - start
    console = console_path.read_text(errors="replace")
    if "VM-DONE" not in console:
        tail = "\n".join(console.splitlines()[-40:])
        pytest.fail(f"the VM did not finish its checks within {VM_TIMEOUT:g}s "
                    f"(console: {console_path}):\n{tail}", pytrace=False)
    print(f"\ncgroup v2 VM: {len(CHECKS)} checks, {seconds:.1f}s from build to power-off "
          f"(kernel {version}, console in {console_path})")
    return VmRun(parse_results(console), seconds, console)


@pytest.mark.parametrize("name", CHECKS)
def test_v2_vm_check(vm, name):
    if name not in vm.results:
        pytest.fail(f"the VM printed no result for `{name}`", pytrace=False)
    status, detail = vm.results[name]
    if status == "SKIP":
        pytest.skip(f"in the VM: {detail}")
    assert status == "PASS", f"in the VM: {detail}"


def test_v2_vm_reports_no_check_this_file_does_not_know(vm):
    assert set(vm.results) <= set(CHECKS)


def test_v2_vm_run_stays_within_its_time_budget(vm):
    assert vm.seconds < VM_BUDGET, f"the VM run took {vm.seconds:.0f}s"
