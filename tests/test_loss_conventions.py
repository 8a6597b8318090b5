import pytest
import torch

from nstlib import loss_conventions as lc
from nstlib import style
from nstlib.core.errors import UsageError

IMAGE = (64, 48)  # height, width of the result
LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
CHANNELS = (8, 16, 24, 32, 32)  # small stand-ins for 64 ... 512


def features(seed, size=IMAGE):
    """Random non-negative features for five layers, each block half the size of the one before."""
    gen = torch.Generator().manual_seed(seed)
    out = {}
    for block, (name, c) in enumerate(zip(LAYERS, CHANNELS)):
        h, w = size[0] // 2**block, size[1] // 2**block
        out[name] = torch.rand(1, c, h, w, generator=gen, dtype=torch.float64) * (block + 1)
    return out


@pytest.fixture(scope="module")
def case():
    ours, styl = features(0), features(1)
    gen = torch.Generator().manual_seed(2)
    content = torch.rand(1, 32, 8, 6, generator=gen, dtype=torch.float64)
    target = torch.rand(1, 32, 8, 6, generator=gen, dtype=torch.float64) * 3
    return ours, styl, content, target


@pytest.mark.parametrize("convention", lc.CONVENTIONS, ids=lambda c: c.name)
def test_own_loss_equals_nstlib_loss_with_converted_weights(case, convention):
    ours, styl, content, target = case
    own = convention.loss(ours, styl, content, target, IMAGE)
    converted = lc.to_nstlib(convention, styl, target, IMAGE)
    ours_total = lc.nstlib_loss(ours, styl, content, target, converted)
    assert float(own["total"]) == pytest.approx(converted.scale * float(ours_total), rel=1e-4)
    # and layer by layer, not only in total
    for name in LAYERS:
        nst = converted.per_layer[name] * style.relative_error(style.gram(ours[name]), style.gram(styl[name]))
        assert float(own[f"style/{name}"]) == pytest.approx(converted.scale * float(nst), rel=1e-4)


def test_converted_weights_drive_stylize_objective_the_same_way(case):
    ours, styl, content, target = case
    converted = lc.to_nstlib(lc.get("PyTorch"), styl, target, IMAGE)
    w = converted.style_weight
    assert sum(converted.layer_weights) == pytest.approx(1.0)
    assert [w * lw for lw in converted.layer_weights] == pytest.approx(list(converted.per_layer.values()))


def test_keras_factor_differs_per_layer_unlike_gatys(case):
    _, styl, _, target = case
    gatys = lc.to_nstlib(lc.get("Gatys"), styl, target, IMAGE).per_layer
    keras = lc.to_nstlib(lc.get("Keras"), styl, target, IMAGE).per_layer
    ratios = [keras[n] / gatys[n] for n in LAYERS]
    assert max(ratios) / min(ratios) > 10  # the table used to say "same as Gatys": one constant for all layers
    # the factor is C_l² (H_l W_l)² / (9 (H_in W_in)²) times Gatys' (content weights aside)
    for name, s in styl.items():
        c, hw = s.shape[1], s.shape[2] * s.shape[3]
        expected = c**2 * hw**2 / (9 * (IMAGE[0] * IMAGE[1]) ** 2) * (1e-6 / 5 / 2.5e-8) / (1.0 / 5 / (1e-3 / 2))
        assert ratios[LAYERS.index(name)] == pytest.approx(expected, rel=1e-6)


def test_keras_loss_depends_on_the_input_image_size(case):
    ours, styl, content, target = case
    keras = lc.get("Keras")
    small = keras.loss(ours, styl, content, target, IMAGE)["style/relu1_1"]
    large = keras.loss(ours, styl, content, target, (2 * IMAGE[0], 2 * IMAGE[1]))["style/relu1_1"]
    assert float(small) == pytest.approx(16 * float(large))


def test_table_has_a_row_per_convention_and_the_default(case):
    _, styl, _, target = case
    table = lc.conversion_table(styl, target, IMAGE).splitlines()
    assert len(table) == 1 + len(lc.CONVENTIONS) + 1
    assert all(name in table[0] for name in LAYERS)
    assert "FF^\\top" in lc.markdown_table() and "Keras" in lc.markdown_table()


def test_get_unknown_name_lists_the_conventions():
    with pytest.raises(UsageError, match="Gatys"):
        lc.get("Caffe tutorial")


def test_lesson_4_shows_the_table_this_module_computes():
    """The lesson's table of conventions is the module's, so the two cannot drift apart."""
    from pathlib import Path

    import nbformat

    nb = nbformat.read(Path(__file__).parent.parent / "notebooks" / "04_neural_style_transfer.ipynb", as_version=4)
    assert any(lc.markdown_table() in cell.source for cell in nb.cells if cell.cell_type == "markdown")
