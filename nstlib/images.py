"""Images in and out: any reasonable input becomes an RGB PIL image or a (1, 3, H, W) tensor in [0, 1].

Handles what photos from the wild throw at a course: EXIF rotation, grayscale, RGBA, palette, 16-bit and
CMYK files, huge images (downscaled with a warning, decoded at reduced size where the format allows) and
images too small for the network. Every error says what was wrong and how to fix it.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from . import config

#: The smallest side VGG can take: five 2x2 poolings need at least 32 pixels.
MIN_SIZE = 32


class ImageError(ValueError):
    """An input that cannot be turned into an RGB image; the message says how to fix it."""


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
    package, key, _ = SAMPLES[name]
    if package == "skimage":
        import skimage.data

        array = getattr(skimage.data, key)()
        if isinstance(array, tuple):  # stereo pairs: take the left view
            array = array[0]
        image = _from_array(np.asarray(array))
    else:
        from matplotlib import cbook

        with cbook.get_sample_data(key) as handle:
            image = _from_pil(Image.open(handle))
    return resize(image, size) if size is not None else image


# ------------------------------------------------------------------------------------------- loading


def load(src, size=None, max_size: int | None = None, min_size: int = MIN_SIZE) -> Image.Image:
    """Any image-like input -> an RGB PIL image.

    src: a path, an open file or BytesIO, a PIL image, a numpy array (HxW, HxWx1/3/4; uint8, uint16 or float
        in [0, 1]) or a tensor (HxW, CxHxW or 1xCxHxW; float in [0, 1] or uint8).
    size: resize so the longest side is ``size`` (int) or to exactly (height, width).
    max_size: longest side allowed before downscaling with a warning (default NSTLIB_MAX_SIZE, 1024).
    min_size: the shortest side the network needs; smaller images raise an ImageError.
    """
    max_size = config.max_size() if max_size is None else max_size
    if isinstance(src, (str, os.PathLike)):
        image = _open_path(Path(src), max_size)
    elif hasattr(src, "read"):  # an open file or bytes in memory (uploads, webcam snapshots)
        image = _open_file(src, max_size, f"the {type(src).__name__} given")
    elif isinstance(src, Image.Image):
        image = _from_pil(src)
    elif isinstance(src, torch.Tensor):
        image = _from_tensor(src)
    elif isinstance(src, np.ndarray):
        image = _from_array(src)
    else:
        raise ImageError(
            f"cannot make an image from a {type(src).__name__}: pass a file path, a PIL image, a numpy array "
            f"or a torch tensor"
        )
    if size is not None:
        image = resize(image, size)
    elif max(image.size) > max_size:
        warnings.warn(
            f"the image is {image.width}x{image.height} px; downscaling it so its longest side is {max_size} px "
            f"to keep memory bounded (pass max_size= or set NSTLIB_MAX_SIZE to change this)",
            stacklevel=2,
        )
        image = resize(image, max_size)
    if min(image.size) < min_size:
        raise ImageError(
            f"the image is {image.width}x{image.height} px, too small for the network, which needs at least "
            f"{min_size} px on the shorter side. Upscale it, for example load(src, size={max(min_size, 224)})."
        )
    return image


def _open_path(path: Path, max_size: int) -> Image.Image:
    if not path.exists():
        raise ImageError(f"no such file: {path}. Check the path (relative paths start at {Path.cwd()}).")
    if path.is_dir():
        raise ImageError(f"{path} is a folder, not an image file")
    return _open_file(path, max_size, str(path))


def _open_file(src, max_size: int, name: str) -> Image.Image:
    try:
        with Image.open(src) as handle:
            if handle.format == "JPEG" and max(handle.size) > 2 * max_size:
                # Decode at a reduced scale (1/2, 1/4, 1/8): a 50-megapixel photo never fills the memory.
                handle.draft("RGB", (max_size, max_size))
            handle.load()
            return _from_pil(handle)
    except UnidentifiedImageError:
        raise ImageError(
            f"{name} is not an image file that Pillow can read (is it a PDF, a video, or a truncated "
            f"download?). Save it as PNG or JPEG and try again."
        ) from None
    except Image.DecompressionBombError as error:
        raise ImageError(
            f"{name} is too large to open safely ({error}). Downscale it with an image editor first."
        ) from None
    except OSError as error:
        raise ImageError(f"{name} could not be read as an image ({error}). Re-save it as PNG or JPEG.") from None


def _from_pil(image: Image.Image) -> Image.Image:
    """Any PIL mode -> RGB: rotation from EXIF, alpha over white, 16-bit scaled, CMYK converted."""
    image = ImageOps.exif_transpose(image)
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
            f"the array has shape {array.shape}, which looks channels-first; numpy images are "
            f"height x width x channels: use array.transpose(1, 2, 0)"
        )
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (3, 4)):
        raise ImageError(
            f"the array has shape {array.shape}; an image is height x width (grayscale) or height x width x 3 "
            f"(RGB) or x 4 (RGBA)"
        )
    if array.dtype == bool:
        array = array.astype(np.uint8) * 255
    elif array.dtype == np.uint16:
        array = (array.astype(np.float64) / 65535.0 * 255.0).round().astype(np.uint8)
    elif np.issubdtype(array.dtype, np.floating):
        if not np.isfinite(array).all():
            raise ImageError("the array contains NaN or infinite values")
        if array.min() < 0 or array.max() > 1:
            hint = " (values up to 255: divide by 255)" if array.max() <= 255 and array.min() >= 0 else ""
            raise ImageError(
                f"a float image must be in [0, 1], but its values run from {array.min():.3g} to "
                f"{array.max():.3g}{hint}"
            )
        array = (array * 255.0).round().astype(np.uint8)
    elif array.dtype != np.uint8:
        if array.min() < 0 or array.max() > 255:
            raise ImageError(f"an integer image must hold values 0..255, got {array.min()}..{array.max()}")
        array = array.astype(np.uint8)
    image = Image.fromarray(np.ascontiguousarray(array))
    return _from_pil(image)


def _from_tensor(tensor: torch.Tensor) -> Image.Image:
    t = tensor.detach()
    if t.ndim == 4:
        if t.shape[0] != 1:
            raise ImageError(f"the tensor holds a batch of {t.shape[0]} images; pass one, e.g. x[0]")
        t = t[0]
    if t.ndim == 3:
        if t.shape[0] not in (1, 3, 4):
            raise ImageError(f"the tensor has shape {tuple(tensor.shape)}; expected C x H x W with C = 1, 3 or 4")
        t = t.permute(1, 2, 0)
    elif t.ndim != 2:
        raise ImageError(f"the tensor has shape {tuple(tensor.shape)}; expected H x W, C x H x W or 1 x C x H x W")
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


def save(tensor_or_image, path) -> Path:
    """Save a tensor or PIL image; the folder is created, the format follows the suffix."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    image = tensor_or_image if isinstance(tensor_or_image, Image.Image) else to_pil(tensor_or_image)
    image.save(path)
    return path
