"""Evaluation metrics (Section 4.2) plus the product's: CS@5, per-band and per-group MAE,
and the coverage of the 90% interval. Same definitions in src/ (TypeScript)."""
import math

import numpy as np

AGE_BANDS = [("0-12", 0, 12), ("13-19", 13, 19), ("20-39", 20, 39), ("40-59", 40, 59), ("60+", 60, 10**9)]


def summary(pred, y, sigma=None, task="age", lo=None, hi=None, groups: dict | None = None) -> dict:
    pred, y = np.asarray(pred, np.float64), np.asarray(y, np.float64)
    err = pred - y
    sig = np.maximum(np.asarray(sigma, np.float64), 1e-3) if sigma is not None else np.full_like(y, 2.0 if task == "age" else 0.5)
    out = {
        "n": int(len(y)),
        "mae": float(np.abs(err).mean()),
        "rmse": float(math.sqrt((err**2).mean())),
        "pc": float(np.corrcoef(pred, y)[0, 1]) if len(y) > 1 else float("nan"),
        "eps_error": float((1 - np.exp(-(err**2) / (2 * sig**2))).mean()),
    }
    if task == "age":
        out["cs5"] = float((np.abs(err) <= 5).mean())
        out["bands"] = {name: _mae(err[(y >= a) & (y <= b)]) for name, a, b in AGE_BANDS}
    if lo is not None and hi is not None:
        lo, hi = np.asarray(lo), np.asarray(hi)
        out["coverage90"] = float(((y >= lo) & (y <= hi)).mean())
        out["interval90_width"] = float((hi - lo).mean())
    for key, values in (groups or {}).items():
        values = np.asarray(values)
        out[f"by_{key}"] = {str(v): _mae(err[values == v]) for v in sorted(set(values.tolist()))}
    return out


def _mae(e) -> dict:
    return {"n": int(len(e)), "mae": float(np.abs(e).mean()) if len(e) else None}
