"""requirements.lock: one exact, hashed pin per package, covering pyproject.toml, and installed.

The lock is what `make setup` (so CI) and the Dockerfile install; these tests read the file
itself and the environment the suite runs in.
"""

from __future__ import annotations

import importlib.util
import re
import tomllib
from importlib.metadata import PackageNotFoundError, version

import pytest

from tests.conftest import REPO

PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>\S+) --hash=sha256:[0-9a-f]{64}$")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_pins() -> dict[str, str]:
    """Canonical name -> pinned version, from every non-comment line of the lock."""
    pins = {}
    for line in (REPO / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            match = PIN.match(line)
            assert match, f"not an exact pin with a sha256: {line!r}"
            name = canonical(match["name"])
            assert name not in pins, f"{name} pinned twice"
            pins[name] = match["version"]
    return pins


def requirement_name(requirement: str) -> str:
    return canonical(re.match(r"[A-Za-z0-9._-]+", requirement).group())


def test_every_line_is_one_exact_pin_with_a_sha256():
    pins = lock_pins()
    assert len(pins) > 100  # transitive dependencies included
    assert pins["torch"] == "2.13.0+cpu"


def test_the_lock_covers_every_requirement_pyproject_names():
    meta = tomllib.loads((REPO / "pyproject.toml").read_text())
    named = [*meta["project"]["dependencies"], *meta["build-system"]["requires"]]
    for extra in meta["project"]["optional-dependencies"].values():
        named += extra
    missing = {requirement_name(r) for r in named} - set(lock_pins())
    assert missing == set()


def test_this_environment_runs_exactly_the_lock():
    # true under `make test` (CI), which installs the lock into .venv before running pytest
    wrong = {}
    for name, pinned in lock_pins().items():
        try:
            installed = version(name)
        except PackageNotFoundError:
            installed = None
        if installed != pinned:
            wrong[name] = (pinned, installed)
    assert wrong == {}


@pytest.fixture(scope="module")
def write_lock():
    spec = importlib.util.spec_from_file_location("write_lock", REPO / "scripts/write_lock.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_write_lock_keeps_the_chosen_file_hash_and_skips_the_project(write_lock):
    report = {"install": [
        {"metadata": {"name": "Jinja2", "version": "3.1.6"},
         "download_info": {"url": "https://x/jinja2.whl",
                           "archive_info": {"hashes": {"sha256": "ab" * 32}}}},
        {"metadata": {"name": "rrs", "version": "0.1.0"},
         "download_info": {"url": "file:///repo", "dir_info": {"editable": False}}},
    ]}
    assert write_lock.pins(report) == {"jinja2": f"Jinja2==3.1.6 --hash=sha256:{'ab' * 32}"}


def test_write_lock_refuses_a_file_without_a_sha256(write_lock):
    report = {"install": [{"metadata": {"name": "x", "version": "1"},
                           "download_info": {"url": "https://x", "archive_info": {}}}]}
    with pytest.raises(SystemExit, match="no sha256"):
        write_lock.pins(report)
