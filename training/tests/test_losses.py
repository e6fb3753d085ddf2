import pytest
import torch

from training.dldl import labels as L
from training.dldl.losses import METHODS, Method


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
    out = torch.randn(5, m.outputs, requires_grad=True)
    loss = m.loss(out, torch.tensor([1.0, 20.0, 35.0, 60.0, 99.0]), torch.full((5,), 2.0))
    loss.backward()
    assert torch.isfinite(loss) and out.grad is not None and out.grad.abs().sum() > 0
    pred = m.predict(out.detach())
    assert pred.shape == (5,)
    if name not in ("mr-l1", "mr-l2"):
        assert bool(((pred >= 0) & (pred <= 100)).all())


def test_lambda_zero_is_plain_dldl():
    labels = L.AGE.vector().float()
    out, y, s = torch.randn(3, 101), torch.tensor([5.0, 50.0, 80.0]), torch.full((3,), 2.0)
    assert torch.allclose(Method("dldl-v2", labels, 0.0).loss(out, y, s), Method("dldl", labels).loss(out, y, s))
