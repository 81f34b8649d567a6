"""Claims as data: each claim of the paper with a machine-checkable rule over ``metrics/``.

A claim file (``paper/claims.yaml``) is a mapping with a list ``claims``; each entry has an
``id`` (lower-case letters, digits, dashes), the claim ``text`` as the paper states it, ``cite``
(where it says so), an optional ``note`` and one ``rule``. A rule names its ``kind``, the
``data`` source it reads (a frame of :mod:`rrs.claims.sources`) and optionally ``where`` (which
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

from rrs.claims.parse import RULES, Claim, ClaimError, load_claims, parse_claims
from rrs.claims.rules import (FAILS, HOLDS, NOT_EVALUABLE, VERDICTS, combine, evaluate,
                              evaluate_all, select)
from rrs.claims.sources import KEYS, SOURCES, load_sources

__all__ = ["FAILS", "HOLDS", "KEYS", "NOT_EVALUABLE", "RULES", "SOURCES", "VERDICTS", "Claim",
           "ClaimError", "combine", "evaluate", "evaluate_all", "load_claims", "load_sources",
           "parse_claims", "select"]
