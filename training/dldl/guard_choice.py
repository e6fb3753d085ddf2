"""Which reading of the age distribution should decide the minors guard, measured on validation.

The API withholds beauty when the calibrated P(age < 18) is above the card's risk threshold
(metrics.choose_minor_risk). This compares that rule with other readings of the same one-pass
distribution (what `standard` and `fast` compute): P(age < c) for other cut-offs c, P(age < 18)
at other temperatures, the expectation, the mode and low quantiles. Each gets the threshold that
scores at most 3% of the validation minors (the policy's bound), and the table says what each
then costs: the share of 18-25s and 26-40s whose score is withheld. Test splits are never read.

    python3 -m training.dldl.guard_choice training/checkpoints/thin-age-4.pt+training/checkpoints/tiny-age-4.pt \\
        --temperature 0.9
"""
import argparse
import json

import numpy as np
import torch

from . import labels as L
from .data import load
from .evaluate import predict
from .export import load_checkpoint, run_args
from .metrics import MAX_MINORS_SCORED, MINOR_AGE, guard_masks
from .train import panel_of


def temperature(probs: np.ndarray, t: float) -> np.ndarray:
    """The card's calibration (labels.temperature_probs, as the API applies it) on numpy arrays."""
    return L.temperature_probs(torch.from_numpy(probs), t).numpy()


def candidate_scores(probs: np.ndarray, labels: np.ndarray, t: float) -> dict[str, np.ndarray]:
    """Each rule as a score that rises with the risk of a minor (withhold above a threshold)."""
    calibrated = temperature(probs, t)
    cdf = np.cumsum(probs, 1)
    scores = {f"P(age < {MINOR_AGE}), T = {t} (served rule)": calibrated[:, labels < MINOR_AGE].sum(1)}
    scores |= {f"P(age < {c}), T = {t}": calibrated[:, labels < c].sum(1) for c in (16, 17, 19, 20, 21)}
    scores |= {f"P(age < {MINOR_AGE}), T = {other}": temperature(probs, other)[:, labels < MINOR_AGE].sum(1)
               for other in (0.5, 1.0, 2.0) if other != t}
    scores["expectation (lower = riskier)"] = -(probs * labels).sum(1)
    scores["mode (lower = riskier)"] = -labels[probs.argmax(1)]
    scores |= {f"{q:.0%} quantile (lower = riskier)": -labels[(cdf < q).sum(1).clip(max=len(labels) - 1)] for q in (0.05, 0.1, 0.2)}
    return scores


def cost(score: np.ndarray, y: np.ndarray, max_minors_scored: float = MAX_MINORS_SCORED) -> dict:
    """Scored = score below the threshold that scores at most `max_minors_scored` of the minors
    (ties at the threshold withheld); the shares that policy leaves, as metrics.minor_guard names them."""
    minor_scores = np.sort(score[y < MINOR_AGE])
    allowed = int(np.floor(max_minors_scored * len(minor_scores)))
    threshold = minor_scores[allowed] if allowed < len(minor_scores) else np.inf
    scored = score < threshold
    minors, adults = guard_masks(y)
    return {**{k: float(scored[m].mean()) for k, m in minors.items()}, **{k: float((~scored[m]).mean()) for k, m in adults.items()}}


def compare(probs: np.ndarray, y: np.ndarray, labels: np.ndarray, t: float) -> list[dict]:
    """One row per rule, the fewest 18-25s withheld first."""
    rows = [{"rule": name, **cost(score, y)} for name, score in candidate_scores(probs, labels, t).items()]
    return sorted(rows, key=lambda r: r["adults_18_25_withheld"])


def served_head_val(spec: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One-pass distributions of the served head on every validation set it answers for."""
    net, methods = load_checkpoint(spec)
    args = run_args({"args": torch.load(spec.split("+")[0], map_location="cpu")["args"]})
    probs, ys = [], []
    for name in [args.dataset, *args.extra]:
        if panel_of(args, name) is None:
            split = load(name, "val", args.size, args.limit)
            probs.append(predict(net, methods[None], split.images, flip=False)[1].double().numpy())
            ys.append(split.y.double().numpy())
    return np.concatenate(probs), np.concatenate(ys), methods[None].labels.double().numpy()


def main(argv=None) -> list[dict]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint", help="an age checkpoint; a.pt+b.pt is their ensemble")
    p.add_argument("--temperature", type=float, default=1.0, help="the card's calibration temperature")
    a = p.parse_args(argv)
    probs, y, labels = served_head_val(a.checkpoint)
    rows = compare(probs, y, labels, a.temperature)
    for row in rows:
        print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}), flush=True)
    return rows


if __name__ == "__main__":
    main()
