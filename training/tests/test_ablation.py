"""The ablation study's plan, its resume/skip/set-aside logic (with a stand-in for train.py), and
the report's ablation section on a study that is partly done."""
import json
from pathlib import Path

import pytest

from training.dldl import ablation as A
from training.dldl import report_ablation


def test_the_study_has_every_row_of_tables_6_and_7_and_two_seeds_where_asked():
    methods = {r.tags["method"] for r in A.ROWS if r.seed == 0 and r.tags["lam"] in (0.0, 1.0) and r.tags["delta"] == 1.0}
    assert methods == {"dldl-v2", "dldl", "er", "dex", "ranking", "mr-l1", "mr-l2"}
    dldl_v2 = [r for r in A.ROWS if r.tags["method"] == "dldl-v2" and r.seed == 0]
    assert {r.tags["lam"] for r in dldl_v2} | {0.0} == {0.0, 0.1, 1.0, 10.0}  # λ = 0 is the DLDL row
    assert {r.tags["delta"] for r in dldl_v2} == {0.5, 1.0, 2.0, 4.0}
    assert {r.tags["method"] for r in A.ROWS if r.seed == 1} == {"dldl-v2", "dldl"}
    assert len({r.name for r in A.ROWS}) == len(A.ROWS) == 14


def test_every_row_shares_data_schedule_and_budget():
    for row in A.ROWS:
        c = A.configuration(row, 15, None, ["--limit", "64"])
        assert c[:c.index("--method")] == A.common_options(15)
        assert c[c.index("--extra") + 1] == "aaf" and "cosine" in c and c[c.index("--epochs") + 1] == "15" and "--bf16" in c
        assert c[-4:] == ["--seed", str(row.seed), "--limit", "64"]
    assert A.common_options(15, 16384)[-2:] == ["--epoch-size", "16384"]


class FakeTrain:
    """Stands in for `python3 -m training.dldl.train`: writes result.json under --out."""
    calls: list[list[str]] = []

    def __init__(self, argv, cwd=None, stdout=None, stderr=None, pass_fds=()):
        FakeTrain.calls.append(argv)
        out = Path(cwd) / argv[argv.index("--out") + 1]
        epochs = int(argv[argv.index("--epochs") + 1])
        (out / "result.json").write_text(json.dumps({"args": {"epochs": epochs}, "seconds": 1.0, "test": {"mae": 5.0},
                                                     "command": " ".join(argv[1:])}))

    def wait(self):
        return 0

    def poll(self):
        return 0


@pytest.fixture
def fake_train(monkeypatch):
    FakeTrain.calls = []
    monkeypatch.setattr(A.subprocess, "Popen", FakeTrain)
    return FakeTrain


def test_done_rows_are_skipped_and_rows_of_another_budget_set_aside(tmp_path, fake_train):
    rows = A.select("dldl-v2,dldl")
    assert A.Study(tmp_path, 3, None, []).run(rows) == 0
    assert len(fake_train.calls) == 2 and all("--resume" in c for c in fake_train.calls)
    assert A.Study(tmp_path, 3, None, []).run(rows) == 0
    assert len(fake_train.calls) == 2  # nothing to do
    assert A.row_status(tmp_path, A.ROW_BY_NAME["dldl"], A.Study(tmp_path, 3, None, []).config(A.ROW_BY_NAME["dldl"]))["state"] == "done"
    # Another budget: the old run is kept aside, the row trains again from scratch.
    assert A.Study(tmp_path, 4, None, []).run(A.select("dldl")) == 0
    assert len(fake_train.calls) == 3 and "4" == fake_train.calls[-1][fake_train.calls[-1].index("--epochs") + 1]
    assert [p.name.rsplit("-", 2)[0] for p in (tmp_path / ".stale").iterdir()] == ["dldl"]
    meta = json.loads((tmp_path / "dldl" / "ablation.json").read_text())
    assert meta["epochs"] == 4 and meta["attempts"] == 1 and meta["finished"]


def test_row_status_tells_partial_from_not_started_and_foreign_folders(tmp_path):
    row = A.ROW_BY_NAME["er"]
    config = A.configuration(row, 15)
    assert A.row_status(tmp_path, row, config)["state"] == "not-started"
    (tmp_path / "er").mkdir()
    (tmp_path / "er" / "ablation.json").write_text(json.dumps({"row": "er", "config": config, "epochs": 15, "wall_seconds": 9.0, "attempts": 1}))
    s = A.row_status(tmp_path, row, config)
    assert s["state"] == "partial" and s["epoch"] == 0
    (tmp_path / "er" / "train.log").write_text('# attempt 1: ...\n{"epoch": 1, "val_mae": 9.0}\n{"epoch": 2, "val_mae": 8.0}\n'
                                               '# attempt 2: ...\n{"epoch": 3, "val_mae": 7.5}\nTraceback (most recent call last):\n')
    assert A.row_status(tmp_path, row, config)["epoch"] == 3  # from the log: no torch needed
    assert A.row_status(tmp_path, row, A.configuration(row, 20))["state"] == "other-config"
    (tmp_path / "dex").mkdir()
    (tmp_path / "dex" / "result.json").write_text("{}")  # a run of the old script, no ablation.json
    assert A.row_status(tmp_path, A.ROW_BY_NAME["dex"])["state"] == "other-config"


def test_a_second_study_on_the_same_folder_is_refused(tmp_path, fake_train):
    import fcntl

    tmp_path.mkdir(exist_ok=True)
    with open(tmp_path / ".lock", "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        assert A.Study(tmp_path, 3, None, []).run(A.select("dldl")) == 75
    assert fake_train.calls == []


def _fake_row(runs: Path, name: str, mae: float, epochs: int = 15, finished: bool = True, epoch_done: int | None = None):
    row = A.ROW_BY_NAME[name]
    folder = runs / name
    folder.mkdir(parents=True)
    meta = {"row": name, "config": A.configuration(row, epochs), "epochs": epochs, "wall_seconds": 1900.0, "attempts": 1}
    if finished:
        meta["finished"] = "2026-12-02 10:00:00"
        args = {"epochs": epochs, "epoch_size": None, "dataset": "utkface", "extra": ["aaf"], "arch": "tiny", "size": 64,
                "schedule": "cosine", "lr": 1e-3, "warmup": 1.0, "batch": 128, "sigma": 2.0, "limit": None}
        history = [{"epoch": e + 1, "val_mae": mae + 3.0 / (e + 1)} for e in range(epochs)]
        (folder / "result.json").write_text(json.dumps({
            "args": args, "seconds": 1830.0, "hardware": "x86_64 CPU x2 threads", "history": history,
            "mix": {"group": {"white": {"images": 10000}, "asian": {"images": 14315}}},
            "test": {"mae": mae, "eps_error": 0.6, "cs5": 0.6}, "sets": {"aaf:test": {"mae": mae - 1}},
            "command": f"python3 -m training.dldl.train {' '.join(meta['config'])} --out runs/ablation/{name}"}))
    (folder / "ablation.json").write_text(json.dumps(meta))


def test_report_states_budget_seeds_spread_unfinished_rows_and_the_papers_values(tmp_path):
    for name, mae in [("dldl-v2", 5.10), ("dldl-v2-seed1", 5.16), ("dldl", 5.30), ("dldl-seed1", 5.26), ("mr-l2", 6.20),
                      ("dldl-v2-lam10", 5.12)]:
        _fake_row(tmp_path, name, mae)
    _fake_row(tmp_path, "er", 0.0, finished=False)
    text = report_ablation.ablation_section(tmp_path)
    assert "Budget: 15 epoch(s) per row of 24,315 images" in text
    assert "Seeds: 0 for every row, and 1 for DLDL-v2 and DLDL" in text and "6 of 14 rows finished" in text
    assert "seeds 0 / 1: 5.100 / 5.160 (|Δ| 0.060)" in text and "seeds 0 / 1: 5.300 / 5.260 (|Δ| 0.040)" in text
    assert "| ER (ℓ1 only) |" in text and "not finished (epoch 0 of 15)" in text and "| DEX | `--method dex` | | | | | | | not started |" in text
    assert "3.135" in text and "3.228" in text and "3.665" in text  # Table 6 beside the paper's
    assert "3.188" in text and "3.144" in text  # Table 7
    # Noise: s = sqrt((0.06² + 0.04²) / 4) ≈ 0.036, bound = 4.303·√2·s ≈ 0.219: DLDL-v2 vs DLDL (−0.200) is a lean.
    assert "**0.219**" in text
    assert "| DLDL-v2 beats DLDL (λ = 1 vs 0: the expectation term helps) | -0.093 / -0.057 / -0.163 | -0.200; seed 1: Δ -0.100 (same direction) | leans towards it" in text
    assert "| DLDL-v2 beats ER (the distribution term helps) | -0.152 / -0.189 / -0.245 | – | not run yet |" in text
    assert "Only 3 of the 7 methods have finished" in text
    assert "not legible in the text here" in text  # Δl = 0.25's paper value, said so rather than guessed
    assert "**agrees**: range 0.020" in text  # λ 1 vs 10: 0.02 within the seed spread 0.06


def test_report_without_any_finished_row_says_so(tmp_path):
    text = report_ablation.ablation_section(tmp_path)
    assert "None of the 14 rows has finished" in text and "noise: unknown" in text
