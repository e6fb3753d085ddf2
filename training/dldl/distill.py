"""Soft labels for distillation: the teacher models' flip-averaged label distributions on every
training image, averaged over the teachers (an ensemble is a better teacher than any member).

    python3 -m training.dldl.distill --teacher models/ThinAgeNet.json [--teacher ...] \\
        --dataset utkface --extra aaf --out runs/thin-age-soft.pt

A teacher is a served model (its card) or a committed stage checkpoint
(training/checkpoints/<run>.pt), so that an ensemble of snapshots no longer served can still teach.

Then `train.py --teacher runs/thin-age-soft.pt --distill 0.5` learns
(1 - 0.5) · Eq. 1's Gaussian + 0.5 · the teacher's distribution, with the expectation term on
the true label. The file records the training images it was made for, so a run with other data
options refuses it.
"""
import argparse
import json
import os

import torch

from .data import load
from .evaluate import predict
from .onnx_init import served_network


def soft_labels(card_paths: list[str], dataset: str, extra: list[str], size: int, limit: int | None = None) -> dict:
    """Each training image's distribution under the head its set trains (train.panel_of): with one
    head, `probs` is [N, K]; with rater panels (attractiveness on MEBeauty + SCUT-FBP5500), a dict
    {panel: [N, K_panel]} whose rows of the other panels' images are zero."""
    from types import SimpleNamespace

    from .train import panel_of

    parts = {name: load(name, "train", size, limit) for name in [dataset, *extra]}
    panels = {name: panel_of(SimpleNamespace(dataset=dataset), name) for name in parts}
    offsets = dict(zip(parts, torch.tensor([0] + [len(p.y) for p in parts.values()]).cumsum(0).tolist()))
    n = sum(len(p.y) for p in parts.values())
    probs: dict = {}
    for path in card_paths:
        net, methods = teacher(path)
        for name, part in parts.items():
            panel = panels[name]
            if panel not in methods:
                raise SystemExit(f"{path} has no head for {name} (panel {panel}): a served card teaches its served head only")
            _, p = predict(net, methods[panel], part.images, flip=True, panel=panel)
            acc = probs.setdefault(panel, torch.zeros(n, p.shape[1]))
            acc[offsets[name]:offsets[name] + len(p)] += p / len(card_paths)
    return {"probs": probs[None].half() if set(probs) == {None} else {k: v.half() for k, v in probs.items()},
            "files": [r.get("file") for p in parts.values() for r in p.meta],
            "teachers": [describe(path) for path in card_paths]}


def teacher(path: str):
    """(network, {panel: Method}) from a card (the ONNX as served: its served head) or a stage
    checkpoint (every head)."""
    if path.endswith(".pt"):
        from .export import load_checkpoint

        return load_checkpoint(path)
    net, method = served_network(path)
    return net, {None: method}


def describe(path: str) -> dict:
    if path.endswith(".pt"):
        return {"checkpoint": path}
    return {k: json.loads(open(path).read())[k] for k in ("name", "version")}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--teacher", action="append", required=True, help="a model card (models/<Name>.json) or stage checkpoint (.pt); repeat for an ensemble")
    p.add_argument("--dataset", default="utkface")
    p.add_argument("--extra", action="append", default=[])
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)
    torch.set_num_threads(os.cpu_count() or 1)  # this torch build defaults to one thread
    soft = soft_labels(a.teacher, a.dataset, a.extra, a.size, a.limit)
    torch.save(soft, a.out)
    print(f"wrote {a.out}: {len(soft['files'])} images, teachers {soft['teachers']}")


if __name__ == "__main__":
    main()
