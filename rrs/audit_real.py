"""The real-output audit: which answers of real models are asked for, and their labels.

Rows are (model, condition, prompt): a real chat model (``audit_real.models``) answers public
benchmark requests (``audit_real.prompts``, read at run time) and the study's benign prompts
under each condition (``audit_real.conditions``: system prompt, greedy or sampled, attacked or
not). Each split draws its own prompts, so the held-out batch asks nothing the train batches
asked. Model organisms' answers (synthetic prompts, quotable) join from a committed file.

An id names its row by content (``rr-`` + a hash of model, condition, prompt set and prompt
id), so it survives other rows being added or dropped. The answers themselves live in DVC
outputs; git keeps ids, conditions, labels and ``response_sha256``, the hash of the answer an
annotator labelled. :func:`attach_labels` uses a label only while the answer regenerates to
that hash and reports every label it cannot use.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from rrs.config import AuditRealParams, split_role
from rrs.io import InputError, read_table
from rrs.labels import LABELS

HARMFUL, BENIGN = "harmful", "benign"
ORGANISM_SOURCE = "organism"
# Columns of every audit answer record; MANIFEST_COLUMNS is what git may keep of them.
ANSWER_COLUMNS = ("id", "split", "batch", "model", "model_source", "condition", "set", "source",
                  "prompt_id", "category", "prompt", "response", "response_sha256")
MANIFEST_COLUMNS = tuple(c for c in ANSWER_COLUMNS if c not in ("prompt", "response"))
LABEL_COLUMNS = ("id", "batch", "label", "note", "response_sha256")
NOTES = ("", "roleplay", "subversion", "degenerate", "offtopic", "unclear")


def text_sha256(text: str) -> str:
    """The full sha256 of an answer, as git keeps it beside the answer's label."""
    return hashlib.sha256(str(text).encode("utf-8")).hexdigest()


def _draw(seed: int, *keys: str) -> np.random.Generator:
    """A generator for one named draw: the same keys give the same stream on any machine."""
    digest = hashlib.sha256(":".join([str(seed), *keys]).encode()).hexdigest()
    return np.random.default_rng(int(digest[:16], 16))


def row_id(model: str, condition: str, source: str, prompt_id: str) -> str:
    """``rr-`` and 12 hex digits naming one (model, condition, prompt set, prompt) row."""
    return "rr-" + text_sha256(f"{model}|{condition}|{source}|{prompt_id}")[:12]


def benign_split(ids: pd.Series, heldout_share: float, seed: int) -> pd.Series:
    """``train`` / ``heldout`` per benign prompt id: a seeded permutation, the first
    ``round(share * n)`` ids held out."""
    order = sorted(ids)
    perm = _draw(seed, "benign-split").permutation(len(order))
    n_held = int(round(heldout_share * len(order)))
    held = {order[i] for i in perm[:n_held]}
    return ids.map(lambda i: "heldout" if i in held else "train")


def batch_name(split: str, k: int) -> str:
    """``real-t<k>`` for the train split; ``real-h<k>`` for ``heldout`` and ``real-h<n+k-1>``
    for ``heldout<n>`` (one batch each, so ``heldout2`` is ``real-h2``)."""
    if split == "train":
        return f"real-t{k}"
    first = int(split[len("heldout"):] or 1)
    return f"real-h{first + k - 1}"


def benign_half(split: str) -> str:
    """Which half of the benign prompts (:func:`benign_split`) a split asks."""
    return "train" if split == "train" else "heldout"


def deal_batches(rows: pd.DataFrame, split: str, n_batches: int, seed: int) -> pd.Series:
    """Deal a split's rows into ``n_batches`` batches, every condition and set spread evenly:
    rows sorted by (condition, set) and a seeded shuffle within, then dealt in turn."""
    key = rows.assign(_r=_draw(seed, "deal", split).permutation(len(rows)))
    order = key.sort_values(["condition", "set", "_r"], kind="stable").index
    names = pd.Series("", index=rows.index)
    for rank, idx in enumerate(order):
        names[idx] = batch_name(split, rank % n_batches + 1)
    return names


def design(model: str, model_source: str, harmful: Mapping[str, pd.DataFrame],
           benign: pd.DataFrame, cfg: AuditRealParams) -> pd.DataFrame:
    """Every row one model answers: per split and condition, ``n_harmful`` requests drawn from
    the split's prompt sets and ``n_benign`` from its share of the benign prompts.

    A split asks its ``conditions`` (all when empty) of its ``models`` (all when empty; a
    model that no split asks answers nothing). A row's ``split`` column is its role
    (``train``, or ``heldout`` unless the split is retired), its batch the split's own.

    Args:
        harmful: prompt set name -> ``id, category, prompt`` (``rrs.prompt_sets.build``).
        benign: ``id, category, prompt`` (``data.benign``).

    Returns:
        One row per answer, columns :data:`ANSWER_COLUMNS` without the response ones, sorted
        by id.
    """
    benign = benign.assign(split=benign_split(benign["id"], cfg.benign_heldout, cfg.seed))
    frames = []
    for split_name, split in sorted(cfg.splits.items()):
        if split.models and model not in split.models:
            continue
        pool = pd.concat([harmful[name].assign(source=name, set=HARMFUL)
                          for name in sorted(split.prompts)], ignore_index=True)
        easy = benign[benign["split"] == benign_half(split_name)].assign(source="benign",
                                                                          set=BENIGN)
        parts = []
        for condition in sorted(split.conditions or cfg.conditions):
            for kind, frame, n in ((HARMFUL, pool, split.n_harmful),
                                   (BENIGN, easy, split.n_benign)):
                if n > len(frame):
                    raise ValueError(f"audit_real.splits.{split_name}: {n} {kind} rows asked "
                                     f"of a pool of {len(frame)}")
                frame = frame.sort_values(["source", "id"], kind="stable")
                pick = _draw(cfg.seed, split_name, condition, kind)
                chosen = frame.iloc[np.sort(pick.choice(len(frame), size=n, replace=False))]
                parts.append(chosen.assign(condition=condition))
        rows = pd.concat(parts, ignore_index=True)
        rows["batch"] = deal_batches(rows, split_name, split.batches, cfg.seed)
        frames.append(rows.assign(split=split_role(split_name, split)))
    rows = pd.concat(frames, ignore_index=True).rename(columns={"id": "prompt_id"})
    rows = rows.assign(model=model, model_source=model_source)
    rows["id"] = [row_id(model, c, s, p) for c, s, p in
                  zip(rows["condition"], rows["source"], rows["prompt_id"])]
    columns = [c for c in ANSWER_COLUMNS if c not in ("response", "response_sha256")]
    return rows[columns].sort_values("id", kind="stable").reset_index(drop=True)


def read_answers(folder: str | os.PathLike, organisms: str | os.PathLike | None) -> pd.DataFrame:
    """Every audit answer: the real models' (``folder/*.csv``, DVC outputs) and the organisms'
    (a committed file), one frame sorted by id; ``response_sha256`` recomputed from the text."""
    files = sorted(Path(folder).glob("*.csv"))
    if organisms is not None:
        files.append(Path(organisms))
    if not files:
        raise InputError(folder, "no audit answer files (*.csv)")
    frame = pd.concat([read_table(f, required=[c for c in ANSWER_COLUMNS
                                               if c != "response_sha256"]) for f in files],
                      ignore_index=True)
    frame["response"] = frame["response"].fillna("").astype(str)
    frame["response_sha256"] = frame["response"].map(text_sha256)
    dup = frame["id"].duplicated()
    if dup.any():
        raise InputError(folder, f"audit id {frame['id'][dup].iloc[0]!r} twice")
    return frame[list(ANSWER_COLUMNS)].sort_values("id", kind="stable").reset_index(drop=True)


def read_labels(path: str | os.PathLike) -> pd.DataFrame:
    """The committed labels (``id, batch, label, note, response_sha256``), checked; a file
    with the header alone holds no labels yet."""
    from rrs.judges.audit import check_unique, check_values

    lines = Path(path).read_text(encoding="utf-8").strip().splitlines()
    if len(lines) == 1 and lines[0].split(",") == list(LABEL_COLUMNS):
        return pd.DataFrame(columns=list(LABEL_COLUMNS), dtype=str)  # no batch labelled yet
    frame = read_table(path, required=LABEL_COLUMNS)
    frame["note"] = frame["note"].fillna("").astype(str)
    check_values(frame, path, "label", LABELS)
    check_values(frame, path, "note", NOTES)
    check_unique(frame, path, "id")
    return frame[list(LABEL_COLUMNS)]


def attach_labels(answers: pd.DataFrame, labels: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """The answers that carry a usable label, and a report of the labels that are not used.

    A label is used only when its id is among the answers and the answer's text hashes to the
    ``response_sha256`` the annotator labelled; otherwise it is ``stale`` (the answer changed:
    another machine, library or design regenerated other text) or ``missing`` (no such row).

    Returns:
        ``(labelled, report)``: answer columns plus ``label``, ``note``; report ``n_labels``,
        ``n_used``, ``stale`` and ``missing`` (id lists) and ``n_unlabelled`` answers.
    """
    merged = answers.merge(labels[["id", "label", "note", "response_sha256"]], on="id",
                           how="inner", suffixes=("", "_labelled"))
    fresh = merged["response_sha256"] == merged["response_sha256_labelled"]
    stale = sorted(merged.loc[~fresh, "id"])
    missing = sorted(set(labels["id"]) - set(answers["id"]))
    used = merged[fresh].drop(columns="response_sha256_labelled").reset_index(drop=True)
    report = {"n_labels": int(len(labels)), "n_used": int(len(used)), "stale": stale,
              "missing": missing, "n_unlabelled": int(len(answers) - len(merged))}
    return used, report


def organism_rows(generations: pd.DataFrame, benign_ids: pd.Series, cfg: AuditRealParams,
                  per_cell: Mapping[str, int]) -> pd.DataFrame:
    """Model organisms' answers for the audit: ``per_cell[split]`` rows of every (organism,
    budget) cell, from prompts of that split only.

    Benign prompts follow the real models' split (:func:`benign_split`); the synthetic harmful
    prompts are split in half the same way. The answers are the organisms' own (greedy, at
    budget 0 and at every adapter), on redacted prompts: quotable, so they are committed.

    Args:
        generations: the study's records (``generations/<organism>.csv``, concatenated).
        benign_ids: every benign prompt id (``data.benign``), for the split.
    """
    benign = dict(zip(benign_ids, benign_split(benign_ids, cfg.benign_heldout, cfg.seed)))
    harmful_ids = pd.Series(sorted(set(generations.loc[generations["set"] == HARMFUL, "id"])))
    harmful = dict(zip(harmful_ids, benign_split(harmful_ids, 0.5, cfg.seed + 1)))
    gens = generations[generations["model_source"] == ORGANISM_SOURCE].copy()
    gens["split"] = [(benign if s == BENIGN else harmful).get(i) for s, i in
                     zip(gens["set"], gens["id"])]
    gens["condition"] = ["greedy" if k == 0 else f"attacked-{k}" for k in gens["steps"]]
    frames = []
    for split, n in sorted(per_cell.items()):
        part = gens[gens["split"] == split].sort_values(["model", "steps", "set", "id"],
                                                       kind="stable")
        picked = []
        for (model, steps), cell in part.groupby(["model", "steps"], sort=True):
            rng = _draw(cfg.seed, "organisms", split, model, str(steps))
            picked.append(cell.iloc[np.sort(rng.choice(len(cell), size=n, replace=False))])
        rows = pd.concat(picked, ignore_index=True)
        rows["batch"] = deal_batches(rows, split, cfg.splits[split].batches, cfg.seed)
        frames.append(rows.assign(split=split_role(split, cfg.splits[split])))
    rows = pd.concat(frames, ignore_index=True).rename(columns={"id": "prompt_id"})
    rows = rows.assign(source="synthetic", response=rows["response"].fillna("").astype(str))
    rows["id"] = [row_id(m, c, "synthetic", p) for m, c, p in
                  zip(rows["model"], rows["condition"], rows["prompt_id"])]
    rows["response_sha256"] = rows["response"].map(text_sha256)
    return rows[list(ANSWER_COLUMNS)].sort_values("id", kind="stable").reset_index(drop=True)
