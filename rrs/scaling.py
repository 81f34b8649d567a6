"""Scaling fits (METRICS.md): a metric against log10(size) and against log10(attack compute).

Two families of least-squares lines, built from ``metrics/table1.csv`` only:

* **size**: at each budget, metric vs ``log10(parameter count)``, one point per model. RRR and
  CE at every budget (steps 0 = baseline), RD at attacked budgets only (undefined at 0).
* **compute**: metric vs ``log10(attack compute)``, attack compute = steps x
  ``attack.batch_size`` x ``attack.seq_len`` (nominal training tokens), one point per attacked
  budget; per model and pooled over models (``all``). Budget 0 has no log.

Each fit carries a percentile bootstrap: the fit's points are resampled with replacement,
resamples with fewer than two distinct x are dropped (their line is undefined) and counted,
and the band is the ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles of the resampled lines
on a grid of x. With three to twelve points this band shows how much the line hangs on single
points; it is not a prompt-level interval (the per-prompt judgements are not in ``metrics/``).
A fit with fewer than two distinct x values is ``not_evaluable``.

Every fit draws from its own generator, seeded by ``scaling.seed`` and a CRC of its name, so
adding or removing a fit never changes another's band.
"""

from __future__ import annotations

import dataclasses
import math
import zlib
from typing import Sequence

import numpy as np
import pandas as pd

from rrs.config import ParamsError

NOT_EVALUABLE = "not_evaluable"
METRICS = ("rrr", "rd", "ce")
AXES = ("params", "compute")


@dataclasses.dataclass(frozen=True)
class ScalingParams:
    """The ``scaling`` section of ``params.yaml``."""
    n_boot: int = 2000  # bootstrap resamples of each fit's points
    seed: int = 0
    level: float = 0.95  # coverage of the slope interval and of the band
    grid: int = 50  # x values (evenly spaced in log10) at which the band is evaluated

    def __post_init__(self):
        if self.n_boot < 1:
            raise ParamsError(f"scaling.n_boot: must be >= 1, got {self.n_boot}")
        if not 0 < self.level < 1:
            raise ParamsError(f"scaling.level: must lie in (0, 1), got {self.level}")
        if self.grid < 2:
            raise ParamsError(f"scaling.grid: must be >= 2, got {self.grid}")


def line_fit(x: Sequence[float], y: Sequence[float]) -> tuple[float, float] | None:
    """Least-squares ``y = intercept + slope * x``; ``None`` with fewer than 2 distinct x.

    Returns:
        ``(slope, intercept)``.
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"need two equal 1-D arrays, got {x.shape} and {y.shape}")
    if np.unique(x).size < 2:
        return None
    mx, my = x.mean(), y.mean()
    slope = float(((x - mx) * (y - my)).sum() / ((x - mx) ** 2).sum())
    return slope, float(my - slope * mx)


def r_squared(x: Sequence[float], y: Sequence[float], slope: float,
              intercept: float) -> float | None:
    """Share of the variance of ``y`` the line explains; ``None`` when ``y`` is constant."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    total = float(((y - y.mean()) ** 2).sum())
    if total == 0:
        return None
    return 1.0 - float(((y - intercept - slope * x) ** 2).sum()) / total


def bootstrap_lines(x: Sequence[float], y: Sequence[float], n_boot: int,
                    rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, int]:
    """Slopes and intercepts of ``n_boot`` resamples of the points (with replacement).

    Returns:
        ``(slopes, intercepts, n_degenerate)``: the lines of the resamples with at least two
        distinct x, in draw order, and how many resamples had fewer (no line).
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    idx = rng.integers(0, x.size, size=(n_boot, x.size))
    bx, by = x[idx], y[idx]
    ok = bx.max(axis=1) > bx.min(axis=1)  # exact test: a mean of equal floats may round
    bx, by = bx[ok], by[ok]
    dx = bx - bx.mean(axis=1, keepdims=True)
    slopes = (dx * (by - by.mean(axis=1, keepdims=True))).sum(axis=1) / (dx ** 2).sum(axis=1)
    intercepts = by.mean(axis=1) - slopes * bx.mean(axis=1)
    return slopes, intercepts, int((~ok).sum())


def fit_rng(seed: int, name: str) -> np.random.Generator:
    """The generator of one fit: ``scaling.seed`` and a CRC-32 of the fit's name."""
    return np.random.default_rng([seed, zlib.crc32(name.encode("utf-8"))])


def _rounded(value: float | None, digits: int = 6) -> float | None:
    return None if value is None or not math.isfinite(value) else round(float(value), digits)


def fit_with_band(name: str, x: Sequence[float], y: Sequence[float], labels: Sequence[str],
                  cfg: ScalingParams) -> tuple[dict, pd.DataFrame]:
    """One fit: the line, its bootstrap intervals and band, and the points it was fitted to.

    Args:
        name: the fit's identity, e.g. ``"rd~log10_params@steps=500"`` (also seeds its draws).
        x, y: the points (x already in log10); NaN y points are dropped first.
        labels: one label per point (model alias or ``model@steps``), kept in the record.
        cfg: the ``scaling`` params.

    Returns:
        ``(record, band)``: the record for ``metrics/scaling.json`` (``status`` ``ok`` or
        ``not_evaluable`` with a ``reason``) and the band on a grid of x as a frame with
        columns ``fit, x, y, lo, hi`` (empty when not evaluable).
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    keep = ~np.isnan(y)
    x, y, labels = x[keep], y[keep], [lab for lab, k in zip(labels, keep) if k]
    record = {"n_points": int(x.size), "n_distinct_x": int(np.unique(x).size),
              "points": {lab: {"x": _rounded(a), "y": _rounded(b)}
                         for lab, a, b in zip(labels, x, y)}}
    empty = pd.DataFrame(columns=["fit", "x", "y", "lo", "hi"])
    line = line_fit(x, y)
    if line is None:
        return {**record, "status": NOT_EVALUABLE,
                "reason": f"{record['n_distinct_x']} distinct x value(s); a line needs 2"}, empty
    slope, intercept = line
    slopes, intercepts, degenerate = bootstrap_lines(x, y, cfg.n_boot, fit_rng(cfg.seed, name))
    q = ((1 - cfg.level) / 2, (1 + cfg.level) / 2)
    grid = np.linspace(x.min(), x.max(), cfg.grid)
    band_lo = band_hi = np.full(grid.size, np.nan)
    slope_ci = intercept_ci = (None, None)
    if slopes.size:
        preds = intercepts[:, None] + slopes[:, None] * grid[None, :]
        band_lo, band_hi = np.quantile(preds, q, axis=0)
        slope_ci = tuple(np.quantile(slopes, q))
        intercept_ci = tuple(np.quantile(intercepts, q))
    record.update({
        "status": "ok", "slope": _rounded(slope), "intercept": _rounded(intercept),
        "slope_lo": _rounded(slope_ci[0]), "slope_hi": _rounded(slope_ci[1]),
        "intercept_lo": _rounded(intercept_ci[0]), "intercept_hi": _rounded(intercept_ci[1]),
        "r2": _rounded(r_squared(x, y, slope, intercept)),
        "band": {"x_min": {"x": _rounded(grid[0]), "lo": _rounded(band_lo[0]),
                           "hi": _rounded(band_hi[0])},
                 "x_max": {"x": _rounded(grid[-1]), "lo": _rounded(band_lo[-1]),
                           "hi": _rounded(band_hi[-1])}},
        "n_boot": cfg.n_boot, "n_boot_degenerate": degenerate})
    band = pd.DataFrame({"fit": name, "x": grid, "y": intercept + slope * grid,
                         "lo": band_lo, "hi": band_hi})
    return record, band.round(6)


def attack_compute(steps: int | np.ndarray, batch_size: int, seq_len: int):
    """Attack compute in nominal training tokens: steps x batch size x sequence length."""
    return np.asarray(steps, dtype=np.float64) * batch_size * seq_len


def fit_name(metric: str, axis: str, group: str) -> str:
    """``"rd~log10_params@steps=500"`` or ``"rd~log10_compute@org-s"``."""
    return f"{metric}~log10_{axis}@{group}"


def scaling_fits(table: pd.DataFrame, batch_size: int, seq_len: int,
                 cfg: ScalingParams) -> tuple[dict, pd.DataFrame]:
    """Every size and compute fit of RRR, RD and CE.

    Args:
        table: the numeric table of :func:`rrs.report.check_table1` (``rd``, ``ce`` chosen).
        batch_size, seq_len: ``attack.batch_size`` and ``attack.seq_len``.
        cfg: the ``scaling`` params.

    Returns:
        ``(fits, bands)``: ``fits[axis][metric][group] = record`` (group: the budget as a
        string for the size axis; a model alias or ``all`` for the compute axis) and the bands
        of all fits, stacked.
    """
    fits: dict = {axis: {m: {} for m in METRICS} for axis in AXES}
    bands = []
    x_size = np.log10(table["params"].to_numpy(np.float64))
    for metric in METRICS:
        for steps in sorted(table["steps"].unique()):
            if metric == "rd" and steps == 0:
                continue  # RD of a baseline with itself is undefined: no fit to attempt
            rows = table["steps"] == steps
            name = fit_name(metric, "params", f"steps={steps}")
            record, band = fit_with_band(name, x_size[rows], table.loc[rows, metric],
                                         list(table.loc[rows, "model"]), cfg)
            fits["params"][metric][str(steps)] = record
            bands.append(band)
        attacked = table[table["steps"] > 0]
        x_compute = np.log10(attack_compute(attacked["steps"].to_numpy(), batch_size, seq_len))
        groups = [(m, (attacked["model"] == m).to_numpy())
                  for m in attacked.drop_duplicates("model")["model"]]
        for group, rows in groups + [("all", np.ones(len(attacked), dtype=bool))]:
            name = fit_name(metric, "compute", group)
            labels = [f"{m}@{s}" for m, s in zip(attacked["model"][rows], attacked["steps"][rows])]
            record, band = fit_with_band(name, x_compute[rows],
                                         attacked.loc[rows, metric].to_numpy(), labels, cfg)
            fits["compute"][metric][group] = record
            bands.append(band)
    stacked = pd.concat([b for b in bands if len(b)], ignore_index=True) if any(
        len(b) for b in bands) else pd.DataFrame(columns=["fit", "x", "y", "lo", "hi"])
    return fits, stacked
