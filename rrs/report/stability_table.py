"""The stability table: our variants beside seed 004's published numbers (Markdown, LaTeX).

Rows: the reference (Larsen 2025, from ``data/reference/stability_larsen2025.csv``), then one
row per model variant from ``metrics/stability.json`` and ``stability_per_temperature.csv``.
The note under the table says the models differ: the reference row is context, not a target.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from rrs.io import read_table, write_text

REFERENCE_COLUMNS = ("model", "dataset", "n_prompts", "judge", "metric", "temperature", "value",
                     "source")


def read_reference(path: str | os.PathLike) -> pd.DataFrame:
    """Seed 004's numbers; ``temperature`` NaN = over all configs; ``value`` a share in [0, 1]."""
    ref = read_table(path, required=REFERENCE_COLUMNS)
    ref["value"] = ref["value"].astype(float)
    ref["temperature"] = pd.to_numeric(ref["temperature"].replace("", np.nan))
    if not ref["value"].between(0, 1).all():
        raise ValueError(f"{path}: every value must be a share in [0, 1]")
    return ref


def _pct(x) -> str:
    return "\u2014" if x is None or x != x else f"{100 * x:.1f}%"


def _num(x) -> str:
    return "\u2014" if x is None or x != x else f"{x:.3f}"


def stability_rows(variants: dict, per_temp: pd.DataFrame, reference: pd.DataFrame
                   ) -> tuple[list[str], list[list[str]]]:
    """Header and cells: Model | Prompts | Mean SSI [95% CI] | Unstable | Flip | R/P/C |
    SSI per T | Comply per T."""
    temps = sorted(set(per_temp["temperature"].astype(float)) | set(
        reference["temperature"].dropna()))
    tlab = "/".join(f"{t:g}" for t in temps)
    header = ["Model", "Prompts", "Mean SSI [95% CI]", "Unstable (SSI<0.8)", "Flip",
              "REFUSE/PARTIAL/COMPLY", f"SSI at T={tlab}", f"Comply at T={tlab}"]
    ref = reference.set_index(["metric", "temperature"])["value"]
    overall = {m: v for (m, t), v in ref.items() if t != t}  # t != t: NaN = all configs
    first = reference.iloc[0]
    rows = [[f"{first['model']} (Larsen 2025, seed 004)", str(first["n_prompts"]),
             _num(overall.get("mean_ssi")), _pct(overall.get("unstable_share")),
             _pct(overall.get("flip_rate")),
             " / ".join(_pct(overall.get(f"share_{k}")) for k in ("refuse", "partial", "comply")),
             " / ".join(_num(ref.get(("mean_ssi", t))) for t in temps),
             " / ".join(_pct(ref.get(("comply_rate", t))) for t in temps)]]
    for model, by_steps in variants.items():  # callers pass them ordered by size
        for steps, v in sorted(by_steps.items(), key=lambda kv: int(kv[0])):
            pt = per_temp[(per_temp["model"] == model)
                          & (per_temp["steps"].astype(int) == int(steps))]
            pt = pt.set_index(pt["temperature"].astype(float))
            name = model if int(steps) == 0 else f"{model} attacked ({steps} steps)"
            ci = "" if v.get("mean_ssi_lo") is None else \
                f" [{v['mean_ssi_lo']:.3f}, {v['mean_ssi_hi']:.3f}]"
            rows.append([name, str(v["n_prompts"]), _num(v["mean_ssi"]) + ci,
                         _pct(v["unstable_share"]), _pct(v["flip_rate"]),
                         " / ".join(_pct(v[f"share_{k}"]) for k in ("refuse", "partial", "comply")),
                         " / ".join(_num(pt["mean_ssi"].get(t)) for t in temps),
                         " / ".join(_pct(pt["comply_rate"].get(t)) for t in temps)])
    return header, rows


NOTE = ("The models differ: the first row is Llama 3.1 8B Instruct on 876 BeaverTails prompts "
        "judged by Llama 3.1 8B (seed 004, as published); the others are this study's organisms "
        "on its 120 redacted synthetic prompts, judged by its `{judge}` judge. Compare "
        "patterns, not values. Temperature 0 is greedy and sampled once per model, reused for "
        "every seed, so its per-temperature SSI is 1.0 by construction ({ref_t0:.3f} in seed 004, which "
        "re-sampled).")


def write_stability_tables(variants: dict, per_temp: pd.DataFrame, reference: pd.DataFrame,
                           judge: str, out_dir: str | os.PathLike,
                           params: dict | None = None) -> list[Path]:
    """Write ``<out_dir>/stability.md`` and ``<out_dir>/stability.tex``.

    Args:
        params: model -> parameter count; rows are ordered by it (then alias) when given.
    """
    params = params or {}
    variants = {m: variants[m] for m in sorted(variants, key=lambda m: (params.get(m, 0), m))}
    header, rows = stability_rows(variants, per_temp, reference)
    t0 = reference[(reference["metric"] == "mean_ssi") & (reference["temperature"] == 0)]
    note = NOTE.format(judge=judge, ref_t0=float(t0["value"].iloc[0]) if len(t0) else float("nan"))

    def md(cells):
        return "| " + " | ".join(c.replace("|", r"\|") for c in cells) + " |"
    markdown = "\n".join([md(header), "|" + "---|" * len(header)] + [md(r) for r in rows])
    esc = {"%": r"\%", "&": r"\&", "_": r"\_", "#": r"\#", "\u2014": "---", "<": r"$<$"}

    def tex(cells):
        return " & ".join("".join(esc.get(ch, ch) for ch in c) for c in cells) + r" \\"
    latex = "\n".join(["% Generated by rrs.report.stability_table from metrics/ and "
                       "data/reference/; do not edit.",
                       r"\begin{tabular}{l" + "r" * (len(header) - 1) + "}",
                       r"\toprule", tex(header), r"\midrule", tex(rows[0]), r"\midrule",
                       *[tex(r) for r in rows[1:]], r"\bottomrule", r"\end{tabular}"])
    paths = {Path(out_dir) / "stability.md": markdown + "\n\n" + note + "\n",
             Path(out_dir) / "stability.tex": latex + "\n% " + note + "\n"}
    for path, text in paths.items():
        write_text(path, text)
    return list(paths)
