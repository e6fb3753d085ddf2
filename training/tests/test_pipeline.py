"""End to end on a handful of real UTKFace crops: train two epochs, export, reload the ONNX graph."""
import json

import onnx
import pytest
import torch

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


def test_aaf_loads_the_prepared_crops_and_extends_the_training_split(tmp_path, monkeypatch):
    import numpy as np
    from PIL import Image
    from training.dldl import data

    folder = tmp_path / "aaf-utkface-64"
    folder.mkdir()
    for i in range(3):
        Image.fromarray(np.full((64, 64, 3), 40 * i, np.uint8)).save(folder / f"{i:05d}A{20 + i}.png")
    (folder / "labels.csv").write_text("file,age,gender,score\n" + "".join(f"{i:05d}A{20 + i}.png,{20 + i},1,0.9\n" for i in range(3)))
    monkeypatch.setenv("ALIGNED_DIR", str(tmp_path))
    monkeypatch.setattr(data, "CACHE", tmp_path / "cache")
    extra = data.aaf(64)
    assert extra.images.shape == (3, 64, 64, 3) and extra.y.tolist() == [20.0, 21.0, 22.0]
    assert int(extra.images[2, 0, 0, 0]) == 80
    both = data.concat(data.Split(torch.zeros(2, 64, 64, 3, dtype=torch.uint8), torch.tensor([5.0, 6.0]), None, [{}, {}]), extra)
    assert both.y.tolist() == [5.0, 6.0, 20.0, 21.0, 22.0] and both.sigma is None and len(both.meta) == 5


def test_aaf_without_prepared_crops_says_how_to_make_them(tmp_path, monkeypatch):
    from training.dldl import data

    monkeypatch.setenv("ALIGNED_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="prepare-data -- --set aaf"):
        data.aaf(64)
