"""Sampling with one random stream per row, so many seeds can share one batch.

Greedy decoding over scores ``logits / T`` (top-p filtered) plus Gumbel noise drawn from the
row's own generator picks the argmax of a Gumbel-perturbed distribution, which is a sample
from ``softmax(logits / T)`` restricted to the top-p set (the Gumbel-max trick). A row's draws
depend only on its seed and the decoding step, not on which other rows share its batch, so all
seeds of one temperature run as one large batch (the prompts repeated once per seed) and a
row's answer is the same whatever the batch holds.

On CUDA the same streams are drawn on the GPU by :mod:`rrs.fastgen` (``generate.fast_path``).
"""

from __future__ import annotations

import hashlib
from typing import Sequence

import torch
from transformers import LogitsProcessor, LogitsProcessorList

from rrs import fastgen
from rrs.chat import prompt_text
from rrs.config import GenerateParams
from rrs.generate import generation_config, use_fast_path
from rrs.progress import progress


def row_seed(seed: int, prompt_id: str) -> int:
    """A 60-bit stream seed for one (sweep seed, prompt id) row."""
    return int(hashlib.sha256(f"{seed}:{prompt_id}".encode()).hexdigest()[:15], 16)


class RowGumbel(LogitsProcessor):
    """Temperature, top-p, then per-row Gumbel noise: greedy argmax becomes a sample."""

    def __init__(self, seeds: Sequence[int], temperature: float, top_p: float):
        if temperature <= 0:
            raise ValueError("RowGumbel samples: temperature must be > 0 (0 is plain greedy)")
        self.gens = [torch.Generator().manual_seed(s) for s in seeds]
        self.temperature, self.top_p = temperature, top_p

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        scores = scores.float() / self.temperature
        if self.top_p < 1.0:  # drop the tail beyond cumulative probability top_p (keep >= 1)
            sorted_scores, order = scores.sort(dim=-1, descending=True)
            cum = sorted_scores.softmax(-1).cumsum(-1)
            drop = (cum - sorted_scores.softmax(-1)) >= self.top_p
            scores = scores.masked_fill(drop.scatter(-1, order, drop), float("-inf"))
        u = torch.stack([torch.rand(scores.shape[-1], generator=g, dtype=torch.float64)
                         for g in self.gens]).to(scores.device)
        gumbel = -torch.log(-torch.log(u.clamp(1e-300, 1.0 - 1e-16)))
        return scores + gumbel.to(scores.dtype)


@torch.no_grad()
def sample_rows(model, tokenizer, prompts: Sequence[str], seeds: Sequence[int],
                cfg: GenerateParams, temperature: float, system_prompt: str | None = None,
                desc: str = "sample") -> list[str]:
    """Answer ``prompts[i]`` with the random stream ``seeds[i]`` (greedy when T = 0).

    Args:
        prompts: one prompt per row (repeat a prompt set once per sweep seed).
        seeds: one stream seed per row (see :func:`row_seed`); ignored when T = 0.
        cfg: ``max_new_tokens``, ``top_p`` and ``batch_size`` (rows per generate call).
        temperature: 0 = greedy.
    """
    if len(prompts) != len(seeds):
        raise ValueError("need one seed per prompt row")
    gen_cfg = generation_config(model, tokenizer, cfg, 0.0)  # greedy argmax over our scores
    texts = [prompt_text(tokenizer, p, system_prompt) for p in prompts]
    if use_fast_path(model, tokenizer, texts, cfg, gen_cfg):
        return fastgen.generate_texts(model, tokenizer, texts, gen_cfg, cfg.batch_size,
                                      temperature=temperature, top_p=cfg.top_p,
                                      seeds=list(seeds), kv_bucket=cfg.kv_bucket,
                                      graphs=cfg.cuda_graphs,
                                      progress=lambda it: progress(it, desc=desc, unit="batch"))
    dev = next(model.parameters()).device
    out: list[str] = []
    for start in progress(range(0, len(texts), cfg.batch_size), desc=desc, unit="batch"):
        rows = slice(start, start + cfg.batch_size)
        enc = tokenizer(texts[rows], return_tensors="pt", padding=True,
                        add_special_tokens=False).to(dev)
        procs = LogitsProcessorList(
            [RowGumbel(seeds[rows], temperature, cfg.top_p)] if temperature > 0 else [])
        ids = model.generate(**enc, generation_config=gen_cfg, logits_processor=procs)
        new = ids[:, enc["input_ids"].shape[1]:]
        out += [t.strip() for t in tokenizer.batch_decode(new, skip_special_tokens=True)]
    return out
