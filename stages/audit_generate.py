"""Stage ``audit_generate@<model>``: a real model's answers for the real-output audit.

The rows (:func:`rrs.audit_real.design`) are every split's prompts under every condition of
params ``audit_real``; public benchmark requests are read at run time from their pinned files
(:mod:`rrs.prompt_sets`). One condition at a time, rows ordered by prompt length: greedy, or
sampled with one random stream per row (``row_seed(condition seed, id)``, :mod:`rrs.sampling`),
so an answer does not depend on the rest of its batch's sampling; ``attacked`` conditions
answer with the last adapter of ``audit_attack@<model>``; a ``prompt_attack`` condition runs
that attack of the registry (:mod:`rrs.attacks`) at its one budget, and keeps the text the
study's judge sees (after a prefill, the continuation).

In:  the model directory, its audit adapters, ``data.benign``, ``data.attack_pairs`` (the
     prefills and faux dialogues of the prompt attacks); params ``audit_real``.
Out: ``audit_real/<model>.csv`` (the answers: a DVC output, never git) and
     ``metrics/audit_real/<model>.csv`` (the same rows without prompt and answer text: ids,
     conditions, prompt ids, ``response_sha256``; committed).
Run: ``rrs audit-generate --model smollm2-135m --adapters adapters/audit/smollm2-135m
     --benign data/prompts/benign_eval.csv --out audit_real/smollm2-135m.csv
     --pairs data/train/attack_pairs.csv --manifest metrics/audit_real/smollm2-135m.csv``
"""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd
from peft import PeftModel

from rrs.attack import adapter_steps
from rrs.attacks import get_attack
from rrs.attacks.common import Target
from rrs.attacks.flops import Shape
from rrs.audit_real import ANSWER_COLUMNS, MANIFEST_COLUMNS, design, text_sha256
from rrs.config import PROMPT_ATTACK_PARAMS, AuditCondition, audit_real, from_mapping
from rrs.io import InputError, read_table, write_csv
from rrs.models import load_model, load_tokenizer, model_shape, param_count
from rrs.prompt_sets import build
from rrs.sampling import row_seed, sample_rows
from stages.common import params_option, read_params, setup_torch
from stages.generate import read_prompts


@click.command("audit-generate")
@click.option("--model", "alias", required=True, help="Alias in params.yaml `audit_real.models`.")
@click.option("--adapters", type=click.Path(exists=True, file_okay=False, path_type=Path),
              required=True)
@click.option("--benign", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--pairs", type=click.Path(exists=True, path_type=Path), required=True,
              help="Attack pairs (data.attack_pairs): prefills and faux dialogues.")
@click.option("--out", type=click.Path(path_type=Path), required=True)
@click.option("--manifest", type=click.Path(path_type=Path), required=True)
@params_option
def cli(alias: str, adapters: Path, benign: Path, pairs: Path, out: Path, manifest: Path,
        params_path: Path) -> None:
    """Answer the audit's rows of one real model under every condition."""
    cfg = audit_real(read_params(params_path))
    if alias not in cfg.models:
        raise click.BadParameter(f"no audit_real.models.{alias} (has {', '.join(cfg.models)})")
    entry, gen = cfg.models[alias], cfg.generate
    setup_torch(gen.threads)
    try:
        harmful = {name: build(name, spec)[0] for name, spec in cfg.prompts.items()}
    except InputError as err:
        raise click.ClickException(str(err)) from None
    rows = design(alias, entry.source, harmful, read_prompts(benign), cfg)
    tokenizer = load_tokenizer(entry)
    base = load_model(entry)
    steps = adapter_steps(adapters)
    answers = pd.Series("", index=rows.index, dtype=object)
    shots = read_table(pairs, required=("id", "category", "prompt", "response"))
    for name, group in rows.groupby("condition", sort=True):
        cond = cfg.conditions[name]
        if cond.attacked and not steps:
            raise click.ClickException(f"{adapters}: no adapter for condition {name}")
        model = (PeftModel.from_pretrained(base, str(adapters / f"step-{steps[-1]:05d}"))
                 if cond.attacked else base)
        group = group.assign(_len=group["prompt"].str.len()).sort_values(
            ["_len", "id"], kind="stable")
        system = cfg.system_prompts[cond.system_prompt] if cond.system_prompt else None
        if cond.prompt_attack:
            target = Target(model, tokenizer, param_count(entry, model),
                            Shape(**model_shape(model)), gen, system)
            answers[group.index] = attack_answers(target, group, cond, shots)
        else:
            answers[group.index] = sample_rows(
                model, tokenizer, list(group["prompt"]),
                [row_seed(cond.seed, i) for i in group["id"]], gen, cond.temperature,
                system_prompt=system, desc=f"{alias} {name}")
        if cond.attacked:
            base = model.unload()  # drop the adapter, keep the base weights untouched
    rows = rows.assign(response=answers, response_sha256=answers.map(text_sha256))
    write_csv(out, rows[list(ANSWER_COLUMNS)])
    write_csv(manifest, rows[list(MANIFEST_COLUMNS)])


def attack_answers(target: Target, rows: pd.DataFrame, cond: AuditCondition,
                   pairs: pd.DataFrame) -> list[str]:
    """The answers a prompt attack's condition gives, in ``rows``' order: the attack of the
    registry at the condition's one budget, its default settings and the condition's seed,
    each row attacked under its audit id (so a row's draw of prefill or shots is its own)."""
    spec = get_attack(cond.prompt_attack)
    settings = from_mapping(PROMPT_ATTACK_PARAMS[cond.prompt_attack], {"seed": cond.seed},
                            f"prompt_attacks.{cond.prompt_attack}")
    prompts = rows[["set", "id", "category", "prompt"]].reset_index(drop=True)
    run = spec.run(target, prompts, [cond.budget], cond.seed, settings, pairs)
    records = run.records[run.records["budget"] == cond.budget].sort_values(
        ["id", "sample"], kind="stable").drop_duplicates("id")
    by_id = dict(zip(records["id"], records["response"]))
    missing = [i for i in prompts["id"] if i not in by_id]
    if missing:
        raise click.ClickException(f"{cond.prompt_attack} at budget {cond.budget} answered no "
                                   f"row {missing[0]} ({len(missing)} rows)")
    return [by_id[i] for i in prompts["id"]]
