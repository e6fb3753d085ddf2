"""Train one model. Example (the CPU default, TinyAgeNet at 64 px on UTKFace):

    python3 -m training.dldl.train --dataset utkface --arch tiny --method dldl-v2 --epochs 20 --out runs/tiny-age

Checkpoints every epoch to <out>/last.pt (resumable with --resume) and keeps <out>/best.pt by
validation MAE; writes <out>/result.json with test metrics (flip-averaged) and the fitted
interval temperature.
"""
import argparse
import json
import math
import os
import platform
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch.optim.swa_utils import AveragedModel

from . import labels as L
from .augment import augment, robust_augment, to_nchw
from .data import TASK_OF, Split, concat, load
from .evaluate import evaluate_sets, predict
from .losses import METHODS, Method
from .model import WIDTHS, DLDLNet, param_count
from .onnx_init import from_onnx
from .sampling import balanced_weights, epoch_order, mix_report


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", choices=["utkface", "mebeauty"], default="utkface")
    p.add_argument("--arch", choices=list(WIDTHS), default="tiny")
    p.add_argument("--method", choices=METHODS, default="dldl-v2")
    p.add_argument("--lam", type=float, default=1.0, help="λ weighting the expectation L1 term")
    p.add_argument("--delta", type=float, default=None, help="label step Δl (default 1 year / 0.1 point)")
    p.add_argument("--sigma", type=float, default=L.AGE_SIGMA, help="σ where the data has no per-image std (age)")
    p.add_argument("--scut-sigma", type=float, default=0.35, help="σ of SCUT-FBP5500's labels (no per-image rater spread: a constant)")
    p.add_argument("--sigma-scale", type=float, default=1.0, help="multiplies every attractiveness σ (MEBeauty's per-image rater std, SCUT's constant)")
    p.add_argument("--match-mean", action="store_true", help="label distributions whose truncated mean is the label (labels.mean_matched_distribution)")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--schedule", choices=["step", "cosine"], default="step", help="lr x0.1 every --lr-step epochs, or cosine to 0")
    p.add_argument("--lr-step", type=int, default=None, help="step schedule: epochs between lr x0.1 (default: epochs*2//3)")
    p.add_argument("--warmup", type=float, default=0.0, help="epochs of linear lr warm-up (cosine schedule)")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--wd", type=float, default=0.0, help="decoupled weight decay (AdamW); 0 = plain Adam")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--balance", type=float, default=None,
                   help="tempered balancing over groups and age bands (sampling.py): power, 0.5 = square root; default: natural mix")
    p.add_argument("--epoch-size", type=int, default=None, help="images drawn per epoch with --balance (default: the training set's size)")
    p.add_argument("--robust", type=float, default=0.0, help="share of each batch that each photo variation hits (augment.robust_augment)")
    p.add_argument("--teacher", default=None, help="distillation: soft labels from `python3 -m training.dldl.distill` (a .pt file)")
    p.add_argument("--distill", type=float, default=0.5, help="weight of the teacher's distribution in the target (with --teacher)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--bf16", action="store_true",
                   help="bfloat16 autocast for the forward pass (3-4x faster on CPUs with AVX512-BF16/AMX); losses stay float32")
    p.add_argument("--ema", type=float, default=None,
                   help="per-step decay of an exponential moving average of the weights and BatchNorm statistics "
                        "(e.g. 0.995); validation, best.pt and the export use the average, history keeps both")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = all cores)")
    p.add_argument("--limit", type=int, default=None, help="use only the first N images per split (tests)")
    p.add_argument("--init", default=None, help="checkpoint (.pt) or served model (.onnx) that initialises this one: the backbone "
                                                 "(transfer) or, where K matches, all of it (warm restart)")
    p.add_argument("--extra", choices=["aaf", "scut"], action="append", default=[],
                   help="more data in the same task and framing, its train/val/test splits beside --dataset's "
                        "(aaf, scut: aligned by `npm run prepare-data -- --set aaf|scut`); a set on another scale "
                        "(scut's 1-5) gets a head of its own, a rater panel")
    p.add_argument("--no-flip-eval", action="store_true")
    p.add_argument("--resume", action="store_true")
    p.add_argument("--out", required=True)
    return p.parse_args(argv)


def label_space(dataset: str, delta: float | None) -> L.LabelSpace:
    base = L.SPACE_OF[dataset]
    return base if delta is None else L.LabelSpace(base.min, base.max, delta)


def panel_of(args, name: str) -> str | None:
    """The head a set's labels train: `fc` (None) when it shares --dataset's scale, else its own."""
    return None if L.SPACE_OF[name] == L.SPACE_OF[args.dataset] else name


def build(args) -> tuple[DLDLNet, dict[str | None, Method], L.LabelSpace]:
    """The network and one Method per panel (None: --dataset's, served as `fc`)."""
    space = label_space(args.dataset, args.delta)
    methods = {None: Method(args.method, space.vector().float(), args.lam, args.match_mean)}
    for name in args.extra:
        if (panel := panel_of(args, name)) is not None:
            methods[panel] = Method(args.method, L.SPACE_OF[name].vector().float(), args.lam, args.match_mean)
    net = DLDLNet(WIDTHS[args.arch], methods[None].outputs, panels={p: m.outputs for p, m in methods.items() if p})
    return net, methods, space


def label_sigma(args, name: str, split: Split) -> torch.Tensor:
    """σ of each label of a set: age's constant, MEBeauty's per-image rater std, SCUT's constant;
    attractiveness σ times --sigma-scale."""
    if TASK_OF[name] == "age":
        return torch.full((len(split.y),), args.sigma)
    base = split.sigma if split.sigma is not None else torch.full((len(split.y),), args.scut_sigma)
    return base * args.sigma_scale


def init_from(net: DLDLNet, state: dict) -> list[str]:
    """Loads every tensor whose name and shape match and returns their names: the whole net when
    continuing the same task (a warm restart), the backbone alone when the head's K differs
    (age -> attractiveness transfer)."""
    own = net.state_dict()
    kept = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    net.load_state_dict(kept, strict=False)
    return sorted(kept)


def initial_state(path: str, args, outputs: int, train: Split, gen: torch.Generator) -> dict:
    """A checkpoint's weights, or a served ONNX model's rebuilt with BatchNorm statistics from
    2,048 training crops (onnx_init.py)."""
    if path.endswith(".onnx"):
        card = json.loads(Path(path).with_suffix(".json").read_text())
        sample = torch.randperm(len(train.y), generator=torch.Generator().manual_seed(args.seed))[:2048]
        return from_onnx(Path(path), card["architecture"]["width"], card["labels"]["k"], train.images[sample]).state_dict()
    return torch.load(path, map_location="cpu")["model"]


def seed_everything(seed: int) -> torch.Generator:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def splits(args) -> dict[str, dict[str, Split]]:
    """{"train"|"val"|"test": {set name: split}}: --dataset and every --extra, each split by its own rule."""
    names = [args.dataset, *args.extra]
    for extra in args.extra:
        if TASK_OF[extra] != TASK_OF[args.dataset]:
            raise SystemExit(f"--extra {extra} holds {TASK_OF[extra]} labels; --dataset {args.dataset} is not such a set")
    out = {part: {name: load(name, part, args.size, args.limit) for name in names} for part in ("train", "val")}
    for name, split in out["train"].items():  # every training label with its σ and its panel
        split.sigma = label_sigma(args, name, split)
        split.meta = [r | {"panel": panel_of(args, name)} for r in split.meta]
    return out


def pooled(parts: dict[str, Split]) -> Split:
    out = None
    for split in parts.values():
        out = split if out is None else concat(out, split)
    return out


def validation_score(net, methods, args, vals: dict[str, Split]) -> float:
    """Model selection: the pooled MAE of one panel's sets; with several panels, the mean over
    sets of MAE / the scale's width (so a 1-5 and a 1-10 scale weigh the same)."""
    errors = {}
    for name, split in vals.items():
        panel = panel_of(args, name)
        pred, _ = predict(net, methods[panel], split.images, flip=False, panel=panel)
        errors[name] = (pred - split.y).abs()
    if len(methods) == 1:
        return float(torch.cat(list(errors.values())).mean())
    return float(np.mean([float(e.mean()) / (L.SPACE_OF[n].max - L.SPACE_OF[n].min) for n, e in errors.items()]))


def moving_average(net: DLDLNet, decay: float) -> AveragedModel:
    """The network's exponential moving average, BatchNorm statistics included: it smooths the
    step-to-step noise of weights and running statistics that makes late epochs' validation MAE
    jump. The decay ramps up as (1 + n) / (10 + n) so that the first steps are not held to the start."""
    return AveragedModel(net, avg_fn=lambda avg, new, n: avg + (new - avg) * (1 - min(decay, (1 + n) / (10 + n))),
                         use_buffers=True)


def scheduler(opt, args, steps_per_epoch: int):
    if args.schedule == "step":
        step = args.lr_step or max(1, args.epochs * 2 // 3)
        return torch.optim.lr_scheduler.LambdaLR(opt, lambda i: 0.1 ** ((i // steps_per_epoch) // step))
    total, warm = args.epochs * steps_per_epoch, int(args.warmup * steps_per_epoch)
    return torch.optim.lr_scheduler.LambdaLR(
        opt, lambda i: (i + 1) / warm if i < warm else 0.5 * (1 + math.cos(math.pi * min(1.0, (i - warm) / max(1, total - warm)))))


def main(argv=None) -> dict:
    args = parse_args(argv)
    torch.set_num_threads(args.threads or os.cpu_count() or 1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    gen = seed_everything(args.seed)
    net, methods, space = build(args)
    method = methods[None]
    device = torch.device(args.device)
    task = TASK_OF[args.dataset]
    parts = splits(args)
    train = pooled(parts["train"])
    if args.init:
        init_from(net, initial_state(args.init, args, method.outputs, train, gen))
        if args.init.endswith(".onnx"):  # the card's stages, before the file is replaced by this run's export
            (out / "init.json").write_text(Path(args.init).with_suffix(".json").read_text())
    net.to(device).to(memory_format=torch.channels_last)  # oneDNN's fast layout on CPU
    weights = balanced_weights([r.get("group", "") for r in train.meta], train.y, args.balance) if args.balance is not None else None
    per_epoch = args.epoch_size or len(train.y)
    steps_per_epoch = per_epoch // args.batch if per_epoch >= args.batch else 1
    params = [{"params": [p for p in net.parameters() if p.ndim > 1], "weight_decay": args.wd},
              {"params": [p for p in net.parameters() if p.ndim <= 1], "weight_decay": 0.0}]  # no decay on BN and biases
    opt = torch.optim.AdamW(params, lr=args.lr, betas=(0.9, 0.999), eps=1e-8) if args.wd else \
        torch.optim.Adam(params, lr=args.lr, betas=(0.9, 0.999), eps=1e-8)
    sched = scheduler(opt, args, steps_per_epoch)
    teacher = load_teacher(args.teacher, train) if args.teacher else None
    ema = moving_average(net, args.ema) if args.ema else None
    served = lambda: ema.module if ema is not None else net  # what is validated, kept and exported
    start_epoch, best, history, seconds = 0, float("inf"), [], 0.0
    if args.resume and (out / "last.pt").exists():
        ck = torch.load(out / "last.pt", map_location="cpu")
        net.load_state_dict(ck.get("raw", ck["model"])); opt.load_state_dict(ck["opt"]); sched.load_state_dict(ck["sched"])
        if ema is not None:
            ema.module.load_state_dict(ck["model"]); ema.n_averaged.fill_(ck.get("ema_steps", 0))  # 0: a run that had none restarts it
        gen.set_state(ck["gen"]); start_epoch, best, history, seconds = ck["epoch"], ck["best"], ck["history"], ck["seconds"]
    panels = list(methods)
    panel_index = torch.tensor([panels.index(r["panel"]) for r in train.meta])
    y_train = torch.stack([train.y[i].clamp(methods[panels[j]].labels[0], methods[panels[j]].labels[-1])
                           for i, j in enumerate(panel_index.tolist())]) if len(panels) > 1 else train.y.clamp(space.min, space.max)
    for epoch in range(start_epoch, args.epochs):
        net.train()
        t0 = time.time()
        order = epoch_order(len(y_train), gen, weights, per_epoch)
        total, count = 0.0, 0
        for step in range(steps_per_epoch):
            idx = order[step * args.batch:(step + 1) * args.batch]
            x = augment(to_nchw(train.images[idx]), gen)
            if args.robust:
                x = robust_augment(x, gen, args.robust)
            x = x.to(device).contiguous(memory_format=torch.channels_last)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=args.bf16):
                maps = net.feature_maps(x)
            loss = torch.zeros(())
            for j, panel in enumerate(panels):
                sel = (panel_index[idx] == j).nonzero().squeeze(1)
                if len(sel) == 0:
                    continue
                m, rows = methods[panel], idx[sel]
                target = None
                if teacher is not None:
                    target = (1 - args.distill) * m.target(y_train[rows], train.sigma[rows]) + args.distill * teacher[panel][rows]
                with torch.autocast(device.type, dtype=torch.bfloat16, enabled=args.bf16):
                    logits = net.head(maps[sel], panel)
                part = m.loss(logits.float(), y_train[rows].to(device), train.sigma[rows].to(device), target)
                loss = loss + part * len(sel) / len(idx)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            if ema is not None:
                ema.update_parameters(net)
            total += float(loss) * len(idx); count += len(idx)
        seconds += time.time() - t0
        net.cpu()
        val_mae = validation_score(served(), methods, args, parts["val"])
        raw = {"val_mae_raw": validation_score(net, methods, args, parts["val"])} if ema is not None else {}
        net.to(device)
        history.append({"epoch": epoch + 1, "loss": total / max(count, 1), "val_mae": val_mae, **raw, "lr": opt.param_groups[0]["lr"],
                        "seconds": round(seconds, 1)})
        print(json.dumps(history[-1]), flush=True)
        state = {"model": served().state_dict(), "args": vars(args)}
        if val_mae < best:
            best = val_mae
            torch.save(state, out / "best.pt")
        resume = {"raw": net.state_dict(), "ema_steps": int(ema.n_averaged)} if ema is not None else {}
        torch.save({**state, **resume, "opt": opt.state_dict(), "sched": sched.state_dict(), "gen": gen.get_state(),
                    "epoch": epoch + 1, "best": best, "history": history, "seconds": seconds}, out / "last.pt")
    mix = mix_report([r.get("group", "") for r in train.meta], train.y,
                     weights if weights is not None else torch.full((len(train.y),), 1 / len(train.y)))
    result = finish(args, out, methods, space, task, parts, history, seconds, mix)
    print(json.dumps({k: result[k] for k in ("val", "test")}, indent=1), flush=True)
    return result


def load_teacher(path: str, train: Split) -> dict:
    """The teacher's distributions per head, {panel: [N, K_panel]} (None: the served head), in the
    order of this run's training split (checked); a one-head file holds the [N, K] tensor alone."""
    soft = torch.load(path, map_location="cpu")
    if soft["files"] != [r.get("file") for r in train.meta]:
        raise SystemExit(f"{path} was made for other training images: rerun training.dldl.distill with this run's data options")
    probs = soft["probs"]
    return {k: v.float() for k, v in (probs if isinstance(probs, dict) else {None: probs}).items()}


def finish(args, out: Path, methods: dict, space: L.LabelSpace, task: str, parts: dict, history, seconds, mix) -> dict:
    """Test metrics of the best checkpoint, flip-averaged, with each panel's interval temperature
    fitted on its pooled validation splits; each set's val and test reported on its own."""
    net, _, _ = build(args)
    net.load_state_dict(torch.load(out / "best.pt", map_location="cpu")["model"])
    temperatures, sets = evaluate_sets(net, methods, {name: panel_of(args, name) for name in parts["val"]}, task, args.size,
                                       args.limit, not args.no_flip_eval, parts["val"])
    temperature = temperatures[None]
    result = {
        "args": vars(args),
        "command": "python3 -m training.dldl.train " + " ".join(sys.argv[1:]),
        "labels": space.as_dict(),
        "params": param_count(net),
        "seconds": round(seconds, 1),
        "hardware": f"{platform.machine()} CPU x{torch.get_num_threads()} threads" if args.device == "cpu" else args.device,
        "history": history,
        "temperature": temperature,
        "temperatures": {p: t for p, t in temperatures.items() if p is not None},
        "mix": mix,
        "val": sets[f"{args.dataset}:val"],
        "test": sets[f"{args.dataset}:test"],
        "sets": sets,
    }
    (out / "result.json").write_text(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
