"""Lesson 3, measured: is a class activation map right, and does it explain the model?

``cam`` makes the maps; this module judges them. On scenes whose object boxes are known (``nstlib.scenes``):
the pointing game (is the map's peak inside the box), average drop and increase in confidence
(Chattopadhyay et al. 2018), and deletion / insertion (Petsiuk et al. 2018), each against a random and an
inverted map (``evaluate``, ``format_table``, ``beats``). The sanity check of Adebayo et al. (2018):
``randomized`` gives the model fresh weights from the top down, and ``rank_correlation`` says how much a map
changed.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn
from torch.nn import functional as F
from tqdm.auto import tqdm

from . import cam, hooks
from .i18n import _, pad

# ------------------------------------------------------------------------------------------- sanity check


def randomized(model: nn.Module, layers=("classifier",), seed: int = 0) -> nn.Module:
    """A copy of ``model`` whose named modules (and everything inside them) get fresh random weights.

    Adebayo et al. (2018): a saliency method that explains the *model* must change when the model's weights
    are randomised. Pass the top layers (``classifier``, then ``conv4_2`` ...) for the cascading test.
    """
    clone = copy.deepcopy(model)
    gen = torch.Generator().manual_seed(seed)
    for name in layers:
        module = hooks.find_module(clone, name)[1]
        for sub in module.modules():
            for pname, p in sub.named_parameters(recurse=False):
                with torch.no_grad():
                    if pname == "weight" and p.ndim > 1:
                        fan_in = p[0].numel()
                        p.copy_(torch.randn(p.shape, generator=gen).to(p) * math.sqrt(2.0 / fan_in))
                    elif pname == "weight":  # batch norm scale
                        p.copy_(torch.rand(p.shape, generator=gen).to(p) + 0.5)
                    else:
                        p.copy_(torch.randn(p.shape, generator=gen).to(p) * 0.1)
    return clone


def rank_correlation(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Spearman rank correlation between maps, per image: 1 = same ordering of pixels, 0 = unrelated."""
    a, b = a.flatten(1).float(), b.flatten(1).float()
    ra = a.argsort(1).argsort(1).float()
    rb = b.argsort(1).argsort(1).float()
    ra, rb = ra - ra.mean(1, keepdim=True), rb - rb.mean(1, keepdim=True)
    return (ra * rb).sum(1) / (ra.norm(dim=1) * rb.norm(dim=1)).clamp_min(1e-12)


# ------------------------------------------------------------------------------------------- measuring


def random_maps(maps: torch.Tensor, cells: int = 8, seed: int = 0) -> torch.Tensor:
    """Baseline: smooth random maps (a random ``cells`` x ``cells`` grid, upsampled), like a CAM's texture."""
    gen = torch.Generator().manual_seed(seed)
    coarse = torch.rand(maps.shape[0], 1, cells, cells, generator=gen).to(maps)
    return cam._normalise(cam._upsample(coarse, maps.shape[-2:])[:, 0])


def pointing_game(maps: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
    """Per image: True when the map's maximum falls inside the object's box (x0, y0, x1, y1, x1/y1 exclusive)."""
    n, h, w = maps.shape
    flat = maps.flatten(1).argmax(1)
    ys, xs = flat // w, flat % w
    b = boxes.to(maps.device)
    return (xs >= b[:, 0]) & (xs < b[:, 2]) & (ys >= b[:, 1]) & (ys < b[:, 3])


@torch.no_grad()
def _probs(model, x, classes, batch=256):
    out = []
    with hooks.eval_mode(model):
        for i in range(0, len(x), batch):
            out.append(model(x[i:i + batch]).softmax(1).gather(1, classes[i:i + batch, None])[:, 0])
    return torch.cat(out)


def confidence_change(model, x, maps, classes) -> dict:
    """Average drop (%: how much confidence is lost when only the map's pixels are shown, x * map; lower is
    better) and increase (%: how often the confidence rises; higher is better), Chattopadhyay et al. 2018."""
    p = _probs(model, x, classes)
    o = _probs(model, x * maps[:, None], classes)
    return {"average_drop": (100 * (p - o).clamp_min(0) / p.clamp_min(1e-12)).mean().item(),
            "increase": (100 * (o > p).float()).mean().item()}


def _blur(x, k=11):
    pad = k // 2
    kernel = torch.ones(x.shape[1], 1, k, k, device=x.device, dtype=x.dtype) / (k * k)
    return F.conv2d(F.pad(x, (pad,) * 4, mode="reflect"), kernel, groups=x.shape[1])


def deletion_insertion(model, x, maps, classes, steps: int = 16) -> dict:
    """Deletion: remove pixels most-important-first (to black) and take the area under the class probability
    curve (lower is better). Insertion: reveal them over a blurred copy (higher is better). Petsiuk et al. 2018.
    """
    n, h, w = x.shape[0], x.shape[2], x.shape[3]
    order = maps.flatten(1).argsort(1, descending=True)
    rank = torch.empty_like(order)
    rank.scatter_(1, order, torch.arange(h * w, device=x.device).expand(n, -1))
    rank = rank.view(n, 1, h, w)
    blurred = _blur(x)
    fractions = torch.linspace(0, 1, steps + 1, device=x.device)
    deletion, insertion = [], []
    for f in fractions:
        shown = (rank < f * h * w).to(x.dtype)  # the top fraction f of pixels
        deletion.append(_probs(model, x * (1 - shown), classes))
        insertion.append(_probs(model, blurred * (1 - shown) + x * shown, classes))
    def auc(curves):
        c = torch.stack(curves, 1)
        return ((c[:, 1:] + c[:, :-1]) / 2).mean(1).mean().item()
    return {"deletion_auc": auc(deletion), "insertion_auc": auc(insertion)}


#: For each metric, whether higher is better.
HIGHER_IS_BETTER = {"pointing_game": True, "average_drop": False, "increase": True, "deletion_auc": False,
                    "insertion_auc": True}


def evaluate(model, images, boxes, labels, methods=("gradcam", "gradcam++", "scorecam"), batch: int = 50,
             steps: int = 16, baselines: bool = True, layer=None, progress: bool = True) -> dict:
    """Every metric for every method (and the random and inverted Grad-CAM baselines) on scenes with boxes.

    Returns {method: {metric: value}}; pointing game in % of images, the target is the true label.
    """
    names = list(methods) + (["random", "inverted gradcam"] if baselines else [])
    sums = {m: {k: 0.0 for k in HIGHER_IS_BETTER} for m in names}
    n = len(images)
    device = next(model.parameters()).device
    for i in tqdm(range(0, n, batch), desc=_("evaluating CAMs"), disable=not progress):
        x = images[i:i + batch].to(device)
        cls = labels[i:i + batch].to(device)
        b = boxes[i:i + batch].to(device)
        maps = {m: cam.cam(model, x, cls, m, layer) for m in methods}
        if baselines:
            grad = maps["gradcam"] if "gradcam" in maps else cam.cam(model, x, cls, "gradcam", layer)
            maps["random"] = random_maps(grad, seed=i)
            maps["inverted gradcam"] = 1 - grad
        for m in names:
            row = {"pointing_game": 100 * pointing_game(maps[m], b).float().mean().item()}
            row.update(confidence_change(model, x, maps[m], cls))
            row.update(deletion_insertion(model, x, maps[m], cls, steps))
            for k, v in row.items():
                sums[m][k] += v * len(x)
    return {m: {k: v / n for k, v in row.items()} for m, row in sums.items()}


def format_table(results: dict) -> str:
    """The ``evaluate`` results as a text table, with which way is better in the header."""
    head = pad(_("method"), 18) + "".join(f"{k + (' ^' if up else ' v'):>17}" for k, up in HIGHER_IS_BETTER.items())
    lines = [head]
    for m, row in results.items():
        lines.append(f"{m:<18}" + "".join(f"{row[k]:>17.3f}" if "auc" in k else f"{row[k]:>17.1f}"
                                          for k in HIGHER_IS_BETTER))
    return "\n".join(lines)


def beats(results: dict, method: str = "gradcam", others=("random", "inverted gradcam")) -> dict:
    """{metric: True/False}: does ``method`` beat every one of ``others`` on that metric?"""
    out = {}
    for k, up in HIGHER_IS_BETTER.items():
        mine = results[method][k]
        out[k] = all((mine > results[o][k]) if up else (mine < results[o][k]) for o in others)
    return out


def summary(results: dict, method: str = "gradcam", others=("random", "inverted gradcam")) -> str:
    """Sentences, built from ``evaluate`` results, that read the table: where the method's maximum lands, what
    seeing only ``image * map`` costs, and which metrics separate it from the baselines (lesson 3 prints this
    rather than quoting numbers that change with the scenes, the settings and the machine)."""
    r = results[method]
    base = _and([_("{value} % for the {name} map").format(value=f"{results[o]['pointing_game']:.0f}", name=o)
                 for o in others if o in results])
    drop = _and([f"{results[o]['average_drop']:.0f} %" for o in others if o in results])
    won = beats(results, method, [o for o in others if o in results])
    lost = [k for k, ok in won.items() if not ok]
    verdict = (_("{method} beats both baselines on all {n} metrics").format(method=method, n=len(won)) if not lost
               else _("{method} beats both baselines on {won} of {n} metrics, not on {lost}").format(
                   method=method, won=len(won) - len(lost), n=len(won), lost=", ".join(lost)))
    margins = {k: abs(r[k] - min(results[o][k] for o in others if o in results)) /
               max(abs(r[k]), abs(min(results[o][k] for o in others if o in results)), 1e-9)
               for k in ("deletion_auc", "insertion_auc")}
    weaker = min(margins, key=margins.get)
    others_methods = [m for m in results if m not in others and m != method]
    spread = (max(results[m]["pointing_game"] for m in [method, *others_methods]) -
              min(results[m]["pointing_game"] for m in [method, *others_methods]))
    metric = {"deletion": _("deletion"), "insertion": _("insertion")}[weaker.split("_")[0]]
    return " ".join([
        _("The {method} maximum lands inside the object's box in {hit} % of these scenes, against {others}.").format(
            method=method, hit=f"{r['pointing_game']:.0f}", others=base),
        _("Seeing only image * map costs {drop} % of the confidence, against {others}.").format(
            drop=f"{r['average_drop']:.0f}", others=drop),
        _("{verdict}; of deletion and insertion, {metric} separates it less from the baselines.").format(
            verdict=verdict, metric=metric),
        _("The methods' pointing games lie within {spread} points of one another.").format(spread=f"{spread:.0f}")])


def _and(items: list[str]) -> str:
    """``items`` joined as "a and b and c", in the current language."""
    text = items[0] if items else ""
    for item in items[1:]:
        text = _("{first} and {second}").format(first=text, second=item)
    return text


def sanity_summary(reference: torch.Tensor, maps: dict) -> str:
    """One sentence from the sanity check: the mean rank correlation with the trained model's maps at each
    randomisation stage, and whether it falls as more of the network is randomised."""
    means = {name: float(rank_correlation(reference, m).mean()) for name, m in maps.items()}
    names = list(means)
    falls = means[names[-1]] < means[names[0]] - 0.3
    steps = ", ".join(f"{n} {v:.2f}" for n, v in means.items())
    return (_("Mean rank correlation with the trained model's maps: {steps}.").format(steps=steps) + " "
            + (_("The maps change as the weights are randomised: they depend on what the model learned.")
               if falls else _("The maps barely change as the weights are randomised: they may show the image "
                               "rather than the model.")))


__all__ = ["summary", "sanity_summary", "randomized", "rank_correlation", "random_maps", "pointing_game",
           "confidence_change",
           "deletion_insertion", "HIGHER_IS_BETTER", "evaluate", "format_table", "beats"]
