"""Triton kernels for the decode step's small element-wise stages (CUDA, where Triton is).

Each replaces several PyTorch launches with one and rounds where transformers' modules
round, so the outputs are the same numbers up to float reduction order:

- :func:`rms_norm`: ``weight * (x32 * rsqrt(mean(x32^2) + eps)).to(dtype)`` (LlamaRMSNorm and
  its Qwen2 / Mistral / Phi-3 copies), one program per row;
- :func:`rotary`: ``x * cos + rotate_half(x) * sin`` over the q and k heads of a fused qkv row,
  each product rounded to the model dtype before the sum, as transformers computes it;
- :func:`silu_mul`: ``silu(gate) * up`` from a fused gate|up row.

In bf16 the intermediate roundings are done with integer ops (:func:`_round_bf16`): with
plain casts an H200 run left 24% of rotary outputs one bf16 ulp off PyTorch's.

``tests/test_fastgen.py`` runs them in Triton's CPU interpreter against the modules.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl


@triton.jit
def _rms_norm_kernel(x, w, out, stride_x, stride_o, n, eps, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    keep = cols < n
    v = tl.load(x + row * stride_x + cols, mask=keep, other=0.0).to(tl.float32)
    rstd = 1.0 / tl.sqrt(tl.sum(v * v, axis=0) / n + eps)
    y = (v * rstd).to(out.dtype.element_ty).to(tl.float32)
    g = tl.load(w + cols, mask=keep, other=0.0).to(tl.float32)
    tl.store(out + row * stride_o + cols, (g * y).to(out.dtype.element_ty), mask=keep)


def rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    """RMSNorm of the rows of ``x [N, H]`` (weight in x's dtype)."""
    out = torch.empty_like(x)
    n = x.shape[-1]
    _rms_norm_kernel[(x.shape[0],)](x, weight, out, x.stride(0), out.stride(0), n, eps,
                                    BLOCK=triton.next_power_of_2(n), num_warps=8 if n > 4096 else 4)
    return out


@triton.jit
def _round_bf16(v):
    """float32 -> the nearest bf16 value (ties to even), kept in float32, by integer ops: a
    rounding the compiler cannot fold away with the cast back."""
    bits = v.to(tl.uint32, bitcast=True)
    bits = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    return bits.to(tl.float32, bitcast=True)


@triton.jit
def _rotary_kernel(qkv, cos, sin, out, stride_in, stride_cs, heads, HEAD_DIM: tl.constexpr,
                   ROT: tl.constexpr, HALF: tl.constexpr, BLOCK_H: tl.constexpr,
                   BLOCK_D: tl.constexpr, BF16: tl.constexpr):
    row = tl.program_id(0)
    h = tl.arange(0, BLOCK_H)[:, None]
    d = tl.arange(0, BLOCK_D)[None, :]
    keep = (h < heads) & (d < HEAD_DIM)
    src = qkv + row * stride_in + h * HEAD_DIM
    x = tl.load(src + d, mask=keep, other=0.0)
    rotated = d < ROT
    partner = tl.where(d < HALF, d + HALF, d - HALF)
    xp = tl.load(src + partner, mask=keep & rotated, other=0.0).to(tl.float32)
    xp = tl.where(d < HALF, -xp, xp)
    c = tl.load(cos + row * stride_cs + d, mask=rotated, other=1.0).to(tl.float32)
    s = tl.load(sin + row * stride_cs + d, mask=rotated, other=0.0).to(tl.float32)
    if BF16:
        a = _round_bf16(x.to(tl.float32) * c)
        b = _round_bf16(xp * s)
        y = tl.where(rotated, _round_bf16(a + b).to(x.dtype), x)
    else:
        y = tl.where(rotated, (x.to(tl.float32) * c + xp * s).to(x.dtype), x)
    tl.store(out + row * heads * HEAD_DIM + h * HEAD_DIM + d, y, mask=keep)


def rotary(qkv: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, heads: int,
           head_dim: int) -> torch.Tensor:
    """Rotate the first ``heads`` heads of each row of ``qkv [N, >= heads * head_dim]``
    (q then k) by ``cos, sin [N, rotary dims]``; returns ``[N, heads, head_dim]``."""
    n, rot = qkv.shape[0], cos.shape[-1]
    out = torch.empty(n, heads, head_dim, dtype=qkv.dtype, device=qkv.device)
    _rotary_kernel[(n,)](qkv, cos, sin, out, qkv.stride(0), cos.stride(0), heads,
                         HEAD_DIM=head_dim, ROT=rot, HALF=rot // 2,
                         BLOCK_H=triton.next_power_of_2(heads),
                         BLOCK_D=triton.next_power_of_2(head_dim),
                         BF16=qkv.dtype == torch.bfloat16, num_warps=4)
    return out


@triton.jit
def _silu_mul_kernel(gu, out, stride_in, n, BLOCK: tl.constexpr, BF16: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)
    keep = cols < n
    g = tl.load(gu + row * stride_in + cols, mask=keep, other=0.0).to(tl.float32)
    u = tl.load(gu + row * stride_in + n + cols, mask=keep, other=0.0).to(tl.float32)
    act = (g / (1.0 + tl.exp(-g))).to(out.dtype.element_ty).to(tl.float32)
    if BF16:
        act = _round_bf16(g / (1.0 + tl.exp(-g)))
    tl.store(out + row * n + cols, (act * u).to(out.dtype.element_ty), mask=keep)


def silu_mul(gate_up: torch.Tensor) -> torch.Tensor:
    """``silu(gate) * up`` of ``gate_up [N, 2 I]`` (gate first); returns ``[N, I]``."""
    rows, n = gate_up.shape[0], gate_up.shape[1] // 2
    out = torch.empty(rows, n, dtype=gate_up.dtype, device=gate_up.device)
    block = 1024
    _silu_mul_kernel[(rows, triton.cdiv(n, block))](gate_up, out, gate_up.stride(0), n,
                                                    BLOCK=block, BF16=gate_up.dtype == torch.bfloat16,
                                                    num_warps=4)
    return out
