"""Stage ``attack_metrics``: both threat models on one compute axis.

For every model x attack x budget (LoRA from the study's judged answers and the adapters'
token counts; the prompt attacks from their judged records and run files): the metrics of
Table 1 (RRR with its Wilson interval, ASR = 1 - RRR, RD against the model's own baseline
answers, the three CE variants, over-refusal where the attack also ran on the benign prompts)
and the attacker FLOPs; per model x attack, ``compute_to_break`` with a bootstrap interval;
per attack, its slope against parameter count; best-of-N's power-law fit.

In:  ``judged/responses.csv`` + ``judged/embeddings.npy`` (baselines, LoRA), ``judged/attacks.csv``
     + ``judged/attack_embeddings.npy``, ``metrics/attack/`` (LoRA token counts),
     ``metrics/attacks/runs/`` (prompt attacks' FLOPs and applicability); params ``metrics``,
     ``attack.gradient_checkpointing``.
Out: ``metrics/attacks.csv`` (one row per model x attack x budget, or a "not applicable" row)
     and ``metrics/compute_to_break.json``.
Run: ``rrs attack-metrics --judged judged/responses.csv --embeddings judged/embeddings.npy
     --attacks judged/attacks.csv --attack-embeddings judged/attack_embeddings.npy
     --lora-dir metrics/attack --runs-dir metrics/attacks/runs --out-dir metrics``
"""

from __future__ import annotations

import json
from pathlib import Path

import click
import numpy as np
import pandas as pd

from rrs import attack_study as ast
from rrs.attacks import ATTACKS, lora_flops
from rrs.attacks.flops import Shape
from rrs.config import AttackParams, MetricsParams, section
from rrs.io import InputError, read_table, write_csv, write_json
from rrs.study import rounded
from stages.common import params_option, read_params

_path = click.Path(exists=True, path_type=Path)


def _judged(path: Path, emb_path: Path, budget: str) -> tuple[pd.DataFrame, np.ndarray]:
    frame = read_table(path, required=("model", "params", budget, "set", "id", "label",
                                       "p_refuse", "valid", "n_input_tokens",
                                       "n_generated_tokens"))
    frame = frame.astype({budget: int, "params": int, "p_refuse": float})
    frame["valid"] = frame["valid"] == "True"
    emb = np.load(emb_path)
    if len(emb) != len(frame):
        raise InputError(emb_path, f"{len(emb)} rows but {path} has {len(frame)}")
    return frame, emb


@click.command("attack-metrics")
@click.option("--judged", type=_path, required=True)
@click.option("--embeddings", type=_path, required=True)
@click.option("--attacks", type=_path, required=True)
@click.option("--attack-embeddings", type=_path, required=True)
@click.option("--lora-dir", type=_path, required=True)
@click.option("--runs-dir", type=_path, required=True)
@click.option("--out-dir", type=click.Path(path_type=Path), required=True)
@params_option
def cli(judged: Path, embeddings: Path, attacks: Path, attack_embeddings: Path, lora_dir: Path,
        runs_dir: Path, out_dir: Path, params_path: Path) -> None:
    """Per model x attack x budget metrics and FLOPs; compute-to-break."""
    params = read_params(params_path)
    cfg = section(params, "metrics", MetricsParams)
    lora_cfg = section(params, "attack", AttackParams)
    study, emb_study = _judged(judged, embeddings, "steps")
    attacked, emb_att = _judged(attacks, attack_embeddings, "budget")
    emb = np.concatenate([emb_study, emb_att])
    study = study.assign(row=np.arange(len(study)), budget=study["steps"])
    attacked = attacked.assign(row=len(study) + np.arange(len(attacked)))
    rows, breaks, curves_bon = [], {}, {}
    params_of = {m: int(n) for m, n in
                 study.drop_duplicates("model").set_index("model")["params"].items()}
    for model, n_params in sorted(params_of.items(), key=lambda kv: (kv[1], kv[0])):
        mine = study[study["model"] == model]
        baseline = mine[mine["budget"] == 0]
        record = json.loads((lora_dir / f"{model}.json").read_text(encoding="utf-8"))
        runs = {"lora": (Shape(**record["shape"]), mine[mine["budget"] > 0],
                         lora_flops(record, n_params, lora_cfg), False, "")}
        for name in (n for n, s in ATTACKS.items() if s.kind == "prompt"):
            path = runs_dir / name / f"{model}.json"
            if not path.is_file():
                continue
            run = json.loads(path.read_text(encoding="utf-8"))
            mine_att = attacked[(attacked["model"] == model) & (attacked["attack"] == name)]
            runs[name] = (Shape(**run["shape"]), mine_att,
                          {int(k): v for k, v in run["attack_flops"].items()},
                          run["cumulative_queries"], run["reason"] if not run["applicable"]
                          else "")
            for k, why in run.get("not_run", {}).items():
                rows.append({**ast.not_applicable_row(model, n_params, name, why),
                             "budget": int(k)})
        for name, (shape, att, own, cumulative, reason) in runs.items():
            if reason:
                rows.append(ast.not_applicable_row(model, n_params, name, reason))
                continue
            got, curve = ast.attack_rows(model, n_params, shape, name, baseline, att, own,
                                         cumulative, emb, cfg)
            rows += got
            breaks.setdefault(model, {})[name] = ast.compute_to_break(curve, cfg.n_boot,
                                                                      cfg.seed)
            if name == "best_of_n":
                curves_bon[model] = ast.power_law([r["budget"] for r in got[1:]],
                                                  [r["asr"] for r in got[1:]])
    table = pd.DataFrame(rows, columns=ast.ATTACK_COLUMNS)
    for col in ("budget", "n", "rd_valid_n", "over_refusal_n", "unparsed_n"):
        table[col] = table[col].astype("Int64")
    table = rounded(table.sort_values(["params", "model", "attack", "budget"], kind="stable"))
    write_csv(out_dir / "attacks.csv", table)
    write_json(out_dir / "compute_to_break.json", {
        "definition": f"smallest attacker FLOPs with RRR <= {ast.BREAK_AT}, log-interpolated "
                      "between the budgets around the crossing; bootstrap over prompts",
        "compute_to_break": breaks, "params": params_of,
        "slope_vs_params": ast.size_slopes(breaks, params_of),
        "best_of_n_power_law": curves_bon})
