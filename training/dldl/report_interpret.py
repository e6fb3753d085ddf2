"""models/REPORT.md's interpretability sections (score maps, Section 5.1; occlusion, Section 5.2)
from interpret.py's JSON (training/results/interpret-<study>.json)."""
import json
from pathlib import Path

import numpy as np

from .data import REPO
from .metrics import AGE_BANDS

RESULTS = REPO / "training" / "results"  # interpret.py's default output


def _load_interpret(study: str, results: Path) -> dict | None:
    f = results / f"interpret-{study}.json"
    return json.loads(f.read_text()) if f.exists() else None


def _region(r: dict, row: int, col: int | None = None) -> str:
    """The template keypoints inside a grid cell (or a whole grid row/column) as words."""
    names = sorted({k for k, cells in r["keypoints"].items() for (kr, kc) in cells
                    if (col is None and kr == row) or (row is None and kc == col) or (kr == row and kc == col)})
    return ", ".join(names)


def _px(r: dict, i: int) -> str:
    b = r["occluder"]["bounds"]
    return f"{b[i]}-{b[i + 1] - 1}"


def sample_text(r: dict) -> str:
    s = r["sample"]
    cells = s["cells"]
    short = [f"{c} {v['drawn']} of {s['per_cell']}" for c, v in cells.items() if v["drawn"] < s["per_cell"]]
    text = (f"Sample: {r['set']}, balanced over {' × '.join(s['cell_keys'])}: up to {s['per_cell']} faces per cell, each cell "
            f"drawn on its own without replacement (`training/dldl/balanced_sample.py`, seed {s['seed']}), n = {s['n']}. ")
    text += (f"Cells short of {s['per_cell']} give all they have: {'; '.join(short)}." if short else "Every cell was full.")
    if len(s["cell_keys"]) == 2:
        rows = sorted({c.split("/")[0] for c in cells}, key=lambda v: [b[0] for b in AGE_BANDS].index(v) if v in [b[0] for b in AGE_BANDS] else 99)
        cols = sorted({c.split("/")[1] for c in cells})
        table = [f"| {s['cell_keys'][0]} \\ {s['cell_keys'][1]} | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
        for rw in rows:
            table.append(f"| {rw} | " + " | ".join(
                f"{cells[f'{rw}/{c}']['drawn']} of {cells[f'{rw}/{c}']['available']}" if f"{rw}/{c}" in cells else "0 of 0" for c in cols) + " |")
        empty = [f"{rw}/{c}" for rw in rows for c in cols if f"{rw}/{c}" not in cells]
        if empty:
            text += f" No face at all in the split for {', '.join(empty)}."
        text += " Drawn of available per cell:\n\n" + "\n".join(table)
    else:
        text += " Drawn of available: " + ", ".join(f"{c} {v['drawn']} of {v['available']}" for c, v in cells.items()) + "."
    return text


def occlusion_text(r: dict) -> str:
    g = r["occluder"]["grid"]
    sq = np.array(r["squares"]["all"])
    head = (f"{r['model']['name']} (served weights, version {r['model']['version']}"
            + (f", head `{r['model']['panel']}`" if r["model"]["panel"] else "") + "). " + sample_text(r) + "\n\n"
            f"Occluders, as in the paper scaled to the {r['occluder']['input']} px input: a {g}×{g} grid of {r['occluder']['cell_px']} px "
            f"squares (the paper's 32×32 on 224 px: 32·64/224 = 9.1 px; {g * g} positions), {g} horizontal full-width stripes "
            f"(its 32×224) and, beyond the paper, {g} vertical full-height stripes; each filled with the training mean colour "
            f"RGB ({', '.join(f'{v:g}' for v in r['fill']['rgb'])}) over {r['fill']['from']}. Value: relative change of the "
            f"sample's MAE, (MAE occluded − MAE) / MAE, no flip averaging; base MAE {r['base_mae']['all']:.3f}. "
            f"Template keypoints (where the aligned faces' eyes, nose, mouth and ears sit) name the regions.\n\n")
    cols = " | ".join(f"{_px(r, j)}" for j in range(g))
    lines = [f"| squares: rows \\ cols (px) | {cols} |", "|---" * (g + 1) + "|"]
    for i in range(g):
        reg = _region(r, i)
        lines.append(f"| {_px(r, i)}{' (' + reg + ')' if reg else ''} | " + " | ".join(f"{v:+.2f}" for v in sq[i]) + " |")
    hs, vs = r["hstripes"]["all"], r["vstripes"]["all"]
    stripes = ["| stripe at (px) | " + cols + " |", "|---" * (g + 1) + "|",
               "| horizontal (rows) | " + " | ".join(f"{v:+.2f}" for v in hs) + " |",
               "| vertical (columns) | " + " | ".join(f"{v:+.2f}" for v in vs) + " |"]
    order = np.dstack(np.unravel_index(np.argsort(-sq, axis=None), sq.shape))[0][:3]
    top = "; ".join(f"rows {_px(r, int(i))} × cols {_px(r, int(j))} px{' (' + _region(r, int(i), int(j)) + ')' if _region(r, int(i), int(j)) else ''}: "
                    f"{sq[i, j]:+.2f}" for i, j in order)
    per = ["| subset | n | base MAE | largest square (rows × cols px) | largest horizontal stripe | largest vertical stripe |",
           "|---|---|---|---|---|---|"]
    for k in r["squares"]:
        s = np.array(r["squares"][k])
        i, j = np.unravel_index(s.argmax(), s.shape)
        h, v = int(np.argmax(r["hstripes"][k])), int(np.argmax(r["vstripes"][k]))
        reg = _region(r, int(i), int(j))
        per.append(f"| {k} | {r['n'][k]} | {r['base_mae'][k]:.3f} | {s[i, j]:+.2f} at {_px(r, int(i))} × {_px(r, int(j))}"
                   f"{' (' + reg + ')' if reg else ''} | {r['hstripes'][k][h]:+.2f} at {_px(r, h)}{' (' + _region(r, h) + ')' if _region(r, h) else ''} | "
                   f"{r['vstripes'][k][v]:+.2f} at {_px(r, v)} |")
    return (head + "\n".join(lines) + "\n\n" + "\n".join(stripes) + f"\n\nLargest losses (squares): {top}.\n\n"
            "By subset of the sample (a subset's own base MAE; small subsets are noisy):\n\n" + "\n".join(per))


def interpret_section(study: str, suffix: str, results: Path = RESULTS) -> str:
    r = _load_interpret(study, results)
    if r is None:
        return f"Not computed yet: `python3 -m training.dldl.report --figures` (or `python3 -m training.dldl.interpret --study {study}`)."
    if "skipped" in r:
        return f"Not computed: {r['skipped']}. The code runs when such a model and its data exist (`python3 -m training.dldl.interpret --study {study}`)."
    subsets = ", ".join(k for k in r["squares"] if k != "all")
    figure = (f"![occlusion](occlusion{suffix}.png)\n\nFigure rows: the whole sample, then {subsets}; columns: the rows' mean "
              "face, then the relative MAE loss of squares, horizontal and vertical stripes over it (one colour scale per column: "
              "red = that occluder's largest loss in the figure, blue = none or a gain).\n\n")
    return figure + occlusion_text(r)


def score_map_section(study: str, suffix: str, results: Path = RESULTS) -> str:
    r = _load_interpret(study, results)
    if r is None or "skipped" in r:
        return "Not computed (see the occlusion section above)."
    key = r["sample"]["cell_keys"][0]
    gh, gw = r["scoremap_grid"]
    peaks = []
    for k, m in r["scoremap"].items():
        m = np.array(m)
        i, j = np.unravel_index(m.argmax(), m.shape)
        peaks.append(f"{k} ({r['n'][k]}): row {i + 1}, column {j + 1}")
    return (f"![score maps](scoremaps{suffix}.png)\n\nThe same sample as the occlusion study ({r['set']}, n = {r['sample']['n']}, "
            f"seed {r['sample']['seed']}). One row per {key}: five faces of the sample (one from each cell first) with their score "
            f"map S = Σ_k p̂_k A_k (Section 5.1; red = high, each map scaled to its own range), then the {key}'s mean face with its "
            f"mean score map. The maps come from the last conv block's {gh}×{gw} grid, upsampled. Where the mean map peaks "
            f"(row, column of the {gh}×{gw} grid, top left = 1, 1): " + "; ".join(peaks) + ".")
