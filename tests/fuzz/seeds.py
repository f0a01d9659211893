#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (tests/fuzz/run.sh), from what the repository and
the machine already have, so the seeds never go stale and no binary is committed:

  SPEC_DIR     whole config.json documents, for fuzz_spec: tests/fuzz/corpus/spec/*, every
               oci-spec-examples/*/config.json, the integration tests' default config, podman's
               default seccomp profile inside that config; plus the `process` and
               `linux.resources` objects of each (fuzz_spec also parses its input as exec's
               process.json and as `update --resources`)
  SECCOMP_DIR  linux.seccomp objects, for fuzz_seccomp: tests/fuzz/corpus/seccomp/*, the
               examples' profiles, podman's default profile

usage: seeds.py SPEC_DIR SECCOMP_DIR
"""

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Podman's default profile (golang-github-containers-common), when installed: a real, long one.
PODMAN_SECCOMP = Path("/usr/share/containers/seccomp.json")


_written = set()


def write(directory, name, document):
    text = json.dumps(document, indent=1)
    if (directory, text) not in _written:  # the same object in several configs: one seed
        _written.add((directory, text))
        (directory / name).write_text(text)


def main(spec_dir, seccomp_dir):
    spec_dir.mkdir(parents=True, exist_ok=True)
    seccomp_dir.mkdir(parents=True, exist_ok=True)

    configs = {}
    for path in sorted((REPO / "tests" / "fuzz" / "corpus" / "spec").glob("*.json")):
        configs[f"corpus-{path.stem}"] = json.loads(path.read_text())
    for path in sorted((REPO / "oci-spec-examples").glob("*/config.json")):
        configs[f"example-{path.parent.name}"] = json.loads(path.read_text())
    sys.path.insert(0, str(REPO / "tests" / "integration"))
    sys.dont_write_bytecode = True
    import ctrtest  # noqa: E402 (the integration tests' default configuration)
    default = ctrtest.default_config("rootfs")
    configs["integration-default"] = default

    profiles = {}
    for path in sorted((REPO / "tests" / "fuzz" / "corpus" / "seccomp").glob("*.json")):
        profiles[f"corpus-{path.stem}"] = json.loads(path.read_text())
    for name, config in configs.items():
        if "seccomp" in config.get("linux", {}):
            profiles[name] = config["linux"]["seccomp"]
    if PODMAN_SECCOMP.is_file():
        podman = json.loads(PODMAN_SECCOMP.read_text())
        profiles["podman-default"] = podman
        with_podman = json.loads(json.dumps(default))
        with_podman["linux"]["seccomp"] = podman
        configs["integration-default-podman-seccomp"] = with_podman

    for name, config in configs.items():
        write(spec_dir, f"{name}.json", config)
        if "process" in config:
            write(spec_dir, f"{name}-process.json", config["process"])
        if "resources" in config.get("linux", {}):
            write(spec_dir, f"{name}-resources.json", config["linux"]["resources"])
    for name, profile in profiles.items():
        write(seccomp_dir, f"{name}.json", profile)
    print(f"seeds: {len(list(spec_dir.iterdir()))} for fuzz_spec in {spec_dir}, "
          f"{len(list(seccomp_dir.iterdir()))} for fuzz_seccomp in {seccomp_dir}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(Path(sys.argv[1]), Path(sys.argv[2]))
