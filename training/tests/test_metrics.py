import numpy as np

from training.dldl.metrics import minor_guard


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
