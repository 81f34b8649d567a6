"""Stage ``prompts@<set>``: a public benchmark's harmful requests, selected, as a DVC output.

The requests are read at run time from the pinned source file (:mod:`rrs.prompt_sets`) and
written where git never sees them (``data/benchmarks/<set>.csv`` is a DVC output); the
committed manifest keeps only ids, categories and a hash of each prompt.

In:  params ``benchmarks.<set>`` (and the installed benchmark package or the named file).
Out: ``data/benchmarks/<set>.csv`` (``id, category, prompt, source``) and
     ``metrics/prompts/<set>.json`` (provenance, file sha256, ids, prompt hashes).
Run: ``rrs prompts --set harmbench --out data/benchmarks/harmbench.csv
     --manifest metrics/prompts/harmbench.json``
"""

from __future__ import annotations

from pathlib import Path

import click

from rrs.config import benchmarks
from rrs.io import InputError, write_csv, write_json
from rrs.prompt_sets import build
from stages.common import params_option, read_params


@click.command("prompts")
@click.option("--set", "name", required=True, help="Set name in params.yaml `benchmarks`.")
@click.option("--out", type=click.Path(path_type=Path), required=True)
@click.option("--manifest", type=click.Path(path_type=Path), required=True)
@params_option
def cli(name: str, out: Path, manifest: Path, params_path: Path) -> None:
    """Select a benchmark prompt set into a DVC output; commit only its manifest."""
    specs = benchmarks(read_params(params_path))
    if name not in specs:
        raise click.BadParameter(f"no benchmarks.{name} in {params_path} "
                                 f"(has: {', '.join(specs) or 'none'})")
    try:
        frame, record = build(name, specs[name])
    except InputError as err:
        raise click.ClickException(str(err)) from None
    write_csv(out, frame)
    write_json(manifest, record)
