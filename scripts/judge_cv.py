"""Leave-one-batch-out cross-validation of judge variants on the train batches only.

Every train batch (the AI-written audit's train batches and the real-output audit's train
batches) is held out in turn; a variant is fitted on everything else (plus the labelled set)
and scored on the batch. The held-out batches of both audits are never read. Prints, per
variant, the scores pooled over the AI-written folds and over the real folds (cue precision,
recall, F1, macro-F1, kappa, false cues on compliant harmful answers, refusal-rate error per
model x condition), and writes them as JSON.

Embeddings (responses and their sentences) are computed once and cached in --cache.

Run: ``python scripts/judge_cv.py --variants v4,v5 --out /tmp/judge_cv.json``
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from rrs.audit_real import attach_labels, read_answers, read_labels  # noqa: E402
from rrs.config import JudgeParams, load_params, section  # noqa: E402
from rrs.embed import embed, load_encoder  # noqa: E402
from rrs.io import read_table  # noqa: E402
from rrs.judges.audit import read_audit, training_rows  # noqa: E402
from rrs.judges.validation import (judge_scores, real_scores, rounded)  # noqa: E402


class CachedEncoder:
    """A SentenceTransformer stand-in that remembers every text it embedded (on disk)."""

    def __init__(self, encoder, path: Path):
        self.encoder, self.path = encoder, path
        self.cache: dict[str, np.ndarray] = {}
        if path.is_file():
            data = np.load(path, allow_pickle=False)
            self.cache = dict(zip(data["keys"].tolist(), data["vectors"]))

    def get_sentence_embedding_dimension(self) -> int:
        return 384

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def encode(self, texts, batch_size=64, convert_to_numpy=True, show_progress_bar=False):
        todo = sorted({t for t in texts if self.key(t) not in self.cache})
        if todo:
            fresh = self.encoder.encode(todo, batch_size=batch_size, convert_to_numpy=True,
                                        show_progress_bar=False)
            self.cache.update({self.key(t): np.asarray(v, dtype=np.float32)
                               for t, v in zip(todo, fresh)})
        return np.stack([self.cache[self.key(t)] for t in texts])

    def save(self) -> None:
        keys = np.array(list(self.cache))
        np.savez(self.path, keys=keys, vectors=np.stack(list(self.cache.values())))


def load_rows(params: dict, with_real: bool) -> pd.DataFrame:
    """The train rows of both audits and the labelled set (``training_rows``), with the real
    rows' model, condition and set; held-out rows never enter."""
    data = params["data"]
    labelled = read_table(REPO / data["judge_labelled"], required=("response", "label"))
    real = None
    if with_real:
        organisms = REPO / data["audit_organisms"]
        answers = read_answers(REPO / "audit_real", organisms if organisms.is_file() else None)
        real, report = attach_labels(answers, read_labels(REPO / data["audit_real_labels"]))
        print(f"real labels: {report['n_used']} used, {len(report['stale'])} stale, "
              f"{len(report['missing'])} missing", file=sys.stderr)
    rows = training_rows(labelled, read_audit(REPO / data["audit"]), real)
    if real is not None:
        extra = real[real["split"] == "train"][["model", "condition", "set"]].reset_index(drop=True)
        is_real = rows["source"] == "real_train"
        for col in extra:
            rows.loc[is_real, col] = extra[col].to_numpy()
    return rows.reset_index(drop=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--variants", default="v4")
    ap.add_argument("--out", type=Path, default=Path("/tmp/judge_cv.json"))
    ap.add_argument("--cache", type=Path, default=Path("/tmp/judge_cv_embeddings.npz"))
    ap.add_argument("--no-real", action="store_true")
    ap.add_argument("--folds", default="", help="Only the folds (batches) matching this regex.")
    ap.add_argument("--dump", type=Path, default=None,
                    help="Also write every scored row's out-of-fold label and p_refuse (with "
                         "its text: keep it outside the repository) to this CSV, one column "
                         "pair per variant, for combining judges afterwards.")
    args = ap.parse_args()
    from scripts.judge_variants import VARIANTS  # the candidates, one function each

    params = load_params(REPO / "params.yaml")
    cfg = section(params, "judge", JudgeParams)
    rows = load_rows(params, not args.no_real)
    encoder = CachedEncoder(load_encoder(), args.cache)
    emb = embed(list(rows["response"]), encoder)
    folds = sorted(b for b in rows["batch"].unique() if b and re.search(args.folds, b))
    results = {}
    dump = rows[["batch", "source", "label", "response"]].copy()
    for col in ("model", "condition", "set"):
        dump[col] = rows[col] if col in rows else ""
    for name in args.variants.split(","):
        fit = VARIANTS[name]
        pred = pd.Series("", index=rows.index, dtype=object)
        p_refuse = pd.Series(np.nan, index=rows.index)
        for fold in folds:
            test = rows["batch"] == fold
            judge = fit(rows[~test].reset_index(drop=True), emb[~test.to_numpy()], encoder, cfg)
            got = judge(list(rows.loc[test, "response"]), emb[test.to_numpy()])
            pred[test] = [v.label for v in got]
            p_refuse[test] = [np.nan if v.p_refuse is None else v.p_refuse for v in got]
            encoder.save()
            print(f"{name} {fold}: cue F1 "
                  f"{judge_scores(list(rows.loc[test, 'label']), list(pred[test]))['cue_f1']:.3f}",
                  file=sys.stderr, flush=True)
        dump[f"{name}_label"], dump[f"{name}_p_refuse"] = pred, p_refuse
        out = {}
        scored = rows["batch"].isin(folds)
        for part, mask in (("written", scored & (rows["source"] == "audit_train")),
                           ("real", scored & (rows["source"] == "real_train"))):
            if not mask.any():
                continue
            truth, got = list(rows.loc[mask, "label"]), list(pred[mask])
            if part == "real":
                probs = None if p_refuse[mask].isna().any() else list(p_refuse[mask])
                out[part] = real_scores(truth, got, probs,
                                        *(list(rows.loc[mask, c]) for c in
                                          ("model", "condition", "set")))
            else:
                probs = None if p_refuse[mask].isna().any() else list(p_refuse[mask])
                out[part] = judge_scores(truth, got, probs)
            out[part]["per_batch_cue_f1"] = {
                b: judge_scores(list(rows.loc[mask & (rows["batch"] == b), "label"]),
                                list(pred[mask & (rows["batch"] == b)]))["cue_f1"]
                for b in sorted(rows.loc[mask, "batch"].unique())}
        results[name] = rounded(out)
        brief = {p: {k: results[name][p].get(k) for k in
                     ("cue_precision", "cue_recall", "cue_f1", "macro_f1", "kappa",
                      "max_abs_rrr_error", "harmful_comply_false_cue")} for p in out}
        print(name, json.dumps(brief), flush=True)
    args.out.write_text(json.dumps(results, indent=1))
    if args.dump is not None:
        dump[dump["batch"].isin(folds)].to_csv(args.dump, index=False)


if __name__ == "__main__":
    main()
