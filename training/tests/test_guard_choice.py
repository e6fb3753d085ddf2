"""guard_choice: each rule's threshold keeps to the minors bound, and a rule that separates
minors from adults perfectly withholds no adult."""
import numpy as np

from training.dldl import guard_choice as G


def one_hot_at(ages: np.ndarray, k: int = 101) -> np.ndarray:
    probs = np.full((len(ages), k), 1e-6)
    probs[np.arange(len(ages)), ages.astype(int)] = 1.0
    return probs / probs.sum(1, keepdims=True)


def test_a_perfect_reading_withholds_no_adult_and_scores_no_minor():
    y = np.arange(5, 60, dtype=float)
    row = G.cost(-y, y)  # the true age itself, lower = riskier
    assert row["minors_scored"] == 0.0 and row["adults_withheld"] == 0.0


def test_the_threshold_keeps_to_the_bound_on_minors_scored():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 80, 2000).astype(float)
    score = -(y + rng.normal(0, 6, len(y)))  # a noisy age estimate
    row = G.cost(score, y, max_minors_scored=0.03)
    assert row["minors_scored"] <= 0.03 and row["adults_18_25_withheld"] > row["adults_26_40_withheld"] > 0


def test_every_rule_is_compared_fewest_young_adults_withheld_first():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 80, 600).astype(float)
    probs = one_hot_at(np.clip(y + rng.integers(-4, 5, len(y)), 0, 100))
    rows = G.compare(probs, y, np.arange(101, dtype=float), t=0.9)
    assert any(r["rule"].endswith("(served rule)") for r in rows)
    assert [r["adults_18_25_withheld"] for r in rows] == sorted(r["adults_18_25_withheld"] for r in rows)
    assert all(r["minors_scored"] <= 0.03 for r in rows)
