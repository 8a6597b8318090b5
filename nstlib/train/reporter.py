"""What rank 0 shows and writes during a training run: progress bar, CSV rows, previews, checkpoints."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tqdm.auto import tqdm

from .. import images
from . import checkpoint as checkpoints
from . import log


class Reporter:
    """Rank 0's progress bar, ``losses.csv``, previews and periodic checkpoints; the other ranks get the same
    object with everything switched off.

    preview: ``preview(net)`` -> a PIL image of the network's current result, shown in place in a notebook
    and saved in ``run_dir/previews`` every ``preview_every`` steps (the network is in eval mode meanwhile).
    """

    def __init__(self, run, run_dir=None, checkpoint=None, checkpoint_every: int = 200, preview_every: int = 0,
                 preview: Callable | None = None, progress: bool = True, desc: str = "training"):
        main = run.ctx.main
        self.main, self._record = main, run.record
        self.checkpoint = Path(checkpoint) if checkpoint is not None and main else None
        self.checkpoint_every = checkpoint_every
        self.run_dir = Path(run_dir) if run_dir is not None and main else None
        self.csv = log.CsvLog(self.run_dir / "losses.csv").start(run.record.rows) if self.run_dir else None
        self.preview_every = preview_every if main and preview is not None else 0
        self.preview = preview
        self.seen_skipped = {p for p, _ in run.record.skipped}
        if self.preview_every:
            from ..plotting import LivePicture  # plotting loads matplotlib: only when previews are shown

            self.live = LivePicture()
        self.bar = tqdm(total=run.settings.steps, initial=run.record.step, disable=not (progress and main), desc=desc)

    def say(self, message: str) -> None:
        if self.main:
            self.bar.write(message) if not self.bar.disable else print(message)

    def note_skipped(self, skipped) -> None:
        for path, reason in skipped:
            if path not in self.seen_skipped:
                self.seen_skipped.add(path)
                self._record.skipped.append([path, reason])
                self.say(f"skipping unreadable file {path} ({reason})")

    def after_step(self, run) -> None:
        row, step = run.record.rows[-1], run.record.step
        self.bar.set_postfix(loss=f"{row['total']:.3f}", content=f"{row['content']:.3f}",
                             style=f"{row['style']:.3f}", tv=f"{row['tv']:.4f}", refresh=False)
        self.bar.update(1)
        if self.csv is not None:
            self.csv.add(row)
        if self.preview_every and step % self.preview_every == 0:
            run.net.eval()
            picture = self.preview(run.net)
            run.net.train()
            self.live.update(picture)
            if self.run_dir is not None:
                images.save(picture, log.preview_path(self.run_dir, step))
        if self.checkpoint is not None and step % self.checkpoint_every == 0 and step < run.settings.steps:
            # (the last step's checkpoint is ``loop.finish``'s, which also holds the whole run's skipped files)
            checkpoints.save(self.checkpoint, run.net, run.optimizer, run.record, run.scaler)

    def close(self) -> None:
        self.bar.close()
        if self.csv is not None:
            self.csv.close()
