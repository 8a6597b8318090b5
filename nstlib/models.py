"""VGG16/VGG19 with the papers' layer names, taking RGB images in [0, 1].

The preprocessing each set of weights expects (ImageNet mean/std, or Caffe's BGR 0..255 minus the mean)
is a module in front of the network, so every caller feeds plain [0, 1] RGB and zero padding at the
border means the mean colour, as during training.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from .core.layers import BLOCKS, CHANNELS, check_arch, check_layers, layer_names
from .i18n import _
from .weights import CAFFE_BGR_MEAN, Source, _tv_weights, load_state  # ``weights`` is a parameter name here
from .weights import resolve as resolve_weights

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class ImageNetNormalize(nn.Module):
    """[0, 1] RGB -> torchvision's normalised RGB."""

    def __init__(self):
        super().__init__()
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))

    def forward(self, x):
        return (x - self.mean.to(x.dtype)) / self.std.to(x.dtype)


class CaffePreprocess(nn.Module):
    """[0, 1] RGB -> Caffe's BGR in 0..255 minus the BGR mean (what the offline pack was trained on)."""

    def __init__(self):
        super().__init__()
        self.register_buffer("mean_bgr", torch.tensor(CAFFE_BGR_MEAN).view(1, 3, 1, 1))

    def forward(self, x):
        return x.flip(1) * 255.0 - self.mean_bgr.to(x.dtype)


def make_preprocess(kind: str) -> nn.Module:
    return {"imagenet": ImageNetNormalize, "caffe": CaffePreprocess}[kind]()


def named_features(arch: str = "vgg16", last_layer: str | None = None, pool: str = "max") -> nn.Sequential:
    """The convolutional part of VGG as a Sequential whose children are named conv1_1, relu1_1, ... pool5.

    ReLUs are not in-place, so a captured conv output is never overwritten by the ReLU after it.
    """
    arch = check_arch(arch)
    if pool not in ("max", "avg"):
        raise ValueError(f"pool must be 'max' or 'avg', got {pool!r}")
    modules = OrderedDict()
    in_ch = 3
    for block, (n_convs, out_ch) in enumerate(zip(BLOCKS[arch], CHANNELS), start=1):
        for i in range(1, n_convs + 1):
            modules[f"conv{block}_{i}"] = nn.Conv2d(in_ch, out_ch, kernel_size=3, padding=1)
            modules[f"relu{block}_{i}"] = nn.ReLU(inplace=False)
            in_ch = out_ch
        modules[f"pool{block}"] = nn.MaxPool2d(2, 2) if pool == "max" else nn.AvgPool2d(2, 2)
    if last_layer is not None:
        check_layers([last_layer], arch)
        names = list(modules)
        modules = OrderedDict((n, modules[n]) for n in names[: names.index(last_layer) + 1])
    return nn.Sequential(modules)


class VGGFeatures(nn.Module):
    """Preprocessing plus the named convolutional layers, truncated after the deepest layer needed.

    ``model(x)`` returns the last layer's output; ``model.extract(x, layers)`` returns a dict of the
    named outputs and stops computing after the deepest one asked for.
    """

    def __init__(self, arch="vgg16", last_layer=None, preprocessing="imagenet", pool="max", source=None):
        super().__init__()
        self.arch = check_arch(arch)
        self.source = source
        self.preprocess = make_preprocess(preprocessing)
        self.features = named_features(self.arch, last_layer, pool)

    @property
    def layer_names(self) -> list[str]:
        return list(self.features._modules)

    def forward(self, x):
        return self.features(self.preprocess(x))

    def extract(self, x, layers) -> dict[str, torch.Tensor]:
        layers = check_layers(layers, self.arch)
        missing = [name for name in layers if name not in self.features._modules]
        if missing:
            raise KeyError(
                f"layer(s) {missing} come after this model's last layer {self.layer_names[-1]}: "
                f"build it with last_layer={missing[-1]!r} or deeper"
            )
        wanted, out = set(layers), {}
        x = self.preprocess(x)
        for name, module in self.features.named_children():
            x = module(x)
            if name in wanted:
                out[name] = x
                if len(out) == len(wanted):
                    break
        return {name: out[name] for name in layers}

    def extra_repr(self) -> str:
        return f"arch={self.arch}, weights={self.source.name if self.source else 'none'}"


def _announce(source: Source, arch_asked: str, verbose: bool) -> None:
    if not verbose:
        return
    note = ""
    if source.arch != arch_asked:
        note = _(" ({asked} was asked for; its ImageNet weights are not here, so using {arch})").format(
            asked=arch_asked.upper(), arch=source.arch.upper())
    print(_("nstlib weights: {summary}").format(summary=source.summary()) + note)


def vgg(arch: str = "vgg16", weights=None, last_layer: str | None = None, pool: str = "max",
        device=None, verbose: bool = True) -> VGGFeatures:
    """A VGG feature extractor in eval mode with frozen parameters, its weights resolved as docs/design.md says.

    weights: 'auto' (default, or NSTLIB_WEIGHTS), 'imagenet', 'offline', 'random', 'imported:NAME' or a path.
    With ``auto`` and ``arch='vgg19'`` on a machine that only has the offline VGG16 pack, you get VGG16 and
    the printed line says so; ``model.arch`` is always the truth.
    """
    arch = check_arch(arch)
    source = resolve_weights(weights, arch)
    model = VGGFeatures(source.arch, last_layer, source.preprocessing, pool, source)
    state = load_state(source)
    if state:
        wanted = {f"features.{k}": v for k, v in state.items() if k.split(".")[0] in model.features._modules}
        missing = model.load_state_dict(wanted, strict=False)[0]
        missing = [k for k in missing if k.startswith("features.")]
        if missing:
            raise ValueError(f"{source.name} lacks weights for {missing[:4]}...")
    model.eval().requires_grad_(False)
    _announce(source, arch, verbose)
    return model.to(device) if device is not None else model


class VGGClassifier(nn.Module):
    """torchvision's VGG with ImageNet weights, named feature layers, and [0, 1] RGB input.

    ``categories`` holds the 1000 ImageNet class names from torchvision's weights metadata.
    """

    def __init__(self, arch="vgg16"):
        super().__init__()
        import torchvision.models as tvm  # slow to load: only the ImageNet classifier needs it

        self.arch = check_arch(arch)
        base = getattr(tvm, self.arch)(weights=None)
        self.preprocess = ImageNetNormalize()
        self.features = named_features(self.arch)
        self.avgpool = base.avgpool
        self.classifier = base.classifier
        self.categories = list(_tv_weights(self.arch).meta["categories"])

    def forward(self, x):
        x = self.avgpool(self.features(self.preprocess(x)))
        return self.classifier(torch.flatten(x, 1))


def imagenet_classifier(arch: str = "vgg16", device=None, verbose: bool = True) -> VGGClassifier:
    """The ImageNet classifier (needs the imagenet weights: ``python -m nstlib weights fetch imagenet``)."""
    source = resolve_weights("imagenet", arch)
    model = VGGClassifier(source.arch)
    state = load_state(source)
    model.features.load_state_dict({k: v for k, v in state.items() if not k.startswith(("classifier.", "hed."))})
    head = {k.removeprefix("classifier."): v for k, v in state.items() if k.startswith("classifier.")}
    model.classifier.load_state_dict(head)
    model.eval().requires_grad_(False)
    _announce(source, source.arch, verbose)
    return model.to(device) if device is not None else model


def describe_layers(model: VGGFeatures, size=(224, 224)) -> list[tuple[str, tuple[int, ...]]]:
    """(name, output shape) for every named layer, from one forward pass of a blank image."""
    param = next(model.parameters())
    x = torch.zeros(1, 3, *size, device=param.device, dtype=param.dtype)
    with torch.no_grad():
        outs = model.extract(x, model.layer_names)
    return [(name, tuple(t.shape)) for name, t in outs.items()]


__all__ = ["vgg", "imagenet_classifier", "VGGFeatures", "VGGClassifier", "layer_names", "describe_layers"]
