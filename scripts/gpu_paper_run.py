"""The paper profile end to end on a GPU machine with no Hub: every stage of `dvc repro`,
timed, on models built from the paper's architectures (random weights), fetched through the
real huggingface_hub client from a local Hub server.

    python scripts/gpu_paper_run.py --work /tmp/paper --out results.json \\
        --models tinyllama,qwen2-7b --harmful 32 --benign 32 --attack-steps 3

What it does, in order:
1. copies the repository's code and data into ``WORK/project`` (a DVC project in no-scm mode:
   the GPU machine need not have git);
2. builds each model of ``conf/study/paper.yaml`` named in ``--models`` from its published
   config (``rrs.archs``; bf16, random weights, the organisms' tokenizer and chat template,
   since no real tokenizer can be fetched either) and publishes it in a local Hub folder under
   the profile's own repository and pinned commit (gated ones behind a token);
3. composes ``params.yaml`` for the paper profile (``rrs study paper``) with the paper's
   batch, sequence and new-token settings, and reduced counts: ``--harmful`` HarmBench
   behaviours, ``--benign`` benign prompts, ``--attack-steps`` QLoRA steps (one checkpoint),
   stability at one temperature x two seeds;
4. runs every stage with ``dvc repro --single-item`` in DAG order (the paper's PDF is skipped
   where latexmk is missing), with ``HF_ENDPOINT`` on the local Hub, timing each stage and
   sampling the GPU's used memory (nvidia-smi) for its peak; ``RRS_TIMINGS`` collects the
   per-step and per-batch seconds of the attack and generation loops;
5. writes everything to ``--out`` after each stage, so a run cut short still reports.

Random weights never emit EOS, so every answer runs to the full 512 new tokens: generation
times are the upper bound of a real model's. Answers, labels and metrics are noise.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import click
import yaml

REPO = Path(__file__).resolve().parents[1]
COPY = ("conf", "data", "rrs", "stages", "dvc.yaml", "pyproject.toml", ".dvcignore",
        "paper/claims.yaml", "paper/main.tex", "paper/rrs.sty")
TOKEN = "proof-token"  # the local Hub's token for gated repositories


def copy_project(dst: Path) -> None:
    for rel in COPY:
        src = REPO / rel
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst / rel, ignore=shutil.ignore_patterns(
                "__pycache__", "benchmarks"))
        else:
            shutil.copy2(src, dst / rel)
    (dst / ".dvc").mkdir()
    # no git here: DVC's no-scm mode runs the same stages (experiments need git, repro not)
    (dst / ".dvc/config").write_text("[core]\n    no_scm = true\n")


def shrunk(config):
    """The same architecture class and vocabulary, two small layers (the CPU smoke test)."""
    for key, value in (("hidden_size", 64), ("intermediate_size", 128),
                       ("num_hidden_layers", 2), ("num_attention_heads", 4),
                       ("num_key_value_heads", 2)):
        setattr(config, key, value)
    if getattr(config, "layer_types", None):  # Qwen2: one attention type per layer
        config.layer_types = config.layer_types[:2]
    return config


def build_models(aliases: list[str], specs: dict, hub_root: Path, device: str,
                 shrink: bool) -> dict:
    """Random-weight models of the paper's architectures, published on the local Hub."""
    import pandas as pd
    import torch
    from transformers import AutoModelForCausalLM

    from rrs.archs import ARCHS
    from rrs.config import TokenizerParams
    from rrs.organism import train_tokenizer
    from rrs.sources.local_hub import commit_dir, publish
    corpus = pd.read_csv(REPO / "data/train/chat_corpus.csv")
    tok = train_tokenizer(list(corpus["prompt"]) + list(corpus["response"]), TokenizerParams())
    built = {}
    for alias in aliases:
        t0 = time.perf_counter()
        spec = specs[alias]
        dest = commit_dir(hub_root, spec["repo"], spec["revision"])
        torch.manual_seed(0)
        config = shrunk(ARCHS[alias]()) if shrink else ARCHS[alias]()
        with torch.device(device):
            model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
        model.save_pretrained(dest, safe_serialization=True)
        tok.save_pretrained(dest)
        n = sum(p.numel() for p in model.parameters())
        del model
        torch.cuda.empty_cache()
        publish(hub_root, spec["repo"], spec["revision"])
        if spec.get("gated"):
            (dest.parent / "GATED").write_text(TOKEN + "\n")
        built[alias] = {"params": n, "build_and_publish_s": round(time.perf_counter() - t0, 1)}
    return built


class GpuMemory(threading.Thread):
    """Peak `memory.used` (MiB) per GPU, sampled every 0.25 s until stopped."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak: dict[int, int] = {}
        self.running = True

    def run(self):
        while self.running:
            try:
                out = subprocess.run(["nvidia-smi", "--query-gpu=index,memory.used",
                                      "--format=csv,noheader,nounits"], capture_output=True,
                                     text=True, timeout=5).stdout
                for line in out.strip().splitlines():
                    idx, used = (int(x) for x in line.split(","))
                    self.peak[idx] = max(self.peak.get(idx, 0), used)
            except (OSError, ValueError, subprocess.TimeoutExpired):
                pass
            time.sleep(0.25)

    def stop(self) -> dict[int, int]:
        self.running = False
        self.join(timeout=2)
        return self.peak


def attack_summary(project: Path, stage: str) -> dict:
    """For a prompt-attack stage: its record (FLOPs per budget, applicability; no text) and
    the count of answers and generated tokens per budget."""
    m = re.fullmatch(r"attack_(\w+)@(.+)", stage)
    if not m or m.group(1) in ("metrics", "report"):
        return {}
    import pandas as pd
    attack, alias = m.groups()
    record = project / f"metrics/attacks/runs/{attack}/{alias}.json"
    answers = project / f"attacks/{attack}/{alias}.csv"
    out = {"record": json.loads(record.read_text())} if record.exists() else {}
    if answers.exists():
        frame = pd.read_csv(answers, usecols=["budget", "n_generated_tokens"])
        out["answers"] = {str(b): {"n": int(len(g)), "generated_tokens": int(g.sum().iloc[1])}
                          for b, g in frame.groupby("budget")}
    return out


def stage_order(project: Path, env: dict) -> list[str]:
    out = subprocess.run(["dvc", "repro", "--dry", "--force"], cwd=project, env=env, capture_output=True,
                         text=True, check=True).stdout
    return re.findall(r"Running stage '([^']+)'", out)


@click.command()
@click.option("--work", type=click.Path(path_type=Path), required=True)
@click.option("--out", type=click.Path(path_type=Path), required=True)
@click.option("--models", "model_list", default="tinyllama,phi3-mini,qwen2-7b,llama31-8b",
              show_default=True, help="Aliases of the paper profile to build and run.")
@click.option("--stability-model", default=None,
              help="The stability sweep's model (default: the profile's, if in --models).")
@click.option("--harmful", default=32, show_default=True, help="HarmBench behaviours.")
@click.option("--benign", default=32, show_default=True, help="Benign prompts.")
@click.option("--attack-steps", default=3, show_default=True)
@click.option("--max-new-tokens", default=None, type=int,
              help="Override the profile's 512 (the CPU smoke test only).")
@click.option("--set", "extra", multiple=True,
              help="More overrides, as `dvc exp run -S` takes them (e.g. attack.micro_batch_size=32).")
@click.option("--shrink", is_flag=True, help="Two small layers per architecture (CPU smoke test).")
@click.option("--stages", "only", default=None,
              help="A regular expression: run only the stages whose names match it, in DAG "
                   "order (include what they depend on, e.g. '^(tokenizer|fetch@|prompts@|"
                   "attack_)').")
def main(work: Path, out: Path, model_list: str, stability_model: str | None, harmful: int,
         benign: int, attack_steps: int, max_new_tokens: int | None, extra: tuple[str, ...],
         shrink: bool, only: str | None) -> None:
    """Run the paper profile's stages on random-weight real architectures; time each."""
    from rrs.profiles import compose, write_params
    from rrs.sources.local_hub import LocalHub
    aliases = model_list.split(",")
    shutil.rmtree(work, ignore_errors=True)
    project, hub_root = work / "project", work / "hub"
    copy_project(project)
    paper = compose(REPO / "conf", ["study=paper"])
    report: dict = {"models": aliases, "settings": {}, "stages": [], "device": None}
    import torch
    report["device"] = torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu"

    def save():
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=1))

    device = "cuda" if torch.cuda.is_available() else "cpu"
    report["built"] = build_models(aliases, paper["fetched"], hub_root, device, shrink)
    save()
    stab = stability_model or next((a for a in paper["stability_models"] if a in aliases),
                                   aliases[-1])
    bench = project / "data/prompts/benign_eval.csv"
    lines = bench.read_text().splitlines()
    (project / "data/prompts/benign_run.csv").write_text("\n".join(lines[: benign + 1]) + "\n")
    overrides = [
        f"benchmarks.harmbench.n={harmful}", "data.benign=data/prompts/benign_run.csv",
        f"attack.steps={attack_steps}", f"attack.eval_every={attack_steps}",
        "stability.temperatures=[1.0]", "stability.seeds=[42,43]",
        f"stability.attacked_steps={attack_steps}", f"stability.batch_size={2 * harmful}",
        "metrics.n_boot=200", "scaling.n_boot=200",
    ] + ([f"generate.max_new_tokens={max_new_tokens}",
          f"stability.max_new_tokens={max_new_tokens}"] if max_new_tokens else []) + list(extra)
    params = compose(REPO / "conf", ["study=paper", *overrides])
    params["fetched"] = {a: params["fetched"][a] for a in aliases}
    params["models"] = {a: params["models"][a] for a in aliases}
    params["stability_models"] = {stab: params["models"][stab]}
    params["reference"]["model_aliases"] = {
        a: n for a, n in params["reference"]["model_aliases"].items() if a in aliases}
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    report["settings"] = {k: params[k] for k in ("attack", "generate", "stability")}
    report["settings"]["overrides"] = overrides
    report["settings"]["prompts"] = {"harmful": harmful, "benign": benign}
    save()

    bindir = work / "bin"
    bindir.mkdir()
    shim = bindir / "rrs"
    shim.write_text(f"#!{sys.executable}\nfrom rrs.cli import main\nmain()\n")
    shim.chmod(0o755)
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}",
           "PYTHONPATH": f"{project}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
           "HF_TOKEN": TOKEN, "HF_HOME": str(work / "hf-home"),
           "RRS_TIMINGS": str(work / "timings.jsonl"), "NCCL_NVLS_ENABLE": "0",
           "PYTHONUNBUFFERED": "1"}
    # hardlinks: the fetched weights (tens of GB) are not copied again into DVC's cache
    subprocess.run(["dvc", "config", "cache.type", "hardlink,copy"], cwd=project, env=env,
                   check=True, capture_output=True)
    with LocalHub(hub_root) as hub:
        env["HF_ENDPOINT"] = hub.endpoint
        order = [s for s in stage_order(project, env) if only is None or re.search(only, s)]
        report["stages_selected"] = only
        timings = Path(env["RRS_TIMINGS"])
        for stage in order:
            if stage == "paper" and shutil.which("latexmk") is None:
                report["stages"].append({"stage": stage, "skipped": "no latexmk here"})
                continue
            offset = timings.stat().st_size if timings.exists() else 0
            sampler = GpuMemory()
            sampler.start()
            t0 = time.perf_counter()
            proc = subprocess.run(["dvc", "repro", "--single-item", stage], cwd=project,
                                  env=env, capture_output=True, text=True)
            seconds = time.perf_counter() - t0
            peak = sampler.stop()
            loops = []
            if timings.exists():
                with open(timings) as fh:
                    fh.seek(offset)
                    loops = [json.loads(line) for line in fh if line.strip()]
            entry = {"stage": stage, "seconds": round(seconds, 2), "rc": proc.returncode,
                     "peak_gpu_mib": peak, "loops": loops}
            if proc.returncode:
                entry["log"] = (proc.stdout + proc.stderr)[-4000:]
            entry.update(attack_summary(project, stage))
            report["stages"].append(entry)
            save()
            if proc.returncode:
                raise SystemExit(f"stage {stage} failed; see {out}")
    for rel in ("metrics/table1.csv", "metrics/attack", "metrics/fetch", "metrics/prompts"):
        path = project / rel
        if path.is_file():
            report.setdefault("files", {})[rel] = path.read_text()
        elif path.is_dir():
            for f in sorted(path.glob("*.json")):
                report.setdefault("files", {})[f"{rel}/{f.name}"] = json.loads(f.read_text())
    save()


if __name__ == "__main__":
    main()
