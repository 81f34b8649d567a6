"""Data parallelism over every visible GPU, through ``accelerate`` (one process per GPU, NCCL).

``rrs attack``, ``rrs generate`` and ``rrs stability-generate`` call :func:`relaunch` first:
on a machine with two or more visible GPUs the command re-runs itself under ``accelerate
launch`` with one process per GPU (``CUDA_VISIBLE_DEVICES`` picks which; set
``RRS_SINGLE_PROCESS=1`` to keep one process). The processes then split the work:

- generation: each answers every ``world``-th prompt of the length-sorted list
  (:func:`map_shards`) and every process receives all answers;
- the attack: each runs forward/backward on its share of every step's batch and the LoRA
  gradients are summed over processes before the optimizer step (``rrs.train``).

Only the main process writes a stage's outputs. On CPU, or with one GPU, nothing changes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Callable, Sequence, TypeVar

import torch

T = TypeVar("T")
_STATE = None


def _state():
    """accelerate's process state, created (process group and device) on first use."""
    global _STATE
    if _STATE is None and int(os.environ.get("WORLD_SIZE", "1")) > 1:
        from accelerate import PartialState
        _STATE = PartialState()  # NCCL process group; sets this process's CUDA device
    return _STATE


def rank_world() -> tuple[int, int]:
    """(this process's rank, number of processes); (0, 1) outside ``accelerate launch``."""
    state = _state()
    return (0, 1) if state is None else (state.process_index, state.num_processes)


def is_main() -> bool:
    return rank_world()[0] == 0


def barrier() -> None:
    if rank_world()[1] > 1:
        torch.distributed.barrier()


def all_reduce_sum(tensor: torch.Tensor) -> torch.Tensor:
    """Sum ``tensor`` over processes, in place."""
    if rank_world()[1] > 1:
        torch.distributed.all_reduce(tensor)
    return tensor


def map_shards(order: Sequence[int], fn: Callable[[Sequence[int]], list[T]], n: int) -> list[T]:
    """Apply ``fn`` to this process's share of ``order`` (every ``world``-th index) and
    gather: returns ``fn``'s result for every index ``0..n-1`` on every process."""
    rank, world = rank_world()
    mine = list(order[rank::world])
    pairs = list(zip(mine, fn(mine) if mine else []))
    if world > 1:
        parts: list = [None] * world
        torch.distributed.all_gather_object(parts, pairs)
        pairs = [pair for part in parts for pair in part]
    out: list = [None] * n
    for i, value in pairs:
        out[i] = value
    return out


def relaunch() -> None:
    """Re-run this command with one process per visible GPU (2 or more), then exit with its
    status. Returns at once inside a launched process, with one GPU or none, or with
    ``RRS_SINGLE_PROCESS=1``."""
    if "WORLD_SIZE" in os.environ or os.environ.get("RRS_SINGLE_PROCESS") == "1":
        return
    gpus = torch.cuda.device_count()
    if gpus < 2:
        return
    # NVLink multicast (NVLS) stays off unless the caller chose otherwise
    env = {"NCCL_NVLS_ENABLE": "0", **os.environ}
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu",
           "--num_processes", str(gpus), "--num_machines", "1", "--mixed_precision", "no",
           "--dynamo_backend", "no", "-m", "rrs.cli", *sys.argv[1:]]
    sys.exit(subprocess.call(cmd, env=env))
