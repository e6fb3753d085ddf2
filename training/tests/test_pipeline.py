"""End to end on a handful of real UTKFace crops: train two epochs, export, reload the ONNX graph."""
import json

import onnx
import pytest

from training.dldl import export, train
from training.dldl.data import data_dir


@pytest.mark.skipif(not (data_dir() / "utkface" / "labels.csv").exists(), reason="datasets not mounted")
def test_train_export_and_card(tmp_path):
    run = tmp_path / "run"
    result = train.main(["--dataset", "utkface", "--arch", "tiny", "--epochs", "2", "--limit", "96", "--batch", "32",
                         "--out", str(run)])
    assert result["test"]["n"] == 96 and result["test"]["mae"] > 0
    assert 0.1 <= result["temperature"] <= 4.0
    assert len(result["history"]) == 2 and (run / "best.pt").exists()
    export.main(["--run", str(run), "--name", "T", "--models", str(tmp_path / "models")])
    card = json.loads((tmp_path / "models" / "T.json").read_text())
    assert card["labels"]["k"] == 101 and card["input"] == {**card["input"], "layout": "NHWC", "dtype": "uint8", "size": 64}
    graph = onnx.load(str(tmp_path / "models" / "T.onnx"))
    assert [o.name for o in graph.graph.output] == ["probs", "value", "scoremap"]
    assert graph.opset_import[0].version >= 13
