"""Content photos for training a fast style network: a folder of any size, or the bundled photos.

``scan`` finds the images under a folder (recursively: JPEG, PNG, WebP). ``ContentCrops`` is a map-style
``torch.utils.data.Dataset`` of random crops: random scale, position, flip and a little colour jitter,
drawn from a generator seeded by ``(seed, epoch, index)``. A crop therefore depends only on which sample it
is, never on which process or DataLoader worker makes it, so one process and several processes with the
same global batch see the same crops. A file that cannot be decoded is skipped (the next readable photo
takes its place, with the same crop) and reported with the batch, so a broken file never stops a long run.
"""

from __future__ import annotations

import math
import os
import signal
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .. import images
from ..core.errors import UsageError, option

SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
#: Photos the lesson trains on when no folder is given; "coffee" and "hopper" are held out.
BUNDLED = ("cat", "astronaut", "rocket", "motorcycle", "hubble", "cells")
#: How many files in a row may fail before a sample gives up (a folder of mostly broken files).
MAX_TRIES = 16
_DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError)


def scan(folder) -> list[Path]:
    """Every JPEG, PNG and WebP file under ``folder`` (subfolders included, hidden files not), sorted."""
    root = Path(folder).expanduser()
    if not root.is_dir():
        what = "is a file" if root.exists() else "no such folder"
        _refuse(folder, f"{what}; give a folder of photos (e.g. COCO's train2017)")
    found = []
    for here, dirs, files in os.walk(root, followlinks=True):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [Path(here) / f for f in files if not f.startswith(".") and Path(f).suffix.lower() in SUFFIXES]
    if not found:
        _refuse(folder, "no JPEG, PNG or WebP images in it or its subfolders; point it at a folder of photos "
                        "(e.g. COCO's train2017)")
    return sorted(found)


def _refuse(folder, problem: str):
    """A content folder that cannot be trained on: a UsageError worded for Python (``content=``) and for the
    command line (``--content``)."""
    raise UsageError(f"{option('content', repr(str(folder)))}: {problem}",
                     cli=f"{option('--content', folder)}: {problem}")


def decode(source, max_side: int) -> Image.Image:
    """A path or PIL image -> an RGB PIL image; JPEGs are decoded at a reduced scale when they are large."""
    if isinstance(source, Image.Image):
        return source
    with Image.open(source) as image:
        image.draft("RGB", (max_side, max_side))  # JPEG only: decode big photos at 1/2, 1/4 or 1/8 size
        return image.convert("RGB")  # forces the full decode, so a truncated file fails here


class ContentCrops(torch.utils.data.Dataset):
    """Random ``crop`` x ``crop`` crops of photos; an item is ``(epoch, index)`` (see ``EpochSampler``).

    sources: paths (decoded when a crop is asked for) or PIL images.
    repeat: each photo appears that many times per epoch (for a handful of photos and a bigger batch).
    Returns ``(crop, skipped)``: a (3, crop, crop) tensor in [0, 1] and a list of ``(path, reason)`` for
    every file that could not be read on the way; ``collate`` keeps both.
    """

    def __init__(self, sources, crop: int = 128, seed: int = 0, repeat: int = 1, max_side: int | None = None):
        self.sources = list(sources)
        if not self.sources:
            raise ValueError("no content photos to train on")
        self.crop, self.seed, self.repeat = crop, seed, repeat
        self.max_side = max_side or max(512, 2 * crop)

    def __len__(self):
        return len(self.sources) * self.repeat

    def __getitem__(self, item):
        epoch, index = item if isinstance(item, tuple) else (0, item)
        rng = np.random.default_rng([self.seed, epoch, index])
        skipped = []
        n = len(self.sources)
        for attempt in range(min(MAX_TRIES, n)):
            source = self.sources[(index + attempt) % n]
            try:
                photo = decode(source, self.max_side)
            except _DECODE_ERRORS as error:
                skipped.append((str(source), f"{type(error).__name__}: {error}"))
                continue
            return self.random_crop(photo, rng), skipped
        raise ValueError(f"{len(skipped)} files in a row could not be read as images (the first: "
                         f"{skipped[0][0]}: {skipped[0][1]}); check the --content folder")

    def random_crop(self, photo: Image.Image, rng: np.random.Generator) -> torch.Tensor:
        """Random scale (35 to 100 % of the shorter side, never below the crop size), position, flip, gain;
        a (3, crop, crop) uint8 tensor."""
        w, h = photo.size
        shrink = min(1.0, self.max_side / max(w, h))  # measure the scale on the photo at most max_side
        vw, vh = max(1, round(w * shrink)), max(1, round(h * shrink))
        side = max(int(min(vw, vh) * rng.uniform(0.35, 1.0)), min(self.crop, vw, vh))
        top, left = int(rng.integers(0, vh - side + 1)), int(rng.integers(0, vw - side + 1))
        flip, gain = rng.random() < 0.5, rng.uniform(0.85, 1.15, size=3)
        box = tuple(v / shrink for v in (left, top, left + side, top + side))
        region = photo.resize((self.crop, self.crop), Image.BILINEAR, box=box)  # antialiased when shrinking
        x = np.asarray(region, dtype=np.float32) * gain.astype(np.float32)
        if flip:
            x = x[:, ::-1]
        # uint8 (0-255): a quarter of float32's bytes through the workers' shared memory and the pinned copy;
        # the training step makes it float in [0, 1] on the device (``as_float``).
        return torch.from_numpy(np.ascontiguousarray(x.clip(0, 255).round().astype(np.uint8))).permute(2, 0, 1)


def bundled(names=BUNDLED, size: int = 512) -> list[Image.Image]:
    """The bundled sample photos (no network needed): the lesson's default content."""
    return [images.sample(n, size=size) for n in names]


def sources(folder=None, crop: int = 128) -> list:
    """The photos of ``folder`` (paths), or the bundled photos when it is None."""
    return scan(folder) if folder is not None else bundled(size=max(512, 2 * crop))


def check_readable(dataset: ContentCrops, tries: int = 8) -> None:
    """Decode a few files spread over the dataset; no readable one at all is an error, said before training."""
    n = len(dataset.sources)
    picks = sorted({int(i) for i in np.linspace(0, n - 1, min(tries, n))})
    failures = []
    for i in picks:
        try:
            decode(dataset.sources[i], dataset.max_side)
            return
        except _DECODE_ERRORS as error:
            failures.append(f"{dataset.sources[i]} ({type(error).__name__})")
    problem = f"none of {len(picks)} files tried could be read as an image: {', '.join(failures[:3])}"
    raise UsageError(f"{problem}; is content= a folder of photos?", cli=f"{problem}; is --content a folder of photos?")


#: Global batches an epoch holds at least: a small folder is repeated (each repeat a different random crop)
#: so that DataLoader workers are not drained and refilled every few steps at each epoch's end.
MIN_EPOCH_BATCHES = 50


def repeats_for(n_photos: int, global_batch: int) -> int:
    """How many times each photo appears per epoch: enough for ``MIN_EPOCH_BATCHES`` global batches."""
    return max(1, math.ceil(MIN_EPOCH_BATCHES * global_batch / n_photos))


class EpochSampler(torch.utils.data.DistributedSampler):
    """A DistributedSampler whose items are ``(epoch, index)``, so that the dataset seeds each crop by its
    epoch even in persistent DataLoader workers, and which can start part-way into an epoch (``start``:
    samples of this process to skip) to resume a run where it stopped."""

    def __init__(self, dataset, num_replicas: int, rank: int, seed: int):
        super().__init__(dataset, num_replicas=num_replicas, rank=rank, shuffle=True, seed=seed, drop_last=True)
        self.start = 0

    def __iter__(self):
        indices = list(super().__iter__())[self.start:]
        return iter([(self.epoch, i) for i in indices])

    def __len__(self):
        return max(0, self.num_samples - self.start)


def as_float(crops: torch.Tensor) -> torch.Tensor:
    """A batch of uint8 crops as float images in [0, 1] (on whatever device the crops are)."""
    return crops.float().div_(255) if crops.dtype == torch.uint8 else crops


def collate(items):
    """Stack the crops; gather every skipped file of the batch."""
    crops, skipped = zip(*items)
    return torch.stack(crops), [s for group in skipped for s in group]


def worker_init(_worker_id: int) -> None:
    """DataLoader workers leave Ctrl-C and SIGTERM to the training process, which stops at a step boundary
    (torchrun signals a worker's whole process group)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def loader(dataset: ContentCrops, sampler: EpochSampler, batch: int, workers: int, pin_memory: bool):
    """The DataLoader that feeds one process: ``batch`` crops a step, decoded by ``workers`` processes."""
    return torch.utils.data.DataLoader(
        dataset, batch_size=batch, sampler=sampler, num_workers=workers, collate_fn=collate, drop_last=True,
        pin_memory=pin_memory, persistent_workers=workers > 0, worker_init_fn=worker_init if workers else None,
        prefetch_factor=4 if workers else None)


def for_process(settings, ctx, verbose: bool):
    """The sampler and DataLoader of one training process (``ctx``: its ``distributed.Context``): its share of
    every global batch. ``settings`` gives ``content``, ``crop``, ``seed``, ``batch`` and ``workers``."""
    per_process = settings.batch // ctx.world_size  # the settings were checked to split over the processes
    photos = sources(settings.content, settings.crop)
    data = ContentCrops(photos, crop=settings.crop, seed=settings.seed, repeat=repeats_for(len(photos), settings.batch))
    if settings.content is not None:
        check_readable(data)
    sampler = EpochSampler(data, ctx.world_size, ctx.rank, settings.seed)
    workers = settings.workers
    if workers is None:
        workers = 0 if ctx.device.type == "cpu" else min(8, max(1, (os.cpu_count() or 2) // ctx.world_size - 1))
    if verbose:
        where = settings.content or "the bundled photos"
        split = f"{ctx.world_size} processes x {per_process}" if ctx.distributed else f"{per_process}"
        print(f"content: {len(photos)} photos from {where}; {split} crops of {settings.crop} px a step, "
              f"{workers} loader workers per process")
    return sampler, loader(data, sampler, per_process, workers, pin_memory=ctx.device.type == "cuda")
