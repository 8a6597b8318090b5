"""Do deeper layers keep more about the class and less about the picture? One measured look.

A linear probe (Alain & Bengio 2016): freeze the network, take one layer's activations for many generated
scenes (``nstlib.scenes``: a shape of a known class on a textured background), average them over positions,
and fit the simplest classifier there is on them: ridge regression onto one-hot labels, in closed form,
its ridge strength chosen on a validation part of the training scenes. The held-out accuracy says how
easily the class can be read off that layer. Beside ``reconstruct``'s pixel errors (how much of the
picture a layer keeps), it answers the lesson's question with numbers from this run, whatever they are;
``finding`` turns them into the sentence the lesson prints.

Caveats the lesson should keep in mind: the layers have 64 to 512 channels, so the deep ones also give the
probe more numbers to work with; and the offline pack was tuned for edges, not for classes.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import torch
from tqdm.auto import tqdm

from . import plotting, reconstruct, scenes  # noqa: F401 - plotting registers the Hangul font of Korean figures
from .core.errors import UsageError
from .core.precision import amp_dtype, runnable
from .i18n import _

#: The layers probed: the ones ``reconstruct`` rebuilds the photo from, one per block.
LAYERS = reconstruct.LAYERS

#: Full settings: scenes (train + validation + test) and their size, sized for lesson 1's runtime budget.
SCENES = 900
SIZE = 64
TEST_SHARE = 1 / 3

#: Ridge strengths tried, relative to the mean squared feature (the features are standardised first).
RIDGES = (1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0)


@dataclass
class ProbeResult:
    """Held-out accuracy of a linear probe per layer; ``chance`` is 1 / number of classes."""

    accuracy: dict  # layer -> held-out accuracy in [0, 1]
    chance: float
    n_train: int
    n_test: int
    weights: str
    ridge: dict  # layer -> the ridge strength chosen on the validation scenes

    def sentence(self) -> str:
        return finding(self.accuracy, self.chance)


# ------------------------------------------------------------------------------------------- the probe


def _standardise(train: torch.Tensor, *others: torch.Tensor):
    mean, std = train.mean(0, keepdim=True), train.std(0, keepdim=True).clamp_min(1e-6)
    return [(t - mean) / std for t in (train, *others)]


def _ridge(x: torch.Tensor, y_onehot: torch.Tensor, ridge: float) -> torch.Tensor:
    """Weights (with a bias row) minimising ‖[x 1] W − Y‖² + ridge · n · ‖W‖² (the bias not penalised)."""
    xb = torch.cat([x, torch.ones(len(x), 1, dtype=x.dtype)], 1)
    penalty = torch.eye(xb.shape[1], dtype=x.dtype) * ridge * len(x)
    penalty[-1, -1] = 0.0
    return torch.linalg.solve(xb.T @ xb + penalty, xb.T @ y_onehot)


def _predict(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    return (torch.cat([x, torch.ones(len(x), 1, dtype=x.dtype)], 1) @ w).argmax(1)


def fit_probe(train_x, train_y, test_x, test_y, n_classes: int | None = None, seed: int = 0,
              ridges=RIDGES) -> tuple[float, float]:
    """(held-out accuracy, ridge chosen): a ridge-regression probe fitted on ``train_*``, scored on ``test_*``.

    A quarter of the training rows (seeded) picks the ridge strength; the probe is then refitted on all of
    them. Features are standardised with the training rows' mean and spread. Runs in float64 on the CPU.
    """
    train_x, test_x = train_x.detach().double().cpu(), test_x.detach().double().cpu()
    train_y, test_y = train_y.detach().long().cpu(), test_y.detach().long().cpu()
    if len(train_x) != len(train_y) or len(test_x) != len(test_y):
        raise UsageError("each feature row needs one label: train_x and train_y (and test_x and test_y) must "
                         "have the same length")
    n_classes = int(n_classes or max(int(train_y.max()), int(test_y.max())) + 1)
    order = torch.randperm(len(train_x), generator=torch.Generator().manual_seed(seed))
    n_val = max(1, len(order) // 4)
    val, fit = order[:n_val], order[n_val:]
    fx, vx = _standardise(train_x[fit], train_x[val])
    onehot = torch.nn.functional.one_hot(train_y, n_classes).double()
    scores = [(_predict(vx, _ridge(fx, onehot[fit], r)) == train_y[val]).double().mean().item() for r in ridges]
    ridge = ridges[max(range(len(ridges)), key=lambda i: (scores[i], -i))]  # ties: the weaker ridge
    tx, sx = _standardise(train_x, test_x)
    w = _ridge(tx, onehot, ridge)
    return (_predict(sx, w) == test_y).double().mean().item(), ridge


# ------------------------------------------------------------------------------------------- features


@torch.no_grad()
def layer_features(model, images: torch.Tensor, layers=LAYERS, batch: int = 64, amp="auto",
                   progress: bool = True) -> dict:
    """{layer: (N, C) activations averaged over positions, fp32 on the CPU} for (N, 3, H, W) images in [0, 1].

    amp: 'auto' runs the network in bf16, channels-last, where the device does bf16 natively (twice as fast
    on such a CPU); 'off' in the model's own dtype.
    """
    layers = [reconstruct.check_layer(model, layer) for layer in layers]
    param = next(model.parameters())
    dtype = amp_dtype(param.device, amp)
    net = runnable(model, dtype, channels_last=dtype is not None)
    layout = torch.channels_last if dtype is not None else torch.contiguous_format
    out = {layer: [] for layer in layers}
    for i in tqdm(range(0, len(images), batch), disable=not progress, desc=_("features"), unit="batch"):
        x = images[i:i + batch].to(param.device, param.dtype).contiguous(memory_format=layout)
        for layer, f in net.extract(x, layers).items():
            out[layer].append(f.float().mean((2, 3)).cpu())
    return {layer: torch.cat(parts) for layer, parts in out.items()}


def probe_layers(model, layers=LAYERS, *, n: int = SCENES, size: int = SIZE, seed: int = 0, amp="auto",
                 progress: bool = True) -> ProbeResult:
    """Generated scenes (seeded), each layer's pooled activations, a probe per layer: held-out accuracy."""
    if not isinstance(n, int) or n < 4 * len(scenes.CLASSES):
        raise UsageError(f"n={n!r}: the probe needs at least {4 * len(scenes.CLASSES)} scenes (four per class) "
                         f"to train and test on; the full setting is n={SCENES}")
    if not isinstance(size, int) or size < 32:
        raise UsageError(f"size={size!r}: scenes need at least 32 px (VGG pools five times); e.g. size={SIZE}")
    layers = [layers] if isinstance(layers, str) else list(layers)
    data = scenes.make_scenes(n, size, seed=seed)
    feats = layer_features(model, data.images, layers, amp=amp, progress=progress)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    n_test = max(len(scenes.CLASSES), round(n * TEST_SHARE))
    test, train = order[:n_test], order[n_test:]
    accuracy, ridge = {}, {}
    for layer, f in feats.items():
        accuracy[layer], ridge[layer] = fit_probe(f[train], data.labels[train], f[test], data.labels[test],
                                                  len(scenes.CLASSES), seed)
    return ProbeResult(accuracy, 1 / len(scenes.CLASSES), len(train), len(test),
                       reconstruct.weights_name(model), ridge)


# ------------------------------------------------------------------------------------------- the finding


def finding(accuracy: dict, chance: float, tolerance: float = 0.02) -> str:
    """One sentence that says what the accuracies say: which layer probes best and whether accuracy rises
    with depth (``accuracy``: layer -> accuracy, shallow to deep). Steps smaller than ``tolerance`` count
    as level, not as a fall."""
    if len(accuracy) < 2:
        raise UsageError("accuracy needs at least two layers to say anything about depth")
    names, values = list(accuracy), list(accuracy.values())
    best = max(range(len(values)), key=lambda i: values[i])
    head = _("A linear probe reads the class best from {layer} ({acc} on held-out scenes, chance {chance})").format(
        layer=names[best], acc=f"{values[best]:.0%}", chance=f"{chance:.0%}")
    ends = {"first": names[0], "last": names[-1], "first_acc": f"{values[0]:.0%}", "last_acc": f"{values[-1]:.0%}"}
    steps = [b - a for a, b in zip(values, values[1:])]
    if all(s > -tolerance for s in steps) and values[-1] - values[0] > tolerance:
        return _("{head} and accuracy rises with depth, from {first_acc} at {first} to {last_acc} at {last}.").format(
            head=head, **ends)
    if values[-1] - values[0] > tolerance:
        falls = [names[i + 1] for i, s in enumerate(steps) if s <= -tolerance]
        trend = _("accuracy is higher at {last} ({last_acc}) than at {first} ({first_acc}) but does not rise at "
                  "every layer (it falls at {falls})").format(falls=", ".join(falls), **ends)
    elif values[0] - values[-1] > tolerance:
        trend = _("accuracy does not rise with depth: it is lower at {last} ({last_acc}) than at {first} "
                  "({first_acc})").format(**ends)
    else:
        trend = _("accuracy hardly changes with depth ({first_acc} at {first}, {last_acc} at {last})").format(**ends)
    return _("{head}; {trend}.").format(head=head, trend=trend)


# ------------------------------------------------------------------------------------------- the figure


def show_probe(result: ProbeResult, reconstructions: dict | None = None, size: float = 5.0):
    """Class kept (probe accuracy per layer) beside picture kept (``reconstruct``'s pixel error per layer)."""
    panels = 2 if reconstructions else 1
    fig, axes = plt.subplots(1, panels, figsize=(size * 1.3 * panels, size), squeeze=False)
    ax = axes[0, 0]
    names = list(result.accuracy)
    ax.bar(range(len(names)), [100 * a for a in result.accuracy.values()], color="tab:blue")
    ax.axhline(100 * result.chance, color="grey", linestyle="--",
               label=_("chance ({chance})").format(chance=f"{result.chance:.0%}"))
    ax.set_xticks(range(len(names)), names)
    ax.set_ylim(0, 100)
    ax.set_ylabel(_("held-out accuracy (%)"))
    ax.set_title(_("class kept: linear probe on the layer"))
    ax.legend(loc="upper left")
    if reconstructions:
        ax = axes[0, 1]
        rnames = list(reconstructions)
        ax.bar(range(len(rnames)), [r.pixel_error for r in reconstructions.values()], color="tab:orange")
        ax.set_xticks(range(len(rnames)), rnames)
        ax.set_ylabel(_("pixel error of the reconstruction"))
        ax.set_title(_("picture lost: rebuilt from the layer"))
    fig.suptitle(_("What each layer keeps ({weights}; probe trained on {n_train} scenes, tested on {n_test})").format(
        weights=result.weights, n_train=result.n_train, n_test=result.n_test), fontsize=15)
    fig.tight_layout()
    return fig
