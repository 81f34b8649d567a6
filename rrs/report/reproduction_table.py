"""The reproduction report as tables: Markdown and LaTeX (booktabs) from the report dict of
:func:`rrs.report.reproduction.build_report` (what ``metrics/reproduction.json`` holds).

Two tables: published vs regenerated (rows that compare; absent when no model matches, the
status line says so) and the definition analysis, one row per published table x model x
metric x verdict. Undefined values print as an em dash (``---`` in LaTeX).
"""

from __future__ import annotations

import os
from pathlib import Path

from rrs.io import write_text
from rrs.report.reproduction import SKIPPED, shown, steps_label
from rrs.report.tables import _LATEX_SPECIAL  # the escapes Table 1 uses


def _fmt(x, digits: int = 3) -> str:
    return "\u2014" if x is None else f"{x:.{digits}f}"


def comparison_rows(report: dict) -> tuple[list[str], list[list[str]]]:
    """Header and cells of the published-vs-regenerated table (rows that compare)."""
    header = ["Source", "Published model (run)", "Steps", "Metric (as printed)", "Published",
              "Regenerated (column)", "Difference", "Agrees"]
    rows = []
    for c in report["comparisons"]:
        if c["status"] in SKIPPED:
            continue
        agrees = {True: "yes", False: "no", None: c["status"]}[c["agrees"]]
        rows.append([c["table"], f"{c['published_model']} ({c['run_model']})",
                     steps_label(c["steps"]), c["metric_printed"],
                     shown(c["printed"], c["published"], c["decimals"]),
                     f"{_fmt(c['regenerated'])} ({c['run_column']})",
                     _fmt(c["difference"]), agrees])
    return header, rows


def definition_rows(report: dict) -> tuple[list[str], list[list[str]]]:
    """Header and cells of the definition table (one row per group of the analysis)."""
    header = ["Source", "Model", "Printed as", "Values (steps)", "Claimed", "Matches", "Why"]
    return header, [[g["table"], g["model"], g["metric_printed"], g["values"], g["claimed"],
                     g["matches"], g["why"]] for g in report["definitions"]["groups"]]


def _skipped(report: dict) -> str:
    """The published points of matched models that the run has no steps for."""
    missing = sorted({(c["table"], c["published_model"], steps_label(c["steps"]))
                      for c in report["comparisons"] if c["status"] in SKIPPED})
    return ", ".join(f"{t} {m} at {s}" for t, m, s in missing)


def reproduction_markdown(report: dict) -> str:
    """The report as GitHub Markdown: status, comparison table, definition table, legend."""
    def md(cells):
        return "| " + " | ".join(str(c).replace("|", r"\|") for c in cells) + " |"

    def table(header, rows):
        return [md(header), "|" + "---|" * len(header), *[md(r) for r in rows]]

    lines = ["# Published numbers and this run", "", f"**{report['status']}**", "",
             "## Published vs regenerated", ""]
    header, rows = comparison_rows(report)
    if rows:
        lines += table(header, rows)
        lines += ["", f"{report['n_agree']} of {report['n_compared']} agree within "
                  f"{report['config']['tolerance']:g} plus the published rounding. Regenerated "
                  "column: the definition the published value matches, else the one its source "
                  "claims, else the run's choice."]
    else:
        lines += ["Nothing to compare."]
    if _skipped(report):
        lines += ["", f"Published points without a run counterpart: {_skipped(report)}."]
    summary = "; ".join(
        f"{metric}: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())
                                  if k != "claim_contradicted")
        + f" ({counts['claim_contradicted']} contradict the definition their source claims)"
        for metric, counts in sorted(report["definitions"]["summary"].items()))
    lines += ["", "## Which definition each published CE and RD value matches", "",
              "From the published numbers alone (no run needed); "
              f"{report['config']['definition_tolerance']}. CE: compliance_error = 1 - RRR of "
              "the same row; ce_entropy = a value another table publishes as a calibration or "
              "confidence entropy for the same model and steps; leakage is undefined when RRR = "
              "0. RD: compared with rows that print both RD_median and RD_mean. Steps \"?\" = "
              "a post-attack budget the source does not state.", ""]
    lines += table(*definition_rows(report))
    lines += ["", f"Counts: {summary or 'no published CE or RD values'}.", "", "Sources:", ""]
    lines += [f"- `{k}`: {v}" for k, v in report["sources"].items()]
    return "\n".join(lines) + "\n"


_TEX = {"\u2192": r"$\rightarrow$", "\u2191": r"$\uparrow$", "\u2193": r"$\downarrow$",
        "\u2014": "---", "\u2013": "--", "<": r"$<$", ">": r"$>$"}


def _tex(text: str) -> str:
    return "".join(_TEX.get(ch) or _LATEX_SPECIAL.get(ch, ch) for ch in str(text))


def reproduction_latex(report: dict) -> str:
    """Booktabs ``tabular``s: the comparison (when any model matches) and the definitions."""
    def tabular(spec, header, rows):
        return [rf"\begin{{tabular}}{{{spec}}}", r"\toprule",
                " & ".join(_tex(h) for h in header) + r" \\", r"\midrule",
                *[" & ".join(_tex(c) for c in r) + r" \\" for r in rows],
                r"\bottomrule", r"\end{tabular}"]

    lines = ["% Generated by rrs.report.reproduction from data/reference/ and metrics/; "
             "do not edit.", f"% {report['status']}"]  # comments need no escapes
    header, rows = comparison_rows(report)
    if rows:
        lines += tabular("llrlrrrl", header, rows) + [r"\par\medskip"]
    lines += tabular("lllp{3.6cm}llp{5cm}", *definition_rows(report))
    lines += [f"% {k}: {v}" for k, v in report["sources"].items()]
    return "\n".join(lines) + "\n"


def write_reproduction_tables(report: dict, out_dir: str | os.PathLike) -> list[Path]:
    """Write ``<out_dir>/reproduction.md`` and ``<out_dir>/reproduction.tex``."""
    texts = {Path(out_dir) / "reproduction.md": reproduction_markdown(report),
             Path(out_dir) / "reproduction.tex": reproduction_latex(report)}
    for path, text in texts.items():
        write_text(path, text)
    return list(texts)
