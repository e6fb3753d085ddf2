"""models/REPORT.md, generated: each served model's card metrics and training stages, the
ablation study (Tables 6 and 7) from runs/ablation/*, each table beside the paper's, and the
interpretability studies (score maps, Section 5.1; occlusion, Section 5.2) from
training/results/interpret-*.json.

    python3 -m training.dldl.report              # the report from what is there
    python3 -m training.dldl.report --figures    # first recompute the score maps and occlusion (interpret.py)
    python3 -m training.dldl.report --ablation /tmp/abl --out /tmp/REPORT.md   # another study folder, elsewhere
    python3 -m training.dldl.report --cards-only  # only the sections made from the cards (no runs/ needed)

The sections come from report_cards.py (the cards), report_ablation.py (the study's runs) and
report_interpret.py (interpret.py's JSON); this module puts them in order and splices them into
an existing report.
"""
import argparse
from pathlib import Path

from . import ablation as A
from .data import REPO
from .report_ablation import ablation_section
from .report_cards import aaf_table, card_table, minor_guard_table, stages_table, tiers_table
from .report_interpret import RESULTS, interpret_section, score_map_section

# Headings an earlier report used for a section that has another heading now.
RENAMED_SECTIONS = {"## Ablation (Table 6/7 on UTKFace, TinyAgeNet 64 px, equal budget)": "## Ablation (Tables 6 and 7: TinyAgeNet 64 px on UTKFace + AAF, one budget for every row)",
                    "## Occlusion sensitivity (Section 5.2)": "## Occlusion sensitivity (Section 5.2): age",
                    "## Score maps (Section 5.1)": "## Score maps (Section 5.1): age"}


INTRO = REPO / "training" / "REPORT.intro.md"  # the hand-written part, before the generated sections


def splice_sections(report: str, sections: dict) -> str:
    """The report with the given sections ({heading: make}, in report order) regenerated and the
    rest kept: each section is replaced up to the next heading; a missing one goes after the
    section before it in `sections` (or after the first section)."""
    for old, new in RENAMED_SECTIONS.items():
        report = report.replace("\n" + old + "\n", "\n" + new + "\n")
    previous = "## Served models"
    for heading, make in sections.items():
        body = f"{heading}\n\n{make()}\n\n"
        start = report.find("\n" + heading + "\n") + 1  # 0: not there
        if not start:
            anchor = report.find("\n" + previous) + 1 or report.index("## Served models")
            end = report.find("\n## ", anchor + 1)
            at = end + 1 if end >= 0 else len(report)
            report = report[:at] + body + report[at:]
        else:
            end = report.find("\n## ", start + len(heading))
            report = report[:start] + body + (report[end + 1:] if end >= 0 else "")
        previous = heading
    return report.rstrip("\n") + "\n"


def splice_card_sections(report: str) -> str:
    """The report with only its card-derived sections (and the intro) regenerated, for a machine
    without the runs."""
    return splice_sections(with_intro(report), CARD_SECTIONS)


def with_intro(report: str) -> str:
    """The report with its intro (everything before the first section) from training/REPORT.intro.md."""
    first = "\n" + next(iter(report_sections(Path("."))))
    return INTRO.read_text() + report[report.index(first):]


def report_sections(runs: Path, results: Path = RESULTS) -> dict:
    """Every section after the intro, in report order: {heading: make}. runs: the ablation study's
    folder; results: interpret.py's JSON."""
    return {"## Served models (card metrics, flip-averaged, test splits)": card_table,
            "## Tiers: what each runs and how well": tiers_table,
            "## Ablation (Tables 6 and 7: TinyAgeNet 64 px on UTKFace + AAF, one budget for every row)": lambda: ablation_section(runs),
            "## How the served models were trained": stages_table,
            "## Adding AAF to age training": aaf_table,
            "## Minors guard: the API's beauty cut-off": minor_guard_table,
            "## Occlusion sensitivity (Section 5.2): age": lambda: interpret_section("age", "", results),
            "## Occlusion sensitivity (Section 5.2): attractiveness, SCUT-FBP5500's four groups":
                lambda: interpret_section("scut", "-scut", results),
            "## Score maps (Section 5.1): age": lambda: score_map_section("age", "", results),
            "## Score maps (Section 5.1): attractiveness": lambda: score_map_section("scut", "-scut", results)}


# The sections made from the cards alone (--cards-only: a machine without the runs).
CARD_SECTIONS = {h: make for h, make in report_sections(Path(".")).items()
                 if make in (card_table, tiers_table, stages_table, minor_guard_table)}


# Sections made from what a fresh machine has (cards, the ablation's runs, interpret's JSON): the
# training history (the AAF comparison) needs runs/ from the machine that trained.
HISTORY_SECTIONS = ("## Adding AAF to age training",)


def build_report(runs: Path, results: Path = RESULTS) -> str:
    return INTRO.read_text() + "".join(f"\n{heading}\n\n{make()}\n" for heading, make in report_sections(runs, results).items())


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--figures", action="store_true", help="recompute the score maps and occlusion studies first (interpret.py)")
    p.add_argument("--ablation", default=str(A.DEFAULT_RUNS), help="the ablation study's folder (runs/ablation)")
    p.add_argument("--interpret", default=str(RESULTS), help="where interpret.py's JSON is")
    p.add_argument("--out", default=str(REPO / "models" / "REPORT.md"))
    p.add_argument("--cards-only", action="store_true", help="regenerate only the sections made from models/*.json in --out")
    p.add_argument("--keep-history", action="store_true",
                   help="regenerate every section but the training history (which needs the training machine's runs/) in --out")
    a = p.parse_args(argv)
    if a.cards_only:
        out = Path(a.out)
        out.write_text(splice_card_sections(out.read_text()))
        print(f"updated the card sections of {out}")
        return
    results = Path(a.interpret)
    runs = Path(a.ablation) if Path(a.ablation).is_absolute() else REPO / a.ablation
    if a.keep_history:
        out = Path(a.out)
        # The ablation section too is kept when this machine has no runs of the study.
        kept = HISTORY_SECTIONS + (() if runs.exists() else tuple(h for h in report_sections(runs) if h.startswith("## Ablation")))
        sections = {h: make for h, make in report_sections(runs, results).items() if h not in kept}
        out.write_text(splice_sections(with_intro(out.read_text()), sections))
        print(f"updated every section of {out} but {', '.join(kept)}")
        return
    if a.figures:
        from . import interpret

        interpret.main(["--results", a.interpret, "--figures", str(Path(a.out).parent)])
    report = build_report(runs, results)
    Path(a.out).write_text(report)
    print(report)


if __name__ == "__main__":
    main()
