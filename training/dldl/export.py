"""Export a trained run to models/<name>.onnx with its model card models/<name>.json.

    python3 -m training.dldl.export --run runs/tiny-age --name TinyAgeNet

The graph takes uint8 RGB NHWC pixels (normalisation inside), outputs `probs` [N,K],
`value` [N] (the expectation) and `scoremap` [N,h,w] (Section 5.1). The card is the single
source of truth the TypeScript side reads: labels, input, calibration, alignment, metrics.
"""
import argparse
import hashlib
import json
from pathlib import Path

import onnx
import torch
from torch import nn

from . import labels as L
from .data import REPO, TASK_OF
from .losses import Method
from .model import WIDTHS, DLDLNet, param_count

TEMPLATES = REPO / "training" / "templates"
FRAMING = {"utkface": "utkface", "mebeauty": "mebeauty"}
DATA = {
    "utkface": {"name": "UTKFace", "citation": "Zhang, Song, Qi. Age Progression/Regression by Conditional Adversarial Autoencoder. CVPR 2017",
                "splits": "utkface/labels.csv split column (fixed hash split 80/10/10)"},
    "mebeauty": {"name": "MEBeauty", "citation": "Lebedeva, Guo, Ying. MEBeauty: a multi-ethnic facial beauty dataset in-the-wild. Neural Computing and Applications 2022",
                 "splits": "mebeauty/scores.csv split column (official 2022 split)"},
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


def export_onnx(net: DLDLNet, labels: torch.Tensor, size: int, path: Path) -> None:
    graph = ServingGraph(net, labels).eval()
    dummy = torch.zeros(2, size, size, 3, dtype=torch.uint8)
    torch.onnx.export(graph, (dummy,), str(path), input_names=["image"], output_names=["probs", "value", "scoremap"],
                      dynamic_axes={"image": {0: "N"}, "probs": {0: "N"}, "value": {0: "N"}, "scoremap": {0: "N"}},
                      opset_version=13, do_constant_folding=True)
    onnx.checker.check_model(onnx.load(str(path)))


def alignment(dataset: str, size: int) -> dict:
    framing = FRAMING[dataset]
    file = TEMPLATES / f"{framing}.json"
    template = json.loads(file.read_text()) if file.exists() else None
    return {"framing": framing, "size": size, "template": template,
            "note": "faces are aligned by a similarity transform of BlazeFace keypoints onto `template` "
                    "(coordinates relative to the crop, 0..1), derived from the training crops"}


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
        "evaluation": {"flip_averaged": not args.get("no_flip_eval", False),
                       "command": result["command"]},
        "training": {"method": args["method"], "lambda": args["lam"], "sigma": "per-image rater std" if dataset == "mebeauty" else args["sigma"],
                     "epochs": args["epochs"], "size": size, "batch": args["batch"], "seconds": result["seconds"],
                     "hardware": result["hardware"], "seed": args["seed"], "init": args.get("init"),
                     "command": result["command"]},
        "data": [DATA[dataset]] + ([DATA["utkface"] | {"use": "backbone initialisation"}] if args.get("init") else []),
        "licence": LICENCE,
    }


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--models", default=str(REPO / "models"))
    a = p.parse_args(argv)
    net, result, method, space = load_run(Path(a.run))
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
