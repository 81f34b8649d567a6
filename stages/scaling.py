"""Stage ``scaling``: RRR, RD and CE vs log10(parameter count) and vs log10(attack compute).

In:  ``metrics/table1.csv``, ``metrics/study.json`` (which RD and CE the table holds);
     params ``scaling``, ``attack.batch_size``, ``attack.seq_len`` (attack compute = steps x
     batch x sequence length, in tokens).
Out: ``metrics/scaling.json`` (slope, intercept, bootstrap interval and band, points per fit;
     ``not_evaluable`` below two distinct x), ``metrics/scaling_bands.csv`` (each band on a
     grid of log10 x), ``figures/scaling/{vs_params,vs_compute}.{png,pdf}`` and
     ``paper/tables/scaling.{md,tex}``.
Run: ``rrs scaling --table metrics/table1.csv --study metrics/study.json --out metrics/scaling.json
     --bands metrics/scaling_bands.csv --figures-dir figures/scaling --tables-dir paper/tables``
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import click

from rrs.config import AttackParams, section
from rrs.io import write_csv, write_json
from rrs.report import ce_label, check_table1, rd_label, read_table1
from rrs.report.scaling_figures import write_all
from rrs.report.scaling_table import write_scaling_tables
from rrs.scaling import ScalingParams, scaling_fits
from stages.common import params_option, read_params

_path = click.Path(path_type=Path)


@click.command("scaling")
@click.option("--table", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--study", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--out", type=_path, required=True, help="metrics/scaling.json")
@click.option("--bands", type=_path, required=True, help="metrics/scaling_bands.csv")
@click.option("--figures-dir", type=_path, required=True)
@click.option("--tables-dir", type=_path, required=True)
@params_option
def cli(table: Path, study: Path, out: Path, bands: Path, figures_dir: Path, tables_dir: Path,
        params_path: Path) -> None:
    """Fit each metric against log10(params) and log10(attack compute), with bootstrap bands."""
    params = read_params(params_path)
    cfg = section(params, "scaling", ScalingParams)
    attack = section(params, "attack", AttackParams)
    spec = json.loads(study.read_text(encoding="utf-8"))
    frame = check_table1(read_table1(table), spec["rd_aggregate"], spec["ce_definition"])
    fits, band_frame = scaling_fits(frame, attack.batch_size, attack.seq_len, cfg)
    config = {**dataclasses.asdict(cfg), "batch_size": attack.batch_size,
              "seq_len": attack.seq_len, "rd_aggregate": spec["rd_aggregate"],
              "ce_definition": spec["ce_definition"], "bootstrap": "points",
              "compute_unit": "tokens = steps x attack.batch_size x attack.seq_len"}
    names = {"rrr": "RRR", "rd": rd_label(spec["rd_aggregate"]),
             "ce": f"CE ({spec['ce_definition']})"}
    model_params = dict(frame.drop_duplicates("model")[["model", "params"]].itertuples(
        index=False, name=None))
    write_all(fits, band_frame, model_params, figures_dir, rd_label=names["rd"],
              ce_label=ce_label(spec["ce_definition"]))
    write_scaling_tables(fits, names, config, tables_dir)
    write_csv(bands, band_frame)
    write_json(out, {"config": config, "fits": fits})
