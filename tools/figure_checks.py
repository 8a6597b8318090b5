"""Checks on the figures a lesson draws, for the course build (tools/build_book.py).

A figure is judged twice:
- from the inside, while the kernel draws it: a probe wraps matplotlib's ``print_figure`` and records, for
  every figure, the pixels of each image panel *as shown* (colour map and limits applied). A figure is blank
  when nothing is drawn or every image panel is one flat colour; it is saturated when most of the values of
  its image panels sit at the colour rails (within 2/255 of 0 or 1), the neon look of a broken optimisation.
- from the outside, on the picture the notebook stores: a picture of a single colour is blank.
"""

from __future__ import annotations

import base64
import io
import json
from dataclasses import dataclass

import numpy as np

#: A value within this distance of 0 or 1 is "at the rail".
RAIL = 2 / 255
#: A figure whose image panels have more than this share of values at the rails is saturated.
MAX_RAIL_SHARE = 0.5
#: An image panel whose values span less than this is one flat colour.
FLAT = 2 / 255


def rail_share(rgb: np.ndarray) -> float:
    """Share of the values of an image in [0, 1] that lie within 2/255 of 0 or 1."""
    values = np.asarray(rgb, dtype=np.float64)
    if values.size == 0:
        return 0.0
    return float(np.mean((values <= RAIL) | (values >= 1 - RAIL)))


def is_flat(rgb: np.ndarray) -> bool:
    """True when an image is a single colour (every value within 2/255 of every other)."""
    values = np.asarray(rgb, dtype=np.float64)
    return values.size == 0 or float(values.max() - values.min()) < FLAT


def describe_figure(fig) -> dict:
    """What the probe records of one matplotlib figure: its title, its artists and its image panels."""
    panels, artists = [], 0
    title = fig._suptitle.get_text() if getattr(fig, "_suptitle", None) is not None else ""
    for ax in fig.axes:
        title = title or ax.get_title()
        artists += len(ax.lines) + len(ax.collections) + len(ax.patches) + len(ax.texts) + len(ax.tables)
        for image in ax.get_images():
            rgb = np.asarray(image.to_rgba(image.get_array()), dtype=np.float64)[..., :3]
            if rgb.max() > 1.0:  # uint8 RGB arrays come back unscaled
                rgb = rgb / 255.0
            panels.append({"flat": is_flat(rgb), "rails": rail_share(rgb), "size": int(rgb.size)})
    return {"title": title, "artists": artists, "panels": panels}


def verdict(record: dict) -> str | None:
    """None for a good figure, else a short reason ("blank: ...", "saturated: ...")."""
    panels = record["panels"]
    if not panels and record["artists"] == 0:
        return "blank: the figure draws nothing"
    if panels and all(p["flat"] for p in panels) and record["artists"] == 0:
        return f"blank: all {len(panels)} image panel(s) are a single colour"
    total = sum(p["size"] for p in panels)
    if total:
        share = sum(p["rails"] * p["size"] for p in panels) / total
        if share > MAX_RAIL_SHARE:
            return f"saturated: {share:.0%} of its image values sit at the colour rails (0 or 1)"
    return None


def picture_verdict(data: str | bytes) -> str | None:
    """None for a PNG or JPEG with content, else why not (a notebook stores them base64-encoded)."""
    from PIL import Image

    raw = base64.b64decode(data) if isinstance(data, str) else data
    pixels = np.asarray(Image.open(io.BytesIO(raw)).convert("RGB"))
    if pixels.size == 0:
        return "blank: no pixels"
    spread = pixels.reshape(-1, 3).max(axis=0).astype(int) - pixels.reshape(-1, 3).min(axis=0)
    if spread.max() <= 2:  # JPEG may wobble by a level or two
        return "blank: a single colour"
    return None


#: Code run in the kernel before a lesson: every figure drawn is described into the file NSTLIB_FIGURE_LOG.
PROBE = """
def _nstlib_install_figure_probe(log_path, describe):
    import json
    from matplotlib.backend_bases import FigureCanvasBase

    original = FigureCanvasBase.print_figure
    if getattr(original, "_nstlib_probe", False):
        return

    def print_figure(self, *args, **kwargs):
        try:
            record = describe(self.figure)
        except Exception as error:  # the probe must never break a lesson
            record = {"title": "", "artists": 1, "panels": [], "probe_error": repr(error)}
        with open(log_path, "a") as log:
            log.write(json.dumps(record) + "\\n")
        return original(self, *args, **kwargs)

    print_figure._nstlib_probe = True
    FigureCanvasBase.print_figure = print_figure
"""


@dataclass
class Problem:
    lesson: str
    cell: int
    what: str

    def __str__(self) -> str:
        return f"{self.lesson}, cell {self.cell}: {self.what}"


def read_log(path) -> list[dict]:
    """The records the probe appended to ``path``."""
    try:
        with open(path) as log:
            return [json.loads(line) for line in log if line.strip()]
    except FileNotFoundError:
        return []
