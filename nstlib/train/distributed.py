"""Several processes, one training run: PyTorch's own distributed engine as ``torchrun`` sets it up.

``torchrun --nproc_per_node=N -m nstlib train-fast ...`` starts N processes and gives each RANK,
WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT. ``session`` joins them into a process group (env://;
nccl on CUDA, gloo on a CPU) and leaves it at the end. Without WORLD_SIZE (a plain ``python`` or a
notebook) it is a no-op: one process, rank 0. Only rank 0 writes files and prints progress; an error raised
inside the session on another process is marked with its rank (``error.process``), so that the command line
prints it there too: rank 0 may be stopped by torchrun before it meets the same error, or never meet it.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from .. import env
from ..core.errors import UsageError


@dataclass(frozen=True)
class Context:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def main(self) -> bool:
        """The process that writes checkpoints, logs and previews."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def world_size() -> int:
    """How many processes torchrun started (1 without torchrun)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def is_main() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def _device_for(device, local_rank: int, distributed: bool) -> torch.device:
    dev = env.device(device)
    if dev.type == "cuda" and dev.index is None:
        dev = torch.device("cuda", local_rank % torch.cuda.device_count()) if distributed else dev
    if distributed and dev.type not in ("cuda", "cpu"):
        raise UsageError(f"several processes train on CUDA GPUs or on the CPU, not on {dev.type}: pass device='cpu', "
                         f"or run one process",
                         cli=f"several processes train on CUDA GPUs or on the CPU, not on {dev.type}: add --device "
                             f"cpu, or run one process (python -m nstlib train-fast ...)")
    return dev


@contextlib.contextmanager
def session(device=None):
    """Join torchrun's process group for the duration (a no-op without torchrun); yields a ``Context``."""
    n = world_size()
    rank, local_rank = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
    dev = _device_for(device, local_rank, n > 1)
    created = False
    if n > 1 and not dist.is_initialized():
        if dev.type == "cuda":
            torch.cuda.set_device(dev)
        dist.init_process_group("nccl" if dev.type == "cuda" else "gloo", init_method="env://")
        created = True
    try:
        yield Context(rank=rank if n > 1 else 0, world_size=n, local_rank=local_rank, device=dev)
    except Exception as error:
        if n > 1 and rank != 0:  # this process's own error: rank 0 may never meet it, so this one must say it
            error.process = rank
        raise
    finally:
        if created and dist.is_initialized():
            dist.destroy_process_group()


def mean_and_any(ctx: Context, values: torch.Tensor, flag: bool) -> tuple[list[float], bool]:
    """The mean of ``values`` over the processes, and whether ``flag`` is set in any of them: one collective
    per step (the loss terms for the log, and a stop request that every process then honours)."""
    if not ctx.distributed:
        return values.tolist(), flag
    packed = torch.cat([values.float().reshape(-1), values.new_tensor([float(flag)], dtype=torch.float32)])
    dist.all_reduce(packed)
    packed[:-1] /= ctx.world_size
    out = packed.tolist()
    return out[:-1], out[-1] > 0


def union(ctx: Context, items) -> list:
    """The union of every process's ``items`` (e.g. the files each one had to skip), sorted."""
    if not ctx.distributed:
        return sorted(set(items))
    gathered = [None] * ctx.world_size
    dist.all_gather_object(gathered, sorted(set(items)))
    return sorted({x for part in gathered for x in part})


def barrier(ctx: Context) -> None:
    if ctx.distributed:
        dist.barrier()
