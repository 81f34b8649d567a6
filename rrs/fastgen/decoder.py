"""A static-KV-cache decoder over a Hugging Face model's own modules and weights.

The cache holds ``[batch, kv_heads, capacity, head_dim]`` per layer, filled left to right:
prompts are left-padded to the batch's widest (column ``P``), generated token ``i`` goes to
column ``P + i``. Attention reads each KV head once, grouped-query style without copying K/V
out to every query head: the ``G = heads / kv_heads`` query heads of one KV head are laid out
as ``G`` query rows of that head, so one SDPA call over ``[batch, kv_heads, G, head_dim]``
reads the cache once. It reads only the first ``L`` columns, ``L`` the filled length rounded
up to a bucket (``kv_bucket`` tokens): one CUDA graph per bucket holds the whole decode step
(embedding, every layer, head, token choice, cache and bookkeeping writes), so a step costs
one graph launch. On CUDA with Triton the norms, the rotary embedding and SiLU-times-up run
as single kernels (``rrs.fastgen.kernels``).

On CPU the same code runs eagerly: ``tests/test_fastgen.py`` checks it against
``model.generate`` token for token.
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

from rrs.fastgen.layers import causal_lm, decoder_layers

# transformers' RMSNorm classes that compute weight * (x32 * rsqrt(mean(x32^2) + eps)).to(dtype)
RMS_NORMS = ("LlamaRMSNorm", "Qwen2RMSNorm", "MistralRMSNorm", "Phi3RMSNorm")


def _kernels():
    """rrs.fastgen.kernels where Triton is installed, else None (PyTorch ops)."""
    try:
        from rrs.fastgen import kernels
    except ImportError:
        return None
    return kernels


def rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotary embedding of ``x [.., heads, head_dim]`` as transformers applies it
    (``x * cos + rotate_half(x) * sin``, the first ``cos.shape[-1]`` dims only)."""
    rd = cos.shape[-1]
    rot, rest = (x, None) if rd == x.shape[-1] else (x[..., :rd], x[..., rd:])
    half = rd // 2
    turned = torch.cat((-rot[..., half:], rot[..., :half]), dim=-1)
    out = rot * cos + turned * sin
    return out if rest is None else torch.cat((out, rest), dim=-1)


# How a decode step's attention runs: "sdpa" lets PyTorch pick the backend (cuDNN on an H200),
# "efficient" asks for the memory-efficient (cutlass) kernel, "matmul" is two batched GEMMs
# around an fp32 softmax. On an H200 (docs/benchmarks.md) "sdpa" was fastest at batch 256:
# Qwen2-7B 10.8 ms/step vs 11.4 (efficient) and 10.9 (matmul); Phi-3-mini 16.9 vs 30.9, 18.6.
DECODE_ATTENTION = "sdpa"


def grouped_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                      mask: torch.Tensor, decode_impl: str = "sdpa") -> torch.Tensor:
    """Softmax attention of ``q [B, T, H, D]`` over ``k, v [B, Hkv, L, D]``, each KV head read once.

    Args:
        mask: additive, ``[B, 1, T, L]`` (0 where a query may attend, a large negative elsewhere).
        decode_impl: ``sdpa``, ``efficient`` or ``matmul`` for one-token steps (T = 1).
    Returns:
        ``[B * T, H * D]``.
    """
    b, t, h, d = q.shape
    hkv, length = k.shape[1], k.shape[2]
    g = h // hkv
    if t == 1:  # decoding: the G query heads of a KV head are G query rows of it
        qg = q.reshape(b, hkv, g, d)
        if decode_impl == "matmul":
            scores = torch.add(mask.float(), torch.matmul(qg, k.transpose(-1, -2)), alpha=d ** -0.5)
            out = torch.matmul(scores.softmax(-1).to(v.dtype), v)
        elif decode_impl == "efficient":
            with sdpa_kernel(SDPBackend.EFFICIENT_ATTENTION):
                out = F.scaled_dot_product_attention(qg, k, v, attn_mask=mask)
        else:
            out = F.scaled_dot_product_attention(qg, k, v, attn_mask=mask)
        return out.reshape(b, h * d)
    # prefill: rows are (query head within the group, position)
    qg = q.view(b, t, hkv, g, d).permute(0, 2, 3, 1, 4).reshape(b, hkv, g * t, d)
    m = mask.unsqueeze(2).expand(b, 1, g, t, length).reshape(b, 1, g * t, length)
    out = F.scaled_dot_product_attention(qg, k, v, attn_mask=m)
    return out.view(b, hkv, g, t, d).permute(0, 3, 1, 2, 4).reshape(b * t, h * d)


def _efficient_runs(dtype: torch.dtype, device: torch.device, g: int, d: int) -> bool:
    """Whether the memory-efficient SDPA kernel takes a decode step's shapes here."""
    try:
        # laid out as in a step: q a slice of the qkv rows, k / v a prefix of the cache
        q = torch.zeros(2, 1, 3 * g, d, dtype=dtype, device=device)[:, :, :2 * g].reshape(2, 2, g, d)
        kv = torch.zeros(2, 2, 256, d, dtype=dtype, device=device)[:, :, :128]
        mask = torch.zeros(2, 1, 1, 128, dtype=dtype, device=device)
        with sdpa_kernel(SDPBackend.EFFICIENT_ATTENTION):
            F.scaled_dot_product_attention(q, kv, kv, attn_mask=mask)
    except RuntimeError:
        return False
    return True


class StaticDecoder:
    """The model's forward pass with a preallocated KV cache; prefill and one-token steps.

    Args:
        model: a supported ``*ForCausalLM`` or a peft model around one (see ``layers``).
        max_batch: rows the cache holds.
        max_len: prompt + new tokens the cache holds (rounded up to ``kv_bucket``).
    """

    def __init__(self, model, max_batch: int, max_len: int, kv_bucket: int,
                 fused: bool = True, decode_attention: str = DECODE_ATTENTION):
        lm = causal_lm(model)
        cfg = lm.config
        self.n_heads, self.n_kv = cfg.num_attention_heads, cfg.num_key_value_heads
        self.head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // self.n_heads
        self.layers, self.dense = decoder_layers(model)
        self.embed, self.head = lm.get_input_embeddings(), lm.get_output_embeddings()
        self.norm, self.rotary = lm.model.norm, lm.model.rotary_emb
        self.dtype = self.embed.weight.dtype
        self.device = self.embed.weight.device
        self.bucket = kv_bucket
        self.capacity = -(-max_len // kv_bucket) * kv_bucket
        shape = (max_batch, self.n_kv, self.capacity, self.head_dim)
        # zeros, not empty: masked columns still enter the softmax's products (weight 0),
        # and 0 * NaN from uninitialised memory would poison a row
        self.k = [torch.zeros(shape, dtype=self.dtype, device=self.device) for _ in self.layers]
        self.v = [torch.zeros(shape, dtype=self.dtype, device=self.device) for _ in self.layers]
        self.columns = torch.arange(self.capacity, device=self.device)
        self.neg = torch.finfo(self.dtype).min
        self.kernels = _kernels() if fused and self.device.type == "cuda" else None
        g = self.n_heads // self.n_kv
        if decode_attention == "efficient" and not _efficient_runs(self.dtype, self.device, g,
                                                                   self.head_dim):
            decode_attention = "sdpa"
        self.decode_attention = decode_attention

    def _norm(self, module, x: torch.Tensor) -> torch.Tensor:
        if (self.kernels is not None and type(module).__name__ in RMS_NORMS
                and module.weight.dtype == x.dtype):
            return self.kernels.rms_norm(x, module.weight, module.variance_epsilon)
        return module(x)

    def _rotate_qk(self, qkv: torch.Tensor, cos, sin, b: int, t: int) -> torch.Tensor:
        h, d = self.n_heads + self.n_kv, self.head_dim
        if self.kernels is not None:
            rows = qkv.shape[0]
            out = self.kernels.rotary(qkv, cos.reshape(rows, -1), sin.reshape(rows, -1), h, d)
            return out.view(b, t, h, d)
        return rotate(qkv[:, :h * d].view(b, t, h, d), cos.unsqueeze(2), sin.unsqueeze(2))

    def _act_mul(self, layer, gate_up: torch.Tensor) -> torch.Tensor:
        if self.kernels is not None and isinstance(layer.act, torch.nn.SiLU):
            return self.kernels.silu_mul(gate_up)
        gate, up = gate_up.chunk(2, dim=-1)
        return layer.act(gate) * up

    def bucket_of(self, filled: int) -> int:
        """Cache columns a step reads when ``filled`` columns hold keys."""
        return min(self.capacity, -(-filled // self.bucket) * self.bucket)

    def _layers(self, x: torch.Tensor, cos, sin, mask: torch.Tensor, length: int,
                write: Callable[[int, torch.Tensor, torch.Tensor], None], b: int, t: int):
        h, hkv, d = self.n_heads, self.n_kv, self.head_dim
        for i, layer in enumerate(self.layers):
            qkv = layer.qkv(self._norm(layer.norm1, x))
            qk = self._rotate_qk(qkv, cos, sin, b, t)
            q, k = qk[:, :, :h], qk[:, :, h:]
            v = qkv[:, (h + hkv) * d:].view(b, t, hkv, d)
            write(i, k.transpose(1, 2), v.transpose(1, 2))
            att = grouped_attention(q, self.k[i][:b, :, :length], self.v[i][:b, :, :length], mask,
                                    self.decode_attention)
            x = layer.o.add_to(x, att)
            x = layer.down.add_to(x, self._act_mul(layer, layer.gate_up(self._norm(layer.norm2, x))))
        return x

    def _rope(self, x: torch.Tensor, positions: torch.Tensor):
        return self.rotary(x, positions)  # cos, sin: [B, T, rotary dims], in x's dtype

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.head(self._norm(self.norm, hidden))

    def prefill(self, ids: torch.Tensor, pad: torch.Tensor) -> torch.Tensor:
        """Run left-padded prompts ``ids [B, P]`` (``pad [B]`` pad tokens each), fill cache
        columns ``[0, P)``; return the last position's logits ``[B, V]``."""
        b, t = ids.shape
        cols = self.columns[:t]
        positions = (cols[None, :] - pad[:, None]).clamp(min=0)
        keep = (cols[None, None, :] <= cols[None, :, None]) & (cols[None, None, :] >= pad[:, None, None])
        keep |= torch.eye(t, dtype=torch.bool, device=self.device)  # pad rows see themselves
        mask = torch.zeros(b, 1, t, t, dtype=self.dtype, device=self.device)
        mask.masked_fill_(~keep[:, None], self.neg)
        x = self.embed(ids)
        cos, sin = self._rope(x, positions)

        def write(i, k, v):
            self.k[i][:b, :, :t] = k
            self.v[i][:b, :, :t] = v
        x = self._layers(x.reshape(b * t, -1), cos, sin, mask, t, write, b, t)
        return self.logits(x.view(b, t, -1)[:, -1])

    def step(self, tok: torch.Tensor, col: torch.Tensor, pad: torch.Tensor,
             length: int) -> torch.Tensor:
        """One token per row: ``tok [B]`` at cache column ``col [1]`` (a tensor, so a CUDA
        graph replays it at every column); attend over the first ``length`` columns."""
        b = tok.shape[0]
        cols = self.columns[:length]
        keep = (cols[None, :] >= pad[:, None]) & (cols[None, :] <= col)
        mask = torch.zeros(b, 1, 1, length, dtype=self.dtype, device=self.device)
        mask.masked_fill_(~keep[:, None, None], self.neg)
        x = self.embed(tok[:, None])
        cos, sin = self._rope(x, (col - pad)[:, None])

        def write(i, k, v):
            self.k[i][:b].index_copy_(2, col, k)
            self.v[i][:b].index_copy_(2, col, v)
        x = self._layers(x.reshape(b, -1), cos, sin, mask, length, write, b, 1)
        return self.logits(x)
