"""The sentences and figure labels that lessons print instead of typing a finding: each says what its data say."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from nstlib import activations, cam_metrics, plotting, weights  # noqa: E402


def _fractions(per_layer_values, photos=2):
    layers = [f"conv{b}_{i}" for b in range(1, 4) for i in (1, 2)]
    return {f"p{p}": dict(zip(layers, per_layer_values)) for p in range(photos)}


def test_blank_trend_says_steady_growth_only_when_the_data_grow():
    steady = activations.blank_trend(_fractions([0.0, 0.1, 0.2, 0.3, 0.4, 0.5]))
    saw = activations.blank_trend(_fractions([0.0, 0.5, 0.0, 0.5, 0.0, 0.5]))
    assert "grows steadily with depth" in steady
    assert "does not grow steadily" in saw
    assert "rises within blocks 1, 2, 3" in saw


def test_blank_trend_notices_photos_that_disagree():
    fractions = _fractions([0.0, 0.1, 0.2, 0.3, 0.4, 0.5])
    fractions["p1"] = {k: 1 - v for k, v in fractions["p1"].items()}
    assert "differ" in activations.blank_trend(fractions)
    assert "stay close" in activations.blank_trend(_fractions([0.0, 0.1, 0.2, 0.3, 0.4, 0.5]))


def test_kernel_kind_tells_colour_edges_and_noise_apart():
    ramp = torch.linspace(-1, 1, 3)
    colour = torch.ones(3, 3, 3) * torch.tensor([1.0, -0.5, -0.5]).view(3, 1, 1)
    horizontal = ramp.view(1, 3, 1).expand(3, 3, 3)  # light at the top, dark at the bottom
    vertical = ramp.view(1, 1, 3).expand(3, 3, 3)
    diagonal = horizontal + vertical
    checker = torch.tensor([[1.0, -1, 1], [-1, 1, -1], [1, -1, 1]]).expand(3, 3, 3)
    assert activations.kernel_kind(colour) == "colour"
    assert activations.kernel_kind(horizontal) == "horizontal edge"
    assert activations.kernel_kind(vertical) == "vertical edge"
    assert activations.kernel_kind(diagonal) == "diagonal edge"
    assert activations.kernel_kind(checker - checker.mean()) == "other"


def test_first_layer_summary_counts_add_up(random_vgg16):
    kinds = activations.kernel_kinds(random_vgg16)
    sentence = activations.first_layer_summary(random_vgg16)
    assert f"{kinds.count('colour')} are mostly one colour" in sentence
    assert f"{kinds.count('other')} are neither" in sentence


def _results(gradcam_pg, random_pg=10.0):
    row = {"pointing_game": gradcam_pg, "average_drop": 6.0, "increase": 30.0, "deletion_auc": 0.2,
           "insertion_auc": 0.8}
    bad = {"pointing_game": random_pg, "average_drop": 50.0, "increase": 1.0, "deletion_auc": 0.25,
           "insertion_auc": 0.4}
    return {"gradcam": row, "gradcam++": dict(row), "random": bad, "inverted gradcam": dict(bad)}


def test_cam_summary_reports_its_numbers_and_what_it_does_not_beat():
    good = cam_metrics.summary(_results(94.0))
    assert "94 % of these scenes" in good and "all 5 metrics" in good
    assert "deletion separates it less" in good
    worse = cam_metrics.summary(_results(5.0))
    assert "4 of 5 metrics, not on pointing_game" in worse


def test_sanity_summary_depends_on_whether_the_maps_change():
    ref = torch.rand(3, 16, 16)
    changed = {"trained": ref, "random": torch.rand(3, 16, 16)}
    kept = {"trained": ref, "random": ref + 1e-3 * torch.rand(3, 16, 16)}
    assert "change as the weights are randomised" in cam_metrics.sanity_summary(ref, changed)
    assert "barely change" in cam_metrics.sanity_summary(ref, kept)


def test_every_weights_source_has_a_short_label_and_figures_name_it(random_vgg16):
    labels = {s.kind: s.label for s in weights.all_sources()}
    assert labels["offline"].startswith("offline pack")
    assert all(label and len(label) < 60 for label in labels.values())
    fig = plt.figure()
    plotting.name_weights(random_vgg16, fig)
    assert any(t.get_text() == f"weights: {random_vgg16.source.label}" for t in fig.texts)
    plt.close(fig)


def test_trained_first_layer_holds_edge_and_colour_detectors_and_an_untrained_one_does_not(offline_vgg16,
                                                                                          random_vgg16):
    trained, untrained = activations.kernel_kinds(offline_vgg16), activations.kernel_kinds(random_vgg16)
    assert sum(k.endswith("edge") for k in trained) > len(trained) / 3 and "colour" in trained
    assert sum(k == "other" for k in untrained) > 0.9 * len(untrained)


def test_structure_kept_separates_fine_detail_from_big_shapes():
    from torchvision.transforms.functional import gaussian_blur

    from nstlib import images

    photo = images.to_tensor(images.sample("astronaut"), 128)
    blurred = gaussian_blur(photo, 25, 4.0)
    assert abs(images.structure_kept(photo, photo, 1.0) - 1) < 1e-5
    assert images.structure_kept(photo, blurred, 1.0) < 0.5 < images.structure_kept(photo, blurred, 6.0)
    assert abs(images.structure_kept(photo, torch.rand_like(photo), 6.0)) < 0.2
