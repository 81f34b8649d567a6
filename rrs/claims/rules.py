"""Evaluating claims: the five rule kinds over the source frames, with the numbers behind
each verdict and a one-line summary for the claims table. Nothing here reads a file.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import pandas as pd

from rrs.claims.parse import COMPARE_OPS, WHERE_OPS, Claim
from rrs.claims.sources import KEYS, SOURCES
from rrs.report import format_params

HOLDS, FAILS, NOT_EVALUABLE = VERDICTS = ("holds", "fails", "not_evaluable")
MAX_LISTED = 6  # rows or pairs quoted in a one-line summary


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
            mask &= WHERE_OPS[op](frame[col], _coerce(val, kind))
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
        verdict = NOT_EVALUABLE if math.isnan(v) else HOLDS if COMPARE_OPS[op](v, thr) else FAILS
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
            up = rule["direction"] == "increasing"
            right, wrong = ("rise", "fall") if up else ("fall", "rise")
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
    # left and right select within each group, so `max` / `min` are each group's extremes
    # ("every attack at its own largest budget")
    free = [k for k in keys if k not in by]
    groups, verdicts, parts = [], [], []
    sides = [(label, select(g, rule["left"], frame_schema), select(g, rule["right"], frame_schema))
             for label, g in _groups(rows, by)]
    sides = [(label, L, R) for label, L, R in sides if len(L) or len(R)]
    labels = [label for label, _, _ in sides]
    for label, L, R in sides:
        pairs = []
        for _, a in L.iterrows():
            for _, b in R.iterrows():
                lv, rv = a[lcol], b[rcol]
                if math.isnan(lv) or math.isnan(rv):
                    verdict = NOT_EVALUABLE
                elif op == "==":
                    verdict = HOLDS if abs(lv - rv) <= tol else FAILS
                else:
                    verdict = HOLDS if COMPARE_OPS[op](lv, rv) else FAILS
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
