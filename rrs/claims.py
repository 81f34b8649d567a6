"""Claims as data: each claim of the paper with a machine-checkable rule over ``metrics/``.

A claim file (``paper/claims.yaml``) is a mapping with a list ``claims``; each entry has an
``id`` (lower-case letters, digits, dashes), the claim ``text`` as the paper states it, ``cite``
(where it says so), an optional ``note`` and one ``rule``. A rule names its ``kind``, the
``data`` source it reads (a frame of :mod:`rrs.claim_sources`) and optionally ``where`` (which
rows) and ``by`` (columns whose groups must each satisfy the rule: "for every model").

Rule kinds (a fixed set; anything else is an error naming the file and the claim):

* ``all_below`` / ``all_above``: every selected ``value`` is <= / >= ``threshold``
  (``strict: true`` for < / >).
* ``monotone``: in each group, ``value`` along ``x`` is ``direction`` increasing or
  decreasing. Non-strict: no step goes the wrong way by more than the tolerance. Strict: every
  step goes the right way by more than the tolerance.
* ``not_monotone``: in each group, ``value`` along ``x`` both rises and falls by more than the
  tolerance somewhere (needs 3 points).
* ``compare``: in each group, every row selected by ``left`` against every row selected by
  ``right`` with ``op`` (``<``, ``<=``, ``>``, ``>=``, ``==``); ``value`` or ``left_value`` and
  ``right_value`` name the columns. ``tolerance`` is allowed with ``==`` only (|l - r| <= tol).

Tolerance: ``tolerance: t`` (a number, default 0) or ``interval: [lo, hi]`` (interval columns):
with an interval, a step counts as a move only when the two intervals do not overlap.

``where`` maps a column to a value (equality), a list (membership), ``{op: value}`` with op
one of ``< <= > >= !=``, or, for a numeric column, ``max`` / ``min`` (rows at the extreme of the
column among those passing the other conditions; applied last, in file order).

Verdicts: ``holds``, ``fails`` or ``not_evaluable`` (source missing, no rows, undefined
values, too few points). A rule fails if any group, row or pair fails; otherwise it is not
evaluable if any part is; otherwise it holds. Each result carries the numbers behind it.
"""

from __future__ import annotations

import dataclasses
import math
import operator
import os
import re
from pathlib import Path
from typing import Any, Callable, Mapping

import pandas as pd
import yaml

from rrs.claim_sources import KEYS, SOURCES
from rrs.io import InputError
from rrs.report import format_params

HOLDS, FAILS, NOT_EVALUABLE = VERDICTS = ("holds", "fails", "not_evaluable")
RULES: dict[str, tuple[set[str], set[str]]] = {  # kind -> (required keys, optional keys)
    "all_below": ({"value", "threshold"}, {"strict"}),
    "all_above": ({"value", "threshold"}, {"strict"}),
    "monotone": ({"value", "x", "direction"}, {"strict", "tolerance", "interval"}),
    "not_monotone": ({"value", "x"}, {"tolerance", "interval"}),
    "compare": ({"left", "right", "op"}, {"value", "left_value", "right_value", "tolerance"}),
}
_COMMON = ({"kind", "data"}, {"where", "by"})
_CLAIM_KEYS = ({"id", "text", "cite", "rule"}, {"note"})
_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_WHERE_OPS: dict[str, Callable] = {"<": operator.lt, "<=": operator.le, ">": operator.gt,
                                   ">=": operator.ge, "!=": operator.ne}
_COMPARE_OPS: dict[str, Callable] = {"<": operator.lt, "<=": operator.le, ">": operator.gt,
                                     ">=": operator.ge, "==": operator.eq}
MAX_LISTED = 6  # rows or pairs quoted in a one-line summary


class ClaimError(InputError):
    """A malformed claim file; the message names the file and the claim id (or entry number)."""

    def __init__(self, path: str | os.PathLike, claim: str, message: str):
        super().__init__(path, f"claim '{claim}': {message}")
        self.claim = claim


@dataclasses.dataclass(frozen=True)
class Claim:
    id: str
    text: str
    cite: str
    rule: Mapping[str, Any]
    note: str = ""


# ----------------------------------------------------------------------------- parsing

def load_claims(path: str | os.PathLike,
                schemas: Mapping[str, Mapping[str, str]] = SOURCES) -> list[Claim]:
    """Read and check a claim file.

    Raises:
        rrs.io.InputError: missing file or invalid YAML.
        ClaimError: a malformed entry or rule, naming the file and the claim.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise InputError(path, f"invalid YAML ({err})") from None
    return parse_claims(data, path, schemas)


def parse_claims(data: Any, path: str | os.PathLike = "<claims>",
                 schemas: Mapping[str, Mapping[str, str]] = SOURCES) -> list[Claim]:
    """Check the loaded YAML of a claim file and return its claims in file order."""
    if not isinstance(data, dict) or not isinstance(data.get("claims"), list) \
            or not data["claims"]:
        raise InputError(path, "expected a mapping with a non-empty list 'claims'")
    if set(data) - {"claims", "version"}:
        raise InputError(path, f"unknown top-level key(s) {sorted(set(data) - {'claims', 'version'})}")
    claims, seen = [], set()
    for i, entry in enumerate(data["claims"], start=1):
        name = entry["id"] if isinstance(entry, dict) and isinstance(entry.get("id"), str) \
            else f"entry {i}"

        def fail(message: str, _name=name) -> ClaimError:
            return ClaimError(path, _name, message)

        if not isinstance(entry, dict):
            raise fail("expected a mapping with id, text, cite, rule")
        _check_keys(entry, *_CLAIM_KEYS, fail, "claim")
        if not _ID.match(name):
            raise fail("id must be lower-case letters, digits and dashes")
        if name in seen:
            raise fail("duplicate id")
        seen.add(name)
        for key in ("text", "cite", "note"):
            if key in entry and (not isinstance(entry[key], str) or not entry[key].strip()):
                raise fail(f"'{key}' must be a non-empty string")
        _check_rule(entry["rule"], schemas, fail)
        claims.append(Claim(name, entry["text"].strip(), entry["cite"].strip(), entry["rule"],
                            entry.get("note", "").strip()))
    return claims


def _check_keys(mapping: dict, required: set, optional: set, fail, what: str) -> None:
    missing, unknown = required - set(mapping), set(mapping) - required - optional
    if missing:
        raise fail(f"{what} is missing key(s) {sorted(missing)}")
    if unknown:
        raise fail(f"{what} has unknown key(s) {sorted(unknown)} "
                   f"(allowed: {sorted(required | optional)})")


def _check_rule(rule: Any, schemas, fail) -> None:
    if not isinstance(rule, dict):
        raise fail("rule must be a mapping")
    kind = rule.get("kind")
    if kind not in RULES:
        raise fail(f"unknown rule kind {kind!r} (known: {', '.join(RULES)})")
    required, optional = RULES[kind]
    _check_keys(rule, required | _COMMON[0], optional | _COMMON[1], fail, f"rule '{kind}'")
    if rule["data"] not in schemas:
        raise fail(f"unknown data {rule['data']!r} (known: {', '.join(schemas)})")
    schema = schemas[rule["data"]]

    def column(key: str, numeric: bool = True) -> None:
        col = rule[key]
        if not isinstance(col, str) or col not in schema:
            raise fail(f"{key}: {col!r} is not a column of {rule['data']} "
                       f"({', '.join(schema)})")
        if numeric and schema[col] != "num":
            raise fail(f"{key}: column {col!r} is not numeric")

    for key in ("value", "x", "left_value", "right_value"):
        if key in rule:
            column(key)
    by = rule.get("by", [])
    for col in [by] if isinstance(by, str) else by if isinstance(by, list) else [None]:
        if col not in schema:
            raise fail(f"by: {col!r} is not a column of {rule['data']}")
    for key in ("where", "left", "right"):
        if key in rule:
            _check_where(rule[key], schema, lambda m, k=key: fail(f"{k}: {m}"))
    for key in ("threshold", "tolerance"):
        if key in rule and (isinstance(rule[key], bool) or not isinstance(rule[key], (int, float))
                            or (key == "tolerance" and rule[key] < 0)):
            raise fail(f"{key} must be a number" + (" >= 0" if key == "tolerance" else ""))
    if "strict" in rule and not isinstance(rule["strict"], bool):
        raise fail("strict must be true or false")
    if kind == "monotone" and rule["direction"] not in ("increasing", "decreasing"):
        raise fail(f"direction must be 'increasing' or 'decreasing', got {rule['direction']!r}")
    if "interval" in rule:
        iv = rule["interval"]
        if "tolerance" in rule or not isinstance(iv, list) or len(iv) != 2 or any(
                not isinstance(c, str) or schema.get(c) != "num" for c in iv):
            raise fail("interval must be a list of two numeric columns [lo, hi], "
                       "not given with tolerance")
    if kind == "compare":
        if rule["op"] not in _COMPARE_OPS:
            raise fail(f"op must be one of {', '.join(_COMPARE_OPS)}, got {rule['op']!r}")
        if ("value" in rule) == ("left_value" in rule or "right_value" in rule) or (
                "value" not in rule and not {"left_value", "right_value"} <= set(rule)):
            raise fail("compare needs either value or both left_value and right_value")
        if "tolerance" in rule and rule["op"] != "==":
            raise fail("tolerance is allowed with op '==' only")


def _check_where(where: Any, schema: Mapping[str, str], fail) -> None:
    if not isinstance(where, dict):
        raise fail("must be a mapping column -> condition")
    for col, cond in where.items():
        if col not in schema:
            raise fail(f"{col!r} is not a column ({', '.join(schema)})")
        kind = schema[col]
        if isinstance(cond, str) and cond in ("max", "min") and kind == "num":
            continue
        if isinstance(cond, dict):
            if len(cond) != 1 or next(iter(cond)) not in _WHERE_OPS:
                raise fail(f"{col}: a condition mapping has one key of {', '.join(_WHERE_OPS)}")
            (op, val), = cond.items()
            if op != "!=" and kind != "num":
                raise fail(f"{col}: {op} needs a numeric column")
            cond = [val]
        for val in cond if isinstance(cond, list) and cond else [cond]:
            ok = {"num": isinstance(val, (int, float)) and not isinstance(val, bool),
                  "bool": isinstance(val, bool),
                  "text": isinstance(val, (str, int, float)) and not isinstance(val, bool)}[kind]
            if not ok:
                raise fail(f"{col}: {val!r} does not fit a {kind} column")


# ----------------------------------------------------------------------------- evaluation

def _coerce(value, kind: str):
    return float(value) if kind == "num" else str(value) if kind == "text" else bool(value)


def select(frame: pd.DataFrame, where: Mapping[str, Any] | None,
           schema: Mapping[str, str]) -> pd.DataFrame:
    """Rows of ``frame`` meeting ``where`` (see the module docstring)."""
    where = where or {}
    mask = pd.Series(True, index=frame.index)
    extremes = []
    for col, cond in where.items():
        kind = schema[col]
        if isinstance(cond, str) and cond in ("max", "min") and kind == "num":
            extremes.append((col, cond))
        elif isinstance(cond, dict):
            (op, val), = cond.items()
            mask &= _WHERE_OPS[op](frame[col], _coerce(val, kind))
        elif isinstance(cond, list):
            mask &= frame[col].isin([_coerce(v, kind) for v in cond])
        else:
            mask &= frame[col] == _coerce(cond, kind)
    rows = frame[mask]
    for col, which in extremes:
        target = rows[col].max() if which == "max" else rows[col].min()
        rows = rows[rows[col] == target]
    return rows


def combine(verdicts: list[str]) -> str:
    """``fails`` if any fails; else ``not_evaluable`` if any is (or none given); else ``holds``."""
    if FAILS in verdicts:
        return FAILS
    return NOT_EVALUABLE if not verdicts or NOT_EVALUABLE in verdicts else HOLDS


def _fmt(v: float) -> str:
    return f"{v:.3f}"


def _fmt_key(v) -> str:
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else f"{v:g}"
    return str(v)


def _label(row: pd.Series, cols) -> str:
    parts = [_fmt_key(row[c]) if isinstance(row[c], str) else f"{c}={_fmt_key(row[c])}"
             for c in cols]
    return "/".join(parts) or "all"


def _num(v) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else round(float(v), 6)


def _groups(rows: pd.DataFrame, by: list[str]):
    if not by:
        yield "all", rows
        return
    for key, g in rows.groupby(by, sort=False):  # sources come sorted by size, then keys
        yield _label(g.iloc[0], by), g


def _threshold(rule, rows, keys, by) -> tuple[str, dict, str]:
    below, strict, thr, col = rule["kind"] == "all_below", rule.get("strict", False), \
        rule["threshold"], rule["value"]
    op = ("<" if strict else "<=") if below else (">" if strict else ">=")
    items = []
    for _, r in rows.iterrows():
        v = r[col]
        verdict = NOT_EVALUABLE if math.isnan(v) else HOLDS if _COMPARE_OPS[op](v, thr) else FAILS
        items.append({"row": _label(r, keys), "value": _num(v), "verdict": verdict})
    verdict = combine([i["verdict"] for i in items])
    defined = [i["value"] for i in items if i["value"] is not None]
    if not items:
        return NOT_EVALUABLE, {"rows": []}, "no rows selected"
    bad = [i for i in items if i["verdict"] == verdict] if verdict != HOLDS else []
    if verdict == HOLDS:
        ext = max(defined) if below else min(defined)
        summary = f"{'max' if below else 'min'} {col} = {_fmt(ext)} {op} {thr:g} over " \
                  f"{len(items)} row(s)"
    else:
        what = f"not {op} {thr:g}" if verdict == FAILS else "undefined"
        summary = f"{col} {what} in {len(bad)} of {len(items)} rows: " + ", ".join(
            f"{i['row']} {_fmt(i['value']) if i['value'] is not None else 'empty'}"
            for i in bad[:MAX_LISTED]) + (" ..." if len(bad) > MAX_LISTED else "")
    return verdict, {"rows": items}, summary


def _along_x(rule, g: pd.DataFrame) -> tuple[pd.DataFrame, list[dict], str | None]:
    """Points of one group sorted by x, and the moves between neighbours."""
    x, col, iv = rule["x"], rule["value"], rule.get("interval")
    need = 3 if rule["kind"] == "not_monotone" else 2
    cols = [col] + (iv or [])
    g = g.dropna(subset=cols).sort_values(x, kind="mergesort")
    if g[x].duplicated().any():
        return g, [], f"duplicate {x} values"
    if len(g) < need:
        return g, [], f"{len(g)} point(s) with a defined {col}; need {need}"
    tol, moves = rule.get("tolerance", 0), []
    pts = g.to_dict("records")
    for a, b in zip(pts, pts[1:]):
        if iv:
            up, down = b[iv[0]] > a[iv[1]], b[iv[1]] < a[iv[0]]
        else:
            up, down = b[col] - a[col] > tol, a[col] - b[col] > tol
        moves.append({"from": _num(a[x]), "to": _num(b[x]), "change": _num(b[col] - a[col]),
                      "rise": bool(up), "fall": bool(down)})
    return g, moves, None


def _fmt_x(column: str, v: float) -> str:
    return format_params(v) if column == "params" else _fmt_key(float(v))


def _sequence(rule, g: pd.DataFrame) -> str:
    """``"steps 500/1000/2000: 0.871 < 0.889 > 0.813"`` (relations of the point estimates)."""
    x, col = rule["x"], rule["value"]
    vals = list(g[col])
    out = _fmt(vals[0]) if vals else ""
    for a, b in zip(vals, vals[1:]):
        out += (" < " if b > a else " > " if b < a else " = ") + _fmt(b)
    return f"{x} {'/'.join(_fmt_x(x, v) for v in g[x])}: {out}"


def _prefix(label: str) -> str:
    return "" if label == "all" else f"{label}, "


def _monotone(rule, rows, keys, by) -> tuple[str, dict, str]:
    groups, parts, verdicts = [], [], []
    for label, g in _groups(rows, by):
        g, moves, problem = _along_x(rule, g)
        points = [{"x": _num(r[rule["x"]]), "value": _num(r[rule["value"]]),
                   **({"lo": _num(r[rule["interval"][0]]), "hi": _num(r[rule["interval"][1]])}
                      if rule.get("interval") else {})} for _, r in g.iterrows()]
        if problem:
            verdict, bad = NOT_EVALUABLE, []
        elif rule["kind"] == "not_monotone":
            verdict = HOLDS if any(m["rise"] for m in moves) and any(
                m["fall"] for m in moves) else FAILS
            bad = []
        else:
            right, wrong = ("rise", "fall") if rule["direction"] == "increasing" else ("fall", "rise")
            bad = [m for m in moves if (not m[right] if rule.get("strict") else m[wrong])]
            verdict = FAILS if bad else HOLDS
        verdicts.append(verdict)
        groups.append({"group": label, "verdict": verdict, "points": points, "moves": moves,
                       **({"reason": problem} if problem else {})})
        text = _prefix(label) + (_sequence(rule, g) if not problem else problem)
        if bad:
            text += " [fails " + ", ".join(f"{_fmt_x(rule['x'], m['from'])}->"
                                           f"{_fmt_x(rule['x'], m['to'])}" for m in bad) + "]"
        elif rule["kind"] == "not_monotone" and verdict == FAILS:
            text += " [no rise-and-fall beyond tolerance]"
        parts.append(text)
    verdict = combine(verdicts)
    return verdict, {"groups": groups}, "; ".join(parts) if parts else "no rows selected"


def _compare(rule, rows, keys, by, frame_schema) -> tuple[str, dict, str]:
    lcol = rule.get("left_value", rule.get("value"))
    rcol = rule.get("right_value", rule.get("value"))
    op, tol = rule["op"], rule.get("tolerance", 0)
    left = select(rows, rule["left"], frame_schema)
    right = select(rows, rule["right"], frame_schema)
    free = [k for k in keys if k not in by]
    groups, verdicts, parts = [], [], []
    both = pd.concat([left, right]).drop_duplicates(subset=by) if by else left.iloc[:1]
    labels = [lab for lab, _ in _groups(both, by)] if len(left) or len(right) else []
    lg, rg = dict(_groups(left, by)), dict(_groups(right, by))
    for label in labels:
        L, R = lg.get(label, left.iloc[:0]), rg.get(label, right.iloc[:0])
        pairs = []
        for _, a in L.iterrows():
            for _, b in R.iterrows():
                lv, rv = a[lcol], b[rcol]
                if math.isnan(lv) or math.isnan(rv):
                    verdict = NOT_EVALUABLE
                elif op == "==":
                    verdict = HOLDS if abs(lv - rv) <= tol else FAILS
                else:
                    verdict = HOLDS if _COMPARE_OPS[op](lv, rv) else FAILS
                margin = {"<": rv - lv, "<=": rv - lv, ">": lv - rv, ">=": lv - rv}.get(
                    op, -abs(lv - rv))
                pairs.append({"left": _label(a, free), "right": _label(b, free),
                              "left_value": _num(lv), "right_value": _num(rv),
                              "verdict": verdict, "margin": _num(margin)})
        verdict = combine([p["verdict"] for p in pairs])
        verdicts.append(verdict)
        groups.append({"group": label, "verdict": verdict, "pairs": pairs,
                       **({} if pairs else {"reason": "left or right selects no rows"})})
        if not pairs:
            parts.append(f"{_prefix(label)}left or right selects no rows")
            continue
        shown = [p for p in pairs if p["verdict"] != HOLDS] or [min(
            pairs, key=lambda p: p["margin"])]  # all hold: the closest pair
        parts.append(("" if label == "all" else f"{label}: ") + ", ".join(
            _pair_text(p, lcol, rcol, op) for p in shown[:MAX_LISTED]))
    if not labels:
        return NOT_EVALUABLE, {"groups": []}, "no rows selected"
    return combine(verdicts), {"groups": groups}, "; ".join(parts)


def _pair_text(p: dict, lcol: str, rcol: str, op: str) -> str:
    def side(label, col, v):
        name = " ".join(s for s in (label if label != "all" else "", col if lcol != rcol else "")
                        if s)
        return f"{name} {_fmt(v) if v is not None else 'empty'}".strip()
    flag = "" if p["verdict"] == HOLDS else " (FAILS)" if p["verdict"] == FAILS else " (undefined)"
    return f"{side(p['left'], lcol, p['left_value'])} {op} " \
           f"{side(p['right'], rcol, p['right_value'])}{flag}"


def evaluate(claim: Claim, sources: Mapping[str, pd.DataFrame | None],
             schemas: Mapping[str, Mapping[str, str]] = SOURCES,
             keys: Mapping[str, tuple[str, ...]] = KEYS) -> dict:
    """Check one claim against the sources; never raises for missing or undefined data.

    Returns:
        ``{"id", "text", "cite", "note", "rule", "verdict", "summary", "evidence"}``.
    """
    rule = claim.rule
    base = {"id": claim.id, "text": claim.text, "cite": claim.cite, "note": claim.note,
            "rule": dict(rule)}
    frame = sources.get(rule["data"])
    if frame is None:
        return {**base, "verdict": NOT_EVALUABLE, "evidence": {"source_absent": rule["data"]},
                "summary": f"no '{rule['data']}' outputs (file absent)"}
    schema = schemas[rule["data"]]
    by = [rule["by"]] if isinstance(rule.get("by"), str) else list(rule.get("by", []))
    rows = select(frame, rule.get("where"), schema)
    key_cols = [k for k in keys.get(rule["data"], ()) if k in frame.columns]
    if rule["kind"] in ("all_below", "all_above"):
        verdict, evidence, summary = _threshold(rule, rows, key_cols, by)
    elif rule["kind"] in ("monotone", "not_monotone"):
        verdict, evidence, summary = _monotone(rule, rows, key_cols, by)
    else:
        verdict, evidence, summary = _compare(rule, rows, key_cols, by, schema)
    return {**base, "verdict": verdict, "summary": summary, "evidence": evidence}


def evaluate_all(claims: list[Claim], sources: Mapping[str, pd.DataFrame | None]) -> list[dict]:
    return [evaluate(c, sources) for c in claims]
