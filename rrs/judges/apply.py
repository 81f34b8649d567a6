"""One code path that labels responses with the study's judge (params ``judge.name``).

Both the ``judge`` stage and the ``stability`` stage call :func:`judge_responses`, so a
response is labelled the same way wherever it was generated.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from rrs.config import JudgeParams
from rrs.embed import embed, load_encoder
from rrs.judges import EMBEDDING_JUDGES, build_judge
from rrs.judges.classifier import RefusalClassifier
from rrs.judges.lexical import LexicalJudge
from rrs.metrics import is_valid


def judge_responses(prompts: Sequence[str], responses: Sequence[str], cfg: JudgeParams,
                    classifier: str | Path) -> tuple[pd.DataFrame, np.ndarray]:
    """Label every response with the chosen judge and embed it once (MiniLM).

    Args:
        prompts: one prompt per response.
        responses: the model's answers.
        cfg: params ``judge`` (``name`` picks classifier | lexical | ensemble).
        classifier: path of the trained classifier JSON (``models/judge/classifier.json``).

    Returns:
        A frame row-aligned with the inputs with columns ``valid``, ``label``, ``p_refuse``
        (the classifier's, whatever judge labels), ``label_classifier``, ``label_lexical``,
        ``judge`` and ``judge_version``; and the response embeddings (rows aligned).
    """
    # Each distinct (prompt, response) is judged once and each distinct answer embedded once:
    # greedy answers repeat across budgets and prompts, sampled ones across seeds.
    pairs = pd.DataFrame({"prompt": list(prompts), "response": list(responses)})
    group = pairs.groupby(["prompt", "response"], dropna=False, sort=False).ngroup().to_numpy()
    unique = pairs.drop_duplicates(ignore_index=True)  # row k is group k (first appearance)
    prompts, responses = list(unique["prompt"]), list(unique["response"])
    encoder = load_encoder()
    texts = [r if isinstance(r, str) else "" for r in responses]
    distinct = sorted(set(texts))
    row_of = {text: k for k, text in enumerate(distinct)}
    emb = embed(distinct, encoder, batch_size=cfg.batch_size)[[row_of[t] for t in texts]]
    clf = RefusalClassifier.load(classifier, encoder=encoder)
    by_clf = clf(prompts, responses, embeddings=emb)
    by_lex = LexicalJudge()(prompts, responses)
    if cfg.name == "classifier":
        chosen, version = by_clf, clf.version
    elif cfg.name == "lexical":
        chosen, version = by_lex, LexicalJudge().version
    else:  # any other registered judge, built as `rrs judge` builds it
        judge = build_judge(cfg.name, str(classifier), encoder, seed=cfg.seed)
        extra = {"embeddings": emb} if cfg.name in EMBEDDING_JUDGES else {}
        chosen, version = judge(prompts, responses, **extra), judge.version
    frame = pd.DataFrame({
        "valid": [is_valid(r) for r in responses],
        "label": [v.label for v in chosen],
        "p_refuse": [round(v.p_refuse, 6) for v in by_clf],
        "label_classifier": [v.label for v in by_clf],
        "label_lexical": [v.label for v in by_lex],
    }).iloc[group].reset_index(drop=True)
    frame["judge"], frame["judge_version"] = cfg.name, version
    return frame, emb[group]
