"""accurate's views are chosen on validation under the tier promise (tier_choice.select)."""
from training.dldl.tier_choice import MIN_BAND_N, select

FLIP = {"flip": True}
ZOOM = {"flip": True, "zoom": [0.93, 1.07]}
WIDE = {"flip": True, "zoom": [0.9, 1.1]}


def maes(all_, kids, kids_n=MIN_BAND_N):
    return {"utkface": {"all": (1000, all_), "0-12": (kids_n, kids)}}


def test_the_lowest_pooled_mae_that_is_no_worse_than_standard_anywhere():
    standard = maes(5.3, 2.3)
    chosen, summaries = select(standard, [{"config": FLIP, "maes": maes(5.2, 2.25)},
                                          {"config": ZOOM, "maes": maes(5.1, 2.4)},   # better overall, worse for children
                                          {"config": WIDE, "maes": maes(5.15, 2.2)}], ["utkface"])
    assert chosen == WIDE
    assert [s["breaches"] for s in summaries] == [[], ["utkface 0-12"], []]


def test_a_band_below_the_floor_does_not_veto():
    standard = maes(5.3, 2.3, kids_n=MIN_BAND_N - 1)
    chosen, _ = select(standard, [{"config": FLIP, "maes": maes(5.2, 2.25, MIN_BAND_N - 1)},
                                  {"config": ZOOM, "maes": maes(5.1, 2.4, MIN_BAND_N - 1)}], ["utkface"])
    assert chosen == ZOOM


def test_every_set_counts_but_only_the_served_head_s_sets_are_pooled():
    standard = {"mebeauty": {"all": (200, 0.80)}, "scut": {"all": (500, 0.25)}}
    chosen, summaries = select(standard, [{"config": FLIP, "maes": {"mebeauty": {"all": (200, 0.79)}, "scut": {"all": (500, 0.249)}}},
                                          {"config": ZOOM, "maes": {"mebeauty": {"all": (200, 0.78)}, "scut": {"all": (500, 0.26)}}}],
                               ["mebeauty"])
    assert chosen == FLIP and summaries[1]["breaches"] == ["scut all"] and summaries[0]["pooled_mae"] == 0.79


def test_mirroring_alone_when_every_candidate_breaches():
    standard = maes(5.0, 2.0)
    chosen, _ = select(standard, [{"config": FLIP, "maes": maes(5.1, 2.1)}, {"config": ZOOM, "maes": maes(4.9, 2.2)}], ["utkface"])
    assert chosen == FLIP
