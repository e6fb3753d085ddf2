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
import os
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from . import labels as L
from .data import REPO, TASK_OF, load
from .evaluate import coverage, evaluate_sets, predict
from .metrics import MAX_MINORS_SCORED, MINOR_AGE, choose_minor_risk, minor_guard, summary
from .robustness import suite
from .tier_choice import STANDARD, choose_for
from .losses import Method
from .model import WIDTHS, DLDLNet, EnsembleNet, param_count

TEMPLATES = REPO / "training" / "templates"
CHECKPOINTS = REPO / "training" / "checkpoints"
FRAMING = {"utkface": "utkface", "mebeauty": "mebeauty"}
DATA = {
    "utkface": {"name": "UTKFace", "citation": "Zhang, Song, Qi. Age Progression/Regression by Conditional Adversarial Autoencoder. CVPR 2017",
                "splits": "utkface/labels.csv split column (fixed hash split 80/10/10)"},
    "mebeauty": {"name": "MEBeauty", "citation": "Lebedeva, Guo, Ying. MEBeauty: a multi-ethnic facial beauty dataset in-the-wild. Neural Computing and Applications 2022",
                 "splits": "mebeauty/scores.csv split column (official 2022 split)"},
    "scut": {"name": "SCUT-FBP5500", "citation": "Liang, Lin, Jin, Xie, Li. SCUT-FBP5500: A Diverse Benchmark Dataset for Multi-Paradigm Facial Beauty Prediction. ICPR 2018",
             "splits": "official 60/40 split (scut-fbp5500/labels.csv; val a fixed 10% of the 60%), aligned into MEBeauty's framing by npm run prepare-data"},
    "aaf": {"name": "All-Age-Faces (AAF)", "citation": "Cheng, Li, Wang, Wang. Exploiting effective facial patches for robust gender recognition. Tsinghua Science and Technology 2019",
            "splits": "official train list (aaf/labels.csv) aligned into UTKFace's framing by npm run prepare-data, split 80/10/10 "
                      "by SHA-1 of the file stem mod 10 (0 test, 1 val; training/dldl/data.py hash_split)"},
}
LICENCE = ("Weights trained on research datasets whose terms allow research and non-commercial use only; "
           "the model inherits those terms. Code: project licence.")


class ServingGraph(nn.Module):
    """uint8 NHWC in; out: (probs, value, scoremap) of the served head, then (probs_<panel>,
    value_<panel>) of each further rater panel's head."""

    def __init__(self, net: DLDLNet, methods: dict):
        super().__init__()
        self.net = net
        self.register_buffer("labels", methods[None].labels.float())
        self.panels = [p for p in methods if p is not None]
        for p in self.panels:
            self.register_buffer(f"labels_{p}", methods[p].labels.float())

    def forward(self, image: torch.Tensor):
        x = image.permute(0, 3, 1, 2).float()
        maps = self.net.feature_maps(x)
        probs = torch.softmax(self.net.head(maps), dim=1)
        out = [probs, probs @ self.labels, self.net.score_map(maps, probs)]
        for p in self.panels:
            panel_probs = torch.softmax(self.net.head(maps, p), dim=1)
            out += [panel_probs, panel_probs @ getattr(self, f"labels_{p}")]
        return tuple(out)


def run_args(result: dict) -> argparse.Namespace:
    """A run's arguments, with today's defaults for options added after it was trained."""
    from .train import parse_args

    return argparse.Namespace(**{**vars(parse_args(["--out", result["args"]["out"]])), **result["args"]})


def network(ck: dict) -> tuple[DLDLNet | EnsembleNet, dict]:
    """The network saved in a checkpoint dict and its Methods (an ensemble's: its first member's).
    An ensemble's checkpoint (training/dldl/ensemble.py) names its members' stage checkpoints,
    which hold the weights."""
    from .train import build

    if "members" in ck:
        loaded = [network(torch.load(REPO / member["checkpoint"], map_location="cpu")) for member in ck["members"]]
        return EnsembleNet([net for net, _ in loaded]).eval(), loaded[0][1]
    net, methods, _ = build(run_args({"args": ck["args"]}))
    net.load_state_dict(ck["model"])
    return net.eval(), methods


def load_checkpoint(path: Path | str) -> tuple[DLDLNet | EnsembleNet, dict]:
    """A committed stage checkpoint (training/checkpoints/<run>.pt) as a network and its Methods.
    "a.pt+b.pt" is the members' ensemble (EnsembleNet), as training/dldl/ensemble.py saves one."""
    parts = str(path).split("+")
    if len(parts) == 1:
        return network(torch.load(path, map_location="cpu"))
    from .ensemble import combine

    return network(combine(parts))


def load_run(run: Path) -> tuple[DLDLNet, dict, dict, L.LabelSpace]:
    """The run's best network, its result, its Method per panel (None: the served head), its label space."""
    from .train import build

    result = json.loads((run / "result.json").read_text())
    _, _, space = build(run_args(result))
    net, methods = network(torch.load(run / "best.pt", map_location="cpu"))
    return net, result, methods, space


# Large weight tensors are stored as float16 (half the bytes: the edge bundle has a hard size
# limit) and cast to float32 inside the graph, so every runtime still computes in float32.
FP16_MIN_ELEMENTS = 1024


def fold_and_round(net: DLDLNet) -> DLDLNet:
    """The network exactly as served: BatchNorm folded into the convs, big tensors rounded to
    float16. PyTorch vectors and card metrics are computed on this, so they match the ONNX file."""
    if isinstance(net, EnsembleNet):
        return EnsembleNet([fold_and_round(member) for member in net.members]).eval()
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


def export_onnx(net: DLDLNet, methods: dict, size: int, path: Path) -> None:
    graph = ServingGraph(net, methods).eval()
    dummy = torch.zeros(2, size, size, 3, dtype=torch.uint8)
    outputs = ["probs", "value", "scoremap"] + [f"{kind}_{p}" for p in graph.panels for kind in ("probs", "value")]
    torch.onnx.export(graph, (dummy,), str(path), input_names=["image"], output_names=outputs,
                      dynamic_axes={name: {0: "N"} for name in ["image", *outputs]},
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
    """The chain of runs behind this one, oldest first: each --init names its parent (a run's
    checkpoint, a committed checkpoint that carries its stages, or a served ONNX model whose card
    was saved beside the run as init.json), so every stage's budget and command show."""
    args = result["args"]
    if result.get("members"):  # an ensemble: each member's chain, then the averaging
        return [stage for member in result["members"] for stage in member["stages"]] + \
               [{"run": args["out"], "ensemble": [m["checkpoint"] for m in result["members"]], "command": result["command"]}]
    init = args.get("init")
    earlier: list[dict] = []
    if init and init.endswith(".onnx"):
        saved = REPO / args["out"] / "init.json"
        if saved.exists():
            parent = json.loads(saved.read_text())
            earlier = parent["training"].get("stages", []) + [{"served_model": parent["name"], "version": parent["version"],
                                                               "note": "warm start from the served ONNX (onnx_init.py)"}]
    elif init:
        parent = REPO / Path(init).parent / "result.json"
        if parent.exists():
            earlier = training_stages(json.loads(parent.read_text()))
        elif (REPO / init).exists():
            earlier = torch.load(REPO / init, map_location="cpu").get("stages", [])
    return earlier + [{"run": args["out"], "dataset": "+".join([args["dataset"], *args.get("extra", [])]), "epochs": args["epochs"],
                       "lr": args["lr"], "schedule": args.get("schedule", "step"), "lr_step": args["lr_step"],
                       "seconds": result["seconds"], "command": result["command"]}]


def sigma_note(args: dict) -> str | float:
    if TASK_OF[args["dataset"]] == "age":
        return args["sigma"]
    scale = args.get("sigma_scale", 1.0)
    note = f"MEBeauty: per-image rater std x {scale}"
    if "scut" in args.get("extra", []):
        note += f"; SCUT-FBP5500: constant {args['scut_sigma']} x {scale} (no per-image rater spread)"
    return note + ("; centres moved so each truncated distribution's mean is the label" if args.get("match_mean") else "")


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
        "architecture": {"family": "DLDL-v2 thin VGG16 (13 conv, BN, hybrid pooling)", "width": WIDTHS[args["arch"]],
                         **({"ensemble": [{"checkpoint": m["checkpoint"], "width": WIDTHS[m["arch"]]} for m in result["members"]],
                             "rule": "the members' label distributions averaged, then the expectation"} if result.get("members") else {})},
        "labels": space.as_dict(),
        "input": {"name": "image", "layout": "NHWC", "dtype": "uint8", "size": size, "channels": 3,
                  "normalization": "inside the graph: (x - mean) / std with mean/std as stored in the weights"},
        "outputs": {"probs": {"name": "probs", "shape": ["N", space.k]},
                    "value": {"name": "value", "shape": ["N"]},
                    "scoremap": {"name": "scoremap", "shape": ["N", *scoremap_hw]}},
        "calibration": {"temperature": result["temperature"], "interval": 0.9, "fitted_on": f"{dataset}:val",
                        "how": "probs' = softmax(log(probs) / temperature); the 90% interval is its 5%..95% quantiles"},
        "alignment": alignment(dataset, size),
        "metrics": result.get("sets") or {f"{dataset}:test": result["test"], f"{dataset}:val": result["val"]},
        "evaluation": {"flip_averaged": not args.get("no_flip_eval", False), "weights": "BatchNorm folded, tensors >= "
                       f"{FP16_MIN_ELEMENTS} elements stored as float16 (computed in float32)",
                       "command": f"python3 -m training.dldl.export --run {args['out']} --name {name}"},
        "training": {"method": args["method"], "lambda": args["lam"], "sigma": sigma_note(args),
                     "epochs": args["epochs"], "size": size, "batch": args["batch"], "seconds": result["seconds"],
                     "schedule": {k: args.get(k) for k in ("schedule", "lr", "lr_step", "warmup", "wd", "epoch_size", "ema")},
                     "augmentation": {"geometric_and_colour": True, "photo_variation_share": args.get("robust", 0.0)},
                     "mix": {"balance_power": args.get("balance"), **result.get("mix", {})},
                     "distillation": distillation(args),
                     "hardware": result["hardware"], "seed": args["seed"], "init": args.get("init"),
                     "command": result["command"], "stages": training_stages(result),
                     # An ensemble trains nothing itself: the fields above are its first member's.
                     **({"describes": f"the first member's training ({result['members'][0]['checkpoint']}); "
                                      "`stages` lists every member's"} if result.get("members") else {})},
        "data": [DATA[dataset]] + [DATA[extra] for extra in args.get("extra", [])]
                + ([DATA["utkface"] | {"use": "backbone initialisation"}] if args.get("init") and dataset != "utkface" else []),
        "licence": LICENCE,
    }


def distillation(args: dict) -> dict | None:
    """The soft labels a run learnt from, and (where this machine still has them) their teachers."""
    if not args.get("teacher"):
        return None
    soft = Path(args["teacher"])
    teachers = torch.load(soft, map_location="cpu")["teachers"] if soft.exists() else None
    return {"teacher": args["teacher"], "weight": args.get("distill"), **({"teachers": teachers} if teachers else {})}


def set_panels(result: dict) -> dict[str, str | None]:
    from .train import panel_of

    args = run_args(result)
    return {name: panel_of(args, name) for name in [args.dataset, *args.extra]}


def served_metrics(net: DLDLNet, methods: dict, result: dict) -> dict:
    """Re-fit the interval temperatures and re-measure every set's val/test on the network as served."""
    args = result["args"]
    temperatures, sets = evaluate_sets(net, methods, set_panels(result), TASK_OF[args["dataset"]], args["size"], args.get("limit"),
                                       not args.get("no_flip_eval", False))
    return dict(result, temperature=temperatures[None], temperatures={p: t for p, t in temperatures.items() if p},
                sets=sets, val=sets[f"{args['dataset']}:val"], test=sets[f"{args['dataset']}:test"])


# What each tier runs with a model (the router reads `serving.tiers` from the card): the edge
# models answer `fast` (and `standard`'s fallback) in one pass; the runner models answer
# `standard` in one pass and `accurate` as the mirrored crop plus the zooms (crops scaled about
# the centre) chosen for that model on validation (tier_choice.py), each view mirrored too.
TIERS = {"edge": {"fast": {"flip": False}}, "runner": {"standard": STANDARD}}
SERVED_BY = {"tiny": "edge", "thin": "runner"}


def p_minor(probs: torch.Tensor, method: Method, temperature: float) -> np.ndarray:
    """Calibrated P(age < 18) per face, as the API computes it (probabilityBelow)."""
    p = L.temperature_probs(probs.double(), temperature) if temperature != 1.0 else probs.double()
    return p[:, method.labels < MINOR_AGE].sum(1).numpy()


def tier_configs(net: DLDLNet, methods: dict, result: dict) -> tuple[dict, dict | None]:
    """Each tier's views for this model, and (runner models) the record of accurate's choice."""
    args = result["args"]
    configs = dict(TIERS[SERVED_BY[args["arch"]]])
    if SERVED_BY[args["arch"]] != "runner":
        return configs, None
    configs["accurate"], record = choose_for(net, methods, set_panels(result), TASK_OF[args["dataset"]], args["size"], args.get("limit"))
    return configs, record


def minor_policy(net: DLDLNet, method: Method, result: dict, configs: dict) -> dict:
    """The beauty cut-off the API applies with this age model: the largest P(age < 18) threshold
    that scores at most 3% of the validation minors, under every tier configuration it serves."""
    args = result["args"]
    panels = set_panels(result)
    vals = [load(name, "val", args["size"], args.get("limit")) for name, p in panels.items() if p is None]
    images, y = torch.cat([v.images for v in vals]), torch.cat([v.y for v in vals])
    risks = []
    for config in configs.values():
        _, probs = predict(net, method, images, flip=config["flip"], zoom=tuple(config.get("zoom", ())))
        risks.append(choose_minor_risk(p_minor(probs, method, result["temperature"]), y.numpy()))
    return {"risk": min(risks), "max_minors_scored": MAX_MINORS_SCORED,
            "chosen_on": "+".join(f"{n}:val" for n, p in panels.items() if p is None),
            "rule": "withhold beauty when the calibrated P(age < 18) is above `risk`"}


def tier_metrics(net: DLDLNet, method: Method, split, task: str, config: dict, panel: str | None,
                 temperature: float = 1.0, minor_risk: float | None = None) -> dict:
    pred, probs = predict(net, method, split.images, flip=config["flip"], panel=panel, zoom=tuple(config.get("zoom", ())))
    err = pred.double() - split.y.double()
    out = {"n": int(len(err)), "mae": float(err.abs().mean()), "mean_error": float(err.mean())}
    if probs is not None:
        # The interval this tier answers with: one pass is sharper than the averaged views the
        # temperature was fitted on, so each tier's coverage is measured, not assumed.
        out["coverage90"] = coverage(probs, method.labels, split.y, temperature)
    if task == "age":
        out["bands"] = summary(pred.numpy(), split.y.numpy(), task="age")["bands"]
        if minor_risk is not None:
            out["minor_guard"] = minor_guard(p_minor(probs, method, temperature), split.y.numpy(), (minor_risk,))[str(minor_risk)]
    else:
        out["pc"] = float(np.corrcoef(pred.numpy(), split.y.numpy())[0, 1])
    return out


def tiers(net: DLDLNet, methods: dict, result: dict, configs: dict, minor_risk: float | None = None) -> dict:
    """Per tier this model serves: its configuration and its metrics on every test set (with the
    minors guard at `minor_risk` for an age model)."""
    args = result["args"]
    panels = set_panels(result)
    tests = {name: load(name, "test", args["size"], args.get("limit")) for name in panels}
    task = TASK_OF[args["dataset"]]
    temperature = lambda p: result["temperature"] if p is None else result["temperatures"][p]
    return {tier: {"config": config,
                   "metrics": {f"{name}:test": tier_metrics(net, methods[panels[name]], split, task, config, panels[name],
                                                            temperature(panels[name]), minor_risk)
                               for name, split in tests.items()}}
            for tier, config in configs.items()}


def robustness_report(net: DLDLNet, methods: dict, result: dict) -> dict:
    args = result["args"]
    out = {}
    for name, panel in set_panels(result).items():
        split = load(name, "test", args["size"], args.get("limit"))
        out[f"{name}:test"] = suite(net, methods[panel], split.images, split.y, panel=panel)
    return out


def save_checkpoint(run: Path, result: dict, folder: Path = CHECKPOINTS) -> Path:
    """The float32 weights of a finished stage, committed so that a fresh machine can continue
    from it (`--init training/checkpoints/<run>.pt`)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{run.name}.pt"
    state = torch.load(run / "best.pt", map_location="cpu")
    saved = {"args": state["args"], "stages": training_stages(result), "mix": result.get("mix", {})}
    if "members" in state:  # an ensemble: its members' own checkpoints hold the weights
        saved["members"] = state["members"]
    else:
        saved["model"] = {k: v.float() if v.is_floating_point() else v for k, v in state["model"].items()}
    torch.save(saved, path)
    return path


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--models", default=str(REPO / "models"))
    p.add_argument("--checkpoints", default=str(CHECKPOINTS), help="where the stage's float32 checkpoint goes")
    p.add_argument("--no-robustness", action="store_true", help="skip the robustness suite")
    a = p.parse_args(argv)
    torch.set_num_threads(os.cpu_count() or 1)  # this torch build defaults to one thread
    trained, result, methods, space = load_run(Path(a.run))
    method = methods[None]
    net = fold_and_round(trained)
    result = served_metrics(net, methods, result)
    checkpoint = save_checkpoint(Path(a.run), result, Path(a.checkpoints))
    models = Path(a.models)
    models.mkdir(parents=True, exist_ok=True)
    onnx_path = models / f"{a.name}.onnx"
    export_onnx(net, methods, result["args"]["size"], onnx_path)
    size = result["args"]["size"]
    with torch.no_grad():  # the score map's cells (an ensemble's members' maps share them)
        maps = net.feature_maps(torch.zeros(1, 3, size, size))
        hw = list(net.score_map(maps, torch.softmax(net.head(maps), 1)).shape[1:])
    doc = card(a.name, onnx_path, net, result, space, hw)
    configs, choice = tier_configs(net, methods, result)
    policy = minor_policy(net, method, result, configs) if TASK_OF[result["args"]["dataset"]] == "age" else None
    tiered = tiers(net, methods, result, configs, policy["risk"] if policy else None)
    if policy:
        doc["minor_guard"] = policy
    doc["serving"] = {"tiers": {t: v["config"] for t, v in tiered.items()}, **({"accurate_choice": choice} if choice else {})}
    doc["tiers"] = tiered
    doc["training"]["checkpoint"] = str(checkpoint.resolve().relative_to(REPO)) if checkpoint.resolve().is_relative_to(REPO) else str(checkpoint)
    if not a.no_robustness:
        doc["robustness"] = robustness_report(net, methods, result)
    panels = set_panels(result)
    doc["panel"] = {"dataset": result["args"]["dataset"], "scale": [space.min, space.max]}
    if len(methods) > 1:
        doc["panels"] = {p: {"dataset": p, "labels": L.LabelSpace(*(float(m.labels[i]) for i in (0, -1)), float(m.labels[1] - m.labels[0])).as_dict(),
                             "outputs": {"probs": {"name": f"probs_{p}", "shape": ["N", m.outputs]}, "value": {"name": f"value_{p}", "shape": ["N"]}},
                             "calibration": {"temperature": result["temperatures"][p], "interval": 0.9,
                                             "fitted_on": "+".join(f"{n}:val" for n, q in panels.items() if q == p)}}
                         for p, m in methods.items() if p is not None}
    (models / f"{a.name}.json").write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {onnx_path} and {a.name}.json")


if __name__ == "__main__":
    main()
