"""rrs.distributed: one process per GPU through accelerate; nothing changes on one or none."""

from __future__ import annotations

import sys

import pytest
import torch

from rrs import distributed


def test_one_process_keeps_every_index():
    assert distributed.rank_world() == (0, 1)
    assert distributed.map_shards([2, 0, 1], lambda idx: [i * 10 for i in idx], 3) == [0, 10, 20]


def test_relaunch_runs_the_command_once_per_gpu(monkeypatch):
    calls = []
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    monkeypatch.delenv("RRS_SINGLE_PROCESS", raising=False)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(distributed.subprocess, "call",
                        lambda cmd, env: calls.append((cmd, env)) or 0)
    monkeypatch.setattr(sys, "argv", ["rrs", "generate", "--model", "org-s"])
    with pytest.raises(SystemExit) as done:
        distributed.relaunch()
    assert done.value.code == 0
    cmd, env = calls[0]
    assert cmd[cmd.index("--num_processes") + 1] == "2"
    assert cmd[-5:] == ["-m", "rrs.cli", "generate", "--model", "org-s"]
    assert env["NCCL_NVLS_ENABLE"] == "0"  # NVLink multicast stays off


@pytest.mark.parametrize("gpus, env", [(1, {}), (2, {"RRS_SINGLE_PROCESS": "1"}),
                                       (2, {"WORLD_SIZE": "2"})])
def test_relaunch_returns_where_there_is_nothing_to_spread(monkeypatch, gpus, env):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: gpus)
    monkeypatch.setattr(distributed.subprocess, "call", lambda *a, **k: pytest.fail("launched"))
    assert distributed.relaunch() is None
