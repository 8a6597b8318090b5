"""Training a fast style network at scale (``train-fast``): crops per second, measured side by side in one run.

1. This CPU at --crop px: one process on all cores against ``torchrun --nproc_per_node=2`` (gloo, half the
   cores each), the same global batch. Two processes only pay off where one process leaves cores idle.
2. The DataLoader's share of the step time: seconds spent waiting for the batch over seconds per step.
3. With CUDA: one GPU in fp32 against mixed precision (bf16 where the GPU has it, else fp16).

The content is a folder of JPEGs at COCO's size (640x480, made from the bundled photos), so decoding costs
what it costs on a real content set. Each run is the real command in a fresh process; its first step is
warm-up and not counted (the rest is read from the run's losses.csv).

    python benchmarks/bench_train.py [--steps 12] [--crop 256] [--batch 4] [--gpu-batch 16] [--weights offline]

``--steps 2`` runs it end to end in a few minutes; the last line is the figure that matters.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from common import matmul_peak_gflops  # noqa: E402

from nstlib import fast, images  # noqa: E402
from nstlib.train import content  # noqa: E402
from nstlib.train import log as train_log  # noqa: E402


def make_photos(folder: Path, copies: int = 4) -> Path:
    """The bundled photos as 640x480 JPEGs (COCO's typical size), several crops of each."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in content.BUNDLED + fast.HELD_OUT_PHOTOS:
        photo = images.sample(name, size=(480, 640))
        for i in range(copies):
            photo.transpose(i % 2).save(folder / f"{name}_{i}.jpg", quality=90)  # 0: flip left-right, 1: up-down
    return folder


def train(tmp: Path, tag: str, args, processes: int = 1, threads: int | None = None, device: str = "cpu",
          precision: str = "fp32", batch: int | None = None) -> dict:
    """Run train-fast once in a fresh process (or under torchrun); crops/s and the loader's share."""
    run_dir = tmp / tag
    launcher = [sys.executable, "-m", "nstlib"] if processes == 1 else [
        sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={processes}", "--standalone", "-m", "nstlib"]
    command = [*launcher, "train-fast", "--content", str(tmp / "photos"), "--crop", str(args.crop),
               "--batch-size", str(batch or args.batch), "--steps", str(args.steps), "--weights", args.weights,
               "--device", device, "--precision", precision, "--preview-every", "0", "--checkpoint-every", "100000",
               "--no-progress", "--run-dir", str(run_dir), "-o", str(tmp / f"{tag}.pth")]
    if args.workers is not None:
        command += ["--workers", str(args.workers)]
    env = dict(os.environ)
    if threads is not None:
        env["OMP_NUM_THREADS"] = str(threads)
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{tag} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    rows = train_log.read_csv(run_dir / "losses.csv")
    # The first step is warm-up: the clock starts when it ends (its row), so steps 2 to the last are counted.
    counted = rows[1:]
    seconds = rows[-1]["seconds"] - rows[0]["seconds"]
    waited = sum(r["data_seconds"] for r in counted)
    crops = rows[-1]["samples"] - rows[0]["samples"]
    return {"crops_per_s": crops / seconds, "loader_share": waited / seconds, "step_s": seconds / len(counted)}


def line(label: str, r: dict) -> str:
    return (f"{label:<38} {r['crops_per_s']:7.2f} crops/s  {r['step_s']:7.2f} s/step  "
            f"DataLoader {100 * r['loader_share']:4.1f} % of the step")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=12, help="steps per run, the first one not counted (>= 2)")
    parser.add_argument("--crop", type=int, default=256)
    parser.add_argument("--batch", type=int, default=4, help="global batch on the CPU (even, for 2 processes)")
    parser.add_argument("--gpu-batch", type=int, default=16)
    parser.add_argument("--workers", type=int, help="DataLoader workers per process (default: train-fast's)")
    parser.add_argument("--weights", default="offline")
    parser.add_argument("--gpu-only", action="store_true", help="skip the CPU runs (on a GPU machine)")
    args = parser.parse_args(argv)
    if args.steps < 2 or args.batch % 2:
        parser.error("--steps must be at least 2 and --batch even")

    cores = os.cpu_count() or 1
    print(f"{cores} cores; matmul peak {matmul_peak_gflops():.0f} GFLOP/s (fp32, {torch.get_num_threads()} threads); "
          f"crop {args.crop} px, global batch {args.batch}, {args.steps} steps (1 warm-up)")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        make_photos(tmp / "photos")
        summary = "no CPU runs (--gpu-only)"
        if not args.gpu_only:
            one = train(tmp, "cpu1", args, processes=1, threads=cores)
            two = train(tmp, "cpu2", args, processes=2, threads=max(1, cores // 2))
            print(line(f"CPU, 1 process x {cores} threads", one))
            print(line(f"CPU, 2 processes x {max(1, cores // 2)} threads (gloo)", two))
            summary = (f"training at {args.crop} px on this CPU: 2 processes {two['crops_per_s']:.2f} crops/s vs 1 "
                       f"process {one['crops_per_s']:.2f}: {two['crops_per_s'] / one['crops_per_s']:.2f}x")
        if torch.cuda.is_available():
            name = torch.cuda.get_device_name(0)
            fp32 = train(tmp, "gpu32", args, device="cuda", precision="fp32", batch=args.gpu_batch)
            amp = train(tmp, "gpuamp", args, device="cuda", precision="auto", batch=args.gpu_batch)
            low = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
            print(line(f"{name}, fp32, batch {args.gpu_batch}", fp32))
            print(line(f"{name}, {low} mixed precision", amp))
            print(summary)
            summary = (f"training at {args.crop} px on one {name}: {amp['crops_per_s']:.1f} crops/s in {low} vs "
                       f"{fp32['crops_per_s']:.1f} in fp32: {amp['crops_per_s'] / fp32['crops_per_s']:.2f}x")
        print(summary)


if __name__ == "__main__":
    main()
