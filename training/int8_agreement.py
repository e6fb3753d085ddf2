"""Face-by-face agreement of the int8 candidates with the served fp32 model (issue 15, item 3):
|value(int8) - value(fp32)| over a whole split, one pass (fast tier: no flip), native onnxruntime.
(The accuracy numbers themselves come from src/cli/eval.ts --tier fast on the candidate cards.)

    nice -n 5 /root/ort-venv/bin/python -m training.int8_agreement [--variants qdq,qdq-ends,qdq-pct,qdq-gemm]

Age: utkface val/test crops from the data cache (data/cache/utkface-{val,test}-64-*.npy).
"""
import argparse
from pathlib import Path

import numpy as np
import onnxruntime as ort

REPO = Path(__file__).resolve().parents[1]


def run(path: Path, x: np.ndarray) -> np.ndarray:
    so = ort.SessionOptions()
    so.log_severity_level = 3
    so.intra_op_num_threads = 1
    s = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    return np.concatenate([s.run(["value"], {"image": x[i : i + 64]})[0] for i in range(0, len(x), 64)])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--variants", default="qdq,qdq-ends,qdq-first,qdq-pct,qdq-gemm")
    args = ap.parse_args()
    for split in ["val", "test"]:
        (file,) = (REPO / "data" / "cache").glob(f"utkface-{split}-64-*-64.npy")
        x = np.load(file)
        ref = run(REPO / "models" / "TinyAgeNet.onnx", x)
        for v in args.variants.split(","):
            d = np.abs(run(REPO / "models" / "int8" / f"TinyAgeNet.{v}.onnx", x) - ref)
            print(f"TinyAgeNet utkface:{split} {v:9s} |int8-fp32| years: mean {d.mean():.3f}  p95 {np.quantile(d, 0.95):.3f}  max {d.max():.3f}  (n={len(d)})")


if __name__ == "__main__":
    main()
