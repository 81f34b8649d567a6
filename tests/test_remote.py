"""DVC remotes for real: push the reduced study, pull it into fresh clones, re-run nothing.

One reduced study is reproduced per module. Its default remote is the one `.dvc/config`
ships (a directory beside the clone), also served read-only over HTTP by a static file
server; the S3 remote is a moto server started here on a free localhost port, reached through
dvc-s3 with fake credentials. Every check compares files by md5 with the ones the study
wrote, and "re-runs nothing" is read from DVC's own output.
"""

from __future__ import annotations

import functools
import hashlib
import re
import shutil
import socket
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from tests.reduced import make_reduced_project, run, stages_run

pytestmark = pytest.mark.slow

HEAVY = ("models", "adapters", "generations", "judged")  # what DVC caches and a remote holds
UP_TO_DATE = "Data and pipelines are up to date."
BUCKET = "rrs-test"


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Iterator[Path]:
    """The folder holding the study, its clones and the default remote (../rrs-dvc-store).

    The study with its cache and the store take about 3 GB and each clone about 2 GB (the
    fetched and the tuned SmolLM2 weights are most of it), so every clone is removed when its
    test ends and the folder when the module does: the peak stays near 5 GB."""
    dst = tmp_path_factory.mktemp("remote")
    yield dst
    shutil.rmtree(dst)


@pytest.fixture(autouse=True)
def _remove_clones(root) -> Iterator[None]:
    yield
    for fresh in root.glob("clone-*"):
        shutil.rmtree(fresh)


@pytest.fixture(scope="module")
def origin(root) -> Path:
    return make_reduced_project(root / "origin")


def md5s(project: Path, folders=HEAVY) -> dict[str, str]:
    """md5 of every file under the given folders, keyed by path relative to the project."""
    return {str(p.relative_to(project)): hashlib.md5(p.read_bytes()).hexdigest()
            for folder in folders for p in sorted((project / folder).rglob("*")) if p.is_file()}


def clone(origin: Path, name: str) -> Path:
    dst = origin.parent / name
    run(["git", "clone", "-q", str(origin), str(dst)], origin.parent)
    return dst


def test_default_remote_is_the_directory_beside_the_clone(origin, root):
    out = run(["dvc", "remote", "list"], origin)
    assert re.search(rf"^store\s+{re.escape(str(root / 'rrs-dvc-store'))}\s+\(default\)", out, re.M)


def test_local_remote_round_trip_pulls_one_models_adapters_then_reruns_nothing(origin, root):
    run(["dvc", "push", "-r", "store"], origin)
    # content-addressed: every file of the study is in the store under its own md5, and each
    # stored object's md5 is its name
    stored = {p.parent.name + p.name: p for p in (root / "rrs-dvc-store/files/md5").rglob("*")
              if p.is_file() and p.suffix != ".dir"}
    assert set(md5s(origin).values()) <= set(stored)
    assert all(hashlib.md5(p.read_bytes()).hexdigest() == key for key, p in stored.items())

    fresh = clone(origin, "clone-local")  # no remote configured: the shipped default is used
    run(["dvc", "pull", "attack@org-a"], fresh)
    assert md5s(fresh) == md5s(origin, ["adapters/org-a"])
    assert not (fresh / "adapters/org-b").exists() and not (fresh / "models").exists()

    run(["dvc", "pull"], fresh)
    assert md5s(fresh) == md5s(origin)
    assert UP_TO_DATE in run(["dvc", "status"], fresh)
    assert stages_run(run(["dvc", "repro"], fresh)) == []


def test_repro_pull_on_a_fresh_clone_fetches_instead_of_running(origin):
    run(["dvc", "push", "-r", "store"], origin)
    fresh = clone(origin, "clone-repro-pull")
    out = run(["dvc", "repro", "--pull"], fresh)
    assert stages_run(out) == []
    assert md5s(fresh) == md5s(origin)


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # no access log on stderr
        pass


def test_the_store_published_as_static_files_pulls_over_http(origin, root):
    # publishing read-only: any web server exposing the directory remote is an HTTP remote
    run(["dvc", "push", "-r", "store"], origin)
    handler = functools.partial(QuietHandler, directory=str(root / "rrs-dvc-store"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        fresh = clone(origin, "clone-http")
        url = f"http://127.0.0.1:{server.server_address[1]}"
        run(["dvc", "remote", "add", "--local", "-d", "web", url], fresh)
        run(["dvc", "pull", "attack@org-a"], fresh)
        assert md5s(fresh) == md5s(origin, ["adapters/org-a"])
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3(root):
    """A moto S3 server on localhost with one empty bucket; yields (endpoint url, env for dvc)."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1",  # and no user config or credentials file:
           "AWS_CONFIG_FILE": str(root / "no-aws-config"),
           "AWS_SHARED_CREDENTIALS_FILE": str(root / "no-aws-credentials")}
    client = boto3.client("s3", endpoint_url=url, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    client.create_bucket(Bucket=BUCKET)
    yield url, env, client
    server.stop()


def use_s3(project: Path, url: str) -> None:
    """Make the moto bucket the project's default remote (in the git-ignored config.local)."""
    run(["dvc", "remote", "add", "--local", "-d", "-f", "s3", f"s3://{BUCKET}/store"], project)
    run(["dvc", "remote", "modify", "--local", "s3", "endpointurl", url], project)


def test_s3_round_trip_checksums_one_model_then_everything(origin, s3):
    url, env, client = s3
    use_s3(origin, url)
    run(["dvc", "push", "--run-cache"], origin, env)
    objects = client.list_objects_v2(Bucket=BUCKET, Prefix="store/files/md5/")["Contents"]
    files = {"".join(o["Key"].split("/")[-2:]): o for o in objects if not o["Key"].endswith(".dir")}
    assert set(md5s(origin).values()) <= set(files)
    for key, obj in files.items():  # each object's content has the md5 it is stored under
        etag = obj["ETag"].strip('"')
        if "-" in etag:  # a multipart upload (the fetched model's weights): its ETag is no md5
            body = client.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read()
            etag = hashlib.md5(body).hexdigest()
        assert etag == key, obj["Key"]

    fresh = clone(origin, "clone-s3")
    use_s3(fresh, url)
    run(["dvc", "pull", "attack@org-b"], fresh, env)
    assert md5s(fresh) == md5s(origin, ["adapters/org-b"])
    assert not (fresh / "adapters/org-a").exists() and not (fresh / "models").exists()

    run(["dvc", "pull"], fresh, env)
    assert md5s(fresh) == md5s(origin)
    assert UP_TO_DATE in run(["dvc", "status"], fresh, env)
    assert stages_run(run(["dvc", "repro"], fresh, env)) == []


def test_s3_run_cache_restores_the_stages_dvc_can_restore(origin, s3):
    # Without dvc.lock, only the run-cache knows the study's runs. DVC restores a stage from it
    # only when every output is cached (DVC skips the run-cache for `cache: false` outputs), so
    # organism@/attack@, the prompt attacks and the real-model fetch, tune and audit stages
    # (whose JSON/CSV records are cache: false) re-run, deterministically: the regenerated dvc.lock
    # and results are byte-identical to the committed ones.
    url, env, _ = s3
    use_s3(origin, url)
    run(["dvc", "push", "--run-cache"], origin, env)
    fresh = clone(origin, "clone-run-cache")
    use_s3(fresh, url)
    (fresh / "dvc.lock").unlink()
    out = run(["dvc", "repro", "--pull"], fresh, env)
    restored = set(re.findall(r"Stage '([^']+)' is cached - skipping run", out))
    assert restored == {"tokenizer", "generate@org-a", "generate@org-b", "train_judge", "judge",
                        "stability_generate@org-a", "stability_generate@org-b", "judge_attacks"}
    prompt_attacks = {f"attack_{a}@{m}" for a in ("prefill", "best_of_n", "gcg", "many_shot")
                      for m in ("org-a", "org-b")}
    assert set(stages_run(out)) == {"organism@org-a", "organism@org-b", "attack@org-a",
                                    "attack@org-b", "validate_judges", "metrics", "tables",
                                    "figures", "stability", "stability_figures", "reproduce",
                                    "scaling", "claims", "paper", "attack_metrics",
                                    "attack_report", "fetch@smollm2-135m",
                                    "tune@smollm2-135m-safe",
                                    *(f"audit_{s}@{m}" for s in ("attack", "generate")
                                      for m in ("smollm2-135m", "smollm2-135m-safe")),
                                    *prompt_attacks}
    assert md5s(fresh) == md5s(origin)
    assert run(["git", "status", "--porcelain"], fresh) == ""
