"""The real-output audit's batches by hand: organisms' rows, blind sheets out, labels in.

None of these is a pipeline stage. ``rrs audit-organisms`` draws the model organisms' answers
of the audit from the study's ``generations/`` (synthetic prompts, organisms' own text: the
file is committed, ``data/audit/real/organisms.csv``).

``rrs audit-real-sheet`` writes one batch's answers as a sheet (``id, prompt, response`` and
empty ``label, note``), in a seeded random order; nothing else is on it (not the model, the
condition, the split, or any judge's label). Sheets hold real benchmark requests and real
models' answers, so they go outside the repository (e.g. ``/work/audit_real/sheets/``).
The annotator reads only the sheet and ``data/audit/REAL_LABEL_RULES.md`` and writes
``id,label,note``.

``rrs audit-real-labels`` adds a labelled batch to the committed labels file: each label with
the sha256 of the answer *on the sheet* the annotator read, so a label is never attached to
an answer that has since changed (``rrs.audit_real.attach_labels``).

Run: ``rrs audit-organisms --generations generations --benign data/prompts/benign_eval.csv
     --out data/audit/real/organisms.csv``;
     ``rrs audit-real-sheet --answers audit_real --organisms data/audit/real/organisms.csv
     --batch real-t1 --out /work/audit_real/sheets/real-t1.csv``;
     ``rrs audit-real-labels --sheet /work/audit_real/sheets/real-t1.csv --labelled
     /work/audit_real/labels/real-t1.csv --batch real-t1 --out data/audit/real/labels.csv``
"""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np
import pandas as pd

from rrs.audit_real import (LABEL_COLUMNS, NOTES, organism_rows, read_answers, read_labels,
                            text_sha256)
from rrs.config import audit_real
from rrs.io import InputError, read_table, write_csv
from rrs.judges.audit import check_unique, check_values
from rrs.labels import LABELS
from stages.common import params_option, read_params
from stages.generate import read_prompts

RULES = "data/audit/REAL_LABEL_RULES.md"


@click.command("audit-real-sheet")
@click.option("--answers", type=click.Path(exists=True, file_okay=False, path_type=Path),
              required=True, help="Folder of audit_generate's answer files.")
@click.option("--organisms", type=click.Path(exists=True, path_type=Path), default=None)
@click.option("--batch", required=True)
@click.option("--out", type=click.Path(path_type=Path), required=True)
@click.option("--seed", type=int, default=0, show_default=True, help="Row order.")
def sheet_cli(answers: Path, organisms: Path | None, batch: str, out: Path, seed: int) -> None:
    """Write one batch of audit answers as a blind labelling sheet."""
    try:
        frame = read_answers(answers, organisms)
    except InputError as err:
        raise click.ClickException(str(err)) from None
    rows = frame[frame["batch"] == batch]
    if rows.empty:
        raise click.UsageError(f"no rows of batch {batch!r} (batches: "
                               f"{', '.join(sorted(set(frame['batch'])))})")
    order = np.random.default_rng(seed).permutation(len(rows))
    write_csv(out, rows.iloc[order][["id", "prompt", "response"]].assign(label="", note=""))
    click.echo(f"{out}: {len(rows)} rows of batch {batch} to label blind (rules: {RULES})",
               err=True)


@click.command("audit-real-labels")
@click.option("--sheet", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--labelled", type=click.Path(exists=True, path_type=Path), required=True,
              help="The annotator's id,label,note for the sheet's rows.")
@click.option("--batch", required=True)
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="The committed labels file (created, or the batch replaced in it).")
def labels_cli(sheet: Path, labelled: Path, batch: str, out: Path) -> None:
    """Add one annotator's labels of a sheet to the committed labels file."""
    try:
        rows = read_table(sheet, required=("id", "response"))
        got = read_table(labelled, required=("id", "label"))
        got["note"] = (got["note"] if "note" in got else pd.Series("", index=got.index)
                       ).fillna("").astype(str).str.strip()
        got["label"] = got["label"].astype(str).str.strip().str.upper()
        check_values(got, labelled, "label", LABELS)
        check_values(got, labelled, "note", NOTES)
        check_unique(got, labelled, "id")
    except InputError as err:
        raise click.ClickException(str(err)) from None
    missing = sorted(set(rows["id"]) - set(got["id"]))
    extra = sorted(set(got["id"]) - set(rows["id"]))
    if missing or extra:
        raise click.ClickException(f"{labelled}: {len(missing)} sheet rows unlabelled "
                                   f"{missing[:3]}, {len(extra)} ids not on the sheet {extra[:3]}")
    rows["response_sha256"] = rows["response"].fillna("").astype(str).map(text_sha256)
    new = got.merge(rows[["id", "response_sha256"]], on="id").assign(batch=batch)
    old = read_labels(out) if out.is_file() else pd.DataFrame(columns=list(LABEL_COLUMNS))
    merged = pd.concat([old[old["batch"] != batch], new[list(LABEL_COLUMNS)]], ignore_index=True)
    write_csv(out, merged.sort_values("id", kind="stable"))
    click.echo(f"{out}: {len(new)} labels of batch {batch} "
               f"({', '.join(f'{k} {v}' for k, v in new['label'].value_counts().items())})",
               err=True)


@click.command("audit-organisms")
@click.option("--generations", type=click.Path(exists=True, file_okay=False, path_type=Path),
              required=True, help="The organisms study's generations/ folder.")
@click.option("--benign", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--out", type=click.Path(path_type=Path), required=True)
@click.option("--per-cell", "per_cell", type=(int, int), default=(4, 2), show_default=True,
              help="Rows per (organism, budget) cell: train, held-out.")
@params_option
def organisms_cli(generations: Path, benign: Path, out: Path, per_cell: tuple[int, int],
                  params_path: Path) -> None:
    """Draw the organisms' answers of the real-output audit (synthetic: committed with text)."""
    cfg = audit_real(read_params(params_path))
    gens = pd.concat([read_table(f) for f in sorted(generations.glob("*.csv"))],
                     ignore_index=True)
    ids = read_prompts(benign)["id"]
    rows = organism_rows(gens, ids, cfg, {"train": per_cell[0], "heldout": per_cell[1]})
    write_csv(out, rows)
    click.echo(f"{out}: {len(rows)} organism answers "
               f"({', '.join(f'{k} {v}' for k, v in rows['batch'].value_counts().sort_index().items())})",
               err=True)
