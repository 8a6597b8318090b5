"""Running a VGG in low precision: which dtype a device does natively, and a copy of the network in it.

bf16 halves a convolution's cost on CPUs with native bf16 (AMX or AVX512-BF16) and on GPUs. Autocast alone
casts every weight again on every step; ``runnable`` casts them once, into a copy, stored channels-last,
the layout oneDNN and tensor cores want. Style transfer (lesson 4) and filter patterns (lesson 2) use both.
"""

from __future__ import annotations

import copy
import weakref

import torch


def amp_dtype(device: torch.device, amp="auto"):
    """The autocast dtype for ``device``: bf16 where the hardware does it natively, else None (fp32)."""
    if amp in (False, None, "off", "fp32"):
        return None
    if amp not in (True, "auto", "bf16"):
        raise ValueError(f"amp must be 'auto', 'bf16' or 'off', got {amp!r}")
    if device.type == "cpu":
        try:
            native = torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()
        except (AttributeError, RuntimeError):
            native = False
        return torch.bfloat16 if native or amp == "bf16" else None
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else None
    return None


def train_dtype(device: torch.device, precision: str = "auto"):
    """The autocast dtype for training (``fast.train``), or None for fp32.

    auto: bf16 on a CUDA GPU that has it, else fp16 (with a gradient scaler); fp32 on a CPU and on MPS,
    where training in low precision is not faster and is less tested. Which precision a device allows is
    checked with the other settings, by ``fast.TrainSettings.validated``.
    """
    if precision == "fp32" or (precision == "auto" and device.type != "cuda"):
        return None
    if precision == "auto":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16 if precision == "bf16" else torch.float16


class _CastTo(torch.nn.Module):
    def __init__(self, dtype):
        super().__init__()
        self.dtype = dtype

    def forward(self, x):
        return x.to(self.dtype)


_RUNNABLE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def runnable(model, dtype=None, channels_last=False):
    """The network as ``stylize`` runs it: convolution weights cast once to ``dtype`` (autocast would cast
    them again on every step, 8 % of a bf16 step at 384 px) and stored channels-last. The preprocessing
    stays fp32. A copy, so the caller's model is not changed; it is made again if the model's weights change.
    Models other than ``models.VGGFeatures`` are returned as they are (autocast still applies)."""
    if not (dtype or channels_last) or not hasattr(model, "features") or not hasattr(model, "preprocess"):
        return model
    version = (dtype, channels_last, sum(p._version for p in model.parameters()))
    cached = _RUNNABLE.get(model)
    if cached is not None and cached[0] == version:
        return cached[1]
    net = copy.deepcopy(model)
    net.features.to(dtype=dtype or torch.float32,
                    memory_format=torch.channels_last if channels_last else torch.contiguous_format)
    if dtype is not None:
        net.preprocess = torch.nn.Sequential(net.preprocess, _CastTo(dtype))
    net.requires_grad_(False)
    _RUNNABLE[model] = (version, net)
    return net
