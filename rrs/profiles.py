"""Study profiles: ``conf/`` (Hydra) composed into ``params.yaml``, as ``dvc exp run`` does.

``conf/config.yaml`` holds the knobs every study shares and names the default profile;
``conf/study/<name>.yaml`` overrides what a profile changes (models, prompt sets, budgets).
``dvc exp run -S study=<name>`` composes and runs in one go (DVC's Hydra integration, enabled
in ``.dvc/config``); :func:`compose` is the same composition through DVC's own function, for
``rrs study <name>`` followed by a plain ``dvc repro``, and for the test that keeps the
committed ``params.yaml`` equal to the composition of ``conf/``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Sequence

import click
import yaml

from rrs.io import atomic_path

HEADER = """\
# Generated from conf/ (conf/config.yaml + conf/study/{study}.yaml) by DVC's Hydra composition:
# edit conf/, then `dvc exp run` (or `rrs study {study}` and `dvc repro`). `dvc exp run -S
# section.key=value` changes one knob for one experiment.
"""


def profiles(conf_dir: Path = Path("conf")) -> list[str]:
    return sorted(p.stem for p in (Path(conf_dir) / "study").glob("*.yaml"))


def compose(conf_dir: Path, overrides: Sequence[str] = ()) -> dict:
    """The params that ``dvc exp run -S <overrides>`` would write, as a mapping."""
    from dvc.utils.hydra import compose_and_dump
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "params.yaml"
        compose_and_dump(out, str(Path(conf_dir).resolve()), None, "config", "", list(overrides))
        return yaml.safe_load(out.read_text(encoding="utf-8"))


def write_params(target: Path, conf_dir: Path, overrides: Sequence[str] = ()) -> dict:
    params = compose(conf_dir, overrides)
    study = next((o.split("=", 1)[1] for o in overrides if o.startswith("study=")), "<default>")
    text = HEADER.format(study=study) + yaml.safe_dump(params, sort_keys=False)
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return params


@click.command("study")
@click.argument("name", required=False)
@click.option("-S", "--set-param", "overrides", multiple=True,
              help="Extra override, as for `dvc exp run -S` (e.g. attack.steps=100).")
@click.option("--conf", "conf_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default="conf", show_default=True)
@click.option("--params", "params_path", type=click.Path(path_type=Path), default="params.yaml",
              show_default=True)
def cli(name: str | None, overrides: tuple[str, ...], conf_dir: Path, params_path: Path) -> None:
    """Write params.yaml for study profile NAME (conf/study/NAME.yaml); list them without NAME."""
    if name is None:
        click.echo("\n".join(profiles(conf_dir)))
        return
    if name not in profiles(conf_dir):
        raise click.BadParameter(f"no profile {name!r} (have: {', '.join(profiles(conf_dir))})")
    write_params(params_path, conf_dir, [f"study={name}", *overrides])
    click.echo(f"{params_path}: study {name}; now `dvc repro` (or `dvc exp run`)")
