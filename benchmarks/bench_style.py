"""Style transfer: nstlib's default against a reference written the way common tutorials do it.

Reference: one scale at full resolution, fp32, the full VGG conv stack (to pool5), L-BFGS with
``max_iter=20`` per step, Gram matrices as ``F @ F.T``, run for N loss evaluations. nstlib: ``style.stylize``
with its defaults (scales by size, truncated VGG, bf16 channels-last network where native), stopped as soon
as its loss at the final resolution reaches the reference's final loss. Same images, same network weights
(the offline VGG16 pack), same loss: both final images are scored by the same fp32 objective at full resolution.

Also: the fraction of this machine's matmul peak (fp32 and bf16, measured here with a torch.matmul loop)
that one stylize evaluation reaches, and the peak memory (max RSS of a fresh process) at 512 px.
Both sides run in the same process, one after the other, so the ratio holds on a shared, noisy machine.

The quality section (on by default) times the 512 px ``--preset quality``'s schedule against the one it had
before (``BASELINE``: 400 steps, a fifth of them at half size) on three pairs of pictures: the new schedule
runs until its loss reaches the baseline's best, and the line says where the preset's own step budget ends.
It also reports each result's off-palette share (``nstlib.palette``) and, with ``--pictures DIR``, saves the
two results side by side. The last line is the worst of the three quality speed-ups (or, with
``--no-quality``, the speed-up over the tutorial loop).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import torch

from nstlib import hooks, images, models, palette, plotting, style, textures
from nstlib.cli import PRESETS


def tutorial_gram(features):
    """The Gram matrix as the PyTorch tutorial computes it: ``F @ F.T`` on an fp32 (B, C, H·W) view."""
    b, c, h, w = features.shape
    f = features.float().reshape(b, c, h * w)
    return f @ f.transpose(1, 2) / (c * h * w)


class FullNetworkObjective(style.Objective):
    """The same loss, computed the tutorials' way: features from a forward pass through the whole conv stack,
    Gram matrices by ``F @ F.T``."""

    gram = staticmethod(tutorial_gram)

    def features(self, image, layers):
        with hooks.capture(self.model, layers) as cap:
            self.model(image)
        return {name: cap[name] for name in layers}


def load_inputs(size, content, style_name):
    c = images.load(images.sample(content), size=size)
    s = textures.draw(style_name, 512)
    return c, s


def reference(model, c_img, s_img, size, n_evals):
    """The tutorial loop: single scale, fp32, full VGG, L-BFGS (max_iter=20), content init."""
    start, cpu = time.perf_counter(), time.process_time()
    c = images.to_tensor(c_img)
    s = images.to_tensor(images.resize(s_img, size))
    objective = FullNetworkObjective(model, c, [s])
    x = c.clone().requires_grad_(True)
    opt = torch.optim.LBFGS([x], max_iter=20)
    history = []

    def closure():
        with torch.no_grad():
            x.clamp_(0, 1)  # as the PyTorch tutorial does
        opt.zero_grad()
        loss = objective(x)["total"]
        (x.grad,) = torch.autograd.grad(loss, x)
        history.append((time.perf_counter() - start, float(loss.detach())))
        return loss

    while len(history) < n_evals:
        opt.step(closure)
    return x.detach().clamp(0, 1), time.perf_counter() - start, time.process_time() - cpu, history


def score(model, c_img, s_img, size, x):
    c = images.to_tensor(c_img)
    s = images.to_tensor(images.resize(s_img, size))
    with torch.no_grad():
        terms = FullNetworkObjective(model, c, [s])(x.clamp(0, 1))
    return {k: float(terms[k]) for k in ("total", "content", "style", "tv")}


def until_loss(c_img, s_img, target, **settings):
    """stylize on the offline pack, stopped once its loss at the final scale is at or below ``target`` (None:
    never); returns the result, its wall time and its CPU time."""

    def reached(state):
        final_scale = tuple(state.size) == (c_img.height, c_img.width)
        return target is not None and final_scale and state.record.total[-1] <= target

    start, cpu = time.perf_counter(), time.process_time()
    result = style.stylize(c_img, s_img, weights="offline", progress=False, callback=reached, **settings)
    return result, time.perf_counter() - start, time.process_time() - cpu


def warm_up(model, c_img, s_img):
    """One-time costs outside both timings: the first L-BFGS step imports about 900 modules (0.8 s)."""
    reference(model, c_img.resize((64, 48)), s_img, 64, 2)
    style.stylize(c_img, s_img, size=64, steps=2, weights="offline", arch="vgg16", progress=False)


def matmul_peak(dtype, n=2048, seconds=2.0):
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    torch.matmul(a, b)
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        torch.matmul(a, b)
        count += 1
    return 2 * n**3 * count / (time.perf_counter() - start) / 1e9


def step_rate(c_img, s_img, size, amp, repeats=3):
    """GFLOP/s of one stylize evaluation (forward + backward to the image) at full size."""
    from torch.utils.flop_counter import FlopCounterMode

    dtype = style.amp_dtype(torch.device("cpu"), amp)
    model = style.runnable(style.load_model("vgg16", "offline", "relu5_1", "max", "cpu"), dtype, dtype is not None)
    layout = torch.channels_last if dtype is not None else torch.contiguous_format  # as stylize runs it
    c = images.to_tensor(c_img)
    s = images.to_tensor(images.resize(s_img, size))
    objective = style.Objective(model, c, [s], amp_dtype=dtype)
    x = c.clone().requires_grad_(True)

    def once():  # .backward(): FlopCounterMode's module hooks do not support autograd.grad on a leaf
        x.grad = None
        objective(x.clamp(0, 1).contiguous(memory_format=layout))["total"].backward()

    with FlopCounterMode(display=False) as counter:
        once()
    flops = counter.get_total_flops()
    once()
    start = time.perf_counter()
    for _ in range(repeats):
        once()
    seconds = (time.perf_counter() - start) / repeats
    return flops / seconds / 1e9, flops / 1e9, seconds


MEMORY_CHILD = r"""
import gc, json, resource, sys, torch
from nstlib import images, style, textures, models
which, size = sys.argv[1], int(sys.argv[2])
c = images.load(images.sample("cat"), size=size); s = textures.draw("strokes", 512)
if which == "nstlib":
    style.load_model("vgg16", "offline", "relu5_1", "max", "cpu")
else:
    model = models.vgg("vgg16", "offline", verbose=False)
gc.collect()
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) / 1024
try:  # reset the peak (VmHWM) so loading the weights does not hide the run's own peak
    open("/proc/self/clear_refs", "w").write("5")
except OSError:
    pass
before = status("VmRSS")
if which == "nstlib":
    style.stylize(c, s, size=size, steps=8, weights="offline", arch="vgg16", progress=False)
else:
    sys.path.insert(0, sys.argv[3]); import bench_style as b
    b.reference(model, c, s, size, 3)
after = status("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"before": before, "after": after}))
"""


def peak_memory(which, size):
    here = str(Path(__file__).resolve().parent)
    out = subprocess.run([sys.executable, "-c", MEMORY_CHILD, which, str(size), here], capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


#: The pairs of the quality section: (sample photo, texture).
QUALITY_PAIRS = (("cat", "strokes"), ("astronaut", "mosaic"), ("hopper", "waves"))

#: ``--preset quality`` before the single-scale schedule: 512 px, 400 steps, 80 of them at half size.
BASELINE = {"size": 512, "steps": 400, "scales": 2, "scale_shares": [0.2, 0.8]}


def quality_pair(content_name, style_name, pictures: Path | None):
    """The baseline to its end, then today's schedule (the preset's size, one scale) until the baseline's best
    loss, with the baseline's step budget as a cap; returns the speed-up to equal loss. The second run's record
    also says where the preset's own, smaller step budget ends: its loss and time there."""
    preset = PRESETS["quality"]
    c_img = images.load(images.sample(content_name), size=preset["size"])
    s_img = textures.draw(style_name, 512)
    old, t_old, _ = until_loss(c_img, s_img, None, seed=0, **BASELINE)
    new, t_new, _ = until_loss(c_img, s_img, old.record.best_loss, seed=0, size=preset["size"],
                               steps=BASELINE["steps"])
    reached = new.record.best_loss <= old.record.best_loss
    shares = [palette.off_palette_share(r.image, c_img, s_img) for r in (old, new)]
    if new.record.steps >= preset["steps"]:  # the preset would have stopped here
        at_budget = [r for r in new.record.rows if r["step"] < preset["steps"]]
        loss = min(r["total"] for r in at_budget)
        budget = (f"after the preset's {preset['steps']} steps: loss {loss:.4f} "
                  f"({loss / old.record.best_loss - 1:+.1%}) at {at_budget[-1]['seconds']:.1f} s")
    else:
        budget = f"within the preset's {preset['steps']} steps"
    print(f"{content_name} + {style_name}: baseline {old.record.steps} steps ({len(old.record.sizes)} scales) in "
          f"{t_old:.1f} s, best loss {old.record.best_loss:.4f}; one scale reached {new.record.best_loss:.4f} after "
          f"{new.record.steps} steps in {t_new:.1f} s{'' if reached else ' (NOT REACHED)'} ({budget}); "
          f"off-palette share (ΔE > {palette.FAR:g}) {shares[0]:.1%} -> {shares[1]:.1%}; speed-up to equal loss "
          f"{t_old / t_new:.1f}x", flush=True)
    if pictures is not None:
        pictures.mkdir(parents=True, exist_ok=True)
        fig = plotting.show_images(
            [c_img, s_img, old.image, new.image],
            [content_name, style_name, f"before: {old.record.steps} steps, {t_old:.0f} s\nloss "
             f"{old.record.best_loss:.3f}, off-palette {shares[0]:.0%}", f"now: {new.record.steps} steps, "
             f"{t_new:.0f} s\nloss {new.record.best_loss:.3f}, off-palette {shares[1]:.0%}"], size=5,
            suptitle="offline VGG16 pack, 512 px")
        fig.savefig(pictures / f"quality_{content_name}_{style_name}.png", dpi=80, bbox_inches="tight")
    return t_old / t_new if reached else 0.0


def quality(pictures: Path | None):
    print(f"quality section: 512 px, one scale against the baseline {BASELINE}; the preset is {PRESETS['quality']}; "
          f"offline VGG16 pack")
    cat = images.sample("cat", 64)
    style.stylize(cat, textures.draw("strokes", 64), steps=2, weights="offline", progress=False)  # imports, model
    ratios = [quality_pair(c, s, pictures) for c, s in QUALITY_PAIRS]
    print(f"512 px, worst speed-up to the baseline's loss over {len(QUALITY_PAIRS)} pairs: {min(ratios):.1f}x "
          f"(target >= 8x)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=384)
    parser.add_argument("--ref-evals", type=int, default=50, help="reference L-BFGS loss evaluations (N)")
    parser.add_argument("--memory-size", type=int, default=512)
    parser.add_argument("--content", default="cat")
    parser.add_argument("--style", default="strokes")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--no-quality", action="store_true", help="skip the 512 px quality section")
    parser.add_argument("--quality-only", action="store_true", help="only the 512 px quality section")
    parser.add_argument("--pictures", type=Path, help="folder for the quality section's side-by-side pictures")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.quality_only:
        quality(args.pictures)
        return
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, bf16 autocast: "
          f"{style.amp_dtype(torch.device('cpu')) is not None}; size {args.size} px; reference N = "
          f"{args.ref_evals} loss evaluations")

    full_vgg = models.vgg("vgg16", "offline")  # to pool5, as the tutorials run it
    style.load_model("vgg16", "offline", "relu5_1", "max", "cpu")  # nstlib's truncated copy, loaded untimed
    c_img, s_img = load_inputs(args.size, args.content, args.style)
    warm_up(full_vgg, c_img, s_img)

    x_ref, t_ref, cpu_ref, ref_history = reference(full_vgg, c_img, s_img, args.size, args.ref_evals)
    ref = score(full_vgg, c_img, s_img, args.size, x_ref)
    print(f"reference: {len(ref_history)} evaluations in {t_ref:.1f} s (CPU {cpu_ref:.1f} s); "
          f"final loss {ref['total']:.4f} "
          f"(content {ref['content']:.4f}, style {ref['style']:.4f}, tv {ref['tv']:.4f})")

    # Stopped by nstlib's own loss (bf16 network); the fp32 score below says whether it is really no worse.
    result, t_ours, cpu_ours = until_loss(c_img, s_img, ref["total"], size=args.size, arch="vgg16")
    ours = score(full_vgg, c_img, s_img, args.size, result.image)
    rec = result.record
    at_final = sum(1 for s in rec.scale if s == len(rec.sizes) - 1)
    print(f"nstlib:    {rec.steps} steps, {rec.evals} evaluations ({at_final} at full size; scales "
          f"{[f'{w}x{h}' for h, w in rec.sizes]}) in {t_ours:.1f} s (CPU {cpu_ours:.1f} s); "
          f"final loss {ours['total']:.4f} "
          f"(content {ours['content']:.4f}, style {ours['style']:.4f}, tv {ours['tv']:.4f}); stopped: {rec.stopped}")
    no_worse = ours["total"] <= ref["total"] * 1.001
    print(f"final loss nstlib / reference: {ours['total'] / ref['total']:.3f} ({'no worse' if no_worse else 'WORSE'})")

    for name, dtype, amp in (("fp32", torch.float32, "off"), ("bf16", torch.bfloat16, "bf16")):
        if name == "bf16" and style.amp_dtype(torch.device("cpu")) is None:
            print("bf16: not native on this CPU, skipped")
            continue
        peak = matmul_peak(dtype)
        rate, gflop, seconds = step_rate(c_img, s_img, args.size, amp)
        print(f"{name}: matmul peak {peak:.0f} GFLOP/s; a stylize evaluation at {args.size} px does {gflop:.0f} GFLOP "
              f"in {seconds:.2f} s = {rate:.0f} GFLOP/s = {rate / peak:.0%} of peak")

    if not args.skip_memory:
        for which in ("nstlib", "reference"):
            m = peak_memory(which, args.memory_size)
            print(f"peak memory at {args.memory_size} px, {which}: peak RSS during the run {m['after']:.0f} MiB "
                  f"(model loaded: {m['before']:.0f} MiB, so +{m['after'] - m['before']:.0f} MiB for the run)")

    print(f"CPU time (less sensitive to other load on the machine): reference {cpu_ref:.1f} s, nstlib "
          f"{cpu_ours:.1f} s, ratio {cpu_ref / cpu_ours:.1f}x")
    print(f"speed-up to the reference's final loss at {args.size} px: {t_ref / t_ours:.1f}x "
          f"(reference {t_ref:.1f} s, nstlib {t_ours:.1f} s; target >= 4x; final loss ratio "
          f"{ours['total'] / ref['total']:.3f})")
    if not args.no_quality:
        quality(args.pictures)


if __name__ == "__main__":
    main()
