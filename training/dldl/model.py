"""ThinAgeNet / TinyAgeNet (Section 3.4): VGG16's conv layers times a width factor.

As in torchvision's vgg.py, the architecture is a list; 'M' is a 2x2 max-pool. The fifth
max-pool is the first half of the hybrid pooling (HP = max-pool then global average pool).
"""
import math

import torch
from torch import nn

VGG16_CONVS = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512]
WIDTHS = {"thin": 0.5, "tiny": 0.25}


def conv_blocks(width: float) -> nn.Sequential:
    layers: list[nn.Module] = []
    channels = 3
    for item in VGG16_CONVS:
        if item == "M":
            layers.append(nn.MaxPool2d(2))
            continue
        out = int(item * width)
        layers += [nn.Conv2d(channels, out, 3, padding=1, bias=False), nn.BatchNorm2d(out), nn.ReLU(inplace=True)]
        channels = out
    return nn.Sequential(*layers)


class DLDLNet(nn.Module):
    """Backbone + hybrid pooling + FC(outputs). Input: float RGB in [0, 255], NCHW.

    Normalisation lives inside the network (mean/std buffers) so that the exported graph
    takes raw pixels and no client can normalise differently.
    """

    def __init__(self, width: float, outputs: int, mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25),
                 panels: dict[str, int] | None = None):
        super().__init__()
        self.features = conv_blocks(width)
        self.hybrid_max = nn.MaxPool2d(2, ceil_mode=True)
        self.fc = nn.Linear(int(512 * width), outputs)
        # Further heads on the same features, one per extra rater panel (attractiveness trained on
        # several datasets whose scales and raters differ); `fc` is the served panel's head.
        self.panel_fc = nn.ModuleDict({name: nn.Linear(int(512 * width), k) for name, k in (panels or {}).items()})
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1) * 255.0)
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1) * 255.0)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def feature_maps(self, x: torch.Tensor) -> torch.Tensor:
        return self.features((x - self.mean) / self.std)

    def head(self, maps: torch.Tensor, panel: str | None = None) -> torch.Tensor:
        fc = self.fc if panel is None else self.panel_fc[panel]
        return fc(self.hybrid_max(maps).mean(dim=(2, 3)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.feature_maps(x))

    def score_map(self, maps: torch.Tensor, probs: torch.Tensor, panel: str | None = None) -> torch.Tensor:
        """Section 5.1: S = sum_k p_k A_k with A_k = sum_j w_kj F_j + b_k (CAM of each label)."""
        fc = self.fc if panel is None else self.panel_fc[panel]
        weights = probs @ fc.weight  # [N, C]
        return torch.einsum("nc,nchw->nhw", weights, maps) + (probs @ fc.bias).view(-1, 1, 1)


def param_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


class EnsembleNet(nn.Module):
    """Networks that answer as one, with DLDLNet's interface: each member's distribution under a
    head, averaged (DLDL's ensemble rule). head() returns the log of that average, so that a
    softmax of it, as every caller takes of a DLDLNet's logits, is the average itself."""

    def __init__(self, members: list[DLDLNet]):
        super().__init__()
        self.members = nn.ModuleList(members)

    def feature_maps(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [m.feature_maps(x) for m in self.members]

    def head(self, maps: list[torch.Tensor], panel: str | None = None) -> torch.Tensor:
        logs = torch.stack([torch.log_softmax(m.head(f, panel), 1) for m, f in zip(self.members, maps)])
        return torch.logsumexp(logs, 0) - math.log(len(self.members))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.feature_maps(x))

    def score_map(self, maps: list[torch.Tensor], probs: torch.Tensor, panel: str | None = None) -> torch.Tensor:
        """The members' score maps for the averaged distribution, averaged (their cells must agree)."""
        return torch.stack([m.score_map(f, probs, panel) for m, f in zip(self.members, maps)]).mean(0)
