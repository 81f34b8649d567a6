"""``rrs.sampling``'s per-row random streams, drawn on the GPU.

``rrs.sampling.RowGumbel`` gives row ``i`` a ``torch.Generator().manual_seed(seeds[i])`` on
the CPU and draws ``torch.rand(V, dtype=float64)`` from it at every step. That generator is
MT19937 (state seeded from the seed's low 32 bits); a float64 takes two 32-bit outputs, the
first as the high word, and keeps their low 53 bits: ``u = (((hi << 32) | lo) & (2^53 - 1))
/ 2^53``. :class:`RowStreams` keeps each row's MT19937 state on the device and produces the
same numbers, so the fast path samples the very tokens the CPU streams would pick (given the
same scores), and a row's answer still depends only on its (prompt, seed).

Two implementations of one step: :meth:`RowStreams.gumbel_argmax_reference` (tensor ops; any
device; what the CPU test checks against ``RowGumbel``) and a Triton kernel for CUDA (one
program per row: twist the state 624 words at a time, temper, form the doubles, add
``-log(-log u)`` to the scores and keep the running argmax, without writing the noise out).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

N, M = 624, 397  # MT19937 state words; the twist's offset
MATRIX_A, UPPER, LOWER = 0x9908B0DF, 0x80000000, 0x7FFFFFFF
LOW53 = (1 << 53) - 1


def seed_states(seeds: Sequence[int]) -> np.ndarray:
    """MT19937 states ``[rows, 624]`` (uint32 values in int64) as ``manual_seed`` sets them."""
    state = np.zeros((len(seeds), N), dtype=np.uint64)
    state[:, 0] = [s & 0xFFFFFFFF for s in seeds]
    for j in range(1, N):
        prev = state[:, j - 1]
        state[:, j] = (np.uint64(1812433253) * (prev ^ (prev >> np.uint64(30))) + np.uint64(j)) \
            & np.uint64(0xFFFFFFFF)
    return state.astype(np.int64)


def _mix(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    y = (u & UPPER) | (v & LOWER)
    return (y >> 1) ^ ((v & 1) * MATRIX_A)


def twist(mt: torch.Tensor) -> torch.Tensor:
    """The next 624-word block of every row (``mt [rows, 624]``), in three dependent parts."""
    new = torch.empty_like(mt)
    new[:, :227] = mt[:, 397:] ^ _mix(mt[:, :227], mt[:, 1:228])
    new[:, 227:454] = new[:, :227] ^ _mix(mt[:, 227:454], mt[:, 228:455])
    following = torch.cat([mt[:, 455:], new[:, :1]], dim=1)  # word 623 wraps to the new word 0
    new[:, 454:] = new[:, 227:397] ^ _mix(mt[:, 454:], following)
    return new


def temper(y: torch.Tensor) -> torch.Tensor:
    y = y ^ (y >> 11)
    y = y ^ ((y << 7) & 0x9D2C5680)
    y = y ^ ((y << 15) & 0xEFC60000)
    return y ^ (y >> 18)


def gumbel(u: torch.Tensor) -> torch.Tensor:
    """``RowGumbel``'s noise from its uniforms (float64), clamp included."""
    return -torch.log(-torch.log(u.clamp(1e-300, 1.0 - 1e-16)))


class RowStreams:
    """One MT19937 stream per row, advanced by ``V`` float64 draws per decoding step.

    Args:
        seeds: one seed per row (``rrs.sampling.row_seed``).
    """

    def __init__(self, seeds: Sequence[int], device: torch.device | str):
        rows = len(seeds)
        self.state = torch.zeros(rows, 2, N, dtype=torch.int64, device=device)
        self.state[:, 0] = torch.from_numpy(seed_states(seeds)).to(device)
        # words of the current block already used; 624 = used up (the first draw twists)
        self.pos = torch.full((rows,), N, dtype=torch.int64, device=device)
        self._pos = N  # host copy for the reference path (rows always advance together)

    def uniforms(self, n: int) -> torch.Tensor:
        """The next ``n`` float64 uniforms of every row, ``[rows, n]`` (reference path)."""
        need, pos, cur, parts = 2 * n, self._pos, self.state[:, 0], []
        while need:
            if pos == N:
                cur, pos = twist(cur), 0
            take = min(N - pos, need)
            parts.append(cur[:, pos:pos + take])
            pos, need = pos + take, need - take
        words = temper(torch.cat(parts, dim=1))  # before the state below overwrites the views
        self.state[:, 0] = cur
        self._pos = pos
        self.pos.fill_(pos)
        value = ((words[:, 0::2] & (LOW53 >> 32)) << 32) | words[:, 1::2]
        return value.to(torch.float64) * 2.0 ** -53

    def gumbel_argmax_reference(self, scores: torch.Tensor) -> torch.Tensor:
        """``argmax(scores + gumbel)`` per row, as ``RowGumbel`` then greedy computes it."""
        noise = gumbel(self.uniforms(scores.shape[-1]))
        return (scores + noise.to(scores.dtype)).argmax(dim=-1)

    def gumbel_argmax(self, scores: torch.Tensor) -> torch.Tensor:
        """The same as the reference; on CUDA with Triton, one fused kernel (graph-safe: the
        stream positions live on the device)."""
        if scores.is_cuda and _kernel() is not None:
            return _kernel()(scores, self.state, self.pos)
        return self.gumbel_argmax_reference(scores)


_KERNEL = None


def _kernel():
    """The Triton implementation, built on first use (None where Triton is missing)."""
    global _KERNEL
    if _KERNEL is None:
        try:
            from rrs.fastgen.rowrng_triton import gumbel_argmax
        except ImportError:
            _KERNEL = False
        else:
            _KERNEL = gumbel_argmax
    return _KERNEL or None
