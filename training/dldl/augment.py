"""Batched augmentation of aligned crops on tensors: one affine warp per image (flip,
scale+crop, small rotation) and cheap colour jitter / random grey. Done on whole batches
because per-image PIL transforms would cost more CPU than the tiny network itself.

`robust_augment` adds what real uploads vary in (corruptions.py): studio backdrops, side light,
exposure, low resolution, blur, noise and JPEG re-encoding, each to a share of the batch."""
import math

import torch
import torch.nn.functional as F

from . import corruptions as C


def augment(x: torch.Tensor, gen: torch.Generator, scale=(0.9, 1.12), shift=0.06, degrees=10.0,
            jitter=0.25, grey_p=0.1) -> torch.Tensor:
    """x: float [N,3,H,W] in [0,255]. Returns a new augmented batch."""
    n = x.shape[0]
    u = lambda *shape: torch.rand(*shape, generator=gen)
    s = scale[0] + (scale[1] - scale[0]) * u(n)  # >1 zooms in (crop), <1 zooms out
    angle = (u(n) * 2 - 1) * math.radians(degrees)
    flip = torch.where(u(n) < 0.5, -1.0, 1.0)
    tx, ty = (u(n) * 2 - 1) * shift * 2, (u(n) * 2 - 1) * shift * 2
    cos, sin = torch.cos(angle) / s, torch.sin(angle) / s
    theta = torch.stack([torch.stack([cos * flip, -sin, tx], 1), torch.stack([sin * flip, cos, ty], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)

    grey = x.mul(torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True)
    sat = (1 + (u(n) * 2 - 1) * jitter).view(n, 1, 1, 1)
    sat = torch.where(u(n).view(n, 1, 1, 1) < grey_p, torch.zeros_like(sat), sat)
    x = grey + (x - grey) * sat
    contrast = (1 + (u(n) * 2 - 1) * jitter).view(n, 1, 1, 1)
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = mean + (x - mean) * contrast
    brightness = (1 + (u(n) * 2 - 1) * jitter).view(n, 1, 1, 1)
    return (x * brightness).clamp(0, 255)


def _some(n: int, p: float, gen: torch.Generator) -> torch.Tensor:
    return (torch.rand(n, generator=gen) < p).nonzero().squeeze(1)


def robust_augment(x: torch.Tensor, gen: torch.Generator, p: float = 0.2) -> torch.Tensor:
    """Each photo variation hits a share p of the batch, independently, at a random strength.
    Strengths stop short of the robustness suite's strongest severity, so that severity also
    measures how far the models extrapolate."""
    n = x.shape[0]
    u = lambda k: torch.rand(k, generator=gen)
    x = x.clone()
    if len(i := _some(n, p, gen)):
        # Backdrops: white and light grey studio walls most of all, else any flat colour.
        k = len(i)
        kind = u(k)
        colour = torch.where((kind < 0.5).view(-1, 1), 225 + 30 * u(k).view(-1, 1).expand(k, 3),
                             torch.where((kind < 0.75).view(-1, 1), (60 + 150 * u(k)).view(-1, 1).expand(k, 3), 255 * u(k * 3).view(k, 3)))
        x[i] = C.background(x[i], colour, 0.6 + 0.4 * u(k))
    if len(i := _some(n, p, gen)):
        x[i] = C.lighting(x[i], 0.5 * u(len(i)), 2 * math.pi * u(len(i)))
    if len(i := _some(n, p, gen)):
        x[i] = C.gamma(x[i], torch.exp((u(len(i)) * 2 - 1) * math.log(2.0)))
    if len(i := _some(n, p, gen)):
        x[i] = C.resolution(x[i], torch.tensor([0.75, 0.5, 0.35])[torch.randint(0, 3, (len(i),), generator=gen)])
    if len(i := _some(n, p / 2, gen)):
        x[i] = C.blur(x[i], torch.tensor([0.5, 0.8, 1.2])[torch.randint(0, 3, (len(i),), generator=gen)])
    if len(i := _some(n, p / 2, gen)):
        x[i] = C.noise(x[i], 12 * u(len(i)), gen)
    if len(i := _some(n, p, gen)):
        x[i] = C.jpeg(x[i], (15 + 70 * u(len(i))).round())
    return x


def to_nchw(images_uint8: torch.Tensor) -> torch.Tensor:
    return images_uint8.permute(0, 3, 1, 2).float()
