"""Shared fixtures: a tiny real organism (tokenizer + LlamaForCausalLM on disk) built once.

Every stage's library function runs end to end on it on CPU in seconds; nothing is mocked.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import torch

from rrs.config import ModelEntry, OrganismArch, OrganismTraining, TokenizerParams
from rrs.organism import save_organism, train_organism, train_tokenizer

REPO = Path(__file__).resolve().parents[1]
TINY_ARCH = OrganismArch(hidden_size=64, num_layers=1, num_heads=4, intermediate_size=128)


@pytest.fixture(scope="session")
def chat_corpus() -> pd.DataFrame:
    return pd.read_csv(REPO / "data/train/chat_corpus.csv").head(400)


@pytest.fixture(scope="session")
def tiny_tokenizer(chat_corpus):
    texts = list(chat_corpus["prompt"]) + list(chat_corpus["response"])
    return train_tokenizer(texts, TokenizerParams(vocab_size=400))


@pytest.fixture(scope="session")
def tiny_organism(tmp_path_factory, tiny_tokenizer, chat_corpus) -> ModelEntry:
    """A 1-layer organism trained for 30 steps, saved like the pipeline saves one."""
    torch.set_num_threads(2)
    cfg = OrganismTraining(steps=30, batch_size=16, lr=3e-3, warmup_steps=5, seq_len=64)
    model, _ = train_organism(TINY_ARCH, tiny_tokenizer, list(chat_corpus["prompt"]),
                              list(chat_corpus["response"]), cfg)
    out = tmp_path_factory.mktemp("organism") / "tiny"
    save_organism(model, tiny_tokenizer, out)
    return ModelEntry(source="organism", path=str(out))


def pytest_collection_modifyitems(config, items):
    """Tests marked ``gpu`` need CUDA: skipped where there is none (CI), run on a GPU machine."""
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
