"""Stage ``attack_report``: the attack table and figures, from ``metrics/`` only.

In:  ``metrics/attacks.csv``, ``metrics/compute_to_break.json``.
Out: ``paper/tables/attacks.{tex,md}``, ``figures/attacks/rrr_vs_flops.{png,pdf}`` (a panel
     per model: RRR against attacker FLOPs, every attack) and
     ``figures/attacks/compute_to_break.{png,pdf}`` (against parameter count).
Run: ``rrs attack-report --table metrics/attacks.csv --summary metrics/compute_to_break.json
     --figures-dir figures/attacks --tables-dir paper/tables``
"""

from __future__ import annotations

import json
from pathlib import Path

import click
import numpy as np

from rrs.io import read_table
from rrs.report.attack_figures import write_all
from rrs.report.attack_table import write_attack_tables

NUMERIC = ("params", "budget", "flops", "n", "rrr", "rrr_lo", "rrr_hi", "asr", "rd", "rd_lo",
           "rd_hi", "ce", "over_refusal", "over_refusal_n")


def read_attacks(path: Path):
    frame = read_table(path, required=("model", "attack", "status", *NUMERIC)).replace("", np.nan)
    frame[list(NUMERIC)] = frame[list(NUMERIC)].astype(float)
    frame["status"] = frame["status"].fillna("")
    return frame


@click.command("attack-report")
@click.option("--table", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--summary", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--figures-dir", type=click.Path(path_type=Path), required=True)
@click.option("--tables-dir", type=click.Path(path_type=Path), required=True)
def cli(table: Path, summary: Path, figures_dir: Path, tables_dir: Path) -> None:
    """Write the attack table and the compute figures."""
    frame = read_attacks(table)
    spec = json.loads(summary.read_text(encoding="utf-8"))
    write_attack_tables(frame, spec, tables_dir)
    write_all(frame, spec, figures_dir)
