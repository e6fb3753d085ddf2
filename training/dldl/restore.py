"""Rebuild a finished run's folder from its committed checkpoint and the card it was exported to,
so that a fresh machine (runs/ is not committed) can re-export it, e.g. after the card gains a field:

    python3 -m training.dldl.restore --checkpoint training/checkpoints/thin-age-3.pt --card models/ThinAgeNet.json
    python3 -m training.dldl.export --run runs/thin-age-3 --name ThinAgeNet

Writes <run>/best.pt (the weights), <run>/result.json (what export reads of the training run: its
arguments, time, command, data mix, hardware) and, for a run warm-started from a served ONNX,
<run>/init.json (the parent's stages, as train.py saved them).
"""
import argparse
import json
from pathlib import Path

import torch

from .data import REPO
from .ensemble import described


def restore(checkpoint: Path, card: dict) -> Path:
    ck = torch.load(checkpoint, map_location="cpu")
    args, training = ck["args"], card["training"]
    run = REPO / args["out"]
    run.mkdir(parents=True, exist_ok=True)
    members = {"members": ck["members"]} if "members" in ck else {}  # an ensemble (training/dldl/ensemble.py)
    torch.save({"args": args, **members, **({} if members else {"model": ck["model"]})}, run / "best.pt")
    mix = {k: v for k, v in (training.get("mix") or {}).items() if k != "balance_power"}
    result = {"args": args, "seconds": training["seconds"], "command": training["command"], "hardware": training["hardware"],
              "mix": mix, "restored_from": str(checkpoint), **({"members": described(ck["members"])} if members else {})}
    (run / "result.json").write_text(json.dumps(result, indent=1))
    stages = ck.get("stages", [])
    served = [i for i, s in enumerate(stages) if "served_model" in s]
    if (args.get("init") or "").endswith(".onnx") and served:
        parent = stages[served[-1]]
        init = {"name": parent["served_model"], "version": parent["version"], "training": {"stages": stages[:served[-1]]}}
        (run / "init.json").write_text(json.dumps(init, indent=1))
    return run


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", required=True, help="training/checkpoints/<run>.pt")
    p.add_argument("--card", required=True, help="the model card it was exported to (models/<name>.json)")
    a = p.parse_args(argv)
    print(f"restored {restore(Path(a.checkpoint), json.loads(Path(a.card).read_text()))}")


if __name__ == "__main__":
    main()
