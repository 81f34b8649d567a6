"""Scaling-fit figures: RRR, RD and CE against model size and against attack compute.

Each function takes the fit records and bands of :func:`rrs.scaling.scaling_fits`, the axis
labels of the chosen RD and CE variants and an output stem, and writes PNG and PDF with the
deterministic saving of :mod:`rrs.report.figures`. One panel per metric; points are the
fitted values, the line is the least-squares fit in log10 x and the shaded band its
percentile bootstrap band (resampled points).
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from rrs.report import format_params
from rrs.report.figures import COLOURS, DPI, MARKERS, RC, _save
from rrs.scaling import METRICS, fit_name

PANEL_WIDTH, HEIGHT = 3.0, 3.6  # inches per panel; three panels fit a two-column width


def _figure(n: int) -> tuple[Figure, list]:
    fig = Figure(figsize=(PANEL_WIDTH * n + 1.4, HEIGHT), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig, list(fig.subplots(1, n, squeeze=False)[0])


def _budget_colours(budgets: list[int]) -> dict[int, tuple]:
    """Budgets are ordered: a sequential palette (light = more steps), baseline in black."""
    cmap = matplotlib.colormaps["viridis"]
    attacked = [b for b in budgets if b > 0]
    shades = cmap(np.linspace(0.15, 0.85, max(len(attacked), 1)))
    return {0: (0.0, 0.0, 0.0, 1.0), **{b: tuple(c) for b, c in zip(attacked, shades)}}


def _draw_fit(ax, record: dict, band: pd.DataFrame, colour, marker: str, ls: str = "-",
              band_alpha: float = 0.15, points: bool = True) -> bool:
    """Points, line and band of one fit on log-x axes (x stored in log10); False if none."""
    pts = record.get("points", {})
    if points and pts:
        ax.plot([10 ** p["x"] for p in pts.values()], [p["y"] for p in pts.values()],
                ls="none", marker=marker, color=colour, ms=5, zorder=3)
    if record.get("status") != "ok" or band.empty:
        return False
    x = 10 ** band["x"].to_numpy(np.float64)
    ax.plot(x, band["y"], color=colour, ls=ls, lw=1.4, zorder=2)
    ax.fill_between(x, band["lo"], band["hi"], color=colour, alpha=band_alpha, lw=0, zorder=1)
    return True


def _ylabels(rd_label: str, ce_label: str) -> dict[str, str]:
    return {"rrr": "RRR (share refused)", "rd": rd_label, "ce": ce_label}


def _ylim(metric: str, values: list[float], bands: list[pd.DataFrame]):
    """RRR and CE are shares in [0, 1]; RD is zoomed to its points and bands (distances
    cluster near one value, so a [0, 1] axis would hide every difference)."""
    if metric != "rd" or not values:
        return (-0.03, 1.03)
    values = values + [v for b in bands for v in (b["lo"].min(), b["hi"].max()) if v == v]
    lo, hi = min(values), max(values)
    pad = max(0.04 * (hi - lo), 0.005)
    return (lo - pad, hi + pad)


def _note_coincident(ax, drawn: dict[str, dict]) -> None:
    """Say which fits lie exactly on top of each other (only the last drawn is visible)."""
    by_points: dict[tuple, list[str]] = {}
    for name, record in drawn.items():
        key = tuple(sorted((k, p["y"]) for k, p in record.get("points", {}).items()))
        if key:
            by_points.setdefault(key, []).append(name)
    same = [names for names in by_points.values() if len(names) > 1]
    if same:
        text = "\n".join(textwrap.fill(f"same values, lines on top of each other: "
                                       f"{', '.join(n)}", 34) for n in same)
        ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=6.5,
                color="0.25", bbox={"fc": "white", "ec": "0.8", "lw": 0.5})


def vs_params(fits: dict, bands: pd.DataFrame, params: dict[str, int], out_stem, *,
              rd_label: str, ce_label: str) -> list[Path]:
    """Metric vs parameter count, one line per budget (black: baseline, steps 0)."""
    size = fits["params"]
    budgets = sorted({int(g) for m in METRICS for g in size[m]})
    colours, labels = _budget_colours(budgets), _ylabels(rd_label, ce_label)
    with matplotlib.rc_context(RC):
        fig, axes = _figure(len(METRICS))
        for ax, metric in zip(axes, METRICS):
            ys, drawn, shown = [], {}, []
            for i, steps in enumerate(budgets):
                record = size[metric].get(str(steps))
                if record is None:
                    continue
                band = bands[bands["fit"] == fit_name(metric, "params", f"steps={steps}")]
                _draw_fit(ax, record, band, colours[steps], MARKERS[i % len(MARKERS)])
                ys += [p["y"] for p in record["points"].values()]
                drawn[f"{steps} steps"], shown = record, shown + [band]
            _note_coincident(ax, drawn)
            ax.set_xscale("log")
            ticks = sorted(params.items(), key=lambda kv: kv[1])
            ax.set_xticks([p for _, p in ticks], [f"{m}\n{format_params(p)}" for m, p in ticks])
            ax.minorticks_off()
            lo, hi = min(params.values()), max(params.values())
            ax.set_xlim(lo / 1.6, hi * 1.6)
            ax.set(ylim=_ylim(metric, ys, shown), ylabel=labels[metric],
                   title=labels[metric].split(":")[0])
        axes[1].set_xlabel("Model and parameter count (log scale)")
        handles = [Line2D([], [], color=colours[s], marker=MARKERS[i % len(MARKERS)],
                          label="baseline (0 steps)" if s == 0 else f"{s} steps")
                   for i, s in enumerate(budgets)]
        fig.legend(handles=handles, title="Attack budget", loc="outside right upper",
                   frameon=False)
        fig.suptitle("Metric vs log10(parameter count) at each budget "
                     "(line: least squares; band: bootstrap over points)")
        return _save(fig, out_stem)


def vs_compute(fits: dict, bands: pd.DataFrame, params: dict[str, int], out_stem, *,
               rd_label: str, ce_label: str) -> list[Path]:
    """Metric vs attack compute (tokens), one line per model and the pooled fit (dashed)."""
    comp = fits["compute"]
    models = sorted(params, key=lambda m: (params[m], m))
    labels = _ylabels(rd_label, ce_label)
    with matplotlib.rc_context(RC):
        fig, axes = _figure(len(METRICS))
        for ax, metric in zip(axes, METRICS):
            ys, shown, drawn = [], [], {}
            for i, model in enumerate(models):
                record = comp[metric].get(model)
                if record is None:
                    continue
                band = bands[bands["fit"] == fit_name(metric, "compute", model)]
                _draw_fit(ax, record, band, COLOURS[i % len(COLOURS)], MARKERS[i % len(MARKERS)])
                ys += [p["y"] for p in record["points"].values()]
                drawn[model], shown = {"points": {
                    k.split("@")[-1]: p for k, p in record["points"].items()}}, shown + [band]
            _note_coincident(ax, drawn)
            pooled = comp[metric].get("all")
            if pooled is not None:
                band = bands[bands["fit"] == fit_name(metric, "compute", "all")]
                _draw_fit(ax, pooled, band, "0.25", "", ls="--", band_alpha=0.08, points=False)
            ax.set_xscale("log")
            xs = sorted({10 ** p["x"] for r in comp[metric].values() for p in r["points"].values()})
            if xs:
                ax.set_xticks(xs, [f"{x / 1e3:.0f}k" for x in xs])
                ax.set_xlim(xs[0] / 1.15, xs[-1] * 1.15)
            ax.minorticks_off()
            ax.set(ylim=_ylim(metric, ys, shown), ylabel=labels[metric],
                   title=labels[metric].split(":")[0])
        axes[1].set_xlabel("Attack compute: steps x batch x sequence length (tokens, log scale)")
        handles = [Line2D([], [], color=COLOURS[i % len(COLOURS)], marker=MARKERS[i % len(MARKERS)],
                          label=f"{m} ({format_params(params[m])})") for i, m in enumerate(models)]
        handles.append(Line2D([], [], color="0.25", ls="--", label="all models pooled"))
        fig.legend(handles=handles, title="Model", loc="outside right upper", frameon=False)
        fig.suptitle("Metric vs log10(attack compute) per model "
                     "(line: least squares; band: bootstrap over points)")
        return _save(fig, out_stem)


FIGURES = {"vs_params": vs_params, "vs_compute": vs_compute}


def write_all(fits: dict, bands: pd.DataFrame, params: dict[str, int],
              out_dir: str | os.PathLike, *, rd_label: str, ce_label: str) -> list[Path]:
    """Write every figure of :data:`FIGURES` as ``<out_dir>/<name>.{png,pdf}``."""
    paths: list[Path] = []
    for name, figure in FIGURES.items():
        paths += figure(fits, bands, params, Path(out_dir) / name, rd_label=rd_label,
                        ce_label=ce_label)
    return paths
