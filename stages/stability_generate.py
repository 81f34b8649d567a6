"""Stage ``stability_generate@<model>``: harmful-set answers under every temperature x seed.

The model answers at budget 0 and, attacked, with the adapter saved at params
``stability.attacked_steps`` (0 = baseline only). Greedy decoding (temperature 0) does not
depend on the seed, so it is sampled once and its answers are reused for every seed (rows
flagged ``reused_greedy``). All seeds of one temperature run as one batch of repeated prompts,
each row with its own random stream (:mod:`rrs.sampling`), so a (prompt, seed) answer does not
depend on its batch. Each finished (variant, temperature) chunk goes to a resume scratch folder
(see :mod:`rrs.sweep`) that is deleted at the end.

In:  the model directory, its adapters, the harmful evaluation set; params ``stability``,
     ``generate`` (4-bit loading), ``models.<model>``.
Out: ``stability/<model>.csv``, one record per variant x prompt x temperature x seed.
Run: ``rrs stability-generate --model org-s --adapters adapters/org-s
     --harmful data/prompts/harmful_eval.csv --out stability/org-s.csv``
     With two or more GPUs visible the command runs once per GPU (``rrs.distributed``): every
     process computes every chunk's share and writes the same chunk file; only the main
     process writes the output and clears the chunks.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click
import pandas as pd

from rrs import distributed
from rrs.config import GenerateParams, StabilityParams, models, section, stability_models
from rrs.io import write_csv
from rrs.models import load_model, load_tokenizer, param_count
from rrs.sampling import row_seed, sample_rows
from rrs.sweep import clear_chunks, config_key, frame_hash, plan, run_chunks, to_sample, tree_hash
from stages.common import params_option, read_params, setup_torch
from stages.generate import read_prompts

COLUMNS = ["model", "model_source", "params", "steps", "adapter", "id", "category",
           "prompt_source", "prompt", "temperature",
           "seed", "source_seed", "reused_greedy", "top_p", "max_new_tokens", "response"]


class Variants:
    """Loads the base once, and wraps it with the adapter on first use (base jobs first)."""

    def __init__(self, entry, load_in_4bit: bool):
        self.entry, self.load_in_4bit = entry, load_in_4bit
        self.model = self.tokenizer = self.adapter = self.n_params = None

    def get(self, adapter: str):
        if self.model is None:
            self.tokenizer = load_tokenizer(self.entry)
            self.model, self.adapter = load_model(self.entry, self.load_in_4bit), ""
            self.n_params = param_count(self.entry, self.model)  # before any adapter
        if adapter != self.adapter:
            from peft import PeftModel
            assert self.adapter == "", "baseline jobs must run before attacked ones"
            self.model, self.adapter = PeftModel.from_pretrained(self.model, adapter), adapter
        return self.model, self.tokenizer


@click.command("stability-generate")
@click.option("--model", "alias", required=True, help="Model alias in params.yaml `models`.")
@click.option("--adapters", type=click.Path(exists=True, file_okay=False, path_type=Path),
              required=True)
@click.option("--harmful", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--out", type=click.Path(path_type=Path), required=True)
@click.option("--partial", type=click.Path(path_type=Path), default=None,
              help="Resume scratch folder [default: <out dir>/.partial].")
@params_option
def cli(alias: str, adapters: Path, harmful: Path, out: Path, partial: Path | None,
        params_path: Path) -> None:
    """Sample the harmful set under every temperature x seed, resumably."""
    distributed.relaunch()
    params = read_params(params_path)
    if alias not in stability_models(params):
        raise click.BadParameter(f"{alias!r} is not in params `stability_models`")
    entry = models(params)[alias]
    cfg = section(params, "stability", StabilityParams)
    gen = dataclasses.replace(section(params, "generate", GenerateParams), top_p=cfg.top_p,
                              max_new_tokens=cfg.max_new_tokens, batch_size=cfg.batch_size)
    setup_torch(cfg.threads)
    partial = partial or out.parent / ".partial"
    prompts = read_prompts(harmful)
    variants = [(0, "")] + ([(cfg.attacked_steps, str(adapters / f"step-{cfg.attacked_steps:05d}"))]
                            if cfg.attacked_steps else [])
    loader = Variants(entry, gen.load_in_4bit)
    base_tree, prompt_tree = tree_hash(entry.path), frame_hash(prompts)
    configs = plan(cfg.temperatures, cfg.seeds)
    temps = list(dict.fromkeys(t for t, _ in to_sample(configs)))
    jobs, keys = [], {}
    for steps, adapter in variants:
        if adapter and not Path(adapter).is_dir():
            raise click.UsageError(f"no adapter {adapter}: stability.attacked_steps must be a "
                                   "budget the attack saved (attack.eval_every multiple)")
        adapter_tree = tree_hash(adapter or None)
        for temperature in temps:
            seeds = [s for t, s in to_sample(configs) if t == temperature]
            key = config_key(model=alias, model_tree=base_tree, steps=steps, adapter_tree=adapter_tree,
                             temperature=temperature, seeds=seeds, max_new_tokens=gen.max_new_tokens,
                             top_p=gen.top_p, batch_size=gen.batch_size, threads=cfg.threads,
                             load_in_4bit=gen.load_in_4bit, fast_path=gen.fast_path,
                             system_prompt=entry.system_prompt,
                             prompts=prompt_tree)
            keys[steps, temperature] = key

            def make(steps=steps, adapter=adapter, temperature=temperature, seeds=seeds):
                model, tokenizer = loader.get(adapter)
                rows = pd.concat([prompts.assign(source_seed=s) for s in seeds], ignore_index=True)
                answers = sample_rows(model, tokenizer, list(rows["prompt"]),
                                      [row_seed(s, i) for s, i in zip(rows["source_seed"], rows["id"])],
                                      gen, temperature, system_prompt=entry.system_prompt,
                                      desc=f"{alias} @ {steps}, T={temperature}")
                return rows.assign(steps=steps, adapter=adapter, temperature=temperature,
                                   response=answers)
            jobs.append((key, make))
    chunks = run_chunks(jobs, partial, on_skip=lambda k: click.echo(f"resumed chunk {k}"))
    if loader.n_params is None:  # every chunk was resumed: load the base to count it
        loader.get("")
    n_params = loader.n_params
    frames = []
    for steps, _ in variants:
        for c in configs:
            chunk = chunks[keys[steps, c.temperature]]
            frames.append(chunk[chunk["source_seed"] == str(c.source_seed)].assign(
                model=alias, model_source=entry.source, params=n_params, seed=c.seed,
                reused_greedy=c.reused_greedy,
                top_p=gen.top_p, max_new_tokens=gen.max_new_tokens))
    distributed.barrier()  # every process has read the chunks back before they go
    if distributed.is_main():
        write_csv(out, pd.concat(frames, ignore_index=True)[COLUMNS])
        clear_chunks(list(keys.values()), partial)
