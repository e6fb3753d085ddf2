"""End to end on a handful of real UTKFace crops: train two epochs, export, reload the ONNX graph."""
import json

import onnx
import pytest
import torch

from training.dldl import distill, export, restore, train


def test_train_export_and_card(tmp_path, require_data):
    require_data("utkface/labels.csv", "utkface/64")
    run = tmp_path / "run"
    result = train.main(["--dataset", "utkface", "--arch", "tiny", "--epochs", "2", "--limit", "96", "--batch", "32",
                         "--bf16", "--out", str(run)])
    assert result["test"]["n"] == 96 and result["test"]["mae"] > 0
    assert 0.1 <= result["temperature"] <= 4.0
    assert len(result["history"]) == 2 and (run / "best.pt").exists()
    export.main(["--run", str(run), "--name", "T", "--models", str(tmp_path / "models"), "--checkpoints", str(tmp_path / "ck")])
    card = json.loads((tmp_path / "models" / "T.json").read_text())
    assert set(card["serving"]["tiers"]) == {"fast"} and card["tiers"]["fast"]["metrics"]["utkface:test"]["n"] == 96
    assert card["robustness"]["utkface:test"]["jpeg"][1]["severity"] == 2
    saved = torch.load(tmp_path / "ck" / "run.pt")
    assert saved["stages"][-1]["epochs"] == 2 and all(v.dtype != torch.float16 for v in saved["model"].values())
    assert card["labels"]["k"] == 101 and card["input"] == {**card["input"], "layout": "NHWC", "dtype": "uint8", "size": 64}
    graph = onnx.load(str(tmp_path / "models" / "T.onnx"))
    assert [o.name for o in graph.graph.output] == ["probs", "value", "scoremap"]
    assert graph.opset_import[0].version >= 13

    # A fresh machine has the committed checkpoint and card only: restore the run and re-export it.
    for f in run.iterdir():
        f.unlink()
    restore.restore(tmp_path / "ck" / "run.pt", card)
    export.main(["--run", str(run), "--name", "T", "--models", str(tmp_path / "again"), "--checkpoints", str(tmp_path / "ck2"),
                 "--no-robustness"])
    again = json.loads((tmp_path / "again" / "T.json").read_text())
    assert again["sha256"] == card["sha256"] and again["tiers"] == card["tiers"]
    assert again["training"]["stages"] == card["training"]["stages"] and again["training"]["mix"] == card["training"]["mix"]

    # Distillation from a served card and from a stage checkpoint (a snapshot no longer served):
    # the same weights teach the same distributions, and the student's card names its teachers.
    soft = distill.soft_labels([str(tmp_path / "models" / "T.json")], "utkface", [], 64, limit=96)
    from_checkpoint = distill.soft_labels([str(tmp_path / "ck" / "run.pt")], "utkface", [], 64, limit=96)
    assert soft["files"] == from_checkpoint["files"] and len(soft["files"]) == 96
    assert (soft["probs"].float() - from_checkpoint["probs"].float()).abs().max() < 2e-3
    assert from_checkpoint["teachers"] == [{"checkpoint": str(tmp_path / "ck" / "run.pt")}] and soft["teachers"][0]["name"] == "T"
    torch.save(from_checkpoint, tmp_path / "soft.pt")
    student = tmp_path / "student"
    train.main(["--dataset", "utkface", "--arch", "tiny", "--epochs", "1", "--limit", "96", "--batch", "32", "--bf16",
                "--teacher", str(tmp_path / "soft.pt"), "--distill", "0.5", "--out", str(student)])
    export.main(["--run", str(student), "--name", "S", "--models", str(tmp_path / "models"), "--checkpoints", str(tmp_path / "ck"),
                 "--no-robustness"])
    learnt = json.loads((tmp_path / "models" / "S.json").read_text())["training"]["distillation"]
    assert learnt["weight"] == 0.5 and learnt["teachers"] == from_checkpoint["teachers"]


def test_moving_average_is_what_is_validated_kept_and_resumed(tmp_path, require_data):
    require_data("utkface/labels.csv", "utkface/64")
    run = tmp_path / "run"
    common = ["--dataset", "utkface", "--arch", "tiny", "--limit", "64", "--batch", "32", "--ema", "0.9", "--out", str(run)]
    train.main(common + ["--epochs", "1"])
    ck = torch.load(run / "last.pt")
    assert ck["ema_steps"] == 2 and set(ck["raw"]) == set(ck["model"])
    # The average lags the raw weights: they differ, and both are validated.
    assert any(not torch.equal(ck["raw"][k], ck["model"][k]) for k in ck["model"] if ck["model"][k].is_floating_point())
    assert {"val_mae", "val_mae_raw"} <= set(ck["history"][0])
    assert torch.equal(torch.load(run / "best.pt")["model"]["fc.weight"], ck["model"]["fc.weight"])
    # Resuming continues both: raw weights from "raw", the average and its step count from "model".
    train.main(common + ["--epochs", "2", "--resume"])
    again = torch.load(run / "last.pt")
    assert again["ema_steps"] == 4 and len(again["history"]) == 2 and again["history"][0] == ck["history"][0]


def test_aaf_splits_by_file_hash_and_extends_the_training_split(tmp_path, monkeypatch):
    import numpy as np
    from PIL import Image
    from training.dldl import data

    folder = tmp_path / "aaf-utkface-64"
    folder.mkdir()
    files = [f"{i:05d}A{20 + i % 50}.png" for i in range(60)]
    for i, f in enumerate(files):
        Image.fromarray(np.full((64, 64, 3), i, np.uint8)).save(folder / f)
    (folder / "labels.csv").write_text("file,age,gender,score\n" + "".join(f"{f},{20 + i % 50},1,0.9\n" for i, f in enumerate(files)))
    monkeypatch.setenv("ALIGNED_DIR", str(tmp_path))
    monkeypatch.setattr(data, "CACHE", tmp_path / "cache")
    parts = {s: data.aaf(s, 64) for s in ("train", "val", "test")}
    assert sum(len(p.y) for p in parts.values()) == 60 and all(len(p.y) for p in parts.values())
    assert len(parts["train"].y) > len(parts["val"].y) + len(parts["test"].y)
    # The split is a function of the stem alone: the aligned PNG and the source JPEG agree.
    assert all(data.hash_split(r["file"]) == data.hash_split(r["file"].replace(".png", ".jpg")) == s
               for s, p in parts.items() for r in p.meta)
    first = parts["train"].meta[0]
    assert first["group"] == "asian" and int(parts["train"].images[0, 0, 0, 0]) == files.index(first["file"])
    both = data.concat(data.Split(torch.zeros(2, 64, 64, 3, dtype=torch.uint8), torch.tensor([5.0, 6.0]), None, [{}, {}]), parts["train"])
    assert both.y.tolist()[:2] == [5.0, 6.0] and both.sigma is None and len(both.meta) == 2 + len(parts["train"].y)


def test_aaf_without_prepared_crops_says_how_to_make_them(tmp_path, monkeypatch):
    from training.dldl import data

    monkeypatch.setenv("ALIGNED_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="prepare-data -- --set aaf"):
        data.aaf("train", 64)


def test_a_runner_model_s_accurate_views_are_chosen_on_validation(tmp_path, require_data):
    require_data("utkface/labels.csv", "utkface/64")
    run = tmp_path / "run"
    train.main(["--dataset", "utkface", "--arch", "thin", "--epochs", "1", "--limit", "64", "--batch", "32", "--bf16", "--out", str(run)])
    export.main(["--run", str(run), "--name", "T", "--models", str(tmp_path / "models"), "--checkpoints", str(tmp_path / "ck"),
                 "--no-robustness"])
    card = json.loads((tmp_path / "models" / "T.json").read_text())
    choice = card["serving"]["accurate_choice"]
    assert set(card["serving"]["tiers"]) == {"standard", "accurate"} and card["serving"]["tiers"]["standard"] == {"flip": False}
    assert choice["chosen_on"] == "utkface:val" and len(choice["candidates"]) == 6
    chosen = next(c for c in choice["candidates"] if c["config"] == card["serving"]["tiers"]["accurate"])
    assert not chosen["breaches"] or all(c["breaches"] for c in choice["candidates"])
    assert chosen["mae"]["utkface"] <= choice["standard_mae"]["utkface"] or chosen["breaches"]
    # Each tier reports the coverage of the interval it answers with (its own views, the card's temperature).
    assert all(0 <= card["tiers"][t]["metrics"]["utkface:test"]["coverage90"] <= 1 for t in ("standard", "accurate"))


def test_validate_reports_each_validation_set_in_one_pass_and_flipped(tmp_path, require_data):
    require_data("utkface/labels.csv", "utkface/64")
    from training.dldl import validate

    run = tmp_path / "run"
    train.main(["--dataset", "utkface", "--arch", "tiny", "--epochs", "1", "--limit", "64", "--batch", "32", "--out", str(run)])
    [row] = validate.main([str(run / "best.pt")])
    assert row["set"] == "utkface:val" and row["n"] == 64
    assert row["one_pass"]["all"] != row["flip"]["all"] and row["one_pass"]["all"][0] == 64
    assert set(row["one_pass"]) <= {"all", "0-12", "13-19", "20-39", "40-59", "60+"}
    assert sum(n for band, (n, _) in row["one_pass"].items() if band != "all") == 64
    # The one-pass MAE is the one training selected the epoch by (same views, same split).
    history = json.loads((run / "result.json").read_text())["history"]
    assert row["one_pass"]["all"][1] == pytest.approx(history[0]["val_mae"], abs=1e-4)


def test_validate_averages_an_ensembles_distributions(tmp_path, require_data):
    require_data("utkface/labels.csv", "utkface/64")
    from training.dldl import evaluate, validate
    from training.dldl import labels as L
    from training.dldl.data import load
    from training.dldl.export import load_checkpoint

    runs = []
    for seed in (0, 1):
        runs.append(str(tmp_path / f"run{seed}" / "best.pt"))
        train.main(["--dataset", "utkface", "--arch", "tiny", "--epochs", "1", "--limit", "64", "--batch", "32",
                    "--seed", str(seed), "--out", str(tmp_path / f"run{seed}")])
    a, b, twice, both = validate.main([runs[0], runs[1], f"{runs[0]}+{runs[0]}", "+".join(runs)])
    assert twice["checkpoint"] == f"{runs[0]}+{runs[0]}" and twice["one_pass"].keys() == a["one_pass"].keys()
    assert all(twice["one_pass"][k] == pytest.approx(a["one_pass"][k], abs=1e-4) for k in a["one_pass"])
    # The members' distributions are averaged, not their estimates.
    split = load("utkface", "val", 64, 64)
    probs = []
    for path in runs:
        net, methods = load_checkpoint(path)
        probs.append(evaluate.predict(net, methods[None], split.images, flip=False)[1])
    mean = L.expectation((probs[0] + probs[1]) / 2, methods[None].labels)
    assert both["one_pass"]["all"][1] == pytest.approx(float((mean.double() - split.y.double()).abs().mean()), abs=1e-4)
    assert both["one_pass"]["all"] != a["one_pass"]["all"] and both["one_pass"]["all"] != b["one_pass"]["all"]


def test_tier_breaches_name_each_set_and_large_band_where_standard_is_worse():
    from training.dldl.validate import tier_breaches

    row = lambda all_, young, old: [{"set": "utkface:val", "one_pass": {"all": (350, all_), "20-39": (300, young), "60+": (50, old)}}]
    fast = row(5.4, 4.8, 8.0)
    assert tier_breaches(fast, row(5.5, 4.9, 9.0)) == ["utkface:val all", "utkface:val 20-39"]
    assert tier_breaches(fast, row(5.2, 4.7, 9.0)) == []  # 60+ is worse but below the 100-face floor


def test_soft_labels_follow_each_sets_rater_panel(tmp_path, monkeypatch):
    """Attractiveness trains MEBeauty on the served head and SCUT-FBP5500 on its own: each image's
    soft label comes from the head its set trains, and the student's loss reads that panel's."""
    from training.dldl import distill
    from training.dldl.data import Split

    gen = torch.Generator().manual_seed(0)
    fake = {name: Split(torch.randint(0, 256, (n, 64, 64, 3), dtype=torch.uint8, generator=gen), torch.full((n,), y),
                        torch.full((n,), 1.0), [{"file": f"{name}-{i}.png"} for i in range(n)])
            for name, n, y in (("mebeauty", 5, 5.0), ("scut", 3, 3.0))}
    monkeypatch.setattr(distill, "load", lambda name, split, size, limit=None: fake[name])
    args = train.parse_args(["--dataset", "mebeauty", "--extra", "scut", "--arch", "tiny", "--out", str(tmp_path / "t")])
    net, methods, _ = train.build(args)
    torch.save({"model": net.state_dict(), "args": vars(args)}, tmp_path / "teacher.pt")
    soft = distill.soft_labels([str(tmp_path / "teacher.pt")], "mebeauty", ["scut"], 64)
    probs = soft["probs"]
    assert set(probs) == {None, "scut"} and soft["files"][5] == "scut-0.png"
    assert probs[None].shape == (8, len(methods[None].labels)) and probs["scut"].shape == (8, len(methods["scut"].labels))
    # Each row is a distribution under its own set's head and zero under the other.
    assert torch.allclose(probs[None][:5].float().sum(1), torch.ones(5), atol=1e-2) and probs[None][5:].abs().sum() == 0
    assert torch.allclose(probs["scut"][5:].float().sum(1), torch.ones(3), atol=1e-2) and probs["scut"][:5].abs().sum() == 0
    from training.dldl.evaluate import predict
    expected = predict(net.eval(), methods["scut"], fake["scut"].images, flip=True, panel="scut")[1]
    assert torch.allclose(probs["scut"][5:].float(), expected, atol=2e-3)
    torch.save(soft, tmp_path / "soft.pt")
    learnt = train.load_teacher(str(tmp_path / "soft.pt"), Split(None, None, None, fake["mebeauty"].meta + fake["scut"].meta))
    assert set(learnt) == {None, "scut"} and learnt["scut"].dtype == torch.float32


def test_an_ensemble_is_exported_as_one_model_and_restored(tmp_path, require_data):
    """Two stages averaged (training/dldl/ensemble.py): one ONNX file whose distribution is the
    members' mean, one card listing both members' stages; a fresh machine re-exports it."""
    require_data("utkface/labels.csv", "utkface/64")
    from training.dldl import ensemble
    from training.dldl.export import ServingGraph, fold_and_round, load_checkpoint

    stages = []
    for arch, seed in (("thin", 0), ("tiny", 1)):
        run = tmp_path / f"{arch}-run"
        train.main(["--dataset", "utkface", "--arch", arch, "--epochs", "1", "--limit", "64", "--batch", "32",
                    "--seed", str(seed), "--out", str(run)])
        stages.append(str(export.save_checkpoint(run, json.loads((run / "result.json").read_text()), tmp_path / "ck")))
    ensemble.main(["--out", str(tmp_path / "ens"), *stages])
    export.main(["--run", str(tmp_path / "ens"), "--name", "E", "--models", str(tmp_path / "models"),
                 "--checkpoints", str(tmp_path / "ck"), "--no-robustness"])
    card = json.loads((tmp_path / "models" / "E.json").read_text())
    assert [m["width"] for m in card["architecture"]["ensemble"]] == [0.5, 0.25] and set(card["serving"]["tiers"]) == {"standard", "accurate"}
    assert [s.get("run") for s in card["training"]["stages"]] == [str(tmp_path / "thin-run"), str(tmp_path / "tiny-run"), card["training"]["stages"][-1]["run"]]
    assert card["training"]["stages"][-1]["ensemble"] == stages
    assert stages[0] in card["training"]["describes"]  # the hyperparameter fields are the first member's
    # It serves on its first member's data: the card's mix is that run's (its checkpoint records it).
    thin_mix = json.loads((tmp_path / "thin-run" / "result.json").read_text())["mix"]
    assert thin_mix and {k: v for k, v in card["training"]["mix"].items() if k != "balance_power"} == thin_mix
    # The served graph answers with the members' mean distribution, as PyTorch computes it.
    members = [fold_and_round(load_checkpoint(path)[0]) for path in stages]
    net, methods = load_checkpoint(tmp_path / "ck" / "ens.pt")
    images = torch.randint(0, 256, (3, 64, 64, 3), dtype=torch.uint8)
    with torch.no_grad():
        mean = sum(torch.softmax(m(images.permute(0, 3, 1, 2).float()), 1) for m in members) / 2
        probs = ServingGraph(fold_and_round(net), methods)(images)[0]
    assert torch.allclose(probs, mean, atol=1e-5)
    graph = onnx.load(str(tmp_path / "models" / "E.onnx"))
    assert [o.name for o in graph.graph.output] == ["probs", "value", "scoremap"]
    # Tools that start from a card (the interpretation studies, a distillation teacher) get the ensemble as served.
    from training.dldl.onnx_init import served_network
    served, _ = served_network(tmp_path / "models" / "E.json")
    with torch.no_grad():
        assert torch.allclose(torch.softmax(served(images.permute(0, 3, 1, 2).float()), 1), mean, atol=1e-5)
    # A fresh machine: the committed checkpoint and the card rebuild the run; the re-export is identical.
    for f in (tmp_path / "ens").iterdir():
        f.unlink()
    restore.restore(tmp_path / "ck" / "ens.pt", card)
    export.main(["--run", str(tmp_path / "ens"), "--name", "E", "--models", str(tmp_path / "again"),
                 "--checkpoints", str(tmp_path / "ck2"), "--no-robustness"])
    again = json.loads((tmp_path / "again" / "E.json").read_text())
    assert again["sha256"] == card["sha256"] and again["training"]["stages"] == card["training"]["stages"]
