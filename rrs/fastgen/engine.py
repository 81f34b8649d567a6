"""The decoding loop: length-sorted batches, prefill, then one CUDA-graph replay per token.

A batch's state lives in static buffers (the graphs read and write them in place): the last
token of each row, the cache column being written, each row's left padding, which rows have
finished, the tokens so far and, when sampling, each row's random stream. Token choice is
greedy argmax, or ``rrs.sampling``'s Gumbel-max over per-row streams (``RowStreams``), with
temperature and top-p applied as ``RowGumbel`` applies them. A row that emits an end token
gets the pad token from then on (as ``model.generate`` does); the loop stops when every row
has finished (checked every ``CHECK_EVERY`` steps, a host sync) or at ``max_new_tokens``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Sequence

import torch

from rrs.fastgen.decoder import StaticDecoder
from rrs.fastgen.layers import rope_varies_with_length
from rrs.fastgen.rowrng import RowStreams, seed_states
from rrs.fastgen.rowrng import _kernel as rowrng_kernel

CHECK_EVERY = 16  # decode steps between checks that every row has finished (a host sync)


@dataclass(frozen=True)
class Decoding:
    max_new_tokens: int
    eos: tuple[int, ...]
    pad: int
    temperature: float = 0.0  # 0 = greedy
    top_p: float = 1.0


class _Batch:
    """Static buffers of one batch size (graphs captured for it read and write them)."""

    def __init__(self, rows: int, max_new: int, eos: Sequence[int], device, sampling: bool):
        self.tok = torch.zeros(rows, dtype=torch.long, device=device)
        self.col = torch.zeros(1, dtype=torch.long, device=device)  # cache column of `tok`
        self.start = torch.zeros(1, dtype=torch.long, device=device)  # prompt width P
        self.pad = torch.zeros(rows, dtype=torch.long, device=device)
        self.done = torch.zeros(rows, dtype=torch.bool, device=device)
        self.out = torch.zeros(rows, max_new, dtype=torch.long, device=device)
        self.eos = torch.tensor(list(eos), dtype=torch.long, device=device)
        self.streams = RowStreams([0] * rows, device) if sampling else None


class Engine:
    """Generates for many prompts with one cache and one set of graphs.

    Args:
        model: a model the fast path supports (``rrs.fastgen.layers.unsupported_reason``).
        max_batch, max_len: the cache's rows and columns (prompt + new tokens).
        graphs: capture each decode step in a CUDA graph (CUDA only).
        fused: Triton kernels for norms, rotary and SiLU (CUDA with Triton only).
    """

    def __init__(self, model, decoding: Decoding, max_batch: int, max_len: int,
                 kv_bucket: int = 128, graphs: bool = True, fused: bool = True,
                 **decoder_options):
        self.dec = StaticDecoder(model, max_batch, max_len, kv_bucket, fused, **decoder_options)
        self.d = decoding
        # sampling inside a graph needs the device-side streams (the Triton kernel); Phi-3's
        # long-context rope picks its frequencies on the host from the position
        self.graphs_on = (graphs and self.dec.device.type == "cuda"
                          and (decoding.temperature <= 0 or rowrng_kernel() is not None)
                          and not rope_varies_with_length(model))
        self.batches: dict[int, _Batch] = {}
        self.graphs: dict[tuple[int, int], torch.cuda.CUDAGraph] = {}
        self.pool = None
        self.times: dict | None = None  # set to {} to time the next batches (CUDA events)

    # --- token choice -------------------------------------------------------------------
    def _choose(self, buf: _Batch, logits: torch.Tensor) -> torch.Tensor:
        if self.d.temperature <= 0:
            return logits.argmax(dim=-1)
        scores = logits.float() / self.d.temperature
        if self.d.top_p < 1.0:  # RowGumbel's top-p: drop the tail beyond cumulative top_p
            ordered, order = scores.sort(dim=-1, descending=True)
            probs = ordered.softmax(-1)
            drop = (probs.cumsum(-1) - probs) >= self.d.top_p
            scores = scores.masked_fill(drop.scatter(-1, order, drop), float("-inf"))
        return buf.streams.gumbel_argmax(scores)

    def _emit(self, buf: _Batch, logits: torch.Tensor) -> None:
        nxt = torch.where(buf.done, self.d.pad, self._choose(buf, logits))
        buf.out.index_copy_(1, buf.col - buf.start, nxt[:, None])
        buf.done |= (nxt[:, None] == buf.eos[None, :]).any(dim=1)
        buf.tok.copy_(nxt)

    def _step(self, buf: _Batch, length: int) -> None:
        logits = self.dec.step(buf.tok, buf.col, buf.pad, length)
        buf.col += 1
        self._emit(buf, logits)

    # --- graphs -------------------------------------------------------------------------
    def _capture(self, rows: int, buf: _Batch, length: int) -> None:
        """Record one decode step reading ``length`` cache columns. The warm-up runs write
        into the buffers and cache, so capture happens before a batch's prefill."""
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):
            for _ in range(2):  # compiles kernels and sets up cuBLAS outside the capture
                buf.col.zero_()
                buf.start.zero_()
                self._step(buf, length)
        torch.cuda.current_stream().wait_stream(stream)
        buf.col.zero_()
        buf.start.zero_()
        if self.pool is None:
            self.pool = torch.cuda.graph_pool_handle()
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph, pool=self.pool):
            self._step(buf, length)
        self.graphs[rows, length] = graph

    # --- one batch ----------------------------------------------------------------------
    def prepare(self, rows: int, width: int) -> tuple[_Batch, list[int]]:
        """Buffers for ``rows`` rows and the graphs a batch of prompt width ``width`` replays
        (captured on first need); returns the buffers and each decode step's KV length."""
        new = self.d.max_new_tokens
        if rows not in self.batches:
            self.batches[rows] = _Batch(rows, new, self.d.eos, self.dec.device,
                                        self.d.temperature > 0)
        buf = self.batches[rows]
        lengths = [self.dec.bucket_of(width + i) for i in range(1, new)]
        if self.graphs_on:
            try:
                for length in dict.fromkeys(lengths):
                    if (rows, length) not in self.graphs:
                        self._capture(rows, buf, length)
            except RuntimeError as err:  # e.g. a module that syncs with the host: run eagerly
                warnings.warn(f"rrs.fastgen: decoding without CUDA graphs ({err})")
                self.graphs_on, self.graphs = False, {}
        return buf, lengths

    @torch.no_grad()
    def run(self, prompts: Sequence[Sequence[int]], seeds: Sequence[int] | None = None
            ) -> list[list[int]]:
        """New tokens for each prompt (token ids), up to and including its end token."""
        rows, width = len(prompts), max(len(p) for p in prompts)
        buf, lengths = self.prepare(rows, width)
        dev = self.dec.device
        ids = torch.full((rows, width), self.d.pad, dtype=torch.long)
        for r, p in enumerate(prompts):
            ids[r, width - len(p):] = torch.tensor(list(p), dtype=torch.long)
        buf.pad.copy_(torch.tensor([width - len(p) for p in prompts]))
        buf.done.zero_()
        buf.out.fill_(self.d.pad)
        buf.col.fill_(width)
        buf.start.fill_(width)
        if buf.streams is not None:
            buf.streams.state.zero_()
            buf.streams.state[:, 0] = torch.from_numpy(seed_states(seeds)).to(dev)
            buf.streams.pos.fill_(624)
            buf.streams._pos = 624
        events = [torch.cuda.Event(enable_timing=True) for _ in range(3)] \
            if self.times is not None and dev.type == "cuda" else None
        if events:
            events[0].record()
        self._emit(buf, self.dec.prefill(ids.to(dev), buf.pad))
        if events:
            events[1].record()
        steps = 0
        for steps, length in enumerate(lengths, start=1):
            if self.graphs_on:
                self.graphs[rows, length].replay()
            else:
                self._step(buf, length)
            if steps % CHECK_EVERY == 0 and bool(buf.done.all()):
                break
        if events:
            events[2].record()
            events[2].synchronize()
            self.times.update(prefill_ms=events[0].elapsed_time(events[1]),
                              decode_ms=events[1].elapsed_time(events[2]), decode_steps=steps)
        out = buf.out.cpu().tolist()
        eos = set(self.d.eos)
        result = []
        for row in out:
            end = next((j for j, t in enumerate(row) if t in eos), None)
            result.append(row if end is None else row[:end + 1])
        return result


def generate_ids(model, prompts: Sequence[Sequence[int]], decoding: Decoding, batch_size: int,
                 seeds: Sequence[int] | None = None, kv_bucket: int = 128, graphs: bool = True,
                 progress=None, **options) -> list[list[int]]:
    """New token ids for every prompt, in the prompts' order.

    Prompts are answered longest first in batches of ``batch_size``, so a batch holds
    prompts of similar length (little padding) and the first batch sizes the cache.

    Args:
        seeds: one stream seed per prompt when sampling (``decoding.temperature > 0``).
        progress: wraps the batch iterator (e.g. ``rrs.progress.progress``), or None.
        options: passed to :class:`Engine` (``fused``, ``decode_attention``).
    """
    if decoding.temperature > 0 and (seeds is None or len(seeds) != len(prompts)):
        raise ValueError("sampling needs one seed per prompt")
    if not prompts:
        return []
    order = sorted(range(len(prompts)), key=lambda i: -len(prompts[i]))
    width = len(prompts[order[0]])
    engine = Engine(model, decoding, min(batch_size, len(prompts)),
                    width + decoding.max_new_tokens, kv_bucket, graphs, **options)
    out: list[list[int] | None] = [None] * len(prompts)
    starts = range(0, len(order), batch_size)
    for start in (progress(starts) if progress else starts):
        idx = order[start:start + batch_size]
        got = engine.run([prompts[i] for i in idx], [seeds[i] for i in idx] if seeds else None)
        for i, tokens in zip(idx, got):
            out[i] = tokens
    return out
