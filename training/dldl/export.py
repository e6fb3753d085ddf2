"""Export a trained run to models/<name>.onnx with its model card models/<name>.json.

    python3 -m training.dldl.export --run runs/tiny-age --name TinyAgeNet

The graph takes uint8 RGB NHWC pixels (normalisation inside), outputs `probs` [N,K],
`value` [N] (the expectation) and `scoremap` [N,h,w] (Section 5.1). The card is the single
source of truth the TypeScript side reads: labels, input, calibration, alignment, metrics.
"""
import argparse
import copy
import hashlib
import json
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from . import labels as L
from .data import REPO, TASK_OF, load
from .evaluate import coverage, evaluate_split, fit_temperature, predict
from .losses import Method
from .model import WIDTHS, DLDLNet, param_count

TEMPLATES = REPO / "training" / "templates"
FRAMING = {"utkface": "utkface", "mebeauty": "mebeauty"}
DATA = {
    "utkface": {"name": "UTKFace", "citation": "Zhang, Song, Qi. Age Progression/Regression by Conditional Adversarial Autoencoder. CVPR 2017",
                "splits": "utkface/labels.csv split column (fixed hash split 80/10/10)"},
    "mebeauty": {"name": "MEBeauty", "citation": "Lebedeva, Guo, Ying. MEBeauty: a multi-ethnic facial beauty dataset in-the-wild. Neural Computing and Applications 2022",
                 "splits": "mebeauty/scores.csv split column (official 2022 split)"},
    "aaf": {"name": "All-Age-Faces (AAF)", "citation": "Cheng, Li, Wang, Wang. Exploiting effective facial patches for robust gender recognition. Tsinghua Science and Technology 2019",
            "splits": "official train list only (aaf/labels.csv), aligned into UTKFace's framing by npm run prepare-data; extra training data"},
}
LICENCE = ("Weights trained on research datasets whose terms allow research and non-commercial use only; "
           "the model inherits those terms. Code: project licence.")


class ServingGraph(nn.Module):
    """uint8 NHWC in, (probs, value, scoremap) out."""

    def __init__(self, net: DLDLNet, labels: torch.Tensor):
        super().__init__()
        self.net = net
        self.register_buffer("labels", labels.float())

    def forward(self, image: torch.Tensor):
        x = image.permute(0, 3, 1, 2).float()
        maps = self.net.feature_maps(x)
        probs = torch.softmax(self.net.head(maps), dim=1)
        value = probs @ self.labels
        return probs, value, self.net.score_map(maps, probs)


def load_run(run: Path) -> tuple[DLDLNet, dict, Method, L.LabelSpace]:
    result = json.loads((run / "result.json").read_text())
    args = result["args"]
    space = L.LabelSpace(**{k: result["labels"][k] for k in ("min", "max", "step")})
    method = Method(args["method"], space.vector().float(), args["lam"])
    net = DLDLNet(WIDTHS[args["arch"]], method.outputs)
    net.load_state_dict(torch.load(run / "best.pt", map_location="cpu")["model"])
    return net.eval(), result, method, space


# Large weight tensors are stored as float16 (half the bytes: the edge bundle has a hard size
# limit) and cast to float32 inside the graph, so every runtime still computes in float32.
FP16_MIN_ELEMENTS = 1024


def fold_and_round(net: DLDLNet) -> DLDLNet:
    """The network exactly as served: BatchNorm folded into the convs, big tensors rounded to
    float16. PyTorch vectors and card metrics are computed on this, so they match the ONNX file."""
    net = copy.deepcopy(net).eval()
    layers = list(net.features)
    for i, layer in enumerate(layers[:-1]):
        if isinstance(layer, nn.Conv2d) and isinstance(layers[i + 1], nn.BatchNorm2d):
            layers[i], layers[i + 1] = fuse_conv_bn_eval(layer, layers[i + 1]), nn.Identity()
    net.features = nn.Sequential(*layers)
    with torch.no_grad():
        for t in net.parameters():
            if t.numel() >= FP16_MIN_ELEMENTS:
                t.copy_(t.half().float())
    return net


def store_weights_fp16(model: onnx.ModelProto) -> None:
    """Rewrite float32 initializers that are exactly float16-representable as float16 + Cast."""
    graph = model.graph
    casts, keep = [], []
    for init in graph.initializer:
        arr = numpy_helper.to_array(init)
        if init.data_type == TensorProto.FLOAT and arr.size >= FP16_MIN_ELEMENTS and \
                np.array_equal(arr.astype(np.float16).astype(np.float32), arr):
            half = numpy_helper.from_array(arr.astype(np.float16), init.name + "_fp16")
            keep.append(half)
            casts.append(helper.make_node("Cast", [half.name], [init.name], to=TensorProto.FLOAT, name=init.name + "_cast"))
        else:
            keep.append(init)
    del graph.initializer[:]
    graph.initializer.extend(keep)
    nodes = casts + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)


def export_onnx(net: DLDLNet, labels: torch.Tensor, size: int, path: Path) -> None:
    graph = ServingGraph(net, labels).eval()
    dummy = torch.zeros(2, size, size, 3, dtype=torch.uint8)
    torch.onnx.export(graph, (dummy,), str(path), input_names=["image"], output_names=["probs", "value", "scoremap"],
                      dynamic_axes={"image": {0: "N"}, "probs": {0: "N"}, "value": {0: "N"}, "scoremap": {0: "N"}},
                      opset_version=13, do_constant_folding=True)
    model = onnx.load(str(path))
    store_weights_fp16(model)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def alignment(dataset: str, size: int) -> dict:
    framing = FRAMING[dataset]
    file = TEMPLATES / f"{framing}.json"
    template = json.loads(file.read_text()) if file.exists() else None
    return {"framing": framing, "size": size, "template": template,
            "note": "faces are aligned by a similarity transform of BlazeFace keypoints onto `template` "
                    "(coordinates relative to the crop, 0..1), derived from the training crops"}


def training_stages(result: dict) -> list[dict]:
    """The chain of runs behind this one, oldest first: each --init names its parent's checkpoint,
    so a warm restart or a transfer shows every stage's budget and the command that reproduces it."""
    args = result["args"]
    parent = Path(args["init"]).parent / "result.json" if args.get("init") else None
    earlier = training_stages(json.loads((REPO / parent).read_text())) if parent and (REPO / parent).exists() else []
    return earlier + [{"run": args["out"], "dataset": "+".join([args["dataset"], *args.get("extra", [])]), "epochs": args["epochs"], "lr": args["lr"],
                       "lr_step": args["lr_step"], "seconds": result["seconds"], "command": result["command"]}]


def card(name: str, onnx_path: Path, net: DLDLNet, result: dict, space: L.LabelSpace, scoremap_hw) -> dict:
    args = result["args"]
    blob = onnx_path.read_bytes()
    dataset = args["dataset"]
    size = args["size"]
    return {
        "name": name,
        "version": hashlib.sha256(blob).hexdigest()[:12],
        "task": TASK_OF[dataset],
        "file": onnx_path.name,
        "sha256": hashlib.sha256(blob).hexdigest(),
        "bytes": len(blob),
        "params": param_count(net),
        "architecture": {"family": "DLDL-v2 thin VGG16 (13 conv, BN, hybrid pooling)", "width": WIDTHS[args["arch"]]},
        "labels": space.as_dict(),
        "input": {"name": "image", "layout": "NHWC", "dtype": "uint8", "size": size, "channels": 3,
                  "normalization": "inside the graph: (x - mean) / std with mean/std as stored in the weights"},
        "outputs": {"probs": {"name": "probs", "shape": ["N", space.k]},
                    "value": {"name": "value", "shape": ["N"]},
                    "scoremap": {"name": "scoremap", "shape": ["N", *scoremap_hw]}},
        "calibration": {"temperature": result["temperature"], "interval": 0.9, "fitted_on": f"{dataset}:val",
                        "how": "probs' = softmax(log(probs) / temperature); the 90% interval is its 5%..95% quantiles"},
        "alignment": alignment(dataset, size),
        "metrics": {f"{dataset}:test": result["test"], f"{dataset}:val": result["val"]},
        "evaluation": {"flip_averaged": not args.get("no_flip_eval", False), "weights": "BatchNorm folded, tensors >= "
                       f"{FP16_MIN_ELEMENTS} elements stored as float16 (computed in float32)",
                       "command": f"python3 -m training.dldl.export --run {args['out']} --name {name}"},
        "training": {"method": args["method"], "lambda": args["lam"], "sigma": "per-image rater std" if dataset == "mebeauty" else args["sigma"],
                     "epochs": args["epochs"], "size": size, "batch": args["batch"], "seconds": result["seconds"],
                     "hardware": result["hardware"], "seed": args["seed"], "init": args.get("init"),
                     "command": result["command"], "stages": training_stages(result)},
        "data": [DATA[dataset]] + [DATA[extra] for extra in args.get("extra", [])]
                + ([DATA["utkface"] | {"use": "backbone initialisation"}] if args.get("init") and dataset != "utkface" else []),
        "licence": LICENCE,
    }


def served_metrics(net: DLDLNet, method: Method, result: dict) -> dict:
    """Re-fit the interval temperature and re-measure val/test on the network as served."""
    args = result["args"]
    dataset, task = args["dataset"], TASK_OF[args["dataset"]]
    flip = not args.get("no_flip_eval", False)
    val = load(dataset, "val", args["size"], args.get("limit"))
    test = load(dataset, "test", args["size"], args.get("limit"))
    _, val_probs = predict(net, method, val.images, flip=flip)
    temperature = fit_temperature(val_probs, method.labels, val.y)
    out = dict(result, temperature=temperature,
               val=evaluate_split(net, method, val, task, temperature, flip),
               test=evaluate_split(net, method, test, task, temperature, flip))
    _, test_probs = predict(net, method, test.images, flip=flip)
    out["test"]["coverage90_uncalibrated"] = coverage(test_probs, method.labels, test.y, 1.0)
    return out


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--models", default=str(REPO / "models"))
    a = p.parse_args(argv)
    trained, result, method, space = load_run(Path(a.run))
    net = fold_and_round(trained)
    result = served_metrics(net, method, result)
    models = Path(a.models)
    models.mkdir(parents=True, exist_ok=True)
    onnx_path = models / f"{a.name}.onnx"
    export_onnx(net, method.labels, result["args"]["size"], onnx_path)
    size = result["args"]["size"]
    with torch.no_grad():
        hw = list(net.feature_maps(torch.zeros(1, 3, size, size)).shape[2:])
    (models / f"{a.name}.json").write_text(json.dumps(card(a.name, onnx_path, net, result, space, hw), indent=1) + "\n")
    print(f"wrote {onnx_path} and {a.name}.json")


if __name__ == "__main__":
    main()
