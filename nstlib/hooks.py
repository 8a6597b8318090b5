"""Capture named layers' outputs (and, when asked, their gradients) without leaving anything behind.

One context manager, in the spirit of torch-cam's: forward hooks on the named modules, tensor hooks
(never full backward hooks, which break on in-place ReLU) for gradients, and on exit, even after an
exception, every hook removed and every module's train/eval flag restored. ``eval_mode`` is the same
train/eval switch without hooks.
"""

from __future__ import annotations

import weakref
from contextlib import contextmanager

import torch
from torch import nn


def find_module(model: nn.Module, name: str) -> tuple[str, nn.Module]:
    """A submodule by its full dotted name, or by a unique last part (``conv5_3`` finds ``features.conv5_3``)."""
    modules = dict(model.named_modules())
    if name in modules and name:
        return name, modules[name]
    matches = [full for full in modules if full.endswith("." + name)]
    if len(matches) == 1:
        return matches[0], modules[matches[0]]
    valid = [full for full in modules if full]
    if len(matches) > 1:
        raise KeyError(f"layer name {name!r} is ambiguous: it could be any of {matches}")
    raise KeyError(f"no layer called {name!r} in {type(model).__name__}. Valid names are: {', '.join(valid)}")


class Capture:
    """What a ``capture`` block recorded: ``outputs[name]`` and, with ``grads=True``, ``grads[name]``."""

    def __init__(self, names):
        self.names = list(names)
        self.outputs: dict[str, torch.Tensor] = {}
        self.grads: dict[str, torch.Tensor] = {}

    def __getitem__(self, name):
        return self.outputs[name]

    def clear(self):
        self.outputs.clear()
        self.grads.clear()


@contextmanager
def capture(model: nn.Module, layers, grads: bool = False, eval_mode: bool | None = True, detach: bool = False):
    """Record the outputs of ``layers`` (names, see ``find_module``) during the forward passes in the block.

    grads: also record d(loss)/d(output) when a backward pass or ``torch.autograd.grad`` reaches them.
        The outputs stay in the graph so that ``torch.autograd.grad(score, cap.outputs[name])`` works.
    eval_mode: True puts the model in eval mode inside the block, False in train mode, None leaves it;
        the flags of every submodule are put back on exit.
    detach: store detached outputs (for looking only; saves memory, no gradients).
    """
    if isinstance(layers, str):
        layers = [layers]
    resolved = [find_module(model, name) for name in layers]
    record = Capture(layers)
    flags = {module: module.training for module in model.modules()}
    handles = []

    def make_hook(short_name):
        def hook(module, inputs, output):
            if not isinstance(output, torch.Tensor):
                raise TypeError(f"layer {short_name!r} returns {type(output).__name__}, not a tensor")
            if detach:
                record.outputs[short_name] = output.detach().clone()
                return None
            record.outputs[short_name] = output
            if grads and output.requires_grad:
                output.register_hook(_grad_saver(weakref.ref(record), short_name))
            # The rest of the network gets a copy, so an in-place op downstream (ReLU(inplace=True))
            # can neither change what we hold nor re-route its gradient.
            return output.clone()

        return hook

    try:
        if eval_mode is not None:
            model.train(not eval_mode)
        for short_name, (_, module) in zip(layers, resolved):
            handles.append(module.register_forward_hook(make_hook(short_name)))
        yield record
    finally:
        for handle in handles:
            handle.remove()
        for module, was_training in flags.items():
            module.training = was_training


@contextmanager
def eval_mode(model: nn.Module, on: bool = True):
    """Inside the block ``model`` is in eval mode (``on=False``: train mode); on exit, even after an exception,
    every submodule's own train/eval flag is put back. ``capture`` does the same around its hooks."""
    flags = {module: module.training for module in model.modules()}
    try:
        model.train(not on)
        yield model
    finally:
        for module, was_training in flags.items():
            module.training = was_training


def _grad_saver(record_ref, name):
    """A tensor hook that holds the record only weakly: autograd keeps tensor hooks where Python's garbage
    collector cannot see them, so a strong reference would make record -> tensor -> hook -> record a
    cycle that is never freed (100 captures in a loop would grow memory)."""

    def save(grad):
        record = record_ref()
        if record is not None:
            record.grads[name] = grad.detach()

    return save


def active_hooks(model: nn.Module) -> int:
    """How many forward / backward hooks are registered anywhere in ``model`` (tests use this)."""
    total = 0
    for module in model.modules():
        total += len(module._forward_hooks) + len(module._forward_pre_hooks)
        total += len(module._backward_hooks) + len(getattr(module, "_backward_pre_hooks", {}))
    return total
