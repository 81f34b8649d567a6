"""Reading and checking a claim file: every entry, rule and column is checked against the
source schemas before any data is read, so a typo fails loudly, naming the file and the claim.
"""

from __future__ import annotations

import dataclasses
import operator
import os
import re
from pathlib import Path
from typing import Any, Callable, Mapping

import yaml

from rrs.claims.sources import SOURCES
from rrs.io import InputError

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
WHERE_OPS: dict[str, Callable] = {"<": operator.lt, "<=": operator.le, ">": operator.gt,
                                  ">=": operator.ge, "!=": operator.ne}
COMPARE_OPS: dict[str, Callable] = {"<": operator.lt, "<=": operator.le, ">": operator.gt,
                                    ">=": operator.ge, "==": operator.eq}


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
        extra = sorted(set(data) - {"claims", "version"})
        raise InputError(path, f"unknown top-level key(s) {extra} (known: claims, version)")
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
        if rule["op"] not in COMPARE_OPS:
            raise fail(f"op must be one of {', '.join(COMPARE_OPS)}, got {rule['op']!r}")
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
            if len(cond) != 1 or next(iter(cond)) not in WHERE_OPS:
                raise fail(f"{col}: a condition mapping has one key of {', '.join(WHERE_OPS)}")
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
