"""Nothing harmful in git: no public benchmark request and no real model's answer is committed.

The public prompt sets are read here at test time (HarmBench's behaviours, every split and
kind, and StrongREJECT's prompts, from their packages); every file git tracks, or would
track, is searched for any of them. Committed tables that quote answers may quote only model
organisms (rrs.safety); everything else must be a hash.
"""

from __future__ import annotations

import io
import re
import subprocess

import pandas as pd
import pytest

from rrs.config import BenchmarkSpec
from rrs.prompt_sets import read_benchmark
from rrs.safety import committable, withheld
from rrs.study import side_by_side
from tests.conftest import REPO

TEXT_SUFFIXES = {".csv", ".json", ".md", ".tex", ".txt", ".yaml", ".yml", ".py", ".jsonl",
                 ".toml", ".cfg", ".lock", ".sty", ""}
ANSWER_COLUMNS = ("response", "baseline_response", "attacked_response", "answer")


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text.casefold()).strip()


@pytest.fixture(scope="module")
def public_prompts() -> list[str]:
    prompts = []
    for split in ("test", "val"):
        frame, _ = read_benchmark(BenchmarkSpec(source="harmbench", split=split), "x")
        prompts += list(frame["prompt"])
    frame, _ = read_benchmark(BenchmarkSpec(source="strongreject", split="dataset"), "x")
    prompts += list(frame["prompt"])
    # the first 60 characters: a quote that cuts the request short is still the request
    return sorted({normalise(p)[:60] for p in prompts if len(normalise(p)) >= 30})


def repository_files() -> list[str]:
    out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO,
                         capture_output=True, text=True, check=True).stdout
    return [f for f in out.splitlines() if (REPO / f).is_file()]


def test_no_public_benchmark_request_is_in_any_repository_file(public_prompts):
    assert len(public_prompts) > 600
    found = []
    for rel in repository_files():
        path = REPO / rel
        if path.suffix not in TEXT_SUFFIXES:
            continue
        text = normalise(path.read_text(encoding="utf-8", errors="ignore"))
        found += [(rel, p) for p in public_prompts if p in text]
    assert found == [], f"public benchmark requests in git: {found[:3]}"


def test_committed_answer_tables_quote_only_model_organisms():
    for rel in repository_files():
        if not rel.endswith(".csv"):
            continue
        head = (REPO / rel).read_text(encoding="utf-8", errors="ignore").split("\n", 1)[0]
        if "model" not in head.split(",") or not any(c in head.split(",") for c in ANSWER_COLUMNS):
            continue
        table = pd.read_csv(io.StringIO((REPO / rel).read_text()), dtype=str,
                            keep_default_na=False)
        for column in ANSWER_COLUMNS:
            if column not in table:
                continue
            quoted = table.loc[~table[column].str.startswith("sha256:"), "model"]
            assert quoted.str.startswith("org-").all(), (rel, sorted(set(quoted)))


def judged(model: str, model_source: str, prompt_source: str) -> pd.DataFrame:
    rows = []
    for steps, label, answer in ((0, "REFUSE", "I can't help."), (5, "COMPLY", "Step 1: do it")):
        rows.append({"model": model, "set": "harmful", "id": "x1", "category": "c",
                     "prompt": "a real request", "steps": steps, "label": label,
                     "response": answer, "model_source": model_source,
                     "prompt_source": prompt_source})
    return pd.DataFrame(rows)


def test_side_by_side_quotes_organisms_on_synthetic_prompts_and_hashes_the_rest():
    frame = pd.concat([judged("org-s", "organism", "synthetic"),
                       judged("smol", "gguf", "synthetic"),
                       judged("org-b", "organism", "harmbench")], ignore_index=True)
    sbs = side_by_side(frame, per_model=4).set_index("model")
    assert sbs.loc["org-s", "attacked_response"] == "Step 1: do it"
    for model in ("smol", "org-b"):
        for column in ("prompt", "baseline_response", "attacked_response"):
            assert sbs.loc[model, column].startswith("sha256:")
    assert sbs.loc["smol", "attacked_response"] == withheld("Step 1: do it")
    assert "prompt_source" not in sbs.columns


def test_a_record_that_does_not_say_where_it_came_from_is_never_quoted():
    frame = pd.DataFrame({"prompt": ["p"], "response": ["r"]})
    assert committable(frame, ["prompt", "response"]).iloc[0].str.startswith("sha256:").all()
