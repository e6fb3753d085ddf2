"""Trained stages that answer as one model: their label distributions averaged (model.EnsembleNet),
saved as a run that `export.py` exports like any other, to one ONNX file and one card.

    python3 -m training.dldl.ensemble --out runs/thin-att-ens \\
        training/checkpoints/thin-att-3.pt training/checkpoints/tiny-att-4-s0.75.pt
    python3 -m training.dldl.export --run runs/thin-att-ens --name ThinAttNet

The first member decides how the ensemble is served (its run's data sets, input size and tier: a
ThinAgeNet/ThinAttNet first means the runner) and the members must share data sets, input size
and label vectors. Nothing is trained: the run's best.pt names the members' stage checkpoints
(committed under training/checkpoints/, which keep the weights) with their arguments, its
result.json their training stages, so the card lists every stage behind it.
Choose an ensemble on validation first: `python3 -m training.dldl.validate a.pt+b.pt`.
"""
import argparse
import json
import platform
from pathlib import Path

import torch

from .data import REPO
from .export import run_args


def combine(paths: list[str]) -> dict:
    """One checkpoint dict from stage checkpoints: {"args": the first member's, "members":
    [{"checkpoint", "args", "stages", "mix"}]} (the weights stay in the members' files); refused when the
    members cannot be averaged."""
    from .train import build

    members, first = [], None
    for given in paths:
        resolved = Path(given).resolve()  # named relative to the repository, as cards name checkpoints
        path = str(resolved.relative_to(REPO)) if resolved.is_relative_to(REPO) else str(resolved)
        ck = torch.load(resolved, map_location="cpu")
        if "members" in ck:
            raise SystemExit(f"{path} is an ensemble already: name its members instead")
        args = run_args({"args": ck["args"]})
        _, methods, _ = build(args)
        shape = ([args.dataset, *args.extra], args.size, {p: m.labels.tolist() for p, m in methods.items()})
        first = first or shape
        if shape != first:
            raise SystemExit(f"{path}: an ensemble's members must share their data sets, input size and label vectors")
        if not all(m.has_distribution for m in methods.values()):
            raise SystemExit(f"{path}: only networks that predict distributions can be averaged")
        members.append({"checkpoint": path, "args": ck["args"], "stages": ck.get("stages", []), "mix": ck.get("mix")})
    return {"args": members[0]["args"], "members": members}


def training_mix(member: dict) -> dict:
    """The data mix the first member trained on (the card's `training.mix`), which the ensemble
    serves on: from its checkpoint (export.save_checkpoint records it), else from the card exported
    from that checkpoint or from an ensemble led by it, else from its run's result.json; {} when
    none is at hand."""
    if member.get("mix"):
        return member["mix"]
    for path in sorted((REPO / "models").glob("*.json")):
        card = json.loads(path.read_text())
        training = card.get("training", {})
        first = (card.get("architecture", {}).get("ensemble") or [{}])[0].get("checkpoint")  # an ensemble serves on its first member's mix
        if member["checkpoint"] in (training.get("checkpoint"), first) and training.get("mix"):
            return {k: v for k, v in training["mix"].items() if k != "balance_power"}
    run = REPO / member["args"]["out"] / "result.json"
    return json.loads(run.read_text()).get("mix", {}) if run.exists() else {}


def described(members: list[dict]) -> list[dict]:
    """The members as a run's result.json and the card name them (their arguments stay in best.pt)."""
    return [{"checkpoint": m["checkpoint"], "arch": m["args"]["arch"], "stages": m["stages"]} for m in members]


def save_run(paths: list[str], out: Path) -> Path:
    ck = combine(paths)
    relative = str(out.resolve().relative_to(REPO)) if out.resolve().is_relative_to(REPO) else str(out)
    ck["args"] = dict(ck["args"], out=relative)
    out.mkdir(parents=True, exist_ok=True)
    torch.save(ck, out / "best.pt")
    result = {"args": ck["args"], "seconds": 0.0, "history": [], "members": described(ck["members"]),
              "hardware": f"{platform.machine()} CPU", "mix": training_mix(ck["members"][0]),
              "command": f"python3 -m training.dldl.ensemble --out {relative} {' '.join(paths)}"}
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
