import numpy as np

from training.dldl.metrics import minor_guard, summary


def test_minor_guard_counts_scored_minors_and_withheld_adults():
    # Ages 10, 16 (minors), 20, 40 (adults); the model's P(under 18) for each.
    y = np.array([10, 16, 20, 40])
    p_minor = np.array([0.9, 0.15, 0.3, 0.0])
    g = minor_guard(p_minor, y, risks=(0.1, 0.5))
    assert (g["n_minors"], g["n_adults"]) == (2, 2)
    # Risk 0.1: only P <= 0.1 is scored -> minors none scored, adults: the 20-year-old withheld,
    # the 40-year-old scored.
    assert g["0.1"] == {"minors_scored": 0.0, "teens_13_17_scored": 0.0, "adults_withheld": 0.5,
                        "adults_18_25_withheld": 1.0, "adults_26_40_withheld": 0.0}
    # Risk 0.5: the 16-year-old slips through, no adult is withheld.
    assert g["0.5"] == {"minors_scored": 0.5, "teens_13_17_scored": 1.0, "adults_withheld": 0.0,
                        "adults_18_25_withheld": 0.0, "adults_26_40_withheld": 0.0}


def test_groups_and_bands_carry_mae_and_signed_error():
    # Two groups: "a" overestimated by 2 and 4 (MAE 3, mean error +3), "b" under by 1 and over by 1 (0);
    # the last face has no label and belongs to no group.
    y = np.array([20.0, 30.0, 50.0, 70.0, 40.0])
    pred = np.array([22.0, 34.0, 49.0, 71.0, 30.0])
    s = summary(pred, y, groups={"race": np.array(["a", "a", "b", "b", ""])})
    assert set(s["by_race"]) == {"a", "b"}
    assert s["by_race"]["a"] == {"n": 2, "mae": 3.0, "mean_error": 3.0}
    assert s["by_race"]["b"] == {"n": 2, "mae": 1.0, "mean_error": 0.0}
    assert s["bands"]["20-39"] == {"n": 2, "mae": 3.0, "mean_error": 3.0}
    assert s["bands"]["0-12"] == {"n": 0, "mae": None, "mean_error": None}
