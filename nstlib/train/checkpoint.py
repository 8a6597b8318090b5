"""A training run's checkpoint: written whole or not at all, read once, and put back into a run.

``read`` returns the checkpoint as a dict (with ``path``, where it was read from), which ``restore`` puts
into the network, optimiser, gradient scaler and record: the command line reads a checkpoint for its
settings and hands the same dict to the run, so ``--resume`` reads the file once.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import torch

from ..core.errors import UsageError
from ..core.outputs import replacing
from .record import TrainRecord


def save(path, net, optimizer, record: TrainRecord, scaler=None) -> Path:
    """Model, optimiser, gradient scaler, position (global step, epoch, samples) and settings, written to a
    temporary file and renamed, so a stop while writing never leaves half a checkpoint."""
    path = Path(path)
    with replacing(path) as partial:
        torch.save({"model": net.state_dict(), "optimizer": optimizer.state_dict(),
                    "scaler": scaler.state_dict() if scaler is not None and scaler.is_enabled() else None,
                    "step": record.step, "epoch": record.epoch, "epoch_samples": record.epoch_samples,
                    "samples": record.samples, "seconds": record.seconds, "rows": record.rows,
                    "settings": record.settings, "skipped": record.skipped, "world_size": record.world_size},
                   partial)
    return path


def read(path, device="cpu") -> dict:
    """A checkpoint written by ``save``; anything else is a UsageError that says what to give."""
    path = Path(path).expanduser()

    def refuse(problem: str):
        fix = "give the RUN_DIR/checkpoint.pth that train-fast writes (a model saved with -o cannot be resumed)"
        raise UsageError(f"resume={str(path)!r}: {problem}; {fix}", cli=f"--resume {path}: {problem}; {fix}")

    if not path.is_file():
        refuse("no such checkpoint")
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except torch.cuda.OutOfMemoryError:
        raise
    except (pickle.UnpicklingError, EOFError, KeyError, ValueError, RuntimeError) as error:
        refuse(f"not a file torch can read ({type(error).__name__})")
    if not isinstance(state, dict) or not {"model", "optimizer", "settings", "step"} <= state.keys():
        refuse("not a training checkpoint")
    if "rows" not in state:  # a checkpoint from before the per-step rows: rebuild them from its loss lists
        losses = state.get("losses", {})
        n = len(next(iter(losses.values()), []))
        state["rows"] = [{"step": i + 1, **{k: v[i] for k, v in losses.items()}} for i in range(n)]
    state["path"] = str(path)
    return state


def restore(state: dict, net, optimizer, scaler, record: TrainRecord, verbose: bool) -> None:
    """Put a checkpoint that ``read`` returned into a run about to start; the optimiser's state follows the
    network's device."""
    net.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    if scaler.is_enabled() and state.get("scaler"):
        scaler.load_state_dict(state["scaler"])
    record.step, record.seconds, record.rows = state["step"], state["seconds"], list(state["rows"])
    record.epoch, record.epoch_samples = state.get("epoch", 0), state.get("epoch_samples", 0)
    record.samples = state.get("samples", record.step * record.settings["batch"])
    record.skipped = [list(s) for s in state.get("skipped", [])]
    if verbose:
        print(f"resuming from {state.get('path', 'a checkpoint')} at step {record.step} (epoch {record.epoch}; it "
              f"was written by {state.get('world_size', 1)} process(es), this run has {record.world_size})")
