"""The stability sweep: which decoding configs to sample, and a resumable chunk runner.

Resume scratch, not a cache: each finished config (one model variant x temperature x seed)
is written atomically to ``<partial>/<key>.csv``, where ``key`` hashes the full config (model
directory contents, adapter contents, temperature, seed, max_new_tokens, top_p, system prompt,
prompt-set contents). A run killed mid-sweep finds its finished chunks and samples only the
rest; any change of config changes the key, so stale work is never picked up. The stage
deletes its chunks after writing its output, so nothing outlives a successful run: deciding
*whether* a stage must run stays DVC's job; this only avoids redoing a killed run's work.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import pandas as pd

from rrs.io import write_csv


@dataclass(frozen=True)
class Config:
    """One sampled config. ``seed`` labels the rows; ``source_seed`` is the seed sampled.

    At temperature 0 (greedy) the answer does not depend on the seed, so every seed's rows
    reuse the answers sampled once under the first seed (``reused_greedy`` True).
    """
    temperature: float
    seed: int
    source_seed: int

    @property
    def reused_greedy(self) -> bool:
        return self.temperature == 0.0


def plan(temperatures: Sequence[float], seeds: Sequence[int]) -> list[Config]:
    """Every temperature x seed, temperature-major; greedy rows point at the first seed."""
    return [Config(float(t), s, seeds[0] if t == 0 else s) for t in temperatures for s in seeds]


def to_sample(configs: Sequence[Config]) -> list[tuple[float, int]]:
    """The distinct (temperature, source_seed) pairs that must actually be generated."""
    return list(dict.fromkeys((c.temperature, c.source_seed) for c in configs))


def _sha256(chunks) -> str:
    h = hashlib.sha256()
    for chunk in chunks:
        h.update(chunk)
    return h.hexdigest()


def tree_hash(folder: str | os.PathLike | None) -> str:
    """SHA-256 over every file's relative path and bytes under ``folder`` ("" for None)."""
    if folder is None:
        return ""
    root = Path(folder)
    files = sorted(p for p in root.rglob("*") if p.is_file())
    return _sha256(part for p in files
                   for part in (str(p.relative_to(root)).encode(), b"\0", p.read_bytes(), b"\0"))


def frame_hash(frame: pd.DataFrame) -> str:
    """SHA-256 of a frame's CSV text (the prompt set: ids, categories, prompts)."""
    return _sha256([frame.to_csv(index=False, lineterminator="\n").encode()])


def config_key(**fields) -> str:
    """16 hex digits of the SHA-256 of the fields as sorted JSON (the chunk file name)."""
    return _sha256([json.dumps(fields, sort_keys=True).encode()])[:16]


def run_chunks(jobs: Sequence[tuple[str, Callable[[], pd.DataFrame]]], partial: Path,
               on_skip: Callable[[str], None] | None = None) -> dict[str, pd.DataFrame]:
    """Run each ``(key, make_frame)`` job unless ``<partial>/<key>.csv`` exists; assemble.

    Every chunk, fresh or resumed, is read back from its file as text, so the assembled
    frame is the same whether or not the run was interrupted.

    Returns:
        key -> that chunk's frame (all columns as strings), in job order.
    """
    for key, make in jobs:
        path = partial / f"{key}.csv"
        if path.is_file():
            if on_skip:
                on_skip(key)
            continue
        write_csv(path, make())  # atomic: a killed run leaves no half-written chunk
    return {key: pd.read_csv(io.StringIO((partial / f"{key}.csv").read_text(encoding="utf-8")),
                             dtype=str, keep_default_na=False) for key, _ in jobs}


def clear_chunks(keys: Sequence[str], partial: Path) -> None:
    """Delete this run's chunk files, and ``partial`` itself once it is empty."""
    for key in keys:
        (partial / f"{key}.csv").unlink(missing_ok=True)
        for stale in partial.glob(f".{key}.csv.*"):  # a write killed before its rename
            stale.unlink(missing_ok=True)
    if partial.is_dir() and not any(partial.iterdir()):
        partial.rmdir()
