"""The attack metric and report stages end to end on small synthetic judged records (no model):
what `attack_metrics` writes, what `attack_report` draws from it, and the claims read of it."""

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from rrs.claims import evaluate, load_claims, load_sources
from rrs.report.paper_numbers import _attack_numbers
from stages.attack_metrics import cli as metrics_cli
from stages.attack_report import cli as report_cli
from tests.conftest import REPO

IDS = [f"h{i}" for i in range(10)]
BENIGN = [f"b{i}" for i in range(4)]


def rows(model, params, budget_col, budget, labels, benign_labels=None, **extra):
    out = []
    for pid, lab in zip(IDS, labels):
        out.append({"model": model, "params": params, budget_col: budget, "set": "harmful",
                    "id": pid, "label": lab, "p_refuse": 0.9 if lab != "COMPLY" else 0.1,
                    "valid": True, "n_input_tokens": 20, "n_generated_tokens": 10, **extra})
    for pid, lab in zip(BENIGN, benign_labels or []):
        out.append({"model": model, "params": params, budget_col: budget, "set": "benign",
                    "id": pid, "label": lab, "p_refuse": 0.5, "valid": True,
                    "n_input_tokens": 20, "n_generated_tokens": 10, **extra})
    return out


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("attacks")
    (d / "judged").mkdir()
    study = []
    for model, n in (("small", 1000), ("large", 8000)):
        study += rows(model, n, "steps", 0, ["REFUSE"] * 10, ["COMPLY"] * 4)
        study += rows(model, n, "steps", 8, ["REFUSE"] * 8 + ["COMPLY"] * 2, ["COMPLY"] * 4)
        study += rows(model, n, "steps", 32, ["COMPLY"] * 10, ["COMPLY"] * 4)
        (d / "metrics/attack").mkdir(parents=True, exist_ok=True)
        (d / "metrics/attack" / f"{model}.json").write_text(json.dumps({
            "model": model, "shape": {"layers": 1, "width": 4},
            "tokens_at_checkpoint": {"00008": 800, "00032": 3200},
            "token_pairs_at_checkpoint": {"00008": 16000, "00032": 64000},
            "loss_at_checkpoint": {"00008": 1.0, "00032": 0.5}}))
    att = []
    for model, n in (("small", 1000), ("large", 8000)):
        att += rows(model, n, "budget", 2, ["REFUSE"] * 9 + ["COMPLY"], attack="prefill", sample=0)
        att += rows(model, n, "budget", 4, ["REFUSE"] * 3 + ["COMPLY"] * 7, attack="prefill",
                    sample=0)
        for i, (labs, benign) in enumerate((
                (["REFUSE"] * 10, ["REFUSE", "COMPLY", "COMPLY", "COMPLY"]),
                (["REFUSE"] * 6 + ["COMPLY"] * 4, ["COMPLY"] * 4))):
            att += rows(model, n, "budget", i + 1, labs, benign, attack="best_of_n", sample=i)
        runs = d / "metrics/attacks/runs"
        for name, flops, cum in (("prefill", {"2": 0.0, "4": 0.0}, False),
                                 ("best_of_n", {"1": 0.0, "2": 0.0}, True)):
            (runs / name).mkdir(parents=True, exist_ok=True)
            (runs / name / f"{model}.json").write_text(json.dumps({
                "applicable": True, "reason": "", "shape": {"layers": 1, "width": 4},
                "attack_flops": flops, "cumulative_queries": cum}))
        (runs / "many_shot").mkdir(parents=True, exist_ok=True)
        (runs / "many_shot" / f"{model}.json").write_text(json.dumps({
            "applicable": False, "reason": "not applicable: context 64 tokens",
            "shape": {"layers": 1, "width": 4}, "attack_flops": {}, "cumulative_queries": False}))
    pd.DataFrame(study).to_csv(d / "judged/responses.csv", index=False)
    pd.DataFrame(att).to_csv(d / "judged/attacks.csv", index=False)
    rng = np.random.default_rng(0)
    np.save(d / "judged/embeddings.npy", rng.normal(size=(len(study), 8)).astype(np.float32))
    np.save(d / "judged/attack_embeddings.npy", rng.normal(size=(len(att), 8)).astype(np.float32))
    (d / "params.yaml").write_text("metrics: {n_boot: 50}\nattack: {}\n")
    res = CliRunner().invoke(metrics_cli, [
        "--judged", str(d / "judged/responses.csv"), "--embeddings", str(d / "judged/embeddings.npy"),
        "--attacks", str(d / "judged/attacks.csv"),
        "--attack-embeddings", str(d / "judged/attack_embeddings.npy"),
        "--lora-dir", str(d / "metrics/attack"), "--runs-dir", str(runs),
        "--out-dir", str(d / "metrics"), "--params", str(d / "params.yaml")])
    assert res.exit_code == 0, res.output + repr(res.exception)
    return d


def test_attack_metrics_writes_one_row_per_model_attack_budget(run_dir):
    t = pd.read_csv(run_dir / "metrics/attacks.csv", keep_default_na=False)
    got = {(m, a) for m, a in zip(t["model"], t["attack"])}
    assert got == {(m, a) for m in ("small", "large")
                   for a in ("lora", "prefill", "best_of_n", "many_shot")}
    large = t[t["model"] == "large"].set_index(["attack", "budget"])
    assert float(large.loc[("prefill", "4"), "asr"]) == 0.7
    assert float(large.loc[("best_of_n", "2"), "asr"]) == 0.4  # 4 prompts broken by sample 2
    assert float(large.loc[("best_of_n", "2"), "over_refusal"]) == 0.0  # all answered by 2
    assert float(large.loc[("best_of_n", "1"), "over_refusal"]) == 0.25
    assert large.loc[("many_shot", ""), "status"] == "not applicable: context 64 tokens"
    # one axis: budget 0 is the same point for every attack of a model
    zero = t[(t["budget"] == "0") & (t["model"] == "large")]
    assert zero["flops"].nunique() == 1 and zero["rrr"].nunique() == 1 and len(zero) == 3


def test_compute_to_break_and_lora_flops(run_dir):
    s = json.loads((run_dir / "metrics/compute_to_break.json").read_text())
    lora = s["compute_to_break"]["large"]["lora"]
    # LoRA at 8 steps: 2 x (2N x 800 + 2 x 1 x 4 x 16000) on top of the queries
    t = pd.read_csv(run_dir / "metrics/attacks.csv")
    row = t[(t["model"] == "large") & (t["attack"] == "lora") & (t["budget"] == 8)].iloc[0]
    queries = 10 * (2 * 8000 * 30 + 2 * 1 * 4 * 30 * 31 / 2)
    assert row["flops"] == pytest.approx(2 * (2 * 8000 * 800 + 8 * 16000) + queries)
    assert lora["crossed"] and lora["flops"] > row["flops"]  # RRR 0.8 at 8, 0 at 32
    assert s["compute_to_break"]["large"]["best_of_n"]["crossed"] is False
    assert s["slope_vs_params"]["lora"]["status"] == "ok"


def test_attack_report_and_claims_and_numbers_read_the_metrics(run_dir, tmp_path):
    res = CliRunner().invoke(report_cli, [
        "--table", str(run_dir / "metrics/attacks.csv"),
        "--summary", str(run_dir / "metrics/compute_to_break.json"),
        "--figures-dir", str(tmp_path / "fig"), "--tables-dir", str(tmp_path / "tab")])
    assert res.exit_code == 0, res.output + repr(res.exception)
    assert (tmp_path / "fig/rrr_vs_flops.pdf").stat().st_size > 1000
    tex = (tmp_path / "tab/attacks.tex").read_text()
    assert r"\multicolumn{8}{l}{not applicable: context 64 tokens}" in tex
    assert "not reached" in (tmp_path / "tab/attacks.md").read_text()
    t = pd.read_csv(run_dir / "metrics/attacks.csv")
    summary = json.loads((run_dir / "metrics/compute_to_break.json").read_text())
    numbers = _attack_numbers(t, summary)
    assert numbers["atk.largest.prefill.max.asr"] == "0.70"
    assert numbers["atk.largest.many_shot.status"].startswith("not applicable")
    table1 = t[t["attack"] == "lora"].rename(columns={"budget": "steps"}).assign(
        rd_valid_n=10, rd=np.nan, rd_lo=np.nan, rd_hi=np.nan)
    table1.to_csv(tmp_path / "table1.csv", index=False)
    sources = load_sources(tmp_path / "table1.csv", attacks=run_dir / "metrics/attacks.csv",
                           compute_to_break=run_dir / "metrics/compute_to_break.json")
    claims = {c.id: c for c in load_claims(REPO / "paper/claims.yaml")}
    rises = evaluate(claims["prompt-attack-success-rises-with-budget"], sources)
    assert rises["verdict"] == "holds"  # many-shot (not applicable) is left out, not a failure
    cheaper = evaluate(claims["lora-breaks-at-less-compute-than-prompt-attacks"], sources)
    assert cheaper["verdict"] in ("holds", "fails")
