"""Stage ``stability``: judge the stability sweep and compute SSI, flips and their aggregates.

Each distinct (prompt, response) is judged once by the study's judge (params ``judge.name``,
through the judge stage's own code path :func:`rrs.judges.apply.judge_responses`); greedy
answers reused across seeds are therefore judged once too.

In:  every ``stability/<model>.csv``, the trained classifier; params ``stability``, ``judge``.
Out: ``metrics/stability.json`` (per variant: mean SSI [bootstrap 95% CI], unstable share,
     flip rate, comply rate, label shares; per category; the sweep's config),
     ``metrics/stability_per_prompt.csv`` (SSI over all configs) and
     ``metrics/stability_per_temperature.csv`` (SSI across seeds within one temperature).
Run: ``rrs stability --generations stability --classifier models/judge/classifier.json
     --out-dir metrics``
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click
import pandas as pd

from rrs.config import JudgeParams, StabilityParams, section
from rrs.io import write_csv, write_json
from rrs.judges.apply import judge_responses
from rrs.stability import aggregate, grouped, per_prompt
from stages.common import judging_options, read_params, read_records

KEY = ["model", "steps", "id", "temperature", "seed"]
NOTE = ("Temperature 0 is greedy and seed-independent: it was sampled once (first seed) and "
        "reused for every seed, so its per-temperature SSI is 1.0 by construction.")


def read_sweep(folder: Path) -> pd.DataFrame:
    return read_records(folder, KEY, ["category", "prompt", "response"],
                        {"steps": int, "seed": int, "temperature": float}, "stability")


def _clean(obj):
    """NaN -> None and numpy scalars -> Python, recursively (strict JSON)."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if hasattr(obj, "item"):
        obj = obj.item()
    return None if isinstance(obj, float) and obj != obj else obj


@click.command("stability")
@judging_options
def cli(generations: Path, classifier: Path, out_dir: Path, params_path: Path) -> None:
    """Judge the sweep and write the stability metrics."""
    params = read_params(params_path)
    cfg, jcfg = section(params, "stability", StabilityParams), section(params, "judge", JudgeParams)
    frame = read_sweep(generations)
    labels, _ = judge_responses(frame["prompt"], frame["response"], jcfg, classifier)
    frame = pd.concat([frame, labels], axis=1)
    prompts = per_prompt(frame)
    by_temp = grouped(frame, per_prompt(frame, by=("temperature",)), "temperature",
                      cfg.unstable_below)
    by_cat = grouped(frame, prompts, "category", cfg.unstable_below)
    categories: dict = {}
    for rec in by_cat.to_dict("records"):
        model, steps, cat = rec.pop("model"), str(rec.pop("steps")), rec.pop("category")
        categories.setdefault(model, {}).setdefault(steps, {})[cat] = rec
    write_json(out_dir / "stability.json", _clean({
        "variants": aggregate(frame, prompts, cfg.unstable_below, cfg.n_boot, cfg.boot_seed),
        "per_category": categories,
        "params": {m: int(n) for m, n in frame.groupby("model")["params"].first().items()},
        "config": {**dataclasses.asdict(cfg), "reused_greedy": bool(0.0 in cfg.temperatures),
                   "note": NOTE, "judge": jcfg.name,
                   "judge_version": str(frame["judge_version"].iloc[0]),
                   "unique_responses_judged": int(len(frame[["prompt", "response"]]
                                                      .drop_duplicates()))}}))
    write_csv(out_dir / "stability_per_prompt.csv", prompts.round(6))
    write_csv(out_dir / "stability_per_temperature.csv", by_temp.round(6))
