"""Make the README's gallery: one small PNG per lesson, each made by the project's own code and commands.

    python tools/make_gallery.py          (about 5 minutes on a 2-core CPU; uses the weights 'auto' finds)
    python tools/make_gallery.py 2        (lesson 2's picture only)

Writes docs/gallery/*.png. Lesson 6's picture is the browser test's screenshot (make e2e) when present.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "gallery"
WIDTH = 720  # pixels: small files, sharp enough on GitHub


def save(fig_or_image, name: str, width: int = WIDTH) -> None:
    path = OUT / name
    if isinstance(fig_or_image, Image.Image):
        image = fig_or_image
    else:
        tmp = OUT / f".{name}"
        fig_or_image.savefig(tmp, dpi=100, bbox_inches="tight")
        plt.close(fig_or_image)
        image = Image.open(tmp)
        tmp.unlink()
    if image.width > width:
        image = image.resize((width, round(image.height * width / image.width)), Image.Resampling.LANCZOS)
    image.convert("RGB").save(path, optimize=True)
    print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size // 1024} KiB)")


def cli(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "nstlib", *args], check=True, cwd=ROOT)


def lesson_2(vgg) -> None:
    """Filter patterns from shallow to deep; block 1 after its ReLU (conv1_1 alone is linear: flat colour)."""
    from nstlib import filters

    patterns, titles = [], []
    for layer in ("relu1_1", "conv3_1", "conv4_1", "conv5_1"):
        # Block 1: a smaller step (3x3-pixel patterns saturate at the default), and two filters that fire on
        # the grey start (relu1_1 #12 is silent there, so its gradient is zero and its pattern stays grey).
        small_step = {"lr": 0.05} if layer == "relu1_1" else {}
        channels = [3, 7] if layer == "relu1_1" else [7, 12]
        result = filters.visualize(vgg, layer, channels, size=112, steps=120, octaves=2, progress=False, **small_step)
        patterns += list(result.images)
        titles += [f"{layer} #{c}" for c in channels]
    save(filters.show_patterns(torch.stack(patterns), titles=titles, ncols=4), "02_filters.png")


def main(argv=None) -> None:
    from nstlib import activations, cam, images, models, plotting, shapes_classifier

    lessons = {int(a) for a in (sys.argv[1:] if argv is None else argv)} or set(range(7))
    OUT.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    plotting.presenter_mode()
    vgg = models.vgg("vgg16")
    if 2 in lessons:
        lesson_2(vgg)
    if lessons == {2}:
        return

    # Lesson 1: what each layer makes of the cat.
    cat = images.to_tensor(images.sample("cat"), size=224)
    acts = activations.capture_all(vgg, cat)
    save(activations.show_layers(acts, ["conv1_2", "conv3_1", "conv4_3", "conv5_3"], channels=6), "01_activations.png")

    # Lesson 3: Grad-CAM on held-out scenes, with the known boxes.
    net = shapes_classifier.load(verbose=False)
    scenes = shapes_classifier.heldout(8, size=64)
    maps = cam.grad_cam(net, scenes.images, target=scenes.labels)
    save(cam.grid(scenes.images, maps, boxes=scenes.boxes, titles=scenes.names(), ncols=4), "03_gradcam.png")

    # Lessons 4 and 5: the command line, as a student would run it.
    cli("stylize", "cat", "strokes", "--preset", "fast", "--no-progress", "-o", str(OUT / "04_stylize.png"))
    cli("stylize", "--model", "mosaic", "coffee", "--size", "512", "-o", str(OUT / "05_fast_mosaic.png"))
    cli("stylize", "--model", "strokes", "astronaut", "--size", "512", "-o", str(OUT / "05_fast_strokes.png"))
    for name in ("04_stylize.png", "05_fast_mosaic.png", "05_fast_strokes.png"):
        save(Image.open(OUT / name), name, width=400)

    # Lesson 6: what the browser test saw.
    shot = ROOT / "out" / "e2e" / "studio.png"
    if shot.is_file():
        shutil.copy(shot, OUT / "06_studio.png")
        save(Image.open(OUT / "06_studio.png"), "06_studio.png")
    else:
        print("no out/e2e/studio.png yet: run `make e2e` first for lesson 6's picture")


if __name__ == "__main__":
    main()
