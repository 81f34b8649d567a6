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


@torch.no_grad()
def answer_ids(model, tokenizer, inputs: Sequence[Sequence[int]], cfg: GenerateParams,
               temperature: float = 0.0, seeds: Sequence[int] | None = None,
               batch_size: int | None = None, desc: str = "answer") -> tuple[list[str], list[int]]:
    """Answer already-tokenised inputs (chat template applied, any attack text in place).

    The attacks build their inputs as token ids (a GCG suffix is tokens, not text that might
    re-tokenise differently), so this pads them on the left itself; decoding is
    :func:`sample_rows`' (greedy at T = 0, else one Gumbel stream per row from ``seeds``).

    Returns:
        The answers (special tokens dropped, stripped) and how many tokens each generated
        (up to and including the end-of-turn token), for the FLOP count. Where
        :func:`rrs.fastgen.fast_path_reason` allows (CUDA, or ``generate.fast_path: always``)
        :mod:`rrs.fastgen` decodes, as in :func:`sample_rows`.
    """
    if temperature > 0 and (seeds is None or len(seeds) != len(inputs)):
        raise ValueError("sampling needs one seed per input row")
    gen_cfg = generation_config(model, tokenizer, cfg, 0.0)
    eos = gen_cfg.eos_token_id
    eos = tuple(eos if isinstance(eos, (list, tuple)) else [eos])
    size = batch_size or cfg.batch_size
    longest = max((len(r) for r in inputs), default=0)
    if inputs and fastgen.fast_path_reason(model, gen_cfg, cfg.fast_path,
                                           longest + cfg.max_new_tokens) is None:
        decoding = fastgen.Decoding(max_new_tokens=gen_cfg.max_new_tokens, eos=eos,
                                    pad=gen_cfg.pad_token_id, temperature=temperature,
                                    top_p=cfg.top_p)
        new = fastgen.generate_ids(
            model, [list(map(int, r)) for r in inputs], decoding, size,
            list(seeds) if temperature > 0 else None, cfg.kv_bucket, cfg.cuda_graphs,
            progress=lambda it: progress(it, desc=desc, unit="batch"))
        return _answers(tokenizer, new, set(eos))
    dev = next(model.parameters()).device
    texts: list[str] = []
    counts: list[int] = []
    for start in progress(range(0, len(inputs), size), desc=desc, unit="batch"):
        rows = [list(map(int, r)) for r in inputs[start:start + size]]
        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), tokenizer.pad_token_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, r in enumerate(rows):
            ids[i, width - len(r):] = torch.tensor(r)
            mask[i, width - len(r):] = 1
        procs = LogitsProcessorList(
            [RowGumbel(seeds[start:start + size], temperature, cfg.top_p)]
            if temperature > 0 else [])
        out = model.generate(input_ids=ids.to(dev), attention_mask=mask.to(dev),
                             generation_config=gen_cfg, logits_processor=procs)
        batch_texts, batch_counts = _answers(tokenizer, out[:, width:].tolist(), set(eos))
        texts += batch_texts
        counts += batch_counts
    return texts, counts


def _answers(tokenizer, new: list[list[int]], eos: set[int]) -> tuple[list[str], list[int]]:
    """Decoded answers and their generated-token counts (up to and including the end token)."""
    counts = []
    for row in new:
        stop = next((j for j, t in enumerate(row) if t in eos), None)
        counts.append(len(row) if stop is None else stop + 1)
    # A bare carriage return (sampled byte-level tokens can decode to one) is a line break
    # to the CSV readers but is not quoted by the writer: normalise line ends to "\n".
    texts = [t.replace("\r\n", "\n").replace("\r", "\n").strip()
             for t in tokenizer.batch_decode(new, skip_special_tokens=True)]
    return texts, counts
