"""The labelled audit set and how it is split between fitting and validation.

``data/audit/audit.csv`` has one row per response with columns ``id, prompt, response,
label, stratum, split``: ``label`` is REFUSE / PARTIAL / COMPLY as the annotator read it,
``stratum`` the kind of case (plain_refusal, leakage, trap_refusal_words, ...), and ``split``
``train`` (may be used to fit and calibrate the classifier) or ``heldout`` (used only to
validate judges, never to fit, calibrate or choose anything).
"""

from __future__ import annotations

import os

import pandas as pd

from rrs.io import InputError, read_table
from rrs.labels import LABELS

AUDIT_COLUMNS = ("id", "prompt", "response", "label", "stratum", "split")
TRAIN, HELDOUT = "train", "heldout"
SPLITS = (TRAIN, HELDOUT)


def check_values(frame: pd.DataFrame, path: str | os.PathLike, column: str,
                 allowed: tuple[str, ...]) -> None:
    """Raise :class:`InputError` naming the first row whose ``column`` is not ``allowed``."""
    bad = ~frame[column].isin(allowed)
    if bad.any():
        row = int(bad.to_numpy().argmax())
        raise InputError(path, f"{column} {frame[column].iloc[row]!r} is not one of "
                         f"{', '.join(allowed)}", row=row + 1, field=column)


def check_unique(frame: pd.DataFrame, path: str | os.PathLike, column: str) -> None:
    """Raise :class:`InputError` naming the first row that repeats an earlier ``column``."""
    dup = frame[column].duplicated()
    if dup.any():
        row = int(dup.to_numpy().argmax())
        raise InputError(path, f"duplicate {column} {frame[column].iloc[row]!r}", row=row + 1,
                         field=column)


def read_audit(path: str | os.PathLike) -> pd.DataFrame:
    """Read and check the audit set (columns, labels, splits, unique ids).

    Raises:
        InputError: naming the file, row and field at fault.
    """
    frame = read_table(path, required=AUDIT_COLUMNS)
    check_values(frame, path, "label", LABELS)
    check_values(frame, path, "split", SPLITS)
    check_unique(frame, path, "id")
    return frame


def audit_part(frame: pd.DataFrame, split: str) -> pd.DataFrame:
    """The rows of one split, in file order, with a fresh index."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    return frame[frame["split"] == split].reset_index(drop=True)


def training_rows(labelled: pd.DataFrame, audit: pd.DataFrame | None,
                  real: pd.DataFrame | None = None, real_weight: int = 1) -> pd.DataFrame:
    """What the classifier is fitted and calibrated on: the labelled set plus audit ``train``,
    plus the real-output audit's labelled ``train`` answers (``real``, with a ``split``).

    The ``heldout`` rows of both audits are dropped here, the only place the fit data are
    assembled, so no held-out response can reach fitting or calibration.

    ``real_weight`` repeats every real train row that many times: a few hundred real answers
    sit among thousands of written ones, and the fit should not be outvoted on the text the
    study actually judges (params ``judge.real_weight``, chosen by leave-one-batch-out CV).

    Returns:
        Columns ``response, label, source`` (``judge_labelled``, ``audit_train`` or
        ``real_train``) and ``batch`` (the audit batch; empty for the labelled set).
    """
    if real_weight < 1:
        raise ValueError(f"judge.real_weight must be >= 1, got {real_weight}")
    parts = [labelled[["response", "label"]].assign(source="judge_labelled", batch="")]
    if audit is not None:
        part = audit_part(audit, TRAIN)
        batch = part["batch"] if "batch" in part else part["id"].str[0]
        parts.append(part[["response", "label"]].assign(source="audit_train", batch=batch))
    if real is not None:
        part = audit_part(real, TRAIN)
        parts += [part[["response", "label", "batch"]].assign(source="real_train")] * real_weight
    return pd.concat(parts, ignore_index=True)
