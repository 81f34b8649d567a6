"""The full paper run's time, estimated from a reduced GPU run's measurements.

    python scripts/estimate_paper_run.py RUN.json [RUN2.json ...] --out estimate.json

Reads what ``scripts/gpu_paper_run.py`` measured (every stage's wall time, and the seconds of
each attack step and each generation batch from ``RRS_TIMINGS``) and scales each stage by the
work the full paper profile gives it (``conf/study/paper.yaml``):

- attack: the median step time (the first step, warm-up, left out) x ``attack.steps``, plus
  the stage's fixed part (load, quantise, save: stage time minus its steps);
- generation: the median time of a batch of ``generate.batch_size`` rows (each runs to the
  full ``max_new_tokens``; random weights never stop early) x the full run's batches
  (harmful + benign prompts, at budget 0 and at every saved adapter), plus the fixed part;
- stability: the same per-batch time x the sweep's batches (prompts x seeds per temperature,
  greedy once) for the base and the attacked variant, plus the fixed part;
- every other stage: its measured time (fetch at full size already; judging and reports
  scale with the answers, a minute or two at most, and are counted as measured), once even
  where several runs (one per GPU) each ran it.

A T4 column divides by the measured H200 rates and multiplies by the ratio of the two
chips' datasheet rates for each kind of work: decode is memory-bound (HBM 4.8 TB/s vs
0.32 TB/s: x15), training is matrix-bound (dense bf16 989 TFLOP/s vs fp16 65 TFLOP/s: x15.2).
It is an estimate by ratios, not a measurement; a T4 also needs the 7-8B bases in 4 bits for
generation (16 GB), which is slower than bf16 there.
"""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path

import click

from rrs.attack import checkpoint_steps
from rrs.config import AttackParams, section
from rrs.profiles import compose

REPO = Path(__file__).resolve().parents[1]
T4_DECODE, T4_TRAIN = 4.8 / 0.32, 989 / 65


def _loops(stage: dict, prefix: str) -> list[dict]:
    return [loop for loop in stage.get("loops", []) if (loop.get("desc") or "").startswith(prefix)]


def _fixed(stage: dict, loops: list[dict]) -> float:
    return max(0.0, stage["seconds"] - sum(sum(loop["seconds"]) for loop in loops))


def estimate(runs: list[dict], paper: dict) -> dict:
    attack, gen, stab = paper["attack"], paper["generate"], paper["stability"]
    n_harmful = paper["benchmarks"]["harmbench"]["n"]
    n_benign = 60  # data/prompts/benign_eval.csv
    budgets = 1 + len(checkpoint_steps(section(paper, "attack", AttackParams)))
    gen_batches = budgets * math.ceil((n_harmful + n_benign) / gen["batch_size"])
    sampled = [t for t in stab["temperatures"] if t > 0]
    rows = n_harmful * len(stab["seeds"])
    stab_batches = 2 * (len(sampled) * math.ceil(rows / stab["batch_size"])
                        + (1 if 0.0 in stab["temperatures"] else 0)
                        * math.ceil(n_harmful / stab["batch_size"]))
    out: dict = {"full_run": {"attack_steps": attack["steps"], "budgets": budgets,
                              "generate_batches_per_model": gen_batches,
                              "stability_batches_per_model": stab_batches,
                              "batch_size": gen["batch_size"],
                              "max_new_tokens": gen["max_new_tokens"]},
                 "stages": [], "total_h200_s": 0.0, "total_t4_s": 0.0}
    counted = set()
    for run in runs:
        for stage in run["stages"]:
            # runs split over GPUs each repeat the model-free stages: count those once
            if "seconds" not in stage or stage["stage"] in counted:
                continue
            counted.add(stage["stage"])
            name, alias = stage["stage"], stage["stage"].partition("@")[2]
            kind, ratio = "as measured", 1.0
            seconds = stage["seconds"]
            if name.startswith("attack@"):
                steps = [s for loop in _loops(stage, "attack ") for s in loop["seconds"][1:]]
                per = statistics.median(steps)
                fixed = _fixed(stage, _loops(stage, "attack "))
                seconds, kind = fixed + per * attack["steps"], f"{per:.3f} s/step"
                ratio = T4_TRAIN
            elif name.startswith(("generate@", "stability_generate@")):
                loops = _loops(stage, f"{alias} @")
                batches = [s for loop in loops for s in loop["seconds"]]
                per = statistics.median(batches)
                n = gen_batches if name.startswith("generate@") else stab_batches
                seconds, kind = _fixed(stage, loops) + per * n, f"{per:.1f} s/batch x {n}"
                ratio = T4_DECODE
            out["stages"].append({"stage": name, "measured_s": stage["seconds"],
                                  "full_h200_s": round(seconds, 1), "basis": kind,
                                  "full_t4_s": round(seconds * ratio, 1)})
            out["total_h200_s"] += seconds
            out["total_t4_s"] += seconds * ratio
    out["total_h200_s"] = round(out["total_h200_s"], 1)
    out["total_t4_s"] = round(out["total_t4_s"], 1)
    return out


@click.command()
@click.argument("runs", nargs=-1, type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--out", type=click.Path(path_type=Path), default=None)
def main(runs: tuple[Path, ...], out: Path | None) -> None:
    """Estimate the full paper run (one H200, one T4) from reduced GPU runs."""
    result = estimate([json.loads(p.read_text()) for p in runs],
                      compose(REPO / "conf", ["study=paper"]))
    print(f"{'stage':<28} {'measured s':>10} {'full H200 s':>12} {'full T4 s':>11}  basis")
    for row in result["stages"]:
        print(f"{row['stage']:<28} {row['measured_s']:>10.1f} {row['full_h200_s']:>12.1f} "
              f"{row['full_t4_s']:>11.1f}  {row['basis']}")
    print(f"{'total':<28} {'':>10} {result['total_h200_s'] / 3600:>10.2f} h "
          f"{result['total_t4_s'] / 3600:>9.1f} h")
    if out:
        out.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
