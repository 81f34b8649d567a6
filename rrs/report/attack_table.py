"""The attack table, from ``metrics/attacks.csv`` and ``metrics/compute_to_break.json``.

``attacks.tex`` (the paper) and ``attacks.md``: one row per model x attack: refusal rate before
the attack and at the largest budget (Wilson interval), RD and CE at the largest budget,
over-refusal where the attack ran on the benign prompts, the FLOPs of the largest budget and
compute-to-break with its bootstrap interval; an attack that does not apply says why.
``attacks.md`` also lists every budget.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import pandas as pd

from rrs.io import write_text
from rrs.report import format_params
from rrs.report.attack_figures import ATTACK_LABELS, ATTACK_ORDER, models_by_size
from rrs.report.tables import _latex_escape

DASH = "\u2014"


def _isnum(v) -> bool:
    return v is not None and not (isinstance(v, float) and math.isnan(v)) and v != ""


def sci(v, latex: bool = False) -> str:
    """``3.4e+09`` -> ``"3.4e9"`` (Markdown) or ``"$3.4\\times10^{9}$"`` (LaTeX)."""
    if not _isnum(v):
        return DASH
    mant, exp = f"{float(v):.1e}".split("e")
    return f"${mant}\\times10^{{{int(exp)}}}$" if latex else f"{mant}e{int(exp)}"


def _f(v, digits: int = 2) -> str:
    return f"{float(v):.{digits}f}" if _isnum(v) else DASH


def ctb_text(b: dict | None, latex: bool = False) -> str:
    if not b:
        return DASH
    if not b["flops"]:
        return (">" if not latex else "$>$") + sci(b["bound"], latex) + " (not reached)"
    hi = sci(b["hi"], latex) if b["hi"] else "beyond grid"
    return f"{sci(b['flops'], latex)} [{sci(b['lo'], latex)}, {hi}]"


HEADER = ["Model", "Attack", "Max budget", "RRR at 0", "RRR at max [95% CI]", "RD at max",
          "CE at max", "Over-refusal at max", "FLOPs at max", "Compute to break [95% CI]"]


def summary_rows(table: pd.DataFrame, summary: dict, latex: bool = False) -> list[list[str]]:
    rows = []
    breaks = summary["compute_to_break"]
    for model in models_by_size(table):
        mine = table[table["model"] == model]
        name = f"{model} ({format_params(int(mine['params'].iloc[0]))})"
        for attack in [a for a in ATTACK_ORDER if a in set(mine["attack"])]:
            g = mine[(mine["attack"] == attack) & mine["rrr"].notna()].sort_values("budget")
            label = ATTACK_LABELS.get(attack, attack)
            if g.empty:
                status = mine[mine["attack"] == attack]["status"].iloc[0]
                rows.append([name, label, status] + [""] * (len(HEADER) - 3))
                continue
            base, top = g.iloc[0], g.iloc[-1]
            rows.append([
                name, label, str(int(top["budget"])), _f(base["rrr"]),
                f"{_f(top['rrr'])} [{_f(top['rrr_lo'])}, {_f(top['rrr_hi'])}]",
                _f(top["rd"], 3), _f(top["ce"]),
                _f(top["over_refusal"]) if _isnum(top["over_refusal_n"]) and top[
                    "over_refusal_n"] and attack in ("best_of_n", "lora") else DASH,
                sci(top["flops"], latex), ctb_text(breaks.get(model, {}).get(attack), latex)])
    return rows


def attacks_latex(table: pd.DataFrame, summary: dict) -> str:
    rows = summary_rows(table, summary, latex=True)
    lines = [r"\begin{tabular}{llrlllllll}", r"\toprule",
             " & ".join(_latex_escape(h) for h in HEADER) + r" \\", r"\midrule"]
    for r in rows:
        if r[3] == "":  # not applicable: one cell across the metric columns
            lines.append(f"{_latex_escape(r[0])} & {_latex_escape(r[1])} & "
                         f"\\multicolumn{{8}}{{l}}{{{_latex_escape(r[2])}}} \\\\")
        else:
            lines.append(" & ".join([_latex_escape(c) for c in r[:8]] + r[8:]) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"


def attacks_markdown(table: pd.DataFrame, summary: dict) -> str:
    def row(cells):
        return "| " + " | ".join(cells) + " |"
    out = [row(HEADER), row(["---"] * len(HEADER))]
    out += [row(r) for r in summary_rows(table, summary)]
    cols = ["model", "attack", "budget", "flops", "rrr", "asr", "rd", "ce", "over_refusal",
            "status"]
    out += ["", "Every budget (`metrics/attacks.csv`):", "", row(cols), row(["---"] * len(cols))]
    for r in table.to_dict("records"):
        out.append(row([str(r["model"]), str(r["attack"]),
                         str(int(r["budget"])) if _isnum(r["budget"]) else DASH,
                         sci(r["flops"]), _f(r["rrr"]), _f(r["asr"]), _f(r["rd"], 3),
                         _f(r["ce"]), _f(r["over_refusal"]), str(r["status"] or "")]))
    return "\n".join(out) + "\n"


def write_attack_tables(table: pd.DataFrame, summary: dict, out_dir: str | os.PathLike
                        ) -> list[Path]:
    out_dir = Path(out_dir)
    texts = {out_dir / "attacks.tex": attacks_latex(table, summary),
             out_dir / "attacks.md": attacks_markdown(table, summary)}
    for path, text in texts.items():
        write_text(path, text)
    return list(texts)
