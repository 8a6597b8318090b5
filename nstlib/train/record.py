"""The record of a training run: its position (step, epoch, samples) and one row of loss terms per step."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..core.records import Rows


@dataclass
class TrainRecord(Rows):
    """A run as it went: one row per step (the step, the epoch, global samples seen, seconds since the start,
    seconds spent waiting for the batch, and every loss term, averaged over all processes). The CSV log
    (``losses.csv``) holds the same rows; ``train.log.read_csv`` reads them back."""

    BOOKKEEPING = ("step", "epoch", "samples", "seconds", "data_seconds")  # the columns that are not loss terms

    settings: dict
    step: int = 0
    epoch: int = 0
    epoch_samples: int = 0  # global samples of the current epoch already used: where a resumed run goes on
    samples: int = 0
    seconds: float = 0.0
    rows: list = field(default_factory=list)
    stopped: str = "finished"  # or "interrupted" (Ctrl-C, SIGTERM) or "nan"
    loss_network: str = ""  # the weights the loss network actually used
    skipped: list = field(default_factory=list)  # [path, reason] of each file that could not be read
    checkpoint: str | None = None  # where the last checkpoint was written
    world_size: int = 1
