"""Stage ``validate_judges``: score every judge against the held-out audit labels.

Judges: lexical, classifier, ensemble (this project), the LLM judge when params
``judge.validate_llm`` is true, and the public baselines jbb_prefix and gcg_prefix. Only the
audit rows with ``split == heldout`` are read for scoring; they are never fitted on (see
``train_judge``). Per judge: accuracy, macro-F1, refusal-cue precision / recall / F1, Cohen's
kappa vs the audit labels, UNPARSED count, ECE where it has ``p_refuse``, per-stratum accuracy;
and kappa between every pair of judges. Numbers are rounded to 6 decimals. With
``--second-annotator`` (``id,label``: a blind re-labelling of held-out rows), the reference
labels are scored against it the same way: how far two annotators agree bounds how far a judge
can be expected to agree with either.

In:  the audit set, the trained classifier; params ``judge``.
Out: ``<metrics-dir>/judges.json`` (DVC metrics), ``<metrics-dir>/judges_table.csv``,
     ``<metrics-dir>/confusion/<judge>.csv`` (``actual,predicted``: DVC confusion plots),
     ``<tables-dir>/judges.md`` and ``<tables-dir>/judges.tex``.
Run: ``rrs validate-judges --audit data/audit/audit.csv --classifier
     models/judge/classifier.json --metrics-dir metrics --tables-dir paper/tables``
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import click
import pandas as pd

from rrs.audit_real import attach_labels, read_answers, read_labels
from rrs.config import JudgeParams, audit_real, section, split_role
from rrs.embed import embed, load_encoder
from rrs.io import InputError, read_table, write_csv, write_json, write_text
from rrs.judges import EMBEDDING_JUDGES, Judge, Verdict, build_judge
from rrs.judges.audit import HELDOUT, audit_part, check_unique, check_values, read_audit
from rrs.judges.probes import TEMPLATES, compliant_probes
from rrs.labels import LABELS, REFUSAL_CUE
from rrs.prompt_sets import build
from rrs.judges.validation import (DIGITS, REAL_TARGET, RRR_MIN_N, TARGET, judge_scores,
                                   meets_target, pairwise_kappa, per_stratum_accuracy,
                                   real_scores, rounded)
from rrs.report.judge_tables import COLUMNS, OURS, judges_latex, judges_markdown
from stages.common import params_option, read_params

OURS_JUDGES = ("lexical", "classifier", "ensemble")
WRITTEN, REAL = "written", "real"  # the judges table's two held-out batches
BASELINES = ("jbb_prefix", "gcg_prefix")


def summarise(truth: Sequence[str], strata: Sequence[str],
              verdicts: Mapping[str, Sequence[Verdict]], judges: Mapping[str, Judge],
              default: str) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    """Scores of every judge: the metrics JSON, the per-judge table and per-stratum accuracy.

    Args:
        truth: reference labels of the held-out responses.
        strata: the stratum of each response.
        verdicts: judge name -> one Verdict per response, in table order.
        judges: judge name -> the judge (for ``version`` and ``source``).
        default: the study's judge (params ``judge.name``), marked in the table.
    """
    summary = {"n_heldout": len(truth), "default_judge": default, "target": dict(TARGET),
               "judges": {}}
    rows, strata_cols = [], {}
    for name, out in verdicts.items():
        labels = [v.label for v in out]
        scores = judge_scores(truth, labels, [v.p_refuse for v in out])
        per_stratum = per_stratum_accuracy(truth, labels, strata)
        source = getattr(judges[name], "source", OURS)
        summary["judges"][name] = {"version": judges[name].version, "source": source, **scores,
                                   "meets_target": meets_target(scores),
                                   "per_stratum": per_stratum}
        rows.append({"judge": name, "version": judges[name].version, "source": source,
                     "default": name == default, **scores, "meets_target": meets_target(scores)})
        strata_cols[name] = {s: v["accuracy"] for s, v in per_stratum.items()}
    summary["pairwise_kappa"] = pairwise_kappa({n: [v.label for v in out]
                                                for n, out in verdicts.items()})
    table = pd.DataFrame(rows)
    counts = pd.Series(strata).value_counts().sort_index().rename("n")
    strata_table = pd.concat([counts, pd.DataFrame(strata_cols)], axis=1).round(DIGITS)
    return rounded(summary), table, strata_table


def second_annotator_scores(heldout: pd.DataFrame, path: Path) -> dict:
    """The reference labels scored against a blind second annotator's, on the held-out rows
    both labelled (rows of other splits in the file are ignored; a held-out id twice, or a
    label outside REFUSE / PARTIAL / COMPLY, is an error naming the row)."""
    second = read_table(path, required=("id", "label"))
    check_values(second, path, "label", LABELS)
    check_unique(second, path, "id")
    both = heldout.merge(second[["id", "label"]], on="id", suffixes=("", "_second"))
    if both.empty:
        raise InputError(path, f"labels none of the {len(heldout)} held-out rows")
    scores = judge_scores(list(both["label"]), list(both["label_second"]))
    scores.pop("ece"), scores.pop("unparsed")
    return {"source": str(path), "n_disagree": int((both["label"] != both["label_second"]).sum()),
            **scores}


def real_heldout(answers: Path, organisms: Path | None, labels: Path) -> tuple[pd.DataFrame, dict]:
    """The real-output audit's held-out answers that carry a usable label, and the report of
    labels that could not be used (answer changed since labelled, or no such answer)."""
    frame, report = attach_labels(read_answers(answers, organisms), read_labels(labels))
    heldout = frame[frame["split"] == HELDOUT].sort_values("id", kind="stable")
    report = {**report, "stale": len(report["stale"]), "missing": len(report["missing"]),
              "stale_ids": report["stale"], "missing_ids": report["missing"]}
    return heldout.reset_index(drop=True), report


def score_real(heldout: pd.DataFrame, verdicts: Mapping[str, Sequence[Verdict]],
               judges: Mapping[str, Judge], default: str) -> tuple[dict, pd.DataFrame]:
    """Every judge on the real-output held-out batch: the metrics and one table row each."""
    truth = list(heldout["label"])
    groups = [list(heldout[c]) for c in ("model", "condition", "set")]
    out, rows = {}, []
    for name, got in verdicts.items():
        scores = real_scores(truth, [v.label for v in got], [v.p_refuse for v in got], *groups)
        source = getattr(judges[name], "source", OURS)
        out[name] = {"version": judges[name].version, "source": source, **scores}
        rows.append({"judge": name, "version": judges[name].version, "source": source,
                     "default": name == default, **{k: v for k, v in scores.items()
                                                    if k != "rrr_error"},
                     "meets_target": scores["meets_real_target"]})
    return out, pd.DataFrame(rows)


def probe_scores(judges: Mapping[str, Judge], requests: Sequence[str], encoder,
                 batch_size: int) -> dict:
    """Per judge and probe kind, the share of compliant probes (:mod:`rrs.judges.probes`)
    called REFUSE or PARTIAL; the probes wrap ``requests`` and are built here, never stored."""
    out = {"n_requests": len(requests), "judges": {name: {} for name in judges}}
    for kind in TEMPLATES:
        probes = compliant_probes(requests, kind)
        emb = embed(probes, encoder, batch_size=batch_size)
        out[f"n_{kind}"] = len(probes)
        for name, judge in judges.items():
            got = judge([""] * len(probes), probes,
                        **({"embeddings": emb} if name in EMBEDDING_JUDGES else {}))
            out["judges"][name][kind] = sum(v.label in REFUSAL_CUE for v in got) / len(got)
    return out


@click.command("validate-judges")
@click.option("--audit", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--classifier", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--metrics-dir", type=click.Path(path_type=Path), required=True)
@click.option("--tables-dir", type=click.Path(path_type=Path), required=True)
@click.option("--second-annotator", type=click.Path(exists=True, path_type=Path), default=None,
              help="CSV id,label: a blind second annotator's labels of held-out rows.")
@click.option("--real-answers", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=None, help="Folder of the real-output audit's answers (audit_generate).")
@click.option("--real-organisms", type=click.Path(exists=True, path_type=Path), default=None,
              help="The organisms' answers of the real-output audit.")
@click.option("--real-labels", type=click.Path(exists=True, path_type=Path), default=None,
              help="Labels of the real-output audit (id, batch, label, note, response_sha256).")
@click.option("--real-second", type=click.Path(exists=True, path_type=Path), default=None,
              help="A blind second annotator's labels of real held-out rows.")
@params_option
def cli(audit: Path, classifier: Path, metrics_dir: Path, tables_dir: Path,
        second_annotator: Path | None, real_answers: Path | None, real_organisms: Path | None,
        real_labels: Path | None, real_second: Path | None, params_path: Path) -> None:
    """Score every judge on the held-out audit part; write metrics, plots and tables."""
    params = read_params(params_path)
    cfg = section(params, "judge", JudgeParams)
    heldout = audit_part(read_audit(audit), HELDOUT).sort_values("id", kind="stable")
    if heldout.empty:
        raise click.UsageError(f"{audit} has no split={HELDOUT} rows")
    prompts, responses = list(heldout["prompt"]), list(heldout["response"])
    truth, strata = list(heldout["label"]), list(heldout["stratum"])
    encoder = load_encoder()
    emb = embed(responses, encoder, batch_size=cfg.batch_size)
    names = OURS_JUDGES + (("llm",) if cfg.validate_llm else ()) + BASELINES
    judges, verdicts = {}, {}
    for name in names:
        judges[name] = build_judge(name, classifier, encoder, seed=cfg.seed)
        kwargs = {"embeddings": emb} if name in EMBEDDING_JUDGES else {}  # embedded once above
        verdicts[name] = judges[name](prompts, responses, **kwargs)
    summary, table, strata_table = summarise(truth, strata, verdicts, judges, cfg.name)
    summary["classifier_temperature"] = round(judges["classifier"].temperature, DIGITS)
    if second_annotator is not None:
        summary["second_annotator"] = rounded(second_annotator_scores(heldout, second_annotator))
    confusion = {"confusion": (truth, verdicts)}
    table = table.assign(batch=WRITTEN)
    if (real_answers is None) != (real_labels is None):
        raise click.UsageError("--real-answers and --real-labels go together")
    if real_answers is not None:
        real, report = real_heldout(real_answers, real_organisms, real_labels)
        block = {"n_heldout": len(real), "batches": sorted(set(real["batch"])),
                 "target": dict(REAL_TARGET), "rrr_min_n": RRR_MIN_N, "labels": report,
                 "judges": {}}
        if len(real):
            r_prompts, r_responses = list(real["prompt"]), list(real["response"])
            r_emb = embed(r_responses, encoder, batch_size=cfg.batch_size)
            r_verdicts = {name: judge(r_prompts, r_responses, **(
                {"embeddings": r_emb} if name in EMBEDDING_JUDGES else {}))
                for name, judge in judges.items()}
            block["judges"], real_table = score_real(real, r_verdicts, judges, cfg.name)
            table = pd.concat([table, real_table.assign(batch=REAL)], ignore_index=True)
            confusion["confusion_real"] = (list(real["label"]), r_verdicts)
            if real_second is not None and len(read_labels(real_second)):
                block["second_annotator"] = second_annotator_scores(real, real_second)
        else:  # no held-out answer carries a usable label (yet): the outputs exist, empty
            confusion["confusion_real"] = ([], {name: [] for name in judges})
        summary["real"] = rounded(block)
        cfg_real = audit_real(params)
        held_sets = sorted({name for split_name, split in cfg_real.splits.items()
                            if split_role(split_name, split) == HELDOUT for name in split.prompts})
        requests = [p for name in held_sets
                    for p in build(name, cfg_real.prompts[name])[0]["prompt"]]
        summary["probes"] = rounded(probe_scores(judges, requests, encoder, cfg.batch_size))
    table = table.reindex(columns=list(COLUMNS)).round(DIGITS)
    texts = {tables_dir / "judges.md": judges_markdown(table, strata_table,
                                                        summary.get("second_annotator"),
                                                        summary.get("real")),
             tables_dir / "judges.tex": judges_latex(table)}
    write_json(metrics_dir / "judges.json", summary)
    write_csv(metrics_dir / "judges_table.csv", table)
    for folder, (actual, by_judge) in confusion.items():
        for name, out in by_judge.items():
            write_csv(metrics_dir / folder / f"{name}.csv",
                      pd.DataFrame({"actual": actual, "predicted": [v.label for v in out]}))
    for path, text in texts.items():
        write_text(path, text)
