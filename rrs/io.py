"""Atomic file writing and strict table reading.

Every writer goes through :func:`atomic_path`: the data are written to a temporary file in
the destination folder and renamed over the target only when complete, so a crash never
leaves a half-written output and never destroys the previous one.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Iterator, Sequence

import pandas as pd


class InputError(ValueError):
    """Bad input file: the message names the file, the row (1-based data row) and the field."""

    def __init__(self, path: str | os.PathLike, message: str, row: int | None = None,
                 field: str | None = None):
        where = str(path)
        if row is not None:
            where += f", row {row}"
        if field is not None:
            where += f", field '{field}'"
        super().__init__(f"{where}: {message}")
        self.path, self.row, self.field = str(path), row, field


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` on success."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix or target.suffix,
                               dir=target.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; outputs get normal permissions
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_text(target: str | os.PathLike, text: str) -> None:
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(target: str | os.PathLike, obj) -> None:
    """Deterministic JSON (sorted keys, fixed indent, trailing newline)."""
    write_text(target, json.dumps(obj, indent=2, sort_keys=True, allow_nan=False) + "\n")


def write_csv(target: str | os.PathLike, frame: pd.DataFrame) -> None:
    """CSV with fixed float formatting so reruns are byte-identical.

    Python's CSV writer quotes a field holding ``\n`` (the line terminator) but not one holding
    a bare ``\r``, which every reader then splits the row at; a model can write one. A frame
    with such a text is written with every field quoted, so it reads back exactly.
    """
    texts = frame.select_dtypes(include=["object", "string"])
    bare_cr = any(texts[c].astype(str).str.contains("\r", regex=False).any() for c in texts)
    buf = io.StringIO()
    frame.to_csv(buf, index=False, lineterminator="\n",
                 quoting=csv.QUOTE_ALL if bare_cr else csv.QUOTE_MINIMAL)
    write_text(target, buf.getvalue())


def read_table(path: str | os.PathLike, required: Sequence[str] = ()) -> pd.DataFrame:
    """Read a CSV or JSONL file as strings, checking encoding, emptiness and required fields.

    Raises:
        InputError: naming the file, and the row and field where one is at fault.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise InputError(path, f"not valid UTF-8 (byte {err.start}, line {line})") from None
    if not text.strip():
        raise InputError(path, "file is empty")
    if path.suffix.lower() in {".jsonl", ".ndjson"}:
        records = []
        for i, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as err:
                raise InputError(path, f"invalid JSON ({err.msg})", row=i) from None
            if not isinstance(rec, dict):
                raise InputError(path, "each line must be a JSON object", row=i)
            records.append(rec)
        frame = pd.DataFrame.from_records(records)
        for col in required:
            if col not in frame.columns:
                raise InputError(path, "missing required field", row=1, field=col)
            missing = frame[col].isna()
            if missing.any():
                row = int(missing.to_numpy().argmax()) + 1
                raise InputError(path, "missing required field", row=row, field=col)
        return frame.astype({c: str for c in required})
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except pd.errors.ParserError as err:  # e.g. a row with more fields than the header
        raise InputError(path, f"malformed CSV ({str(err).strip()})") from None
    for col in required:
        if col not in frame.columns:
            raise InputError(path, f"missing column (has: {', '.join(frame.columns)})",
                             field=col)
    if frame.empty:
        raise InputError(path, "no data rows")
    _check_short_rows(path, text, required)
    return frame


def _check_short_rows(path: Path, text: str, required: Sequence[str]) -> None:
    """Raise InputError for a CSV row too short to hold a required field (pandas pads it)."""
    limit = csv.field_size_limit(len(text) + 1)  # the default (128 KiB) would reject long cells
    try:
        header, *records = [r for r in csv.reader(io.StringIO(text)) if r]  # as pandas: no blanks
    except csv.Error as err:
        raise InputError(path, f"malformed CSV ({err})") from None
    finally:
        csv.field_size_limit(limit)
    for row, record in enumerate(records, start=1):
        for col in required:
            if col in header and header.index(col) >= len(record):
                raise InputError(path, f"missing value (row has {len(record)} of {len(header)} "
                                 "fields)", row=row, field=col)
