"""examples/embed/embed.c, the program the README shows, builds against libctr and runs a bundle."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import ctrtest

REPO = Path(__file__).resolve().parents[2]
EMBED_C = REPO / "examples" / "embed" / "embed.c"
WARNINGS = ["-Wall", "-Wextra", "-Werror"]


def compiler(build_dir):
    """`cc`, or for a sanitizer build of libctr (tests/sanitize.sh's build-asan) the build's own
    compiler with its -fsanitize: a program linked against that libctr.so needs the same
    sanitizer runtime, loaded first."""
    options = json.loads(subprocess.run(["meson", "introspect", str(build_dir), "--buildoptions"],
                                        capture_output=True, text=True, check=True).stdout)
    sanitize = next((o["value"] for o in options if o["name"] == "b_sanitize"), "none")
    if sanitize != "none":
        targets = json.loads(subprocess.run(["meson", "introspect", str(build_dir), "--targets"],
                                            capture_output=True, text=True, check=True).stdout)
        cc = next(s["compiler"][0] for t in targets for s in t["target_sources"]
                  if s["language"] == "c")
        return f"{cc} -fsanitize={sanitize}"
    cc = shutil.which("cc")
    if cc is None:
        pytest.fail("no C compiler (cc) on PATH", pytrace=False)
    return cc


def compile_or_fail(cmd, **kwargs):
    result = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        pytest.fail(f"compiling embed.c failed: {cmd}\n{result.stdout}{result.stderr}",
                    pytrace=False)


@pytest.fixture(scope="session")
def embed(build_dir, workdir):
    """embed.c compiled against the build tree: the in-tree header and libctr.so, found at run
    time through an rpath."""
    libdir = build_dir / "libctr"
    if not (libdir / "libctr.so").exists():
        pytest.fail(f"{libdir}/libctr.so is missing: build the project first", pytrace=False)
    binary = workdir / "embed"
    compile_or_fail([*compiler(build_dir).split(), *WARNINGS, "-I", str(REPO / "include"),
                     str(EMBED_C), "-o", str(binary), "-L", str(libdir), "-lctr",
                     f"-Wl,-rpath,{libdir}"])
    return binary


def test_embed_runs_a_bundle_and_exits_with_its_status(embed, bundle):
    b = bundle().shell("echo hello from an embedded container; exit 3")
    container_id = ctrtest.new_id()
    result = subprocess.run([str(embed), str(b.write()), container_id], capture_output=True,
                            text=True, stdin=subprocess.DEVNULL, timeout=30)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "hello from an embedded container" in result.stdout
    assert f"container {container_id} exited with status 3" in result.stdout


def test_embed_reports_libctr_errors(embed, test_dir):
    """A bundle without a config.json: the library's error message reaches the caller."""
    empty = test_dir / "no-config"
    empty.mkdir()
    result = subprocess.run([str(embed), str(empty), ctrtest.new_id()], capture_output=True,
                            text=True, stdin=subprocess.DEVNULL, timeout=30)
    assert result.returncode == 125, result.stdout + result.stderr
    assert result.stderr.startswith("embed: create: "), result.stderr
    assert "config.json" in result.stderr, "the message should name the missing file"


def test_readme_compile_line_works_after_meson_install(build_dir, test_dir):
    """`cc embed.c $(pkg-config --cflags --libs libctr)`, as the README says, against a copy of
    the project installed with `meson install --destdir`."""
    if shutil.which("pkg-config") is None:
        pytest.skip("pkg-config is not installed (tests/setup.sh installs it)")
    destdir = test_dir / "install"
    result = subprocess.run(["meson", "install", "-C", str(build_dir), "--no-rebuild", "--quiet",
                             "--destdir", str(destdir)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    pc_files = list(destdir.rglob("pkgconfig/libctr.pc"))
    assert pc_files, f"meson install put no libctr.pc under {destdir}"
    env = dict(os.environ, PKG_CONFIG_PATH=str(pc_files[0].parent),
               PKG_CONFIG_SYSROOT_DIR=str(destdir))
    binary = test_dir / "embed"
    compile_or_fail(["sh", "-c", f'{compiler(build_dir)} {" ".join(WARNINGS)} "$1" -o "$2" '
                     '$(pkg-config --cflags --libs libctr)', "sh", str(EMBED_C), str(binary)],
                    env=env)
    libdirs = {str(p.parent) for p in destdir.rglob("libctr.so*")}
    result = subprocess.run([str(binary)], capture_output=True, text=True,
                            env=dict(os.environ, LD_LIBRARY_PATH=":".join(libdirs)))
    assert result.returncode == 125 and "usage:" in result.stderr, result.stderr


def test_readme_shows_embed_c_as_it_is():
    """The README's embedding section quotes embed.c from its first #include to the end."""
    source = EMBED_C.read_text()
    code = source[source.index("#include"):]
    assert code in (REPO / "README.md").read_text(), \
        "README.md's copy of examples/embed/embed.c is out of date"
