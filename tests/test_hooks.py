import gc
import warnings

import pytest
import torch
from torch import nn

from nstlib import hooks, models


def tiny_net(inplace=True):
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(inplace=inplace), nn.Conv2d(4, 2, 3, padding=1),
                         nn.BatchNorm2d(2), nn.ReLU(inplace=inplace))


def test_outputs_are_captured_and_hooks_removed(random_vgg16):
    x = torch.rand(1, 3, 32, 32)
    with hooks.capture(random_vgg16, ["conv1_1", "pool2"]) as cap:
        assert hooks.active_hooks(random_vgg16) == 2
        random_vgg16(x)
    assert hooks.active_hooks(random_vgg16) == 0
    expected = random_vgg16.extract(x, ["conv1_1", "pool2"])  # what those layers output, read without hooks
    for name in ("conv1_1", "pool2"):
        assert torch.equal(cap[name], expected[name]), name


def test_hooks_are_removed_and_flags_restored_after_an_exception():
    net = tiny_net()
    net.train()
    net[3].eval()  # a mixed state must come back exactly
    with pytest.raises(RuntimeError, match="boom"):
        with hooks.capture(net, ["0", "2"]):
            assert not net.training and not net[3].training
            raise RuntimeError("boom")
    assert hooks.active_hooks(net) == 0
    assert net.training and net[0].training and not net[3].training


def test_eval_mode_switches_every_module_and_puts_each_flag_back_after_an_exception():
    net = tiny_net()
    net.train()
    net[3].eval()  # a mixed state must come back exactly
    with pytest.raises(RuntimeError, match="boom"):
        with hooks.eval_mode(net):
            assert not any(m.training for m in net.modules())
            raise RuntimeError("boom")
    assert net.training and net[0].training and not net[3].training
    with hooks.eval_mode(net, on=False):
        assert all(m.training for m in net.modules())
    assert not net[3].training and hooks.active_hooks(net) == 0


def test_layer_errors_list_the_valid_names():
    net = tiny_net()
    with pytest.raises(KeyError, match="Valid names are: 0, 1, 2, 3, 4"):
        with hooks.capture(net, ["7"]):
            pass
    assert hooks.active_hooks(net) == 0


@pytest.mark.slow
def test_short_names_find_nested_layers():
    model = models.VGGClassifier()
    assert hooks.find_module(model, "relu5_3")[0] == "features.relu5_3"
    assert hooks.find_module(model, "features.conv1_1")[0] == "features.conv1_1"


def test_gradients_with_in_place_relu_match_a_hand_computation():
    net = tiny_net(inplace=True).eval()
    x = torch.rand(2, 3, 8, 8)
    with hooks.capture(net, ["0", "2"], grads=True) as cap:
        y = net(x).sum()
        g0, = torch.autograd.grad(y, cap["0"], retain_graph=True)
        y.backward()
    # By hand: the same network without hooks, the conv output made a leaf.
    ref = tiny_net(inplace=False).eval()
    a = ref[0](x).detach().requires_grad_(True)
    ref[4](ref[3](ref[2](ref[1](a)))).sum().backward()
    assert torch.allclose(g0, a.grad, atol=1e-6)
    assert torch.allclose(cap.grads["0"], a.grad, atol=1e-6)
    assert (cap["0"] < 0).any(), "the in-place ReLU must not have overwritten the captured conv output"


def test_detach_mode_keeps_no_graph():
    net = tiny_net()
    x = torch.rand(1, 3, 8, 8, requires_grad=True)
    with hooks.capture(net, "2", detach=True) as cap:
        net(x)
    assert not cap["2"].requires_grad


def _live_tensors():
    gc.collect()
    with warnings.catch_warnings():  # isinstance() on some torch objects warns about deprecated names
        warnings.simplefilter("ignore")
        return sum(1 for obj in gc.get_objects() if isinstance(obj, torch.Tensor))


def test_a_hundred_captures_in_a_loop_do_not_grow_memory():
    net = tiny_net()
    x = torch.rand(1, 3, 16, 16, requires_grad=True)

    def once():
        with hooks.capture(net, ["0", "2"], grads=True) as cap:
            score = net(x).mean()
            torch.autograd.grad(score, cap["2"])

    for _ in range(5):
        once()
    before = _live_tensors()
    for _ in range(100):
        once()
    assert _live_tensors() <= before
    assert hooks.active_hooks(net) == 0
