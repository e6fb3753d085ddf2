"""report.splice_sections: regenerates the named sections of an existing report and keeps the rest."""
from training.dldl import report as R


def test_splice_replaces_renames_and_inserts_in_order():
    old = ("# Report\n\nintro\n\n## Served models (cards)\n\nold cards\n\n## History\n\nkept as it was\n\n"
           "## Score maps (Section 5.1)\n\nold maps\n")
    sections = {"## Served models (cards)": lambda: "new cards",
                "## Score maps (Section 5.1): age": lambda: "new age maps",
                "## Score maps (Section 5.1): attractiveness": lambda: "new beauty maps"}
    out = R.splice_sections(old, sections)
    assert "old cards" not in out and "new cards" in out
    assert "kept as it was" in out
    assert "old maps" not in out and "## Score maps (Section 5.1)\n" not in out
    # The renamed section keeps its place; the new one follows the section before it in `sections`.
    headings = [line for line in out.splitlines() if line.startswith("## ")]
    assert headings == ["## Served models (cards)", "## History", "## Score maps (Section 5.1): age",
                        "## Score maps (Section 5.1): attractiveness"]
    assert out.endswith("new beauty maps\n")


def test_intro_comes_from_its_file_and_the_sections_stay(tmp_path, monkeypatch):
    intro = tmp_path / "intro.md"
    intro.write_text("# Model report\n\nnew intro\n")
    monkeypatch.setattr(R, "INTRO", intro)
    first = next(iter(R.report_sections(tmp_path)))
    old = f"# Model report\n\nold intro\n\n{first}\n\ncards\n\n## Ablation\n\nrows\n"
    assert R.with_intro(old) == f"# Model report\n\nnew intro\n\n{first}\n\ncards\n\n## Ablation\n\nrows\n"
