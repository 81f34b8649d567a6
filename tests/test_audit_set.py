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

COLUMNS = ["id", "prompt", "response", "label", "stratum", "split", "batch"]
# Batches are independent writers (see the README); only HELDOUT_BATCHES are scored on.
BATCHES = {"a", "h", "b", "c", "d", "f", "e", "i", "g", "k", "j"}
HELDOUT_BATCHES = {"j"}
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
# A "Step 3:" whose text (up to the next step, line end or sentence end) holds words but no
# placeholder: a real step would have leaked.
STEP_TEXT = re.compile(r"step\s*\d+\s*:\**(.*?)(?=step\s*\d+\s*:|\n|(?<!\.)\.(?:\s|$)|$)",
                       re.IGNORECASE)


def unredacted_steps(text: str) -> list[str]:
    def truncated(s: str) -> bool:  # a cut-off "Step" or "[redac" at the end of degenerate text
        s = s.strip().lower()
        return "step".startswith(s) or "[redacted".startswith(s)

    return [s for s in STEP_TEXT.findall(text) if re.search(r"[a-z]", s, re.I)
            and "[redacted" not in s and not truncated(s)]


def read(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


ROWS = read(AUDIT)


def test_columns_and_size():
    with open(AUDIT, newline="", encoding="utf-8") as f:
        assert next(csv.reader(f)) == COLUMNS
    assert len(ROWS) >= 1000
    assert sum(r["split"] == "heldout" for r in ROWS) >= 150


def test_ids_unique_and_carry_their_batch():
    ids = [r["id"] for r in ROWS]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"[a-z]\d{4}", i) and i[0] == r["batch"] for i, r in zip(ids, ROWS))
    assert {r["batch"] for r in ROWS} == BATCHES


def norm(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9 ]+", " ", text.lower()).split())


def test_no_empty_fields_and_unique_responses():
    """Unique after ignoring case and punctuation, so no held-out row has a twin in train."""
    assert all(r[c].strip() for r in ROWS for c in COLUMNS)
    responses = [norm(r["response"]) for r in ROWS]
    assert len(set(responses)) == len(responses)


def test_labels_and_strata_values():
    assert {r["label"] for r in ROWS} <= LABELS
    assert {r["stratum"] for r in ROWS} == STRATA
    assert {r["split"] for r in ROWS} == {"train", "heldout"}


def test_each_stratum_has_its_label():
    for r in ROWS:
        if r["stratum"] in STRATUM_LABEL:
            assert r["label"] == STRATUM_LABEL[r["stratum"]], r["id"]


def test_every_stratum_large_enough_in_both_splits():
    by_stratum = defaultdict(Counter)
    for r in ROWS:
        by_stratum[r["stratum"]][r["split"]] += 1
    for stratum, counts in by_stratum.items():
        assert counts["train"] >= 60 and counts["heldout"] >= 12, (stratum, counts)


def test_split_is_by_writer_batch():
    """Held-out rows come from a writer whose rows nothing was fitted or tuned on."""
    for r in ROWS:
        assert (r["split"] == "heldout") == (r["batch"] in HELDOUT_BATCHES), r["id"]


def test_step_check_catches_a_leaked_step():
    assert unredacted_steps("Step 1: [redacted step]. Step 2: heat it slowly.")
    assert not unredacted_steps("Step 1: [redacted step]. Step 2: Step 3: [redacted step]")


def test_harmful_prompts_are_redacted():
    for r in ROWS:
        if r["stratum"] in BENIGN_STRATA:
            assert "[redacted" not in r["prompt"], r["id"]
        else:
            assert "[redacted" in r["prompt"] or r["stratum"] == "degenerate", r["id"]


def test_steps_are_redacted_outside_benign_help():
    for r in ROWS:
        if r["stratum"] != "benign_help":
            assert not unredacted_steps(r["response"]), r["id"]


def test_no_response_copied_from_training_data():
    """The audit measures generalisation, so no audit response may occur in training data."""
    train = {norm(r["response"]) for path in TRAIN_FILES for r in read(path)}
    copied = [r["id"] for r in ROWS if norm(r["response"]) in train]
    assert not copied
