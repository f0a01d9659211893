"""Every bundle in oci-spec-examples/ runs with ctr-run and prints what its expected.txt says.

Examples are discovered by listing the directory, so a new one is covered as soon as it exists.
They run in place (root.path "../rootfs"), on the rootfs tests/rootfs.sh builds there.
"""

import subprocess
from pathlib import Path

import pytest


REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "oci-spec-examples"
EXAMPLE_NAMES = sorted(p.name for p in EXAMPLES.iterdir() if (p / "config.json").is_file())


@pytest.fixture(scope="session")
def examples_rootfs():
    subprocess.run([str(REPO / "tests" / "rootfs.sh"), str(EXAMPLES / "rootfs")], check=True)


def expected_lines(name):
    text = (EXAMPLES / name / "expected.txt").read_text()
    return [line for line in text.splitlines() if line.strip()]


def test_examples_exist():
    assert EXAMPLE_NAMES, f"no example bundles found in {EXAMPLES}"


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_example_is_documented(name):
    """Each example has an expected.txt and its line in oci-spec-examples/README.md and in the
    project's README.md."""
    assert (EXAMPLES / name / "expected.txt").is_file(), f"{name}/expected.txt is missing"
    assert expected_lines(name), f"{name}/expected.txt names no expected output"
    for readme in (EXAMPLES / "README.md", REPO / "README.md"):
        assert f"- **{name}**:" in readme.read_text(), \
            f"{readme.relative_to(REPO)} has no line for {name}"


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_example_runs_and_prints_its_expected_output(name, examples_rootfs, run):
    result = run(EXAMPLES / name)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{name} exited {result.returncode}:\n{output}"
    missing = [line for line in expected_lines(name) if line not in output]
    assert not missing, f"{name}'s output lacks {missing}:\n{output}"


def test_quick_start_runs_hello_with_a_generated_id(examples_rootfs, ctr):
    """The README's first command: `ctr-run BUNDLE` runs a bundle in one go."""
    result = ctr(EXAMPLES / "hello")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Hello from inside a libctr container!" in result.stdout
