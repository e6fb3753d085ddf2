"""The robustness suite: a test split under each photo variation of corruptions.SUITE, at three
severities, as MAE and mean signed error (a shift of the whole estimate is what users notice).

    python3 -m training.dldl.robustness --model models/ThinAgeNet.json [--set utkface:test]

The export writes the same numbers into each card (`robustness`). Corruptions are seeded, so a
rerun gives the same images; predictions are single-pass (no flip), as the standard tier serves.
"""
import argparse
import json

import numpy as np
import torch

from .augment import to_nchw
from .corruptions import SUITE
from .losses import Method

SEED = 1234


@torch.no_grad()
def _predict(net, method: Method, x: torch.Tensor, panel: str | None, batch: int = 256) -> torch.Tensor:
    net.eval()
    return torch.cat([method.predict(net.head(net.feature_maps(x[i:i + batch]), panel)) for i in range(0, len(x), batch)])


def suite(net, method: Method, images: torch.Tensor, y: torch.Tensor, corruptions=None, panel: str | None = None) -> dict:
    """{"clean": {mae, mean_error}, <corruption>: [{severity, mae, mean_error}, ...]}."""
    x = to_nchw(images)
    y = y.double()

    def score(pred):
        err = pred.double() - y
        return {"mae": round(float(err.abs().mean()), 4), "mean_error": round(float(err.mean()), 4)}

    out = {"n": int(len(y)), "clean": score(_predict(net, method, x, panel))}
    for name in corruptions or SUITE:
        rows = []
        for severity, apply in enumerate(SUITE[name], start=1):
            gen = torch.Generator().manual_seed(SEED + severity)
            corrupted = torch.cat([apply(x[i:i + 512], gen) for i in range(0, len(x), 512)])
            rows.append({"severity": severity, **score(_predict(net, method, corrupted, panel))})
        out[name] = rows
    return out


def worst_shift(report: dict, severity: int = 2) -> tuple[str, float]:
    """The corruption whose mean signed error moves furthest from the clean one at `severity`."""
    clean = report["clean"]["mean_error"]
    shifts = {name: rows[severity - 1]["mean_error"] - clean for name, rows in report.items() if isinstance(rows, list)}
    name = max(shifts, key=lambda k: abs(shifts[k]))
    return name, float(np.round(shifts[name], 3))


def main(argv=None) -> None:
    from .data import load
    from .onnx_init import served_network

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="a card, models/<Name>.json")
    p.add_argument("--set", default=None, help="<dataset>:<split> (default: every test set in the card)")
    a = p.parse_args(argv)
    card = json.loads(open(a.model).read())
    net, method = served_network(a.model)
    sets = [a.set] if a.set else [k for k in card["metrics"] if k.endswith(":test")]
    for spec in sets:
        name, split = spec.split(":")
        data = load(name, split, card["input"]["size"])
        report = suite(net, method, data.images, data.y)
        print(json.dumps({spec: report, "worst_shift_at_severity_2": worst_shift(report)}, indent=1))


if __name__ == "__main__":
    main()
