"""GPU speed of the pipeline's generation and QLoRA code on real architectures (random weights).

Builds models from published configs (random weights: nothing is downloaded) and measures
the library code the stages run, old path beside new in one run:

    python scripts/gpu_benchmark.py decode --json docs/benchmarks/gpu.json
        greedy decode, prompt 128 tokens, 512 new (TinyLlama-1.1B, Phi-3-mini, Qwen2-7B,
        batch 64 and 256): rrs.fastgen beside model.generate; ms per decode step, the HBM
        roofline (weights + the KV cache a step reads, over the measured copy bandwidth) and
        the fraction reached; bf16 agreement of the two paths' tokens.
    python scripts/gpu_benchmark.py qlora --json docs/benchmarks/gpu.json
        rrs.attack.train on an NF4 Qwen2-7B at 64 x 256 tokens: the padded path beside
        micro-batches, tokens/s on real tokens, 6N-FLOP utilisation (989 TFLOP/s dense bf16),
        peak memory, and a 15 GiB-capped run (the 16 GB T4 class).
    accelerate launch --num_processes N scripts/gpu_benchmark.py dp-generate | dp-attack
        the same work on N GPUs (rrs.distributed); run with N = 1 and 2 and compare.

Needs a CUDA GPU (and bitsandbytes for qlora / dp-attack).
"""

from __future__ import annotations

import gc
import json
import statistics
import time
from pathlib import Path

import click
import pandas as pd
import torch
from transformers import AutoModelForCausalLM, GenerationConfig, LlamaConfig, Phi3Config, Qwen2Config

from rrs import distributed
from rrs.config import AttackParams, ModelEntry, TokenizerParams
from rrs.fastgen import Decoding, generate_ids
from rrs.fastgen.engine import Engine

REPO = Path(__file__).resolve().parents[1]
PEAK_BF16 = 989e12  # FLOP/s, dense bf16, H100/H200 SXM datasheet: the utilisation's denominator

# Published architecture hyper-parameters (from each model's config.json on its model card).
ARCHS = {
    "tinyllama-1.1b": lambda: LlamaConfig(
        hidden_size=2048, intermediate_size=5632, num_hidden_layers=22, num_attention_heads=32,
        num_key_value_heads=4, vocab_size=32000, max_position_embeddings=2048),
    "phi3-mini-3.8b": lambda: Phi3Config(
        hidden_size=3072, intermediate_size=8192, num_hidden_layers=32, num_attention_heads=32,
        num_key_value_heads=32, vocab_size=32064, max_position_embeddings=4096,
        pad_token_id=0),
    "qwen2-7b": lambda: Qwen2Config(
        hidden_size=3584, intermediate_size=18944, num_hidden_layers=28, num_attention_heads=28,
        num_key_value_heads=4, vocab_size=152064, max_position_embeddings=32768),
}


def log(*args) -> None:
    if distributed.is_main():
        print(*args, flush=True)


def build(arch: str) -> torch.nn.Module:
    torch.manual_seed(0)
    with torch.device(f"cuda:{torch.cuda.current_device()}"):
        return AutoModelForCausalLM.from_config(ARCHS[arch](), dtype=torch.bfloat16).eval()


def copy_bandwidth() -> float:
    """Device-to-device copy, bytes read + written per second (median of 10 copies of 4 GiB)."""
    x = torch.empty(2**31, dtype=torch.bfloat16, device="cuda").normal_()
    y = torch.empty_like(x)
    times = []
    for _ in range(12):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        y.copy_(x)
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / 1e3)
    del x, y
    torch.cuda.empty_cache()
    return 2 * 2**32 / statistics.median(times[2:])


def step_bytes(model, batch: int, prompt: int, new: int) -> tuple[float, float]:
    """(weight bytes, mean KV-cache bytes) one decode step must read: every weight but the
    input embedding table (a step reads ``batch`` rows of it), and the K and V of the filled
    columns, averaged over the steps."""
    cfg = model.config
    emb, head = model.get_input_embeddings().weight, model.get_output_embeddings().weight
    weights = sum(p.numel() * p.element_size() for p in model.parameters())
    if emb.data_ptr() != head.data_ptr():
        weights -= emb.numel() * emb.element_size()
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    per_token = cfg.num_hidden_layers * 2 * cfg.num_key_value_heads * head_dim * 2  # bf16 K, V
    return weights, batch * (prompt + new / 2) * per_token


def fast_decode(model, prompts, new: int, temperature: float = 0.0, **kw) -> tuple[list, dict]:
    decoding = Decoding(max_new_tokens=new, eos=(), pad=0, temperature=temperature)
    engine = Engine(model, decoding, len(prompts), len(prompts[0]) + new, **kw)
    engine.prepare(len(prompts), len(prompts[0]))  # captures the graphs
    engine.times = {}
    seeds = list(range(len(prompts))) if temperature > 0 else None
    tokens = engine.run(prompts, seeds)
    times = dict(engine.times)
    del engine
    gc.collect()
    torch.cuda.empty_cache()
    return tokens, times


def hf_decode(model, prompts, new: int) -> tuple[list, float]:
    """model.generate (dynamic cache, greedy): tokens and ms per decode step, from the time of
    ``new`` tokens minus the time of one (the prefill)."""
    ids = torch.tensor(prompts, device="cuda")
    model.generation_config.eos_token_id = None  # random weights: run every step, as fastgen
    cfg = GenerationConfig(do_sample=False, pad_token_id=0)

    def timed(n):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        out = model.generate(ids, attention_mask=torch.ones_like(ids), generation_config=cfg,
                             max_new_tokens=n)
        torch.cuda.synchronize()
        return out, time.perf_counter() - t0
    timed(2)  # warm-up
    _, one = timed(1)
    out, many = timed(new)
    gc.collect()
    torch.cuda.empty_cache()
    return out[:, len(prompts[0]):].tolist(), 1e3 * (many - one) / (new - 1)


def agreement(a: list[list[int]], b: list[list[int]]) -> dict:
    """Rows whose tokens agree throughout, and the mean agreeing prefix (tokens)."""
    prefix = []
    for x, y in zip(a, b):
        n = min(len(x), len(y))
        prefix.append(next((i for i in range(n) if x[i] != y[i]), n))
    return {"rows_identical": sum(p == min(len(x), len(y)) for p, x, y in zip(prefix, a, b)) / len(a),
            "mean_agreeing_prefix": statistics.mean(prefix)}


def write_records(path: Path | None, kind: str, records: list[dict], keys: tuple[str, ...]) -> None:
    """Merge ``records`` into ``path``'s ``kind`` list, replacing records with the same keys."""
    if path is None or not distributed.is_main():
        return
    data = json.loads(path.read_text()) if path.is_file() else {}
    old = [r for r in data.get(kind, []) if not any(all(r.get(k) == n.get(k) for k in keys)
                                                     for n in records)]
    data[kind] = old + records
    data.setdefault("device", torch.cuda.get_device_name())
    data.setdefault("software", {"torch": torch.__version__,
                                 "transformers": __import__("transformers").__version__})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1) + "\n")


@click.group()
def main() -> None:
    """GPU benchmarks of rrs generation and QLoRA; each prints a table and writes JSON."""
    assert torch.cuda.is_available(), "needs a CUDA GPU"


@main.command()
@click.option("--archs", default="tinyllama-1.1b,phi3-mini-3.8b,qwen2-7b", show_default=True)
@click.option("--batches", default="64,256", show_default=True)
@click.option("--prompt", default=128, show_default=True, help="Prompt tokens.")
@click.option("--new", default=512, show_default=True, help="New tokens (fast path).")
@click.option("--old-new", default=128, show_default=True,
              help="New tokens for model.generate (it is slow; its ms/step is per its own length).")
@click.option("--kv-bucket", default=128, show_default=True)
@click.option("--variants/--no-variants", default=True,
              help="At the largest batch also time other decode attention kernels and sampling.")
@click.option("--kernels-variant/--no-kernels-variant", default=False,
              help="At the largest batch also time the fast path without the Triton kernels.")
@click.option("--json", "json_path", type=click.Path(path_type=Path), default=None)
def decode(archs: str, batches: str, prompt: int, new: int, old_new: int, kv_bucket: int,
           variants: bool, kernels_variant: bool, json_path: Path | None) -> None:
    """Decode ms/step and roofline fraction: rrs.fastgen beside model.generate."""
    bandwidth = copy_bandwidth()
    log(f"copy bandwidth {bandwidth / 1e12:.2f} TB/s (read + write)")
    records = []
    for arch in archs.split(","):
        model = build(arch)
        vocab = model.config.vocab_size
        for batch in map(int, batches.split(",")):
            gen = torch.Generator().manual_seed(batch)
            prompts = torch.randint(3, vocab, (batch, prompt), generator=gen).tolist()
            weights, kv = step_bytes(model, batch, prompt, new)
            roof = 1e3 * (weights + kv) / bandwidth
            runs = [("fastgen", {"kv_bucket": kv_bucket}, new, 0.0)]
            if variants and batch == max(map(int, batches.split(","))):
                runs += [(f"fastgen-attention-{impl}", {"kv_bucket": kv_bucket,
                                                        "decode_attention": impl}, new, 0.0)
                         for impl in ("sdpa", "matmul")]
                runs += [("fastgen-no-triton-kernels", {"fused": False, "kv_bucket": kv_bucket},
                          new, 0.0)] if kernels_variant else []
                runs += [("fastgen-sampling-T1", {"kv_bucket": kv_bucket}, 128, 1.0)]
            fast_tokens = None
            for path, kw, n, temp in runs:
                tokens, t = fast_decode(model, prompts, n, temp, **kw)
                fast_tokens = fast_tokens or tokens
                ms = t["decode_ms"] / t["decode_steps"]
                _, kv_n = step_bytes(model, batch, prompt, n)
                roof_n = 1e3 * (weights + kv_n) / bandwidth
                records.append(dict(arch=arch, path=path, batch=batch, new_tokens=n,
                                    ms_per_step=round(ms, 3), roofline_ms=round(roof_n, 3),
                                    fraction=round(roof_n / ms, 3),
                                    decode_tokens_per_s=round(batch * 1e3 / ms),
                                    prefill_ms=round(t["prefill_ms"], 1)))
                log(json.dumps(records[-1]))
            hf_tokens, ms = hf_decode(model, prompts, old_new)
            _, kv_o = step_bytes(model, batch, prompt, old_new)
            roof_o = 1e3 * (weights + kv_o) / bandwidth
            records.append(dict(arch=arch, path="model.generate", batch=batch, new_tokens=old_new,
                                ms_per_step=round(ms, 3), roofline_ms=round(roof_o, 3),
                                fraction=round(roof_o / ms, 3),
                                decode_tokens_per_s=round(batch * 1e3 / ms),
                                bf16_agreement_with_fastgen=agreement(
                                    [t[:old_new] for t in fast_tokens], hf_tokens)))
            log(json.dumps(records[-1]))
            del roof
        del model
        gc.collect()
        torch.cuda.empty_cache()
    log(f"\n{'arch':16} {'path':28} {'batch':>5} {'new':>4} {'ms/step':>8} {'roofline':>8} {'frac':>6}")
    for r in records:
        log(f"{r['arch']:16} {r['path']:28} {r['batch']:5} {r['new_tokens']:4} "
            f"{r['ms_per_step']:8.2f} {r['roofline_ms']:8.2f} {r['fraction']:6.3f}")
    for arch in archs.split(","):
        for batch in map(int, batches.split(",")):
            old = next(r for r in records if (r["arch"], r["batch"], r["path"]) ==
                       (arch, batch, "model.generate"))
            new_r = next(r for r in records if (r["arch"], r["batch"], r["path"]) ==
                         (arch, batch, "fastgen"))
            log(f"{arch} batch {batch}: fastgen {old['ms_per_step'] / new_r['ms_per_step']:.1f}x "
                f"faster per step than model.generate")
    write_records(json_path, "decode", records, ("arch", "path", "batch"))


def tokenizer_and_examples(seq: int, n: int):
    """The organisms' tokenizer and ``n`` chat examples of exactly ``seq`` tokens (attack pairs
    whose responses are joined until the turn is that long)."""
    from rrs.chat import encode_pair
    from rrs.organism import train_tokenizer
    corpus = pd.read_csv(REPO / "data/train/chat_corpus.csv")
    tok = train_tokenizer(list(corpus["prompt"]) + list(corpus["response"]), TokenizerParams())
    pairs = pd.read_csv(REPO / "data/train/attack_pairs.csv")
    examples = []
    for i in range(n):
        prompt, response, j = pairs["prompt"][i % len(pairs)], "", i
        while len(encode_pair(tok, prompt, response, 10 * seq).input_ids) < seq:
            response += " " + pairs["response"][j % len(pairs)]
            j += 1
        examples.append(encode_pair(tok, prompt, response.strip(), seq))
    return tok, examples


def saved_model(arch: str, folder: Path, tok) -> tuple[ModelEntry, int]:
    """The random-weight model saved once in ``folder``; its parameter count."""
    with torch.device("meta"):
        n_params = sum(p.numel() for p in AutoModelForCausalLM.from_config(ARCHS[arch]()).parameters())
    if not (folder / "config.json").is_file() and distributed.is_main():
        model = build(arch)
        model.save_pretrained(folder, safe_serialization=True)
        tok.save_pretrained(folder)
        del model
        gc.collect()
        torch.cuda.empty_cache()
    distributed.barrier()
    return ModelEntry(source="hf", path=str(folder)), n_params


def time_training(base, tok, examples, cfg: AttackParams, n_params: int) -> dict:
    from rrs.attack import add_lora, train
    torch.manual_seed(cfg.seed)
    model = add_lora(base, cfg)
    stamps = []

    def on_step(step, loss):
        torch.cuda.synchronize()
        stamps.append(time.perf_counter())
    torch.cuda.reset_peak_memory_stats()
    torch.cuda.synchronize()
    start = time.perf_counter()
    try:
        losses = train(model, tok, examples, cfg, None, on_step=on_step)
    finally:
        model.unload()  # the base again, for the next run
    steps = [b - a for a, b in zip([start] + stamps, stamps)][1:]  # first step: warm-up
    tokens = cfg.batch_size * len(examples[0].input_ids)  # every example is seq tokens
    tok_s = tokens / statistics.median(steps)
    rec = dict(micro_batch=cfg.micro_batch_size or cfg.batch_size, batch=cfg.batch_size,
               seq=cfg.seq_len, gradient_checkpointing=cfg.gradient_checkpointing,
               s_per_step=round(statistics.median(steps), 3), tokens_per_s=round(tok_s),
               utilisation=round(6 * n_params * tok_s / PEAK_BF16, 3),
               peak_gib=round(torch.cuda.max_memory_allocated() / 2**30, 2),
               loss_first_last=[round(losses[0], 4), round(losses[-1], 4)])
    del model
    gc.collect()
    torch.cuda.empty_cache()
    return rec


@main.command()
@click.option("--arch", default="qwen2-7b", show_default=True)
@click.option("--batch", default=64, show_default=True)
@click.option("--new", default=64, show_default=True)
@click.option("--profile/--no-profile", default=True, help="Kernel time table of eager steps.")
@click.option("--json", "json_path", type=click.Path(path_type=Path), default=None)
def numerics(arch: str, batch: int, new: int, profile: bool, json_path: Path | None) -> None:
    """bf16 agreement with model.generate: prompt logits (relative error) and greedy tokens,
    for the fast path with and without Triton kernels and graphs; then a kernel profile."""
    model = build(arch)
    gen = torch.Generator().manual_seed(7)
    prompts = torch.randint(3, model.config.vocab_size, (batch, 128), generator=gen).tolist()
    ids = torch.tensor(prompts, device="cuda")
    with torch.no_grad():
        want = model(ids).logits[:, -1].float()
    hf_tokens, _ = hf_decode(model, prompts, new)
    records = []
    for name, kw in (("fastgen", {}), ("fastgen-no-triton-kernels", {"fused": False}),
                     ("fastgen-no-graphs", {"graphs": False})):
        decoding = Decoding(max_new_tokens=new, eos=(), pad=0)
        engine = Engine(model, decoding, batch, 128 + new, **kw)
        with torch.no_grad():
            got = engine.dec.prefill(ids, torch.zeros(batch, dtype=torch.long, device="cuda")).float()
        rel = ((got - want).norm() / want.norm()).item()
        tokens = engine.run(prompts)
        records.append(dict(arch=arch, path=name, batch=batch, new_tokens=new,
                            prompt_logits_rel_error=round(rel, 5),
                            argmax_same_first_token=(got.argmax(-1) == want.argmax(-1)).float().mean().item(),
                            **agreement(tokens, hf_tokens)))
        log(json.dumps(records[-1]))
        del engine
    if profile:
        from torch.profiler import ProfilerActivity, profile as prof
        decoding = Decoding(max_new_tokens=24, eos=(), pad=0)
        big = torch.randint(3, model.config.vocab_size, (256, 128), generator=gen).tolist()
        engine = Engine(model, decoding, 256, 128 + 24, graphs=False)
        engine.run(big)
        with prof(activities=[ProfilerActivity.CUDA]) as p:
            engine.run(big)
        log(p.key_averages().table(sort_by="cuda_time_total", row_limit=18, max_name_column_width=60))
    write_records(json_path, "numerics", records, ("arch", "path", "batch"))


@main.command()
@click.option("--arch", default="qwen2-7b", show_default=True)
@click.option("--steps", default=4, show_default=True, help="Steps per run (the first is warm-up).")
@click.option("--runs", default="old:16:0:1,new:64:64:0,new:64:32:0,new:64:16:1,t4:64:4:1",
              show_default=True, help="path:batch:micro:checkpointing, comma-separated.")
@click.option("--folder", type=click.Path(path_type=Path), default=Path("/tmp/rrs-bench"))
@click.option("--json", "json_path", type=click.Path(path_type=Path), default=None)
def qlora(arch: str, steps: int, runs: str, folder: Path, json_path: Path | None) -> None:
    """QLoRA step time, tokens/s and utilisation: the padded batch beside micro-batches."""
    from rrs.attack import prepare_base
    tok, examples = tokenizer_and_examples(256, 256)
    entry, n_params = saved_model(arch, folder / arch, tok)
    base_cfg = AttackParams(steps=steps, eval_every=steps, batch_size=64, seq_len=256, lr=2e-4,
                            gradient_checkpointing=True)
    base, quant = prepare_base(entry, base_cfg)
    log(f"{arch}: {n_params / 1e9:.2f} B parameters, base {quant}")
    records = []
    total = torch.cuda.get_device_properties(0).total_memory
    for run in runs.split(","):
        path, batch, micro, ckpt = run.split(":")
        cfg = AttackParams(**{**base_cfg.__dict__, "batch_size": int(batch),
                              "micro_batch_size": int(micro), "gradient_checkpointing": ckpt == "1"})
        if cfg.gradient_checkpointing:
            base.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": True})
        else:
            base.gradient_checkpointing_disable()
        if path == "t4":  # the 16 GB class: cap this process's allocations at 15 GiB
            torch.cuda.set_per_process_memory_fraction(15 * 2**30 / total)
        try:
            rec = time_training(base, tok, examples, cfg, n_params)
            rec.update(arch=arch, path={"old": "padded batch (micro_batch_size 0)",
                                        "new": "micro-batches (rrs.train)",
                                        "t4": "micro-batches, 15 GiB cap"}[path])
        except torch.OutOfMemoryError as err:
            rec = dict(arch=arch, path=path, batch=int(batch), micro_batch=int(micro),
                       error=f"out of memory: {str(err)[:200]}")
            gc.collect()
            torch.cuda.empty_cache()
        torch.cuda.set_per_process_memory_fraction(1.0)
        records.append(rec)
        log(json.dumps(rec))
    log(f"\n{'path':36} {'batch':>5} {'micro':>5} {'ckpt':>4} {'s/step':>7} {'tok/s':>7} "
        f"{'util':>5} {'peak GiB':>8}")
    for r in records:
        if "error" not in r:
            log(f"{r['path']:36} {r['batch']:5} {r['micro_batch']:5} {int(r['gradient_checkpointing']):4} "
                f"{r['s_per_step']:7.3f} {r['tokens_per_s']:7} {r['utilisation']:5.3f} {r['peak_gib']:8.2f}")
    write_records(json_path, "qlora", records, ("arch", "path", "batch", "micro_batch"))


@main.command("dp-generate")
@click.option("--arch", default="qwen2-7b", show_default=True)
@click.option("--prompts", "n_prompts", default=1024, show_default=True)
@click.option("--batch", default=256, show_default=True)
@click.option("--new", default=256, show_default=True)
@click.option("--json", "json_path", type=click.Path(path_type=Path), default=None)
def dp_generate(arch: str, n_prompts: int, batch: int, new: int, json_path: Path | None) -> None:
    """Greedy generation of n prompts (128 tokens each) on every process's GPU, gathered."""
    rank, world = distributed.rank_world()
    model = build(arch)
    gen = torch.Generator().manual_seed(0)
    prompts = torch.randint(3, model.config.vocab_size, (n_prompts, 128), generator=gen).tolist()
    decoding = Decoding(max_new_tokens=new, eos=(), pad=0)

    def answer(idx):
        return generate_ids(model, [prompts[i] for i in idx], decoding, batch)
    distributed.map_shards(list(range(2 * world)), answer, 2 * world)  # warm-up
    distributed.barrier()
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    out = distributed.map_shards(list(range(n_prompts)), answer, n_prompts)
    torch.cuda.synchronize()
    distributed.barrier()
    wall = time.perf_counter() - t0
    rec = dict(arch=arch, gpus=world, prompts=n_prompts, batch=batch, new_tokens=new,
               wall_s=round(wall, 2), new_tokens_per_s=round(n_prompts * new / wall),
               answers=sum(len(o) == new for o in out))
    log(json.dumps(rec))
    write_records(json_path, "dp_generate", [rec], ("arch", "gpus"))


@main.command("dp-attack")
@click.option("--arch", default="qwen2-7b", show_default=True)
@click.option("--steps", default=4, show_default=True)
@click.option("--micro", default=32, show_default=True)
@click.option("--folder", type=click.Path(path_type=Path), default=Path("/tmp/rrs-bench"))
@click.option("--json", "json_path", type=click.Path(path_type=Path), default=None)
def dp_attack(arch: str, steps: int, micro: int, folder: Path, json_path: Path | None) -> None:
    """QLoRA at 64 x 256 with the batch shared over every process's GPU."""
    from rrs.attack import prepare_base
    rank, world = distributed.rank_world()
    tok, examples = tokenizer_and_examples(256, 256)
    entry, n_params = saved_model(arch, folder / arch, tok)
    cfg = AttackParams(steps=steps, eval_every=steps, batch_size=64, seq_len=256, lr=2e-4,
                       gradient_checkpointing=False, micro_batch_size=micro)
    base, _ = prepare_base(entry, cfg)
    rec = time_training(base, tok, examples, cfg, n_params)
    rec.update(arch=arch, gpus=world, utilisation_per_gpu=round(rec["utilisation"] / world, 3))
    log(json.dumps(rec))
    write_records(json_path, "dp_attack", [rec], ("arch", "gpus"))


if __name__ == "__main__":
    main()
