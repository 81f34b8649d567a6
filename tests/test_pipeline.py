"""End to end: the real `dvc repro` in a temporary copy of the repository, on reduced params.

Checks what a user relies on: the whole DAG runs offline on CPU; a second `dvc repro` runs
nothing; `dvc exp run -S metrics.rd_aggregate=mean` re-runs only the metrics stage and what
reads it, and `dvc metrics diff` shows RD moving; `dvc exp run -S attack.steps=N` works.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.conftest import REPO

pytestmark = pytest.mark.slow

REDUCED = {
    "organisms": {
        "org-a": {"hidden_size": 64, "num_layers": 1, "num_heads": 4, "intermediate_size": 128},
        "org-b": {"hidden_size": 64, "num_layers": 2, "num_heads": 4, "intermediate_size": 128},
    },
    "models": {"org-a": {"source": "organism", "path": "models/organisms/org-a"},
               "org-b": {"source": "organism", "path": "models/organisms/org-b"}},
    "organism_training": {"steps": 40, "batch_size": 16},
    "attack": {"steps": 10, "eval_every": 5, "batch_size": 4},
    "generate": {"max_new_tokens": 12},
    "metrics": {"n_boot": 100},
    # 2 temperatures x 2 seeds; the attacked variant at the last saved budget
    "stability": {"temperatures": [0.0, 1.0], "seeds": [42, 43], "attacked_steps": 10,
                  "batch_size": 240, "n_boot": 100},
}


def run(cmd: list[str], cwd: Path) -> str:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout + proc.stderr


def stages_run(output: str) -> list[str]:
    return re.findall(r"Running stage '([^']+)'", output)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A git + DVC copy of the repository's tracked files with reduced params, reproduced once."""
    dst = tmp_path_factory.mktemp("project")
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO,
                           capture_output=True, text=True, check=True).stdout.split("\n")
    for rel in filter(None, files):
        src = REPO / rel
        if src.is_file() and not rel.startswith(("metrics/", "figures/", "paper/tables/")) \
                and rel != "dvc.lock":
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


def test_repro_writes_table1_with_every_model_and_budget(project):
    table = pd.read_csv(project / "metrics/table1.csv")
    assert sorted(zip(table["model"], table["steps"])) == [
        (m, s) for m in ("org-a", "org-b") for s in (0, 5, 10)]
    base, attacked = table[table["steps"] == 0], table[table["steps"] > 0]
    assert base["rd"].isna().all()
    assert (attacked["rd_valid_n"] == attacked["n"]).all()
    assert table["rrr"].between(0, 1).all()


def test_repro_writes_figures_tables_and_side_by_side(project):
    for stem in ("rrr_vs_steps", "rd_vs_steps", "ce_vs_steps", "baseline_rrr_vs_params"):
        for ext in ("png", "pdf"):
            assert (project / "figures" / f"{stem}.{ext}").stat().st_size > 1000
    assert "RRR" in (project / "paper/tables/table1.tex").read_text()
    sbs = pd.read_csv(project / "metrics/baseline_vs_attacked.csv")
    assert set(sbs["model"]) == {"org-a", "org-b"}


def test_repro_writes_stability_metrics_figures_and_table(project):
    per_t = pd.read_csv(project / "metrics/stability_per_temperature.csv")
    assert sorted(set(zip(per_t["model"], per_t["steps"]))) == [
        (m, s) for m in ("org-a", "org-b") for s in (0, 10)]
    assert (per_t.loc[per_t["temperature"] == 0, "mean_ssi"] == 1.0).all()  # greedy reused
    prompts = pd.read_csv(project / "metrics/stability_per_prompt.csv")
    assert prompts["ssi"].between(0, 1).all() and (prompts["n"] == 4).all()
    summary = (project / "metrics/stability.json").read_text()
    assert '"reused_greedy": true' in summary
    for stem in ("ssi_distribution", "flip_rate", "temperature_effect",
                 "stability_vs_compliance", "model_comparison"):
        assert (project / "figures/stability" / f"{stem}.png").stat().st_size > 1000
    assert "Larsen 2025" in (project / "paper/tables/stability.md").read_text()


def test_second_repro_runs_nothing(project):
    out = run(["dvc", "repro"], project)
    assert stages_run(out) == []


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes()
            for folder in ("metrics", "paper/tables", "figures")
            for p in sorted((root / folder).rglob("*")) if p.is_file()}


def test_a_forced_rerun_rewrites_identical_bytes(project):
    # every seed comes from params: training, attack, generation, judge and bootstrap
    before = snapshot(project)
    out = run(["dvc", "repro", "--force"], project)
    assert "attack@org-a" in stages_run(out)
    after = snapshot(project)
    assert before.keys() == after.keys()
    assert [k for k in before if before[k] != after[k]] == []


def test_rd_aggregate_change_reruns_only_metrics_and_reports(project):
    out = run(["dvc", "exp", "run", "-S", "metrics.rd_aggregate=mean"], project)
    assert sorted(stages_run(out)) == ["claims", "figures", "metrics", "scaling", "tables"]
    diff = run(["dvc", "metrics", "diff", "--all"], project)
    assert re.search(r"org-a\.5\.rd\s", diff), diff
    table = pd.read_csv(project / "metrics/table1.csv")
    attacked = table[table["steps"] > 0]
    assert (attacked["rd"] == attacked["rd_mean"]).all()
    run(["git", "checkout", "--", "."], project)
    run(["dvc", "checkout", "-q"], project)


def test_stability_seeds_change_reruns_only_stability_stages(project):
    out = run(["dvc", "exp", "run", "-S", "stability.seeds=[42,43,44]"], project)
    assert sorted(stages_run(out)) == ["claims", "stability", "stability_figures",
                                       "stability_generate@org-a", "stability_generate@org-b"]
    prompts = pd.read_csv(project / "metrics/stability_per_prompt.csv")
    assert (prompts["n"] == 6).all()
    run(["git", "checkout", "--", "."], project)
    run(["dvc", "checkout", "-q"], project)


def test_attack_steps_override_works_as_written(project):
    out = run(["dvc", "exp", "run", "-S", "attack.steps=15"], project)
    assert "attack@org-a" in stages_run(out)
    assert not any(s.startswith("organism@") for s in stages_run(out))
    table = pd.read_csv(project / "metrics/table1.csv")
    assert sorted(set(table["steps"])) == [0, 5, 10, 15]
