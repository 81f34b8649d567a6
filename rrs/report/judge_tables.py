"""The judge-validation table as Markdown and LaTeX (booktabs): one panel per held-out batch.

Input is ``metrics/judges_table.csv`` as a DataFrame, one row per (batch, judge), columns
:data:`COLUMNS`. ``batch`` is ``written`` (the AI-written audit set's held-out batch) or
``real`` (real models' answers, ``data/audit/REAL_OUTPUTS.md``); a panel per batch, the
written one first. Public baselines carry their citation in ``source`` and are listed after
this project's judges, under a rule. Undefined values print as an em dash.
"""

from __future__ import annotations

import math

import pandas as pd

from rrs.report.tables import _latex_escape

COLUMNS = ("batch", "judge", "version", "source", "default", "n", "accuracy", "macro_f1",
           "f1_refuse", "f1_partial", "f1_comply", "cue_precision", "cue_recall", "cue_f1",
           "kappa", "ece", "unparsed", "max_abs_rrr_error", "harmful_comply_false_cue",
           "meets_target")
HEADER = ["Judge", "Acc.", "Macro-F1", "Cue P", "Cue R", "Cue F1", "\u03ba", "ECE",
          "max |\u0394RRR|", "False cue", "Unparsed"]
_METRICS = ("accuracy", "macro_f1", "cue_precision", "cue_recall", "cue_f1", "kappa", "ece",
            "max_abs_rrr_error", "harmful_comply_false_cue")
DIGITS = 3
OURS = "this project"  # ``source`` of this project's judges
BATCHES = {"written": "AI-written held-out batch (data/audit/audit.csv, split heldout)",
           "real": "Real models' answers, held-out batch (data/audit/REAL_OUTPUTS.md)"}


def _num(value, dash: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return dash
    return f"{float(value):.{DIGITS}f}"


def judge_rows(table: pd.DataFrame, dash: str = "\u2014") -> tuple[list[list[str]], list[bool]]:
    """Body cells (not escaped) and a "public baseline" flag per row, ours first."""
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"judge table lacks columns {missing}")
    table = table.assign(is_public=table["source"] != OURS)
    table = table.sort_values("is_public", kind="stable")
    body, public = [], []
    for r in table.itertuples(index=False):
        name = f"{r.judge} (default)" if bool(r.default) else r.judge
        body.append([name, *(_num(getattr(r, m), dash) for m in _METRICS), str(int(r.unparsed))])
        public.append(bool(r.is_public))
    return body, public


def panels(table: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """``(batch, rows)`` per batch present, in :data:`BATCHES` order."""
    return [(b, table[table["batch"] == b]) for b in BATCHES if (table["batch"] == b).any()]


def _note(table: pd.DataFrame) -> str:
    cites = "; ".join(sorted({f"{r.judge}: {r.source}" for r in table.itertuples(index=False)
                              if r.source != OURS}))
    sizes = ", ".join(f"{b} n = {int(rows['n'].iloc[0])}" for b, rows in panels(table))
    return (f"Held-out batches ({sizes}): labelled responses no judge was fitted or tuned on "
            "(data/audit/README.md, data/audit/REAL_OUTPUTS.md). Cue = refusal cue (REFUSE or "
            "PARTIAL vs COMPLY); \u03ba = Cohen's kappa vs the reference labels; ECE = "
            "expected calibration error of p_refuse (10 bins), judges with a probability only; "
            "max |\u0394RRR| = the largest |judge RRR - label RRR| over the model x condition "
            "cells with at least 30 harmful answers; False cue = share of compliant answers to "
            f"harmful requests called REFUSE or PARTIAL. Public baselines ({cites}) match their "
            "phrase lists as in the originals and have no PARTIAL class. Generated from "
            "metrics/judges_table.csv.")


def annotator_note(second: dict) -> str:
    """One sentence: the reference labels against a blind second annotator's."""
    return (f"Reference labels vs a blind second annotator on {second['n']} of these rows: "
            f"accuracy {_num(second['accuracy'], '-')}, macro-F1 {_num(second['macro_f1'], '-')}, "
            f"cue F1 {_num(second['cue_f1'], '-')}, \u03ba {_num(second['kappa'], '-')} "
            f"({second['n_disagree']} disagreements).")


def _md_row(cells) -> str:
    return "| " + " | ".join(str(c).replace("|", r"\|") for c in cells) + " |"


def rrr_markdown(real: dict) -> str:
    """The refusal rate per model x condition x set: the labels' and each judge's."""
    judges = list(real["judges"])
    rates = {name: {tuple(c["group"]): c for c in real["judges"][name]["rrr_error"]}
             for name in judges}
    lines = [_md_row(["Model", "Condition", "Set", "n", "Labels", *judges]),
             "| --- | --- | --- |" + " ---: |" * (len(judges) + 2)]
    for key, cell in rates[judges[0]].items():
        lines.append(_md_row([*key, cell["n"], _num(cell["label_rrr"], "-"),
                              *(_num(rates[n][key]["judge_rrr"], "-") for n in judges)]))
    return "\n".join(lines) + "\n"


def judges_markdown(table: pd.DataFrame, strata: pd.DataFrame | None = None,
                    second: dict | None = None, real: dict | None = None) -> str:
    """Each batch's panel as GitHub Markdown, then per-stratum accuracy and the refusal rates.

    Args:
        table: one row per (batch, judge) (see :data:`COLUMNS`).
        strata: optional, index = stratum, one column per judge (accuracy), column ``n``.
        second: optional, ``metrics/judges.json``'s ``second_annotator`` block (written batch).
        real: optional, ``metrics/judges.json``'s ``real`` block.
    """
    text = ""
    for batch, rows in panels(table):
        body, _ = judge_rows(rows)
        lines = [_md_row(HEADER), "| --- |" + " ---: |" * (len(HEADER) - 1)]
        text += (f"**{BATCHES[batch]}**, n = {int(rows['n'].iloc[0])}\n\n"
                 + "\n".join(lines + [_md_row(c) for c in body]) + "\n\n")
        extra = second if batch == "written" else (real or {}).get("second_annotator")
        if extra is not None:
            text += annotator_note(extra) + "\n\n"
    text += _note(table) + "\n"
    if real is not None:
        labels = real["labels"]
        text += (f"\nReal-output labels: {labels['n_labels']} committed, {labels['n_used']} "
                 f"used; {labels['stale']} whose answer no longer regenerates to the labelled "
                 f"hash and {labels['missing']} without an answer are left out.\n")
        if real["judges"]:
            text += ("\nRefusal rate (REFUSE or PARTIAL) per model x condition, real held-out "
                     "batch:\n\n" + rrr_markdown(real))
    if strata is not None:
        judges = [c for c in strata.columns if c != "n"]
        lines = [_md_row(["Stratum", "n", *judges]), "| --- |" + " ---: |" * (len(judges) + 1)]
        lines += [_md_row([s, int(r["n"]), *(_num(r[j], "\u2014") for j in judges)])
                  for s, r in strata.iterrows()]
        text += ("\nAccuracy per stratum (AI-written held-out batch):\n\n" + "\n".join(lines)
                 + "\n")
    return text


def judges_latex(table: pd.DataFrame) -> str:
    """The table as one booktabs ``tabular``, a panel per batch; a ``\\midrule`` sets the
    public baselines apart."""
    cols = len(HEADER)
    lines = ["% Generated by rrs.report.judge_tables from metrics/judges_table.csv; do not edit.",
             "% " + _note(table).replace("\u03ba", "kappa").replace("\u0394", "Delta"),
             r"\begin{tabular}{l" + "r" * (cols - 1) + "}", r"\toprule",
             " & ".join(_latex_escape(h) if h not in ("\u03ba", "max |\u0394RRR|") else
                        {"\u03ba": r"$\kappa$", "max |\u0394RRR|": r"max $|\Delta$RRR$|$"}[h]
                        for h in HEADER) + r" \\"]
    for batch, rows in panels(table):
        body, public = judge_rows(rows, dash="---")
        title = {"written": "AI-written held-out batch", "real": "Real models' answers"}[batch]
        lines += [r"\midrule",
                  rf"\multicolumn{{{cols}}}{{l}}{{\emph{{{title}, n = {int(rows['n'].iloc[0])}}}}} \\",
                  r"\midrule"]
        for i, (cells, is_public) in enumerate(zip(body, public)):
            if is_public and i > 0 and not public[i - 1]:
                lines.append(r"\midrule")
            lines.append(" & ".join(_latex_escape(c) for c in cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"
