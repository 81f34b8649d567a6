"""The decoder's weights as the fast path reads them: LoRA merged, q|k|v and gate|up fused.

For a dense base (bf16 / fp16 / fp32 ``nn.Linear``), each peft LoRA layer's delta
``B @ A * scaling`` is added to a copy of its base weight, once, so generation pays nothing
per token for the adapter, and the base model itself is left untouched (``rrs generate``
reuses it for the next budget). q, k and v become one matrix, gate and up another: one matrix
product each instead of three and two. The copies cost one more set of the decoder's linear
weights in GPU memory (15 GB for a 7B model in bf16).

A quantised base (bitsandbytes NF4 / int8) cannot be merged without dequantising it, so its
modules are called as they are (the adapter then costs a little per token).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn
from transformers.activations import ACT2FN

# Llama-family decoders whose layer is x + o(attn(norm1(x))), then + mlp(norm2(x)), with
# rotary q/k and (grouped-query) softmax attention; the only architectures the fast path runs.
SUPPORTED = ("llama", "mistral", "qwen2", "phi3")


class Dense:
    """``x @ weight.T + bias``; with a residual, one GEMM that also adds it (cuBLAS beta=1)."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None):
        self.weight, self.bias = weight, bias

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight, self.bias)

    def add_to(self, residual: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        if self.bias is not None or x.dim() != 2:
            return residual + self(x)
        return torch.addmm(residual, x, self.weight.t())


class Modules:
    """The modules as they are (quantised bases), outputs concatenated in order."""

    def __init__(self, modules: Sequence[nn.Module]):
        self.modules = list(modules)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        outs = [m(x) for m in self.modules]
        return outs[0] if len(outs) == 1 else torch.cat(outs, dim=-1)

    def add_to(self, residual: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return residual + self(x)


@dataclass
class Layer:
    norm1: nn.Module
    norm2: nn.Module
    qkv: Dense | Modules  # -> [..., (n_heads + 2 n_kv_heads) * head_dim]
    o: Dense | Modules
    gate_up: Dense | Modules  # -> [..., 2 * intermediate]: gate first, then up
    down: Dense | Modules
    act: Callable[[torch.Tensor], torch.Tensor]


def _is_lora(module: nn.Module) -> bool:
    return hasattr(module, "base_layer") and hasattr(module, "lora_A")


def _plain_linear(module: nn.Module) -> bool:
    """An ``nn.Linear`` with an ordinary floating-point weight (not a bitsandbytes one)."""
    return (type(module) is nn.Linear and module.weight.is_floating_point()
            and type(module.weight) in (nn.Parameter, torch.Tensor))


def dense_weight(module: nn.Module) -> tuple[torch.Tensor, torch.Tensor | None] | None:
    """(weight, bias) with any active LoRA adapter merged in, or None where it cannot be.

    The merge runs in fp32 and rounds once to the base's dtype.
    """
    if _plain_linear(module):
        return module.weight, module.bias
    if not _is_lora(module) or not _plain_linear(module.base_layer):
        return None
    base = module.base_layer
    if module.merged or module.disable_adapters:
        return base.weight, base.bias
    delta = None
    for name in module.active_adapters:
        if name not in module.lora_A:
            continue
        if module.use_dora.get(name) or getattr(module, "lora_bias", {}).get(name):
            return None
        d = module.get_delta_weight(name).float()
        delta = d if delta is None else delta + d
    if delta is None:
        return base.weight, base.bias
    return (base.weight.float() + delta).to(base.weight.dtype), base.bias


def _fuse(modules: Sequence[nn.Module], dense: bool) -> Dense | Modules:
    if not dense:
        return Modules(modules)
    parts = [dense_weight(m) for m in modules]
    weight = parts[0][0] if len(parts) == 1 else torch.cat([w for w, _ in parts])
    biases = [b for _, b in parts]
    if all(b is None for b in biases):
        return Dense(weight, None)
    bias = torch.cat([b if b is not None else weight.new_zeros(w.shape[0])
                      for (w, _), b in zip(parts, biases)])
    return Dense(weight, bias)


def causal_lm(model: nn.Module) -> nn.Module:
    """The ``*ForCausalLM`` inside a peft wrapper (LoRA layers stay injected in it)."""
    return model.get_base_model() if hasattr(model, "get_base_model") else model


def unsupported_reason(model: nn.Module, max_len: int) -> str | None:
    """Why the fast path cannot run this model for sequences of ``max_len`` tokens, or None."""
    lm = causal_lm(model)
    cfg = lm.config
    if cfg.model_type not in SUPPORTED:
        return f"architecture {cfg.model_type!r} (fast path: {', '.join(SUPPORTED)})"
    if getattr(cfg, "hidden_act", "silu") not in ACT2FN:
        return f"activation {cfg.hidden_act!r}"
    window = getattr(cfg, "sliding_window", None)
    uses_window = getattr(cfg, "use_sliding_window", True)
    if window is not None and uses_window and max_len > window:
        return f"sliding-window attention ({window} tokens < {max_len})"
    rope = (getattr(cfg, "rope_parameters", None) or getattr(cfg, "rope_scaling", None) or {})
    rope_type = rope.get("rope_type", rope.get("type", "default")) if isinstance(rope, dict) else "default"
    if "dynamic" in str(rope_type):
        return f"rope type {rope_type!r} (its frequencies change with the length)"
    for name, module in lm.named_modules():
        if _is_lora(module) and any(module.use_dora.get(a) for a in module.active_adapters):
            return f"DoRA adapter at {name}"
    return None


def rope_varies_with_length(model: nn.Module) -> bool:
    """Phi-3 long-context ('longrope') frequencies switch at a length: no CUDA graphs."""
    cfg = causal_lm(model).config
    rope = getattr(cfg, "rope_parameters", None) or getattr(cfg, "rope_scaling", None) or {}
    return isinstance(rope, dict) and rope.get("rope_type", rope.get("type")) == "longrope"


def decoder_layers(model: nn.Module) -> tuple[list[Layer], bool]:
    """Every decoder layer's weights; also whether they are dense (merged and fused) copies."""
    lm = causal_lm(model)
    layers = lm.model.layers
    linears = [m for layer in layers for m in _linears(layer)]
    dense = all(dense_weight(m) is not None for m in linears)
    out = []
    for layer in layers:
        attn, mlp = layer.self_attn, layer.mlp
        qkv = [attn.qkv_proj] if hasattr(attn, "qkv_proj") else [attn.q_proj, attn.k_proj, attn.v_proj]
        gate_up = [mlp.gate_up_proj] if hasattr(mlp, "gate_up_proj") else [mlp.gate_proj, mlp.up_proj]
        act = getattr(mlp, "act_fn", None) or getattr(mlp, "activation_fn")
        out.append(Layer(norm1=layer.input_layernorm, norm2=layer.post_attention_layernorm,
                         qkv=_fuse(qkv, dense), o=_fuse([attn.o_proj], dense),
                         gate_up=_fuse(gate_up, dense), down=_fuse([mlp.down_proj], dense),
                         act=act))
    return out, dense


def _linears(layer: nn.Module) -> list[nn.Module]:
    attn, mlp = layer.self_attn, layer.mlp
    names = ["qkv_proj", "q_proj", "k_proj", "v_proj", "o_proj"]
    out = [getattr(attn, n) for n in names if hasattr(attn, n)]
    return out + [getattr(mlp, n) for n in ["gate_up_proj", "gate_proj", "up_proj", "down_proj"]
                  if hasattr(mlp, n)]
