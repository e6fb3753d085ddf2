"""Which views the runner's `accurate` tier averages for a model, chosen on validation.

`accurate` promises to be no less accurate than `standard` (one pass), so its extra views are
chosen per model, on the validation splits of the served head's sets, under that promise: among
the candidates (always mirrored, plus crops scaled about the centre), the lowest pooled MAE whose
MAE is at most `standard`'s on every validation set and, for age, on every age band with at least
MIN_BAND_N faces. Mirroring alone is always a candidate. Test splits play no part.
"""
import torch

from .evaluate import predict
from .metrics import summary

STANDARD = {"flip": False}
ZOOM_CANDIDATES = [(), (0.96, 1.04), (0.93, 1.07), (0.9, 1.1), (1.07,), (0.93,)]
MIN_BAND_N = 100  # the tier-order test's own floor (test/node/inference/tier-order.test.ts)


def band_maes(pred: torch.Tensor, y: torch.Tensor, task: str) -> dict[str, tuple[int, float]]:
    """Overall and (age) per-band (n, MAE), as the cards' metrics define them (metrics.summary)."""
    s = summary(pred.numpy(), y.numpy(), task=task)
    return {"all": (s["n"], s["mae"]), **{band: (b["n"], b["mae"]) for band, b in s.get("bands", {}).items() if b["n"]}}


def _config(zoom: tuple[float, ...]) -> dict:
    return {"flip": True, **({"zoom": list(zoom)} if zoom else {})}


def choose_accurate(net, methods: dict, vals: dict, panels: dict[str, str | None], task: str) -> tuple[dict, dict]:
    """`vals`: the validation split of each set; `panels`: the head each set is read from.
    Returns (accurate's tier config, the record of the choice for the card)."""
    served_sets = [name for name, p in panels.items() if p is None]

    def measure(config: dict) -> dict[str, dict[str, tuple[int, float]]]:
        return {name: band_maes(predict(net, methods[panels[name]], vals[name].images, flip=config["flip"], panel=panels[name],
                                        zoom=tuple(config.get("zoom", ())))[0], vals[name].y, task)
                for name in vals}

    standard = measure(STANDARD)
    candidates = [{"config": _config(zoom), "maes": measure(_config(zoom))} for zoom in ZOOM_CANDIDATES]
    chosen, summaries = select(standard, candidates, served_sets)
    record = {"chosen_on": "+".join(f"{name}:val" for name in vals),
              "rule": "lowest pooled MAE on the served head's validation sets among view sets no worse than standard "
                      f"(one pass) on any validation set or age band with n >= {MIN_BAND_N}",
              "standard_mae": {name: round(parts["all"][1], 4) for name, parts in standard.items()},
              "candidates": summaries}
    return chosen, record


def breaches(got: dict, reference: dict) -> list[str]:
    """Where `got` is less accurate than `reference` (both {set: {"all" | band: (n, MAE)}}): a whole
    set, or an age band with n >= MIN_BAND_N, as "<set> <all|band>"."""
    return [f"{name} {part}" for name, parts in got.items() for part, (n, mae) in parts.items()
            if (part == "all" or n >= MIN_BAND_N) and mae > reference[name][part][1]]


def select(standard: dict, candidates: list[dict], served_sets: list[str]) -> tuple[dict, list[dict]]:
    """The rule, on measured MAEs ({set: {"all" | band: (n, MAE)}}): the candidate config with the
    lowest pooled MAE over `served_sets` among those with no breach of standard (overall on any
    set, or on a band with n >= MIN_BAND_N); the first candidate when every one breaches."""
    summaries = []
    for c in candidates:
        got = c["maes"]
        n_served = sum(got[name]["all"][0] for name in served_sets)
        pooled = sum(got[name]["all"][0] * got[name]["all"][1] for name in served_sets) / n_served
        summaries.append({"config": c["config"], "pooled_mae": round(pooled, 4), "breaches": breaches(got, standard),
                          "mae": {name: round(parts["all"][1], 4) for name, parts in got.items()}})
    allowed = [s for s in summaries if not s["breaches"]] or summaries[:1]
    return min(allowed, key=lambda s: s["pooled_mae"])["config"], summaries


def choose_for(net, methods: dict, panels: dict[str, str | None], task: str, size: int, limit: int | None = None) -> tuple[dict, dict]:
    from .data import load

    vals = {name: load(name, "val", size, limit) for name in panels}
    return choose_accurate(net, methods, vals, panels, task)
