"""Train one model. Example (the CPU default, TinyAgeNet at 64 px on UTKFace):

    python3 -m training.dldl.train --dataset utkface --arch tiny --method dldl-v2 --epochs 20 --out runs/tiny-age

Checkpoints every epoch to <out>/last.pt (resumable with --resume) and keeps <out>/best.pt by
validation MAE; writes <out>/result.json with test metrics (flip-averaged) and the fitted
interval temperature.
"""
import argparse
import json
import os
import platform
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch

from . import labels as L
from .augment import augment, to_nchw
from .data import EXTRA, TASK_OF, concat, load
from .evaluate import coverage, evaluate_split, fit_temperature, predict
from .losses import METHODS, Method
from .model import WIDTHS, DLDLNet, param_count


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", choices=["utkface", "mebeauty"], default="utkface")
    p.add_argument("--arch", choices=list(WIDTHS), default="tiny")
    p.add_argument("--method", choices=METHODS, default="dldl-v2")
    p.add_argument("--lam", type=float, default=1.0, help="λ weighting the expectation L1 term")
    p.add_argument("--delta", type=float, default=None, help="label step Δl (default 1 year / 0.1 point)")
    p.add_argument("--sigma", type=float, default=L.AGE_SIGMA, help="σ where the data has no per-image std")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--lr-step", type=int, default=None, help="epochs between lr x0.1 (default: epochs*2//3)")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--device", default="cpu")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = all cores)")
    p.add_argument("--limit", type=int, default=None, help="use only the first N images per split (tests)")
    p.add_argument("--init", default=None, help="checkpoint that initialises this one: the backbone (transfer) or, where K matches, all of it (warm restart)")
    p.add_argument("--extra", choices=["aaf"], action="append", default=[],
                   help="more training data in the same task and framing (aaf: aligned by `npm run prepare-data -- --set aaf`)")
    p.add_argument("--no-flip-eval", action="store_true")
    p.add_argument("--resume", action="store_true")
    p.add_argument("--out", required=True)
    return p.parse_args(argv)


def label_space(dataset: str, delta: float | None) -> L.LabelSpace:
    base = L.AGE if TASK_OF[dataset] == "age" else L.ATTRACTIVENESS
    return base if delta is None else L.LabelSpace(base.min, base.max, delta)


def build(args) -> tuple[DLDLNet, Method, L.LabelSpace]:
    space = label_space(args.dataset, args.delta)
    method = Method(args.method, space.vector().float(), args.lam)
    return DLDLNet(WIDTHS[args.arch], method.outputs), method, space


def init_from(net: DLDLNet, state: dict) -> list[str]:
    """Loads every tensor whose name and shape match and returns their names: the whole net when
    continuing the same task (a warm restart), the backbone alone when the head's K differs
    (age -> attractiveness transfer)."""
    own = net.state_dict()
    kept = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    net.load_state_dict(kept, strict=False)
    return sorted(kept)


def seed_everything(seed: int) -> torch.Generator:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    else:
        torch.set_num_threads(os.cpu_count() or 1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    gen = seed_everything(args.seed)
    net, method, space = build(args)
    device = torch.device(args.device)
    task = TASK_OF[args.dataset]
    train, val = load(args.dataset, "train", args.size, args.limit), load(args.dataset, "val", args.size, args.limit)
    for extra in args.extra:
        if TASK_OF[args.dataset] != "age":
            raise SystemExit(f"--extra {extra} holds age labels; --dataset {args.dataset} is not an age set")
        train = concat(train, EXTRA[extra](args.size, args.limit))
    if args.init:
        init_from(net, torch.load(args.init, map_location="cpu")["model"])
    net.to(device)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr, betas=(0.9, 0.999), eps=1e-8)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=args.lr_step or max(1, args.epochs * 2 // 3), gamma=0.1)
    start_epoch, best, history, seconds = 0, float("inf"), [], 0.0
    if args.resume and (out / "last.pt").exists():
        ck = torch.load(out / "last.pt", map_location="cpu")
        net.load_state_dict(ck["model"]); opt.load_state_dict(ck["opt"]); sched.load_state_dict(ck["sched"])
        gen.set_state(ck["gen"]); start_epoch, best, history, seconds = ck["epoch"], ck["best"], ck["history"], ck["seconds"]
    sigma_const = torch.full((len(train.y),), args.sigma)
    sigma_all = train.sigma if train.sigma is not None else sigma_const
    y_train = train.y.clamp(space.min, space.max)
    for epoch in range(start_epoch, args.epochs):
        net.train()
        t0 = time.time()
        order = torch.randperm(len(y_train), generator=gen)
        total, count = 0.0, 0
        for i in range(0, len(order) - args.batch + 1 if len(order) >= args.batch else 1, args.batch):
            idx = order[i:i + args.batch]
            x = augment(to_nchw(train.images[idx]), gen).to(device)
            loss = method.loss(net(x), y_train[idx].to(device), sigma_all[idx].to(device))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss) * len(idx); count += len(idx)
        sched.step()
        seconds += time.time() - t0
        net.cpu()
        val_pred, _ = predict(net, method, val.images, flip=False)
        val_mae = float((val_pred - val.y).abs().mean())
        net.to(device)
        history.append({"epoch": epoch + 1, "loss": total / max(count, 1), "val_mae": val_mae, "seconds": round(seconds, 1)})
        print(json.dumps(history[-1]), flush=True)
        state = {"model": net.state_dict(), "args": vars(args)}
        if val_mae < best:
            best = val_mae
            torch.save(state, out / "best.pt")
        torch.save({**state, "opt": opt.state_dict(), "sched": sched.state_dict(), "gen": gen.get_state(),
                    "epoch": epoch + 1, "best": best, "history": history, "seconds": seconds}, out / "last.pt")
    result = finish(args, out, method, space, task, val, history, seconds)
    print(json.dumps({k: result[k] for k in ("val", "test")}, indent=1), flush=True)
    return result


def finish(args, out: Path, method: Method, space: L.LabelSpace, task: str, val, history, seconds) -> dict:
    net = DLDLNet(WIDTHS[args.arch], method.outputs)
    net.load_state_dict(torch.load(out / "best.pt", map_location="cpu")["model"])
    flip = not args.no_flip_eval
    temperature = 1.0
    if method.has_distribution:
        _, val_probs = predict(net, method, val.images, flip=flip)
        temperature = fit_temperature(val_probs, method.labels, val.y)
    test = load(args.dataset, "test", args.size, args.limit)
    result = {
        "args": vars(args),
        "command": "python3 -m training.dldl.train " + " ".join(sys.argv[1:]),
        "labels": space.as_dict(),
        "params": param_count(net),
        "seconds": round(seconds, 1),
        "hardware": f"{platform.machine()} CPU x{torch.get_num_threads()} threads" if args.device == "cpu" else args.device,
        "history": history,
        "temperature": temperature,
        "val": evaluate_split(net, method, val, task, temperature, flip),
        "test": evaluate_split(net, method, test, task, temperature, flip),
    }
    if method.has_distribution:
        _, test_probs = predict(net, method, test.images, flip=flip)
        result["test"]["coverage90_uncalibrated"] = coverage(test_probs, method.labels, test.y, 1.0)
    (out / "result.json").write_text(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
