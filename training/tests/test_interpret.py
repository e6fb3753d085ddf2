import json

import pytest
import torch

from training.dldl import interpret as I  # noqa: E741 - the module under test, as in the other tests
from training.dldl import labels as L
from training.dldl.losses import Method
from training.dldl.model import WIDTHS, DLDLNet


def test_the_papers_grid_scaled_to_64_px_tiles_the_input_once():
    assert I.grid_bounds(64) == [0, 9, 18, 27, 37, 46, 55, 64]  # 32 px at 224 -> 9.1 px at 64
    occ = I.occluders(64)
    assert len(occ["squares"]) == 49 and len(occ["hstripes"]) == len(occ["vstripes"]) == 7  # the paper's 49 + 7, and 7 more
    for kind, positions in occ.items():
        cover = torch.zeros(64, 64)
        for rows, cols in positions:
            cover[rows, cols] += 1
        assert bool((cover == 1).all()), kind  # every pixel covered exactly once
    rows, cols = occ["hstripes"][2]
    assert (rows.start, rows.stop, cols.start, cols.stop) == (18, 27, 0, 64)


def test_occluding_with_the_images_own_colour_changes_nothing_and_a_different_fill_does():
    torch.manual_seed(0)
    net = DLDLNet(WIDTHS["tiny"], 101).eval()
    method = Method("dldl-v2", L.AGE.vector().float())
    fill = torch.tensor([150.0, 110.0, 90.0])
    images = fill.round().to(torch.uint8).expand(3, 64, 64, 3).clone()
    y = torch.tensor([10.0, 40.0, 70.0])
    base, errs = I.occlusion_errors(net, method, images, y, fill)
    assert errs["squares"].shape == (49, 3) and errs["hstripes"].shape == (7, 3)
    assert all(torch.allclose(e, base.expand_as(e), atol=1e-4) for e in errs.values())
    textured = torch.randint(0, 256, (3, 64, 64, 3), dtype=torch.uint8)
    base, errs = I.occlusion_errors(net, method, textured, y, fill)
    assert not torch.allclose(errs["hstripes"], base.expand_as(errs["hstripes"]))


def test_score_maps_are_scaled_per_image_and_follow_the_served_head():
    net = DLDLNet(WIDTHS["tiny"], 11, panels={"scut": 5}).eval()
    images = torch.randint(0, 256, (2, 64, 64, 3), dtype=torch.uint8)
    s = I.score_maps(net, images)
    assert s.shape == (2, 4, 4) and float(s.min()) == pytest.approx(0.0, abs=1e-6) and float(s.amax(dim=(1, 2)).min()) == pytest.approx(1.0, abs=1e-4)
    assert not torch.allclose(I.score_maps(net, images, "scut"), s)


def test_the_training_mean_comes_from_the_cards_last_training_command():
    card = {"training": {"command": "python3 -m training.dldl.train --dataset utkface --extra aaf --arch tiny --size 64 --out runs/x"}}
    assert I.training_sets(card) == (["utkface", "aaf"], 64)
    # An ensemble's own command trains nothing: the last training command among its members' stages counts.
    ensemble = {"training": {"command": "python3 -m training.dldl.ensemble --out runs/e a.pt b.pt",
                             "stages": [{"command": "python3 -m training.dldl.train --dataset mebeauty --extra scut --size 64 --out runs/a"},
                                        {"command": "python3 -m training.dldl.ensemble --out runs/e a.pt b.pt"}]}}
    assert I.training_sets(ensemble) == (["mebeauty", "scut"], 64)


def test_attractiveness_is_skipped_with_a_reason_without_a_scut_head(tmp_path, monkeypatch):
    (tmp_path / "TinyAttNet.json").write_text(json.dumps({"name": "TinyAttNet", "task": "attractiveness", "params": 1,
                                                         "metrics": {}, "training": {}}))
    monkeypatch.setattr(I, "MODELS", tmp_path)
    card, panel, why = I.model_for("scut")
    assert card is None and "SCUT-FBP5500 head" in why
    assert I.run_study("scut", results=None, figures=None) == {"study": "scut", "skipped": why}
