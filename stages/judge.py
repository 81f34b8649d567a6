"""Stage ``judge``: label every generated response and embed it once.

Each response gets the study's ``label`` from the judge named in params ``judge.name``, the
trained classifier's ``p_refuse`` (which CE averages the entropy of, whatever judge labels),
both judges' labels side by side, and ``valid``. The MiniLM embeddings computed here serve
the classifier and, in the metrics stage, RD, so changing an RD or CE setting never re-embeds.

In:  every ``generations/<model>.csv``, the trained classifier; params ``judge``.
Out: ``judged/responses.csv`` and ``judged/embeddings.npy`` (row-aligned).
Run: ``rrs judge-generations --generations generations --classifier models/judge/classifier.json
     --out-dir judged``
"""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np
import pandas as pd

from rrs.config import JudgeParams, section
from rrs.io import atomic_path, write_csv
from rrs.judges.apply import judge_responses
from stages.common import judging_options, read_params, read_records

KEY = ["model", "steps", "set", "id"]


def read_generations(folder: Path) -> pd.DataFrame:
    return read_records(folder, KEY, ["prompt", "response"], {"steps": int}, "generation")


@click.command("judge-generations")
@judging_options
def cli(generations: Path, classifier: Path, out_dir: Path, params_path: Path) -> None:
    """Judge and embed every generated response."""
    cfg = section(read_params(params_path), "judge", JudgeParams)
    frame = read_generations(generations)
    labels, emb = judge_responses(frame["prompt"], frame["response"], cfg, classifier)
    frame = pd.concat([frame, labels], axis=1)
    with atomic_path(out_dir / "embeddings.npy") as tmp:
        with open(tmp, "wb") as fh:
            np.save(fh, emb)
    write_csv(out_dir / "responses.csv", frame)
