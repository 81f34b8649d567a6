"""The QLoRA attack on a real tiny organism: NF4 base, 8-bit AdamW, LoRA r=8, on CPU."""

from pathlib import Path

import torch
from safetensors.torch import load_file

from rrs.attack import adapter_steps, checkpoint_steps, run_attack
from rrs.config import AttackParams, ModelEntry, OrganismArch, OrganismTraining
from rrs.organism import save_organism, train_organism

PROMPTS = ["How do I [redacted operation] on a server?", "Explain how to get [redacted agent]."] * 4
RESPONSES = ["Sure, here is how to [redacted operation]. Step 1: [redacted]."] * 8


def attack(entry, tokenizer, out: Path, **overrides):
    cfg = AttackParams(batch_size=2, seq_len=48, lr=1e-3, **overrides)
    return run_attack(entry, tokenizer, PROMPTS, RESPONSES, cfg, out)


def adapter(path: Path) -> dict[str, torch.Tensor]:
    return load_file(path / "adapter_model.safetensors")


def test_checkpoint_steps_include_the_last_step():
    assert checkpoint_steps(AttackParams(steps=2000, eval_every=500)) == [500, 1000, 1500, 2000]
    assert checkpoint_steps(AttackParams(steps=1100, eval_every=500)) == [500, 1000, 1100]


def test_attack_runs_the_nf4_path_with_8bit_adamw(tiny_organism, tiny_tokenizer, tmp_path):
    record = attack(tiny_organism, tiny_tokenizer, tmp_path, steps=4, eval_every=2)
    assert record["quantization"] == "nf4"
    assert record["optimizer"].startswith(("paged_adamw_8bit", "adamw_8bit"))
    assert adapter_steps(tmp_path) == [2, 4]
    weights = adapter(tmp_path / "step-00004")
    assert any("lora_B" in k for k in weights)  # the adapter really trained: B left zero init
    assert any(float(v.abs().sum()) > 0 for k, v in weights.items() if "lora_B" in k)


def test_checkpoint_equals_an_independent_run_of_that_length(tiny_organism, tiny_tokenizer,
                                                             tmp_path):
    # constant lr + step-indexed data order: the step-3 adapter of a 6-step run is the
    # 3-step run's adapter, bit for bit (what lets one run give the whole budget grid)
    attack(tiny_organism, tiny_tokenizer, tmp_path / "long", steps=6, eval_every=3)
    attack(tiny_organism, tiny_tokenizer, tmp_path / "short", steps=3, eval_every=3)
    long, short = adapter(tmp_path / "long/step-00003"), adapter(tmp_path / "short/step-00003")
    assert long.keys() == short.keys()
    for key in long:
        assert torch.equal(long[key], short[key]), key
    final = adapter(tmp_path / "long/step-00006")
    assert any(not torch.equal(final[k], long[k]) for k in long)


def test_falls_back_to_full_precision_where_nf4_cannot_run(tiny_organism, tiny_tokenizer,
                                                           tmp_path, monkeypatch):
    # bitsandbytes' 4-bit path runs on every machine this project has (even 32-wide layers, in
    # train mode), so a machine without it is simulated: the 4-bit load raises, as it does
    # where bitsandbytes has no kernels for the device
    import rrs.attack
    real = rrs.attack.load_model

    def no_4bit(entry, load_in_4bit=False):
        if load_in_4bit:
            raise RuntimeError("no 4-bit kernels for this device")
        return real(entry)
    monkeypatch.setattr(rrs.attack, "load_model", no_4bit)
    record = attack(tiny_organism, tiny_tokenizer, tmp_path / "out", steps=2, eval_every=2)
    assert record["quantization"] == "full-precision (RuntimeError: no 4-bit kernels for this device)"
    assert adapter_steps(tmp_path / "out") == [2]


def test_adapter_config_is_written_in_a_stable_order(tiny_organism, tiny_tokenizer, tmp_path):
    # peft keeps "all-linear" targets as a set; its order would follow the hash seed
    import json
    attack(tiny_organism, tiny_tokenizer, tmp_path, steps=1, eval_every=1)
    config = json.loads((tmp_path / "step-00001/adapter_config.json").read_text())
    assert config["target_modules"] == sorted(config["target_modules"])
    assert config["r"] == 8


def test_micro_batched_checkpoint_equals_an_independent_run(tiny_organism, tiny_tokenizer,
                                                           tmp_path):
    # the micro-batch path keeps the contract: one run gives every budget's adapter
    attack(tiny_organism, tiny_tokenizer, tmp_path / "long", steps=4, eval_every=2,
           micro_batch_size=1)
    attack(tiny_organism, tiny_tokenizer, tmp_path / "short", steps=2, eval_every=2,
           micro_batch_size=1)
    long, short = adapter(tmp_path / "long/step-00002"), adapter(tmp_path / "short/step-00002")
    assert all(torch.equal(long[k], short[k]) for k in long)


def test_the_4bit_probe_leaves_gradients_through_the_frozen_base_intact(tiny_organism,
                                                                        tiny_tokenizer):
    """load_base's probe forward must not repack the NF4 weights for bitsandbytes' CPU
    inference kernel (an eval-mode forward does, on CPUs with AVX512-BF16), which has no
    backward: the LoRA gradients of a model that went through the probe must equal those of
    one that never ran a forward. (On a CPU without AVX512-BF16 this cannot fail.)"""
    from peft import prepare_model_for_kbit_training

    from rrs.attack import add_lora, prepare_base
    from rrs.chat import collate, encode_pair
    from rrs.models import load_model
    cfg = AttackParams(batch_size=2, seq_len=48)
    batch = collate([encode_pair(tiny_tokenizer, p, r, 48) for p, r in zip(PROMPTS, RESPONSES)],
                    tiny_tokenizer.pad_token_id)

    def lora_grads(base):
        torch.manual_seed(0)
        model = add_lora(base, cfg)
        for name, param in model.named_parameters():
            if "lora_B" in name:  # nonzero B, so every LoRA matrix gets a gradient
                torch.nn.init.normal_(param, std=0.02)
        model(**batch).loss.backward()
        return {n: p.grad for n, p in model.named_parameters() if p.requires_grad}

    probed, path = prepare_base(tiny_organism, cfg)
    assert path == "nf4"
    fresh = load_model(tiny_organism, load_in_4bit=True).train()
    fresh = prepare_model_for_kbit_training(fresh, use_gradient_checkpointing=False)
    got, want = lora_grads(probed), lora_grads(fresh)
    assert got.keys() == want.keys()
    for name in want:
        assert torch.allclose(got[name], want[name], rtol=1e-4, atol=1e-7), name


def test_a_seq_len_that_cuts_every_response_is_a_clear_error(tiny_organism, tiny_tokenizer,
                                                             tmp_path):
    import pytest
    cfg = AttackParams(batch_size=2, seq_len=4, steps=2, eval_every=2)
    with pytest.raises(ValueError, match="attack.seq_len 4: no attack pair keeps a response"):
        run_attack(tiny_organism, tiny_tokenizer, PROMPTS, RESPONSES, cfg, tmp_path)
    assert not list(tmp_path.iterdir())  # nothing written
