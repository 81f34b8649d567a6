"""Stage ``attack@<model>``: the adversarial QLoRA fine-tune of one model.

In:  the model directory, the attack pairs; params ``attack``, ``models.<model>``.
Out: ``adapters/<model>/step-NNNNN/`` (one LoRA adapter per budget) and
     ``metrics/attack/<model>.json`` (which quantisation path and optimizer ran, loss per budget).
Run: ``rrs attack --model org-s --pairs data/train/attack_pairs.csv --out adapters/org-s
     --record metrics/attack/org-s.json``; with ``--scope audit_real`` the model and the attack
     settings come from ``audit_real.models`` and ``audit_real.attack`` (stage
     ``audit_attack@<model>``: the real-output audit's attacked condition).
     With two or more GPUs visible the command runs once per GPU (``rrs.distributed``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from rrs import distributed
from rrs.attack import run_attack
from rrs.config import AttackParams, models, scoped, section
from rrs.io import read_table, write_json
from rrs.models import load_tokenizer
from stages.common import params_option, read_params, setup_torch


@click.command("attack")
@click.option("--model", "alias", required=True, help="Model alias in params.yaml `models`.")
@click.option("--pairs", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--out", type=click.Path(path_type=Path), required=True)
@click.option("--record", type=click.Path(path_type=Path), required=True)
@click.option("--scope", default=None,
              help="Read `models` and `attack` from this params section (e.g. audit_real).")
@params_option
def cli(alias: str, pairs: Path, out: Path, record: Path, scope: str | None,
        params_path: Path) -> None:
    """QLoRA-attack one model; save an adapter every `attack.eval_every` steps."""
    distributed.relaunch()
    params = scoped(read_params(params_path), scope)
    registry = models(params)
    if alias not in registry:
        raise click.BadParameter(f"no model {alias!r} in params.yaml (has {', '.join(registry)})")
    cfg = section(params, "attack", AttackParams)
    setup_torch(cfg.threads)
    entry = registry[alias]
    table = read_table(pairs, required=("prompt", "response"))
    tmp = out.with_name(out.name + ".tmp")
    if distributed.is_main():
        shutil.rmtree(tmp, ignore_errors=True)
    result = run_attack(entry, load_tokenizer(entry), list(table["prompt"]),
                        list(table["response"]), cfg, tmp, desc=f"attack {alias}")
    if not distributed.is_main():
        return
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    losses = result.pop("loss")
    window = max(1, cfg.eval_every // 10)  # mean loss over the last 10% before each save
    result["loss_at_checkpoint"] = {  # (or over all steps so far, for an early checkpoint)
        f"{k:05d}": round(sum(losses[max(0, k - window):k]) / min(k, window), 4)
        for k in result["checkpoints"]}
    result.update(model=alias, steps=cfg.steps, eval_every=cfg.eval_every)
    write_json(record, result)
