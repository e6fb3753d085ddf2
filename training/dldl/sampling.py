"""Which training images an epoch draws.

Balanced age training: the pooled sets are dominated by White adults of 20-39 (UTKFace) and,
after them, East Asian adults (AAF), while a global API sees every group and every age. Drawing
uniformly would teach the models that mix. Drawing each (group, age band) cell equally would
repeat the few hundred teenagers of a small group dozens of times per epoch and overfit them. The
middle road is tempered balancing: each group gets mass ∝ n_group^power, and inside a group each
age band gets mass ∝ n_band^power (power 0.5: the square root). power 1 is the natural mix,
power 0 full balance.
"""
from collections import Counter

import torch

from .metrics import AGE_BANDS


def age_band(age: float) -> str:
    return next(name for name, lo, hi in AGE_BANDS if lo <= age <= hi) if age >= 0 else AGE_BANDS[0][0]


def balanced_weights(groups: list[str], ages: torch.Tensor, power: float = 0.5) -> torch.Tensor:
    """Per-image sampling weights (sum 1) for tempered balancing over groups and age bands."""
    bands = [age_band(float(a)) for a in ages]
    n_group = Counter(groups)
    n_cell = Counter(zip(groups, bands))
    group_mass = {g: n ** power for g, n in n_group.items()}
    total = sum(group_mass.values())
    band_mass = {}
    for g in n_group:
        cells = {c: n ** power for c, n in n_cell.items() if c[0] == g}
        norm = sum(cells.values())
        band_mass.update({c: group_mass[g] / total * m / norm for c, m in cells.items()})
    w = torch.tensor([band_mass[c] / n_cell[c] for c in zip(groups, bands)], dtype=torch.float64)
    return w / w.sum()


def mix_report(groups: list[str], ages: torch.Tensor, weights: torch.Tensor) -> dict:
    """The share of draws each group and each age band gets, beside its share of the images."""
    bands = [age_band(float(a)) for a in ages]
    out = {}
    for key, values in (("group", groups), ("band", bands)):
        share: dict = {}
        for v, w in zip(values, weights.tolist()):
            share[v] = share.get(v, 0.0) + w
        count = Counter(values)
        out[key] = {v: {"images": count[v], "image_share": round(count[v] / len(values), 4), "draw_share": round(share[v], 4)}
                    for v in sorted(count)}
    return out


def epoch_order(n: int, gen: torch.Generator, weights: torch.Tensor | None, size: int | None) -> torch.Tensor:
    """Indices for one epoch: a permutation (no weights), or `size` weighted draws with replacement."""
    if weights is None:
        return torch.randperm(n, generator=gen)
    return torch.multinomial(weights.float(), size or n, replacement=True, generator=gen)
