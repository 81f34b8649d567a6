"""Judges: responses (with their prompts) in, one :class:`Verdict` per response out.

Every judge has the signature of JailbreakBench's ``BaseClassifier.__call__``::

    judge(prompts: Sequence[str], responses: Sequence[str]) -> list[Verdict]

and carries a ``name`` and a ``version`` (tied to its phrase file or trained weights) that
the judging stage writes next to every metric computed from its labels.

Usage::

    from rrs.judges import get_judge
    judge = get_judge("lexical")
    judge = get_judge("classifier", path="models/refusal_classifier.json")
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Callable, Mapping, Protocol, Sequence, runtime_checkable

from rrs.labels import LABELS, UNPARSED


@dataclass(frozen=True)
class Verdict:
    """One judged response.

    Attributes:
        label: REFUSE, PARTIAL, COMPLY or UNPARSED (see :mod:`rrs.labels`).
        p_refuse: probability that the response carries a refusal cue (REFUSE or PARTIAL),
            or ``None`` for judges without one (lexical).
    """

    label: str
    p_refuse: float | None = None

    def __post_init__(self):
        if self.label not in (*LABELS, UNPARSED):
            raise ValueError(f"unknown label {self.label!r}")
        if self.p_refuse is not None and not 0.0 <= self.p_refuse <= 1.0:
            raise ValueError(f"p_refuse must lie in [0, 1], got {self.p_refuse}")


@runtime_checkable
class Judge(Protocol):
    """What every registered judge provides."""

    name: str
    version: str

    def __call__(self, prompts: Sequence[str], responses: Sequence[str]) -> list[Verdict]:
        ...


def check_lengths(prompts: Sequence[str], responses: Sequence[str]) -> None:
    """Raise ValueError unless there is exactly one prompt per response."""
    if len(prompts) != len(responses):
        raise ValueError(f"{len(prompts)} prompts but {len(responses)} responses")


def _lexical(**kwargs) -> Judge:
    from rrs.judges.lexical import LexicalJudge

    return LexicalJudge(**kwargs)


def _classifier(path: str, **kwargs) -> Judge:
    from rrs.judges.classifier import RefusalClassifier

    return RefusalClassifier.load(path, **kwargs)


def _ensemble(path: str, **kwargs) -> Judge:
    from rrs.judges.classifier import EnsembleJudge, RefusalClassifier
    from rrs.judges.lexical import LexicalJudge

    return EnsembleJudge(RefusalClassifier.load(path, **kwargs), LexicalJudge())


def _jbb_prefix() -> Judge:
    from rrs.judges.baselines import jbb_prefix_judge

    return jbb_prefix_judge()


def _gcg_prefix() -> Judge:
    from rrs.judges.baselines import gcg_prefix_judge

    return gcg_prefix_judge()


def _llm(model_dir: str, gguf_file: str | None = None, **kwargs) -> Judge:
    from rrs.judges.llm import LLMJudge

    return LLMJudge(model_dir, gguf_file=gguf_file, **kwargs)


# name -> factory; imports are lazy so the lexical judge never loads torch.
JUDGES: Mapping[str, Callable[..., Judge]] = MappingProxyType({
    "lexical": _lexical,
    "classifier": _classifier,  # needs path= to the trained JSON
    "ensemble": _ensemble,  # needs path= to the trained JSON
    "jbb_prefix": _jbb_prefix,  # public baseline: JailbreakBench's StringClassifier phrases
    "gcg_prefix": _gcg_prefix,  # public baseline: GCG's (llm-attacks) test prefixes
    "llm": _llm,  # needs model_dir= (see rrs.judges.llm.default_llm_judge_source)
})


def get_judge(name: str, **kwargs) -> Judge:
    """Build the judge registered as ``name`` with the factory's keyword arguments.

    Raises:
        ValueError: for an unregistered name; the message lists the known names.
    """
    try:
        factory = JUDGES[name]
    except KeyError:
        raise ValueError(f"unknown judge {name!r}; known judges: {', '.join(sorted(JUDGES))}"
                         ) from None
    return factory(**kwargs)


# Judges built on the trained classifier: they need its JSON and accept precomputed embeddings.
EMBEDDING_JUDGES = frozenset({"classifier", "ensemble"})


def build_judge(name: str, classifier: str | None = None, encoder=None,
                llm_model: str | None = None, seed: int = 0) -> Judge:
    """Any registered judge, given what its factory needs.

    Args:
        classifier: trained classifier JSON (for EMBEDDING_JUDGES).
        encoder: a loaded sentence encoder to share (for EMBEDDING_JUDGES).
        llm_model: model directory or .gguf file for ``llm`` (default: packaged SmolLM2).
        seed: the LLM judge's seed.

    Raises:
        ValueError: options that don't fit the judge, or a missing classifier or LLM model.
    """
    if llm_model is not None and name != "llm":
        raise ValueError("--llm-model applies only to --judge llm")
    if name in EMBEDDING_JUDGES:
        if classifier is None or not Path(classifier).is_file():
            raise ValueError(f"classifier file {classifier} not found: run `dvc repro "
                             "train_judge` first or pass --classifier")
        return get_judge(name, path=str(classifier), encoder=encoder)
    if name == "llm":
        if llm_model is not None:
            return get_judge("llm", model_dir=str(llm_model), seed=seed)
        from rrs.judges.llm import default_llm_judge_source

        try:
            model_dir, gguf_file = default_llm_judge_source()
        except RuntimeError as err:
            raise ValueError(f"{err}, or pass --llm-model") from None
        return get_judge("llm", model_dir=model_dir, gguf_file=gguf_file, seed=seed)
    return get_judge(name)


__all__ = ["EMBEDDING_JUDGES", "JUDGES", "Judge", "Verdict", "build_judge", "check_lengths",
           "get_judge"]
