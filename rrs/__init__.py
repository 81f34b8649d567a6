"""Refusal-robustness scaling (rrs): library code behind the DVC stages.

Compute lives here (pure functions, unit-tested); ``stages/`` loads, calls and writes.
"""

__version__ = "0.1.0"

import logging as _logging
import os as _os
import sys as _sys

# Progress bars show on a terminal and stay quiet in logs and CI (see rrs.progress); this
# extends that to the Hugging Face libraries' own bars ("Loading weights"), read at import.
if not _sys.stderr.isatty():
    _os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

# On CPUs with AVX512-BF16, bitsandbytes tries to fetch an optional faster 4-bit kernel from
# the Hugging Face hub and logs a warning when it can't (always, offline). Its own CPU kernels
# then run: the warning says nothing about this pipeline's results.
_logging.getLogger("bitsandbytes.backends.cpu.ops").setLevel(_logging.ERROR)
