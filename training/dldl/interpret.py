"""The paper's Section 5 on a balanced test sample: score maps (5.1) and occlusion sensitivity
(5.2) of a served model, for age (UTKFace test, age band × group) and, where a model has a
SCUT-FBP5500 head, attractiveness (SCUT-FBP5500 test, its four groups).

    python3 -m training.dldl.interpret                      # every study whose model and data exist
    python3 -m training.dldl.interpret --study age --per-cell 12 --seed 0

Writes training/results/interpret-<study>.json and models/{occlusion,scoremaps}[-<study>].png;
`python3 -m training.dldl.report` states them.

Occlusion as in the paper: the input is cut into a 7×7 grid and each cell in turn is filled with
the mean colour of the model's training images (the paper's 32×32 squares on a 224 px input, 49
positions), then each of 7 horizontal stripes (its 32×224 stripes, 7 positions), plus 7 vertical
stripes (not in the paper: whether the left and right halves weigh alike). At this project's 64 px
input a cell is 9-10 px (32 × 64/224 = 9.1). The measure is the relative change of the sample's
MAE, (MAE_occluded − MAE) / MAE, per position, without flip averaging (a mirrored view would move
the occluder).
"""
import argparse
import json
import shlex
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from .augment import to_nchw
from .balanced_sample import balanced_sample, sample_counts
from .data import REPO, load
from .evaluate import predict
from .onnx_init import served_network
from .sampling import age_band

RESULTS = REPO / "training" / "results"
MODELS = REPO / "models"
GRID = 7  # the paper's 224 / 32
# BlazeFace's keypoints in the order the alignment templates list them.
KEYPOINTS = ["eye", "eye", "nose", "mouth", "ear", "ear"]

STUDIES = {
    "age": {"title": "age", "set": "utkface", "split": "test", "per_cell": 12, "cell_keys": ["age band", "group"],
            "cell": lambda row, y: (age_band(y), row["group"]) if row["group"] != "unknown" else None,  # no race label
            "subsets": ("band", "group")},
    "scut": {"title": "attractiveness", "set": "scut", "split": "test", "per_cell": 50, "cell_keys": ["group"],
             "cell": lambda row, y: row["group"], "subsets": ("group",)},
}


def _cards() -> list[tuple[Path, dict]]:
    out = []
    for f in sorted(MODELS.glob("*.json")):
        card = json.loads(f.read_text())
        if "metrics" in card and "training" in card:
            out.append((f, card))
    return sorted(out, key=lambda fc: -fc[1].get("params", 0))  # the largest model first


def model_for(study: str) -> tuple[Path | None, str | None, str]:
    """(card, panel, why): the served model a study explains; card None with the reason when none fits."""
    if study == "age":
        for f, card in _cards():
            if card["task"] == "age":
                return f, None, ""
        return None, None, "no age model card in models/"
    for f, card in _cards():
        if "scut" in card.get("panels", {}):
            return f, "scut", ""
    return None, None, ("no model in models/ has a SCUT-FBP5500 head (a card with `panels.scut`, trained with "
                        "`--extra scut`); the served attractiveness models answer on MEBeauty's 1-10 scale only")


def training_sets(card: dict) -> tuple[list[str], int]:
    """The datasets of the model's last training stage and its input size, from the last training
    command in its card (an ensemble's own command trains nothing: its members' stages come first)."""
    from .train import parse_args

    commands = [card["training"]["command"], *(s.get("command", "") for s in reversed(card["training"].get("stages", [])))]
    command = next(c for c in commands if " training.dldl.train " in f"{c} ")
    args = parse_args(shlex.split(command)[3:])
    return [args.dataset, *args.extra], args.size


def training_mean(card: dict) -> tuple[torch.Tensor, str]:
    """Mean RGB over every pixel of the training split(s) the model was (last) trained on."""
    names, size = training_sets(card)
    total, count, parts = torch.zeros(3, dtype=torch.float64), 0, []
    for name in names:
        images = load(name, "train", size).images
        for i in range(0, len(images), 2048):
            total += images[i:i + 2048].sum(dim=(0, 1, 2), dtype=torch.float64)
        count += images.shape[0] * images.shape[1] * images.shape[2]
        parts.append(f"{name}:train ({len(images)} images)")
    return total / count, " + ".join(parts)


def grid_bounds(size: int, cells: int = GRID) -> list[int]:
    return [round(i * size / cells) for i in range(cells + 1)]


def occluders(size: int, cells: int = GRID) -> dict[str, list[tuple[slice, slice]]]:
    """Row/column slices of every occluder position: squares (row-major), horizontal stripes
    (top to bottom), vertical stripes (left to right)."""
    b = grid_bounds(size, cells)
    span = [slice(b[i], b[i + 1]) for i in range(cells)]
    return {"squares": [(r, c) for r in span for c in span],
            "hstripes": [(r, slice(0, size)) for r in span],
            "vstripes": [(slice(0, size), c) for c in span]}


@torch.no_grad()
def occlusion_errors(net, method, images: torch.Tensor, y: torch.Tensor, fill: torch.Tensor, panel=None) -> tuple[torch.Tensor, dict]:
    """Absolute errors without occlusion [N] and, per occluder kind, with it [positions, N]."""
    base, _ = predict(net, method, images, flip=False, panel=panel)
    fill = fill.round().clamp(0, 255).to(torch.uint8)
    out = {}
    for kind, positions in occluders(images.shape[1]).items():
        errs = []
        for rows, cols in positions:
            occluded = images.clone()
            occluded[:, rows, cols] = fill
            pred, _ = predict(net, method, occluded, flip=False, panel=panel)
            errs.append((pred - y).abs())
        out[kind] = torch.stack(errs)
    return (base - y).abs(), out


@torch.no_grad()
def score_maps(net, images: torch.Tensor, panel=None) -> torch.Tensor:
    """Section 5.1's S = Σ_k p̂_k A_k per image, on the last conv block's grid, each scaled to [0, 1]."""
    maps = net.feature_maps(to_nchw(images))
    s = net.score_map(maps, torch.softmax(net.head(maps, panel), 1), panel)
    lo, hi = s.amin(dim=(1, 2), keepdim=True), s.amax(dim=(1, 2), keepdim=True)
    return (s - lo) / (hi - lo + 1e-9)


def _subsets(study: dict, cells: list, chosen: list[int]) -> dict[str, torch.Tensor]:
    """Masks over the sample: all of it, and each value of each cell key (band:…, group:…)."""
    sample_cells = [cells[i] for i in chosen]
    out = {"all": torch.ones(len(chosen), dtype=torch.bool)}
    for k, key in enumerate(study["subsets"]):
        values = sorted({(c[k] if isinstance(c, tuple) else c) for c in sample_cells}, key=_band_order)
        for v in values:
            out[f"{key}:{v}"] = torch.tensor([(c[k] if isinstance(c, tuple) else c) == v for c in sample_cells])
    return out


def _band_order(v):
    from .metrics import AGE_BANDS

    names = [b[0] for b in AGE_BANDS]
    return (names.index(v), "") if v in names else (len(names), str(v))


def keypoint_cells(card: dict, cells: int = GRID) -> dict[str, list[list[int]]]:
    """Which grid cell (row, col) each alignment-template keypoint falls in: names the regions."""
    template = card.get("alignment", {}).get("template", {}).get("keypoints", [])
    out: dict[str, list[list[int]]] = {}
    for name, (x, y) in zip(KEYPOINTS, template):
        out.setdefault(name, []).append([min(int(y * cells), cells - 1), min(int(x * cells), cells - 1)])
    return out


def run_study(name: str, per_cell: int | None = None, seed: int = 0, results: Path | None = RESULTS, figures: Path | None = MODELS) -> dict:
    """One study; its JSON goes to `results`, its PNGs to `figures` (None: not written)."""
    study = STUDIES[name]
    card_path, panel, why = model_for(name)
    if card_path is None:
        return {"study": name, "skipped": why}
    card = json.loads(card_path.read_text())
    try:
        test = load(study["set"], study["split"], card["input"]["size"])
    except FileNotFoundError as e:
        return {"study": name, "skipped": f"{study['set']}:{study['split']} is not available here: {e}"}
    t0 = time.time()
    per_cell = per_cell or study["per_cell"]
    cells = [study["cell"](row, float(y)) for row, y in zip(test.meta, test.y)]
    chosen = balanced_sample(cells, per_cell, seed)
    images, y = test.images[chosen], test.y[chosen]
    net, method = served_network(card_path, panel)
    fill, fill_from = training_mean(card)
    base, errs = occlusion_errors(net, method, images, y, fill, panel)
    smaps = score_maps(net, images, panel)
    masks = _subsets(study, cells, chosen)

    def rel(e: torch.Tensor, m: torch.Tensor) -> list:
        b = float(base[m].mean())
        return ((e[:, m].mean(1) - b) / b).tolist()

    size = images.shape[1]
    result = {
        "study": name, "title": study["title"],
        "model": {"name": card["name"], "version": card["version"], "card": str(card_path.relative_to(REPO)), "panel": panel},
        "set": f"{study['set']}:{study['split']}",
        "sample": {"seed": seed, "per_cell": per_cell, "n": len(chosen), "cell_keys": study["cell_keys"],
                   "cells": sample_counts(cells, chosen),
                   "how": "each cell drawn on its own without replacement (training/dldl/balanced_sample.py), "
                          "all of a cell's faces where it has fewer"},
        "fill": {"rgb": [round(float(v), 1) for v in fill], "from": fill_from},
        "occluder": {"grid": GRID, "bounds": grid_bounds(size), "input": size,
                     "cell_px": f"{min(np.diff(grid_bounds(size)))}-{max(np.diff(grid_bounds(size)))}"},
        "keypoints": keypoint_cells(card),
        "base_mae": {k: float(base[m].mean()) for k, m in masks.items()},
        "n": {k: int(m.sum()) for k, m in masks.items()},
        "squares": {k: np.array(rel(errs["squares"], m)).reshape(GRID, GRID).round(4).tolist() for k, m in masks.items()},
        "hstripes": {k: np.round(rel(errs["hstripes"], m), 4).tolist() for k, m in masks.items()},
        "vstripes": {k: np.round(rel(errs["vstripes"], m), 4).tolist() for k, m in masks.items()},
        "scoremap": {k: smaps[m].mean(0).round(decimals=4).tolist() for k, m in masks.items()},
        "scoremap_grid": list(smaps.shape[1:]),
    }
    result["seconds"] = round(time.time() - t0, 1)
    if results is not None:
        results.mkdir(parents=True, exist_ok=True)
        (results / f"interpret-{name}.json").write_text(json.dumps(result, indent=1) + "\n")
    if figures is not None:
        suffix = "" if name == "age" else f"-{name}"
        figures.mkdir(parents=True, exist_ok=True)
        occlusion_figure(result, images, masks, figures / f"occlusion{suffix}.png")
        score_map_figure(result, images, smaps, cells, chosen, masks, figures / f"scoremaps{suffix}.png")
    return result


def _heat(v: np.ndarray) -> np.ndarray:
    """Blue (0) → green → red (1)."""
    v = np.clip(v, 0, 1)[..., None]
    return (np.concatenate([v, 1 - np.abs(v - 0.5) * 2, 1 - v], -1) * 255).astype(np.uint8)


def _blend(face: np.ndarray, heat: np.ndarray, alpha: float = 0.6) -> np.ndarray:
    return ((1 - alpha) * face + alpha * heat).astype(np.uint8)


def occlusion_figure(result: dict, images: torch.Tensor, masks: dict, out: Path, scale: int = 3) -> None:
    """One row per subset (all, then each band/group): its mean face, then the relative MAE loss
    of squares, horizontal and vertical stripes over it. One colour scale per column (red = that
    occluder's largest loss over all rows, blue = none or a gain): a stripe hides far more than a
    square, and a shared scale would leave the squares all blue."""
    b = result["occluder"]["bounds"]
    size = result["occluder"]["input"]
    index = np.searchsorted(b, np.arange(size), side="right") - 1  # pixel -> grid cell
    top = {kind: max(float(np.max(result[kind][k])) for k in masks) for kind in ("squares", "hstripes", "vstripes")}
    rows = []
    for k, m in masks.items():
        face = images[m].float().mean(0).numpy()
        sq = np.array(result["squares"][k])[index][:, index]
        hs = np.array(result["hstripes"][k])[index][:, None].repeat(size, 1)
        vs = np.array(result["vstripes"][k])[None, index].repeat(size, 0)
        heats = [_heat(v / max(top[kind], 1e-9)) for v, kind in ((sq, "squares"), (hs, "hstripes"), (vs, "vstripes"))]
        rows.append(np.concatenate([face.astype(np.uint8)] + [_blend(face, h) for h in heats], 1))
    grid = np.concatenate(rows, 0)
    Image.fromarray(grid).resize((grid.shape[1] * scale, grid.shape[0] * scale), Image.NEAREST).save(out)


def score_map_figure(result: dict, images: torch.Tensor, smaps: torch.Tensor, cells: list, chosen: list, masks: dict,
                     out: Path, examples: int = 5, scale: int = 2) -> None:
    """One row per band (age) or group (attractiveness): a few faces of the sample with their score
    maps (one face from each cell where there are several), then the subset's mean face with its
    mean score map."""
    size = images.shape[1]
    up = lambda m: F.interpolate(m[None, None], size=(size, size), mode="bilinear", align_corners=False)[0, 0].numpy()
    key = result["sample"]["cell_keys"][0].split()[-1]  # "band" or "group"
    rows = []
    for k, m in masks.items():
        if not k.startswith(f"{key}:"):
            continue
        idx = m.nonzero().squeeze(1).tolist()
        seen, picks = set(), []
        for i in idx:  # one face per cell first, then more faces
            c = cells[chosen[i]]
            if c not in seen:
                seen.add(c)
                picks.append(i)
        picks += [i for i in idx if i not in picks]
        tiles = [_blend(images[i].numpy(), _heat(up(smaps[i])), 0.5) for i in picks[:examples]]
        tiles += [np.zeros((size, size, 3), np.uint8)] * (examples - len(tiles))
        face = images[m].float().mean(0).numpy()
        tiles.append(_blend(face, _heat(up(torch.tensor(result["scoremap"][k]))), 0.5))
        rows.append(np.concatenate(tiles, 1))
    grid = np.concatenate(rows, 0)
    Image.fromarray(grid).resize((grid.shape[1] * scale, grid.shape[0] * scale), Image.NEAREST).save(out)


def main(argv=None) -> list[dict]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--study", choices=[*STUDIES, "all"], default="all")
    p.add_argument("--per-cell", type=int, default=None, help="faces drawn per cell (default: 12 for age, 50 for SCUT's groups)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--results", default=str(RESULTS), help="where the JSON goes")
    p.add_argument("--figures", default=str(MODELS), help="where the PNGs go (beside REPORT.md, which links them)")
    a = p.parse_args(argv)
    results = []
    for name in (STUDIES if a.study == "all" else [a.study]):
        r = run_study(name, a.per_cell, a.seed, Path(a.results), Path(a.figures))
        if "skipped" in r:
            Path(a.results).mkdir(parents=True, exist_ok=True)
            (Path(a.results) / f"interpret-{name}.json").write_text(json.dumps(r, indent=1) + "\n")
            print(f"{name}: skipped: {r['skipped']}")
        else:
            print(f"{name}: {r['model']['name']} on {r['set']}, n = {r['sample']['n']}, base MAE {r['base_mae']['all']:.3f}, "
                  f"{r['seconds']:.0f} s")
        results.append(r)
    return results


if __name__ == "__main__":
    main()
