"""A small classifier the project trains itself on generated scenes, so lesson 3 works with no network.

There is no ImageNet classifier offline (docs/design.md, section 2), and class activation maps need one. This
VGG-style convnet (four blocks of 3x3 convolutions, global average pooling, one linear layer; about
290 K parameters, layers named like VGG's: ``conv4_2``, ``relu4_2``) learns the shapes of
``nstlib.scenes`` in a few minutes on a laptop CPU. Its weights ship with nstlib (``nstlib/data/``) with
the settings that made them, and ``python -m nstlib train-shapes`` (``nstlib.cli``) makes them again
from a seed.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F
from tqdm.auto import tqdm

from . import env, scenes
from .core.outputs import replacing

DATA = Path(__file__).with_name("data")
WEIGHTS_FILE = DATA / "shapes_cnn.pt"

#: Default training settings; the JSON beside the weights records the ones actually used.
DEFAULTS = {"seed": 0, "size": 64, "train_scenes": 10000, "val_scenes": 1000, "epochs": 3, "batch": 64,
            "lr": 4e-3, "weight_decay": 5e-4, "channels": [16, 32, 64, 128], "convs": [1, 2, 2, 2], "threads": 2}

#: Seed offsets: training, validation and the lesson's held-out scenes never share a random stream.
TRAIN_STREAM, VAL_STREAM, HELDOUT_STREAM = 0, 1_000_003, 2_000_003


class ShapesNet(nn.Module):
    """[0, 1] RGB in, ``len(categories)`` logits out; ``features`` holds conv1_1, bn1_1, relu1_1 ... relu4_2.

    The first block has one convolution (at full resolution a second one would double the training time).
    """

    def __init__(self, channels=(16, 32, 64, 128), convs=(1, 2, 2, 2), categories=scenes.CLASSES):
        super().__init__()
        self.categories = list(categories)
        layers, in_ch = OrderedDict(), 3
        for block, (out_ch, n_convs) in enumerate(zip(channels, convs), start=1):
            for i in range(1, n_convs + 1):
                layers[f"conv{block}_{i}"] = nn.Conv2d(in_ch, out_ch, 3, padding=1, bias=False)
                layers[f"bn{block}_{i}"] = nn.BatchNorm2d(out_ch)
                layers[f"relu{block}_{i}"] = nn.ReLU(inplace=True)
                in_ch = out_ch
            if block < len(channels):
                layers[f"pool{block}"] = nn.MaxPool2d(2)
        self.features = nn.Sequential(layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(in_ch, len(self.categories))

    def forward(self, x):
        x = self.features((x - 0.5) / 0.25)
        return self.classifier(torch.flatten(self.pool(x), 1))


def load(device=None, path=None, verbose: bool = True) -> ShapesNet:
    """The trained shapes classifier in eval mode with frozen parameters (the weights shipped with nstlib)."""
    path = Path(path) if path else WEIGHTS_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"no shapes classifier weights at {path}; make them with: python -m nstlib train-shapes"
        )
    settings = settings_of(path)
    model = ShapesNet(settings.get("channels", DEFAULTS["channels"]), settings.get("convs", DEFAULTS["convs"]),
                      settings.get("categories", scenes.CLASSES))
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    model.eval().requires_grad_(False)
    if verbose:
        acc = settings.get("val_accuracy")
        note = f", held-out accuracy {acc:.1%}" if acc is not None else ""
        print(f"nstlib shapes classifier: {path.name} ({', '.join(model.categories)}{note})")
    return model.to(device) if device is not None else model


def settings_of(path=None) -> dict:
    path = Path(path) if path else WEIGHTS_FILE
    settings_path = path.with_suffix(".json")
    return json.loads(settings_path.read_text()) if settings_path.is_file() else {}


def heldout(n: int = 200, size: int = 64, n_objects: int = 1, seed: int = 0) -> scenes.Scenes:
    """Scenes the classifier never saw (a random stream of their own), for measuring CAM quality."""
    return scenes.make_scenes(n, size, seed=HELDOUT_STREAM + seed, n_objects=n_objects)


@torch.no_grad()
def accuracy(model: nn.Module, data: scenes.Scenes, batch: int = 256) -> float:
    model.eval()
    device = next(model.parameters()).device
    correct = 0
    for i in range(0, len(data), batch):
        logits = model(data.images[i:i + batch].to(device))
        correct += (logits.argmax(1).cpu() == data.labels[i:i + batch]).sum().item()
    return correct / len(data)


def train(out=None, progress: bool = True, **overrides) -> dict:
    """Train from scratch, reproducibly; save the weights and a JSON of the settings and the result."""
    settings = {**DEFAULTS, **overrides}
    unknown = set(overrides) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"unknown training setting(s) {sorted(unknown)}; valid ones are {sorted(DEFAULTS)}")
    torch.set_num_threads(int(settings["threads"]))
    env.seed(settings["seed"])
    start = time.time()
    train_set = scenes.make_scenes(settings["train_scenes"], settings["size"], seed=settings["seed"] + TRAIN_STREAM)
    val_set = scenes.make_scenes(settings["val_scenes"], settings["size"], seed=settings["seed"] + VAL_STREAM)
    images = (train_set.images * 255).round().to(torch.uint8)  # a quarter of the memory
    labels = train_set.labels
    model = ShapesNet(settings["channels"], settings["convs"]).to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(model.parameters(), lr=settings["lr"], weight_decay=settings["weight_decay"])
    steps_per_epoch = len(images) // settings["batch"]
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, settings["lr"], total_steps=steps_per_epoch * settings["epochs"])
    gen = torch.Generator().manual_seed(settings["seed"])
    history = []
    for epoch in range(settings["epochs"]):
        model.train()
        order = torch.randperm(len(images), generator=gen)
        bar = tqdm(range(steps_per_epoch), desc=f"epoch {epoch + 1}/{settings['epochs']}", disable=not progress)
        for step in bar:
            idx = order[step * settings["batch"]:(step + 1) * settings["batch"]]
            x = images[idx].float() / 255.0
            flip = torch.rand(len(idx), generator=gen) < 0.5  # shapes look the same mirrored
            x = torch.where(flip[:, None, None, None], x.flip(3), x).contiguous(memory_format=torch.channels_last)
            loss = F.cross_entropy(model(x), labels[idx], label_smoothing=0.05)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            if step % 20 == 0:
                bar.set_postfix(loss=f"{loss.item():.3f}")
        acc = accuracy(model, val_set)
        history.append({"epoch": epoch + 1, "loss": round(loss.item(), 4), "val_accuracy": round(acc, 4)})
        if progress:
            print(f"epoch {epoch + 1}: loss {loss.item():.3f}, validation accuracy {acc:.1%}")
    model.eval()
    out = Path(out) if out else WEIGHTS_FILE
    out.parent.mkdir(parents=True, exist_ok=True)
    with replacing(out) as partial:
        torch.save({k: v.detach().contiguous().clone() for k, v in model.state_dict().items()}, partial)
    record = {**settings, "categories": list(scenes.CLASSES), "val_accuracy": round(acc, 4), "history": history,
              "parameters": sum(p.numel() for p in model.parameters()),
              "train_seconds": round(time.time() - start, 1), "torch": torch.__version__,
              "command": "python -m nstlib train-shapes"}
    with replacing(out.with_suffix(".json")) as partial:
        partial.write_text(json.dumps(record, indent=1) + "\n")
    return record
