"""Options and helpers shared by the stage commands."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import click
import pandas as pd
import torch

from rrs.config import load_params
from rrs.io import InputError, read_table

params_option = click.option(
    "--params", "params_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default="params.yaml", show_default=True, help="The pipeline's parameter file.")


def judging_options(command):
    """``--generations`` (a folder of CSVs), ``--classifier`` and ``--out-dir``: the options of
    the two stages that judge generated answers (``judge-generations``, ``stability``)."""
    for option in reversed([
            click.option("--generations", required=True,
                         type=click.Path(exists=True, file_okay=False, path_type=Path)),
            click.option("--classifier", type=click.Path(exists=True, path_type=Path),
                         required=True),
            click.option("--out-dir", type=click.Path(path_type=Path), required=True),
            params_option]):
        command = option(command)
    return command


def setup_torch(threads: int) -> None:
    """Fix the CPU thread count: float reductions are reproducible for a fixed count."""
    torch.set_num_threads(threads)


def read_params(path: Path) -> dict:
    return load_params(path)


def read_records(folder: Path, key: Sequence[str], fields: Sequence[str],
                 dtypes: Mapping[str, type], what: str) -> pd.DataFrame:
    """Every ``*.csv`` in ``folder`` as one frame, typed and sorted by ``key``.

    Raises:
        InputError: no files (naming ``what`` they should hold), a file without one of
            ``key`` / ``fields`` (naming file and field), or one ``key`` in two rows.
    """
    files = sorted(folder.glob("*.csv"))
    if not files:
        raise InputError(folder, f"no {what} files (*.csv)")
    key = list(key)
    frame = pd.concat([read_table(f, required=[*key, *fields]) for f in files],
                      ignore_index=True).astype(dict(dtypes))
    dup = frame.duplicated(key)
    if dup.any():
        raise InputError(folder, f"duplicate record {dict(frame[dup].iloc[0][key])}")
    return frame.sort_values(key, kind="stable").reset_index(drop=True)
