"""End to end: the real `dvc repro` in a temporary copy of the repository, on reduced params.

Checks what a user relies on: the whole DAG runs offline on CPU; a second `dvc repro` runs
nothing; `dvc exp run -S metrics.rd_aggregate=mean` re-runs only the metrics stage and what
reads it, and `dvc metrics diff` shows RD moving; `dvc exp run -S attack.steps=N` works; one
prompt attack's budget grid re-runs that attack only; a judge change re-runs judging only.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from tests.reduced import make_reduced_project, run, stages_run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Iterator[Path]:
    """A git + DVC copy of the repository's tracked files with reduced params, reproduced once
    (about 2 GB with its cache: removed when the module is done)."""
    dst = tmp_path_factory.mktemp("project")
    yield make_reduced_project(dst)
    shutil.rmtree(dst)


def test_repro_writes_table1_with_every_model_and_budget(project):
    table = pd.read_csv(project / "metrics/table1.csv")
    assert sorted(zip(table["model"], table["steps"])) == [
        (m, s) for m in ("org-a", "org-b") for s in (0, 2, 5, 10)]
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
            for folder in ("metrics", "paper/tables", "paper/generated", "figures")
            for p in sorted((root / folder).rglob("*")) if p.is_file()}


def test_a_forced_rerun_rewrites_identical_bytes(project):
    # every seed comes from params: training, attack, generation, judge and bootstrap
    before = snapshot(project)
    pdf_before = (project / "paper/paper.pdf").read_bytes()
    out = run(["dvc", "repro", "--force"], project)
    assert "attack@org-a" in stages_run(out)
    after = snapshot(project)
    assert before.keys() == after.keys()
    assert [k for k in before if before[k] != after[k]] == []
    assert (project / "paper/paper.pdf").read_bytes() == pdf_before  # reproducible PDF


def pdf_text(path: Path) -> str:
    return " ".join(subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                                   capture_output=True, text=True).stdout
                    .replace("\u2019", "'").split())


def test_rd_aggregate_change_reruns_only_metrics_and_reports(project):
    text_before = pdf_text(project / "paper/paper.pdf")
    out = run(["dvc", "exp", "run", "-S", "metrics.rd_aggregate=mean"], project)
    assert sorted(stages_run(out)) == ["attack_metrics", "attack_report", "claims", "figures",
                                       "metrics", "paper", "reproduce", "scaling", "tables"]
    text_after = pdf_text(project / "paper/paper.pdf")
    assert "RD (median)" in text_before and "RD (mean)" in text_after
    assert "This paper's RD is the mean" in text_after
    diff = run(["dvc", "metrics", "diff", "--all"], project)
    assert re.search(r"org-a\.5\.rd\s", diff), diff
    table = pd.read_csv(project / "metrics/table1.csv")
    attacked = table[table["steps"] > 0]
    assert (attacked["rd"] == attacked["rd_mean"]).all()
    run(["git", "checkout", "--", "."], project)
    run(["dvc", "checkout", "-q"], project)


def test_stability_seeds_change_reruns_only_stability_stages(project):
    out = run(["dvc", "exp", "run", "-S", "stability.seeds=[42,43,44]"], project)
    assert sorted(stages_run(out)) == ["claims", "paper", "reproduce", "stability",
                                       "stability_figures",
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
    assert sorted(set(table["steps"])) == [0, 2, 5, 10, 15]
    run(["git", "checkout", "--", "."], project)
    run(["dvc", "checkout", "-q"], project)


ATTACKS = ("prefill", "best_of_n", "gcg", "many_shot")


def test_repro_writes_the_attack_table_and_the_compute_figure(project):
    table = pd.read_csv(project / "metrics/attacks.csv", keep_default_na=False)
    assert set(zip(table["model"], table["attack"])) == {
        (m, a) for m in ("org-a", "org-b") for a in ("lora", *ATTACKS)}
    many = table[table["attack"] == "many_shot"]
    assert len(many) == 2 and many["status"].str.startswith(
        "not applicable: context 64 tokens").all()  # said in the table, never a silent gap
    ran = table[table["status"] == ""]
    assert sorted(set(ran[ran["attack"] == "gcg"]["budget"].astype(int))) == [0, 2, 4]
    assert sorted(set(ran[ran["attack"] == "lora"]["budget"].astype(int))) == [0, 2, 5, 10]
    # one axis: compute grows with the budget for every attack that spends compute of its own;
    # a prefill costs nothing beyond answering (a longer prefill can even shorten the answer)
    for (_, attack), g in ran.groupby(["model", "attack"]):
        flops = g.sort_values("budget")["flops"].astype(float)
        assert (flops > 0).all()
        if attack != "prefill":
            assert flops.iloc[-1] > flops.iloc[0]
    base = ran[ran["budget"].astype(int) == 0].groupby("model")["rrr"].nunique()
    assert (base == 1).all()
    bon = ran[(ran["attack"] == "best_of_n") & (ran["budget"].astype(int) > 0)]
    assert bon["over_refusal"].astype(str).ne("").all()  # benign controls under best-of-N
    summary = (project / "metrics/compute_to_break.json").read_text()
    assert '"best_of_n_power_law"' in summary and '"slope_vs_params"' in summary
    for ext in ("png", "pdf"):
        assert (project / "figures/attacks" / f"rrr_vs_flops.{ext}").stat().st_size > 1000
    md = (project / "paper/tables/attacks.md").read_text()
    assert "not applicable: context 64 tokens" in md
    claims = (project / "metrics/claims.json").read_text()
    assert '"lora-breaks-at-less-compute-than-prompt-attacks"' in claims


def test_one_attack_budget_change_reruns_that_attack_only(project):
    out = run(["dvc", "exp", "run", "-S", "prompt_attacks.gcg.steps=[2,4,6]"], project)
    assert sorted(stages_run(out)) == ["attack_gcg@org-a", "attack_gcg@org-b", "attack_metrics",
                                       "attack_report", "claims", "judge_attacks", "paper"]
    table = pd.read_csv(project / "metrics/attacks.csv")
    assert sorted(set(table[table["attack"] == "gcg"]["budget"])) == [0, 2, 4, 6]
    run(["git", "checkout", "--", "."], project)
    run(["dvc", "checkout", "-q"], project)


def test_a_judge_change_reruns_judging_not_generation(project):
    out = run(["dvc", "exp", "run", "-S", "judge.name=lexical"], project)
    ran = stages_run(out)
    assert "judge" in ran and "judge_attacks" in ran and "stability" in ran
    assert not [s for s in ran if s.startswith(("attack", "generate", "organism"))
                and s not in ("attack_metrics", "attack_report")]
