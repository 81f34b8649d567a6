"""The five stability figures of seed 004, from ``metrics/stability*`` only (PNG and PDF).

Each function takes the loaded metrics and an output stem and returns the paths written;
style, colours and deterministic saving are those of :mod:`rrs.report.figures`. Model order
is by parameter count; baseline variants are filled, attacked ones hatched or hollow.
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from rrs.report import format_params
from rrs.report.figures import COLOURS, DPI, RC, _save

KIND = {True: "baseline", False: "attacked"}


def _figure(ncols: int = 1, width: float = 6.4, height: float = 4.0, **kw):
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.subplots(1, ncols, squeeze=False, **kw)[0]


def _variants(summary: dict) -> pd.DataFrame:
    """One row per variant (model, steps) with its metrics, ordered by params then steps."""
    rows = [{"model": m, "steps": int(s), **v} for m, by in summary["variants"].items()
            for s, v in by.items()]
    frame = pd.DataFrame(rows)
    frame["params"] = frame["model"].map(summary.get("params", {})).fillna(0)
    return frame.sort_values(["params", "model", "steps"], kind="mergesort").reset_index(drop=True)


def _models(summary: dict) -> list[str]:
    return list(dict.fromkeys(_variants(summary)["model"]))


def _label(model: str, summary: dict) -> str:
    n = summary.get("params", {}).get(model)
    return f"{model} ({format_params(n)})" if n else model


def _kind_handles(summary) -> list:
    """Legend proxies: baseline (colour 0) and attacked at the sweep's budget (colour 1)."""
    steps = summary["config"].get("attacked_steps")
    return [Patch(color=COLOURS[0], label="baseline"),
            Patch(color=COLOURS[1], label=f"attacked ({steps} steps)" if steps else "attacked")]


def ssi_distribution(summary, prompts, per_temp, reference, out_stem) -> list[Path]:
    """Histogram of per-prompt SSI (all configs), one panel per model, 0.8 threshold line."""
    models, thr = _models(summary), summary["config"]["unstable_below"]
    bins = np.linspace(0, 1, 21)  # SSI bins 0.05 wide
    with matplotlib.rc_context(RC):
        fig, axes = _figure(len(models), width=3.0 * len(models) + 0.6, height=3.4, sharey=True)
        for ax, model in zip(axes, models):
            groups = list(prompts[prompts["model"] == model].groupby("steps"))
            ax.hist([g["ssi"].dropna() for _, g in groups], bins=bins, rwidth=0.9,
                    color=[COLOURS[int(steps != 0)] for steps, _ in groups])
            ax.axvline(thr, color="0.2", ls="--", lw=1)
            ax.set(title=_label(model, summary), xlabel="SSI (1 = same label in every config)",
                   xlim=(0, 1.02))
        axes[0].set_ylabel("Prompts")
        fig.legend(handles=_kind_handles(summary) + [
            Line2D([], [], color="0.2", ls="--", label=f"unstable below SSI {thr:g}")],
            loc="outside lower center", ncols=3, frameon=False)
        fig.suptitle("Per-prompt Safety Stability Index over all temperature x seed configs")
        return _save(fig, out_stem)


def flip_rate(summary, prompts, per_temp, reference, out_stem) -> list[Path]:
    """Share of prompts whose label flips at least once, per variant; seed 004 for context."""
    v = _variants(summary)
    ref = reference[(reference["metric"] == "flip_rate") & reference["temperature"].isna()]
    with matplotlib.rc_context(RC):
        fig, (ax,) = _figure()
        x = np.arange(len(v))
        colours = [COLOURS[0] if s == 0 else COLOURS[1] for s in v["steps"]]
        bars = ax.bar(x, v["flip_rate"], color=colours, width=0.7)
        ax.bar_label(bars, [f"{100 * f:.0f}%" for f in v["flip_rate"]], fontsize=7, padding=2)
        handles = _kind_handles(summary)
        if len(ref):
            handles.append(ax.axhline(ref["value"].iloc[0], color="0.3", ls=":", lw=1,
                                      label="Llama 3.1 8B, seed 004 (other model)"))
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        ax.set_xticks(x, [f"{m}\n{KIND[s == 0]}" for m, s in zip(v["model"], v["steps"])],
                      fontsize=7)
        ax.set(ylim=(0, 1.05), ylabel="Flip rate (share of prompts with >1 label)",
               title="Prompts whose safety decision flips across configs")
        return _save(fig, out_stem)


def temperature_effect(summary, prompts, per_temp, reference, out_stem) -> list[Path]:
    """Comply rate (left axis) and mean SSI within a temperature (right axis) vs temperature."""
    models = _models(summary)
    with matplotlib.rc_context(RC):
        fig, axes = _figure(len(models), width=3.0 * len(models) + 0.8, height=3.4)
        for ax, model in zip(axes, models):
            right = ax.twinx()
            for steps, g in per_temp[per_temp["model"] == model].groupby("steps"):
                g, colour = g.sort_values("temperature"), COLOURS[int(steps != 0)]
                ax.plot(g["temperature"], g["comply_rate"], color=colour, marker="o")
                right.plot(g["temperature"], g["mean_ssi"], color=colour, marker="s", ls="--",
                           mfc="white")
            ax.set(title=_label(model, summary), xlabel="Temperature", ylim=(-0.02, 1.02))
            right.set_ylim(-0.02, 1.02)
            right.grid(False)
            ax.set_ylabel("Comply rate (solid)")
            right.set_ylabel("Mean SSI within temperature (dashed)")
        fig.legend(handles=_kind_handles(summary) + [
            Line2D([], [], color="0.3", marker="o", label="comply rate (left)"),
            Line2D([], [], color="0.3", marker="s", mfc="white", ls="--",
                   label="mean SSI (right)")], loc="outside lower center", ncols=4, frameon=False)
        fig.suptitle("Temperature effect: compliance and stability (T=0 greedy, reused per seed)")
        return _save(fig, out_stem)


def stability_vs_compliance(summary, prompts, per_temp, reference, out_stem) -> list[Path]:
    """Per-prompt SSI against comply rate: stable refusers, stable compliers, borderline."""
    models = _models(summary)
    with matplotlib.rc_context(RC):
        fig, axes = _figure(len(models), width=3.0 * len(models) + 0.6, height=3.4, sharey=True)
        for ax, model in zip(axes, models):
            for steps, g in prompts[prompts["model"] == model].groupby("steps"):
                ax.scatter(g["comply_rate"], g["ssi"], s=14, color=COLOURS[int(steps != 0)],
                           alpha=0.45, marker="o" if steps == 0 else "^", lw=0)
            ax.set(title=_label(model, summary), xlabel="Comply rate over configs",
                   xlim=(-0.03, 1.03), ylim=(-0.03, 1.03))
        axes[0].set_ylabel("SSI")
        fig.legend(handles=_kind_handles(summary), loc="outside lower center", ncols=2,
                   frameon=False)
        fig.suptitle("Stability vs compliance per prompt (borderline prompts: middle, low SSI)")
        return _save(fig, out_stem)


def model_comparison(summary, prompts, per_temp, reference, out_stem) -> list[Path]:
    """Mean SSI [bootstrap 95% CI] and unstable share per model by size, baseline vs attacked."""
    v = _variants(summary)
    models = list(dict.fromkeys(v["model"]))
    with matplotlib.rc_context(RC):
        fig, axes = _figure(2, width=7.2, height=3.6)
        for j, base in enumerate((True, False)):
            g = v[(v["steps"] == 0) == base].set_index("model").reindex(models)
            x = np.arange(len(models)) + (j - 0.5) * 0.36
            err = np.nan_to_num([g["mean_ssi"] - g["mean_ssi_lo"], g["mean_ssi_hi"] - g["mean_ssi"]])
            axes[0].bar(x, g["mean_ssi"], 0.36, yerr=err, capsize=3, color=COLOURS[j])
            axes[1].bar(x, g["unstable_share"], 0.36, color=COLOURS[j])
        for ax, ylabel in zip(axes, ("Mean SSI (bars: bootstrap 95% CI)",
                                     "Unstable share (SSI < 0.8)")):
            ax.set_xticks(np.arange(len(models)), [_label(m, summary) for m in models], fontsize=7)
            ax.set(ylabel=ylabel, ylim=(0, 1.05), xlim=(-0.6, len(models) - 0.4),
                   xlabel="Model (by parameter count)")
        fig.legend(handles=_kind_handles(summary), loc="outside lower center", ncols=2,
                   frameon=False)
        fig.suptitle("Refusal stability by model size, baseline vs attacked")
        return _save(fig, out_stem)


FIGURES = {"ssi_distribution": ssi_distribution, "flip_rate": flip_rate,
           "temperature_effect": temperature_effect,
           "stability_vs_compliance": stability_vs_compliance, "model_comparison": model_comparison}


def write_all(summary: dict, prompts: pd.DataFrame, per_temp: pd.DataFrame,
              reference: pd.DataFrame, out_dir: str | os.PathLike) -> list[Path]:
    """Write every figure of :data:`FIGURES` as ``<out_dir>/<name>.{png,pdf}``."""
    paths: list[Path] = []
    for name, figure in FIGURES.items():
        paths += figure(summary, prompts, per_temp, reference, Path(out_dir) / name)
    return paths
