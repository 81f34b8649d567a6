"""Fast batched decoding for ``rrs.generate`` and ``rrs.sampling`` on CUDA.

Same answers as ``model.generate`` (greedy) and as ``model.generate`` with
``rrs.sampling.RowGumbel`` (per-row seeded sampling), faster on a GPU: a static KV cache,
attention that reads each KV head once and only the filled columns, the decode step as a
CUDA graph per KV-length bucket, length-sorted batches, LoRA merged into a copy of the
weights. Where it does not apply (another architecture, a decoding setting it does not
implement, ``generate.fast_path: never``) the callers use ``model.generate`` as before; on
CPU that stays the default (``fast_path: auto``).

Run data-parallel under ``accelerate launch`` (see ``rrs.distributed``), each process answers
every ``world``-th prompt of the length-sorted list and all processes receive every answer.
"""

from __future__ import annotations

from typing import Sequence

from rrs import distributed
from rrs.fastgen.engine import Decoding, generate_ids
from rrs.fastgen.layers import unsupported_reason

__all__ = ["Decoding", "generate_ids", "fast_path_reason", "generate_texts"]

# model.generate settings (after it fills unset ones from the model's generation_config) that
# add logits processing the fast path does not implement, with their neutral values.
NEUTRAL = {"repetition_penalty": (None, 1.0), "no_repeat_ngram_size": (None, 0),
           "bad_words_ids": (None,), "min_length": (None, 0), "min_new_tokens": (None, 0),
           "sequence_bias": (None,), "forced_bos_token_id": (None,),
           "forced_eos_token_id": (None,), "suppress_tokens": (None,),
           "begin_suppress_tokens": (None,), "exponential_decay_length_penalty": (None,),
           "num_beams": (None, 1), "penalty_alpha": (None,), "guidance_scale": (None, 1.0),
           "watermarking_config": (None,), "stop_strings": (None,), "max_time": (None,)}


def extra_processing(model, gen_cfg) -> list[str]:
    """Settings that would make ``model.generate`` do more than the fast path does."""
    defaults = getattr(model, "generation_config", None)
    extras = []
    for key, neutral in NEUTRAL.items():
        value = getattr(gen_cfg, key, None)
        if value is None and defaults is not None:
            value = getattr(defaults, key, None)
        if value not in neutral:
            extras.append(f"{key}={value!r}")
    return extras


def fast_path_reason(model, gen_cfg, setting: str, max_len: int) -> str | None:
    """Why ``model.generate`` runs instead of the fast path, or None where the fast path runs.

    Args:
        setting: ``generate.fast_path``: ``auto`` (CUDA only), ``always``, ``never``.
        max_len: the longest prompt plus the new tokens.
    """
    if setting not in ("auto", "always", "never"):
        raise ValueError(f"generate.fast_path: auto, always or never, not {setting!r}")
    if setting == "never":
        return "generate.fast_path: never"
    if setting == "auto" and next(model.parameters()).device.type != "cuda":
        return "not on CUDA (generate.fast_path: auto)"
    reason = unsupported_reason(model, max_len)
    if reason is None and extra_processing(model, gen_cfg):
        reason = "generation settings " + ", ".join(extra_processing(model, gen_cfg))
    return reason


def _ids(value) -> tuple[int, ...]:
    return tuple(value) if isinstance(value, (list, tuple)) else (value,)


def generate_texts(model, tokenizer, texts: Sequence[str], gen_cfg, batch_size: int,
                   temperature: float = 0.0, top_p: float = 1.0,
                   seeds: Sequence[int] | None = None, kv_bucket: int = 128,
                   graphs: bool = True, progress=None,
                   token_counts: list | None = None) -> list[str]:
    """Answer each chat-formatted text; greedy at temperature 0, else per-row seeded samples.

    Args:
        gen_cfg: the ``GenerationConfig`` the reference path would use (new tokens, end and
            pad tokens).
        token_counts: if given, receives ``(input tokens, generated tokens)`` per text, the
            generated ones up to and including the first end token (as ``rrs.generate``).
    """
    prompts = [tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts]
    decoding = Decoding(max_new_tokens=gen_cfg.max_new_tokens, eos=_ids(gen_cfg.eos_token_id),
                        pad=gen_cfg.pad_token_id, temperature=temperature, top_p=top_p)

    def answer(idx: Sequence[int]) -> list[list[int]]:
        return generate_ids(model, [prompts[i] for i in idx], decoding, batch_size,
                            [seeds[i] for i in idx] if seeds is not None else None,
                            kv_bucket, graphs, progress)
    by_length = sorted(range(len(prompts)), key=lambda i: -len(prompts[i]))
    new = distributed.map_shards(by_length, answer, len(prompts))
    if token_counts is not None:
        eos = set(decoding.eos)
        for ids, row in zip(prompts, new):
            stop = next((j for j, t in enumerate(row) if t in eos), None)
            token_counts.append((len(ids), len(row) if stop is None else stop + 1))
    return [t.strip() for t in tokenizer.batch_decode(new, skip_special_tokens=True)]
