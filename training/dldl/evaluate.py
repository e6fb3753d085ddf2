"""Flip-averaged evaluation of a PyTorch network, interval calibration on the val split."""
import numpy as np
import torch

from . import labels as L
from .augment import to_nchw
from .corruptions import zoom as zoom_about_centre
from .losses import Method
from .metrics import MINOR_AGE, minor_guard, summary


@torch.no_grad()
def predict(net, method: Method, images: torch.Tensor, flip: bool = True, batch: int = 256, panel: str | None = None,
            zoom: tuple[float, ...] = ()):
    """Returns (pred [N], probs [N,K] or None); probs are averaged over the views of each image:
    itself, each `zoom` (scaled about the centre, rounded to uint8 as the API's zoomAboutCentre
    does) and, with `flip`, the mirror of each. panel: which head answers (None: the served one)."""
    net.eval()
    preds, probs = [], []
    for i in range(0, len(images), batch):
        x = to_nchw(images[i:i + batch])
        views = [x] + [zoom_about_centre(x, torch.full((len(x),), s)).round() for s in zoom]
        views += [v.flip(3) for v in views] if flip else []
        outs = [net.head(net.feature_maps(v), panel) for v in views]
        if method.has_distribution:
            p = torch.stack([torch.softmax(o, 1) for o in outs]).mean(0)
            probs.append(p)
            preds.append(L.expectation(p, method.labels))
        else:
            preds.append(torch.stack([method.predict(o) for o in outs]).mean(0))
    return torch.cat(preds), (torch.cat(probs) if probs else None)


def interval90(probs: torch.Tensor, labels: torch.Tensor, temperature: float = 1.0):
    p = L.temperature_probs(probs.double(), temperature) if temperature != 1.0 else probs.double()
    return L.quantile(p, labels, 0.05), L.quantile(p, labels, 0.95)


def coverage(probs, labels, y, temperature) -> float:
    lo, hi = interval90(probs, labels, temperature)
    y = y.double()
    return float(((y >= lo) & (y <= hi)).double().mean())


def fit_temperature(probs: torch.Tensor, labels: torch.Tensor, y: torch.Tensor, target: float = 0.90) -> float:
    """The temperature whose 90% interval covers 90% of the validation labels (grid search:
    coverage is monotone in T, and a grid keeps the fit easy to reproduce)."""
    grid = np.round(np.arange(0.1, 4.001, 0.025), 3)
    return float(min(grid, key=lambda t: (abs(coverage(probs, labels, y, t) - target), abs(t - 1))))


def evaluate_split(net, method: Method, split, task: str, temperature: float = 1.0, flip: bool = True,
                   panel: str | None = None) -> dict:
    pred, probs = predict(net, method, split.images, flip=flip, panel=panel)
    lo = hi = None
    if probs is not None:
        lo, hi = interval90(probs, method.labels, temperature)
    groups = {k: [r[k] for r in split.meta] for k in ("gender", "race", "ethnicity") if split.meta and k in split.meta[0]}
    out = summary(pred.numpy(), split.y.numpy(), None if split.sigma is None else split.sigma.numpy(), task,
                  None if lo is None else lo.numpy(), None if hi is None else hi.numpy(), groups)
    if task == "age" and probs is not None:
        p = L.temperature_probs(probs.double(), temperature) if temperature != 1.0 else probs.double()
        out["minor_guard"] = minor_guard(p[:, method.labels < MINOR_AGE].sum(1).numpy(), split.y.numpy())
    return out


def evaluate_sets(net, methods: dict, set_panels: dict[str, str | None], task: str, size: int, limit: int | None = None,
                  flip: bool = True, val_splits: dict | None = None) -> tuple[dict, dict]:
    """Per panel (head), the interval temperature fitted on the pooled validation splits of its
    sets; every set's val and test metrics under it ({"<set>:val"|"<set>:test": summary})."""
    from .data import load

    vals = val_splits or {name: load(name, "val", size, limit) for name in set_panels}
    temperatures, sets = {}, {}
    for panel, method in methods.items():
        names = [n for n, p in set_panels.items() if p == panel]
        if not names:
            continue
        temperature = 1.0
        if method.has_distribution:
            probs = [predict(net, method, vals[n].images, flip=flip, panel=panel)[1] for n in names]
            temperature = fit_temperature(torch.cat(probs), method.labels, torch.cat([vals[n].y for n in names]))
        temperatures[panel] = temperature
        for name in names:
            for part in ("val", "test"):
                split = vals[name] if part == "val" else load(name, "test", size, limit)
                sets[f"{name}:{part}"] = evaluate_split(net, method, split, task, temperature, flip, panel)
                if method.has_distribution and part == "test":
                    _, probs = predict(net, method, split.images, flip=flip, panel=panel)
                    sets[f"{name}:{part}"]["coverage90_uncalibrated"] = coverage(probs, method.labels, split.y, 1.0)
    return temperatures, sets
