"""Study profiles: conf/ composed by DVC's Hydra into params.yaml, each profile valid and typed."""

from __future__ import annotations

import pytest
import yaml

from rrs.attack import checkpoint_steps
from rrs.config import (AttackParams, GenerateParams, StabilityParams, audit_real, benchmarks,
                        fetched, load_params, models, section)
from rrs.profiles import compose, profiles
from tests.conftest import REPO
from tests.reduced import run


def test_committed_params_are_the_composition_of_conf():
    # `dvc exp run` rewrites params.yaml from conf/: the two must never drift apart
    assert load_params(REPO / "params.yaml") == compose(REPO / "conf")


def test_dvc_composes_with_hydra():
    assert "enabled = true" in (REPO / ".dvc/config").read_text().split("[hydra]")[1]


@pytest.mark.parametrize("study", ["organisms", "smollm2", "paper"])
def test_every_profile_composes_into_valid_typed_params(study):
    params = compose(REPO / "conf", [f"study={study}"])
    registry = models(params)  # checks hub / gguf entries against `fetched`
    audit = audit_real(params)  # the real-output audit's model is fetched in every profile
    assert registry and set(fetched(params)) <= set(registry) | set(audit.models)
    for name in benchmarks(params):
        assert params["data"]["harmful"] == f"data/benchmarks/{name}.csv"
    for key, cls in (("attack", AttackParams), ("generate", GenerateParams),
                     ("stability", StabilityParams)):
        section(params, key, cls)


def test_the_paper_profile_carries_the_papers_settings():
    params = compose(REPO / "conf", ["study=paper"])
    attack = section(params, "attack", AttackParams)
    assert (attack.lora_r, attack.quantization, attack.optimizer, attack.lr, attack.batch_size,
            attack.seq_len, attack.steps) == (8, "nf4", "paged_adamw_8bit", 2e-4, 64, 256, 2000)
    assert {500, 1000, 2000} <= set(checkpoint_steps(attack))  # the paper's three budgets
    gen = section(params, "generate", GenerateParams)
    assert (gen.temperature, gen.max_new_tokens) == (0.0, 512)
    repos = {spec.repo for spec in fetched(params).values() if spec.source == "hub"}
    assert repos == {"TinyLlama/TinyLlama-1.1B-Chat-v1.0", "microsoft/Phi-3-mini-4k-instruct",
                     "Qwen/Qwen2-7B-Instruct", "meta-llama/Llama-3.1-8B-Instruct"}
    assert set(params["reference"]["model_aliases"]) == set(models(params))


def test_a_command_line_override_lands_on_top_of_the_profile():
    params = compose(REPO / "conf", ["study=smollm2", "attack.steps=7"])
    assert params["attack"]["steps"] == 7
    assert params["attack"]["lr"] == 2e-4  # the profile's value, not conf/config.yaml's


def test_rrs_study_lists_and_writes_profiles(tmp_path):
    assert set(profiles(REPO / "conf")) >= {"organisms", "smollm2", "paper"}
    out = tmp_path / "params.yaml"
    run(["rrs", "study", "smollm2", "--conf", str(REPO / "conf"), "--params", str(out),
         "-S", "generate.max_new_tokens=9"], REPO)
    written = yaml.safe_load(out.read_text())
    assert written["generate"]["max_new_tokens"] == 9 and "smollm2-135m" in written["models"]


def test_stability_models_default_to_every_model_and_must_be_registered():
    from rrs.config import ParamsError, stability_models
    assert stability_models(compose(REPO / "conf", ["study=paper"])) == ["llama31-8b"]
    params = compose(REPO / "conf")
    assert stability_models(params) == list(models(params))
    params["stability_models"] = {"ghost": {"source": "organism", "path": "x"}}
    with pytest.raises(ParamsError, match="ghost not in models"):
        stability_models(params)
