"""Batched generation through each model's chat template (left padding).

On CUDA, greedy decoding goes through :mod:`rrs.fastgen` (same tokens, several times faster;
``generate.fast_path``); elsewhere, and for settings it does not implement, ``model.generate``.
"""

from __future__ import annotations

from typing import Sequence

import torch
from transformers import GenerationConfig

from rrs import fastgen
from rrs.chat import prompt_text
from rrs.config import GenerateParams
from rrs.progress import progress


def generation_config(model, tokenizer, cfg: GenerateParams, temperature: float) -> GenerationConfig:
    """Decoding settings from params only: the model's own defaults never leak in.

    ``model.generate`` fills every field left unset from the checkpoint's own
    ``generation_config.json`` (Qwen2-Instruct ships ``repetition_penalty: 1.05``, others
    ``no_repeat_ngram_size`` or a minimum length), so each processing setting is set to its
    neutral value here rather than left unset (``rrs.fastgen.NEUTRAL`` lists them).
    """
    sample = temperature > 0
    # min_new_tokens=0 overrides any min_length (transformers warns when both are set)
    neutral = {key: values[-1] for key, values in fastgen.NEUTRAL.items() if key != "min_length"}
    return GenerationConfig(
        **neutral, max_new_tokens=cfg.max_new_tokens, do_sample=sample,
        temperature=temperature if sample else None, top_p=cfg.top_p if sample else None,
        top_k=None, eos_token_id=model.generation_config.eos_token_id or tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id)


def use_fast_path(model, tokenizer, texts: Sequence[str], cfg: GenerateParams, gen_cfg) -> bool:
    """Whether :mod:`rrs.fastgen` answers these texts (else ``model.generate``)."""
    if not texts:
        return False
    longest = max(len(tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts)
    return fastgen.fast_path_reason(model, gen_cfg, cfg.fast_path,
                                    longest + cfg.max_new_tokens) is None


@torch.no_grad()
def generate(model, tokenizer, prompts: Sequence[str], cfg: GenerateParams,
             temperature: float | None = None, seed: int | None = None,
             system_prompt: str | None = None, desc: str = "generate",
             token_counts: list | None = None) -> list[str]:
    """Answer every prompt; greedy when the temperature is 0.

    Args:
        temperature: overrides ``cfg.temperature`` (the stability sweep uses this).
        seed: sampling seed (overrides ``cfg.seed``); batch ``b`` samples under
            ``seed + b`` so results do not depend on what ran before.
        token_counts: if given, a list that receives ``(input tokens, generated tokens)`` per
            prompt (generated up to and including the end-of-turn token; padding not
            counted): what the attacker-compute count needs.
    """
    temperature = cfg.temperature if temperature is None else temperature
    seed = cfg.seed if seed is None else seed
    gen_cfg = generation_config(model, tokenizer, cfg, temperature)
    texts = [prompt_text(tokenizer, p, system_prompt) for p in prompts]
    if not gen_cfg.do_sample and use_fast_path(model, tokenizer, texts, cfg, gen_cfg):
        return fastgen.generate_texts(model, tokenizer, texts, gen_cfg, cfg.batch_size,
                                      kv_bucket=cfg.kv_bucket, graphs=cfg.cuda_graphs,
                                      progress=lambda it: progress(it, desc=desc, unit="batch"),
                                      token_counts=token_counts)
    dev = next(model.parameters()).device
    out: list[str] = []
    starts = range(0, len(texts), cfg.batch_size)
    for b, start in enumerate(progress(starts, desc=desc, unit="batch")):
        enc = tokenizer(texts[start:start + cfg.batch_size], return_tensors="pt", padding=True,
                        add_special_tokens=False).to(dev)
        if gen_cfg.do_sample:
            torch.manual_seed(seed + b)
        ids = model.generate(**enc, generation_config=gen_cfg)
        new = ids[:, enc["input_ids"].shape[1]:]
        out += [t.strip() for t in tokenizer.batch_decode(new, skip_special_tokens=True)]
        if token_counts is not None:
            eos = gen_cfg.eos_token_id
            eos = set(eos if isinstance(eos, (list, tuple)) else [eos])
            for n_in, row in zip(enc["attention_mask"].sum(1).tolist(), new.tolist()):
                stop = next((j for j, t in enumerate(row) if t in eos), None)
                token_counts.append((n_in, len(row) if stop is None else stop + 1))
    return out
