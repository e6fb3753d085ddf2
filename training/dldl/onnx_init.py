"""A trainable network rebuilt from a served ONNX file, so that a model whose PyTorch checkpoint
is gone can still be the start of a warm restart.

The export folds BatchNorm into the convolutions (w' = w·γ/σ, b' = β − μ·γ/σ), which cannot be
undone exactly. Instead each BatchNorm is put back as the identity on data: its running mean and
variance, and its γ and β, are set to the statistics of the folded conv's output on real images,
so that both eval mode (running statistics) and train mode (batch statistics) start out computing
what the served graph computes.
"""
from pathlib import Path

import onnx
import torch
from onnx import numpy_helper
from torch import nn

from .model import DLDLNet


def folded_weights(path: Path) -> dict[str, torch.Tensor]:
    """The ONNX initialisers by their PyTorch names (float16-stored tensors back in float32)."""
    out = {}
    for init in onnx.load(str(path)).graph.initializer:
        name = init.name.removeprefix("net.").removesuffix("_fp16")
        out[name] = torch.from_numpy(numpy_helper.to_array(init).astype("float32").copy())
    return out


@torch.no_grad()
def from_onnx(path: Path, width: float, outputs: int, images: torch.Tensor) -> DLDLNet:
    """images: uint8 [N,H,W,3] training crops (a few thousand) for the BatchNorm statistics."""
    weights = folded_weights(path)
    net = DLDLNet(width, outputs).eval()
    net.mean.copy_(weights["mean"]); net.std.copy_(weights["std"])
    net.fc.weight.copy_(weights["fc.weight"]); net.fc.bias.copy_(weights["fc.bias"])
    x = (images.permute(0, 3, 1, 2).float() - net.mean) / net.std
    layers = list(net.features)
    for i, layer in enumerate(layers):
        if isinstance(layer, nn.Conv2d):
            layer.weight.copy_(weights[f"features.{i}.weight"])
            z = torch.nn.functional.conv2d(x, layer.weight, None, padding=1)
            bn: nn.BatchNorm2d = layers[i + 1]
            mean, var = z.mean(dim=(0, 2, 3)), z.var(dim=(0, 2, 3), unbiased=False)
            # BN(z) = γ (z − μ) / sqrt(v + ε) + β with γ = sqrt(v + ε), β = μ + b' is z + b'.
            bn.running_mean.copy_(mean); bn.running_var.copy_(var)
            bn.weight.copy_((var + bn.eps).sqrt()); bn.bias.copy_(mean + weights[f"features.{i}.bias"])
            x = z + weights[f"features.{i}.bias"].view(1, -1, 1, 1)
        elif not isinstance(layer, nn.BatchNorm2d):
            x = layer(x)
    return net
