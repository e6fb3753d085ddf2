"""A test sample with equal numbers from each cell (age band × group, or an attractiveness set's
groups), for the interpretability studies (score maps, occlusion; Section 5).

A test split in file order, or drawn uniformly, describes the majority: UTKFace's test split is
mostly White adults of 20-39, and its first files in name order are children. A sensitivity map
averaged over such a sample describes those faces. Drawing the same number from each cell makes
the map describe every band and group alike, and the report can state the sample exactly.

Each cell is drawn on its own, without replacement, by a generator seeded with the seed and the
cell's name: the draw is a function of (seed, cell, the cell's members) alone, so it does not
change when another cell gains or loses faces. A cell with fewer members than asked for gives
all it has (the report names the cells that fell short).
"""
import zlib
from collections import defaultdict
from collections.abc import Hashable, Sequence

import numpy as np


def _cell_name(cell: Hashable) -> str:
    return "/".join(map(str, cell)) if isinstance(cell, tuple) else str(cell)


def balanced_sample(cells: Sequence[Hashable], per_cell: int, seed: int = 0) -> list[int]:
    """Indices into `cells` (one cell label per item; None: never drawn, e.g. a face without a
    group label): min(per_cell, available) items of each cell, cells in sorted order, each
    cell's items in the order drawn."""
    if per_cell < 0:
        raise ValueError("per_cell must be >= 0")
    members: dict[Hashable, list[int]] = defaultdict(list)
    for i, cell in enumerate(cells):
        if cell is not None:
            members[cell].append(i)
    out = []
    for cell in sorted(members, key=_cell_name):
        rng = np.random.default_rng([seed, zlib.crc32(_cell_name(cell).encode())])
        idx = members[cell]
        out += [idx[k] for k in rng.permutation(len(idx))[:per_cell]]
    return out


def sample_counts(cells: Sequence[Hashable], chosen: Sequence[int]) -> dict[str, dict[str, int]]:
    """{cell name: {"available": n, "drawn": k}}: what the report states about the sample."""
    available: dict[str, int] = defaultdict(int)
    drawn: dict[str, int] = defaultdict(int)
    for cell in cells:
        if cell is not None:
            available[_cell_name(cell)] += 1
    for i in chosen:
        drawn[_cell_name(cells[i])] += 1
    return {c: {"available": available[c], "drawn": drawn[c]} for c in sorted(available)}
