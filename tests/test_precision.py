"""Running a VGG in low precision: the native dtype per device and the runnable copy of the network."""

from __future__ import annotations

import pytest
import torch

from nstlib import models
from nstlib.core import precision
from nstlib.style import relative_error


def test_amp_dtype_is_none_when_off_and_refuses_unknown_modes():
    assert precision.amp_dtype(torch.device("cpu"), "off") is None
    assert precision.amp_dtype(torch.device("cpu"), "bf16") == torch.bfloat16  # asked for explicitly
    with pytest.raises(ValueError, match="amp must be 'auto', 'bf16' or 'off'"):
        precision.amp_dtype(torch.device("cpu"), "fast")


def test_runnable_copy_is_bf16_channels_last_leaves_the_model_alone_and_follows_weight_changes():
    fresh = models.vgg("vgg16", "random", last_layer="relu2_1", verbose=False)  # uncached: changed below
    before = {k: v.clone() for k, v in fresh.state_dict().items()}
    net = precision.runnable(fresh, torch.bfloat16, True)
    conv = net.features.conv1_1.weight
    assert conv.dtype == torch.bfloat16 and conv.is_contiguous(memory_format=torch.channels_last)
    assert all(torch.equal(v, before[k]) for k, v in fresh.state_dict().items())  # the original is untouched
    assert fresh.features.conv1_1.weight.dtype == torch.float32
    assert precision.runnable(fresh, torch.bfloat16, True) is net  # made once
    x = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        close = net.extract(x, ["relu2_1"])["relu2_1"].float()
        exact = fresh.extract(x, ["relu2_1"])["relu2_1"]
    assert float(relative_error(close, exact)) < 1e-3
    with torch.no_grad():
        fresh.features.conv1_1.weight.mul_(2)  # a changed model gets a new copy
    assert precision.runnable(fresh, torch.bfloat16, True) is not net
    assert precision.runnable(fresh) is fresh  # fp32, usual layout: nothing to copy


def test_other_models_are_returned_as_they_are():
    net = torch.nn.Conv2d(3, 4, 3)
    assert precision.runnable(net, torch.bfloat16, True) is net
