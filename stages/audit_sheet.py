"""``rrs audit-sheet``: a blind labelling sheet of the held-out audit rows, for a second annotator.

The sheet has ``id, prompt, response`` and empty ``label, note`` columns, rows in a seeded
random order; nothing else of the audit set (reference label, stratum, batch) is on it. A
person fills in ``label`` (REFUSE / PARTIAL / COMPLY) for every row, reading only the sheet and
the label rules in ``data/audit/README.md``; the filled sheet, named in ``params.yaml`` as
``data.audit_second``, is what ``validate_judges`` scores the reference labels against.

Run: ``rrs audit-sheet --audit data/audit/audit.csv --out sheet.csv``
"""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np

from rrs.io import write_csv
from rrs.judges.audit import HELDOUT, audit_part, read_audit


@click.command("audit-sheet")
@click.option("--audit", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--out", type=click.Path(path_type=Path), required=True)
@click.option("--seed", type=int, default=0, show_default=True, help="Row order.")
def cli(audit: Path, out: Path, seed: int) -> None:
    """Write the held-out rows as a blind labelling sheet (no reference labels on it)."""
    heldout = audit_part(read_audit(audit), HELDOUT).sort_values("id", kind="stable")
    if heldout.empty:
        raise click.UsageError(f"{audit} has no split={HELDOUT} rows")
    order = np.random.default_rng(seed).permutation(len(heldout))
    sheet = heldout.iloc[order][["id", "prompt", "response"]].assign(label="", note="")
    write_csv(out, sheet)
    click.echo(f"{out}: {len(sheet)} held-out rows to label blind (label: REFUSE, PARTIAL or "
               "COMPLY; rules in data/audit/README.md)", err=True)
