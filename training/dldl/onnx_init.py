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

from . import labels as L
from .losses import Method
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


def served_from_onnx(path: Path, width: float, outputs: int, panels: dict[str, int] | None = None) -> DLDLNet:
    """The network exactly as served (BatchNorm folded, float16-rounded weights), for evaluating
    a committed model without its checkpoint."""
    weights = folded_weights(path)
    net = DLDLNet(width, outputs, panels=panels).eval()
    for p in panels or {}:
        net.panel_fc[p].weight.data.copy_(weights[f"panel_fc.{p}.weight"]); net.panel_fc[p].bias.data.copy_(weights[f"panel_fc.{p}.bias"])
    layers = list(net.features)
    for i, layer in enumerate(layers):
        if isinstance(layer, nn.Conv2d):
            conv = nn.Conv2d(layer.in_channels, layer.out_channels, 3, padding=1, bias=True)
            conv.weight.data.copy_(weights[f"features.{i}.weight"]); conv.bias.data.copy_(weights[f"features.{i}.bias"])
            layers[i], layers[i + 1] = conv, nn.Identity()
    net.features = nn.Sequential(*layers)
    net.mean.copy_(weights["mean"]); net.std.copy_(weights["std"])
    net.fc.weight.data.copy_(weights["fc.weight"]); net.fc.bias.data.copy_(weights["fc.bias"])
    return net.eval()


def served_network(card_path: Path, panel: str | None = None) -> tuple[DLDLNet, Method]:
    """A committed model as served, from its card and the ONNX file beside it, with the Method
    of the head `panel` (None: the served one; else one of card["panels"])."""
    import json

    card_path = Path(card_path)
    card = json.loads(card_path.read_text())
    method_of = lambda labels: Method(card["training"]["method"], L.LabelSpace(labels["min"], labels["max"], labels["step"]).vector().float(),
                                      card["training"]["lambda"])
    if card.get("architecture", {}).get("ensemble"):  # several networks in one graph: from the members' checkpoints, as exported
        from .data import REPO
        from .export import fold_and_round, load_checkpoint

        net, methods = load_checkpoint(REPO / card["training"]["checkpoint"])
        return fold_and_round(net), methods[panel]
    panels = {p: method_of(v["labels"]) for p, v in card.get("panels", {}).items()}
    method = method_of(card["labels"]) if panel is None else panels[panel]
    net = served_from_onnx(card_path.parent / card["file"], card["architecture"]["width"], card["labels"]["k"],
                           {p: m.outputs for p, m in panels.items()})
    return net, method
