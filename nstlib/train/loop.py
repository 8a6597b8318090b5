"""The training loop: batches epoch after epoch, one optimisation step at a time, a stop at a step boundary.

A ``Run`` holds what a lesson built (its network, optimiser, loss function, data) and the loop drives it:
``run`` steps until the settings' ``steps``, a NaN loss or a stop request, then writes the last checkpoint.
The loss function is the lesson's: ``loss_fn(output, batch)`` returns a dict of loss terms with ``total``.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from . import checkpoint as checkpoints
from . import content, distributed, stopping
from .record import TrainRecord
from .reporter import Reporter


@dataclass
class Run:
    """The pieces of one training run. ``settings`` needs ``steps``, ``batch`` and ``lr``."""

    ctx: distributed.Context
    settings: object
    net: nn.Module  # the network itself (``model`` may be its DDP wrapper)
    model: nn.Module
    optimizer: torch.optim.Optimizer
    scaler: object
    loss_fn: object
    sampler: content.EpochSampler
    loader: object
    dtype: torch.dtype | None
    channels_last: bool
    record: TrainRecord


def grad_scaler(device: torch.device, enabled: bool):
    """fp16 needs its loss scaled so small gradients do not vanish; disabled, it passes everything through."""
    if hasattr(torch.amp, "GradScaler"):
        return torch.amp.GradScaler(device.type, enabled=enabled)
    return torch.cuda.amp.GradScaler(enabled=enabled)  # torch < 2.3


def run(job: Run, reporter: Reporter, stop: stopping.StopRequests) -> None:
    """Train until done or stopped, then the last checkpoint and a word on how the run ended."""
    try:
        loop(job, reporter, stop)
    finally:
        reporter.close()
    finish(job, reporter)


def batches(job: Run):
    """Batches forever, epoch after epoch, starting where the record says (part-way into an epoch when
    resuming). The record's epoch moves on when an epoch's batches run out."""
    record, empty = job.record, 0
    while True:
        job.sampler.set_epoch(record.epoch)
        job.sampler.start = record.epoch_samples // job.ctx.world_size
        produced = False
        for batch in job.loader:
            produced = True
            yield batch
        empty = 0 if produced else empty + 1
        if empty > 1:
            raise ValueError("an epoch produced no batch: the global batch is larger than the content")
        record.epoch, record.epoch_samples = record.epoch + 1, 0


def _autocast(device: torch.device, dtype):
    return torch.autocast(device.type, dtype=dtype) if dtype is not None else contextlib.nullcontext()


def step(job: Run, crops: torch.Tensor, stop_requested: bool):
    """One optimisation step on this process's crops. Returns the loss terms averaged over all processes,
    whether any process asked to stop, and whether the loss is finite (if not, the weights stay as they were)."""
    dev = job.ctx.device
    crops = crops.to(dev, non_blocking=True)
    if job.channels_last:  # the layout change on the uint8 batch: a quarter of the bytes to copy
        crops = crops.contiguous(memory_format=torch.channels_last)
    crops = content.as_float(crops)  # keeps the memory format
    with _autocast(dev, job.dtype):
        output = job.model(crops)
    # Outside autocast: the loss network is already a low-precision copy, and the Gram products and
    # relative errors stay in fp32 (autocast would put an fp16 Gram product back in fp16, where it overflows).
    terms = job.loss_fn(output, crops)
    job.optimizer.zero_grad(set_to_none=True)
    job.scaler.scale(terms["total"]).backward()  # DDP averages the gradients over the processes here
    values, stop = distributed.mean_and_any(job.ctx, torch.stack([t.detach().float() for t in terms.values()]),
                                            stop_requested)
    terms = dict(zip(terms, values))
    finite = math.isfinite(terms["total"])
    if finite:
        job.scaler.step(job.optimizer)
        job.scaler.update()
    return terms, stop, finite


def loop(job: Run, reporter: Reporter, stop: stopping.StopRequests) -> None:
    record, settings = job.record, job.settings
    start = time.perf_counter() - record.seconds
    feed = batches(job)
    job.net.train()
    try:
        while record.step < settings.steps:
            waited = time.perf_counter()
            crops, skipped = next(feed)
            waited = time.perf_counter() - waited
            reporter.note_skipped(skipped)
            terms, stop_now, finite = step(job, crops, stop.requested is not None)
            if not finite:
                record.stopped = "nan"
                reporter.say(f"training stopped at step {record.step}: the loss became {terms['total']}; "
                             f"lower lr (now {settings.lr}) or the style weight")
                break
            record.step += 1
            record.samples += settings.batch
            record.epoch_samples += settings.batch
            record.seconds = time.perf_counter() - start
            record.rows.append({"step": record.step, "epoch": record.epoch, "samples": record.samples,
                                "seconds": round(record.seconds, 4), "data_seconds": round(waited, 4), **terms})
            reporter.after_step(job)
            if stop_now:
                record.stopped = "interrupted"
                break
    except KeyboardInterrupt:  # a second Ctrl-C in one process: stop at once
        record.stopped = "interrupted"
    finally:
        feed.close()
        record.seconds = time.perf_counter() - start
        job.net.eval()


def finish(job: Run, reporter: Reporter) -> None:
    """Every process's skipped files in the record, the last checkpoint, and a word on how the run ended."""
    record = job.record
    job.loader = None  # lets persistent DataLoader workers go now, not when the process ends
    record.skipped = [list(s) for s in distributed.union(job.ctx, [tuple(s) for s in record.skipped])]
    if reporter.checkpoint is not None:
        record.checkpoint = str(checkpoints.save(reporter.checkpoint, job.net, job.optimizer, record, job.scaler))
    if record.skipped:
        names = ", ".join(Path(p).name for p, _ in record.skipped[:5])
        more = f" and {len(record.skipped) - 5} more" if len(record.skipped) > 5 else ""
        reporter.say(f"skipped {len(record.skipped)} unreadable file(s): {names}{more}")
    if record.stopped == "interrupted":
        where = f"; checkpoint: {record.checkpoint}" if record.checkpoint else ""
        reporter.say(f"training interrupted at step {record.step}: returning the network as it is{where}")
    distributed.barrier(job.ctx)
