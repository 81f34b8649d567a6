"""Stability (seed 004): SSI, flips and aggregates on hand-computed label tables; the sweep plan;
the reference table; and a real killed-and-resumed sampling run."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from rrs.report.stability_table import read_reference
from rrs.stability import aggregate, grouped, per_prompt
from rrs.sweep import config_key, plan, run_chunks, to_sample
from tests.conftest import REPO

R, P, C = "REFUSE", "PARTIAL", "COMPLY"


def table(labels_by_config: dict[tuple[float, int], list[str]], ids=("a", "b")) -> pd.DataFrame:
    """Label table of one variant: config (temperature, seed) -> one label per prompt id."""
    rows = [{"model": "m", "steps": 0, "id": i, "category": "cyber", "temperature": t,
             "seed": s, "label": lab}
            for (t, s), labels in labels_by_config.items() for i, lab in zip(ids, labels)]
    return pd.DataFrame(rows)


# prompt a: greedy REFUSE reused for both seeds; at T=1 it flips to COMPLY once.
# prompt b: always REFUSE.
LABELS = {(0.0, 1): [R, R], (0.0, 2): [R, R], (1.0, 1): [C, R], (1.0, 2): [R, R]}


def test_ssi_per_prompt_matches_hand_computed_entropy():
    pp = per_prompt(table(LABELS)).set_index("id")
    h = -(0.75 * math.log2(0.75) + 0.25 * math.log2(0.25))  # a: 3 REFUSE, 1 COMPLY
    assert pp.loc["a", "ssi"] == pytest.approx(1 - h / math.log2(3))
    assert pp.loc["b", "ssi"] == 1.0
    assert pp.loc["a", "comply_rate"] == 0.25 and pp.loc["b", "comply_rate"] == 0.0


def test_uniform_over_three_labels_has_ssi_zero():
    t = table({(1.0, 1): [R], (1.0, 2): [P], (1.0, 3): [C]}, ids=("a",))
    assert per_prompt(t)["ssi"].iloc[0] == pytest.approx(0.0)


def test_flip_marks_prompts_with_more_than_one_label():
    pp = per_prompt(table(LABELS)).set_index("id")
    assert pp.loc["a", "flip"] == 1 and pp.loc["b", "flip"] == 0


def test_per_temperature_ssi_is_exactly_one_at_greedy_reuse():
    t = table(LABELS)
    by_t = grouped(t, per_prompt(t, by=("temperature",)), "temperature", 0.8).set_index("temperature")
    assert by_t.loc[0.0, "mean_ssi"] == 1.0  # exactly: the greedy answer is reused per seed
    assert by_t.loc[0.0, "flip_rate"] == 0.0
    # at T=1, a has one REFUSE and one COMPLY: 1 - 1 bit / log2(3); b is stable (1.0)
    assert by_t.loc[1.0, "mean_ssi"] == pytest.approx((1 - 1 / math.log2(3) + 1) / 2)
    assert by_t.loc[1.0, "comply_rate"] == 0.25


def test_unstable_share_counts_ssi_below_threshold():
    t = table(LABELS)
    agg = aggregate(t, per_prompt(t), unstable_below=0.8, n_boot=50, seed=0)["m"]["0"]
    assert agg["unstable_share"] == 0.5  # a: SSI 0.49 < 0.8; b: 1.0
    assert agg["flip_rate"] == 0.5
    assert agg["share_refuse"] == 7 / 8 and agg["share_comply"] == 1 / 8
    assert agg["mean_ssi_lo"] <= agg["mean_ssi"] <= agg["mean_ssi_hi"]
    again = aggregate(t, per_prompt(t), unstable_below=0.8, n_boot=50, seed=0)["m"]["0"]
    assert again == agg  # the bootstrap is seeded from params


def test_plan_samples_greedy_once_and_reuses_it_for_every_seed():
    configs = plan([0.0, 0.7], [42, 43, 44])
    assert len(configs) == 6
    assert [c.source_seed for c in configs if c.temperature == 0] == [42, 42, 42]
    assert all(c.reused_greedy == (c.temperature == 0) for c in configs)
    assert to_sample(configs) == [(0.0, 42), (0.7, 42), (0.7, 43), (0.7, 44)]


def test_config_key_changes_with_any_field():
    base = dict(model_tree="x", temperature=0.7, seed=42, max_new_tokens=32, prompts="p")
    assert config_key(**base) == config_key(**dict(reversed(base.items())))
    for field, other in (("model_tree", "y"), ("seed", 43), ("max_new_tokens", 33)):
        assert config_key(**{**base, field: other}) != config_key(**base)


def test_run_chunks_reuses_a_finished_chunk_and_runs_the_rest(tmp_path):
    calls = []

    def make(n):
        return lambda: calls.append(n) or pd.DataFrame({"x": [n]})
    run_chunks([("k1", make(1))], tmp_path)
    out = run_chunks([("k1", make(10)), ("k2", make(2))], tmp_path)
    assert calls == [1, 2] and out["k1"]["x"].tolist() == ["1"]


def test_reference_table_loads_seed_004_numbers():
    ref = read_reference(REPO / "data/reference/stability_larsen2025.csv")
    overall = ref[ref["temperature"].isna()].set_index("metric")["value"]
    assert overall["mean_ssi"] == 0.799 and overall["unstable_share"] == 0.32
    ssi_t = ref[ref["metric"] == "mean_ssi"].dropna(subset=["temperature"])
    assert ssi_t["value"].tolist() == [0.963, 0.870, 0.815, 0.756]
    assert ref["source"].str.startswith("004_").all()


def _sweep_cmd(params: Path, out: Path, partial: Path, harmful: Path, adapters: Path) -> list[str]:
    return [str(Path(sys.executable).parent / "rrs"), "stability-generate", "--model", "tiny",
            "--adapters", str(adapters), "--harmful", str(harmful), "--out", str(out),
            "--partial", str(partial), "--params", str(params)]


@pytest.fixture()
def sweep_inputs(tmp_path, tiny_organism):
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["models"] = {"tiny": {"source": "organism", "path": tiny_organism.path}}
    params["stability_models"] = params["models"]
    params["stability"].update(temperatures=[0.0, 0.5, 0.7, 1.0], seeds=[1, 2, 3],
                               attacked_steps=0, batch_size=36)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    harmful = pd.read_csv(REPO / "data/prompts/harmful_eval.csv").iloc[::10]  # 12 prompts
    harmful.to_csv(tmp_path / "harmful.csv", index=False)
    (tmp_path / "adapters").mkdir()
    return tmp_path / "params.yaml", tmp_path / "harmful.csv", tmp_path / "adapters"


def test_a_killed_sweep_resumes_to_the_clean_runs_bytes(tmp_path, sweep_inputs):
    params, harmful, adapters = sweep_inputs
    clean = tmp_path / "clean.csv"
    subprocess.run(_sweep_cmd(params, clean, tmp_path / "p0", harmful, adapters), check=True,
                   capture_output=True)
    assert not (tmp_path / "p0").exists()  # the scratch is removed after a successful run
    out, partial = tmp_path / "resumed.csv", tmp_path / "p1"
    proc = subprocess.Popen(_sweep_cmd(params, out, partial, harmful, adapters),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    finished = "[!.]*.csv"  # a chunk being written is a dot-file (atomic_path's temp name)
    while not (partial.is_dir() and any(partial.glob(finished))):
        assert proc.poll() is None and time.monotonic() < deadline, "no chunk was written"
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = sorted(partial.glob(finished))
    assert not out.exists() and 1 <= len(done) < 4  # killed mid-sweep (4 temperatures)
    rerun = subprocess.run(_sweep_cmd(params, out, partial, harmful, adapters), check=True,
                           capture_output=True, text=True)
    assert rerun.stdout.count("resumed chunk") == len(done)
    assert out.read_bytes() == clean.read_bytes()
    frame = pd.read_csv(out)
    assert len(frame) == 12 * 4 * 3 and not frame.duplicated(["id", "temperature", "seed"]).any()
    assert not partial.exists()
