"""Where results go: checked before any work starts, and written whole or not at all.

A run that ends in "cannot write out.xyz" after ten minutes loses the result; a run that writes over the
photo it read loses the photo. So every output path is checked first (a format Pillow writes, not a folder,
a folder that exists or can be made and that can be written, not one of the inputs unless ``overwrite``),
and ``replacing`` writes through a temporary file in the same folder that is renamed only once complete.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from PIL import Image

from .errors import UsageError, on_cli, option

#: Image formats a course result is written in (those this Pillow can write are offered).
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff", ".ppm", ".tga")
#: Formats that hold an animation (Pillow's ``save_all``).
_ANIMATION_FORMATS = ("GIF", "PNG", "WEBP")


def image_suffixes() -> dict[str, str]:
    """Extension -> Pillow format, for every image format nstlib writes."""
    Image.init()
    known = Image.registered_extensions()
    return {s: known[s] for s in _IMAGE_SUFFIXES if known.get(s) in Image.SAVE}


def image_format(path) -> str:
    return image_suffixes()[Path(path).suffix.lower()]


def _label(name: str, path) -> str:
    """How the message names the path: ``-o out.xyz`` on the command line, ``path='out.xyz'`` in Python."""
    return option(name, path if on_cli(name) else repr(str(path)))


def check_image(path, *, inputs=(), overwrite: bool = False, animated: bool = False, name: str = "path",
                overwrite_existing: bool = True) -> Path:
    """The path of an image (or, with ``animated``, an animation) to write; a UsageError if it cannot be."""
    path = Path(path).expanduser()
    label = _label(name, path)
    suffixes = image_suffixes()
    suffix = path.suffix.lower()
    if path.is_dir():
        raise UsageError(f"{label} is a folder; give a file name inside it, e.g. {path / 'stylized.png'}")
    if suffix not in suffixes:
        what = "has no extension" if not suffix else f"has an extension Pillow does not write ({path.suffix})"
        raise UsageError(f"{label} {what}; end it with one of {', '.join(suffixes)}")
    if animated and suffixes[suffix] not in _ANIMATION_FORMATS:
        raise UsageError(f"{label}: the input is an animation, which {suffixes[suffix]} cannot hold; end the name "
                         f"with .gif (or .webp, .png for an animated PNG)")
    if not overwrite_existing and path.exists():
        raise UsageError(f"{label} exists already; choose another name")
    _check_not_an_input(path, inputs, overwrite, name)
    _check_writable(path.parent, label)
    return path


def check_folder(path, *, inputs=(), overwrite: bool = False, name: str = "path") -> Path:
    """A folder to write frames into (it may exist); a UsageError if it cannot be."""
    path = Path(path).expanduser()
    label = _label(name, path)
    if path.exists() and not path.is_dir():
        raise UsageError(f"{label} is a file; a folder of frames needs a folder name, e.g. "
                         f"{path.with_suffix('')}_frames/")
    if path.suffix.lower() in image_suffixes():
        raise UsageError(f"{label}: a folder of frames gives a folder of images; give a folder name, e.g. "
                         f"{path.with_suffix('')}/")
    for item in inputs:
        if item is not None and Path(item).is_dir() and _same(path, Path(item)) and not overwrite:
            raise UsageError(f"{label} is the input folder: its frames would be written over. Give another "
                             f"folder (or {option('overwrite', True, like=name)})")
    _check_writable(path if path.is_dir() else path.parent, label)
    return path


def check_file(path, *, suffixes: tuple, inputs=(), overwrite: bool = False, name: str = "path") -> Path:
    """Any other file to write (a model .pth): the suffix, not a folder, writable, not an input."""
    path = Path(path).expanduser()
    label = _label(name, path)
    if path.is_dir():
        raise UsageError(f"{label} is a folder; give a file name inside it, e.g. {path / ('model' + suffixes[0])}")
    if path.suffix.lower() not in suffixes:
        raise UsageError(f"{label}: end the name with {' or '.join(suffixes)}")
    _check_not_an_input(path, inputs, overwrite, name)
    _check_writable(path.parent, label)
    return path


def _same(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def _check_not_an_input(path: Path, inputs, overwrite: bool, name: str) -> None:
    if overwrite:
        return
    for item in inputs:
        if isinstance(item, (str, os.PathLike)) and Path(item).exists() and _same(path, Path(item)):
            how = f"{'add' if on_cli(name) else 'pass'} {option('overwrite', True, like=name)}"
            raise UsageError(f"{_label(name, path)} is also an input: writing it would destroy {item}. Give "
                             f"another output name, or {how} if that is what you want")


def _check_writable(folder: Path, label: str) -> None:
    """The nearest folder that exists must be a folder we can create a file in (tried, not guessed:
    permission bits say nothing about read-only disks, or about root)."""
    existing = folder
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        raise UsageError(f"{label}: {existing} is a file, so no folder can be made there; choose another path")
    try:
        handle, probe = tempfile.mkstemp(dir=existing, prefix=".nstlib-probe-")
    except OSError as error:
        raise UsageError(f"{label}: cannot write in {existing} ({error.strerror or error}); choose a folder you "
                         f"can write to") from None
    os.close(handle)
    os.unlink(probe)


@contextlib.contextmanager
def replacing(path):
    """Yield a temporary path beside ``path``; on success rename it to ``path``, on failure delete it.

    The one way nstlib writes a file (images, exports, models, weights, the download cache, the stand-ins), so
    a full disk or Ctrl-C leaves the old file as it was and no half-written one beside it. An OSError becomes
    a UsageError that names the file; any other error is raised as it was."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=path.suffix)
    except OSError as error:
        raise UsageError(f"cannot write {path} ({error.strerror or error}); nothing was written") from None
    os.close(handle)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(partial, 0o666 & ~umask)  # the permissions of an ordinary new file, not mkstemp's private 0600
    try:
        yield Path(partial)
        os.replace(partial, path)
    except OSError as error:
        Path(partial).unlink(missing_ok=True)
        raise UsageError(f"could not write {path} ({error.strerror or error}); nothing was written") from None
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
