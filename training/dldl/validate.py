"""Validation numbers of checkpoints side by side: how a candidate is judged against the model it
would replace before anything is exported (models/REPORT.md's choice tables).

    python3 -m training.dldl.validate training/checkpoints/thin-age-4.pt runs/thin-age-5/best.pt

For each checkpoint (a run's best.pt or a committed stage checkpoint) and each validation set of its
run (--dataset and every --extra, each on its own panel): the MAE in one pass (what `fast` and
`standard` run) and flip-averaged (the cards' metrics), the MAE per age band in one pass (the bands
the tier-order test compares), and for attractiveness the PC. Test splits are never read.
"""
import argparse
import json
from pathlib import Path

import numpy as np
import torch

from .data import TASK_OF, load
from .evaluate import predict
from .export import load_checkpoint, run_args
from .metrics import summary
from .train import panel_of


def measure(path: Path) -> list[dict]:
    """One row per validation set of the checkpoint's run."""
    net, methods = load_checkpoint(path)
    args = run_args({"args": torch.load(path, map_location="cpu")["args"]})
    rows = []
    for name in [args.dataset, *args.extra]:
        split, panel = load(name, "val", args.size, args.limit), panel_of(args, name)
        row = {"checkpoint": str(path), "set": f"{name}:val", "n": len(split.y)}
        for views, flip in (("one_pass", False), ("flip", True)):
            with torch.no_grad():
                pred, _ = predict(net, methods[panel], split.images, flip=flip, panel=panel)
            pred, y = pred.double().numpy(), split.y.double().numpy()
            row[f"mae_{views}"] = float(np.abs(pred - y).mean())
            if TASK_OF[name] == "attractiveness":
                row[f"pc_{views}"] = float(np.corrcoef(pred, y)[0, 1])
            elif not flip:
                row["bands_one_pass"] = {band: round(v["mae"], 3) if v["mae"] is not None else None
                                         for band, v in summary(pred, y, task="age")["bands"].items()}
        rows.append(row)
    return rows


def main(argv=None) -> list[dict]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoints", nargs="+")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = all cores)")
    opts = p.parse_args(argv)
    if opts.threads:
        torch.set_num_threads(opts.threads)
    rows = [row for path in opts.checkpoints for row in measure(Path(path))]
    for row in rows:
        print(json.dumps(row), flush=True)
    return rows


if __name__ == "__main__":
    main()
