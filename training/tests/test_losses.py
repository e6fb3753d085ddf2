import pytest
import torch

from training.dldl import labels as L
from training.dldl.losses import METHODS, Method, from_unit, to_unit


def test_dldl_v2_gradient_matches_eq17():
    """dL/dlogits = (p̂ − p) + λ sign(ŷ − y) p̂ ∘ (l − ŷ), per sample (Eq. 17)."""
    labels = L.AGE.vector().float()
    torch.manual_seed(0)
    logits = torch.randn(4, 101, requires_grad=True)
    y = torch.tensor([12.0, 40.0, 71.0, 3.0])
    sigma = torch.full((4,), 2.0)
    lam = 1.0
    loss = Method("dldl-v2", labels, lam).loss(logits, y, sigma) * 4  # undo the batch mean
    loss.backward()
    with torch.no_grad():
        p_hat = torch.softmax(logits, 1)
        p = L.label_distribution(y, sigma, labels.double()).float()
        y_hat = p_hat @ labels
        expected = p_hat - p + lam * torch.sign(y_hat - y).unsqueeze(1) * p_hat * (labels - y_hat.unsqueeze(1))
    assert torch.allclose(logits.grad, expected, atol=1e-5)


@pytest.mark.parametrize("name", METHODS)
def test_every_method_trains_and_predicts_in_label_range(name):
    labels = L.AGE.vector().float()
    m = Method(name, labels)
    out = (torch.randn(5, m.outputs) * 10).requires_grad_()  # large logits too: saturated tanh, peaked softmax
    loss = m.loss(out, torch.tensor([1.0, 20.0, 35.0, 60.0, 99.0]), torch.full((5,), 2.0))
    loss.backward()
    assert torch.isfinite(loss) and out.grad is not None and out.grad.abs().sum() > 0
    pred = m.predict(out.detach())
    assert pred.shape == (5,)
    assert bool(((pred >= 0) & (pred <= 100)).all())


@pytest.mark.parametrize("space", [L.AGE, L.ATTRACTIVENESS, L.SCUT, L.LabelSpace(0.0, 100.0, 4.0)])
def test_mr_targets_map_the_label_range_onto_minus_one_to_one_and_back(space):
    labels = space.vector().float()
    lo, hi = float(labels[0]), float(labels[-1])
    y = torch.tensor([lo, (lo + hi) / 2, hi, lo + 0.3 * (hi - lo)])
    t = to_unit(y, labels)
    assert torch.allclose(t, torch.tensor([-1.0, 0.0, 1.0, -0.4]), atol=1e-6)
    assert torch.allclose(from_unit(t, labels), y, atol=1e-4)
    # Labels outside the range (UTKFace has ages up to 116) are clamped to its ends, as the
    # other methods' targets are.
    assert torch.allclose(to_unit(torch.tensor([hi + 16, lo - 1]), labels), torch.tensor([1.0, -1.0]))


@pytest.mark.parametrize("name", ["mr-l1", "mr-l2"])
def test_mr_regresses_tanh_onto_the_unit_target_and_predicts_inside_the_range(name):
    labels = L.AGE.vector().float()
    m = Method(name, labels)
    y = torch.tensor([0.0, 25.0, 50.0, 100.0])
    exact = torch.atanh(to_unit(y, labels).clamp(-0.999999, 0.999999)).unsqueeze(1)  # logits whose tanh hits the target
    assert float(m.loss(exact, y, torch.ones(4))) == pytest.approx(0.0, abs=1e-5)
    assert torch.allclose(m.predict(exact), y, atol=1e-3)
    # One year off on the label scale is 2/100 on the unit scale.
    off = torch.atanh(to_unit(y + 1, labels)[1:3]).unsqueeze(1)
    expected = 0.02 if name == "mr-l1" else 0.5 * 0.02**2
    assert float(m.loss(off, y[1:3], torch.ones(2))) == pytest.approx(expected, rel=1e-3)
    extreme = torch.tensor([[-1e4], [-3.0], [0.0], [3.0], [1e4]])
    pred = m.predict(extreme)
    assert bool(((pred >= 0) & (pred <= 100)).all()) and float(pred[2]) == pytest.approx(50.0)


def test_lambda_zero_is_plain_dldl():
    labels = L.AGE.vector().float()
    out, y, s = torch.randn(3, 101), torch.tensor([5.0, 50.0, 80.0]), torch.full((3,), 2.0)
    assert torch.allclose(Method("dldl-v2", labels, 0.0).loss(out, y, s), Method("dldl", labels).loss(out, y, s))
