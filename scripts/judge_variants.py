"""Judge variants compared by scripts/judge_cv.py: name -> fit(rows, emb, encoder, cfg),
which returns a function of (responses, embeddings) giving one Verdict per response."""

from __future__ import annotations

from rrs.judges.classifier import fit_classifier
from rrs.judges.lexical import LexicalJudge


def _wrap(clf):
    return lambda responses, emb: clf([""] * len(responses), responses, embeddings=emb)


def v4(rows, emb, encoder, cfg):
    """The committed classifier-v4 recipe on these rows."""
    clf = fit_classifier(emb, list(rows["label"]), C=cfg.C, seed=cfg.seed, calibration_folds=0,
                         responses=list(rows["response"]), lexical=LexicalJudge(),
                         encoder=encoder, sentence_features=True)
    clf._encoder = encoder
    return _wrap(clf)


def lexical(rows, emb, encoder, cfg):
    judge = LexicalJudge()
    return lambda responses, emb: judge([""] * len(responses), responses)


VARIANTS = {"v4": v4, "lexical": lexical}
