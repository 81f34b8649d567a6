"""The reproduction report: published numbers beside this run's, and the definition analysis.

Inputs are the published numbers (:func:`rrs.reference.read_reference_dir`), this run's
``metrics/table1.csv`` with ``metrics/study.json`` (which RD aggregate and CE definition the
run calls "RD" and "CE") and seed 004's stability metrics. A run model is compared with a
published one only when ``reference.model_aliases`` maps it there or it has the published
name; otherwise the report says that no model matches and compares nothing. The definition
analysis (:func:`rrs.reference.definition_analysis`) needs no run and is always written.

:func:`build_report` returns the whole report (``metrics/reproduction_details.json``),
:func:`summary_metrics` its numbers for DVC (``metrics/reproduction.json``), and
:mod:`rrs.report.reproduction_table` writes it as ``paper/tables/reproduction.{md,tex}``.
"""

from __future__ import annotations

import math

import pandas as pd

from rrs.config import ParamsError
from rrs.reference import (CE_DEFINITIONS, EPS, RD_DEFINITIONS, TOLERANCE_RULE,
                           definition_analysis)

SKIPPED = ("steps not in this run", "steps not stated")  # statuses of rows not compared
RUN_COLUMNS = {"RRR": "rrr", "RD_valid_n": "rd_valid_n"}  # metrics whose meaning never varies
WHY = {  # rule of rrs.reference -> how the table explains it; {t} = the tables compared with
    "=1-RRR": "= 1 - RRR of its row",
    "=entropy": "= the calibration entropy in {t}",
    "=1-RRR,=entropy": "= 1 - RRR and = an entropy in {t}",
    "elimination": "not 1 - RRR; RRR = 0, so not a leakage",
    "not_1-RRR": "not 1 - RRR; no entropy elsewhere to compare",
    "no_rule": "no RRR in its row; no entropy elsewhere to compare",
    "labelled": "its row prints both median and mean",
    "=median": "= RD_median in {t}",
    "=mean": "= RD_mean in {t}",
    "=median,=mean": "= both RD_median and RD_mean in {t}",
    "neither": "= neither RD_median nor RD_mean in {t}",
    "no_pair": "no median/mean pair published for this model and steps",
    "baseline": "RD is undefined at baseline (no pre/post pair)",
    "not_a_number": "not a number as printed",
}


def records(defs: pd.DataFrame) -> list[dict]:
    """Rows of the definition analysis as JSON-ready dicts (NaN -> None, steps an int)."""
    def clean(key, value):
        if isinstance(value, float) and math.isnan(value):
            return None
        return int(value) if key in ("steps", "row", "decimals") else value
    return [{k: clean(k, v) for k, v in r.items()} for r in defs.to_dict("records")]


def match_models(run_models: list[str], published_models: list[str],
                 aliases: dict[str, str]) -> dict[str, str]:
    """Run model -> published model, by ``aliases`` or by identical name.

    Raises:
        ParamsError: if an alias points at a name no published table uses.
    """
    for run, name in aliases.items():
        if name not in published_models:
            raise ParamsError(f"reference.model_aliases.{run}: {name!r} is not a published "
                              f"model; published: {', '.join(published_models)}")
    out = {}
    for model in run_models:
        if model in aliases:
            out[model] = aliases[model]
        elif model in published_models:
            out[model] = model
    return out


def status_line(run_models: list[str], published_models: list[str],
                matches: dict[str, str], aliases: dict[str, str]) -> str:
    """Which run model is compared with which published model, if any, and aliases naming a
    model this run does not have (a typo would otherwise pass unnoticed)."""
    stray = sorted(set(aliases) - set(run_models))
    note = f" Aliases for models not in this run: {', '.join(stray)}." if stray else ""
    if not matches:
        return (f"No matching model in this run: published models {', '.join(published_models)}; "
                f"run models {', '.join(run_models)}. Nothing is compared; map a run model to a "
                "published name in params.yaml (reference.model_aliases) to compare it." + note)
    pairs = ", ".join(f"run {run} as published {name}" for run, name in matches.items())
    left = [m for m in published_models if m not in matches.values()]
    return (f"Compared: {pairs}." + (f" No run model for: {', '.join(left)}." if left else "")
            + note)


def _agrees(published: float, decimals: int, regenerated: float, tolerance: float) -> bool:
    return abs(regenerated - published) <= tolerance + 0.5 * 10.0 ** -decimals + EPS


def _run_column(metric: str, matches: str, claimed: str, study: dict) -> tuple[str, str]:
    """The table1 column a published value is compared with, and why that one."""
    if metric in RUN_COLUMNS:
        return RUN_COLUMNS[metric], "same meaning"
    allowed = RD_DEFINITIONS if metric == "RD" else CE_DEFINITIONS
    if matches in allowed:
        return matches, "definition it matches"
    if claimed in allowed:
        return claimed, "definition it claims"
    return (study["rd_column"] if metric == "RD" else study["ce_definition"]), "run's choice"


def _record(p, run_model: str, steps, metric_printed: str, published: float, decimals: int,
            regenerated, column: str, basis: str, tolerance: float, status: str) -> dict:
    ok = status == "compared"
    return {"table": p.table, "source": p.source, "published_model": p.model,
            "run_model": run_model, "steps": steps, "metric_printed": metric_printed,
            "printed": p.printed, "published": None if math.isnan(published) else published,
            "decimals": int(decimals),
            "regenerated": regenerated if ok or status == "published not a number" else None,
            "run_column": column, "column_basis": basis,
            "difference": round(regenerated - published, 6) if ok else None,
            "agrees": _agrees(published, decimals, regenerated, tolerance) if ok else None,
            "status": status}


def compare_tables(pub: pd.DataFrame, defs: pd.DataFrame, table1: pd.DataFrame,
                   matches: dict[str, str], study: dict, tolerance: float) -> list[dict]:
    """Published RRR / RD / CE / RD_valid_n vs table1, for every matched (model, steps).

    ``status``: ``compared``, ``undefined in this run`` (e.g. RD at steps 0), ``published not
    a number``, ``steps not in this run`` or ``steps not stated``.
    """
    key = ["table", "row", "setting", "steps", "metric_printed"]
    verdict = {tuple(r[k] for k in key): r["matches"] for r in records(defs)}
    out = []
    for run_model, name in matches.items():
        run = table1[table1["model"] == run_model].set_index("steps")
        for p in pub[pub["model"] == name].itertuples():
            steps = None if math.isnan(p.steps) else int(p.steps)
            column, basis = _run_column(p.metric, verdict.get(
                (p.table, int(p.row), p.setting, steps, p.metric_printed), ""),
                p.claimed_definition, study)
            if steps is None or steps not in run.index:
                status, value = ("steps not stated" if steps is None else "steps not in this run",
                                 None)
            else:
                value = float(run.loc[steps, column])
                status = ("undefined in both" if math.isnan(value) and math.isnan(p.value) else
                          "undefined in this run" if math.isnan(value) else
                          "published not a number" if math.isnan(p.value) else "compared")
                value = None if math.isnan(value) else value
            out.append(_record(p, run_model, steps, p.metric_printed, p.value, p.decimals,
                               value, column, basis, tolerance, status))
    return out


def compare_stability(ref: pd.DataFrame, summary: dict, per_temp: pd.DataFrame,
                      matches: dict[str, str], tolerance: float) -> list[dict]:
    """Seed 004's numbers (un-attacked model) vs this run's stability metrics at steps 0."""
    out = []
    if ref.empty:
        return out
    for run_model, name in matches.items():
        variant = summary.get("variants", {}).get(run_model, {}).get("0")
        temps = per_temp[(per_temp["model"] == run_model) & (per_temp["steps"] == 0)]
        for p in ref[ref["model"] == name].itertuples():
            label = p.metric_printed
            if math.isnan(p.temperature):
                value = None if variant is None else variant.get(p.metric)
            else:
                label = f"{label} at T={p.temperature:g}"
                hit = temps[temps["temperature"].astype(float) == p.temperature]
                value = None if hit.empty else float(hit[p.metric].iloc[0])
            status = "compared" if value is not None else "not in this run's stability sweep"
            out.append(_record(p, run_model, 0, label, p.value, p.decimals, value, p.metric,
                               "same meaning", tolerance, status))
    return out


def steps_label(steps) -> str:
    """Steps as a table shows them: ``"?"`` where the source does not state the budget."""
    return "?" if steps is None or steps != steps else str(int(steps))


def shown(printed: str, value, decimals: int) -> str:
    """A value as printed, or just the number where the cell holds two (``0.63 → 1.00``)."""
    return printed if "\u2192" not in printed else f"{value:.{decimals}f}"


def definition_groups(defs: pd.DataFrame) -> list[dict]:
    """Published values with the same table, model, metric, claim, verdict and rule, merged
    into one row listing each value with its steps; ordered by table, model (as they first
    appear), CE before RD."""
    groups: dict[tuple, dict] = {}
    rows = records(defs)
    first = {k: {} for k in ("table", "model")}
    for r in rows:
        for k in first:
            first[k].setdefault(r[k], len(first[k]))
    rows.sort(key=lambda r: (first["table"][r["table"]], first["model"][r["model"]], r["metric"]))
    for r in rows:
        key = (r["table"], r["model"], r["metric_printed"], r["claimed_definition"],
               r["matches"], r["rule"])
        g = groups.setdefault(key, {"values": {}, "tables": set(), "same_as": set()})
        cell = f"{shown(r['printed'], r['value'], r['decimals'])} ({steps_label(r['steps'])})"
        g["values"][cell] = None  # a dict: each value once, in order
        g["tables"] |= {ref["table"] for ref in r["references"]}
        g["same_as"] |= {ref["table"] for ref in r["same_as"]}
    out = []
    for (table, model, printed, claimed, matches, rule), g in groups.items():
        why = WHY[rule].format(t=", ".join(sorted(g["tables"])))
        if g["same_as"]:
            why += f"; same number in {', '.join(sorted(g['same_as']))}"
        out.append({"table": table, "model": model, "metric_printed": printed,
                    "values": ", ".join(g["values"]), "claimed": claimed, "matches": matches,
                    "why": why})
    return out


def summary_counts(defs: pd.DataFrame) -> dict:
    """Per metric (CE, RD): how many published values match each verdict, and how many
    contradict the definition their source claims (``claim_contradicted``)."""
    out = {}
    for metric, part in defs.groupby("metric"):
        out[metric] = {k: int(v) for k, v in part["matches"].value_counts().sort_index().items()}
        out[metric]["claim_contradicted"] = int((part["agrees_with_claim"] == "no").sum())
    return out


def summary_metrics(report: dict) -> dict:
    """The report's numbers, flat enough for ``dvc metrics show / diff``: counts, the
    definition summary and, per compared value, regenerated - published."""
    differences: dict = {}
    for c in report["comparisons"]:
        if c["status"] == "compared":
            by_steps = differences.setdefault(c["run_model"], {}).setdefault(c["table"], {})
            by_steps.setdefault(str(c["steps"]), {})[c["metric_printed"]] = c["difference"]
    return {"n_models_matched": sum(v is not None for v in report["model_matches"].values()),
            "n_compared": report["n_compared"], "n_agree": report["n_agree"],
            "definitions": report["definitions"]["summary"], "differences": differences}


def build_report(pub: pd.DataFrame, stability_ref: pd.DataFrame, table1: pd.DataFrame,
                 study: dict, stability_summary: dict, per_temp: pd.DataFrame,
                 aliases: dict[str, str], tolerance: float) -> dict:
    """Everything ``metrics/reproduction.json`` holds (JSON-ready)."""
    published_models = sorted(set(pub["model"]) | (set(stability_ref["model"])
                                                   if not stability_ref.empty else set()))
    run_models = list(dict.fromkeys(table1["model"]))
    matches = match_models(run_models, published_models, aliases)
    defs = definition_analysis(pub)
    comparisons = (compare_tables(pub, defs, table1, matches, study, tolerance)
                   + compare_stability(stability_ref, stability_summary, per_temp, matches,
                                       tolerance))
    compared = [c for c in comparisons if c["status"] == "compared"]
    both = pd.concat([pub[["table", "source"]], stability_ref[["table", "source"]]
                      if not stability_ref.empty else None])
    sources = {t: "; ".join(dict.fromkeys(part["source"]))  # a file may cite several sections
               for t, part in both.groupby("table", sort=True)}
    return {
        "config": {"model_aliases": dict(sorted(aliases.items())), "tolerance": tolerance,
                   "definition_tolerance": TOLERANCE_RULE,
                   "run_rd_column": study["rd_column"],
                   "run_ce_definition": study["ce_definition"]},
        "status": status_line(run_models, published_models, matches, aliases),
        "run_models": run_models, "published_models": published_models,
        "model_matches": {m: matches.get(m) for m in run_models},
        "n_compared": len(compared), "n_agree": sum(bool(c["agrees"]) for c in compared),
        "comparisons": comparisons,
        "definitions": {"summary": summary_counts(defs),
                        "groups": definition_groups(defs),
                        "values": records(defs)},
        "sources": sources,
    }
