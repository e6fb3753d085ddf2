"""Trained stages that answer as one model: their label distributions averaged (model.EnsembleNet),
saved as a run that `export.py` exports like any other, to one ONNX file and one card.

    python3 -m training.dldl.ensemble --out runs/thin-att-ens \\
        training/checkpoints/thin-att-3.pt training/checkpoints/tiny-att-4-s0.75.pt
    python3 -m training.dldl.export --run runs/thin-att-ens --name ThinAttNet

The first member decides how the ensemble is served (its run's data sets, input size and tier: a
ThinAgeNet/ThinAttNet first means the runner) and the members must share data sets, input size
and label vectors. Nothing is trained: the run's best.pt holds the members' weights and run
arguments, its result.json their training stages, so the card lists every stage behind it.
Choose an ensemble on validation first: `python3 -m training.dldl.validate a.pt+b.pt`.
"""
import argparse
import json
import platform
from pathlib import Path

import torch

from .data import REPO
from .export import run_args
from .model import EnsembleNet


def combine(paths: list[str]) -> dict:
    """One checkpoint dict from stage checkpoints: {"model": the EnsembleNet's weights, "args":
    the first member's, "members": [{"checkpoint", "args", "stages"}]}; refused when the members
    cannot be averaged."""
    from .train import build

    loaded = [(path, torch.load(path, map_location="cpu")) for path in paths]
    nets, first = [], None
    for path, ck in loaded:
        args = run_args({"args": ck["args"]})
        net, methods, _ = build(args)
        net.load_state_dict(ck["model"])
        nets.append(net)
        shape = ([args.dataset, *args.extra], args.size, {p: m.labels.tolist() for p, m in methods.items()})
        first = first or shape
        if shape != first:
            raise SystemExit(f"{path}: an ensemble's members must share their data sets, input size and label vectors")
        if not all(m.has_distribution for m in methods.values()):
            raise SystemExit(f"{path}: only networks that predict distributions can be averaged")
    return {"model": EnsembleNet(nets).state_dict(), "args": loaded[0][1]["args"],
            "members": [{"checkpoint": path, "args": ck["args"], "stages": ck.get("stages", [])} for path, ck in loaded]}


def described(members: list[dict]) -> list[dict]:
    """The members as a run's result.json and the card name them (their arguments stay in best.pt)."""
    return [{"checkpoint": m["checkpoint"], "arch": m["args"]["arch"], "stages": m["stages"]} for m in members]


def save_run(paths: list[str], out: Path) -> Path:
    ck = combine(paths)
    relative = str(out.resolve().relative_to(REPO)) if out.resolve().is_relative_to(REPO) else str(out)
    ck["args"] = dict(ck["args"], out=relative)
    out.mkdir(parents=True, exist_ok=True)
    torch.save(ck, out / "best.pt")
    result = {"args": ck["args"], "seconds": 0.0, "history": [],
              "hardware": f"{platform.machine()} CPU", "mix": {},
              "command": f"python3 -m training.dldl.ensemble --out {relative} {' '.join(paths)}"}
    result["members"] = described(ck["members"])
    (out / "result.json").write_text(json.dumps(result, indent=1))
    return out


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoints", nargs="+", help="stage checkpoints (training/checkpoints/<run>.pt), the served tier's model first")
    p.add_argument("--out", required=True, help="the run folder to write (runs/<name>)")
    a = p.parse_args(argv)
    if len(a.checkpoints) < 2:
        p.error("an ensemble needs at least two checkpoints")
    print(f"wrote {save_run(a.checkpoints, Path(a.out))}")


if __name__ == "__main__":
    main()
