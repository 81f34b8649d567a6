"""Stage ``<attack>@<model>`` for each prompt attack: the attacked conversations of one model.

Runs one attack of the registry (:mod:`rrs.attacks`) over its whole budget grid
(``prompt_attacks.<attack>``) on the harmful evaluation prompts (best-of-N also on the benign
controls), decoding as params ``generate`` says (best-of-N samples at its own temperature).
Judging is a later stage (``judge_attacks``).

In:  the model directory, the evaluation prompts, the attack pairs; params
     ``prompt_attacks.<attack>``, ``generate``, ``models.<model>``.
Out: ``attacks/<attack>/<model>.csv``, one record per answered query keyed by
     (model, attack, budget, sample, set, id), with the decoding config, token counts and the
     text the judge sees (``response``); and ``metrics/attacks/runs/<attack>/<model>.json``
     (the attack's own FLOPs per budget, the model's shape, whether the attack applies).
Run: ``rrs prompt-attack --attack prefill --model org-s --harmful data/prompts/harmful_eval.csv
     --benign data/prompts/benign_eval.csv --pairs data/train/attack_pairs.csv
     --out attacks/prefill/org-s.csv --record metrics/attacks/runs/prefill/org-s.json``
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click
import pandas as pd

from rrs.attacks import get_attack
from rrs.attacks.common import RECORD_COLUMNS, Target
from rrs.attacks.flops import Shape
from rrs.attacks.many_shot import ContextTooShort
from rrs.config import GenerateParams, models, prompt_attack_params, section
from rrs.io import read_table, write_csv, write_json
from rrs.models import load_model, load_tokenizer, model_shape, param_count
from stages.common import params_option, read_params, setup_torch
from stages.generate import prompt_sets

COLUMNS = ["model", "attack", "params", "budget", "sample", "set", "id", "category", "prompt",
           "attack_input", "prefill", "response", "temperature", "top_p", "max_new_tokens",
           "seed", "n_input_tokens", "n_generated_tokens"]


@click.command("prompt-attack")
@click.option("--attack", "name", required=True, help="A prompt attack of rrs.attacks.")
@click.option("--model", "alias", required=True, help="Model alias in params.yaml `models`.")
@click.option("--harmful", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--benign", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--pairs", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--out", type=click.Path(path_type=Path), required=True)
@click.option("--record", type=click.Path(path_type=Path), required=True)
@params_option
def cli(name: str, alias: str, harmful: Path, benign: Path, pairs: Path, out: Path,
        record: Path, params_path: Path) -> None:
    """Attack one model with one prompt attack over its budget grid."""
    params = read_params(params_path)
    spec = get_attack(name)
    if spec.kind != "prompt":
        raise click.BadParameter(f"{name} is not a prompt attack (stage attack@ runs it)")
    cfg = prompt_attack_params(params, name)
    gen = section(params, "generate", GenerateParams)
    entry = models(params)[alias]
    setup_torch(gen.threads)
    prompts = prompt_sets(harmful, benign)
    if not getattr(cfg, "benign", False):
        prompts = prompts[prompts["set"] == "harmful"].reset_index(drop=True)
    tokenizer = load_tokenizer(entry)
    model = load_model(entry, load_in_4bit=gen.load_in_4bit)
    shape = model_shape(model)
    target = Target(model, tokenizer, param_count(entry, model), Shape(**shape), gen,
                    entry.system_prompt)
    budgets = spec.budgets(cfg)
    temperature = getattr(cfg, "temperature", gen.temperature)
    info = {"model": alias, "attack": name, "params": target.n_params, "shape": shape,
            "budget_name": spec.budget_name, "budgets": budgets,
            "config": dataclasses.asdict(cfg), "context": target.context}
    try:
        result = spec.run(target, prompts, budgets, cfg.seed, cfg,
                          read_table(pairs, required=("id", "category", "prompt", "response")))
    except ContextTooShort as err:  # many-shot on a short-context model: said, not skipped
        write_csv(out, pd.DataFrame(columns=COLUMNS))
        write_json(record, {**info, "applicable": False, "reason": str(err),
                            "attack_flops": {}, "cumulative_queries": False})
        return
    records = result.records.assign(
        model=alias, attack=name, params=target.n_params, temperature=temperature,
        top_p=gen.top_p, max_new_tokens=gen.max_new_tokens, seed=cfg.seed)
    write_csv(out, records[COLUMNS])
    write_json(record, {**info, "applicable": True, "reason": "",
                        "attack_flops": {str(k): v for k, v in result.attack_flops.items()},
                        "cumulative_queries": result.cumulative_queries, **result.info})


assert set(RECORD_COLUMNS) <= set(COLUMNS)
