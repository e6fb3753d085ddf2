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

measures an ensemble: checkpoints joined by "+" answer as one model, each view's distributions
averaged over the members (DLDL's ensemble rule, as a tier's views are), so an ensemble is judged
on validation by the same numbers before any tier is built on it. Its members must share the
validation sets, input size and label vector; the first member's run names the sets.
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

from . import labels as L
from .data import TASK_OF, load
from .evaluate import predict
from .export import load_checkpoint, run_args
from .tier_choice import band_maes, breaches
from .train import panel_of


def _members(spec: str) -> list[tuple]:
    """(net, methods, run args) of each checkpoint in a "+"-joined spec."""
    members = []
    for path in spec.split("+"):
        net, methods = load_checkpoint(Path(path))
        members.append((net, methods, run_args({"args": torch.load(path, map_location="cpu")["args"]})))
    first = members[0][2]
    for _, _, args in members[1:]:
        if ([args.dataset, *args.extra], args.size) != ([first.dataset, *first.extra], first.size):
            raise SystemExit(f"{spec}: an ensemble's members must share their validation sets and input size")
    return members


@torch.no_grad()
def _predict(members: list[tuple], name: str, images: torch.Tensor, flip: bool) -> torch.Tensor:
    """One model's prediction, or the members' distributions averaged (each over its views)."""
    outputs = [(methods[panel_of(args, name)], predict(net, methods[panel_of(args, name)], images, flip=flip,
                                                        panel=panel_of(args, name)))
               for net, methods, args in members]
    if len(outputs) == 1:
        return outputs[0][1][0]
    method = outputs[0][0]
    if any(o[1][1] is None or not torch.equal(m.labels, method.labels) for m, o in outputs):
        raise SystemExit("an ensemble's members must all predict distributions over one label vector")
    return L.expectation(torch.stack([o[1][1] for o in outputs]).mean(0), method.labels)


def measure(spec: str) -> list[dict]:
    """One row per validation set of the (first) checkpoint's run."""
    members = _members(spec)
    args = members[0][2]
    rows = []
    for name in [args.dataset, *args.extra]:
        split = load(name, "val", args.size, args.limit)
        row = {"checkpoint": spec, "set": f"{name}:val", "n": len(split.y)}
        for views, flip in (("one_pass", False), ("flip", True)):
            pred = _predict(members, name, split.images, flip)
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
