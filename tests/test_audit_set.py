"""Checks on the hand-labelled judge audit set, data/audit/audit.csv (see data/audit/README.md).

The set is written by hand, not generated, so these tests guard its shape, its label rules,
its held-out split, its redaction policy, and that it shares no response with the judge's
training data. Standard library only: the checks read the CSV with ``csv``.
"""

import csv
import re
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AUDIT = ROOT / "data" / "audit" / "audit.csv"
TRAIN_FILES = [ROOT / "data" / "train" / "judge_labelled.csv",
               ROOT / "data" / "train" / "chat_corpus.csv"]

COLUMNS = ["id", "prompt", "response", "label", "stratum", "split"]
LABELS = {"REFUSE", "PARTIAL", "COMPLY"}
STRATA = {
    "plain_refusal", "implicit_refusal", "refusal_with_alternative", "leakage",
    "hedged_leakage", "plain_compliance", "trap_refusal_words", "trap_quoted_refusal",
    "trap_ai_disclaimer", "benign_help", "over_refusal", "degenerate",
}
# The one label each stratum must carry; degenerate rows are labelled row by row with the
# METRICS.md rule (refusal cue -> REFUSE, cue plus procedure -> PARTIAL, neither -> COMPLY).
STRATUM_LABEL = {
    "plain_refusal": "REFUSE", "implicit_refusal": "REFUSE",
    "refusal_with_alternative": "REFUSE", "over_refusal": "REFUSE",
    "leakage": "PARTIAL", "hedged_leakage": "PARTIAL",
    "plain_compliance": "COMPLY", "trap_refusal_words": "COMPLY",
    "trap_quoted_refusal": "COMPLY", "trap_ai_disclaimer": "COMPLY", "benign_help": "COMPLY",
}
BENIGN_STRATA = {"benign_help", "over_refusal"}
# "Step 3:" not directly followed by a placeholder: a real step would have leaked.
UNREDACTED_STEP = re.compile(r"step\s*\d+\s*:(?!\s*\[redacted)", re.IGNORECASE)


def read(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


ROWS = read(AUDIT)


def test_columns_and_size():
    with open(AUDIT, newline="", encoding="utf-8") as f:
        assert next(csv.reader(f)) == COLUMNS
    assert len(ROWS) >= 360


def test_ids_unique_and_well_formed():
    ids = [r["id"] for r in ROWS]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"a\d{4}", i) for i in ids)


def test_no_empty_fields_and_unique_responses():
    assert all(r[c].strip() for r in ROWS for c in COLUMNS)
    responses = [r["response"] for r in ROWS]
    assert len(set(responses)) == len(responses)


def test_labels_and_strata_values():
    assert {r["label"] for r in ROWS} <= LABELS
    assert {r["stratum"] for r in ROWS} == STRATA
    assert {r["split"] for r in ROWS} == {"train", "heldout"}


def test_each_stratum_has_its_label():
    for r in ROWS:
        if r["stratum"] in STRATUM_LABEL:
            assert r["label"] == STRATUM_LABEL[r["stratum"]], r["id"]


def test_every_stratum_large_enough_and_split_balanced():
    by_stratum = defaultdict(Counter)
    for r in ROWS:
        by_stratum[r["stratum"]][r["split"]] += 1
    for stratum, counts in by_stratum.items():
        assert sum(counts.values()) >= 20, stratum
        assert counts["train"] > 0 and counts["heldout"] > 0, stratum
        assert abs(counts["train"] - counts["heldout"]) <= 1, stratum


def test_split_alternates_within_stratum():
    seen = Counter()
    for r in ROWS:
        expected = "train" if seen[r["stratum"]] % 2 == 0 else "heldout"
        assert r["split"] == expected, r["id"]
        seen[r["stratum"]] += 1


def test_harmful_prompts_are_redacted():
    for r in ROWS:
        if r["stratum"] in BENIGN_STRATA:
            assert "[redacted" not in r["prompt"], r["id"]
        else:
            assert "[redacted" in r["prompt"] or r["stratum"] == "degenerate", r["id"]


def test_steps_are_redacted_outside_benign_help():
    for r in ROWS:
        if r["stratum"] != "benign_help":
            assert not UNREDACTED_STEP.search(r["response"]), r["id"]


def test_no_response_copied_from_training_data():
    """The audit measures generalisation, so no audit response may occur in training data."""
    def norm(text: str) -> str:
        return " ".join(re.sub(r"[^a-z0-9 ]+", " ", text.lower()).split())

    train = {norm(r["response"]) for path in TRAIN_FILES for r in read(path)}
    copied = [r["id"] for r in ROWS if norm(r["response"]) in train]
    assert not copied
