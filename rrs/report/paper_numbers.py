"""Every number the paper's text quotes, as named LaTeX macros read from ``metrics/``.

The paper never types a result: it writes ``\\val{t1.org-l.2000.rrr}`` and this module
writes ``paper/generated/numbers.tex``, one ``\\rrsdef{key}{value}`` line per number,
formatted as the generated tables format it (RRR and CE with 2 decimals, RD with 3), so
a number in a sentence and the same number in a table are the same string. A key the text
uses but this file does not define stops the LaTeX build (see ``paper/rrs.sty``).

Sources (each optional file adds its keys only when present, so the numbers can be built
before the stages that write them exist in a fork of the pipeline):

* ``table1.csv`` + ``study.json``: ``t1.<model>.<steps>.<column>`` and the study's
  settings (``study.*``), plus ``run.*`` facts about the size ladder and budgets;
* ``judges.json``: ``judge.<name>.<metric>`` for every validated judge, and
  ``judge.second.<metric>`` for the blind second annotator when there is one, and
  ``judge.real.<name>.<metric>`` on the real-output held-out batch (``study`` for the study's
  judge, ``judge.study.<metric>`` likewise on the AI-written one);
* ``stability.json`` + ``stability_per_temperature.csv``: ``stab.<model>.<variant>.*``;
* ``claims.json``, ``reproduction.json``, ``scaling.json``: counts and fit slopes;
* ``attacks.csv`` + ``compute_to_break.json``: ``atk.<model>.<attack>.*`` (per budget and at
  the largest budget, compute-to-break) and the same by role (``atk.largest.<attack>.*``).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Mapping

import pandas as pd

from rrs.io import write_text
from rrs.report import ce_label, check_table1, format_params, model_order, rd_label, read_table1
from rrs.report.tables import CE_DIGITS, RD_DIGITS, RRR_DIGITS, _latex_escape

DASH = "---"  # an undefined value (RD of a baseline), as the LaTeX tables print it

# table1.csv column -> decimals, as the tables and figures show them
T1_DIGITS = {"rrr": RRR_DIGITS, "rrr_lo": RRR_DIGITS, "rrr_hi": RRR_DIGITS,
             "rd": RD_DIGITS, "rd_median": RD_DIGITS, "rd_mean": RD_DIGITS,
             "rd_lo": RD_DIGITS, "rd_hi": RD_DIGITS, "ce": CE_DIGITS,
             "ce_entropy": CE_DIGITS, "compliance_error": CE_DIGITS, "leakage": CE_DIGITS,
             "over_refusal": 3}
JUDGE_METRICS = ("accuracy", "macro_f1", "cue_f1", "cue_precision", "cue_recall", "kappa",
                 "ece")


def fmt(value, digits: int) -> str:
    """``value`` with ``digits`` decimals; DASH for None / NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return DASH
    return f"{float(value):.{digits}f}"


def pct(value, digits: int = 1) -> str:
    """A share as a percentage string with a LaTeX-escaped percent sign: ``"12.5\\%"``."""
    return DASH if value is None else f"{100 * float(value):.{digits}f}\\%"


def _table1_numbers(table: pd.DataFrame, study: Mapping) -> dict[str, str]:
    out = {"study.rd_aggregate": study["rd_aggregate"],
           "study.ce_definition": _latex_escape(study["ce_definition"]),
           "study.rd_label": _latex_escape(rd_label(study["rd_aggregate"])),
           "study.ce_label": _latex_escape(ce_label(study["ce_definition"])),
           "study.judge": _latex_escape(study["judge"]),
           "study.judge_version": _latex_escape(study["judge_version"])}
    table = check_table1(table, study["rd_aggregate"], study["ce_definition"])  # numeric
    for r in table.to_dict("records"):
        key = f"t1.{r['model']}.{int(r['steps'])}"
        for column, digits in T1_DIGITS.items():
            if column in r:
                out[f"{key}.{column}"] = fmt(r[column], digits)
        out[f"{key}.n"] = str(int(r["n"]))
        if not math.isnan(r.get("rd_valid_n", math.nan)):
            out[f"{key}.rd_valid_n"] = str(int(r["rd_valid_n"]))
    models = model_order(table)
    steps = sorted(int(s) for s in table["steps"].unique())
    attacked = [s for s in steps if s > 0]
    params = table.drop_duplicates("model").set_index("model")["params"]
    smallest, largest = models[0], models[-1]
    out.update({
        "run.n_models": str(len(models)),
        "run.models": ", ".join(_latex_escape(m) for m in models),
        "run.smallest": _latex_escape(smallest), "run.largest": _latex_escape(largest),
        "run.params_min": _latex_escape(format_params(params[smallest])),
        "run.params_max": _latex_escape(format_params(params[largest])),
        "run.params_ratio": f"{params[largest] / params[smallest]:.1f}",
        "run.n_prompts": str(int(table["n"].iloc[0])),
        "run.budgets": ", ".join(str(s) for s in attacked),
        "run.first_budget": str(attacked[0]) if attacked else DASH,
        "run.max_budget": str(attacked[-1]) if attacked else DASH,
    })
    for m in models:
        out[f"t1.{m}.params"] = _latex_escape(format_params(params[m]))
    if attacked:  # the same facts for "the largest model at the largest budget", by role
        for column, digits in T1_DIGITS.items():
            for role, m in (("largest", largest), ("smallest", smallest)):
                for label, s in (("base", 0), ("max", attacked[-1]), ("first", attacked[0])):
                    row = table[(table["model"] == m) & (table["steps"] == s)]
                    if len(row) and column in row:
                        out[f"{role}.{label}.{column}"] = fmt(row[column].iloc[0], digits)
        worst = table[table["steps"] > 0]["rrr"].max()
        out["run.max_attacked_rrr"] = fmt(worst, RRR_DIGITS)
        out["run.min_baseline_rrr"] = fmt(table[table["steps"] == 0]["rrr"].min(), RRR_DIGITS)
    return out


def _judge_numbers(judges: Mapping) -> dict[str, str]:
    out = {"judge.n_heldout": str(judges["n_heldout"]),
           "judge.default": _latex_escape(judges["default_judge"])}
    for metric, bar in judges["target"].items():
        out[f"judge.target.{metric}"] = fmt(bar, 2)
    for name, scores in judges["judges"].items():
        for metric in JUDGE_METRICS:
            if metric in scores:
                out[f"judge.{name}.{metric}"] = fmt(scores[metric], 3)
    out["judge.default.meets"] = "meets" if judges["judges"][judges["default_judge"]].get(
        "meets_target") else "does not meet"
    for metric in JUDGE_METRICS:  # the study's judge, whichever it is: judge.study.<metric>
        if f"judge.{judges['default_judge']}.{metric}" in out:
            out[f"judge.study.{metric}"] = out[f"judge.{judges['default_judge']}.{metric}"]
    second = judges.get("second_annotator")
    if second is not None:  # the reference labels vs a blind second annotator
        out["judge.second.n"] = str(second["n"])
        out["judge.second.n_disagree"] = str(second["n_disagree"])
        for metric in ("kappa", "accuracy", "cue_f1"):
            out[f"judge.second.{metric}"] = fmt(second[metric], 3)
    real = judges.get("real")
    if real is not None and not real["judges"]:  # no held-out answer labelled (yet)
        out["judge.real.n"], out["judge.real.batches"] = "0", DASH
        for name in ("study", *judges["judges"]):
            for metric in ("cue_precision", "cue_recall", "cue_f1", "kappa", "max_abs_rrr_error",
                           "harmful_comply_false_cue"):
                out[f"judge.real.{name}.{metric}"] = DASH
            out[f"judge.real.{name}.meets"] = "does not meet"
    elif real is not None:  # the real-output held-out batch (data/audit/REAL_OUTPUTS.md)
        out["judge.real.n"] = str(next(iter(real["judges"].values()))["n"])
        for name, scores in real["judges"].items():
            for metric in ("cue_precision", "cue_recall", "cue_f1", "kappa", "max_abs_rrr_error",
                           "harmful_comply_false_cue"):
                value = scores.get(metric)  # None: no cell of the batch has enough answers
                out[f"judge.real.{name}.{metric}"] = DASH if value is None else fmt(value, 3)
            out[f"judge.real.{name}.meets"] = "meets" if scores.get("meets_real_target") \
                else "does not meet"
        default = judges["default_judge"]
        out.update({f"judge.real.study.{k.rsplit('.', 1)[1]}": v for k, v in list(out.items())
                    if k.startswith(f"judge.real.{default}.")})
        out["judge.real.batches"] = ", ".join(real.get("batches", []))
    return out


def _stability_numbers(stability: Mapping, per_temp: pd.DataFrame | None) -> dict[str, str]:
    out = {"stab.temperatures": ", ".join(f"{t:g}" for t in stability["config"]["temperatures"]),
           "stab.n_seeds": str(len(stability["config"]["seeds"])),
           "stab.attacked_steps": str(stability["config"]["attacked_steps"])}
    for model, variants in stability["variants"].items():
        for variant, v in variants.items():
            key = f"stab.{model}.{variant}"
            out[f"{key}.mean_ssi"] = fmt(v["mean_ssi"], 3)
            out[f"{key}.unstable"] = pct(v["unstable_share"])
            out[f"{key}.flip"] = pct(v["flip_rate"])
    if per_temp is not None:
        for r in per_temp.to_dict("records"):
            out[f"stab.{r['model']}.{int(r['steps'])}.t{r['temperature']:g}.ssi"] = fmt(
                r["mean_ssi"], 3)
    return out


def _sci(value) -> str:
    """FLOPs as LaTeX: ``$3.4\\times10^{9}$``; DASH when undefined."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return DASH
    mant, exp = f"{float(value):.1e}".split("e")
    return f"${mant}\\times10^{{{int(exp)}}}$"


def _attack_numbers(table: pd.DataFrame, summary: Mapping) -> dict[str, str]:
    """``atk.<model>.<attack>.{<budget>.<metric>, max.<metric>, max_budget, ctb, ...}``."""
    out: dict[str, str] = {}
    breaks = summary["compute_to_break"]
    params = summary["params"]
    order = sorted(params, key=lambda m: (params[m], m))
    digits = {"rrr": RRR_DIGITS, "asr": RRR_DIGITS, "rd": RD_DIGITS, "ce": CE_DIGITS,
              "over_refusal": RRR_DIGITS}
    for (model, attack), g in table.groupby(["model", "attack"], sort=False):
        key = f"atk.{model}.{attack}"
        done = g[g["status"].fillna("") == ""].sort_values("budget")
        status = g["status"].fillna("")
        out[f"{key}.status"] = _latex_escape(status[status != ""].iloc[0]) if (
            status != "").any() else "applies"
        if done.empty:
            continue
        for r in done.to_dict("records"):
            for col, d in digits.items():
                out[f"{key}.{int(r['budget'])}.{col}"] = fmt(r[col], d)
            out[f"{key}.{int(r['budget'])}.flops"] = _sci(r["flops"])
        top = done.iloc[-1]
        out[f"{key}.max_budget"] = str(int(top["budget"]))
        for col, d in digits.items():
            out[f"{key}.max.{col}"] = fmt(top[col], d)
            out[f"{key}.base.{col}"] = fmt(done.iloc[0][col], d)
        out[f"{key}.max.flops"] = _sci(top["flops"])
        b = breaks.get(model, {}).get(attack)
        if b:
            out[f"{key}.ctb"] = _sci(b["flops"]) if b["flops"] else "$>$" + _sci(b["bound"])
            out[f"{key}.ctb_lo"] = _sci(b["lo"])
            out[f"{key}.ctb_hi"] = _sci(b["hi"]) if b["hi"] else "beyond the grid"
    for role, model in (("largest", order[-1]), ("smallest", order[0])):
        prefix = f"atk.{model}."
        for k in [k for k in out if k.startswith(prefix)]:
            out[f"atk.{role}.{k[len(prefix):]}"] = out[k]
    for attack, fit in summary.get("slope_vs_params", {}).items():
        out[f"atk.slope.{attack}"] = f"{fit['slope']:+.2f}" if fit.get("status") == "ok" \
            else DASH
        out[f"atk.slope.{attack}.n"] = str(fit.get("n_points", 0))
    for model, fit in summary.get("best_of_n_power_law", {}).items():
        role = {order[-1]: "largest", order[0]: "smallest"}.get(model)
        for name in ([model] + ([role] if role else [])):
            if fit.get("status") == "ok":
                out[f"atk.bon.{name}.a"] = f"{fit['a']:.3g}"
                out[f"atk.bon.{name}.b"] = f"{fit['b']:.3g}"
                out[f"atk.bon.{name}.r2"] = fmt(fit["r2"], 2)
            out[f"atk.bon.{name}.fit"] = "fitted" if fit.get("status") == "ok" else \
                _latex_escape(fit.get("status", ""))
    return out


def paper_numbers(metrics_dir: str | os.PathLike) -> dict[str, str]:
    """All keys and their printed values, from the files found in ``metrics_dir``."""
    d = Path(metrics_dir)
    study = json.loads((d / "study.json").read_text(encoding="utf-8"))
    out = _table1_numbers(read_table1(d / "table1.csv"), study)
    if (d / "judges.json").is_file():
        out.update(_judge_numbers(json.loads((d / "judges.json").read_text(encoding="utf-8"))))
    if (d / "claims.json").is_file():
        claims = json.loads((d / "claims.json").read_text(encoding="utf-8"))
        for verdict, count in claims["counts"].items():
            out[f"claims.{verdict}"] = str(count)
        out["claims.total"] = str(sum(claims["counts"].values()))
    if (d / "scaling.json").is_file():
        fits = json.loads((d / "scaling.json").read_text(encoding="utf-8"))["fits"]
        for x, by_metric in fits.items():
            for metric, groups in by_metric.items():
                for group, fit in groups.items():
                    key = f"scaling.{x}.{metric}.{group}"
                    if fit.get("status") == "ok":
                        out[f"{key}.slope"] = f"{fit['slope']:+.3f}"
                        out[f"{key}.ci"] = f"[{fit['slope_lo']:+.3f}, {fit['slope_hi']:+.3f}]"
                    else:  # too few points (one model, one budget): the text says so
                        out[f"{key}.slope"], out[f"{key}.ci"] = DASH, "not evaluable"
    if (d / "attacks.csv").is_file() and (d / "compute_to_break.json").is_file():
        attacks = pd.read_csv(d / "attacks.csv", keep_default_na=True)
        out.update(_attack_numbers(attacks, json.loads(
            (d / "compute_to_break.json").read_text(encoding="utf-8"))))
    if (d / "reproduction.json").is_file():
        rep = json.loads((d / "reproduction.json").read_text(encoding="utf-8"))
        for key in ("n_models_matched", "n_compared", "n_agree"):
            out[f"repro.{key}"] = str(rep[key])
        for metric, counts in rep["definitions"].items():
            out[f"repro.{metric}.total"] = str(sum(counts.values()))
            for definition, count in counts.items():
                out[f"repro.{metric}.{definition}"] = str(count)
    if (d / "stability.json").is_file():
        per_temp = d / "stability_per_temperature.csv"
        stability = json.loads((d / "stability.json").read_text(encoding="utf-8"))
        out.update(_stability_numbers(stability,
                                      pd.read_csv(per_temp) if per_temp.is_file() else None))
        # the same numbers by role, so the text need not name the run's models
        attacked = str(stability["config"]["attacked_steps"])
        for role in ("largest", "smallest"):
            model = out[f"run.{role}"]
            for variant, alias in (("0", "base"), (attacked, "attacked")):
                prefix = f"stab.{model}.{variant}."
                for key in [k for k in out if k.startswith(prefix)]:
                    out[f"stab.{role}.{alias}.{key[len(prefix):]}"] = out[key]
    return out


def numbers_tex(numbers: Mapping[str, str]) -> str:
    """The macros file: a header and one ``\\rrsdef{key}{value}`` per key, sorted."""
    lines = ["% Generated by rrs.report.paper_numbers from metrics/; do not edit."]
    lines += [f"\\rrsdef{{{key}}}{{{value}}}" for key, value in sorted(numbers.items())]
    return "\n".join(lines) + "\n"


def write_numbers(metrics_dir: str | os.PathLike, out: str | os.PathLike) -> dict[str, str]:
    """Write :func:`numbers_tex` of :func:`paper_numbers` to ``out`` atomically."""
    numbers = paper_numbers(metrics_dir)
    write_text(out, numbers_tex(numbers))
    return numbers
