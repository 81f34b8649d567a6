"""Stage ``reproduce``: the seeds' published numbers beside this run's, and which definition
each published CE and RD value matches.

In:  ``data/reference/*.csv`` (the published tables), ``metrics/table1.csv``,
     ``metrics/study.json``, ``metrics/stability.json``, ``metrics/stability_per_temperature.csv``,
     params ``reference`` (model aliases, tolerance).
Out: ``metrics/reproduction.json`` (the numbers, a DVC metric),
     ``metrics/reproduction_details.json`` (every comparison and published value, with the
     status line), ``paper/tables/reproduction.md``, ``paper/tables/reproduction.tex``.
Run: ``rrs reproduce --reference-dir data/reference --table metrics/table1.csv
     --study metrics/study.json --stability metrics/stability.json
     --stability-per-temperature metrics/stability_per_temperature.csv
     --out metrics/reproduction.json --details metrics/reproduction_details.json
     --tables-dir paper/tables``
"""

from __future__ import annotations

import json
from pathlib import Path

import click
import pandas as pd

from rrs.config import load_params, section
from rrs.io import write_json
from rrs.reference import ReferenceParams, read_reference_dir
from rrs.report import check_table1, read_table1
from rrs.report.reproduction import build_report, summary_metrics
from rrs.report.reproduction_table import write_reproduction_tables

_file = click.Path(exists=True, dir_okay=False, path_type=Path)
_dir = click.Path(exists=True, file_okay=False, path_type=Path)


@click.command("reproduce")
@click.option("--reference-dir", type=_dir, required=True, help="Folder of published tables.")
@click.option("--table", type=_file, required=True, help="This run's metrics/table1.csv.")
@click.option("--study", type=_file, required=True, help="This run's metrics/study.json.")
@click.option("--stability", type=_file, required=True, help="This run's stability.json.")
@click.option("--stability-per-temperature", type=_file, required=True,
              help="This run's stability_per_temperature.csv.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The summary numbers (JSON).")
@click.option("--details", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The whole report (JSON).")
@click.option("--tables-dir", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--params", "params_path", type=_file, default="params.yaml", show_default=True,
              help="The pipeline's parameter file.")
def cli(reference_dir: Path, table: Path, study: Path, stability: Path,
        stability_per_temperature: Path, out: Path, details: Path, tables_dir: Path,
        params_path: Path) -> None:
    """Compare published numbers with this run; say which definition each CE / RD matches."""
    cfg = section(load_params(params_path), "reference", ReferenceParams)
    spec = json.loads(study.read_text(encoding="utf-8"))
    table1 = check_table1(read_table1(table), spec["rd_aggregate"], spec["ce_definition"])
    published, stability_ref = read_reference_dir(reference_dir)
    summary = json.loads(stability.read_text(encoding="utf-8"))
    per_temp = pd.read_csv(stability_per_temperature)
    report = build_report(published, stability_ref, table1, spec, summary, per_temp,
                          cfg.model_aliases, cfg.tolerance)
    write_reproduction_tables(report, tables_dir)
    write_json(details, report)
    write_json(out, summary_metrics(report))
    click.echo(report["status"])
