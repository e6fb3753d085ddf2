import pytest
import torch

from training.dldl import labels as L


@pytest.mark.parametrize("space,y,sigma", [(L.AGE, 37.0, 2.0), (L.AGE, 0.0, 2.0), (L.ATTRACTIVENESS, 6.3, 1.2)])
def test_distribution_sums_to_one_and_peaks_at_label(space, y, sigma):
    labels = space.vector()
    p = L.label_distribution(torch.tensor([y]), torch.tensor([sigma]), labels)[0]
    assert float(p.sum()) == pytest.approx(1.0, abs=1e-12)
    assert float(labels[p.argmax()]) == pytest.approx(y, abs=space.step / 2)


def test_label_spaces_have_the_papers_sizes():
    assert L.AGE.k == 101 and L.ATTRACTIVENESS.k == 91


def test_quantiles_of_a_point_mass_and_of_a_uniform():
    labels = L.AGE.vector()
    point = torch.zeros(1, 101, dtype=torch.float64)
    point[0, 30] = 1
    # All mass in bin 30: quantiles interpolate inside [29, 30].
    assert float(L.quantile(point, labels, 0.5)[0]) == pytest.approx(29.5)
    uniform = torch.full((1, 101), 1 / 101, dtype=torch.float64)
    assert float(L.quantile(uniform, labels, 0.5)[0]) == pytest.approx(49.5, abs=1e-9)
    lo, hi = L.quantile(uniform, labels, 0.05), L.quantile(uniform, labels, 0.95)
    assert float(lo[0]) < float(hi[0])


def test_temperature_one_is_identity_and_higher_temperature_widens():
    labels = L.AGE.vector()
    p = L.label_distribution(torch.tensor([40.0]), torch.tensor([3.0]), labels)
    assert torch.allclose(L.temperature_probs(p, 1.0), p, atol=1e-12)
    assert float(L.std(L.temperature_probs(p, 2.0), labels)[0]) > float(L.std(p, labels)[0])


def test_ranking_targets_are_one_minus_cdf_for_small_sigma():
    """Eq. 8: the K-1 ranking targets [y > l_k] ≈ 1 − (T p)_k, T upper-triangular ones."""
    labels = L.AGE.vector()
    y = torch.tensor([23.0, 61.0, 5.0])  # ages on the label grid, as in the paper
    p = L.label_distribution(y, torch.full((3,), 0.05), labels)
    cdf = p @ torch.triu(torch.ones(101, 101, dtype=torch.float64))  # c_k = sum_{i<=k} p_i
    ranking = (y.unsqueeze(1).double() > labels[:-1].unsqueeze(0)).double()
    assert torch.allclose(ranking, 1 - cdf[:, :-1], atol=1e-6)
