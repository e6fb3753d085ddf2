from collections import Counter

import pytest

from training.dldl.balanced_sample import balanced_sample, sample_counts

# Five cells of very different sizes, as UTKFace's test split has (age band × group): one large,
# one exactly at the quota, two short, one empty cell that simply never appears.
CELLS = [("20-39", "white")] * 362 + [("0-12", "black")] * 12 + [("13-19", "asian")] * 4 + [("60+", "indian")] * 1


def test_equal_counts_where_available_and_never_more_than_available():
    chosen = balanced_sample(CELLS, 12, seed=0)
    got = Counter(CELLS[i] for i in chosen)
    assert got == {("20-39", "white"): 12, ("0-12", "black"): 12, ("13-19", "asian"): 4, ("60+", "indian"): 1}
    assert len(set(chosen)) == len(chosen)  # without replacement
    assert all(0 <= i < len(CELLS) for i in chosen)


def test_deterministic_by_seed():
    assert balanced_sample(CELLS, 12, seed=3) == balanced_sample(CELLS, 12, seed=3)
    assert balanced_sample(CELLS, 12, seed=3) != balanced_sample(CELLS, 12, seed=4)
    # A short cell is taken whole whatever the seed; only the order of its items may differ.
    short = lambda s: sorted(i for i in balanced_sample(CELLS, 12, seed=s) if CELLS[i] == ("13-19", "asian"))
    assert short(0) == short(1) == [374, 375, 376, 377]


def test_a_cells_draw_does_not_depend_on_the_other_cells():
    big = lambda chosen, cells: [i for i in chosen if cells[i] == ("20-39", "white")]
    fewer = CELLS[:362] + [("0-12", "black")] * 3  # another cell shrinks; the big cell keeps its indices
    assert big(balanced_sample(CELLS, 12, 0), CELLS) == big(balanced_sample(fewer, 12, 0), fewer)


def test_counts_say_what_was_drawn_of_what_was_available():
    chosen = balanced_sample(CELLS, 5, seed=0)
    counts = sample_counts(CELLS, chosen)
    assert counts["20-39/white"] == {"available": 362, "drawn": 5}
    assert counts["13-19/asian"] == {"available": 4, "drawn": 4}
    assert counts["60+/indian"] == {"available": 1, "drawn": 1}
    assert balanced_sample(CELLS, 0) == [] and balanced_sample([], 5) == []


def test_items_without_a_cell_are_never_drawn():
    cells = [None, ("0-12", "white"), None, ("0-12", "white")]
    assert sorted(balanced_sample(cells, 5)) == [1, 3]
    assert sample_counts(cells, [1, 3]) == {"0-12/white": {"available": 2, "drawn": 2}}
    with pytest.raises(ValueError):
        balanced_sample(CELLS, -1)
