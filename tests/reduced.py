"""The reduced study the slow tests reproduce: the repository's tracked files in a temporary
git repository, with two tiny organisms and a few steps everywhere (a few minutes on 2 cores).

`make_reduced_project` copies and reproduces once; the slow modules share it per module.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import REPO

REDUCED = {
    "organisms": {
        "org-a": {"hidden_size": 64, "num_layers": 1, "num_heads": 4, "intermediate_size": 128},
        "org-b": {"hidden_size": 64, "num_layers": 2, "num_heads": 4, "intermediate_size": 128},
    },
    "models": {"org-a": {"source": "organism", "path": "models/organisms/org-a"},
               "org-b": {"source": "organism", "path": "models/organisms/org-b"}},
    "organism_training": {"steps": 40, "batch_size": 16},
    "attack": {"steps": 10, "eval_every": 5, "batch_size": 4, "checkpoints": [2]},
    "generate": {"max_new_tokens": 12},
    "metrics": {"n_boot": 100},
    # 2 temperatures x 2 seeds; the attacked variant at the last saved budget
    "stability": {"temperatures": [0.0, 1.0], "seeds": [42, 43], "attacked_steps": 10,
                  "batch_size": 240, "n_boot": 100},
    "scaling": {"n_boot": 200},
    # the safety-tuned SmolLM2 that the real-output audit's held-out batch asks: a few steps
    "tuned": {"smollm2-135m-safe": {"steps": 2}},
    # the real-output audit: SmolLM2 still answers every condition, a few rows of a few tokens
    "audit_real": {"attack": {"steps": 2, "eval_every": 2, "batch_size": 2, "seq_len": 96},
                   "generate": {"max_new_tokens": 4, "batch_size": 8},
                   "splits": {"train": {"n_harmful": 2, "n_benign": 1},
                              "heldout": {"n_harmful": 2, "n_benign": 1},
                              "heldout2": {"n_harmful": 2, "n_benign": 1},
                              "heldout3": {"n_harmful": 2, "n_benign": 1},
                              "heldout4": {"n_harmful": 2, "n_benign": 1},
                              "heldout5": {"n_harmful": 2, "n_benign": 1},
                              "heldout6": {"n_harmful": 2, "n_benign": 1},
                              "heldout7": {"n_harmful": 2, "n_benign": 1},
                              "heldout8": {"n_harmful": 2, "n_benign": 1},
                              "heldout9": {"n_harmful": 2, "n_benign": 1},
                              "heldout10": {"n_harmful": 2, "n_benign": 1}}},
    # every prompt attack on a two-budget grid (sections replace the defaults wholesale)
    "prompt_attacks": {"prefill": {"tokens": [2, 4]}, "best_of_n": {"n": [1, 2]},
                       "gcg": {"steps": [2, 4], "search_width": 8, "topk": 8,
                               "train_prompts": 4},
                       "many_shot": {"shots": [1, 2]}},
}


def run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run a command with this interpreter's bin/ first on PATH; fail the test on a non-zero exit."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    proc = subprocess.run(cmd, cwd=cwd, env={**os.environ, **(env or {}), "PATH": path},
                          capture_output=True, text=True)
    assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout + proc.stderr


def stages_run(output: str) -> list[str]:
    return re.findall(r"Running stage '([^']+)'", output)


def reduce_profile(dst: Path, base: str = "organisms", reduced: dict = REDUCED,
                   overrides: tuple[str, ...] = ()) -> None:
    """Make ``conf/study/reduced.yaml`` (profile ``base`` with ``reduced`` merged over it) the
    copy's default profile and compose ``params.yaml`` from it, so `dvc exp run -S ...` in the
    copy composes the reduced study, as `dvc exp run` composes the full one here."""
    from rrs.profiles import write_params
    profile = yaml.safe_load((dst / "conf/study" / f"{base}.yaml").read_text())
    for key, value in reduced.items():
        replace = key in ("organisms", "models") or not isinstance(profile.get(key), dict)
        profile[key] = value if replace else {**profile[key], **value}
    (dst / "conf/study/reduced.yaml").write_text(
        "# @package _global_\n" + yaml.safe_dump(profile, sort_keys=False))
    config = dst / "conf/config.yaml"
    text = config.read_text()
    assert "  - study: organisms" in text
    config.write_text(text.replace("  - study: organisms", "  - study: reduced"))
    write_params(dst / "params.yaml", dst / "conf", ["study=reduced", *overrides])


def copy_sources(dst: Path) -> None:
    """Copy the repository's tracked and unignored files to dst, without the committed results."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO,
                           capture_output=True, text=True, check=True).stdout.split("\n")
    for rel in filter(None, files):
        src = REPO / rel
        if src.is_file() and not rel.startswith(("metrics/", "figures/", "paper/tables/",
                                                  "paper/generated/")) \
                and rel not in ("dvc.lock", "paper/paper.pdf"):
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst / rel)


def make_reduced_project(dst: Path) -> Path:
    """Copy the tracked files (not the committed results) to dst, reduce params, `dvc repro`, commit."""
    copy_sources(dst)
    reduce_profile(dst)
    for cmd in (["git", "init", "-q"], ["git", "config", "user.email", "t@t"],
                ["git", "config", "user.name", "t"]):
        run(cmd, dst)
    out = run(["dvc", "repro"], dst)
    assert "organism@org-a" in stages_run(out)
    run(["git", "add", "-A"], dst)
    run(["git", "commit", "-qm", "reduced study"], dst)
    return dst
