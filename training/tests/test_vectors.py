"""The shared vectors (test/vectors/, written by training/dldl/vectors.py) against the Python side
that wrote them: the TypeScript tests check the API's label math and the exported graphs against
the same files (test/node/inference/label-math.test.ts, models.test.ts), so a change on either side
that moves a number fails on that side."""
import json
from pathlib import Path

import pytest
import torch

from training.dldl import labels as L
from training.dldl.metrics import summary

VECTORS = Path(__file__).resolve().parents[2] / "test" / "vectors"
LABELS = json.loads((VECTORS / "labels.json").read_text())
MODEL_VECTORS = sorted((VECTORS / "models").glob("*.json"))


def _t(xs) -> torch.Tensor:
    return torch.tensor([xs], dtype=torch.float64)


def test_there_are_vectors_for_both_label_spaces_and_each_served_model():
    assert {c["labels"]["max"] for c in LABELS["cases"]} >= {100.0, 10.0}
    assert {m["task"] for m in LABELS["metrics"]} == {"age", "attractiveness"}
    assert [p.stem for p in MODEL_VECTORS] == ["ThinAgeNet", "ThinAttNet", "TinyAgeNet", "TinyAttNet"]


@pytest.mark.parametrize("case", LABELS["cases"], ids=lambda c: f"{c['labels']['min']}..{c['labels']['max']}/{c['labels']['step']}-y{c['y']}")
def test_label_math_gives_the_vectors(case):
    space = case["labels"]
    labels = L.LabelSpace(space["min"], space["max"], space["step"]).vector()
    # Eq. 1; the vectors hold y and sigma as they were passed (float32 tensors), hence 1e-7.
    dist = L.label_distribution(torch.tensor([case["y"]]), torch.tensor([case["sigma"]]), labels)[0]
    assert torch.allclose(dist.double(), torch.tensor(case["distribution"], dtype=torch.float64), atol=1e-7, rtol=0)
    probs = _t(case["probs"])
    assert float(L.expectation(probs, labels)[0]) == pytest.approx(case["expectation"], abs=1e-9)
    assert float(L.std(probs, labels)[0]) == pytest.approx(case["std"], abs=1e-9)
    for q, key in ((0.05, "q05"), (0.5, "q50"), (0.95, "q95")):
        assert float(L.quantile(probs, labels, q)[0]) == pytest.approx(case[key], abs=1e-9)
    probs_t = L.temperature_probs(probs, case["temperature"])
    assert torch.allclose(probs_t, _t(case["probs_t"]), atol=1e-12, rtol=0)
    assert float(L.quantile(probs_t, labels, 0.05)[0]) == pytest.approx(case["q05_t"], abs=1e-9)
    assert float(L.quantile(probs_t, labels, 0.95)[0]) == pytest.approx(case["q95_t"], abs=1e-9)


@pytest.mark.parametrize("case", LABELS["metrics"], ids=lambda m: m["task"])
def test_metrics_give_the_vectors(case):
    import numpy as np

    sigma = None if case["sigma"] is None else np.array(case["sigma"])
    got = summary(np.array(case["pred"]), np.array(case["y"]), sigma, case["task"])
    assert set(got) == set(case["expected"])
    for key, want in case["expected"].items():
        if key == "bands":
            approx = lambda x: None if x is None else pytest.approx(x, abs=1e-9)
            assert {b: (v["n"], approx(v["mae"]), approx(v["mean_error"])) for b, v in got["bands"].items()} == \
                {b: (v["n"], v["mae"], v["mean_error"]) for b, v in want.items()}
        else:
            assert got[key] == pytest.approx(want, abs=1e-9), key


@pytest.mark.parametrize("path", MODEL_VECTORS, ids=lambda p: p.stem)
def test_model_vectors_value_is_the_expectation_of_their_probs(path):
    """A model's `value` output is the expectation of its `probs` over the card's label space."""
    vector = json.loads(path.read_text())
    card = json.loads((VECTORS.parents[1] / "models" / f"{path.stem}.json").read_text())
    assert vector["sha256"] == card["sha256"], "the vector is of another export than models/: rerun python3 -m training.dldl.vectors --models"
    space = card["labels"]
    labels = L.LabelSpace(space["min"], space["max"], space["step"]).vector()
    probs = torch.tensor(vector["outputs"]["probs"], dtype=torch.float64)
    assert probs.shape[1] == space["k"] == len(labels)
    assert torch.allclose(probs.sum(1), torch.ones(len(probs), dtype=torch.float64), atol=1e-5)
    value = torch.tensor(vector["outputs"]["value"], dtype=torch.float64)
    assert torch.allclose(L.expectation(probs, labels), value, atol=1e-4 * float(labels[-1]))
