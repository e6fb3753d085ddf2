import pytest
import torch

from training.dldl.model import WIDTHS, DLDLNet, param_count


@pytest.mark.parametrize("arch,expected,tol", [("thin", 3.7e6, 0.1e6), ("tiny", 0.93e6, 0.05e6)])
def test_parameter_counts_match_the_paper(arch, expected, tol):
    assert abs(param_count(DLDLNet(WIDTHS[arch], 101)) - expected) <= tol


def test_thirteen_convs_with_batchnorm_and_any_input_size():
    net = DLDLNet(WIDTHS["tiny"], 101).eval()
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    bns = [m for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert len(convs) == 13 and len(bns) == 13
    for size in (64, 112, 96):
        assert net(torch.rand(2, 3, size, size) * 255).shape == (2, 101)


def test_score_map_is_the_probability_weighted_class_activation_map():
    net = DLDLNet(WIDTHS["tiny"], 11).eval()
    x = torch.rand(2, 3, 64, 64) * 255
    with torch.no_grad():
        maps = net.feature_maps(x)
        probs = torch.softmax(net.head(maps), 1)
        s = net.score_map(maps, probs)
        cams = torch.einsum("kc,nchw->nkhw", net.fc.weight, maps) + net.fc.bias.view(1, -1, 1, 1)
        expected = (probs.view(2, -1, 1, 1) * cams).sum(1)
    assert s.shape == (2, 4, 4)
    assert torch.allclose(s, expected, atol=1e-4)


def test_init_from_keeps_the_head_only_when_k_matches():
    from training.dldl.train import init_from

    torch.manual_seed(0)
    age, same, beauty = DLDLNet(WIDTHS["tiny"], 101), DLDLNet(WIDTHS["tiny"], 101), DLDLNet(WIDTHS["tiny"], 91)
    warm = init_from(same, age.state_dict())
    transfer = init_from(beauty, age.state_dict())
    assert any(k.startswith("fc.") for k in warm) and not any(k.startswith("fc.") for k in transfer)
    assert set(warm) - set(transfer) == {k for k in warm if k.startswith("fc.")}
    for k in transfer:
        assert torch.equal(beauty.state_dict()[k], age.state_dict()[k])
    assert torch.equal(same.fc.weight, age.fc.weight)


def test_an_ensemble_answers_with_its_members_averaged_distribution():
    from training.dldl.model import EnsembleNet

    torch.manual_seed(0)
    a, b = DLDLNet(WIDTHS["tiny"], 11, panels={"scut": 5}).eval(), DLDLNet(WIDTHS["thin"], 11, panels={"scut": 5}).eval()
    both = EnsembleNet([a, b]).eval()
    x = torch.rand(3, 3, 64, 64) * 255
    with torch.no_grad():
        for panel in (None, "scut"):
            expected = (torch.softmax(a.head(a.feature_maps(x), panel), 1) + torch.softmax(b.head(b.feature_maps(x), panel), 1)) / 2
            assert torch.allclose(torch.softmax(both.head(both.feature_maps(x), panel), 1), expected, atol=1e-6)
        maps = both.feature_maps(x)
        probs = torch.softmax(both.head(maps), 1)
        assert torch.allclose(both.score_map(maps, probs), (a.score_map(maps[0], probs) + b.score_map(maps[1], probs)) / 2)
    assert param_count(both) == param_count(a) + param_count(b)
