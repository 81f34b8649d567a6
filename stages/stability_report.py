"""Stage ``stability_figures``: seed 004's five figures and the stability table, from metrics/.

In:  ``metrics/stability.json``, ``metrics/stability_per_prompt.csv``,
     ``metrics/stability_per_temperature.csv``, ``data/reference/stability_larsen2025.csv``.
Out: ``figures/stability/<figure>.{png,pdf}`` and ``paper/tables/stability.{md,tex}``.
Run: ``rrs stability-figures --metrics-dir metrics --reference data/reference/stability_larsen2025.csv
     --out-dir figures/stability --tables-dir paper/tables``
"""

from __future__ import annotations

import json
from pathlib import Path

import click
import pandas as pd

from rrs.report.stability_figures import write_all
from rrs.report.stability_table import read_reference, write_stability_tables


@click.command("stability-figures")
@click.option("--metrics-dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              required=True)
@click.option("--reference", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--out-dir", type=click.Path(path_type=Path), required=True)
@click.option("--tables-dir", type=click.Path(path_type=Path), required=True)
def cli(metrics_dir: Path, reference: Path, out_dir: Path, tables_dir: Path) -> None:
    """Draw the stability figures and write the stability table."""
    summary = json.loads((metrics_dir / "stability.json").read_text(encoding="utf-8"))
    prompts = pd.read_csv(metrics_dir / "stability_per_prompt.csv")
    per_temp = pd.read_csv(metrics_dir / "stability_per_temperature.csv")
    ref = read_reference(reference)
    write_all(summary, prompts, per_temp, ref, out_dir)
    write_stability_tables(summary["variants"], per_temp, ref, summary["config"]["judge"],
                           tables_dir, params=summary.get("params"))
