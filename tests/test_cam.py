"""nstlib.cam, nstlib.scenes and nstlib.shapes_classifier: values on known cases, hygiene, errors."""

from collections import OrderedDict

import pytest
import torch
import torchvision
from torch import nn

from nstlib import cam, cam_metrics, hooks, models, scenes
from nstlib import shapes_classifier as sc


class ColourNet(nn.Module):
    """A known network: channel 0 detects red, channel 1 green; class 0 is 'red', class 1 'green'."""

    def __init__(self, inplace=False):
        super().__init__()
        self.conv = nn.Conv2d(3, 2, 1)
        self.relu = nn.ReLU(inplace=inplace)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(2, 2)
        self.categories = ["red", "green"]
        with torch.no_grad():
            self.conv.weight.copy_(torch.tensor([[1.0, -0.5, -0.5], [-0.5, 1.0, -0.5]]).view(2, 3, 1, 1))
            self.conv.bias.zero_()
            self.fc.weight.copy_(torch.tensor([[10.0, 0.0], [0.0, 10.0]]))
            self.fc.bias.zero_()

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.relu(self.conv(x))), 1))


def colour_image(red_box=(4, 4, 12, 12), green_box=(20, 18, 30, 28), size=32):
    """Grey image with a red patch and a green patch; boxes are x0, y0, x1, y1."""
    x = torch.full((1, 3, size, size), 0.5)
    x0, y0, x1, y1 = red_box
    x[0, :, y0:y1, x0:x1] = torch.tensor([1.0, 0.0, 0.0]).view(3, 1, 1)
    x0, y0, x1, y1 = green_box
    x[0, :, y0:y1, x0:x1] = torch.tensor([0.0, 1.0, 0.0]).view(3, 1, 1)
    return x


@pytest.fixture
def shapes_random():
    torch.manual_seed(0)
    return sc.ShapesNet().eval()


@pytest.fixture(scope="module")
def shapes_trained():
    return sc.load(verbose=False)


# ------------------------------------------------------------------------------------------- values


def test_gradcam_equals_cam_for_global_average_pooling():
    # With global average pooling and a linear head, Grad-CAM's weights are fc.weight[c] / (h * w): the map is
    # ReLU(sum_k w_ck A_k), the original CAM.
    torch.manual_seed(1)
    model = ColourNet()
    with torch.no_grad():
        model.fc.weight.copy_(torch.tensor([[2.0, -1.0], [-0.5, 1.5]]))
    x = (colour_image(size=16, red_box=(1, 2, 6, 7), green_box=(8, 9, 15, 14)) + 0.2 * torch.rand(3, 3, 16, 16))
    x = x.clamp(0, 1)
    for c in (0, 1):
        maps = cam.grad_cam(model, x, c, upsample=False)
        acts = torch.relu(model.conv(x))
        expected = torch.relu(torch.einsum("k,nkhw->nhw", model.fc.weight[c], acts))
        lo, hi = expected.amin((1, 2), keepdim=True), expected.amax((1, 2), keepdim=True)
        assert torch.allclose(maps, (expected - lo) / (hi - lo), atol=1e-5)


@pytest.mark.parametrize("method", cam.METHODS)
def test_each_method_finds_the_right_patch(method):
    model = ColourNet()
    x = colour_image()
    red = cam.cam(model, x, "red", method)
    green = cam.cam(model, x, 1, method)
    assert red.shape == green.shape == (1, 32, 32)
    assert cam_metrics.pointing_game(red, torch.tensor([[4, 4, 12, 12]])).item()
    assert cam_metrics.pointing_game(green, torch.tensor([[20, 18, 30, 28]])).item()
    assert red.min() == 0 and red.max() == 1


def test_targets_by_index_name_list_callable_and_topk(shapes_random):
    x = torch.rand(3, 3, 64, 64)
    logits = shapes_random(x)
    top = logits.argmax(1)
    by_default, classes = cam.cam(shapes_random, x, return_classes=True)
    assert torch.equal(classes, top)
    assert torch.allclose(by_default, cam.cam(shapes_random, x, top))
    assert torch.allclose(cam.cam(shapes_random, x, 2), cam.cam(shapes_random, x, "triangle"))
    assert torch.allclose(cam.cam(shapes_random, x, [2, 2, 2]), cam.cam(shapes_random, x, 2))
    assert torch.allclose(cam.cam(shapes_random, x, lambda z: z[:, 4]), cam.cam(shapes_random, x, 4), atol=1e-6)
    maps, classes = cam.cam(shapes_random, x, cam.TopK(2), return_classes=True)
    assert maps.shape == (3, 2, 64, 64)
    assert torch.equal(classes, logits.topk(2).indices)
    second = logits.topk(2).indices[:, 1]
    assert torch.allclose(maps[:, 1], cam.cam(shapes_random, x, second), atol=1e-6)


def test_batched_equals_one_at_a_time(shapes_random):
    x = torch.rand(4, 3, 64, 64)
    for method in cam.METHODS:
        batched = cam.cam(shapes_random, x, 3, method, "relu3_2")
        single = torch.cat([cam.cam(shapes_random, x[i:i + 1], 3, method, "relu3_2") for i in range(4)])
        assert torch.allclose(batched, single, atol=1e-5), method


def test_named_layer_changes_resolution(shapes_random):
    x = torch.rand(1, 3, 64, 64)
    assert cam.default_layer(shapes_random) == "relu4_2"
    assert cam.cam(shapes_random, x, 0, layer="relu2_1", upsample=False).shape == (1, 32, 32)
    assert cam.cam(shapes_random, x, 0, upsample=False).shape == (1, 8, 8)


@pytest.mark.slow
def test_default_layer_of_the_imagenet_models():
    assert cam.default_layer(models.VGGClassifier()) == "relu5_3"
    assert cam.default_layer(torchvision.models.vgg16(weights=None)) == "features.29"  # the last ReLU
    assert len(models.VGGClassifier().categories) == 1000


# ------------------------------------------------------------------------------------------- hygiene


def test_no_grad_caller_no_hooks_no_param_grads_flags_restored(shapes_random):
    shapes_random.train()
    shapes_random.requires_grad_(True)
    running = shapes_random.features.bn1_1.running_mean.clone()
    x = torch.rand(2, 3, 64, 64)
    for method in cam.METHODS:
        with torch.no_grad():
            maps = cam.cam(shapes_random, x, 1, method)
        assert maps.shape == (2, 64, 64) and not maps.requires_grad
    assert hooks.active_hooks(shapes_random) == 0
    assert all(p.grad is None for p in shapes_random.parameters())
    assert all(m.training for m in shapes_random.modules())
    # Inside, the model ran in eval mode: batch norm used (and did not update) its running statistics.
    assert torch.equal(shapes_random.features.bn1_1.running_mean, running)


@pytest.mark.slow
def test_inplace_relu_gives_the_same_map():
    x = colour_image()
    assert torch.allclose(cam.grad_cam(ColourNet(inplace=True), x, 0), cam.grad_cam(ColourNet(), x, 0))
    torch.manual_seed(0)
    vgg = torchvision.models.vgg16(weights=None).eval()  # every ReLU is inplace=True, parameters require grad
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        maps = cam.grad_cam(vgg, x, [3, 7], layer="features.22")
    assert maps.shape == (2, 64, 64) and torch.isfinite(maps).all()
    assert hooks.active_hooks(vgg) == 0 and all(p.grad is None for p in vgg.parameters())


def test_hooks_removed_after_an_error(shapes_random):
    with pytest.raises(ValueError):
        cam.cam(shapes_random, torch.rand(1, 3, 64, 64), 99)
    assert hooks.active_hooks(shapes_random) == 0


def test_device_and_dtype_follow_the_input(shapes_random):
    model = shapes_random.double()
    x = torch.rand(1, 3, 64, 64, dtype=torch.float64)
    maps = cam.grad_cam(model, x, 0)
    assert maps.dtype == torch.float64 and maps.device == x.device


# ------------------------------------------------------------------------------------------- errors


def test_helpful_errors(shapes_random):
    x = torch.rand(2, 3, 64, 64)
    with pytest.raises(KeyError, match="Valid names are"):
        cam.cam(shapes_random, x, 0, layer="relu9_9")
    with pytest.raises(KeyError, match="Did you mean: star"):
        cam.cam(shapes_random, x, "stra")
    with pytest.raises(ValueError, match="out of range"):
        cam.cam(shapes_random, x, 6)
    with pytest.raises(ValueError, match="one per image"):
        cam.cam(shapes_random, x, [0, 1, 2])
    with pytest.raises(ValueError, match="callable target"):
        cam.cam(shapes_random, x, lambda z: z)
    with pytest.raises(ValueError, match="Score-CAM needs class targets"):
        cam.score_cam(shapes_random, x, lambda z: z[:, 0])
    with pytest.raises(ValueError, match="unknown method"):
        cam.cam(shapes_random, x, 0, "lime")
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        cam.cam(shapes_random, torch.rand(64, 64), 0)
    with pytest.raises(ValueError, match="no `categories`"):
        cam.class_index(nn.Conv2d(3, 3, 1), "cat")


# ------------------------------------------------------------------------------------------- pictures


def test_overlay():
    image = torch.rand(3, 20, 30)
    heat = torch.zeros(5, 5)
    heat[2, 2] = 1
    out = cam.overlay(image, heat, alpha=0.4)
    assert out.shape == (20, 30, 3) and out.min() >= 0 and out.max() <= 1
    assert torch.allclose(torch.from_numpy(cam.overlay(image, heat, alpha=0.0)), image.permute(1, 2, 0))


# ------------------------------------------------------------------------------------------- scenes


def test_scenes_are_reproducible_and_boxes_are_tight():
    a, b = scenes.make_scenes(12, 64, seed=5), scenes.make_scenes(12, 64, seed=5)
    assert torch.equal(a.images, b.images) and torch.equal(a.boxes, b.boxes)
    assert not torch.equal(a.images, scenes.make_scenes(12, 64, seed=6).images)
    assert a.images.shape == (12, 3, 64, 64) and 0 <= a.images.min() and a.images.max() <= 1
    assert sorted(a.labels.tolist()) == sorted(list(range(6)) * 2)  # balanced
    for mask, (x0, y0, x1, y1) in zip(a.masks, a.boxes.tolist()):
        ys, xs = torch.nonzero(mask, as_tuple=True)
        assert (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1) == (x0, y0, x1, y1)
    two = scenes.make_scenes(3, 64, seed=1, n_objects=2)
    assert two.labels.shape == (3, 2) and two.boxes.shape == (3, 2, 4) and two.masks.shape == (3, 2, 64, 64)
    assert all(r[0] != r[1] for r in two.labels.tolist())
    assert not (two.masks[:, 0] & two.masks[:, 1]).any()
    with pytest.raises(ValueError, match="at least 32"):
        scenes.make_scenes(1, 16)


# ------------------------------------------------------------------------------------------- the classifier


def test_shipped_classifier_is_accurate_and_gradcam_finds_the_object(shapes_trained):
    data = sc.heldout(60)
    assert sc.accuracy(shapes_trained, data) > 0.9
    maps = cam.grad_cam(shapes_trained, data.images, data.labels)
    hits = cam_metrics.pointing_game(maps, data.boxes).float().mean()
    random_hits = cam_metrics.pointing_game(cam_metrics.random_maps(maps), data.boxes).float().mean()
    assert hits > 0.8 and hits > random_hits + 0.3


@pytest.mark.slow
def test_evaluate_gradcam_beats_the_baselines(shapes_trained):
    data = sc.heldout(24, seed=1)
    results = cam_metrics.evaluate(shapes_trained, data.images, data.boxes, data.labels, methods=("gradcam",),
                           steps=8, progress=False)
    assert set(results) == {"gradcam", "random", "inverted gradcam"}
    assert all(cam_metrics.beats(results).values()), cam_metrics.format_table(results)


def test_randomised_model_changes_the_map(shapes_trained):
    data = sc.heldout(8, seed=2)
    before = cam.grad_cam(shapes_trained, data.images, data.labels)
    same = cam.grad_cam(cam_metrics.randomized(shapes_trained, []), data.images, data.labels)
    assert torch.allclose(before, same)
    scrambled = cam_metrics.randomized(shapes_trained, ["classifier", "conv4_2", "conv4_1"])
    after = cam.grad_cam(scrambled, data.images, data.labels)
    assert cam_metrics.rank_correlation(before, after).mean() < 0.5
    assert torch.allclose(before, cam.grad_cam(shapes_trained, data.images, data.labels))  # original untouched


@pytest.mark.slow
def test_a_hundred_maps_in_a_loop_do_not_grow_memory():
    import gc
    import warnings

    model = sc.load()
    x = torch.rand(1, 3, 64, 64)

    def live_tensors():
        gc.collect()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return sum(1 for obj in gc.get_objects() if isinstance(obj, torch.Tensor))

    for _ in range(3):
        cam.grad_cam(model, x)
    before = live_tensors()
    for _ in range(100):
        cam.grad_cam(model, x)
    assert live_tensors() <= before
    assert hooks.active_hooks(model) == 0


def _against_class_one():
    """A network whose every channel speaks for class 0 and against class 1: Score-CAM's gains for class 1 are
    all negative (a black image scores both classes equally)."""
    from torch import nn

    torch.manual_seed(0)
    conv = nn.Conv2d(3, 4, 3, padding=1, bias=False)
    with torch.no_grad():
        conv.weight.abs_()
    head = nn.Linear(4, 2, bias=False)
    with torch.no_grad():
        head.weight.copy_(torch.tensor([[1.0] * 4, [-1.0] * 4]))
    return nn.Sequential(OrderedDict(conv1=conv, relu1=nn.ReLU(), pool=nn.AdaptiveAvgPool2d(1),
                                     flat=nn.Flatten(), fc=head)).eval()


def test_score_cam_never_returns_an_empty_map_silently():
    model = _against_class_one()
    x = torch.rand(2, 3, 16, 16)
    with pytest.warns(RuntimeWarning, match="no channel raised the confidence.*softmax"):
        maps = cam.score_cam(model, x, 1, layer="relu1")
    assert maps.flatten(1).amax(1).min() == 1.0  # a real map for each image
    softmax = cam.score_cam(model, x, 1, layer="relu1", weighting="softmax")
    assert torch.allclose(maps, softmax)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cam.score_cam(model, x, 0, layer="relu1")  # class 0: positive gains, the default weighting, no warning
    with pytest.raises(ValueError, match="weighting must be one of gain, softmax"):
        cam.score_cam(model, x, 1, layer="relu1", weighting="relu")


def test_grad_cam_works_inside_inference_mode(shapes_random):
    x = torch.rand(2, 3, 32, 32)
    outside = cam.grad_cam(shapes_random, x, 2)
    with torch.inference_mode():
        inside = cam.grad_cam(shapes_random, x, 2)
        inside_pp = cam.grad_cam_pp(shapes_random, x.clone(), 2)
    assert torch.allclose(outside, inside) and inside_pp.shape == outside.shape
