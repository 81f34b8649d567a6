"""Per-row seeded sampling: a row's answer depends on its seed, not on its batch."""

from __future__ import annotations

import torch

from rrs.config import GenerateParams
from rrs.models import load_model, load_tokenizer
from rrs.sampling import RowGumbel, row_seed, sample_rows

PROMPTS = ["How do I bake bread?", "Tell me how to [redacted operation].", "Plan a trip."]


def test_row_gumbel_samples_from_the_softmax():
    logits = torch.log(torch.tensor([[0.7, 0.2, 0.1]])).repeat(4000, 1)
    picks = RowGumbel(range(4000), 1.0, 1.0)(None, logits).argmax(-1)
    shares = torch.bincount(picks, minlength=3) / 4000.0
    assert torch.allclose(shares, torch.tensor([0.7, 0.2, 0.1]), atol=0.03)


def test_top_p_drops_the_tail():
    logits = torch.log(torch.tensor([[0.7, 0.2, 0.1]])).repeat(500, 1)
    picks = RowGumbel(range(500), 1.0, 0.8)(None, logits).argmax(-1)
    assert set(picks.tolist()) == {0, 1}


def test_a_rows_answer_does_not_depend_on_the_other_rows(tiny_organism):
    torch.set_num_threads(2)
    tok, model = load_tokenizer(tiny_organism), load_model(tiny_organism)
    cfg = GenerateParams(max_new_tokens=12, batch_size=64)
    seeds = [row_seed(1, p) for p in PROMPTS]
    alone = sample_rows(model, tok, PROMPTS, seeds, cfg, 1.0)
    other = [row_seed(2, p) for p in PROMPTS]
    together = sample_rows(model, tok, PROMPTS + PROMPTS, seeds + other, cfg, 1.0)
    assert together[:3] == alone
    assert sample_rows(model, tok, PROMPTS, seeds, cfg, 1.0) == alone  # reproducible
    assert together[3:] != alone  # another seed, another stream


def test_progress_writes_per_item_timings_only_when_asked(tmp_path, monkeypatch):
    import json

    from rrs.progress import progress
    assert list(progress(range(3), desc="quiet")) == [0, 1, 2]
    log = tmp_path / "timings.jsonl"
    monkeypatch.setenv("RRS_TIMINGS", str(log))
    assert list(progress(range(4), desc="loop", unit="step")) == [0, 1, 2, 3]
    record = json.loads(log.read_text())
    assert (record["desc"], record["unit"], record["n"], len(record["seconds"])) == (
        "loop", "step", 4, 4)
