"""Published numbers (``data/reference/*.csv``) and which definition each CE and RD value has.

The seeds print RRR, RD and CE tables whose letters mean different things (docs/METRICS.md).
Each source table is one CSV in long form (columns :data:`PUBLISHED_COLUMNS`, described in
``data/reference/README.md``); seed 004's stability numbers keep their own form
(:data:`rrs.report.stability_table.REFERENCE_COLUMNS`).

:func:`definition_analysis` decides, from the published numbers alone, which definition each
published CE and RD value is consistent with:

- CE: ``compliance_error`` if it equals 1 - RRR of the same printed row; ``ce_entropy`` if it
  equals a CE that another table publishes as a calibration (or confidence) entropy for the
  same model and steps; ``leakage`` is undefined when the row's RRR is 0, so such a value is
  not a leakage. One match decides; two are ``ambiguous``; with none, the definition left
  after these exclusions decides (``elimination``), else ``undetermined``.
- RD: a row printing both ``RD_median`` and ``RD_mean`` labels its own values; any other RD
  is compared with such pairs of other tables for the same model and steps: ``rd_median``,
  ``rd_mean``, ``ambiguous`` (both), ``neither`` or, with no pair to compare, ``undetermined``.
  RD at steps 0 is undefined (no pre/post pair): ``undetermined``.

Two published numbers are equal when they differ by at most half a unit in the last decimal
printed by the less precise of the two (0.005 for two decimals): the rounding of the print.
"""

from __future__ import annotations

import dataclasses
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd

from rrs.config import ParamsError
from rrs.io import InputError, read_table
from rrs.report.stability_table import REFERENCE_COLUMNS as STABILITY_COLUMNS

PUBLISHED_COLUMNS = ("source", "row", "setting", "model", "params_b", "phase", "steps", "metric",
                     "metric_printed", "claimed_meaning", "claimed_definition", "value",
                     "printed", "note")
METRICS = ("RRR", "RD", "CE", "RD_valid_n")
# docs/METRICS.md column names a source can claim; "unstated" = the source names none.
DEFINITIONS = ("rrr", "rd_median", "rd_mean", "ce_entropy", "compliance_error", "leakage",
               "rd_valid_n", "unstated")
CE_DEFINITIONS = ("compliance_error", "ce_entropy", "leakage")
RD_DEFINITIONS = ("rd_median", "rd_mean")
EPS = 1e-9  # float slack: 0.39 - 0.385 is 0.0050000000000000044
ANALYSIS_COLUMNS = ("table", "source", "row", "setting", "model", "steps", "metric",
                    "metric_printed", "printed", "value", "decimals", "claimed_definition",
                    "matches", "rule", "agrees_with_claim", "references", "same_as")
TOLERANCE_RULE = ("two published numbers are equal when they differ by at most half a unit in "
                  "the last decimal printed by the less precise one (0.005 for two decimals)")


@dataclasses.dataclass(frozen=True)
class ReferenceParams:
    """``params.yaml`` section ``reference``.

    Attributes:
        model_aliases: run model (a key of ``models``) -> the model name a published table
            uses (the ``model`` column of ``data/reference``), e.g. ``tinyllama: TinyLlama-1.1B``.
            A run model named exactly like a published one matches without an entry.
        tolerance: |regenerated - published| that counts as agreeing, on top of the published
            value's rounding (seed 003, appendix E: reruns change metrics by < 0.01).
    """
    model_aliases: dict = dataclasses.field(default_factory=dict)
    tolerance: float = 0.01

    def __post_init__(self):
        for run, published in self.model_aliases.items():
            if not isinstance(run, str) or not isinstance(published, str):
                raise ParamsError(f"reference.model_aliases: names must be strings, got "
                                  f"{run!r}: {published!r}")
        if self.tolerance < 0:
            raise ParamsError(f"reference.tolerance: must be >= 0, got {self.tolerance}")


def decimals(text: str) -> int:
    """Digits after the decimal point as printed: ``"0.640"`` -> 3, ``"100"`` -> 0."""
    return len(text.split(".", 1)[1]) if "." in text else 0


def same_number(a: float, a_decimals: int, b: float, b_decimals: int) -> bool:
    """Equal up to the rounding of the less precise print (module docstring)."""
    return abs(a - b) <= 0.5 * 10.0 ** -min(a_decimals, b_decimals) + EPS


def _number(path, text: str, row: int, field: str, integer: bool = False) -> float:
    """Parse one cell; empty -> NaN. Raises InputError naming file, row and field."""
    if text.strip() == "":
        return math.nan
    try:
        value = float(text)
    except ValueError:
        raise InputError(path, f"not a number: {text!r}", row=row, field=field) from None
    if math.isnan(value) or math.isinf(value) or (integer and value != int(value)):
        raise InputError(path, f"not a {'whole ' if integer else ''}number: {text!r}",
                         row=row, field=field)
    return value


def read_published(path: str | os.PathLike) -> pd.DataFrame:
    """Read one published table (long form), check every cell, add ``table`` and ``decimals``.

    Returns:
        The rows with ``row``, ``steps`` (NaN = not stated), ``params_b`` and ``value``
        (NaN = not a number as printed, e.g. ``NaN`` or a dash) as floats.

    Raises:
        InputError: naming the file, and the row and field at fault.
    """
    path = Path(path)
    frame = read_table(path, required=PUBLISHED_COLUMNS)
    out = frame.loc[:, list(PUBLISHED_COLUMNS)].copy()
    checks = {"metric": METRICS, "claimed_definition": DEFINITIONS, "phase": ("pre", "post")}
    numbers = {"row": [], "steps": [], "params_b": [], "value": []}
    for i, rec in enumerate(frame.to_dict("records"), start=1):
        for field in ("source", "model", "metric_printed", "printed"):
            if not rec[field].strip():
                raise InputError(path, "empty", row=i, field=field)
        for field, allowed in checks.items():
            if rec[field] not in allowed:
                raise InputError(path, f"{rec[field]!r} is not one of {', '.join(allowed)}",
                                 row=i, field=field)
        for field in numbers:
            numbers[field].append(_number(path, rec[field], i, field,
                                          integer=field in ("row", "steps")))
        steps = numbers["steps"][-1]
        if (rec["phase"] == "pre") != (steps == 0) or steps < 0:
            raise InputError(path, f"phase {rec['phase']!r} with steps {rec['steps']!r} (pre "
                             "means steps 0; post means steps > 0 or empty)", row=i, field="steps")
    for field, values in numbers.items():
        out[field] = np.array(values, dtype=float)
    if out["source"].nunique() > 1:
        raise InputError(path, "one file holds one source table, found sources: "
                         + "; ".join(out["source"].unique()), field="source")
    key = ["setting", "model", "steps", "metric_printed"]
    dup = out.astype({"steps": str}).duplicated(key)
    if dup.any():
        raise InputError(path, "duplicate of an earlier row (same setting, model, steps and "
                         "metric)", row=int(np.argmax(dup.to_numpy())) + 1, field="metric_printed")
    out["decimals"] = frame["value"].map(decimals)
    out.insert(0, "table", path.stem)
    return out


def read_stability(path: str | os.PathLike) -> pd.DataFrame:
    """Read seed 004's stability numbers (model, metric, temperature, value per row)."""
    path = Path(path)
    frame = read_table(path, required=STABILITY_COLUMNS)
    out = frame.copy()
    values, temps = [], []
    for i, rec in enumerate(frame.to_dict("records"), start=1):
        if not rec["value"].strip():
            raise InputError(path, "empty", row=i, field="value")
        values.append(_number(path, rec["value"], i, "value"))
        temps.append(_number(path, rec["temperature"], i, "temperature"))
    out["value"], out["temperature"] = np.array(values), np.array(temps, dtype=float)
    if "metric_printed" not in out.columns:  # optional columns: the name and cell as printed
        out["metric_printed"] = out["metric"]
    if "printed" not in out.columns:
        out["printed"] = frame["value"]
    out["decimals"] = frame["value"].map(decimals)
    out.insert(0, "table", path.stem)
    return out


def read_reference_dir(folder: str | os.PathLike) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every ``*.csv`` of ``folder``: (published RRR/RD/CE tables, stability numbers).

    A file with ``temperature`` and ``dataset`` columns is a stability file; any other is a
    published table and must have :data:`PUBLISHED_COLUMNS`.
    """
    published, stability = [], []
    paths = sorted(Path(folder).glob("*.csv"))
    if not paths:
        raise InputError(folder, "no *.csv reference files")
    for path in paths:
        header = path.read_text(encoding="utf-8-sig").split("\n", 1)[0].split(",")
        if "temperature" in header and "dataset" in header:
            stability.append(read_stability(path))
        else:
            published.append(read_published(path))
    empty = pd.DataFrame(columns=["table", *PUBLISHED_COLUMNS, "decimals"])
    return (pd.concat(published, ignore_index=True) if published else empty,
            pd.concat(stability, ignore_index=True) if stability else pd.DataFrame())


def _same_steps(own: float, others: pd.Series) -> pd.Series:
    """Same steps; an unstated budget (NaN, always post-attack) matches any budget > 0."""
    return others > 0 if math.isnan(own) else others == own


def _ref(r) -> dict:
    """A published value as a reference: its table, steps, metric name and cell as printed."""
    return {"table": r.table, "steps": None if math.isnan(r.steps) else int(r.steps),
            "metric_printed": r.metric_printed, "printed": r.printed}


def _refs(refs: pd.DataFrame, value: float, digits: int) -> list[dict]:
    """The rows of ``refs`` whose value equals ``value`` (printed with ``digits`` decimals)."""
    out = [_ref(r) for r in refs.itertuples() if not math.isnan(r.value)
           and same_number(value, digits, r.value, r.decimals)]
    return [dict(t) for t in dict.fromkeys(tuple(d.items()) for d in out)]  # once each


def _point(pub: pd.DataFrame, r) -> pd.DataFrame:
    """Rows of one measurement point: same table, printed row label, model and steps."""
    steps = pub["steps"].isna() if math.isnan(r.steps) else pub["steps"] == r.steps
    return pub[(pub["table"] == r.table) & (pub["setting"] == r.setting)
               & (pub["model"] == r.model) & steps]


def _classify_ce(pub: pd.DataFrame, r) -> tuple[str, str, list]:
    """(matches, rule, references) of one CE value; see the module docstring."""
    rrr = _point(pub, r)
    rrr = rrr[(rrr["metric"] == "RRR") & rrr["value"].notna()]
    if rrr.empty:
        is_ce, ce_out, leak_out = False, False, False
    else:
        q = rrr.iloc[0]
        is_ce = same_number(r.value, r.decimals, 1.0 - q.value, q.decimals)
        ce_out, leak_out = not is_ce, q.value == 0
    entropy = pub[(pub["metric"] == "CE") & (pub["claimed_definition"] == "ce_entropy")
                  & (pub["table"] != r.table) & (pub["model"] == r.model)
                  & _same_steps(r.steps, pub["steps"])]
    refs = _refs(entropy, r.value, r.decimals)
    matched = [d for d, hit in (("compliance_error", is_ce), ("ce_entropy", bool(refs))) if hit]
    if len(matched) == 2:
        return "ambiguous", "=1-RRR,=entropy", refs
    if matched:
        return matched[0], "=1-RRR" if is_ce else "=entropy", refs
    left = [d for d, out in (("compliance_error", ce_out), ("leakage", leak_out),
                             ("ce_entropy", False)) if not out]
    if len(left) == 1:
        return left[0], "elimination", []
    return "undetermined", "no_rule" if rrr.empty else "not_1-RRR", []


def _paired(rd: pd.DataFrame) -> pd.DataFrame:
    """The RD rows of printed rows that carry both a median and a mean."""
    keep = rd["claimed_definition"].isin(RD_DEFINITIONS)
    both = rd[keep].groupby(["table", "setting", "steps"], dropna=False)[
        "claimed_definition"].transform(lambda s: set(RD_DEFINITIONS) <= set(s))
    return rd[keep][both.astype(bool)]


def _classify_rd(pub: pd.DataFrame, r) -> tuple[str, str, list]:
    """(matches, rule, references) of one RD value after steps 0; see the module docstring."""
    own = _point(pub, r)
    if set(RD_DEFINITIONS) <= set(own["claimed_definition"]):
        return r.claimed_definition, "labelled", []
    pairs = _paired(pub[(pub["metric"] == "RD") & (pub["table"] != r.table)
                        & (pub["model"] == r.model) & _same_steps(r.steps, pub["steps"])])
    if pairs.empty:
        return "undetermined", "no_pair", []
    hits = {d: _refs(pairs[pairs["claimed_definition"] == d], r.value, r.decimals)
            for d in RD_DEFINITIONS}
    matched = [d for d in RD_DEFINITIONS if hits[d]]
    refs = hits["rd_median"] + hits["rd_mean"]
    if len(matched) == 2:
        return "ambiguous", "=median,=mean", refs
    if matched:
        return matched[0], "=median" if matched[0] == "rd_median" else "=mean", refs
    return "neither", "neither", [_ref(p) for p in pairs.itertuples()]


def definition_analysis(pub: pd.DataFrame) -> pd.DataFrame:
    """One row per published CE and RD value: the definition its numbers are consistent with.

    Args:
        pub: published tables as read by :func:`read_reference_dir`.

    Returns:
        Columns :data:`ANALYSIS_COLUMNS`. ``matches``: a definition, ``ambiguous``,
        ``neither`` or ``undetermined``; ``rule`` the rule that decided; ``references`` the
        published values it was decided against; ``same_as`` (for values no rule ties to a
        definition) the other tables printing the same number for the same model and steps.
    """
    rows = []
    for r in pub[pub["metric"].isin(["CE", "RD"])].itertuples():
        if r.metric == "RD" and r.steps == 0:
            matches, rule, refs = "undetermined", "baseline", []
        elif math.isnan(r.value):
            matches, rule, refs = "undetermined", "not_a_number", []
        elif r.metric == "CE":
            matches, rule, refs = _classify_ce(pub, r)
        else:
            matches, rule, refs = _classify_rd(pub, r)
        claimed = r.claimed_definition
        if claimed == "unstated":
            agrees = "unstated"
        elif matches in CE_DEFINITIONS + RD_DEFINITIONS:
            agrees = "yes" if matches == claimed else "no"
        elif matches == "neither" and claimed in RD_DEFINITIONS:
            agrees = "no"
        else:
            agrees = "undetermined"
        same_as = []
        if matches not in CE_DEFINITIONS + RD_DEFINITIONS and not math.isnan(r.value):
            others = pub[(pub["metric"] == r.metric) & (pub["table"] != r.table)
                         & (pub["model"] == r.model) & _same_steps(r.steps, pub["steps"])]
            same_as = _refs(others, r.value, r.decimals)
        rows.append({"table": r.table, "source": r.source, "row": int(r.row),
                     "setting": r.setting, "model": r.model,
                     "steps": None if math.isnan(r.steps) else int(r.steps),
                     "metric": r.metric, "metric_printed": r.metric_printed,
                     "printed": r.printed, "value": None if math.isnan(r.value) else r.value,
                     "decimals": int(r.decimals),
                     "claimed_definition": claimed, "matches": matches, "rule": rule,
                     "agrees_with_claim": agrees, "references": refs, "same_as": same_as})
    return pd.DataFrame(rows, columns=ANALYSIS_COLUMNS)
