"""Lesson 5: a trained feed-forward network against lesson 4's optimisation, measured in one run.

1. Milliseconds per 512 px image for each shipped model, and lesson 4's ``style.stylize`` (its default
   settings) on the same photo: the speed-up is the figure that matters (target: at least 100x).
2. Training throughput at the default settings (crops per second, a few steps).
3. Quality on held-out photos: the style and content losses (lesson 4's definitions, at --eval-size) of
   the fast model's result against the optimised image for the same content and style.

    python benchmarks/bench_fast.py [--size 512] [--eval-size 256] [--opt-steps 200]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from common import best_time  # noqa: E402

from nstlib import fast, images, style, textures  # noqa: E402


def losses(objective, image):
    with torch.no_grad():
        terms = objective(image)
    return float(terms["style"]), float(terms["content"])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--eval-size", type=int, default=256)
    parser.add_argument("--opt-steps", type=int, default=200)
    parser.add_argument("--weights", default="offline")
    args = parser.parse_args(argv)

    photo = images.sample("coffee", size=args.size)
    names = fast.available()
    print(f"{torch.get_num_threads()} threads; shipped models: {', '.join(names)}; content: coffee at {args.size} px")

    # 1. speed
    fast_seconds = {}
    for name in names:
        net = fast.load(name)
        fast_seconds[name] = best_time(lambda net=net: fast.stylize(net, photo), repeat=5)
        print(f"fast {name:<10} {fast_seconds[name] * 1e3:7.0f} ms per {args.size} px image")
    name = names[0]
    style_image = textures.draw(fast.load(name).meta["settings"]["style"], size=512)
    start = time.perf_counter()
    style.stylize(photo, style_image, size=args.size, steps=args.opt_steps, weights=args.weights, progress=False)
    optimised_seconds = time.perf_counter() - start
    print(f"lesson 4 stylize ({args.opt_steps} steps, {args.size} px): {optimised_seconds:.1f} s")

    # 2. training throughput
    settings = fast.TrainSettings(steps=4, weights=args.weights)
    _, record = fast.train(settings, progress=False, device="cpu")
    print(f"training throughput at the defaults (crop {settings.crop}, batch {settings.batch}): "
          f"{settings.batch * record.step / record.seconds:.1f} crops/s")

    # 3. quality on held-out photos, lesson 4's loss definitions
    model = style.load_model("vgg19", args.weights, last_layer="relu5_1")
    for name in names:
        net = fast.load(name)
        texture = textures.draw(net.meta["settings"]["style"], size=512)
        for held_out in fast.HELD_OUT_PHOTOS:
            content = images.to_tensor(images.sample(held_out), size=args.eval_size)
            objective = style.Objective(model, content, [images.to_tensor(texture, size=args.eval_size)])
            fast_image = fast.stylize(net, content)
            opt_image = style.stylize(content, texture, size=args.eval_size, steps=args.opt_steps,
                                      weights=args.weights, progress=False).image
            fs, fc = losses(objective, fast_image)
            os_, oc = losses(objective, opt_image)
            print(f"{name:<10} {held_out:<7} style loss fast {fs:.3f} vs optimised {os_:.3f}; "
                  f"content loss fast {fc:.3f} vs optimised {oc:.3f}")

    worst = max(fast_seconds.values())
    print(f"fast style transfer at {args.size} px: {worst * 1e3:.0f} ms vs {optimised_seconds:.1f} s optimising: "
          f"{optimised_seconds / worst:.0f}x faster")


if __name__ == "__main__":
    main()
