"""Tests for rrs.scaling (line fits, point bootstrap) and its figures, table and stage."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from rrs.config import ParamsError, section
from rrs.report.scaling_figures import FIGURES, write_all
from rrs.report.scaling_table import scaling_rows
from rrs.scaling import (NOT_EVALUABLE, ScalingParams, attack_compute, bootstrap_lines,
                         fit_rng, fit_with_band, line_fit, scaling_fits)

REPO = Path(__file__).resolve().parents[1]
CFG = ScalingParams(n_boot=500, seed=0, level=0.95, grid=5)
NAMES = {"rrr": "RRR", "rd": "RD (median)", "ce": "CE (ce_entropy)"}


def make_table(models: dict[str, int] | None = None, steps=(0, 500, 1000, 2000)) -> pd.DataFrame:
    """A numeric table1: RRR falls with steps; RD and CE are exact lines in log10 x."""
    models = models or {"org-s": 100_000, "org-m": 1_000_000, "org-l": 10_000_000}
    rows = []
    for model, params in models.items():
        for s in steps:
            size = math.log10(params)
            rows.append({"model": model, "params": params, "steps": s,
                         "rrr": 1.0 if s == 0 else 0.0,
                         "rd": math.nan if s == 0 else 0.9 - 0.05 * size,
                         "ce": 0.1 + 0.02 * size + (0.0 if s == 0 else 0.3 * math.log10(s))})
    return pd.DataFrame(rows)


def test_line_fit_recovers_slope_and_intercept_of_exact_line():
    x = np.log10([1e5, 4e5, 1.3e6, 7e6])
    slope, intercept = line_fit(x, 2.0 - 0.5 * x)
    assert slope == pytest.approx(-0.5, abs=1e-12) and intercept == pytest.approx(2.0, abs=1e-12)


@pytest.mark.parametrize("x", [[], [5.0], [5.0, 5.0, 5.0]])
def test_line_fit_needs_two_distinct_x(x):
    assert line_fit(x, [0.1] * len(x)) is None


def test_band_of_exact_line_collapses_onto_the_line():
    x = np.array([5.0, 5.5, 6.0, 6.5])
    record, band = fit_with_band("ce~log10_params@steps=0", x, 0.3 + 0.1 * x, list("abcd"), CFG)
    assert record["status"] == "ok" and record["n_points"] == 4 and record["r2"] == 1.0
    assert record["slope_lo"] == pytest.approx(0.1) and record["slope_hi"] == pytest.approx(0.1)
    assert np.allclose(band["lo"], band["y"]) and np.allclose(band["hi"], band["y"])
    assert np.allclose(band["y"], 0.3 + 0.1 * band["x"])


def test_bootstrap_is_deterministic_for_a_seed_and_changes_with_it():
    x, y = np.array([1.0, 2.0, 3.0, 4.0, 5.0]), np.array([0.2, 0.9, 0.4, 1.3, 0.8])
    first = bootstrap_lines(x, y, 300, fit_rng(7, "fit"))
    again = bootstrap_lines(x, y, 300, fit_rng(7, "fit"))
    other = bootstrap_lines(x, y, 300, fit_rng(8, "fit"))
    assert all(np.array_equal(a, b) for a, b in zip(first[:2], again[:2]))
    assert first[2] == again[2]
    assert not np.array_equal(first[0], other[0])


def test_bootstrap_drops_resamples_with_one_distinct_x():
    slopes, intercepts, degenerate = bootstrap_lines([1.0, 2.0], [0.0, 1.0], 400, fit_rng(0, "f"))
    assert degenerate > 0 and len(slopes) == 400 - degenerate
    assert np.allclose(slopes, 1.0) and np.allclose(intercepts, -1.0)  # the only line there is


def test_fit_with_fewer_than_two_distinct_x_is_not_evaluable():
    record, band = fit_with_band("rd~log10_params@steps=500", [6.0, 6.0], [0.8, 0.9], ["a", "b"],
                                 CFG)
    assert record["status"] == NOT_EVALUABLE and "1 distinct x" in record["reason"]
    assert band.empty and "slope" not in record


def test_undefined_points_are_dropped_before_fitting():
    record, _ = fit_with_band("f", [5.0, 6.0, 7.0], [0.1, math.nan, 0.3], ["a", "b", "c"], CFG)
    assert record["n_points"] == 2 and set(record["points"]) == {"a", "c"}
    assert record["slope"] == pytest.approx(0.1)


def test_scaling_fits_cover_every_budget_and_model():
    fits, bands = scaling_fits(make_table(), batch_size=4, seq_len=64, cfg=CFG)
    assert set(fits["params"]["rrr"]) == {"0", "500", "1000", "2000"}
    assert set(fits["params"]["rd"]) == {"500", "1000", "2000"}  # RD undefined at budget 0
    assert set(fits["compute"]["ce"]) == {"org-s", "org-m", "org-l", "all"}
    rd = fits["params"]["rd"]["500"]
    assert rd["slope"] == pytest.approx(-0.05) and rd["intercept"] == pytest.approx(0.9)
    ce = fits["compute"]["ce"]["org-m"]  # ce = 0.14 + 0.3 log10(steps) = c + 0.3 log10(compute)
    assert ce["slope"] == pytest.approx(0.3) and ce["n_points"] == 3
    assert ce["intercept"] == pytest.approx(0.22 - 0.3 * math.log10(4 * 64))
    assert fits["compute"]["ce"]["all"]["n_points"] == 9
    assert set(bands["fit"]) >= {"rd~log10_params@steps=500", "ce~log10_compute@all"}


def test_attack_compute_is_steps_times_batch_times_sequence_length():
    assert attack_compute(500, 4, 64) == 128_000.0


def test_one_model_makes_size_fits_not_evaluable_but_not_compute_fits():
    fits, _ = scaling_fits(make_table({"org-s": 100_000}), 4, 64, CFG)
    assert all(r["status"] == NOT_EVALUABLE for m in fits["params"].values() for r in m.values())
    assert fits["compute"]["rd"]["org-s"]["status"] == "ok"


def test_a_fit_does_not_depend_on_the_other_fits():
    full, _ = scaling_fits(make_table(), 4, 64, CFG)
    fewer, _ = scaling_fits(make_table().query("model != 'org-l'"), 4, 64, CFG)
    assert full["compute"]["ce"]["org-s"] == fewer["compute"]["ce"]["org-s"]


def test_scaling_params_are_strict():
    assert section({"scaling": {"n_boot": 10}}, "scaling", ScalingParams).n_boot == 10
    with pytest.raises(ParamsError, match="unknown key"):
        section({"scaling": {"n_bot": 10}}, "scaling", ScalingParams)
    with pytest.raises(ParamsError, match="level"):
        ScalingParams(level=1.5)


def test_table_shows_slopes_and_not_evaluable_reasons():
    fits, _ = scaling_fits(make_table({"org-s": 100_000}), 4, 64, CFG)
    header, rows = scaling_rows(fits, NAMES, 0.95)
    assert header[4] == "Slope per decade [95% CI]"
    assert any("not evaluable: 1 distinct x" in r[4] for r in rows)
    ok = [r for r in rows if r[2] == "org-s" and r[0] == "CE (ce_entropy)"][0]
    assert ok[4].startswith("+0.300 [+0.300, +0.300]")


def test_figures_are_written_and_byte_identical_across_writes(tmp_path):
    fits, bands = scaling_fits(make_table(), 4, 64, CFG)
    params = {"org-s": 100_000, "org-m": 1_000_000, "org-l": 10_000_000}
    kw = {"rd_label": "RD (median)", "ce_label": "CE = calibration entropy (bits)"}
    first = write_all(fits, bands, params, tmp_path / "a", **kw)
    second = write_all(fits, bands, params, tmp_path / "b", **kw)
    assert [p.name for p in first] == [f"{n}.{e}" for n in FIGURES for e in ("png", "pdf")]
    for a, b in zip(first, second):
        assert a.stat().st_size > 1000 and a.read_bytes() == b.read_bytes(), a.name


def test_stage_on_committed_metrics_writes_every_output(tmp_path):
    from stages.scaling import cli

    out = tmp_path / "scaling.json"
    args = ["--table", str(REPO / "metrics/table1.csv"),
            "--study", str(REPO / "metrics/study.json"),
            "--out", str(out), "--bands", str(tmp_path / "bands.csv"),
            "--figures-dir", str(tmp_path / "fig"), "--tables-dir", str(tmp_path / "tab"),
            "--params", str(REPO / "params.yaml")]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["config"]["batch_size"] > 0 and data["fits"]["params"]["rd"]
    assert (tmp_path / "tab" / "scaling.md").exists()
    assert (tmp_path / "fig" / "vs_params.png").exists()
