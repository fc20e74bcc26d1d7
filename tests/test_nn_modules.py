"""survage.nn: branch protocol, fusion under missing modalities, modality dropout, heads."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from survage.nn import (ConcatFusion, CoxHead, GatedFusion, GompertzHead, MLPBranch, ModalityBranch,
                        ModalityDropout, MultimodalSurvivalNet, build_network, drop_modalities)


def test_mlp_branch_shapes_and_identity():
    b = MLPBranch(5, 3, hidden=(8, 4), dropout=0.0)
    assert b(torch.randn(7, 5)).shape == (7, 3) and b.out_features == 3
    ident = MLPBranch(5, None, hidden=(), dropout=0.0)
    x = torch.randn(4, 5)
    assert ident.out_features == 5 and torch.equal(ident(x), x)
    assert isinstance(b, ModalityBranch)


class TinyImageBranch(nn.Module):
    """Stand-in for an image encoder: any module with out_features and (n, d) output plugs in."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3)
        self.out_features = 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x).mean(dim=(2, 3))


def test_image_branch_plugs_into_network():
    branches = {"clinical": MLPBranch(3, 4, hidden=(), dropout=0.0), "ct_image": TinyImageBranch()}
    assert isinstance(branches["ct_image"], ModalityBranch)
    net = MultimodalSurvivalNet(branches, ConcatFusion([4, 2]), {"death": CoxHead(6)})
    mask = torch.tensor([[True, True], [True, False]])
    out = net({"clinical": torch.randn(2, 3), "ct_image": torch.randn(2, 1, 8, 8)}, mask)
    assert out["death"].shape == (2,)


def test_concat_fusion_learned_missing_embedding():
    torch.manual_seed(0)
    fuse = ConcatFusion([3, 2], missing="learned")
    with torch.no_grad():
        fuse.missing_embeddings[1].copy_(torch.tensor([7.0, -7.0]))
    e0, e1 = torch.randn(2, 3), torch.randn(2, 2)
    mask = torch.tensor([[True, True], [True, False]])
    out = fuse([e0, e1], mask)
    assert torch.equal(out[0], torch.cat([e0[0], e1[0]]))
    assert torch.equal(out[1], torch.cat([e0[1], torch.tensor([7.0, -7.0])]))
    out2 = fuse([e0, e1 + 100.0], mask)  # a missing modality's branch output is ignored
    assert torch.equal(out2[1], out[1])
    out.sum().backward()
    assert torch.equal(fuse.missing_embeddings[1].grad, torch.tensor([1.0, 1.0]))


def test_concat_fusion_zero_reweights_present():
    fuse = ConcatFusion([1, 1, 1], missing="zero")
    e = [torch.ones(1, 1) * v for v in (1.0, 2.0, 3.0)]
    out = fuse(e, torch.tensor([[True, False, True]]))
    torch.testing.assert_close(out, torch.tensor([[1.5, 0.0, 4.5]]))  # scaled by 3 / 2 present


def test_gated_fusion_ignores_missing_and_handles_nobody_present():
    torch.manual_seed(1)
    fuse = GatedFusion([3, 4], out_features=5)
    e0, e1 = torch.randn(3, 3), torch.randn(3, 4)
    mask = torch.tensor([[True, True], [True, False], [False, False]])
    out = fuse([e0, e1], mask)
    assert out.shape == (3, 5) and torch.isfinite(out).all()
    # only modality 0 present in row 1: the output is its projection whatever modality 1 holds
    torch.testing.assert_close(out[1], fuse.project[0](e0[1]))
    torch.testing.assert_close(fuse([e0, e1 * 50.0], mask)[1], out[1])


def test_drop_modalities_never_drops_all():
    g = torch.Generator().manual_seed(0)
    mask = torch.rand(5000, 4, generator=g) < 0.7
    dropped = drop_modalities(mask, 0.5, generator=g)
    assert torch.equal(dropped & ~mask, torch.zeros_like(mask))  # only removes
    assert torch.equal(dropped.any(1), mask.any(1))  # a row keeps at least one of its modalities
    rows = mask.sum(1) == 4  # rows with every modality: each dropped w.p. 0.5 unless all would go
    rate = 1 - dropped[rows].float().mean()
    assert abs(float(rate) - (0.5 - 0.5 ** 4 / 4)) < 0.03  # expectation with the rescue of one


def test_modality_dropout_identity_in_eval():
    m = ModalityDropout(0.9).eval()
    mask = torch.ones(10, 3, dtype=torch.bool)
    assert torch.equal(m(mask), mask)
    with pytest.raises(ValueError):
        ModalityDropout(1.0)


def test_heads():
    cox = CoxHead(4)
    assert cox(torch.randn(6, 4)).shape == (6,)
    gom = GompertzHead(4, init_log_scale=-3.0, init_shape=0.08)
    assert float(gom.shape_b.detach()) == pytest.approx(0.08)
    torch.testing.assert_close(gom(torch.randn(2, 4)), torch.full((2,), -3.0))


@pytest.mark.parametrize("fusion", ["concat", "gated"])
def test_build_network_multitask(fusion):
    net = build_network({"demographics": 2, "clinical": 5}, ["death", "cvd"], fusion=fusion, hidden=(8,))
    out = net({"demographics": torch.randn(4, 2), "clinical": torch.randn(4, 5)},
              torch.tensor([[True, True], [True, False], [False, True], [True, True]]))
    assert set(out) == {"death", "cvd"} and all(v.shape == (4,) for v in out.values())
