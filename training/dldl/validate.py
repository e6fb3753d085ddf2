"""Validation numbers of checkpoints side by side: how a candidate is judged against the model it
would replace before anything is exported (models/REPORT.md's choice tables).

    python3 -m training.dldl.validate training/checkpoints/thin-age-4.pt runs/thin-age-5/best.pt

For each checkpoint (a run's best.pt or a committed stage checkpoint) and each validation set of its
run (--dataset and every --extra, each on its own panel): the MAE in one pass (what `fast` and
`standard` run) and flip-averaged (the cards' metrics), the MAE per age band in one pass (the bands
the tier-order test compares; as [n, MAE]), and for attractiveness the PC. Test splits are never read.

    python3 -m training.dldl.validate --fast runs/tiny-age-5/best.pt --standard training/checkpoints/thin-age-4.pt

checks the tier order on validation before an export, by the rule accurate's views are chosen by
(tier_choice.breaches): every set, and every age band of at least 100 faces, where the `standard`
candidate's one-pass MAE is above the `fast` one's; exit status 1 if there is any
(test/node/inference/tier-order.test.ts applies the same rule to the cards' test metrics).

    python3 -m training.dldl.validate training/checkpoints/thin-age-4.pt+training/checkpoints/tiny-age-4.pt

measures an ensemble: checkpoints joined by "+" answer as one model (model.EnsembleNet: the
members' distributions averaged, DLDL's ensemble rule), judged by the same numbers before any tier
is built on it. Its members must share their data sets, input size and label vectors.
"""
import argparse
import json
import sys

import numpy as np
import torch

from .data import TASK_OF, load
from .evaluate import predict
from .export import load_checkpoint, run_args
from .tier_choice import band_maes, breaches
from .train import panel_of


def measure(spec: str) -> list[dict]:
    """One row per validation set of the checkpoint's run (an ensemble's: its first member's)."""
    net, methods = load_checkpoint(spec)
    args = run_args({"args": torch.load(spec.split("+")[0], map_location="cpu")["args"]})
    rows = []
    for name in [args.dataset, *args.extra]:
        split, panel = load(name, "val", args.size, args.limit), panel_of(args, name)
        row = {"checkpoint": spec, "set": f"{name}:val", "n": len(split.y)}
        for views, flip in (("one_pass", False), ("flip", True)):
            with torch.no_grad():
                pred, _ = predict(net, methods[panel], split.images, flip=flip, panel=panel)
            row[views] = band_maes(pred.double(), split.y.double(), TASK_OF[name])
            if TASK_OF[name] == "attractiveness":
                row[f"pc_{views}"] = float(np.corrcoef(pred.numpy(), split.y.numpy())[0, 1])
        rows.append(row)
    return rows


def tier_breaches(fast: list[dict], standard: list[dict]) -> list[str]:
    """Where `standard`'s one pass is less accurate than `fast`'s, by tier_choice's rule."""
    one_pass = lambda rows: {r["set"]: r["one_pass"] for r in rows}
    return breaches(one_pass(standard), one_pass(fast))


def main(argv=None) -> list[dict]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoints", nargs="*", help="checkpoints; a.pt+b.pt is their ensemble")
    p.add_argument("--fast", help="the edge model's checkpoint (one pass answers `fast`), with --standard")
    p.add_argument("--standard", help="the runner model's checkpoint (one pass answers `standard`), with --fast")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = all cores)")
    opts = p.parse_args(argv)
    if bool(opts.fast) != bool(opts.standard) or not (opts.checkpoints or opts.fast):
        p.error("give checkpoints, or both --fast and --standard")
    if opts.threads:
        torch.set_num_threads(opts.threads)
    measured = {path: measure(path) for path in dict.fromkeys([*opts.checkpoints, *filter(None, [opts.fast, opts.standard])])}
    rows = [row for path_rows in measured.values() for row in path_rows]
    for row in rows:
        print(json.dumps(row), flush=True)
    if opts.fast:
        fast, standard = measured[opts.fast], measured[opts.standard]
        if [r["set"] for r in fast] != [r["set"] for r in standard]:
            sys.exit("--fast and --standard were trained on different validation sets")
        found = tier_breaches(fast, standard)
        print("tier order on validation: " + ("standard worse than fast on " + ", ".join(found) if found else "holds"), flush=True)
        if found:
            sys.exit(1)
    return rows


if __name__ == "__main__":
    main()
