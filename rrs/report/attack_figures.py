"""Figures of the attack study, from ``metrics/attacks.csv`` and ``metrics/compute_to_break.json``.

* ``rrr_vs_flops``: one panel per model, RRR (Wilson 95% band) against attacker FLOPs on a log
  axis, one line per attack (training-time LoRA and the prompt attacks together), the 0.5 line
  and each attack's compute-to-break;
* ``compute_to_break``: compute-to-break against parameter count (log-log), one line per
  attack, with bootstrap intervals; arrows mark curves that never crossed (a lower bound).

Deterministic bytes, as :mod:`rrs.report.figures`.
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from rrs.report import format_params
from rrs.report.figures import COLOURS, DPI, MARKERS, RC, _save

ATTACK_ORDER = ("lora", "prefill", "best_of_n", "gcg", "many_shot")
ATTACK_LABELS = {"lora": "LoRA (QLoRA steps)", "prefill": "prefilling (tokens)",
                 "best_of_n": "best-of-N (samples)", "gcg": "GCG (steps)",
                 "many_shot": "many-shot (shots)"}


def _style(attack: str) -> tuple[str, str]:
    i = ATTACK_ORDER.index(attack) if attack in ATTACK_ORDER else len(ATTACK_ORDER)
    return COLOURS[i % len(COLOURS)], MARKERS[i % len(MARKERS)]


def models_by_size(table: pd.DataFrame) -> list[str]:
    first = table.drop_duplicates("model").sort_values(["params", "model"], kind="mergesort")
    return first["model"].tolist()


def rrr_vs_flops(table: pd.DataFrame, breaks: dict, out_stem: str | os.PathLike) -> list[Path]:
    models = models_by_size(table)
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(3.4 * len(models), 3.6), dpi=DPI, layout="constrained")
        FigureCanvasAgg(fig)
        axes = fig.subplots(1, len(models), sharey=True, squeeze=False)[0]
        for ax, model in zip(axes, models):
            rows = table[(table["model"] == model) & table["rrr"].notna()]
            notes = []
            for attack in [a for a in ATTACK_ORDER if a in set(table["attack"])]:
                g = rows[rows["attack"] == attack].sort_values("budget")
                colour, marker = _style(attack)
                if g.empty:
                    status = table[(table["model"] == model) & (table["attack"] == attack)
                                   & (table["status"].fillna("") != "")]["status"]
                    if len(status):
                        notes.append(f"{attack}: {status.iloc[0]}")
                    continue
                ax.plot(g["flops"], g["rrr"], color=colour, marker=marker, lw=1.4, ms=4,
                        label=ATTACK_LABELS.get(attack, attack))
                ax.fill_between(g["flops"], g["rrr_lo"], g["rrr_hi"], color=colour, alpha=0.12,
                                lw=0)
                ctb = breaks.get(model, {}).get(attack, {}).get("flops")
                if ctb:
                    ax.axvline(ctb, color=colour, ls=":", lw=1)
            ax.axhline(0.5, color="grey", ls="--", lw=0.8)
            ax.set_xscale("log")
            ax.set_ylim(-0.03, 1.03)
            ax.set_xlabel("Attacker compute (FLOPs)")
            params = int(rows["params"].iloc[0]) if len(rows) else 0
            ax.set_title(f"{model} ({format_params(params)})")
            for i, note in enumerate(notes):
                ax.text(0.02, 0.03 + 0.07 * i, note, transform=ax.transAxes, fontsize=6,
                        color="dimgrey")
        axes[0].set_ylabel("RRR (refusal rate; 1 - ASR)")
        axes[-1].legend(loc="upper right", fontsize=6.5)
        return _save(fig, out_stem)


def compute_to_break_vs_params(breaks: dict, params: dict, out_stem) -> list[Path]:
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(5.0, 3.6), dpi=DPI, layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        attacks = [a for a in ATTACK_ORDER if any(a in per for per in breaks.values())]
        for attack in attacks:
            colour, marker = _style(attack)
            pts = sorted((params[m], per[attack]) for m, per in breaks.items() if attack in per)
            x = np.array([p for p, _ in pts], dtype=float)
            y = np.array([b["flops"] if b["flops"] else np.nan for _, b in pts])
            lo = np.array([b["lo"] if b["lo"] else np.nan for _, b in pts])
            hi = np.array([b["hi"] if b["hi"] else np.nan for _, b in pts])
            ax.plot(x, y, color=colour, marker=marker, lw=1.4, ms=5,
                    label=ATTACK_LABELS.get(attack, attack))
            ok = ~np.isnan(y)
            ax.errorbar(x[ok], y[ok], yerr=[np.nan_to_num(y - lo)[ok], np.nan_to_num(hi - y)[ok]],
                        fmt="none", ecolor=colour, elinewidth=0.8, capsize=2)
            for p, b in pts:  # never crossed: its grid's largest compute is a lower bound
                if not b["flops"]:
                    ax.scatter([p], [b["bound"]], marker=r"$\uparrow$", color=colour, s=60)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("Parameters")
        ax.set_ylabel("Compute to break (FLOPs, RRR <= 0.5)")
        if attacks:
            ax.legend(fontsize=7)
        return _save(fig, out_stem)


def write_all(table: pd.DataFrame, summary: dict, out_dir: str | os.PathLike) -> list[Path]:
    out = Path(out_dir)
    return (rrr_vs_flops(table, summary["compute_to_break"], out / "rrr_vs_flops")
            + compute_to_break_vs_params(summary["compute_to_break"], summary["params"],
                                         out / "compute_to_break"))


__all__ = ["compute_to_break_vs_params", "rrr_vs_flops", "write_all"]
