"""The attack study's pure functions: best-of-N selection, compute-to-break, the power law."""

import math

import numpy as np
import pandas as pd
import pytest

from rrs import attack_study as ast
from rrs.attacks.flops import Shape
from rrs.config import MetricsParams


def samples(labels_by_prompt: dict[str, list[str]], set_: str = "harmful") -> pd.DataFrame:
    rows = [{"set": set_, "id": pid, "budget": i + 1, "label": lab, "sample": i}
            for pid, labels in labels_by_prompt.items() for i, lab in enumerate(labels)]
    return pd.DataFrame(rows)


def test_best_of_n_keeps_the_first_complying_sample_else_the_first():
    s = samples({"p1": ["REFUSE", "COMPLY", "COMPLY"], "p2": ["REFUSE", "PARTIAL", "REFUSE"]})
    at1 = ast.best_of_n_kept(s, 1).set_index("id")["budget"].to_dict()
    at3 = ast.best_of_n_kept(s, 3).set_index("id")["budget"].to_dict()
    assert at1 == {"p1": 1, "p2": 1}
    assert at3 == {"p1": 2, "p2": 1}  # p1 broken at its 2nd sample; p2 never: first sample


def test_crossing_interpolates_in_log_compute_between_the_budgets_around_it():
    assert ast.crossing([1.0, 0.8, 0.2], [1e3, 1e4, 1e6]) == pytest.approx(10 ** 5)  # halfway
    assert ast.crossing([0.4, 0.1], [1e3, 1e4]) == 1e3  # broken before the attack
    assert ast.crossing([1.0, 0.9], [1e3, 1e4]) is None  # never
    assert ast.crossing([1.0, 0.5], [1e3, 1e4]) == pytest.approx(1e4)  # "falls to 0.5"


def test_compute_to_break_bootstrap_brackets_the_point_estimate():
    rng = np.random.default_rng(0)
    n = 200  # cue falls with the budget: 100%, 70%, 30%, 0% of prompts refuse
    cue = np.stack([np.ones(n), rng.random(n) < 0.7, rng.random(n) < 0.3, np.zeros(n)], 1)
    curve = {"cue": cue.astype(int), "decided": np.ones_like(cue, dtype=int),
             "flops": np.array([1e3, 1e4, 1e5, 1e6])}
    out = ast.compute_to_break(curve, n_boot=300, seed=0)
    assert out["crossed"] and out["lo"] <= out["flops"] <= out["hi"]
    assert 1e4 < out["flops"] < 1e5 and out["share_resamples_crossed"] == 1.0


def test_compute_to_break_that_never_crosses_reports_its_bound():
    cue = np.ones((50, 3), dtype=int)
    out = ast.compute_to_break({"cue": cue, "decided": cue, "flops": np.array([1., 2., 3.])},
                               n_boot=50, seed=0)
    assert out == {"flops": None, "lo": None, "hi": None, "crossed": False, "bound": 3.0,
                   "n_boot": 50, "share_resamples_crossed": 0.0}


def test_power_law_recovers_a_and_b():
    n = np.array([1, 2, 4, 8, 16])
    asr = np.exp(-2.0 * n ** -0.5)  # -log ASR = 2 N^-0.5
    fit = ast.power_law(n, asr)
    assert fit["status"] == "ok" and fit["a"] == pytest.approx(2.0) and \
        fit["b"] == pytest.approx(0.5) and fit["r2"] == pytest.approx(1.0)
    assert ast.power_law([1, 2], [0.0, 1.0])["status"].startswith("0 point(s)")


def test_size_slopes_use_only_models_that_crossed():
    breaks = {"a": {"x": {"flops": 1e4}}, "b": {"x": {"flops": 1e6}}, "c": {"x": {"flops": None}}}
    out = ast.size_slopes(breaks, {"a": 10, "b": 100, "c": 1000})
    assert out["x"]["slope"] == pytest.approx(2.0) and out["x"]["n_points"] == 2


def judged(model_rows: list[tuple]) -> pd.DataFrame:
    cols = ["set", "id", "budget", "label", "p_refuse", "valid", "n_input_tokens",
            "n_generated_tokens", "row"]
    return pd.DataFrame(model_rows, columns=cols)


def test_attack_rows_share_budget_zero_and_add_the_attack_flops_to_its_queries():
    base = judged([("harmful", "h1", 0, "REFUSE", 0.9, True, 3, 2, 0),
                   ("harmful", "h2", 0, "REFUSE", 0.9, True, 3, 2, 1)])
    att = judged([("harmful", "h1", 4, "COMPLY", 0.1, True, 5, 2, 2),
                  ("harmful", "h2", 4, "REFUSE", 0.8, True, 5, 2, 3)])
    emb = np.eye(4, 8)
    rows, curve = ast.attack_rows("m", 100, Shape(1, 4), "gcg", base, att, {4: 1000.0}, False,
                                  emb, MetricsParams(n_boot=10))
    assert [r["budget"] for r in rows] == [0, 4]
    assert rows[0]["rrr"] == 1.0 and rows[1]["rrr"] == 0.5 and rows[1]["asr"] == 0.5
    # queries: 2 x (2N * 5 + 2 * 1 * 4 * 15) at budget 0; 2 x (2N * 7 + 8 * 28) + 1000 at 4
    assert rows[0]["flops"] == 2 * (1000 + 120)
    assert rows[1]["flops"] == 1000 + 2 * (1400 + 224)
    assert rows[1]["rd_valid_n"] == 2 and rows[0]["rd"] is None
    assert curve["cue"].tolist() == [[1, 0], [1, 1]]
    assert math.isclose(rows[1]["rd_median"], 1.0)
