"""Progress bars that show on a terminal and stay quiet in logs and CI.

Set ``RRS_TIMINGS=<file>`` and every loop shown through :func:`progress` (attack steps,
generation batches, organism training) also appends one JSON line to that file when it ends:
its ``desc``, ``unit``, the wall seconds of each item and, on CUDA, the peak GPU memory
reserved so far. Benchmarks and the GPU run read it; no pipeline output depends on it, so
timings never enter a metrics file (reruns stay byte-identical).
"""

from __future__ import annotations

import json
import os
import sys
import time

from tqdm.auto import tqdm

TIMINGS_ENV = "RRS_TIMINGS"


def _timed(iterable, desc: str | None, unit: str | None, path: str):
    seconds, last = [], time.perf_counter()
    for item in iterable:
        yield item
        now = time.perf_counter()
        seconds.append(round(now - last, 6))
        last = now
    record = {"desc": desc, "unit": unit, "n": len(seconds), "seconds": seconds,
              "pid": os.getpid()}
    try:
        import torch
        if torch.cuda.is_available():
            record["peak_gpu_gib"] = round(torch.cuda.max_memory_reserved() / 2**30, 3)
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + "\n")


def progress(iterable=None, **kwargs):
    """A tqdm bar, disabled when stderr is not a terminal; timed when ``RRS_TIMINGS`` is set."""
    kwargs.setdefault("disable", not sys.stderr.isatty())
    kwargs.setdefault("dynamic_ncols", True)
    kwargs.setdefault("leave", False)
    path = os.environ.get(TIMINGS_ENV)
    if path and iterable is not None:
        iterable = _timed(iterable, kwargs.get("desc"), kwargs.get("unit"), path)
    return tqdm(iterable, **kwargs)
