"""Triton kernel of :class:`rrs.fastgen.rowrng.RowStreams`: Gumbel-max over per-row MT19937.

One program per row. The row's state sits in global memory as two 624-word buffers (the
twist reads one and writes the other; its three parts depend on each other, hence the
barriers); the program walks the step's ``2 V`` words a block at a time, tempers them, turns
each pair into a float64 uniform, adds ``-log(-log u)`` (float64, rounded to float32 as
``RowGumbel`` does) to the float32 scores and keeps the first maximum. Imported only where
Triton is (CUDA machines); ``tests/test_fastgen.py`` runs it in Triton's CPU interpreter
where Triton is installed.
"""

from __future__ import annotations

import os

import torch
import triton
import triton.language as tl
from triton.language.extra import libdevice

# libdevice's log is correctly rounded to within an ulp in float64; Triton's CPU interpreter
# (tests only) has no libdevice and computes tl.log in numpy's float64 instead.
if os.environ.get("TRITON_INTERPRET") == "1":
    @triton.jit
    def _log(x):
        return tl.log(x)
else:
    @triton.jit
    def _log(x):
        return libdevice.log(x)


@triton.jit
def _mix(u, v):
    y = (u & 0x80000000) | (v & 0x7FFFFFFF)
    return (y >> 1) ^ ((v & 1) * 0x9908B0DF)


@triton.jit
def _temper(y):
    y = y ^ (y >> 11)
    y = y ^ ((y << 7) & 0x9D2C5680)
    y = y ^ ((y << 15) & 0xEFC60000)
    return y ^ (y >> 18)


@triton.jit
def _twist(cur, nxt):
    lane = tl.arange(0, 256)
    part = lane < 227  # words 0..226 read only the old block
    u = tl.load(cur + lane, mask=part, other=0)
    v = tl.load(cur + lane + 1, mask=part, other=0)
    s = tl.load(cur + lane + 397, mask=part, other=0)
    tl.store(nxt + lane, s ^ _mix(u, v), mask=part)
    tl.debug_barrier()
    k = lane + 227  # words 227..453 read new words 0..226
    u = tl.load(cur + k, mask=part, other=0)
    v = tl.load(cur + k + 1, mask=part, other=0)
    s = tl.load(nxt + k - 227, mask=part, other=0)
    tl.store(nxt + k, s ^ _mix(u, v), mask=part)
    tl.debug_barrier()
    k = lane + 454  # words 454..623 read new words 227..396 (and 623 the new word 0)
    part = lane < 170
    u = tl.load(cur + k, mask=part, other=0)
    v = tl.load(cur + k + 1, mask=part & (k < 623), other=0)
    v = tl.where(k == 623, tl.load(nxt), v)
    s = tl.load(nxt + k - 227, mask=part, other=0)
    tl.store(nxt + k, s ^ _mix(u, v), mask=part)
    tl.debug_barrier()


@triton.jit
def _gumbel_argmax_kernel(scores, stride, vocab, state, positions, out):
    row = tl.program_id(0)
    base = state + row * 1248
    pos = tl.load(positions + row).to(tl.int32)
    parity = pos * 0
    done = pos * 0
    best = tl.full((), float("-inf"), tl.float32)
    best_i = pos * 0
    lane = tl.arange(0, 512)
    while done < vocab:
        if pos == 624:
            _twist(base + parity * 624, base + (1 - parity) * 624)
            parity = 1 - parity
            pos = pos * 0
        n = tl.minimum((624 - pos) // 2, vocab - done)
        live = lane < n
        cur = base + parity * 624 + pos
        hi = _temper(tl.load(cur + 2 * lane, mask=live, other=0))
        lo = _temper(tl.load(cur + 2 * lane + 1, mask=live, other=0))
        u = (((hi & 0x1FFFFF) << 32) | lo).to(tl.float64) * (2.0 ** -53)
        u = tl.maximum(u, 1e-300)
        noise = (-_log(-_log(u))).to(tl.float32)
        s = tl.load(scores + row * stride + done + lane, mask=live, other=float("-inf"))
        value = tl.where(live, s + noise, float("-inf"))
        block_best = tl.max(value, axis=0)
        block_i = tl.argmax(value, axis=0)
        better = block_best > best
        best_i = tl.where(better, done + block_i, best_i)
        best = tl.where(better, block_best, best)
        done += n
        pos += 2 * n
    if parity == 1:  # leave the current block in buffer 0 for the next step
        word = tl.arange(0, 1024)
        keep = word < 624
        tl.store(base + word, tl.load(base + 624 + word, mask=keep, other=0), mask=keep)
    tl.store(positions + row, pos.to(tl.int64))
    tl.store(out + row, best_i.to(tl.int64))


def gumbel_argmax(scores: torch.Tensor, state: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """``argmax(scores + gumbel(u))`` per row, advancing each row's stream by ``V`` doubles.

    Args:
        scores: ``[rows, V]`` float32.
        state: ``[rows, 2, 624]`` int64 (buffer 0 current); positions: ``[rows]`` int64.
    """
    scores = scores.contiguous()
    out = torch.empty(scores.shape[0], dtype=torch.int64, device=scores.device)
    _gumbel_argmax_kernel[(scores.shape[0],)](scores, scores.stride(0), scores.shape[1], state,
                                              positions, out, num_warps=8)
    return out
