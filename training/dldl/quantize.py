"""Turn a served edge model into its int8 (QDQ) version and re-measure its card (issue 15, item 3).

    nice /root/ort-venv/bin/python -m training.dldl.quantize --card models/TinyAgeNet.json [--variant qdq-first]

Needs onnxruntime's quantisation tool, which the project does not depend on; run it from a venv
outside the repo that also sees the system torch (bench/results/int8.md, "Commands"):

    /usr/bin/python3 -m venv --system-site-packages /root/ort-venv
    /root/ort-venv/bin/pip install --index-url file:///opt/pypi/simple onnxruntime==1.30.0 ml_dtypes "onnx>=1.17" "numpy<2"

(numpy < 2: the Debian torch is built against numpy 1.x; a venv that pulled numpy 2 imports torch
but cannot hand it arrays. This branch was run from such a venv at /tmp/ort-np1, numpy 1.24.2.)

What it does, for the card's model:
  1. the float source: the card's own ONNX while the card is float (as training.dldl.export wrote
     it); for a card that is already int8, the float graph is re-exported from the card's float32
     checkpoint (training/checkpoints/<run>.pt: fold_and_round + export_onnx, as export does) and
     must hash to the recorded `quantization.source.sha256`;
  2. fp16 weight storage folded to float32 initialisers (exact), quant_pre_process, quantize_static:
     QDQ, per-channel symmetric int8 weights, uint8 activations, backbone ops only (Conv, Relu,
     MaxPool); softmax, expectation and score map stay float. Calibration: a fixed random sample
     (seed 0) of validation crops, the study's sets (CALIBRATION_SETS);
  3. writes the int8 graph over models/<Name>.onnx and re-measures every number of the card on it
     with the export's own evaluation functions (evaluate_sets, minor_policy, tiers, robustness),
     fed by onnxruntime instead of PyTorch: calibration temperatures, `metrics`, `minor_guard`,
     `tiers.*.metrics`, `robustness`; records `quantization` (method, variant, calibration, tool
     versions, source, command) and the new file/sha256/bytes/version;
  4. writes test/vectors/models/<Name>.json from the int8 graph (onnxruntime), since PyTorch no
     longer computes what the file computes.

The float32 weights stay in training/checkpoints/ (the card's training.checkpoint); `python3 -m
training.dldl.export` on the run restores the float model and card.
"""
import argparse
import hashlib
import json
import os
import shlex
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import numpy_helper
from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process

from .data import REPO, TASK_OF, load
from .export import (export_onnx, fold_and_round, load_checkpoint, minor_policy, robustness_report, served_metrics,
                     tiers)
from .vectors import onnx_model_vector

# name -> quantize_static options (the study's variants, bench/results/int8.md)
VARIANTS = {
    "qdq": dict(ops=["Conv", "Relu", "MaxPool"], method=CalibrationMethod.MinMax, exclude=""),
    "qdq-pct": dict(ops=["Conv", "Relu", "MaxPool"], method=CalibrationMethod.Percentile, exclude=""),
    "qdq-ends": dict(ops=["Conv", "Relu", "MaxPool"], method=CalibrationMethod.MinMax, exclude="ends"),
    "qdq-first": dict(ops=["Conv", "Relu", "MaxPool"], method=CalibrationMethod.MinMax, exclude="first"),
    "qdq-gemm": dict(ops=["Conv", "Relu", "MaxPool", "Gemm"], method=CalibrationMethod.MinMax, exclude=""),
}
SEED = 0


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fold_fp16(model: onnx.ModelProto) -> onnx.ModelProto:
    """Initialiser X_fp16 -> Cast(to float) -> X becomes a float32 initialiser X (exact)."""
    inits = {t.name: t for t in model.graph.initializer}
    keep, folded = [], set()
    for node in model.graph.node:
        if node.op_type == "Cast" and node.input[0] in inits and inits[node.input[0]].data_type == onnx.TensorProto.FLOAT16:
            arr = numpy_helper.to_array(inits[node.input[0]]).astype(np.float32)
            model.graph.initializer.append(numpy_helper.from_array(arr, node.output[0]))
            folded.add(node.input[0])
        else:
            keep.append(node)
    del model.graph.node[:]
    model.graph.node.extend(keep)
    rest = [t for t in model.graph.initializer if t.name not in folded]
    del model.graph.initializer[:]
    model.graph.initializer.extend(rest)
    return model


# The study's calibration sets (bench/results/int8.md): the served panel's validation crops,
# for attractiveness also SCUT's (its second head shares the backbone being quantised).
CALIBRATION_SETS = {"age": ["utkface"], "attractiveness": ["mebeauty", "scut"]}


def calibration_images(card: dict, sets: list[str], n: int, limit: int | None = None, seed: int = SEED) -> tuple[np.ndarray, list[str]]:
    """n val crops split evenly over `sets` (the last takes the remainder), drawn in turn from one
    generator seeded `seed`: the study's sample."""
    rng = np.random.default_rng(seed)
    out, used = [], []
    for i, name in enumerate(sets):
        images = load(name, "val", card["input"]["size"], limit).images.numpy()
        k = n // len(sets) if i < len(sets) - 1 else n - sum(len(o) for o in out)
        pick = rng.choice(len(images), size=min(k, len(images)), replace=False)
        out.append(images[pick])
        used.append(f"{name}:val {len(pick)}/{len(images)}")
    return np.concatenate(out), used


class Reader(CalibrationDataReader):
    def __init__(self, images: np.ndarray, batch: int = 16):
        self.batches = [images[i:i + batch] for i in range(0, len(images), batch)]
        self.i = 0

    def get_next(self):
        if self.i >= len(self.batches):
            return None
        self.i += 1
        return {"image": self.batches[self.i - 1]}

    def rewind(self):
        self.i = 0


def quantize(fp32: Path, out: Path, images: np.ndarray, variant: str) -> str:
    """Writes the int8 graph to `out`; returns which convs stayed float."""
    spec = VARIANTS[variant]
    with tempfile.TemporaryDirectory() as tmp:
        folded = Path(tmp) / "fp32.onnx"
        onnx.save(fold_fp16(onnx.load(fp32)), folded)
        pre = Path(tmp) / "pre.onnx"
        quant_pre_process(str(folded), str(pre), skip_symbolic_shape=True)
        convs = [node.name for node in onnx.load(pre).graph.node if node.op_type == "Conv"]
        exclude = {"ends": [convs[0], convs[-1]], "first": [convs[0]]}.get(spec["exclude"], [])
        extra = {"ActivationSymmetric": False, "WeightSymmetric": True}
        if spec["method"] == CalibrationMethod.Percentile:
            extra["CalibPercentile"] = 99.999
        quantize_static(str(pre), str(out), Reader(images), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, op_types_to_quantize=spec["ops"],
                        nodes_to_exclude=exclude, calibrate_method=spec["method"], extra_options=extra)
    return ", ".join(exclude) or "none"


def session(path: Path) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = int(os.environ.get("ORT_THREADS", "2"))
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


class OnnxNet:
    """The served ONNX graph behind the interface the evaluation code calls on a DLDLNet:
    feature_maps(x) passes the NCHW image through, head(maps, panel) runs the graph on it (as the
    uint8 NHWC pixels the API sends: rounded, clamped) and returns log(probs), whose softmax is the
    graph's probs. So evaluate.predict, robustness.suite and export.tiers measure the file itself."""

    def __init__(self, path: Path, card: dict):
        self.sess = session(path)
        self.card = card

    def eval(self):
        return self

    def feature_maps(self, x: torch.Tensor) -> torch.Tensor:
        return x

    def head(self, x: torch.Tensor, panel: str | None = None) -> torch.Tensor:
        pixels = x.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).contiguous().numpy()
        name = self.card["outputs"]["probs"]["name"] if panel is None else self.card["panels"][panel]["outputs"]["probs"]["name"]
        probs = torch.from_numpy(self.sess.run([name], {self.card["input"]["name"]: pixels})[0])
        return torch.log(probs.double().clamp_min(1e-300)).float()


def float_source(card: dict, tmp: Path) -> tuple[Path, str]:
    """The float graph to quantise and where it came from."""
    q = card.get("quantization")
    if q is None:
        return REPO / "models" / card["file"], f"models/{card['file']} (float, as training.dldl.export wrote it)"
    checkpoint = REPO / card["training"]["checkpoint"]
    net, methods = load_checkpoint(checkpoint)
    path = tmp / "fp32.onnx"
    export_onnx(fold_and_round(net), methods, card["input"]["size"], path)
    got = sha256(path.read_bytes())
    if got != q["source"]["sha256"]:
        raise SystemExit(f"{card['name']}: the float graph re-exported from {card['training']['checkpoint']} hashes to {got[:12]}, "
                         f"not the recorded source {q['source']['sha256'][:12]} (another torch/onnx version?)")
    return path, f"re-exported from {card['training']['checkpoint']}"


def measure(card: dict, onnx_path: Path, ck_args: dict, methods: dict, robustness: bool) -> dict:
    """The card's numbers, re-measured on `onnx_path` with the export's evaluation functions."""
    net = OnnxNet(onnx_path, card)
    result = served_metrics(net, methods, {"args": ck_args})
    out = {"temperature": result["temperature"], "temperatures": result["temperatures"], "metrics": result["sets"]}
    configs = card["serving"]["tiers"]  # the views the card's tiers already run (an edge model: fast's one pass)
    policy = minor_policy(net, methods[None], result, configs) if TASK_OF[ck_args["dataset"]] == "age" else None
    out["minor_guard"] = policy
    out["tiers"] = tiers(net, methods, result, configs, policy["risk"] if policy else None)
    if robustness:
        out["robustness"] = robustness_report(net, methods, result)
    return out


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--card", required=True, help="models/<Name>.json of a served edge model")
    p.add_argument("--variant", default="qdq-first", choices=sorted(VARIANTS))
    p.add_argument("--n", type=int, default=320, help="calibration crops")
    p.add_argument("--sets", help="calibration sets, comma-separated (default: the study's, CALIBRATION_SETS)")
    p.add_argument("--no-robustness", action="store_true", help="keep the card's robustness block out (it is dropped, not left stale)")
    a = p.parse_args(argv)
    torch.set_num_threads(int(os.environ.get("ORT_THREADS", "2")))
    card_path = Path(a.card).resolve()
    card = json.loads(card_path.read_text())
    ck = torch.load(REPO / card["training"]["checkpoint"], map_location="cpu")
    _, methods = load_checkpoint(REPO / card["training"]["checkpoint"])
    command = "python -m training.dldl.quantize " + " ".join(shlex.quote(x) for x in (argv if argv is not None else sys.argv[1:]))
    with tempfile.TemporaryDirectory() as tmp:
        src, src_note = float_source(card, Path(tmp))
        src_bytes = src.read_bytes()
        source = (card.get("quantization") or {}).get("source") or {
            "file": card["file"], "version": card["version"], "sha256": sha256(src_bytes), "bytes": len(src_bytes),
            "weights": card["evaluation"]["weights"]}
        images, used = calibration_images(card, a.sets.split(",") if a.sets else CALIBRATION_SETS[card["task"]], a.n, ck["args"].get("limit"))
        print(f"{card['name']}: calibrating on {len(images)} crops ({'; '.join(used)}), float source {src_note}", flush=True)
        out = Path(tmp) / "int8.onnx"
        floated = quantize(src, out, images, a.variant)
        blob = out.read_bytes()
        onnx_path = REPO / "models" / card["file"]
        onnx_path.write_bytes(blob)
    spec = VARIANTS[a.variant]
    card.update(version=sha256(blob)[:12], sha256=sha256(blob), bytes=len(blob))
    card["quantization"] = {
        "method": f"static int8, QDQ format: per-channel symmetric int8 weights, uint8 activations ({spec['method'].name} ranges); "
                  f"quantised ops {', '.join(spec['ops'])}; float: softmax, expectation, score map and conv(s) {floated}",
        "variant": a.variant,
        "calibration": {"split": "+".join(u.split(" ")[0] for u in used), "n": int(len(images)), "per_set": used, "seed": SEED},
        "tools": {"onnxruntime": ort.__version__, "onnx": onnx.__version__, "torch": torch.__version__},
        "source": source | {"note": "the float graph quantised: the export of the float32 checkpoint training."
                                    f"checkpoint ({card['training']['checkpoint']}); rerunning this command re-exports it from there"},
        "study": "bench/results/int8.md",
        "command": command + "  (from an onnxruntime venv: this module's docstring)",
    }
    print(f"{card['name']}: {len(src_bytes)} -> {len(blob)} bytes; measuring", flush=True)
    numbers = measure(card, onnx_path, ck["args"], methods, not a.no_robustness)
    card["calibration"]["temperature"] = numbers["temperature"]
    for panel, t in numbers["temperatures"].items():
        card["panels"][panel]["calibration"]["temperature"] = t
    card["metrics"] = numbers["metrics"]
    if numbers["minor_guard"]:
        card["minor_guard"] = numbers["minor_guard"]
    card["tiers"] = numbers["tiers"]
    card.pop("robustness", None)
    if "robustness" in numbers:
        card["robustness"] = numbers["robustness"]
    card["evaluation"] = dict(card["evaluation"], weights=f"int8 QDQ ({a.variant}) of the float graph {source['version']}; see `quantization`",
                              command=command, runtime=f"onnxruntime {ort.__version__} CPU on the int8 file (pixels rounded to uint8 as served)")
    card_path.write_text(json.dumps(card, indent=1) + "\n")
    vector = REPO / "test" / "vectors" / "models" / f"{card['name']}.json"
    vector.write_text(json.dumps(onnx_model_vector(card_path)) + "\n")
    print(f"wrote {onnx_path.relative_to(REPO)}, {card_path.relative_to(REPO)}, {vector.relative_to(REPO)}")


if __name__ == "__main__":
    main()
