"""Image branch forward passes on CPU and the streaming image dataset."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from pydicom.data import get_testdata_file
from torch.utils.data import DataLoader

from survage.errors import SurvageInputError
from survage.imaging import ImageDataset, read_image, render_l3_slice, select_slice, write_nifti
from survage.nn.branches import ModalityBranch
from survage.nn.image_branch import ImageEncoder

CT5N = Path(get_testdata_file("CT_small.dcm")).parent / "dicomdirtests" / "98892001" / "CT5N"


@pytest.mark.parametrize(
    "backbone",
    # densenet121's first CPU forward takes ~10 s; the same code path is covered by the two others
    ["small", "resnet18", pytest.param("densenet121", marks=pytest.mark.slow)],
)
def test_encoder_forward_2d(backbone: str) -> None:
    torch.manual_seed(0)
    enc = ImageEncoder(spatial_dims=2, in_channels=1, out_features=7, backbone=backbone).eval()
    assert isinstance(enc, ModalityBranch)
    with torch.no_grad():
        out = enc(torch.rand(3, 1, 32, 32))
    assert out.shape == (3, 7)
    assert torch.isfinite(out).all()


def test_encoder_forward_3d_and_backward() -> None:
    enc = ImageEncoder(spatial_dims=3, out_features=4, backbone="small")
    x = torch.rand(2, 1, 24, 24, 8)
    out = enc(x)
    assert out.shape == (2, 4)
    out.sum().backward()
    assert all(p.grad is not None for p in enc.parameters())


def test_encoder_rejects_wrong_input() -> None:
    enc = ImageEncoder(spatial_dims=2, out_features=4)
    with pytest.raises(SurvageInputError):
        enc(torch.rand(2, 1, 8, 8, 8))
    with pytest.raises(SurvageInputError):
        ImageEncoder(backbone="vgg")  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def phantom_paths(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    folder = tmp_path_factory.mktemp("phantoms")
    out = []
    for i in range(3):
        image, _, spacing = render_l3_slice({}, size=96, spacing_mm=4.5, rng=i)
        out.append(str(write_nifti(image, spacing, folder / f"p{i}.nii.gz")))
    return out


def test_dataset_missing_paths_yield_absent_zero_images(phantom_paths: list[str], tmp_path: Path) -> None:
    paths = [phantom_paths[0], None, float("nan"), str(tmp_path / "gone.nii.gz")]
    ds = ImageDataset(paths, spatial_size=(64, 64), missing_file="absent")
    items = [ds[i] for i in range(len(ds))]
    assert [bool(it["present"]) for it in items] == [True, False, False, False]
    for it in items[1:]:
        assert it["image"].shape == (1, 64, 64)
        assert float(it["image"].abs().sum()) == 0.0
    assert float(items[0]["image"].max()) > 0.4
    strict = ImageDataset(paths, spatial_size=(64, 64))
    with pytest.raises(SurvageInputError, match="gone"):
        strict[3]


def test_dataset_values_are_windowed_hu(phantom_paths: list[str]) -> None:
    ds = ImageDataset(phantom_paths[:1], spatial_size=(96, 96), hu_window=(-1000.0, 1000.0))
    image, _, _ = render_l3_slice({}, size=96, spacing_mm=4.5, rng=0)
    expected = np.clip((image + 1000.0) / 2000.0, 0, 1).T
    np.testing.assert_allclose(ds[0]["image"][0].numpy(), expected, atol=1e-6)


def test_dataloader_batches_with_training_augmentation(phantom_paths: list[str]) -> None:
    paths = [*phantom_paths, None]
    train = ImageDataset(paths, spatial_size=(64, 64), pixdim=(5.0, 5.0), train=True, seed=1, augment_prob=1.0)
    batch = next(iter(DataLoader(train, batch_size=4, num_workers=0)))
    assert batch["image"].shape == (4, 1, 64, 64)
    assert batch["present"].tolist() == [True, True, True, False]
    plain = ImageDataset(paths, spatial_size=(64, 64), pixdim=(5.0, 5.0))
    assert not torch.allclose(train[0]["image"], plain[0]["image"])
    again = ImageDataset(paths, spatial_size=(64, 64), pixdim=(5.0, 5.0), train=True, seed=1, augment_prob=1.0)
    np.testing.assert_array_equal(again[0]["image"].numpy(),
                                  ImageDataset(paths, spatial_size=(64, 64), pixdim=(5.0, 5.0), train=True,
                                               seed=1, augment_prob=1.0)[0]["image"].numpy())
    enc = ImageEncoder(out_features=5).eval()
    with torch.no_grad():
        assert enc(batch["image"]).shape == (4, 5)


def test_dataset_takes_l3_slice_of_a_dicom_series() -> None:
    ds = ImageDataset([str(CT5N)], spatial_size=(16, 16), slice_index=[3], hu_window=(-1024.0, 3071.0))
    expected = select_slice(read_image(CT5N), index=3).hu
    np.testing.assert_allclose(ds[0]["image"][0].numpy(), np.clip((expected + 1024) / 4095, 0, 1).T, atol=1e-6)
