"""VGG layer names as the papers write them (conv1_1, relu1_1, pool1 ... relu5_4, pool5).

Kept apart from models.py so that weights conversion and error messages can use the names without
building a network.
"""

from __future__ import annotations

#: Number of 3x3 convolutions in each of the five blocks.
BLOCKS = {"vgg16": (2, 2, 3, 3, 3), "vgg19": (2, 2, 4, 4, 4)}

#: Output channels of each block.
CHANNELS = (64, 128, 256, 512, 512)


def check_arch(arch: str) -> str:
    key = str(arch).lower()
    if key not in BLOCKS:
        raise ValueError(f"unknown architecture {arch!r}: choose one of {', '.join(BLOCKS)}")
    return key


def layer_names(arch: str = "vgg16") -> list[str]:
    """All layer names in forward order: conv1_1, relu1_1, conv1_2, relu1_2, pool1, conv2_1, ..."""
    names = []
    for block, n_convs in enumerate(BLOCKS[check_arch(arch)], start=1):
        for i in range(1, n_convs + 1):
            names += [f"conv{block}_{i}", f"relu{block}_{i}"]
        names.append(f"pool{block}")
    return names


def conv_names(arch: str = "vgg16") -> list[str]:
    return [n for n in layer_names(arch) if n.startswith("conv")]


def torchvision_index(arch: str = "vgg16") -> dict[str, int]:
    """Position of each named layer inside torchvision's ``vgg*.features`` Sequential."""
    return {name: i for i, name in enumerate(layer_names(arch))}


def check_layers(requested, arch: str = "vgg16") -> list[str]:
    """Validate layer names; the error lists the valid ones so a typo is a one-line fix."""
    if isinstance(requested, str):
        requested = [requested]
    valid = layer_names(arch)
    unknown = [name for name in requested if name not in valid]
    if unknown:
        raise KeyError(
            f"unknown layer name(s) {unknown} for {arch}. Valid names are: {', '.join(valid)}"
        )
    return list(requested)


def downsampling(layer: str) -> int:
    """How many times smaller than the input a layer's feature map is (1, 2, 4, 8, 16 or 32)."""
    if layer.startswith("pool"):
        return 2 ** int(layer[4])
    block = int(layer[4]) if layer.startswith("conv") or layer.startswith("relu") else None
    if block is None:
        raise KeyError(f"not a VGG layer name: {layer!r}")
    return 2 ** (block - 1)
