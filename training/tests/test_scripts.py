"""The training scripts name the runs the cards were exported from: export.sh re-exports each served
model from the run its card's last stage names, and models.sh has a stage that makes that run, so a
fresh machine reproduces what is served."""
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CARDS = sorted((ROOT / "models").glob("*.json"))


def export_runs() -> dict[str, str]:
    script = (ROOT / "training/scripts/export.sh").read_text()
    declared = re.search(r"declare -A RUNS=\((.*?)\)", script).group(1)
    return dict(re.findall(r"\[(\w+)\]=(\S+)", declared))


def served_run(card: dict) -> str:
    return card["training"]["stages"][-1]["run"]


def test_export_names_each_cards_last_stage():
    runs = export_runs()
    cards = {c["name"]: c for c in map(lambda p: json.loads(p.read_text()), CARDS) if "training" in c}
    assert set(runs) == set(cards)
    assert {name: served_run(card) for name, card in cards.items()} == runs


def test_models_sh_makes_every_served_run():
    script = (ROOT / "training/scripts/models.sh").read_text()
    made = set(re.findall(r"done_run (\S+)", script))
    stages = set(re.search(r'STAGES=\$\{STAGES:-"([^"]*)"\}', script).group(1).split())
    for run in export_runs().values():
        name = run.removeprefix("runs/")
        assert name in made, f"models.sh has no stage that makes {run}"
        stage = re.search(rf"\n\s*([\w-]+)\)\n\s*done_run {re.escape(name)} ", script).group(1)
        assert stage in stages, f"models.sh's default STAGES leave out {stage}"
