"""What a training run leaves behind for people to follow: a CSV of the loss terms, one row per step, and
preview pictures. The rows are the run record's own (``train.record.TrainRecord.rows``), so the lesson plots a
live run and a CSV from a long ``train-fast`` run the same way (``read_csv``).
"""

from __future__ import annotations

import csv
from pathlib import Path


class CsvLog:
    """Rows of a run, written as they come (flushed, so ``tail -f`` and a notebook can follow them).

    ``start(rows)`` rewrites the file with the rows a resumed run already has: steps logged after its
    checkpoint, by a run that was then killed, are dropped, so the curve continues from the checkpoint.
    """

    def __init__(self, path):
        self.path = Path(path)
        self._file = None
        self._writer = None

    def start(self, rows: list[dict]) -> CsvLog:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("w", newline="")
        for row in rows:
            self._write(row)
        self._file.flush()
        return self

    def add(self, row: dict) -> None:
        self._write(row)
        self._file.flush()

    def _write(self, row: dict) -> None:
        """One row; the first one also sets the columns and writes the header."""
        if self._writer is None:
            self._writer = csv.DictWriter(self._file, fieldnames=list(row))
            self._writer.writeheader()
        self._writer.writerow(row)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def read_csv(path) -> list[dict]:
    """The rows of a run's ``losses.csv``, numbers as numbers: what ``TrainRecord.rows`` holds."""
    with Path(path).open(newline="") as f:
        return [{k: int(v) if k in ("step", "epoch", "samples") else float(v) for k, v in row.items()}
                for row in csv.DictReader(f)]


def preview_path(run_dir, step: int) -> Path:
    return Path(run_dir) / "previews" / f"step_{step:06d}.png"
