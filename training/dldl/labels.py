"""Label vectors, label distributions (Eq. 1), expectation (Eq. 10) and quantiles.

The TypeScript side re-implements expectation/quantiles; `vectors.py` writes shared
test vectors so both agree to the last digit that matters.
"""
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class LabelSpace:
    min: float
    max: float
    step: float

    @property
    def k(self) -> int:
        return int(round((self.max - self.min) / self.step)) + 1

    def vector(self) -> torch.Tensor:
        return self.min + self.step * torch.arange(self.k, dtype=torch.float64)

    def as_dict(self) -> dict:
        return {"min": self.min, "max": self.max, "step": self.step, "k": self.k}


AGE = LabelSpace(0.0, 100.0, 1.0)
ATTRACTIVENESS = LabelSpace(1.0, 10.0, 0.1)
# SCUT-FBP5500's raters scored 1-5; its own label space, learnt by its own head (a "panel").
SCUT = LabelSpace(1.0, 5.0, 0.05)
SPACE_OF = {"utkface": AGE, "aaf": AGE, "mebeauty": ATTRACTIVENESS, "scut": SCUT}

# Age has no per-image rater spread in UTKFace/AAF. sigma=2 years is the paper's choice for
# Morph (real, not apparent, age): wide enough that neighbouring ages share mass (ages are
# noisy by a year or two), narrow enough that the distribution still peaks sharply at y.
AGE_SIGMA = 2.0


def label_distribution(y: torch.Tensor, sigma: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Eq. 1: p_k ∝ exp(-(l_k - y)^2 / 2σ^2), normalised per row. y, sigma: [N]; labels: [K]."""
    y = y.to(labels.dtype).unsqueeze(1)
    sigma = sigma.to(labels.dtype).clamp_min(1e-3).unsqueeze(1)
    logits = -((labels.unsqueeze(0) - y) ** 2) / (2 * sigma**2)
    return torch.softmax(logits, dim=1)  # softmax = exp / sum, numerically safe


def mean_matched_distribution(y: torch.Tensor, sigma: torch.Tensor, labels: torch.Tensor, iters: int = 40) -> torch.Tensor:
    """Eq. 1 cut off at the ends of the label range has its mean pulled inwards: with MEBeauty's
    rater σ ≈ 1.9 on 1-10, a face rated 2.0 gets a target whose expectation is ≈ 2.5, while the
    expectation term pulls towards 2.0. This moves each Gaussian's centre so that the truncated
    distribution's expectation is y itself (bisection: the expectation grows with the centre)."""
    y = y.to(labels.dtype)
    step = float(labels[1] - labels[0])
    y = y.clamp(float(labels[0]) + step / 4, float(labels[-1]) - step / 4)  # the ends are reached only in the limit
    reach = 50 * sigma.to(labels.dtype).clamp_min(1e-3)
    lo, hi = labels[0] - reach, labels[-1] + reach
    for _ in range(iters):
        mid = (lo + hi) / 2
        below = expectation(label_distribution(mid, sigma, labels), labels) < y
        lo, hi = torch.where(below, mid, lo), torch.where(below, hi, mid)
    return label_distribution((lo + hi) / 2, sigma, labels)


def expectation(p: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    return p @ labels.to(p.dtype)


def std(p: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    labels = labels.to(p.dtype)
    mean = p @ labels
    return (p @ labels**2 - mean**2).clamp_min(0).sqrt()


def quantile(p: torch.Tensor, labels: torch.Tensor, q: float) -> torch.Tensor:
    """q-quantile of each row's discrete distribution, linearly interpolated inside the bin.

    With c the CDF, the answer is l_{k-1} + step * (q - c_{k-1}) / p_k for the first k with
    c_k >= q (l_0 when k = 0). Same definition in src/ (TypeScript).
    """
    labels = labels.to(p.dtype)
    step = float(labels[1] - labels[0])
    cdf = p.cumsum(dim=1)
    k = torch.searchsorted(cdf.contiguous(), torch.full((p.shape[0], 1), q, dtype=p.dtype)).squeeze(1)
    k = k.clamp(max=p.shape[1] - 1)
    prev_cdf = torch.where(k > 0, cdf.gather(1, (k - 1).clamp_min(0).unsqueeze(1)).squeeze(1), torch.zeros_like(k, dtype=p.dtype))
    pk = p.gather(1, k.unsqueeze(1)).squeeze(1).clamp_min(1e-12)
    frac = ((q - prev_cdf) / pk).clamp(0, 1)
    base = labels[k] - step  # l_{k-1}
    return torch.where(k > 0, base + step * frac, labels[0].expand_as(base))


def temperature_probs(probs: torch.Tensor, temperature: float) -> torch.Tensor:
    """softmax(logits / T) recovered from probs = softmax(logits): what TS does with the card's T."""
    return torch.softmax(torch.log(probs.clamp_min(1e-30)) / temperature, dim=1)
