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


def make_reduced_project(dst: Path) -> Path:
    """Copy the tracked files (not the committed results) to dst, reduce params, `dvc repro`, commit."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO,
                           capture_output=True, text=True, check=True).stdout.split("\n")
    for rel in filter(None, files):
        src = REPO / rel
        if src.is_file() and not rel.startswith(("metrics/", "figures/", "paper/tables/",
                                                  "paper/generated/")) \
                and rel not in ("dvc.lock", "paper/paper.pdf"):
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst / rel)
    params = yaml.safe_load((dst / "params.yaml").read_text())
    for key, value in REDUCED.items():
        params[key] = value if key in ("organisms", "models") else {**params[key], **value}
    (dst / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    for cmd in (["git", "init", "-q"], ["git", "config", "user.email", "t@t"],
                ["git", "config", "user.name", "t"]):
        run(cmd, dst)
    out = run(["dvc", "repro"], dst)
    assert "organism@org-a" in stages_run(out)
    run(["git", "add", "-A"], dst)
    run(["git", "commit", "-qm", "reduced study"], dst)
    return dst
