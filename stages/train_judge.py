"""Stage ``train_judge``: fit the refusal classifier (MiniLM embeddings + logistic regression).

In:  the labelled response set (``response``, ``label``) and, optionally, the audit set, of
     which only the ``split == train`` rows are used (the ``heldout`` rows are dropped by
     :func:`rrs.judges.audit.training_rows` before anything is embedded); params ``judge.C``,
     ``judge.seed``, ``judge.calibration_folds``, ``judge.lexical_features``,
     ``judge.sentence_features``, ``judge.real_weight``.
Out: the classifier (weights and calibration temperature) as plain JSON.
Run: ``rrs train-judge --labelled data/train/judge_labelled.csv --audit data/audit/audit.csv
     --out models/judge/classifier.json``
"""

from __future__ import annotations

from pathlib import Path

import click

from rrs.audit_real import attach_labels, read_answers, read_labels
from rrs.config import JudgeParams, section
from rrs.embed import embed, load_encoder
from rrs.io import read_table
from rrs.judges.audit import check_values, read_audit, training_rows
from rrs.judges.classifier import fit_classifier
from rrs.judges.lexical import LexicalJudge
from rrs.labels import LABELS
from stages.common import params_option, read_params


@click.command("train-judge")
@click.option("--labelled", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--audit", type=click.Path(exists=True, path_type=Path), default=None,
              help="Audit set; only its split=train rows are fitted on.")
@click.option("--real-answers", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=None, help="Folder of the real-output audit's answers (audit_generate).")
@click.option("--real-organisms", type=click.Path(exists=True, path_type=Path), default=None)
@click.option("--real-labels", type=click.Path(exists=True, path_type=Path), default=None,
              help="Labels of the real-output audit; only its split=train rows are fitted on.")
@click.option("--out", type=click.Path(path_type=Path), required=True)
@params_option
def cli(labelled: Path, audit: Path | None, real_answers: Path | None,
        real_organisms: Path | None, real_labels: Path | None, out: Path,
        params_path: Path) -> None:
    """Fit the three-way refusal classifier on the labelled set (+ the audits' train parts)."""
    cfg = section(read_params(params_path), "judge", JudgeParams)
    table = read_table(labelled, required=("response", "label"))
    check_values(table, labelled, "label", LABELS)
    if (real_answers is None) != (real_labels is None):
        raise click.UsageError("--real-answers and --real-labels go together")
    real, report = None, None
    if real_answers is not None:
        # train rows only, and only the labels of train batches: held-out labels never reach
        # the fit nor its record, so adding them leaves this file byte-identical (a frozen
        # judge stays frozen while its held-out batch is labelled)
        answers = read_answers(real_answers, real_organisms)
        answers = answers[answers["split"] == "train"]
        labels = read_labels(real_labels)
        real, report = attach_labels(answers,
                                     labels[labels["batch"].isin(set(answers["batch"]))])
    rows = training_rows(table, read_audit(audit) if audit is not None else None, real,
                         real_weight=cfg.real_weight)
    encoder = load_encoder()
    emb = embed(list(rows["response"]), encoder, batch_size=cfg.batch_size)
    clf = fit_classifier(emb, list(rows["label"]), C=cfg.C, seed=cfg.seed,
                         calibration_folds=cfg.calibration_folds,
                         responses=list(rows["response"]),
                         lexical=LexicalJudge() if cfg.lexical_features else None,
                         encoder=encoder, sentence_features=cfg.sentence_features)
    clf.meta["n_by_source"] = {k: int(v) for k, v in sorted(rows["source"].value_counts().items())}
    if report is not None:  # labels left out because their answer changed or is gone
        clf.meta["real_labels"] = {k: (len(v) if isinstance(v, list) else v)
                                   for k, v in report.items()}
    clf.save(out)
