"""Datasets from ../shared/datasets (DATA_DIR overrides), decoded once into uint8 arrays
cached under the git-ignored data/cache/ folder, so epochs never touch JPEG decoding."""
import csv
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / "data" / "cache"


def data_dir() -> Path:
    return Path(os.environ.get("DATA_DIR", REPO.parent / "shared" / "datasets"))


@dataclass
class Split:
    images: torch.Tensor  # uint8 [N, H, W, 3]
    y: torch.Tensor  # float [N]
    sigma: torch.Tensor | None  # float [N], per-image rater std where the data has one
    meta: list[dict]  # the csv rows (gender, race, file, ...) for per-group metrics


def _load_image(path: Path, size: int) -> np.ndarray:
    with Image.open(path) as im:
        im = im.convert("RGB")
        if im.size != (size, size):
            im = im.resize((size, size), Image.BILINEAR, reducing_gap=3.0)
        return np.asarray(im, dtype=np.uint8)


def _rows(csv_path: Path) -> list[dict]:
    with open(csv_path, newline="") as f:
        return list(csv.DictReader(f))


def _cached(name: str, paths: list[Path], size: int) -> np.ndarray:
    CACHE.mkdir(parents=True, exist_ok=True)
    file = CACHE / f"{name}-{size}.npy"
    if file.exists():
        arr = np.load(file)
        if len(arr) == len(paths):
            return arr
    arr = np.stack([_load_image(p, size) for p in paths]) if paths else np.zeros((0, size, size, 3), np.uint8)
    np.save(file, arr)
    return arr


# UTKFace's race codes (its README): the groups that balanced sampling and per-group metrics use.
UTKFACE_RACES = {"0": "white", "1": "black", "2": "asian", "3": "indian", "4": "others"}


def utkface(split: str, size: int = 64, limit: int | None = None) -> Split:
    root = data_dir() / "utkface"
    rows = [r for r in _rows(root / "labels.csv") if r["split"] == split][:limit]
    source = "64" if size <= 64 else "200"
    if source == "200":
        rows = [r for r in rows if r["has200"] == "1"]
    arr = _cached(f"utkface-{split}-{source}-{len(rows)}", [root / source / r["file"] for r in rows], size)
    y = torch.tensor([float(r["age"]) for r in rows])
    rows = [r | {"group": UTKFACE_RACES.get(r["race"], "unknown"), "source": "utkface"} for r in rows]
    return Split(torch.from_numpy(arr), y, None, rows)


MEBEAUTY_SPLIT = {"train": "train", "val": "val", "test": "test"}


def mebeauty(split: str, size: int = 64, limit: int | None = None) -> Split:
    root = data_dir() / "mebeauty"
    rows = [r for r in _rows(root / "scores.csv") if r["split"] == MEBEAUTY_SPLIT[split] and r["crop"]][:limit]
    arr = _cached(f"mebeauty-{split}-{len(rows)}", [root / r["crop"] for r in rows], size)
    y = torch.tensor([float(r["mean"]) for r in rows])
    sigma = torch.tensor([float(r["std"]) for r in rows])
    rows = [r | {"group": f"{r['ethnicity']}-{r['gender']}", "source": "mebeauty"} for r in rows]
    return Split(torch.from_numpy(arr), y, sigma, rows)


def aligned_dir(name: str, framing: str, size: int) -> Path:
    """Where `npm run prepare-data -- --set <name> --framing <framing> --size <size>` writes."""
    return Path(os.environ.get("ALIGNED_DIR", REPO / "data" / "aligned")) / f"{name}-{framing}-{size}"


def hash_split(file: str) -> str:
    """The fixed 80/10/10 split of a set that has no official one: bucket = SHA-1 of the file's
    stem (no extension, so the aligned PNG and the source JPEG agree) mod 10; 0 is test, 1 val.
    Same definition in src/cli/sets.ts."""
    bucket = int(hashlib.sha1(Path(file).stem.encode()).hexdigest()[:8], 16) % 10
    return "test" if bucket == 0 else "val" if bucket == 1 else "train"


def aaf(split: str = "train", size: int = 64, limit: int | None = None) -> Split:
    """All-Age-Faces' official train list, aligned by the serving pipeline into UTKFace's framing
    (its photos show the whole head, so they must go through the same detector and template first),
    split 80/10/10 by `hash_split`. Every face is East Asian: group "asian", like UTKFace's race 2."""
    root = aligned_dir("aaf", "utkface", size)
    if not (root / "labels.csv").exists():
        raise FileNotFoundError(f"{root} is missing: run `npm run prepare-data -- --set aaf --framing utkface --size {size}` first")
    rows = [r | {"group": "asian", "source": "aaf"} for r in _rows(root / "labels.csv") if hash_split(r["file"]) == split][:limit]
    arr = _cached(f"aaf-utkface-{split}-{len(rows)}", [root / r["file"] for r in rows], size)
    return Split(torch.from_numpy(arr), torch.tensor([float(r["age"]) for r in rows]), None, rows)


def scut(split: str, size: int = 128, limit: int | None = None) -> Split:
    """SCUT-FBP5500 (1-5 scale, mean of 60 raters, no per-image spread), its official 60/40 split
    (val: a fixed 10% of the 60%), aligned by the serving pipeline into MEBeauty's framing (its
    faces come with background, so they go through the same detector and template as uploads)."""
    root = aligned_dir("scut", "mebeauty", size)  # aligned at the training size where prepared, as serving aligns
    if not (root / "labels.csv").exists():
        root = aligned_dir("scut", "mebeauty", 128)
    if not (root / "labels.csv").exists():
        raise FileNotFoundError(f"{root} is missing: run `npm run prepare-data -- --set scut --framing mebeauty --size 128` first")
    rows = [r | {"group": f"{r['ethnicity']}-{r['gender']}", "source": "scut"} for r in _rows(root / "labels.csv") if r["split"] == split][:limit]
    arr = _cached(f"scut-{root.name}-{split}-{len(rows)}", [root / r["file"] for r in rows], size)
    return Split(torch.from_numpy(arr), torch.tensor([float(r["mean"]) for r in rows]), None, rows)


def concat(a: Split, b: Split) -> Split:
    """Training splits side by side (σ is per-image only where both have it)."""
    sigma = torch.cat([a.sigma, b.sigma]) if a.sigma is not None and b.sigma is not None else None
    return Split(torch.cat([a.images, b.images]), torch.cat([a.y, b.y]), sigma, a.meta + b.meta)


DATASETS = {"utkface": utkface, "mebeauty": mebeauty, "aaf": aaf, "scut": scut}
TASK_OF = {"utkface": "age", "mebeauty": "attractiveness", "aaf": "age", "scut": "attractiveness"}


def load(dataset: str, split: str, size: int, limit: int | None = None) -> Split:
    return DATASETS[dataset](split, size, limit)
