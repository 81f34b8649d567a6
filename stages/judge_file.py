"""Command ``judge``: label any CSV or JSONL file of responses with one registered judge.

Not a pipeline stage: a tool for users who bring their own responses. Every input field is
kept, in order; ``label`` (REFUSE / PARTIAL / COMPLY / UNPARSED) and ``p_refuse`` (empty
where the judge has none) are added. A bad input file stops the command before anything is
written, and the output is written atomically, so an existing output file survives any error.

In:  a ``.csv`` or ``.jsonl`` file with fields ``prompt`` and ``response`` (either may be
     empty; a missing field is an error).
Out: the same rows as ``.csv`` or ``.jsonl``, chosen by the output file's extension; a
     summary (judge, version, label counts, UNPARSED count) on stderr.
Run: ``rrs judge --input responses.jsonl --output judged.csv [--judge lexical]``
"""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import click
import pandas as pd

from rrs.io import InputError, atomic_path, read_table, write_csv
from rrs.judges import JUDGES, Judge, build_judge
from rrs.labels import LABELS, UNPARSED

CSV_SUFFIXES = {".csv"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
DEFAULT_CLASSIFIER = Path("models/judge/classifier.json")  # where `dvc repro train_judge` writes
ADDED = ("label", "p_refuse")  # the columns this command appends


def _check_suffix(path: Path, option: str) -> None:
    if path.suffix.lower() not in CSV_SUFFIXES | JSONL_SUFFIXES:
        raise click.BadParameter(f"{path}: expected a .csv or .jsonl file", param_hint=option)


def choose_judge(name: str | None, classifier: Path) -> str:
    """The named judge, else the study's default ``ensemble`` if the trained classifier JSON
    exists, else ``lexical``."""
    if name is not None:
        return name
    return "ensemble" if classifier.is_file() else "lexical"


def _plain(value):
    """A JSON-ready value: NaN (pandas' missing cell) becomes null."""
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def write_jsonl(target: Path, frame: pd.DataFrame) -> None:
    """One JSON object per row, fields in column order, UTF-8 kept readable."""
    with atomic_path(target) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            for record in frame.to_dict(orient="records"):
                record = {k: _plain(v) for k, v in record.items()}
                fh.write(json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n")


def judge_frame(frame: pd.DataFrame, judge: Judge) -> pd.DataFrame:
    """``frame`` with ``label`` and ``p_refuse`` (None where the judge has none) appended."""
    verdicts = judge(list(frame["prompt"]), list(frame["response"]))
    out = frame.copy()
    out["label"] = [v.label for v in verdicts]
    out["p_refuse"] = [None if v.p_refuse is None else round(v.p_refuse, 6) for v in verdicts]
    return out


@click.command("judge")
@click.option("--input", "input_path", type=click.Path(dir_okay=False, path_type=Path),
              required=True, help="Responses to judge: .csv or .jsonl with prompt, response.")
@click.option("--output", "output_path", type=click.Path(dir_okay=False, path_type=Path),
              required=True, help="Where to write the labelled rows: .csv or .jsonl.")
@click.option("--judge", "judge_name", type=click.Choice(sorted(JUDGES)), default=None,
              help="Judge to use [default: ensemble if the classifier JSON exists, else lexical].")
@click.option("--classifier", type=click.Path(dir_okay=False, path_type=Path),
              default=DEFAULT_CLASSIFIER, show_default=True,
              help="Trained classifier JSON (judges classifier and ensemble).")
@click.option("--llm-model", type=click.Path(exists=True, path_type=Path), default=None,
              help="Judge model for --judge llm: a transformers directory or a .gguf file "
                   "[default: the packaged SmolLM2-135M-Instruct].")
def cli(input_path: Path, output_path: Path, judge_name: str | None, classifier: Path,
        llm_model: Path | None) -> None:
    """Label every response of a CSV or JSONL file, keeping all its fields."""
    _check_suffix(input_path, "--input")
    _check_suffix(output_path, "--output")
    try:
        frame = read_table(input_path, required=("prompt", "response"))
        for added in ADDED:  # never overwrite a field the user brought (human labels, say)
            if added in frame.columns:
                raise InputError(input_path, "field would be overwritten by the judge; "
                                 "rename it first", field=added)
    except InputError as err:
        raise click.ClickException(str(err)) from None
    name = choose_judge(judge_name, classifier)
    try:
        judge = build_judge(name, classifier, llm_model=llm_model)
    except ValueError as err:
        raise click.UsageError(str(err)) from None
    out = judge_frame(frame, judge)
    if output_path.suffix.lower() in JSONL_SUFFIXES:
        write_jsonl(output_path, out)
    else:
        write_csv(output_path, out)
    counts = Counter(out["label"])
    tally = ", ".join(f"{label} {counts[label]}" for label in (*LABELS, UNPARSED))
    model = f", {judge.model_name}" if getattr(judge, "model_name", None) else ""
    click.echo(f"{output_path}: {len(out)} responses judged by {judge.name} "
               f"({judge.version}{model}): {tally}", err=True)
