"""Stage ``generate@<model>``: answers of one model at every attack budget.

Budget 0 is the model itself; every other budget is the model with the adapter saved at that
step. Harmful and benign prompts are answered alike, in batches, with left padding and the
decoding settings of params ``generate``.

In:  the model directory, its adapters, the harmful and benign evaluation sets.
Out: one CSV of records keyed by prompt id, each carrying model, budget, adapter, set,
     decoding config, seed and token counts (input, generated: the attacker-compute axis).
Run: ``rrs generate --model org-s --adapters adapters/org-s --harmful data/prompts/harmful_eval.csv
     --benign data/prompts/benign_eval.csv --out generations/org-s.csv``
     With two or more GPUs visible the command runs once per GPU (``rrs.distributed``).
"""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd

from rrs import distributed
from rrs.attack import adapter_steps
from rrs.config import GenerateParams, models, section
from rrs.generate import generate
from rrs.io import read_table, write_csv
from rrs.models import load_model, load_tokenizer, param_count
from rrs.safety import SYNTHETIC
from stages.common import params_option, read_params, setup_torch


def read_prompts(path: Path) -> pd.DataFrame:
    """``id, category, prompt, prompt_source``: a benchmark set names its ``source``
    (``prompts@<set>``); the project's own redacted files have none and are ``synthetic``."""
    table = read_table(path, required=("id", "category", "prompt"))
    source = table["source"] if "source" in table else SYNTHETIC
    return table[["id", "category", "prompt"]].assign(prompt_source=source)


def prompt_sets(harmful: Path, benign: Path) -> pd.DataFrame:
    return pd.concat([read_prompts(path).assign(set=name)
                      for name, path in (("harmful", harmful), ("benign", benign))],
                     ignore_index=True)


@click.command("generate")
@click.option("--model", "alias", required=True, help="Model alias in params.yaml `models`.")
@click.option("--adapters", type=click.Path(exists=True, file_okay=False, path_type=Path),
              required=True)
@click.option("--harmful", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--benign", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--out", type=click.Path(path_type=Path), required=True)
@params_option
def cli(alias: str, adapters: Path, harmful: Path, benign: Path, out: Path,
        params_path: Path) -> None:
    """Generate answers at budget 0 and at every saved adapter."""
    from peft import PeftModel  # here, not at the top: other stages import this module's helpers

    distributed.relaunch()
    params = read_params(params_path)
    entry = models(params)[alias]
    cfg = section(params, "generate", GenerateParams)
    setup_torch(cfg.threads)
    prompts = prompt_sets(harmful, benign)
    tokenizer = load_tokenizer(entry)
    base = load_model(entry, load_in_4bit=cfg.load_in_4bit)
    n_params = param_count(entry, base)
    frames = []
    for steps in [0, *adapter_steps(adapters)]:
        adapter = "" if steps == 0 else str(adapters / f"step-{steps:05d}")
        model = base if steps == 0 else PeftModel.from_pretrained(base, adapter)
        counts: list = []
        answers = generate(model, tokenizer, list(prompts["prompt"]), cfg,
                           system_prompt=entry.system_prompt, desc=f"{alias} @ {steps}",
                           token_counts=counts)
        if steps:
            base = model.unload()  # drop the adapter, keep the base weights untouched
        frames.append(prompts.assign(
            model=alias, model_source=entry.source, params=n_params, steps=steps, adapter=adapter,
            temperature=cfg.temperature, top_p=cfg.top_p, max_new_tokens=cfg.max_new_tokens,
            seed=cfg.seed, load_in_4bit=cfg.load_in_4bit, response=answers,
            n_input_tokens=[c[0] for c in counts], n_generated_tokens=[c[1] for c in counts]))
    columns = ["model", "model_source", "params", "steps", "adapter", "set", "id", "category",
               "prompt_source", "prompt", "temperature", "top_p", "max_new_tokens", "seed",
               "load_in_4bit", "response", "n_input_tokens", "n_generated_tokens"]
    if distributed.is_main():
        write_csv(out, pd.concat(frames, ignore_index=True)[columns])
