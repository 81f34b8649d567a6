"""Stage ``judge_attacks``: label and embed every attacked answer, as ``judge`` does.

The same code path as stage ``judge`` (:func:`rrs.judges.apply.judge_responses`, the judge
named in params ``judge.name``) over the prompt attacks' records, so a judge change re-runs
judging (this stage and ``judge``) and never an attack. The judge reads the original request
(``prompt``) and the text the model wrote (``response``: for prefilling, what came after the
prefill).

In:  every ``attacks/<attack>/<model>.csv``, the trained classifier; params ``judge``.
Out: ``judged/attacks.csv`` and ``judged/attack_embeddings.npy`` (row-aligned).
Run: ``rrs judge-attacks --generations attacks --classifier models/judge/classifier.json
     --out-dir judged``
"""

from __future__ import annotations

import io
from pathlib import Path

import click
import numpy as np
import pandas as pd

from rrs.config import JudgeParams, section
from rrs.io import InputError, atomic_path, write_csv
from rrs.judges.apply import judge_responses
from stages.common import judging_options, read_params

KEY = ["model", "attack", "budget", "sample", "set", "id"]


def read_attack_records(folder: Path) -> pd.DataFrame:
    """Every ``<attack>/<model>.csv`` under ``folder``; a header-only file (an attack that
    does not apply to a model) contributes no rows."""
    files = sorted(folder.glob("*/*.csv"))
    if not files:
        raise InputError(folder, "no attack record files (<attack>/<model>.csv)")
    frames = []
    for f in files:
        frame = pd.read_csv(io.StringIO(f.read_text(encoding="utf-8")), dtype=str,
                            keep_default_na=False)
        missing = [c for c in [*KEY, "prompt", "response"] if c not in frame.columns]
        if missing:
            raise InputError(f, f"missing column {missing[0]}")
        frames.append(frame)
    frame = pd.concat(frames, ignore_index=True).astype({"budget": int, "sample": int})
    dup = frame.duplicated(KEY)
    if dup.any():
        raise InputError(folder, f"duplicate record {dict(frame[dup].iloc[0][KEY])}")
    return frame.sort_values(KEY, kind="stable").reset_index(drop=True)


@click.command("judge-attacks")
@judging_options
def cli(generations: Path, classifier: Path, out_dir: Path, params_path: Path) -> None:
    """Judge and embed every attacked answer."""
    cfg = section(read_params(params_path), "judge", JudgeParams)
    frame = read_attack_records(generations)
    labels, emb = judge_responses(frame["prompt"], frame["response"], cfg, classifier)
    frame = pd.concat([frame, labels], axis=1)
    with atomic_path(out_dir / "attack_embeddings.npy") as tmp:
        with open(tmp, "wb") as fh:
            np.save(fh, emb)
    write_csv(out_dir / "attacks.csv", frame)
