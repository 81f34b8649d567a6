"""Attacker compute in FLOPs, from the token counts an attack actually processed.

Definitions (``docs/METRICS.md``, "Attacks and attacker compute"), with N the parameter count,
``layers`` the transformer blocks and ``width`` the attention width (heads x head size):

* a forward pass over one sequence of L tokens, each attending to itself and every earlier
  token (causal; with a KV cache, generation processes each token once in the same way), costs
  ``2 N L + 2 layers width L (L + 1) / 2``: 2N per token for the weights and, per token at
  position t, ``2 layers t width`` for the attention scores and the weighted sum (Kaplan et
  al. 2020's ``2 n_layer n_ctx d_attn``);
* a backward pass through a frozen base (activation gradients only: LoRA's or the suffix's own
  gradients are negligible) costs about one forward pass, and gradient checkpointing adds
  another forward pass;
* padding is not counted: only real (attended) tokens.

Sequences enter as two sums, ``tokens = sum L`` and ``pairs = sum L (L + 1) / 2``, so a
budget's cost is exact for any mix of lengths. Pure functions; nothing here loads a model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable


@dataclass(frozen=True)
class Shape:
    """What the FLOP count needs of a model besides its parameter count."""
    layers: int
    width: int  # attention width: heads x head size (the query projection's output size)
    # (rrs.models.model_shape reads both from a model's config)


def token_sums(lengths: Iterable[int]) -> tuple[int, int]:
    """``(sum L, sum L (L + 1) / 2)`` over sequence lengths."""
    tokens = pairs = 0
    for n in lengths:
        n = int(n)
        if n < 0:
            raise ValueError("a sequence length cannot be negative")
        tokens += n
        pairs += n * (n + 1) // 2
    return tokens, pairs


def forward_flops(n_params: int, shape: Shape, tokens: int, pairs: int) -> float:
    """FLOPs of forward passes over sequences summing to ``tokens`` and ``pairs``."""
    return 2.0 * n_params * tokens + 2.0 * shape.layers * shape.width * pairs


def lora_flops(n_params: int, shape: Shape, tokens: int, pairs: int,
               gradient_checkpointing: bool = False) -> float:
    """QLoRA training: forward + backward through the frozen base (+ a recomputed forward
    with gradient checkpointing): 2 (or 3) forward passes' worth over the training tokens."""
    return (3.0 if gradient_checkpointing else 2.0) * forward_flops(n_params, shape, tokens,
                                                                     pairs)


def gcg_flops(n_params: int, shape: Shape, grad_tokens: int, grad_pairs: int,
              cand_tokens: int, cand_pairs: int) -> float:
    """GCG: each step's gradient pass (forward + backward to the one-hot suffix: two forward
    passes' worth) over the training prompts, plus one forward per scored candidate."""
    return (2.0 * forward_flops(n_params, shape, grad_tokens, grad_pairs)
            + forward_flops(n_params, shape, cand_tokens, cand_pairs))


def query_flops(n_params: int, shape: Shape, input_tokens: Iterable[int],
                generated_tokens: Iterable[int]) -> float:
    """Answering queries: one forward over each query's input and generated tokens."""
    tokens, pairs = token_sums(i + g for i, g in zip(input_tokens, generated_tokens,
                                                     strict=True))
    return forward_flops(n_params, shape, tokens, pairs)
