"""Stage ``claims``: check every claim of ``paper/claims.yaml`` against the outputs.

In:  ``paper/claims.yaml``; ``metrics/table1.csv`` and ``metrics/study.json`` (required);
     ``metrics/stability.json``, ``metrics/stability_per_temperature.csv``,
     ``metrics/judges.json``, ``metrics/attack/``, ``metrics/scaling.json``,
     ``metrics/attacks.csv`` and ``metrics/compute_to_break.json`` (each optional:
     the claims on an absent one are ``not_evaluable``).
Out: ``metrics/claims.json`` (verdict counts, and per claim its verdict and the numbers
     behind it) and ``paper/tables/claims.{md,tex}``.
Run: ``rrs claims --claims paper/claims.yaml --table metrics/table1.csv --study metrics/study.json
     --stability metrics/stability.json
     --stability-per-temperature metrics/stability_per_temperature.csv
     --judges metrics/judges.json --attack-dir metrics/attack --scaling metrics/scaling.json
     --attacks metrics/attacks.csv --compute-to-break metrics/compute_to_break.json
     --out metrics/claims.json --tables-dir paper/tables``
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from rrs.claims import VERDICTS, evaluate_all, load_claims, load_sources
from rrs.io import write_json
from rrs.report.claims_table import write_claims_tables

_in = click.Path(path_type=Path)  # optional inputs may be absent: not_evaluable, not an error


@click.command("claims")
@click.option("--claims", "claims_file", type=click.Path(exists=True, path_type=Path),
              required=True)
@click.option("--table", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--study", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--stability", type=_in)
@click.option("--stability-per-temperature", type=_in)
@click.option("--judges", type=_in)
@click.option("--attack-dir", type=_in)
@click.option("--scaling", type=_in)
@click.option("--attacks", type=_in, help="metrics/attacks.csv")
@click.option("--compute-to-break", type=_in, help="metrics/compute_to_break.json")
@click.option("--out", type=_in, required=True, help="metrics/claims.json")
@click.option("--tables-dir", type=_in, required=True)
def cli(claims_file: Path, table: Path, study: Path, stability: Path | None,
        stability_per_temperature: Path | None, judges: Path | None, attack_dir: Path | None,
        scaling: Path | None, attacks: Path | None, compute_to_break: Path | None, out: Path,
        tables_dir: Path) -> None:
    """Evaluate the paper's claims; write metrics/claims.json and the claims table."""
    claims = load_claims(claims_file)  # a malformed file fails before anything is read
    spec = json.loads(study.read_text(encoding="utf-8"))
    sources = load_sources(table, stability, stability_per_temperature, judges, attack_dir,
                           scaling, attacks, compute_to_break)
    results = evaluate_all(claims, sources)
    context = {"claims_file": claims_file.as_posix(), "rd_aggregate": spec["rd_aggregate"],
               "ce_definition": spec["ce_definition"], "judge_version": spec["judge_version"],
               "sources_absent": sorted(k for k, v in sources.items() if v is None)}
    write_claims_tables(results, context, tables_dir)
    # The metric file keeps what `dvc metrics show/diff` should list (counts and verdicts);
    # claim texts and rules are in the claim file, the one-line summaries in the table.
    write_json(out, {
        "context": context,
        "counts": {v: sum(r["verdict"] == v for r in results) for v in VERDICTS},
        "claims": {r["id"]: {"verdict": r["verdict"], "evidence": r["evidence"]}
                   for r in results},
    })
