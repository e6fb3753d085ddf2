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
        out["bands"] = {name: _errors(err[(y >= a) & (y <= b)]) for name, a, b in AGE_BANDS}
    if lo is not None and hi is not None:
        lo, hi = np.asarray(lo), np.asarray(hi)
        out["coverage90"] = float(((y >= lo) & (y <= hi)).mean())
        out["interval90_width"] = float((hi - lo).mean())
    for key, values in (groups or {}).items():
        values = np.asarray(values)
        # A face without the label (UTKFace has one in its test split) is in no group, not in a group "".
        out[f"by_{key}"] = {str(v): _errors(err[values == v]) for v in sorted(set(values.tolist()) - {""})}
    return out


MINOR_AGE = 18
MINOR_RISKS = (0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5)
# The policy's targets (issue 11): at most 3% of minors scored, while at most 20% of 18-25s and
# 5% of 26-40s lose their score.
MAX_MINORS_SCORED = 0.03


def guard_masks(y: np.ndarray) -> tuple[dict, dict]:
    minors = {"minors_scored": y < MINOR_AGE, "teens_13_17_scored": (y >= 13) & (y < MINOR_AGE)}
    adults = {"adults_withheld": y >= MINOR_AGE, "adults_18_25_withheld": (y >= MINOR_AGE) & (y <= 25),
              "adults_26_40_withheld": (y >= 26) & (y <= 40)}
    return minors, adults


def minor_guard(p_minor, y, risks=MINOR_RISKS) -> dict:
    """The API withholds attractiveness when a face's calibrated P(age < 18) exceeds a risk
    threshold. Per threshold: the share of true minors (and of 13-17s, the hard cases) who would
    still be scored, and the share of adults (and of 18-25s, 26-40s) who would not."""
    p_minor, y = np.asarray(p_minor, np.float64), np.asarray(y, np.float64)
    share = lambda mask: float(mask.mean()) if mask.size else None
    minors, adults = guard_masks(y)
    out = {"n_minors": int((y < MINOR_AGE).sum()), "n_adults": int((y >= MINOR_AGE).sum())}
    for r in risks:
        scored = p_minor <= r
        out[str(r)] = {**{k: share(scored[m]) for k, m in minors.items()}, **{k: share(~scored[m]) for k, m in adults.items()}}
    return out


def choose_minor_risk(p_minor, y, max_minors_scored: float = MAX_MINORS_SCORED) -> float:
    """The largest threshold (fewest adults withheld) that still scores at most
    `max_minors_scored` of the minors: chosen on validation data, reported on test."""
    p_minor, y = np.asarray(p_minor, np.float64), np.asarray(y, np.float64)
    minors = p_minor[y < MINOR_AGE]
    grid = np.round(np.arange(0.001, 0.5001, 0.001), 3)
    ok = [r for r in grid if (minors <= r).mean() <= max_minors_scored]
    return float(max(ok)) if ok else float(grid[0])


def _errors(e) -> dict:
    """A subset's size, MAE and mean signed error (a group the model places too old or too
    attractive shows in the sign, not in the MAE)."""
    if not len(e):
        return {"n": 0, "mae": None, "mean_error": None}
    return {"n": int(len(e)), "mae": float(np.abs(e).mean()), "mean_error": float(e.mean())}
