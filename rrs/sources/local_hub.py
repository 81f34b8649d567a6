"""A local server that speaks the Hugging Face Hub's model-file endpoints, for offline machines.

It serves model folders laid out as ``ROOT/<org>/<name>/<commit>/<files>`` (``<commit>`` a
40-hex id; ``ROOT/<org>/<name>/refs/<branch>`` may hold a commit id) with the three requests
``huggingface_hub`` makes to fetch a pinned revision:

- ``GET  /api/models/<org>/<name>/revision/<rev>``: the commit and its files, each with its
  size and git blob id, and for ``*.safetensors`` the LFS sha256 (as the Hub lists them);
- ``HEAD /<org>/<name>/resolve/<rev>/<file>``: the commit, ETag and size headers;
- ``GET  /<org>/<name>/resolve/<rev>/<file>``: the bytes.

A commit's listing is fixed when :func:`add_model` creates it (``<commit>.json`` beside the
folder), as a Hub commit's hashes are; the bytes are read at request time, so a file changed
afterwards is served with its old listing, which is how a tampering mirror looks to a client.
A folder holding a file ``GATED`` answers 401 with the Hub's ``GatedRepo`` error code unless
the request carries ``Authorization: Bearer <token>`` for a token listed in it. The tests
fetch through the real client from it (``HF_ENDPOINT=http://127.0.0.1:<port>``), and the GPU
proof serves random-weight models of the paper's architectures from it.

    python -m rrs.sources.local_hub --root /srv/hub --port 8089
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import threading
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlparse

import click

COMMIT = re.compile(r"^[0-9a-f]{40}$")
LFS_SUFFIXES = (".safetensors", ".bin", ".gguf", ".model")  # large files the Hub keeps in LFS


@lru_cache(maxsize=4096)
def _hashes(path: str, mtime_ns: int, size: int) -> tuple[str, str]:
    blob, sha = hashlib.sha1(b"blob %d\0" % size), hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 24), b""):
            blob.update(block)
            sha.update(block)
    return blob.hexdigest(), sha.hexdigest()


def file_hashes(path: Path) -> tuple[str, str]:
    """(git blob id, sha256) of a served file, cached by path, mtime and size."""
    st = path.stat()
    return _hashes(str(path), st.st_mtime_ns, st.st_size)


class HubRoot:
    """The served tree; resolves a revision (commit or ref) to a commit folder."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def repo(self, org: str, name: str) -> Path | None:
        folder = self.root / org / name
        return folder if folder.is_dir() else None

    def commit(self, repo: Path, revision: str) -> str | None:
        if COMMIT.match(revision) and (repo / revision).is_dir():
            return revision
        ref = repo / "refs" / revision
        if ref.is_file():
            commit = ref.read_text().strip()
            return commit if (repo / commit).is_dir() else None
        return None


def listing(folder: Path) -> list[dict]:
    """The Hub's file entries of a commit folder: name, size, git blob id, LFS sha256."""
    siblings = []
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        blob, sha = file_hashes(path)
        entry = {"rfilename": path.name, "size": path.stat().st_size, "blobId": blob}
        if path.name.endswith(LFS_SUFFIXES):
            entry["lfs"] = {"sha256": sha, "size": path.stat().st_size, "pointerSize": 134}
        siblings.append(entry)
    return siblings


def commit_dir(root: Path, repo_id: str, commit: str) -> Path:
    """Where ``repo_id`` at ``commit`` lives under ``root`` (write files there, then publish)."""
    if not COMMIT.match(commit):
        raise ValueError(f"commit must be 40 hex digits, got {commit!r}")
    return Path(root) / repo_id / commit


def publish(root: Path, repo_id: str, commit: str, branch: str = "main") -> None:
    """Fix the commit's listing (its hashes, from the files now there) and point
    ``refs/<branch>`` at it."""
    dest = commit_dir(root, repo_id, commit)
    (dest.parent / f"{commit}.json").write_text(json.dumps(listing(dest), indent=1))
    refs = dest.parent / "refs"
    refs.mkdir(exist_ok=True)
    (refs / branch).write_text(commit + "\n")


def add_model(root: Path, repo_id: str, commit: str, source: Path, branch: str = "main") -> Path:
    """Copy a model folder's top-level files into ``root`` as ``repo_id`` at ``commit``, and
    :func:`publish` it."""
    dest = commit_dir(root, repo_id, commit)
    dest.mkdir(parents=True, exist_ok=True)
    for path in sorted(Path(source).iterdir()):
        if path.is_file():
            shutil.copy2(path, dest / path.name)
    publish(root, repo_id, commit, branch)
    return dest


def _handler(hub: HubRoot):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet: tests read the client's errors, not a log
            pass

        def _send(self, status: int, body: bytes = b"", headers: dict | None = None,
                  head: bool = False) -> None:
            self.send_response(status)
            for key, value in {"Content-Length": str(len(body)), **(headers or {})}.items():
                self.send_header(key, value)
            self.end_headers()
            if not head:
                self.wfile.write(body)

        def _error(self, status: int, code: str, message: str, head: bool = False) -> None:
            body = json.dumps({"error": message}).encode()
            self._send(status, body, {"X-Error-Code": code, "X-Error-Message": message,
                                      "Content-Type": "application/json"}, head)

        def _authorised(self, repo: Path) -> bool:
            gate = repo / "GATED"
            if not gate.is_file():
                return True
            tokens = set(gate.read_text().split())
            auth = self.headers.get("Authorization", "")
            return auth.startswith("Bearer ") and auth[len("Bearer "):] in tokens

        def _route(self, head: bool) -> None:
            path = unquote(urlparse(self.path).path)
            api = re.match(r"^/api/models/([^/]+)/([^/]+)/revision/([^/]+)$", path)
            res = re.match(r"^/([^/]+)/([^/]+)/resolve/([^/]+)/(.+)$", path)
            match = api or res
            if not match:
                return self._error(404, "EntryNotFound", f"no route {path}", head)
            org, name, revision = match.group(1), match.group(2), match.group(3)
            repo = hub.repo(org, name)
            if repo is None:
                return self._error(404, "RepoNotFound", f"{org}/{name} not found", head)
            if not self._authorised(repo):
                return self._error(401, "GatedRepo", f"{org}/{name} is gated", head)
            commit = hub.commit(repo, revision)
            if commit is None:
                return self._error(404, "RevisionNotFound", f"no revision {revision}", head)
            folder = repo / commit
            if api:
                return self._send(200, json.dumps(self._info(org, name, commit, folder)).encode(),
                                  {"Content-Type": "application/json"}, head)
            target = folder / res.group(4)
            if not target.is_file() or target.name == "GATED":
                return self._error(404, "EntryNotFound", f"no file {res.group(4)}", head)
            blob, sha = file_hashes(target)
            etag = sha if target.name.endswith(LFS_SUFFIXES) else blob
            self.send_response(200)
            self.send_header("Content-Length", str(target.stat().st_size))
            self.send_header("ETag", f'"{etag}"')
            self.send_header("X-Repo-Commit", commit)
            self.send_header("Content-Type", "application/octet-stream")
            self.end_headers()
            if not head:  # streamed: weight files run to tens of GB
                with open(target, "rb") as fh:
                    shutil.copyfileobj(fh, self.wfile, 1 << 24)

        def _info(self, org: str, name: str, commit: str, folder: Path) -> dict:
            fixed = folder.parent / f"{commit}.json"
            siblings = (json.loads(fixed.read_text()) if fixed.is_file() else listing(folder))
            return {"_id": f"{org}/{name}", "id": f"{org}/{name}", "modelId": f"{org}/{name}",
                    "sha": commit, "private": False, "gated": (folder.parent / "GATED").is_file(),
                    "disabled": False, "siblings": siblings, "tags": [], "cardData": {}}

        def do_GET(self):  # noqa: N802 - http.server's naming
            self._route(head=False)

        def do_HEAD(self):  # noqa: N802
            self._route(head=True)

    return Handler


class LocalHub:
    """The server in a background thread: ``with LocalHub(root) as hub: hub.endpoint``."""

    def __init__(self, root: Path, host: str = "127.0.0.1", port: int = 0):
        self.server = ThreadingHTTPServer((host, port), _handler(HubRoot(root)))
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> "LocalHub":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@click.command()
@click.option("--root", type=click.Path(exists=True, file_okay=False, path_type=Path),
              required=True, help="ROOT/<org>/<name>/<commit>/<files>")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8089, show_default=True)
def main(root: Path, host: str, port: int) -> None:
    """Serve model folders over the Hub's file endpoints (set HF_ENDPOINT to the address)."""
    hub = LocalHub(root, host, port)
    click.echo(f"serving {root} at {hub.endpoint} (HF_ENDPOINT={hub.endpoint})")
    hub.server.serve_forever()


if __name__ == "__main__":
    main()
