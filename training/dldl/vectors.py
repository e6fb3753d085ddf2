"""Shared test vectors: small JSON files that the TypeScript tests check against.

    python3 -m training.dldl.vectors            # labels.json (label math + metrics), views.json (tier views)
    python3 -m training.dldl.vectors --models   # plus one file per models/*.onnx (PyTorch outputs)

An int8 model (a card with `quantization`, training/dldl/quantize.py) computes something PyTorch's
float graph does not: its vector holds onnxruntime's outputs of the int8 file. quantize.py writes
it; here it is rewritten where onnxruntime is importable and otherwise kept when its sha256 is the
card's.
"""
import argparse
import base64
import json
import re
from pathlib import Path

import numpy as np
import torch

from . import labels as L
from .data import REPO
from .export import ServingGraph, fold_and_round, load_checkpoint, load_run
from .metrics import summary

OUT = REPO / "test" / "vectors"


def label_cases() -> list[dict]:
    gen = torch.Generator().manual_seed(7)
    cases = []
    for space, ys, sigmas in ((L.AGE, [0.0, 3.4, 37.0, 99.5], [2.0, 1.0, 4.5, 2.0]),
                              (L.ATTRACTIVENESS, [1.0, 5.55, 8.2], [0.3, 1.4, 2.0]),
                              (L.LabelSpace(0.0, 100.0, 2.0), [41.0], [3.0])):
        labels = space.vector()
        for y, s in zip(ys, sigmas):
            dist = L.label_distribution(torch.tensor([y]), torch.tensor([s]), labels)
            # A network-like, skewed, noisy distribution for expectation/quantile checks.
            probs = torch.softmax(torch.log(dist + 1e-4) + torch.randn(dist.shape, generator=gen, dtype=torch.float64), 1)
            temperature = 1.3
            probs_t = L.temperature_probs(probs, temperature)
            cases.append({
                "labels": {"min": space.min, "max": space.max, "step": space.step}, "y": y, "sigma": s,
                "distribution": dist[0].tolist(), "probs": probs[0].tolist(), "temperature": temperature,
                "probs_t": probs_t[0].tolist(), "expectation": float(L.expectation(probs, labels)[0]),
                "std": float(L.std(probs, labels)[0]),
                **{f"q{int(q * 100):02d}": float(L.quantile(probs, labels, q)[0]) for q in (0.05, 0.5, 0.95)},
                "q05_t": float(L.quantile(probs_t, labels, 0.05)[0]), "q95_t": float(L.quantile(probs_t, labels, 0.95)[0]),
            })
    return cases


def metric_cases() -> list[dict]:
    rng = np.random.default_rng(3)
    y = rng.integers(1, 90, 40).astype(float)
    pred = y + rng.normal(0, 6, 40)
    ya = rng.uniform(2, 9, 25)
    preda = ya + rng.normal(0, 0.6, 25)
    sa = rng.uniform(0.8, 2.2, 25)
    return [
        {"task": "age", "pred": pred.tolist(), "y": y.tolist(), "sigma": None, "expected": summary(pred, y, None, "age")},
        {"task": "attractiveness", "pred": preda.tolist(), "y": ya.tolist(), "sigma": sa.tolist(),
         "expected": summary(preda, ya, sa, "attractiveness")},
    ]


def zoom_cases() -> dict:
    """The accurate tier's zoomed views as evaluation computes them (evaluate.predict), for the
    API's zoomAboutCentre to match."""
    from .augment import to_nchw
    from .corruptions import zoom

    image = torch.from_numpy(synthetic_faces(1, 12)[:, :, :9])  # not square: rows and columns must not be swapped
    x = to_nchw(image)
    return {"image": {"shape": list(image.shape[1:]), "data": image.flatten().tolist()},
            "zooms": [{"scale": s, "data": zoom(x, torch.tensor([s])).round().permute(0, 2, 3, 1).flatten().int().tolist()}
                      for s in (0.93, 1.07, 1.5)]}


def synthetic_faces(n: int, size: int) -> np.ndarray:
    """Deterministic structured images (gradients, blobs, noise): no dataset pixels committed."""
    rng = np.random.default_rng(11)
    yy, xx = np.mgrid[0:size, 0:size] / size
    imgs = []
    for i in range(n):
        base = np.stack([xx * 200 + 30 * i, yy * 180, (1 - xx) * 120 + 60], -1)
        blob = 90 * np.exp(-(((xx - 0.5) ** 2 + (yy - 0.45 + 0.05 * i) ** 2) / 0.04))[..., None]
        imgs.append(np.clip(base + blob + rng.normal(0, 12, (size, size, 3)), 0, 255))
    return np.stack(imgs).astype(np.uint8)


@torch.no_grad()
def model_vector(card_path: Path, run: Path | None) -> dict:
    """PyTorch's outputs for the served graph of a card, from its committed stage checkpoint
    (or, for a card exported before checkpoints were committed, from its run)."""
    card = json.loads(card_path.read_text())
    checkpoint = card["training"].get("checkpoint")
    if checkpoint and run is None:
        net, methods = load_checkpoint(REPO / checkpoint)
    else:
        net, _, methods, _ = load_run(run)
    graph = ServingGraph(fold_and_round(net), methods).eval()
    images = synthetic_faces(3, card["input"]["size"])
    probs, value, scoremap = graph(torch.from_numpy(images))[:3]
    return {"model": card["name"], "sha256": card["sha256"],
            "input": {"shape": list(images.shape), "base64": base64.b64encode(images.tobytes()).decode()},
            "outputs": {"probs": probs.tolist(), "value": value.tolist(), "scoremap": scoremap.tolist()}}


def onnx_model_vector(card_path: Path) -> dict:
    """onnxruntime's (CPU) outputs of the card's file for the same synthetic images."""
    import onnxruntime as ort

    card = json.loads(card_path.read_text())
    images = synthetic_faces(3, card["input"]["size"])
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(card_path.parent / card["file"]), opts, providers=["CPUExecutionProvider"])
    names = [card["outputs"][k]["name"] for k in ("probs", "value", "scoremap")]
    probs, value, scoremap = sess.run(names, {card["input"]["name"]: images})
    return {"model": card["name"], "sha256": card["sha256"],
            "computed_by": f"onnxruntime {ort.__version__} CPU on the int8 file ({card['quantization']['variant']})",
            "input": {"shape": list(images.shape), "base64": base64.b64encode(images.tobytes()).decode()},
            "outputs": {"probs": probs.tolist(), "value": value.tolist(), "scoremap": scoremap.tolist()}}


def run_of(card: dict) -> str:
    """The run a card was exported from, as its own evaluation command names it (no second list)."""
    m = re.search(r"--run (\S+)", card["evaluation"]["command"])
    if not m:
        raise ValueError(f"{card['name']}: card's evaluation command names no --run")
    return m.group(1)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", action="store_true", help="also write test/vectors/models/<Name>.json")
    p.add_argument("--run", action="append", default=[], help="NAME=RUN_DIR overriding the default run of a model")
    a = p.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "labels.json").write_text(json.dumps({"cases": label_cases(), "metrics": metric_cases()}) + "\n")
    (OUT / "views.json").write_text(json.dumps(zoom_cases()) + "\n")
    if a.models:
        overrides = dict(r.split("=", 1) for r in a.run)
        (OUT / "models").mkdir(exist_ok=True)
        for card in sorted((REPO / "models").glob("*.json")):
            meta = json.loads(card.read_text())
            if "evaluation" not in meta:  # not a model card
                continue
            target = OUT / "models" / f"{meta['name']}.json"
            if "quantization" in meta:
                try:
                    target.write_text(json.dumps(onnx_model_vector(card)) + "\n")
                except ImportError:
                    if not target.exists() or json.loads(target.read_text()).get("sha256") != meta["sha256"]:
                        raise SystemExit(f"{meta['name']} is int8: its vector needs onnxruntime (python -m training.dldl.quantize's venv)")
                    print(f"{meta['name']}: int8, no onnxruntime here; kept its vector (same sha256)")
                continue
            run = overrides.get(meta["name"])
            if run is None and not meta["training"].get("checkpoint"):
                run = run_of(meta)
                if not (REPO / run / "result.json").exists():
                    raise SystemExit(f"{meta['name']}: {run}/result.json is missing; the vectors need the run the card came from")
            target.write_text(json.dumps(model_vector(card, REPO / run if run else None)) + "\n")
    print(f"wrote vectors under {OUT}")


if __name__ == "__main__":
    main()
