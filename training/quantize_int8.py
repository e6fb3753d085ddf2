"""Int8 (QDQ) candidates of the fast-tier models, calibrated on validation crops (issue 15, item 3).

The study's tool (bench/results/int8.md). The served int8 models are made by its successor in the
training package, training/dldl/quantize.py (the same steps, variants and calibration sample; it
writes models/<Name>.onnx and re-measures the card). Since then models/<Name>.onnx is the int8
file: to rerun this study against float, restore the float export first (git show c06fb53:models/<Name>.onnx).

Needs onnxruntime's quantisation tool, which the project does not depend on; run it from a venv
outside the repo:

    /usr/bin/python3 -m venv --system-site-packages /root/ort-venv
    /root/ort-venv/bin/pip install --index-url file:///opt/pypi/simple onnxruntime==1.30.0 ml_dtypes "onnx>=1.17"
    nice -n 5 /root/ort-venv/bin/python -m training.quantize_int8 [--n 300] [--variants all]

Writes models/int8/<Name>.<variant>.onnx plus a card copy <Name>.<variant>.json (same card,
`file`/`sha256`/`bytes` pointing at the candidate) so `src/cli/eval.ts --model` can evaluate it.
The served models/*.onnx and models/*.json are never written.

Steps for each model:
  1. fold the fp16 weight storage (initialiser `X_fp16` + Cast -> fp32 initialiser `X`): exact,
     and the quantiser only treats initialisers as weights;
  2. onnxruntime.quantization.quant_pre_process (shape inference, graph optimisation);
  3. quantize_static, QDQ format, per-channel int8 weights, uint8 activations, only the backbone
     ops (Conv, Relu, MaxPool; variants add Gemm): the softmax, the expected value
     (probs @ labels), the score map (Einsum) stay float;
  calibration: a fixed random sample (seed 0) of validation crops: utkface:val for age,
  mebeauty:val + scut:val for attractiveness, at 64 px, uint8 NHWC like serving.
"""
import argparse
import csv
import json
import hashlib
from pathlib import Path

import numpy as np
import onnx
from PIL import Image

from training.dldl.quantize import VARIANTS, fold_fp16, quantize

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "models" / "int8"
DATA = REPO.parent / "shared" / "datasets"


def load_png_dir(paths: list[Path], size: int = 64) -> np.ndarray:
    out = []
    for p in paths:
        with Image.open(p) as im:
            im = im.convert("RGB")
            if im.size != (size, size):
                im = im.resize((size, size), Image.BILINEAR, reducing_gap=3.0)
            out.append(np.asarray(im, dtype=np.uint8))
    return np.stack(out)


def calibration_images(task: str, n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if task == "age":
        cache = REPO / "data" / "cache" / "utkface-val-64-2367-64.npy"
        if cache.exists():
            arr = np.load(cache)
        else:
            rows = [r for r in csv.DictReader(open(DATA / "utkface" / "labels.csv")) if r["split"] == "val"]
            arr = load_png_dir([DATA / "utkface" / "64" / r["file"] for r in rows])
        return arr[rng.choice(len(arr), size=min(n, len(arr)), replace=False)]
    # attractiveness: half MEBeauty val (its MTCNN crops, resized to 64), half SCUT val (aligned crops)
    me = [r for r in csv.DictReader(open(DATA / "mebeauty" / "scores.csv")) if r["split"] == "val" and r["crop"]]
    sc_root = REPO / "data" / "aligned" / "scut-mebeauty-64"
    sc = [r for r in csv.DictReader(open(sc_root / "labels.csv")) if r["split"] == "val"]
    k = n // 2
    me = [me[i] for i in rng.choice(len(me), size=min(k, len(me)), replace=False)]
    sc = [sc[i] for i in rng.choice(len(sc), size=min(n - len(me), len(sc)), replace=False)]
    return np.concatenate([load_png_dir([DATA / "mebeauty" / r["crop"] for r in me]), load_png_dir([sc_root / r["file"] for r in sc])])


# name -> quantize_static options
def card_for(name: str, variant: str, onnx_path: Path, note: str) -> None:
    card = json.loads((REPO / "models" / f"{name}.json").read_text())
    data = onnx_path.read_bytes()
    card["file"] = onnx_path.name
    card["sha256"] = hashlib.sha256(data).hexdigest()
    card["bytes"] = len(data)
    card["version"] = card["sha256"][:12]
    card["evaluation"] = dict(card.get("evaluation", {}), weights=note, candidate=f"int8 experiment (issue 15): {variant}")
    onnx_path.with_suffix(".json").write_text(json.dumps(card, indent=1) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="TinyAgeNet,TinyAttNet")
    ap.add_argument("--variants", default="qdq,qdq-pct,qdq-ends,qdq-first,qdq-gemm")
    ap.add_argument("--n", type=int, default=320, help="calibration crops")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    for name in args.models.split(","):
        task = "age" if "Age" in name else "attractiveness"
        src = REPO / "models" / f"{name}.onnx"
        folded = fold_fp16(onnx.load(src))
        fp32_path = OUT / f"{name}.fp32.onnx"
        onnx.save(folded, fp32_path)
        card_for(name, "fp32 (fp16 storage folded to fp32, no quantisation)", fp32_path, "BatchNorm folded, float32 weights")
        images = calibration_images(task, args.n)
        print(f"{name}: calibration on {len(images)} val crops {images.shape}", flush=True)
        for v in args.variants.split(","):
            spec = VARIANTS[v]
            out = OUT / f"{name}.{v}.onnx"
            in_float = quantize(fp32_path, out, images, v)
            card_for(name, v, out, f"int8 QDQ ({', '.join(spec['ops'])}; per-channel s8 weights, u8 activations, {spec['method'].name} on "
                     f"{len(images)} val crops; in float: {in_float})")
            print(f"  {out.relative_to(REPO)}: {out.stat().st_size} bytes", flush=True)


if __name__ == "__main__":
    main()
