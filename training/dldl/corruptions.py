"""What ordinary uploads vary in, as batched image operations with explicit strengths.

Training draws the strengths at random (augment.py: `robust_augment`); the robustness suite
(robustness.py) applies each operation at fixed severities to the test splits. One definition
serves both, so the suite measures exactly the variation the models were taught to ignore (and
the variations they were not: `SUITE` also holds operations training never applies).

Every function takes float NCHW batches in [0, 255] and per-image strengths as tensors [N].
"""
import io
import math

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image


def _col(v: torch.Tensor) -> torch.Tensor:
    return v.view(-1, 1, 1, 1).float()


def face_mask(h: int, w: int, softness: float = 0.06) -> torch.Tensor:
    """[1,1,H,W] in 0..1: an ellipse over the face of an aligned crop (UTKFace and MEBeauty
    framings both centre the face; eyes near y 0.3, mouth near 0.73), soft at its edge."""
    ys, xs = torch.meshgrid(torch.linspace(0, 1, h), torch.linspace(0, 1, w), indexing="ij")
    r = ((xs - 0.49) / 0.47) ** 2 + ((ys - 0.52) / 0.58) ** 2
    return ((1 - r) / softness).clamp(0, 1).sqrt().view(1, 1, h, w)


def background(x: torch.Tensor, colour: torch.Tensor, amount: torch.Tensor) -> torch.Tensor:
    """Replaces what lies outside the face ellipse by a flat colour [N,3] (a studio backdrop);
    amount [N] in 0..1 blends between the original and the flat backdrop."""
    mask = face_mask(x.shape[2], x.shape[3]).to(x)
    flat = colour.view(-1, 3, 1, 1).to(x).expand_as(x)
    keep = mask + (1 - mask) * (1 - _col(amount))
    return x * keep + flat * (1 - keep)


def lighting(x: torch.Tensor, strength: torch.Tensor, angle: torch.Tensor) -> torch.Tensor:
    """Side light: multiplies by a linear ramp 1 ± strength across the face along `angle`."""
    h, w = x.shape[2:]
    ys, xs = torch.meshgrid(torch.linspace(-1, 1, h), torch.linspace(-1, 1, w), indexing="ij")
    ramp = torch.cos(angle).view(-1, 1, 1) * xs + torch.sin(angle).view(-1, 1, 1) * ys
    return (x * (1 + strength.view(-1, 1, 1) * ramp).unsqueeze(1)).clamp(0, 255)


def gamma(x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """Exposure: g < 1 brightens (washed-out studio light), g > 1 darkens."""
    return 255 * (x / 255).clamp_min(0) ** _col(g)


def contrast(x: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (mean + (x - mean) * _col(factor)).clamp(0, 255)


def resolution(x: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """A face that was small in the photo: down to `scale` of the side and back up (bilinear)."""
    out = x.clone()
    h, w = x.shape[2:]
    for s in scale.unique().tolist():
        if s >= 1:
            continue
        idx = (scale == s).nonzero().squeeze(1)
        small = F.interpolate(x[idx], size=(max(4, round(h * s)), max(4, round(w * s))), mode="bilinear", align_corners=False, antialias=True)
        out[idx] = F.interpolate(small, size=(h, w), mode="bilinear", align_corners=False)
    return out


def blur(x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """Defocus or motion-free camera shake: a Gaussian blur of `sigma` pixels per image."""
    out = x.clone()
    for s in sigma.unique().tolist():
        if s <= 0:
            continue
        idx = (sigma == s).nonzero().squeeze(1)
        radius = max(1, math.ceil(3 * s))
        k = torch.exp(-torch.arange(-radius, radius + 1, dtype=torch.float32) ** 2 / (2 * s * s))
        k = (k / k.sum()).to(x)
        c = x.shape[1]
        y = F.conv2d(F.pad(x[idx], (radius, radius, 0, 0), mode="replicate"), k.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
        out[idx] = F.conv2d(F.pad(y, (0, 0, radius, radius), mode="replicate"), k.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)
    return out


def noise(x: torch.Tensor, sigma: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Sensor noise in dim light: Gaussian, `sigma` grey levels."""
    return (x + torch.randn(x.shape, generator=gen) * _col(sigma)).clamp(0, 255)


def jpeg(x: torch.Tensor, quality: torch.Tensor) -> torch.Tensor:
    """Re-encodes each image as JPEG at `quality` (0 = leave as is) with PIL's libjpeg."""
    out = x.clone()
    for i in (quality > 0).nonzero().squeeze(1).tolist():
        arr = x[i].permute(1, 2, 0).round().clamp(0, 255).byte().numpy()
        buf = io.BytesIO()
        Image.fromarray(arr).save(buf, format="JPEG", quality=int(quality[i]))
        buf.seek(0)
        out[i] = torch.from_numpy(np.asarray(Image.open(buf).convert("RGB"), dtype=np.float32)).permute(2, 0, 1)
    return out


def zoom(x: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """A detector box that is too tight (> 1) or too loose (< 1): scales about the centre."""
    n = x.shape[0]
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = theta[:, 1, 1] = 1 / scale
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def rotate(x: torch.Tensor, degrees: torch.Tensor) -> torch.Tensor:
    """A head roll the alignment did not remove."""
    a = torch.deg2rad(degrees)
    theta = torch.stack([torch.stack([a.cos(), -a.sin(), torch.zeros_like(a)], 1),
                         torch.stack([a.sin(), a.cos(), torch.zeros_like(a)], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def grey(x: torch.Tensor) -> torch.Tensor:
    """A black-and-white photo."""
    return x.mul(torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True).expand_as(x).contiguous()


WHITE, GREY = torch.tensor([245.0, 245.0, 245.0]), torch.tensor([128.0, 128.0, 128.0])


def _fixed(n: int, v: float) -> torch.Tensor:
    return torch.full((n,), float(v))


# The robustness suite: each corruption at three severities (1 mild, 2 middle, 3 strong), as a
# function of the batch. The middle severity is the one the acceptance target is stated for.
SUITE = {
    "white_background": [lambda x, g, a=a: background(x, WHITE.expand(len(x), 3), _fixed(len(x), a)) for a in (0.5, 0.85, 1.0)],
    "grey_background": [lambda x, g, a=a: background(x, GREY.expand(len(x), 3), _fixed(len(x), a)) for a in (0.5, 0.85, 1.0)],
    "side_light": [lambda x, g, s=s: lighting(x, _fixed(len(x), s), _fixed(len(x), 0.0)) for s in (0.2, 0.4, 0.6)],
    "overexposed": [lambda x, g, v=v: gamma(x, _fixed(len(x), v)) for v in (0.8, 0.6, 0.45)],
    "underexposed": [lambda x, g, v=v: gamma(x, _fixed(len(x), v)) for v in (1.3, 1.7, 2.2)],
    "low_contrast": [lambda x, g, v=v: contrast(x, _fixed(len(x), v)) for v in (0.8, 0.6, 0.4)],
    "low_resolution": [lambda x, g, v=v: resolution(x, _fixed(len(x), v)) for v in (0.75, 0.5, 0.35)],
    "blur": [lambda x, g, v=v: blur(x, _fixed(len(x), v)) for v in (0.6, 1.0, 1.6)],
    "noise": [lambda x, g, v=v: noise(x, _fixed(len(x), v), g) for v in (4.0, 8.0, 16.0)],
    "jpeg": [lambda x, g, v=v: jpeg(x, _fixed(len(x), v)) for v in (50, 25, 10)],
    "zoom_out": [lambda x, g, v=v: zoom(x, _fixed(len(x), v)) for v in (0.95, 0.9, 0.85)],
    "zoom_in": [lambda x, g, v=v: zoom(x, _fixed(len(x), v)) for v in (1.05, 1.1, 1.2)],
    "roll": [lambda x, g, v=v: rotate(x, _fixed(len(x), v)) for v in (5.0, 10.0, 15.0)],
    "greyscale": [lambda x, g: grey(x)] * 3,
}
