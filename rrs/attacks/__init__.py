"""The attack registry: every attack, training-time and inference-time, under one name.

Prompt attacks share one signature::

    run(target, prompts, budgets, seed, params, pairs) -> AttackRun

``target`` is the model, its tokenizer, parameter count, shape and decoding settings
(:class:`rrs.attacks.common.Target`); ``prompts`` the requests attacked (``set``, ``id``,
``category``, ``prompt``); ``budgets`` the grid from params (one run covers it); ``params``
the attack's typed section of ``prompt_attacks``; ``pairs`` the compliance-style attack pairs
(prefills, faux dialogues and GCG targets come from them, never from the evaluation prompts).
The result holds the answered conversations per budget and the attack's own FLOPs per budget.

The QLoRA attack (stage ``attack@<model>``) trains adapters rather than conversations, so it
keeps its own runner (:func:`rrs.attack.run_attack`); its entry here gives its budget grid and
its FLOP count, so the compute axis treats both threat models alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from rrs.config import AttackParams


@dataclass(frozen=True)
class AttackSpec:
    """``kind``: training (adapters) or prompt (conversations); ``budgets``: the grid of a
    params section; ``budget_name``: what a budget counts; ``run``: the prompt attack's
    runner (None for the training attack, which runs in stage ``attack``)."""
    name: str
    kind: str
    budgets: Callable[[object], list[int]]
    budget_name: str
    run: Callable | None = None


def _lora_budgets(cfg: AttackParams) -> list[int]:
    from rrs.attack import checkpoint_steps

    return checkpoint_steps(cfg)


def _runner(module: str) -> Callable:
    def run(*args, **kwargs):
        import importlib

        return importlib.import_module(f"rrs.attacks.{module}").run(*args, **kwargs)
    return run


ATTACKS: dict[str, AttackSpec] = {
    "lora": AttackSpec("lora", "training", _lora_budgets, "steps"),
    "prefill": AttackSpec("prefill", "prompt", lambda p: sorted(p.tokens), "prefill tokens",
                          _runner("prefill")),
    "best_of_n": AttackSpec("best_of_n", "prompt", lambda p: sorted(p.n), "samples N",
                            _runner("best_of_n")),
    "gcg": AttackSpec("gcg", "prompt", lambda p: sorted(p.steps), "GCG steps", _runner("gcg")),
    "many_shot": AttackSpec("many_shot", "prompt", lambda p: sorted(p.shots), "shots k",
                            _runner("many_shot")),
}
PROMPT_ATTACKS = tuple(name for name, spec in ATTACKS.items() if spec.kind == "prompt")


def get_attack(name: str) -> AttackSpec:
    try:
        return ATTACKS[name]
    except KeyError:
        raise ValueError(f"unknown attack {name!r}; known: {', '.join(ATTACKS)}") from None


def lora_flops(record: dict, n_params: int, cfg: AttackParams) -> dict[int, float]:
    """Training FLOPs at each saved budget, from ``metrics/attack/<model>.json``'s token
    counts (``tokens_at_checkpoint``, ``token_pairs_at_checkpoint``, ``shape``)."""
    from rrs.attacks import flops

    shape = flops.Shape(**record["shape"])
    return {int(k): flops.lora_flops(n_params, shape, record["tokens_at_checkpoint"][k],
                                     record["token_pairs_at_checkpoint"][k],
                                     cfg.gradient_checkpointing)
            for k in record["tokens_at_checkpoint"]}


__all__ = ["ATTACKS", "PROMPT_ATTACKS", "AttackSpec", "get_attack", "lora_flops"]
