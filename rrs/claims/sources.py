"""The data a claim can be checked against: named frames built from ``metrics/`` files.

Each source has a fixed schema (column -> ``num``, ``text`` or ``bool``) that
:mod:`rrs.claims.parse` checks every rule against when the claim file is read, and key columns
that name a row in the evidence. The builders are pure (dicts and frames in, a frame out);
:func:`load_sources` reads the files and gives ``None`` for a source whose file is absent, so
the claims on it are ``not_evaluable`` rather than an error.

Sources:
    table1: ``metrics/table1.csv``, one row per model x budget (steps 0 = baseline).
    stability: ``metrics/stability.json`` variants, one row per model x budget.
    stability_per_temperature: ``metrics/stability_per_temperature.csv`` (+ params).
    judges: ``metrics/judges.json``, one row per judge; ``default`` marks the study's judge.
    attack_loss: ``metrics/attack/<model>.json``, training loss at each saved budget.
    scaling: ``metrics/scaling.json``, one row per fit (``abs_slope`` = |slope| per decade).
    attacks: ``metrics/attacks.csv``, one row per model x attack x budget (budget 0 = the
        baseline; ``status`` non-empty = the attack does not apply, metrics empty).
    compute_to_break: ``metrics/compute_to_break.json``, one row per model x attack;
        ``flops_or_bound`` = compute-to-break where the curve crossed, else the largest
        budget's compute (a lower bound).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from rrs.io import InputError, read_table

_RATES = ("n_prompts", "mean_ssi", "unstable_share", "flip_rate", "comply_rate", "share_refuse",
          "share_partial", "share_comply", "share_unparsed")
SOURCES: dict[str, dict[str, str]] = {
    "table1": {"model": "text", **{c: "num" for c in (
        "params", "steps", "n", "rrr", "rrr_lo", "rrr_hi", "rd", "rd_lo", "rd_hi", "rd_median",
        "rd_mean", "rd_valid_n", "ce", "ce_entropy", "compliance_error", "leakage",
        "over_refusal", "over_refusal_lo", "over_refusal_hi")}},
    "stability": {"model": "text", **{c: "num" for c in (
        "params", "steps", "mean_ssi_lo", "mean_ssi_hi", *_RATES)}},
    "stability_per_temperature": {"model": "text", **{c: "num" for c in (
        "params", "steps", "temperature", *_RATES)}},
    "judges": {"judge": "text", "default": "bool", **{c: "num" for c in (
        "n", "accuracy", "kappa", "cue_precision", "cue_recall", "cue_f1", "macro_f1")}},
    "attack_loss": {"model": "text", "params": "num", "steps": "num", "loss": "num"},
    "scaling": {"axis": "text", "metric": "text", "group": "text", **{c: "num" for c in (
        "n_points", "slope", "abs_slope", "slope_lo", "slope_hi", "intercept", "r2")}},
    "attacks": {"model": "text", "attack": "text", "status": "text", **{c: "num" for c in (
        "params", "budget", "flops", "n", "rrr", "rrr_lo", "rrr_hi", "asr", "rd", "rd_median",
        "rd_mean", "ce", "ce_entropy", "compliance_error", "leakage", "over_refusal")}},
    "compute_to_break": {"model": "text", "attack": "text", "crossed": "bool", **{
        c: "num" for c in ("params", "flops", "lo", "hi", "bound", "flops_or_bound")}},
}
KEYS: dict[str, tuple[str, ...]] = {
    "table1": ("model", "steps"), "stability": ("model", "steps"),
    "stability_per_temperature": ("model", "steps", "temperature"), "judges": ("judge",),
    "attack_loss": ("model", "steps"), "scaling": ("axis", "metric", "group"),
    "attacks": ("model", "attack", "budget"), "compute_to_break": ("model", "attack"),
}


def _typed(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """The schema's columns in schema order, numbers as float (NaN = undefined)."""
    schema = SOURCES[name]
    missing = [c for c in schema if c not in frame.columns]
    if missing:
        raise ValueError(f"{name}: missing column(s) {', '.join(missing)}")
    out = frame.loc[:, list(schema)].copy()
    for col, kind in schema.items():
        if kind == "num":
            out[col] = pd.to_numeric(out[col].replace("", np.nan), errors="raise").astype(float)
        elif kind == "text":
            out[col] = out[col].astype(str)
        else:
            out[col] = out[col].astype(bool)
    order = (["params"] if "params" in schema else []) + list(KEYS[name])
    return out.sort_values(order, kind="mergesort").reset_index(drop=True)  # groups by size


def table1_frame(table: pd.DataFrame) -> pd.DataFrame:
    return _typed(table, "table1")


def stability_frame(summary: dict) -> pd.DataFrame:
    """One row per variant of ``stability.json``; ``params`` from its ``params`` map."""
    params = summary.get("params", {})
    rows = [{"model": m, "params": params.get(m, np.nan), "steps": int(s), **v}
            for m, by_steps in summary["variants"].items() for s, v in by_steps.items()]
    return _typed(pd.DataFrame(rows), "stability")


def per_temperature_frame(per_temp: pd.DataFrame, params: dict[str, int]) -> pd.DataFrame:
    frame = per_temp.copy()
    frame["params"] = frame["model"].map(params)
    return _typed(frame, "stability_per_temperature")


def judges_frame(judges: dict) -> pd.DataFrame:
    default = judges.get("default_judge")
    rows = [{"judge": name, "default": name == default, **{k: v.get(k, np.nan) for k in (
        "n", "accuracy", "kappa", "cue_precision", "cue_recall", "cue_f1", "macro_f1")}}
            for name, v in judges["judges"].items()]
    return _typed(pd.DataFrame(rows), "judges")


def attack_loss_frame(records: list[dict], params: dict[str, int]) -> pd.DataFrame:
    """``loss_at_checkpoint`` of each ``metrics/attack/<model>.json`` record, one row per budget."""
    rows = [{"model": r["model"], "params": params.get(r["model"], np.nan), "steps": int(k),
             "loss": loss} for r in records for k, loss in r["loss_at_checkpoint"].items()]
    return _typed(pd.DataFrame(rows, columns=["model", "params", "steps", "loss"]), "attack_loss")


def scaling_frame(scaling: dict) -> pd.DataFrame:
    rows = []
    for axis, by_metric in scaling["fits"].items():
        for metric, by_group in by_metric.items():
            for group, r in by_group.items():
                slope = r.get("slope")
                rows.append({"axis": axis, "metric": metric, "group": group,
                             "n_points": r.get("n_points"), "slope": slope,
                             "abs_slope": None if slope is None else abs(slope),
                             **{k: r.get(k) for k in ("slope_lo", "slope_hi", "intercept", "r2")}})
    return _typed(pd.DataFrame(rows), "scaling")


def attacks_frame(table: pd.DataFrame) -> pd.DataFrame:
    return _typed(table, "attacks")


def compute_to_break_frame(summary: dict) -> pd.DataFrame:
    rows = [{"model": m, "attack": a, "params": summary["params"][m], "crossed": b["crossed"],
             "flops": b["flops"], "lo": b["lo"], "hi": b["hi"], "bound": b["bound"],
             "flops_or_bound": b["flops"] if b["crossed"] else b["bound"]}
            for m, per in summary["compute_to_break"].items() for a, b in per.items()]
    return _typed(pd.DataFrame(rows, columns=list(SOURCES["compute_to_break"])),
                  "compute_to_break")


def _json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise InputError(path, f"invalid JSON ({err.msg})", row=err.lineno) from None


def load_sources(table1: str | os.PathLike, stability: str | os.PathLike | None = None,
                 per_temperature: str | os.PathLike | None = None,
                 judges: str | os.PathLike | None = None,
                 attack_dir: str | os.PathLike | None = None,
                 scaling: str | os.PathLike | None = None,
                 attacks: str | os.PathLike | None = None,
                 compute_to_break: str | os.PathLike | None = None,
                 ) -> dict[str, pd.DataFrame | None]:
    """Read every source whose file exists; an absent file (or ``None``) gives ``None``.

    ``table1`` must exist (it also gives the parameter counts of the other sources).

    Raises:
        rrs.io.InputError: a file that exists but cannot be read, naming it.
    """
    def present(path) -> Path | None:
        return Path(path) if path is not None and Path(path).exists() else None

    t1 = table1_frame(read_table(table1, required=tuple(SOURCES["table1"])))
    params = dict(t1.drop_duplicates("model")[["model", "params"]].itertuples(
        index=False, name=None))
    out: dict[str, pd.DataFrame | None] = {"table1": t1}
    summary = _json(p) if (p := present(stability)) else None
    out["stability"] = stability_frame(summary) if summary else None
    if (p := present(per_temperature)) is not None:
        params_st = {**params, **(summary or {}).get("params", {})}
        out["stability_per_temperature"] = per_temperature_frame(
            read_table(p, required=("model", "steps", "temperature")), params_st)
    else:
        out["stability_per_temperature"] = None
    out["judges"] = judges_frame(_json(p)) if (p := present(judges)) else None
    attack_files = sorted(Path(attack_dir).glob("*.json")) if present(attack_dir) else []
    out["attack_loss"] = attack_loss_frame([_json(f) for f in attack_files], params) \
        if attack_files else None
    out["scaling"] = scaling_frame(_json(p)) if (p := present(scaling)) else None
    out["attacks"] = attacks_frame(read_table(p, required=tuple(SOURCES["attacks"]))) \
        if (p := present(attacks)) else None
    out["compute_to_break"] = compute_to_break_frame(_json(p)) \
        if (p := present(compute_to_break)) else None
    return out
