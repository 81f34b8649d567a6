"""Judge variants compared by scripts/judge_cv.py: name -> fit(rows, emb, encoder, cfg),
which returns a function of (responses, embeddings) giving one Verdict per response."""

from __future__ import annotations

from functools import partial

import numpy as np

from rrs.judges import Verdict
from rrs.judges.classifier import fit_classifier
from rrs.judges.lexical import PHRASE_FILE, LexicalJudge


def _wrap(clf):
    return lambda responses, emb: clf([""] * len(responses), responses, embeddings=emb)


def v4(rows, emb, encoder, cfg, calibration_folds=0, lexical=None):
    """The committed classifier-v4 recipe on these rows (uncalibrated unless asked), its
    lexical features read off ``lexical`` (default: the default lexical judge)."""
    clf = fit_classifier(emb, list(rows["label"]), C=cfg.C, seed=cfg.seed,
                         calibration_folds=calibration_folds,
                         responses=list(rows["response"]), lexical=lexical or LexicalJudge(),
                         encoder=encoder, sentence_features=True)
    clf._encoder = encoder
    return _wrap(clf)


def production(rows, emb, encoder, cfg, real_weight=None, phrases=None):
    """The recipe train_judge runs: real rows counted ``judge.real_weight`` times (or
    ``real_weight``), the temperature cross-fitted over ``judge.calibration_folds`` folds
    (p_refuse calibrated); ``phrases``: another lexical judge's phrase file ("v6")."""
    weight = cfg.real_weight if real_weight is None else real_weight
    lexical = None if phrases is None else LexicalJudge(
        PHRASE_FILE.with_name(f"refusal_phrases_{phrases}.txt"))
    return v4(*_oversampled(rows, emb, weight), encoder, cfg, cfg.calibration_folds, lexical)


def lexical(rows, emb, encoder, cfg):
    judge = LexicalJudge()
    return lambda responses, emb: judge([""] * len(responses), responses)


def _oversampled(rows, emb, k):
    """The real-output rows repeated ``k`` times: they are a few hundred among thousands."""
    real = (rows["source"] == "real_train").to_numpy()
    idx = np.concatenate([np.arange(len(rows))] + [np.flatnonzero(real)] * (k - 1))
    return rows.iloc[idx].reset_index(drop=True), emb[idx]


def v4x3(rows, emb, encoder, cfg):
    """The v4 recipe with the real rows counted three times."""
    return v4(*_oversampled(rows, emb, 3), encoder, cfg)


def v4x6(rows, emb, encoder, cfg):
    return v4(*_oversampled(rows, emb, 6), encoder, cfg)


def gated(rows, emb, encoder, cfg, threshold=0.9):
    """v4x3, but a refusal cue the lexical judge does not see needs p_refuse >= threshold."""
    clf, judge = v4x3(rows, emb, encoder, cfg), LexicalJudge()

    def run(responses, e):
        out = []
        for v, text in zip(clf(responses, e), responses):
            if v.label != "COMPLY" and judge.label(text) == "COMPLY" and v.p_refuse < threshold:
                v = Verdict("COMPLY", v.p_refuse)
            out.append(v)
        return out
    return run


VARIANTS = {"v4": v4, "production": production,
            # round 5's refit lost AI-written recall as the real train rows grew: weight 3, not 6
            "production_w3": partial(production, real_weight=3),
            # round 6: the classifier's lexical features read off one version (the default,
            # ``production``, has read lexical-v6 since round 6; rounds 2-5 read lexical-v5)
            "production_lex5": partial(production, phrases="v5"),
            "production_lex6": partial(production, phrases="v6"),
            "production_lex7": partial(production, phrases="v7"),
            "production_lex8": partial(production, phrases="v8"),
            "production_lex9": partial(production, phrases="v9"),
            "production_lex10": partial(production, phrases="v10"),
            "lexical": lexical, "v4x3": v4x3, "v4x6": v4x6, "gated": gated}
