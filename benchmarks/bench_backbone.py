"""The backbone every lesson stands on: VGG16 forward passes on this CPU, against its matmul peak.

Side by side in one run: the full convolutional stack vs the stack truncated after relu4_2 (what the
content loss needs) and after relu3_1, in fp32 and in bf16 autocast. Prints GFLOP/s, the fraction of the
measured matmul peak, and last the speed-up that truncation gives: why nstlib truncates.

    python benchmarks/bench_backbone.py [--size 224] [--repeat 5]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from common import best_time, conv_gflop, matmul_peak_gflops  # noqa: E402

from nstlib import models  # noqa: E402


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    peak32 = matmul_peak_gflops(torch.float32)
    peak16 = matmul_peak_gflops(torch.bfloat16)
    print(f"matmul peak: fp32 {peak32:.0f} GFLOP/s, bf16 {peak16:.0f} GFLOP/s ({torch.get_num_threads()} threads)")

    x = torch.rand(1, 3, args.size, args.size)
    times = {}
    for last in ("pool5", "relu4_2", "relu3_1"):
        model = models.vgg("vgg16", "random", last_layer=last, verbose=False)
        gflop = conv_gflop(model, x)
        for dtype, peak in ((torch.float32, peak32), (torch.bfloat16, peak16)):
            def forward(model=model, bf16=dtype is torch.bfloat16):
                with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                    model(x)

            seconds = best_time(forward, repeat=args.repeat)
            times[last, dtype] = seconds
            name = str(dtype).replace("torch.", "")
            print(f"up to {last:<8} {name:<9} {seconds * 1e3:7.1f} ms  {gflop:5.1f} GFLOP  "
                  f"{gflop / seconds:6.1f} GFLOP/s = {gflop / seconds / peak:5.1%} of the {name} peak")
    fp32 = torch.float32
    print(f"bf16 vs fp32, full stack: {times['pool5', fp32] / times['pool5', torch.bfloat16]:.2f}x")
    print(f"truncating after relu4_2 instead of running to pool5: "
          f"{times['pool5', fp32] / times['relu4_2', fp32]:.2f}x faster (fp32, {args.size} px)")


if __name__ == "__main__":
    main()
