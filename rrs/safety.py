"""What a committed file may quote: the rule that keeps harmful text out of git.

A prompt or an answer may be written into a file that git tracks (``metrics/``, ``paper/``,
``figures/``, ``docs/``) only when both hold:

1. the prompt comes from the project's own synthetic, redacted sets (``data/prompts``,
   ``data/train``, ``data/audit``): records carry ``prompt_source == "synthetic"``;
2. the answer was written by a model organism this pipeline trained (records carry
   ``model_source == "organism"``), whose whole vocabulary is the redacted corpus.

Anything else (a public benchmark's requests, any real model's answers, to any prompt) is
replaced by ``sha256:<16 hex>`` of the text, so a committed row still identifies what it
stands for; the text itself lives only in DVC outputs (``generations/``, ``judged/``,
``stability/``) and is regenerated from the pinned prompt files and models.
``tests/test_safety.py`` checks every committed file against the public prompt sets.
"""

from __future__ import annotations

import hashlib

import pandas as pd

SYNTHETIC = "synthetic"  # prompt_source of the project's redacted prompt files
ORGANISM = "organism"    # model_source of the organisms the pipeline trains


def withheld(text: str) -> str:
    """The committable stand-in for a text: ``sha256:`` and 16 hex digits of its hash."""
    return "sha256:" + hashlib.sha256(str(text).encode("utf-8")).hexdigest()[:16]


def quotable(prompt_source: str, model_source: str) -> bool:
    return prompt_source == SYNTHETIC and model_source == ORGANISM


def committable(frame: pd.DataFrame, text_columns: list[str]) -> pd.DataFrame:
    """``frame`` with ``text_columns`` withheld on every row the rule does not allow.

    Rows without ``prompt_source`` / ``model_source`` are treated as not quotable: a
    record that does not say where it came from is never quoted.
    """
    ok = pd.Series(True, index=frame.index)
    for column, allowed in (("prompt_source", SYNTHETIC), ("model_source", ORGANISM)):
        ok &= frame[column].eq(allowed) if column in frame else False
    out = frame.copy()
    for column in text_columns:
        out[column] = out[column].where(ok, out[column].map(withheld))
    return out
