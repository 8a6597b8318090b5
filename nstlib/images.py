"""Images in and out: any reasonable input becomes an RGB PIL image or a (1, 3, H, W) tensor in [0, 1].

Handles what photos from the wild throw at a course: EXIF rotation, grayscale, RGBA, palette, 16-bit and
CMYK files, huge images (downscaled with a warning, decoded at reduced size where the format allows),
panoramas and tall screenshots (the short side stays usable), images too small for the network, and image
addresses (http and https, downloaded once into a cache, ``nstlib.core.urls``). Every size goes through ``fit``,
so one cap (NSTLIB_MAX_SIZE) holds everywhere. Every error says what was wrong and how to fix it, in the
current language (``i18n``); the command line's wording (``cli=``) stays English.
"""

from __future__ import annotations

import io
import math
import os
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from . import config, textures
from .core import outputs, urls
from .core.errors import ImageError, UsageError  # ImageError stays importable from here
from .core.errors import option as worded
from .i18n import _

#: The smallest side VGG can take: five 2x2 poolings need at least 32 pixels.
MIN_SIZE = 32


def is_url(src) -> bool:
    return isinstance(src, str) and src.strip().lower().startswith(("http://", "https://"))


def resolve(src, *, kind: str = "image", folders: bool = False, option: str | None = None):
    """What a user typed (a bundled photo or texture name, a file, an http(s) address, a folder where
    ``folders``) -> a PIL image or a local Path that ``load`` reads. The one resolver of the CLI, the fast
    models and the studio; ``option`` words the error for the command line (``--style``)."""
    if not isinstance(src, (str, os.PathLike)):
        return src  # already an image, an array or a tensor
    if is_url(src):
        return fetch(str(src))
    path = Path(src).expanduser()
    shown = {"image": _("image"), "content": _("content"), "style": _("style")}.get(kind, kind)
    if path.exists():
        if path.is_dir() and not folders:
            raise ImageError(_("{kind} {name} is a folder; give one image file").format(kind=shown,
                                                                                       name=repr(str(src))))
        return path
    name = str(src)
    if name in textures.names():
        return textures.draw(name)
    if name in SAMPLES:
        return sample(name)
    where = f"{option} {name}" if option else f"{shown} {name!r}"
    raise ImageError(
        _("{where}: no such file, and not a bundled name. Bundled photos: {photos}; textures: {textures}; an image "
          "address starting with https:// also works. (Relative paths start at {folder}.)").format(
              where=where, photos=", ".join(SAMPLES), textures=", ".join(textures.names()), folder=Path.cwd())
    )


# ------------------------------------------------------------------------------------------- samples

#: Sample photographs bundled with scikit-image and matplotlib: no network needed.
SAMPLES = {
    "cat": ("skimage", "chelsea", "Chelsea the cat (scikit-image)"),
    "astronaut": ("skimage", "astronaut", "Eileen Collins, NASA (scikit-image)"),
    "coffee": ("skimage", "coffee", "a cup of coffee (scikit-image)"),
    "rocket": ("skimage", "rocket", "a SpaceX rocket launch (scikit-image)"),
    "hopper": ("matplotlib", "grace_hopper.jpg", "Grace Hopper (matplotlib)"),
    "motorcycle": ("skimage", "stereo_motorcycle", "a motorcycle (scikit-image)"),
    "hubble": ("skimage", "hubble_deep_field", "the Hubble deep field (scikit-image)"),
    "cells": ("skimage", "immunohistochemistry", "stained tissue (scikit-image)"),
    "colorwheel": ("skimage", "colorwheel", "a colour wheel (scikit-image)"),
    "brick": ("skimage", "brick", "a brick wall, grayscale texture (scikit-image)"),
    "gravel": ("skimage", "gravel", "gravel, grayscale texture (scikit-image)"),
}


def sample_names() -> list[str]:
    return list(SAMPLES)


def sample(name: str = "cat", size=None) -> Image.Image:
    """A bundled sample photo as an RGB PIL image, optionally resized (see ``resize``)."""
    if name not in SAMPLES:
        raise KeyError(f"no sample image called {name!r}; choose one of {', '.join(SAMPLES)}")
    package, key = SAMPLES[name][:2]
    if package == "skimage":
        import skimage.data  # slow to load: only these samples need it

        array = getattr(skimage.data, key)()
        if isinstance(array, tuple):  # stereo pairs: take the left view
            array = array[0]
        image = _from_array(np.asarray(array))
    else:
        from matplotlib import cbook  # matplotlib loads only for its own sample images

        with cbook.get_sample_data(key) as handle:
            image = _from_pil(Image.open(handle))
    return resize(image, size) if size is not None else image


# ------------------------------------------------------------------------------------------- loading


def load(src, size=None, max_size: int | None = None, min_size: int = MIN_SIZE) -> Image.Image:
    """Any image-like input -> an RGB PIL image.

    src: a path, an http(s) address (downloaded once, then cached), an open file or BytesIO, a PIL image,
        a numpy array (HxW, HxWx1/3/4; uint8, uint16 or float in [0, 1]) or a tensor (HxW, CxHxW or
        1xCxHxW; float in [0, 1] or uint8). EXIF rotation is applied to files and bytes only: a PIL image
        is taken as the caller left it.
    size: resize so the longest side is ``size`` (int) or to exactly (height, width); see ``fit``.
    max_size: longest side allowed before downscaling with a warning (default NSTLIB_MAX_SIZE, 1024).
    min_size: the shortest side the network needs; smaller images raise an ImageError.
    """
    max_size = config.max_size() if max_size is None else max_size
    if is_url(src):
        image = _open_file(fetch(src), max_size, src.strip())
    elif isinstance(src, (str, os.PathLike)):
        image = _open_path(Path(src).expanduser(), max_size)
    elif hasattr(src, "read"):  # an open file or bytes in memory (uploads, webcam snapshots)
        image = _open_file(src, max_size, given(src))
    elif isinstance(src, Image.Image):
        image = _from_pil(src)
    elif isinstance(src, torch.Tensor):
        image = _from_tensor(src)
    elif isinstance(src, np.ndarray):
        image = _from_array(src)
    else:
        raise ImageError(
            _("cannot make an image from a {kind}: pass a file path, an image address (https://...), a PIL image, a "
              "numpy array or a torch tensor").format(kind=type(src).__name__)
        )
    if size is None and min(image.size) < min_size:
        wanted = min(max_size, math.ceil(min_size * max(image.size) / min(image.size)))
        wanted = max(wanted, min(max_size, 224))
        raise ImageError(
            _("the image is {width}x{height} px, too small for the network, which needs at least {min_size} px on "
              "the shorter side. Upscale it, for example load(src, size={wanted}).").format(
                  width=image.width, height=image.height, min_size=min_size, wanted=wanted),
            cli=f"the image is {image.width}x{image.height} px, too small for the network, which needs at least "
                f"{min_size} px on the shorter side. Upscale it with --size {wanted}.",
        )
    new = fit(image.size, size, max_size=max_size, min_side=min_size, stacklevel=3)
    return resize(image, (new[1], new[0]))


def given(src) -> str:
    """How messages name an open file or bytes in memory (``load(io.BytesIO(...))``): "the BytesIO given"."""
    return _("the {kind} given").format(kind=type(src).__name__)


def fit(wh, size=None, *, max_size: int | None = None, min_side: int = MIN_SIZE, warn: bool = True,
        stacklevel: int = 2) -> tuple[int, int]:
    """The (width, height) an image of size ``wh`` becomes: the one size rule of nstlib.

    size: None (as it is), an int (the longest side) or (height, width). Nothing goes above ``max_size``
    (NSTLIB_MAX_SIZE) on its longest side, with a warning, except that the short side is kept at
    ``min_side`` or more: a 4000 x 100 panorama at 1024 px becomes 1280 x 32, not 1024 x 26 (the long side
    may then exceed the size, but never the pixels of a ``max_size`` square). A shape so elongated that
    even that does not fit raises an ImageError that says to crop it.
    """
    max_size = config.max_size() if max_size is None else int(max_size)
    width, height = int(wh[0]), int(wh[1])
    notes = []
    if size is not None and not isinstance(size, (int, np.integer)):
        try:
            h, w = (int(v) for v in size)
        except (TypeError, ValueError):
            raise ImageError(_("size must be a whole number (the longest side) or (height, width), got {size}").format(
                size=repr(size)), cli=f"--size must be a whole number of pixels, got {size!r}") from None
        if min(h, w) < min_side:
            raise ImageError(_("size={size} is too small: the network needs at least {min_side} px on each "
                               "side").format(size=(h, w), min_side=min_side))
        if h * w > max_size * max_size:
            scale = max_size / math.sqrt(h * w)
            asked = (w, h)
            h, w = max(min_side, round(h * scale)), max(min_side, round(w * scale))
            notes.append(_("{width}x{height} px is more than the {max_size} x {max_size} px allowed (NSTLIB_MAX_SIZE); "
                           "using {new_width}x{new_height} px").format(width=asked[0], height=asked[1],
                                                                       max_size=max_size, new_width=w, new_height=h))
        _warn(notes, warn, stacklevel)
        return w, h
    long_side, short_side = max(width, height), min(width, height)
    if size is None:
        target = long_side
        if target > max_size:
            notes.append(_("the image is {width}x{height} px; downscaling it so its longest side is {max_size} px to "
                           "keep memory bounded (pass max_size= or set NSTLIB_MAX_SIZE to change this)").format(
                               width=width, height=height, max_size=max_size))
            target = max_size
    else:
        target = int(size)
        if target < 1:
            raise ImageError(_("size must be at least {min_side} px, got {size}").format(min_side=min_side,
                                                                                         size=target),
                             cli=f"--size must be at least {min_side} px, got {target}")
        if target > max_size:
            notes.append(_above_max_size(target, max_size))
            target = max_size
    scale = target / long_side
    if short_side * scale < min_side and (size is not None or target < long_side):
        scale = min_side / short_side
        if long_side * scale * min_side > max_size * max_size:
            raise ImageError(
                _("the image is {width}x{height} px, too elongated: keeping its short side at {min_side} px would make "
                  "it {length} px long, more pixels than a {max_size} x {max_size} image. Crop it to a less extreme "
                  "shape (or raise NSTLIB_MAX_SIZE).").format(width=width, height=height, min_side=min_side,
                                                              length=round(long_side * scale), max_size=max_size)
            )
        new = (round(width * scale), round(height * scale))
        new = (max(new[0], min_side), max(new[1], min_side))
        notes.append(_("the image is {width}x{height} px; its short side is kept at {min_side} px, the least the "
                       "network needs, so it becomes {new_width}x{new_height} px").format(
                           width=width, height=height, min_side=min_side, new_width=new[0], new_height=new[1]))
        _warn(notes[-1:], warn, stacklevel)
        return new
    _warn(notes, warn, stacklevel)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _warn(notes, warn, stacklevel):
    if warn and notes:
        warnings.warn("; ".join(notes), UserWarning, stacklevel=stacklevel + 1)


def _above_max_size(size: int, max_size: int) -> str:
    """The warning for a size above NSTLIB_MAX_SIZE, the same from ``fit`` and ``check_size``."""
    return _("a size of {size} px is above the maximum of {max_size} px (NSTLIB_MAX_SIZE); using {max_size} px to "
             "keep memory bounded (raise NSTLIB_MAX_SIZE to allow more)").format(size=size, max_size=max_size)


def check_size(size, *, max_size: int | None = None, min_side: int = MIN_SIZE, option: str = "size") -> int:
    """A longest side the user asked for, checked and capped the same way as ``fit`` (warning when capped)."""
    try:
        value = int(size)
    except (TypeError, ValueError):
        raise UsageError(f"{worded(option)} must be a whole number of pixels, got {size!r}") from None
    if value < min_side:
        raise UsageError(f"{worded(option, value)} is too small: the network needs at least {min_side} px")
    max_size = config.max_size() if max_size is None else max_size
    if value > max_size:
        warnings.warn(_above_max_size(value, max_size), UserWarning, stacklevel=2)
        value = max_size
    return value


def fetch(url: str) -> Path:
    """The local copy of the image at an http(s) ``url``: downloaded once (``urls``) and kept only when it reads
    as an image here, through the same checks and messages as a file on disk."""
    url = url.strip()
    hit = urls.cached(url)
    if hit is not None:
        return hit
    download = urls.download(url)
    sent = download.content_type.split(";")[0].strip() or "something"
    unidentified = _("{url} is not an image: the server sent {sent} ({size} bytes) that Pillow cannot read. "
                     "{hint}").format(url=url, sent=sent, size=f"{len(download.data):,}", hint=urls.page_hint())
    fmt = _decode(io.BytesIO(download.data), config.max_size(), url, unidentified=unidentified, quiet=True)[1]
    return urls.keep(url, download.data, fmt)


def _open_path(path: Path, max_size: int) -> Image.Image:
    if not path.exists():
        raise ImageError(_("no such file: {path}. Check the path (relative paths start at {folder}).").format(
            path=path, folder=Path.cwd()))
    if path.is_dir():
        raise ImageError(_("{path} is a folder, not an image file").format(path=path))
    return _decode(path, max_size, str(path))[0]


def _open_file(src, max_size: int, name: str) -> Image.Image:
    return _decode(src, max_size, name)[0]


def _decode(src, max_size: int, name: str, *, unidentified: str | None = None,
            quiet: bool = False) -> tuple[Image.Image, str]:
    """The one reader of image files and bytes: (RGB image, Pillow's format name), with every error Pillow
    raises turned into an ImageError that names ``name`` (a path, an address) and Pillow's
    decompression-bomb warning reworded; ``unidentified`` replaces the message for what Pillow does not
    recognise, and ``quiet`` drops the warnings (a download is checked here, then read again)."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", Image.DecompressionBombWarning)
            with Image.open(src) as handle:
                fmt = handle.format or "PNG"
                if handle.format == "JPEG" and max(handle.size) > 2 * max_size:
                    # Decode at a reduced scale (1/2, 1/4, 1/8): a 50-megapixel photo never fills the memory.
                    handle.draft("RGB", (max_size, max_size))
                original = handle.size
                handle.load()
                image = _from_pil(ImageOps.exif_transpose(handle))
        for warning in [] if quiet else caught:
            if issubclass(warning.category, Image.DecompressionBombWarning):
                warnings.warn(
                    _("{name} is a very large image ({width}x{height} px, {megapixels} megapixels). That is fine: "
                      "nstlib reads it and shrinks it to at most {max_size} px on its longest side.").format(
                          name=name, width=original[0], height=original[1],
                          megapixels=f"{original[0] * original[1] / 1e6:.0f}", max_size=max_size),
                    UserWarning, stacklevel=4)
            else:
                warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
        return image, fmt
    except ImageError:
        raise
    except UnidentifiedImageError:
        raise ImageError(unidentified or _(
            "{name} is not an image file that Pillow can read (is it a PDF, a video, or a truncated download?). Save "
            "it as PNG or JPEG and try again.").format(name=name)) from None
    except Image.DecompressionBombError:
        raise ImageError(
            _("{name} has more pixels than nstlib will open ({megapixels} megapixels at most, against images that "
              "unpack to fill the memory). Downscale it with an image editor first.").format(
                  name=name, megapixels=f"{Image.MAX_IMAGE_PIXELS * 2 / 1e6:.0f}")
        ) from None
    except PermissionError:
        raise ImageError(_("cannot read {name}: permission denied. Check the file's permissions, or copy it to a "
                           "folder of your own.").format(name=name)) from None
    except (OSError, SyntaxError, EOFError, ValueError) as error:  # what Pillow's decoders raise on a damaged file
        raise ImageError(_("{name} could not be read as an image ({error}); the file is damaged or cut short. Open it "
                           "in an image viewer and re-save it as PNG or JPEG.").format(name=name, error=error)
                         ) from None


def _from_pil(image: Image.Image) -> Image.Image:
    """Any PIL mode -> RGB: alpha over white, 16-bit scaled, CMYK converted (EXIF rotation is for files)."""
    mode = image.mode
    if mode == "RGB":
        return image.copy()
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        array = np.asarray(image, dtype=np.float64)
        if mode == "F" and array.max() <= 1.0:
            top = 1.0  # float images in [0, 1]
        else:
            top = 65535.0 if mode.startswith("I;16") or array.max() > 255 else 255.0
        return _from_array((array / top).clip(0, 1).astype(np.float32))
    if mode == "P":
        image = image.convert("RGBA")
        mode = "RGBA"
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")  # L, 1, CMYK, YCbCr, LAB, HSV


def _from_array(array: np.ndarray) -> Image.Image:
    if array.ndim == 3 and array.shape[0] in (1, 3, 4) and array.shape[-1] not in (1, 3, 4):
        raise ImageError(
            _("the array has shape {shape}, which looks channels-first; numpy images are height x width x channels: "
              "use array.transpose(1, 2, 0)").format(shape=array.shape)
        )
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (3, 4)):
        raise ImageError(
            _("the array has shape {shape}; an image is height x width (grayscale) or height x width x 3 (RGB) or x 4 "
              "(RGBA)").format(shape=array.shape)
        )
    if array.dtype == bool:
        array = array.astype(np.uint8) * 255
    elif array.dtype == np.uint16:
        array = (array.astype(np.float64) / 65535.0 * 255.0).round().astype(np.uint8)
    elif np.issubdtype(array.dtype, np.floating):
        if not np.isfinite(array).all():
            raise ImageError(_("the array contains NaN or infinite values"))
        if array.min() < 0 or array.max() > 1:
            hint = _(" (values up to 255: divide by 255)") if array.max() <= 255 and array.min() >= 0 else ""
            raise ImageError(
                _("a float image must be in [0, 1], but its values run from {low} to {high}{hint}").format(
                    low=f"{array.min():.3g}", high=f"{array.max():.3g}", hint=hint)
            )
        array = (array * 255.0).round().astype(np.uint8)
    elif array.dtype != np.uint8:
        if array.min() < 0 or array.max() > 255:
            raise ImageError(_("an integer image must hold values 0..255, got {low}..{high}").format(
                low=array.min(), high=array.max()))
        array = array.astype(np.uint8)
    image = Image.fromarray(np.ascontiguousarray(array))
    return _from_pil(image)


def _from_tensor(tensor: torch.Tensor) -> Image.Image:
    t = tensor.detach()
    if t.ndim == 4:
        if t.shape[0] != 1:
            raise ImageError(_("the tensor holds a batch of {n} images; pass one, e.g. x[0]").format(n=t.shape[0]))
        t = t[0]
    if t.ndim == 3:
        if t.shape[0] not in (1, 3, 4):
            raise ImageError(_("the tensor has shape {shape}; expected C x H x W with C = 1, 3 or 4").format(
                shape=tuple(tensor.shape)))
        t = t.permute(1, 2, 0)
    elif t.ndim != 2:
        raise ImageError(_("the tensor has shape {shape}; expected H x W, C x H x W or 1 x C x H x W").format(
            shape=tuple(tensor.shape)))
    array = t.float().cpu().numpy() if t.is_floating_point() else t.cpu().numpy()
    return _from_array(array)


# ------------------------------------------------------------------------------------------- converting


def resize(image: Image.Image, size) -> Image.Image:
    """``size`` int: longest side becomes ``size``, aspect kept; (height, width): exactly that."""
    if isinstance(size, int):
        scale = size / max(image.size)
        new = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    else:
        height, width = size
        new = (int(width), int(height))
    if new == image.size:
        return image
    return image.resize(new, Image.Resampling.LANCZOS, reducing_gap=3.0 if new[0] < image.width else None)


def to_tensor(src, size=None, device=None, dtype=torch.float32, max_size=None, min_size=MIN_SIZE) -> torch.Tensor:
    """Any image-like input -> a (1, 3, H, W) tensor in [0, 1] on ``device``."""
    image = load(src, size=size, max_size=max_size, min_size=min_size)
    array = np.asarray(image, dtype=np.float32) / 255.0
    tensor = torch.from_numpy(array).permute(2, 0, 1).unsqueeze(0).contiguous()
    return tensor.to(device=device, dtype=dtype)


def to_pil(tensor: torch.Tensor) -> Image.Image:
    """(1, 3, H, W) or (3, H, W) tensor in [0, 1] (clamped) -> PIL image."""
    t = tensor.detach()
    if t.ndim == 4:
        t = t[0]
    array = (t.float().clamp(0, 1).permute(1, 2, 0).cpu().numpy() * 255.0).round().astype(np.uint8)
    return Image.fromarray(array)


def to_numpy(tensor: torch.Tensor) -> np.ndarray:
    """(1, 3, H, W) or (3, H, W) tensor -> H x W x 3 float array in [0, 1], for matplotlib."""
    t = tensor.detach()
    if t.ndim == 4:
        t = t[0]
    return t.float().clamp(0, 1).permute(1, 2, 0).cpu().numpy()


def save(tensor_or_image, path, overwrite: bool = True) -> Path:
    """Save a tensor or PIL image; the folder is created, the format follows the suffix.

    The path is checked first (``outputs.check_image``: a known extension, not a folder, a folder that can
    be written), and the file is written through a temporary file and renamed, so a failed write never
    leaves half a file. ``overwrite=False`` refuses to replace an existing file.
    """
    path = outputs.check_image(path, overwrite_existing=overwrite)
    image = tensor_or_image if isinstance(tensor_or_image, Image.Image) else to_pil(tensor_or_image)
    with outputs.replacing(path) as partial:
        image.save(partial, format=outputs.image_format(path))
    return path


def structure_kept(photo: torch.Tensor, result: torch.Tensor, sigma: float) -> float:
    """How much of the photo's structure at one scale survives in ``result``: the correlation of the two images'
    band-pass luminance (a difference of Gaussian blurs of ``sigma`` and ``2 * sigma`` pixels). Near 1 the
    result keeps that scale's edges where the photo has them; near 0 it lost them. A small ``sigma`` measures
    fine detail (whiskers, lettering), a large one the big shapes. Both (1, 3, H, W) in [0, 1], the same size."""
    from torchvision.transforms.functional import gaussian_blur  # torchvision loads slowly: only this needs it

    if photo.shape != result.shape:
        raise ValueError(f"photo and result must have the same shape, got {tuple(photo.shape)} and "
                         f"{tuple(result.shape)}: resize one with images.to_tensor(..., size=...)")

    def band(x):
        lum = (x.detach().float() * torch.tensor([0.299, 0.587, 0.114], device=x.device).view(1, 3, 1, 1)).sum(1, True)
        blur = [gaussian_blur(lum, 2 * math.ceil(3 * s) + 1, s) for s in (sigma, 2 * sigma)]
        return (blur[0] - blur[1]).flatten()

    a, b = band(photo), band(result)
    a, b = a - a.mean(), b - b.mean()
    return float((a @ b) / (a.norm() * b.norm()).clamp(min=1e-12))
