"""Reading CT through survage.imaging against pydicom's own reading of pydicom's test files.

Reference values: pydicom's decoded ``pixel_array * RescaleSlope + RescaleIntercept`` and the
``PixelSpacing`` / ``ImagePositionPatient`` tags of the same files (DICOM PS3.3 C.11.1.1.2, C.7.6.2).
"""

from __future__ import annotations

import random
import shutil
import uuid
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
from monai.data import NibabelReader
from pydicom.data import get_testdata_file

from survage.errors import SurvageInputError
from survage.imaging import (
    CTReader,
    ct_loader,
    ct_transforms,
    read_dicom_series,
    read_image,
    render_l3_slice,
    select_slice,
    write_nifti,
)
from survage.imaging.meta import ALLOWED_META_KEYS

CT_SMALL = Path(get_testdata_file("CT_small.dcm"))
J2K = Path(get_testdata_file("693_J2KI.dcm"))
CT5N = CT_SMALL.parent / "dicomdirtests" / "98892001" / "CT5N"
DICOMDIR = CT_SMALL.parent / "dicomdirtests" / "DICOMDIR"


def _pydicom_hu(path: Path) -> np.ndarray:
    ds = pydicom.dcmread(path)
    return ds.pixel_array.astype(np.float64) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)


@pytest.mark.parametrize("path", [CT_SMALL, J2K], ids=["CT_small", "693_J2KI"])
def test_single_file_hu_and_spacing_equal_pydicom(path: Path) -> None:
    ds = pydicom.dcmread(path)
    img = read_image(path)
    expected = _pydicom_hu(path)
    assert img.hu.dtype == np.float32
    assert img.hu.shape == (int(ds.Rows), int(ds.Columns))
    np.testing.assert_array_equal(img.hu, expected)
    assert img.spacing_mm == pytest.approx([float(v) for v in ds.PixelSpacing], rel=1e-12)
    assert img.meta.slice_thickness_mm == pytest.approx(float(ds.SliceThickness))
    assert img.meta.orientation == pytest.approx([float(v) for v in ds.ImageOrientationPatient])
    assert img.meta.modality == "CT"
    assert img.meta.rescale_intercept == (-1024.0,)


def test_jpeg2000_values_are_real_ct() -> None:
    # 693_J2KI is a 512x512 head CT (CQ500); air about -1000 HU after rescale, bone far above 1000
    img = read_image(J2K)
    assert img.hu.shape == (512, 512)
    assert np.median(img.hu[:20, :20]) < -900
    assert img.hu.max() > 1000


def test_series_sorted_by_position_on_normal() -> None:
    img = read_image(CT5N)
    files = sorted(CT5N.iterdir())
    ds = [pydicom.dcmread(f) for f in files]
    z = np.array([float(d.ImagePositionPatient[2]) for d in ds])  # axial: normal = +z
    order = np.argsort(z)
    assert img.hu.shape == (5, 16, 16)
    for k, i in enumerate(order):
        np.testing.assert_array_equal(img.hu[k], _pydicom_hu(files[i]))
    assert img.meta.slice_positions_mm == pytest.approx(np.sort(z))
    assert img.spacing_mm == pytest.approx((2.5, 0.488281, 0.488281), rel=1e-9)
    # in this series InstanceNumber falls as z rises: anatomical order is not InstanceNumber order
    inst = [int(ds[i].InstanceNumber) for i in order]
    assert inst == sorted(inst, reverse=True)


def test_shuffled_series_under_random_names_loads_in_anatomical_order(tmp_path: Path) -> None:
    reference = read_image(CT5N)
    files = sorted(CT5N.iterdir())
    random.Random(7).shuffle(files)
    for f in files:
        shutil.copy(f, tmp_path / uuid.uuid4().hex)
    shutil.copy(DICOMDIR, tmp_path / "DICOMDIR")  # no pixel data: must be ignored
    (tmp_path / "notes.txt").write_text("not dicom")
    img = read_dicom_series(tmp_path)
    np.testing.assert_array_equal(img.hu, reference.hu)
    assert np.all(np.diff(img.meta.slice_positions_mm) > 0)
    assert img.meta.origin_mm == pytest.approx((-72.199997, -143.0, -1.2375))


def test_series_with_duplicate_position_is_an_error(tmp_path: Path) -> None:
    f = sorted(CT5N.iterdir())[0]
    shutil.copy(f, tmp_path / "a")
    shutil.copy(f, tmp_path / "b")
    with pytest.raises(SurvageInputError, match="same position"):
        read_dicom_series(tmp_path)


def test_select_slice_by_z_and_index() -> None:
    vol = read_image(CT5N)
    by_z = select_slice(vol, z_mm=3.8)  # nearest slice: z = 3.7625 (file 2693)
    np.testing.assert_array_equal(by_z.hu, _pydicom_hu(CT5N / "2693"))
    assert by_z.spacing_mm == pytest.approx((0.488281, 0.488281))
    np.testing.assert_array_equal(select_slice(vol, index=2).hu, by_z.hu)
    with pytest.raises(SurvageInputError):
        select_slice(vol, z_mm=40.0)
    with pytest.raises(SurvageInputError):
        select_slice(vol, index=5)


IDENTIFYING = ("PatientName", "PatientID", "InstitutionName", "StudyInstanceUID", "SeriesInstanceUID",
               "SOPInstanceUID", "StationName", "StudyID")


@pytest.mark.parametrize("path", [CT_SMALL, J2K, CT5N], ids=["CT_small", "693_J2KI", "CT5N"])
def test_no_identifying_tag_in_metadata(path: Path) -> None:
    first = pydicom.dcmread(sorted(path.iterdir())[0] if path.is_dir() else path)
    # values of 4+ characters (a short StudyID such as "2" would match any number)
    values = [str(first.get(k)) for k in IDENTIFYING if len(str(first.get(k) or "")) >= 4]
    assert str(first.PatientName) in values  # the test has something to look for
    img = read_image(path)
    assert set(img.meta.to_dict()) == ALLOWED_META_KEYS
    loaded = ct_loader()({"image": str(path)})["image"]
    texts = [repr(img.meta), str(img.meta.to_dict()), repr(img), repr(loaded.meta)]
    for value in values:
        for text in texts:
            assert value not in text
    assert set(loaded.meta) <= {"affine", "original_affine", "spatial_shape", "original_channel_dim", "space",
                                "filename_or_obj"}


def test_monai_pipeline_window_and_layout_match_pydicom() -> None:
    lo, hi = -1000.0, 1000.0
    out = ct_transforms(hu_window=(lo, hi))({"image": str(CT_SMALL)})["image"]
    expected = np.clip((_pydicom_hu(CT_SMALL) - lo) / (hi - lo), 0, 1).T  # MONAI layout: (x=col, y=row)
    assert tuple(out.shape) == (1, 128, 128)
    np.testing.assert_allclose(out[0].numpy(), expected, atol=1e-6)


def test_monai_pipeline_resamples_to_fixed_spacing() -> None:
    out = ct_transforms(pixdim=(1.0, 1.0))({"image": str(CT_SMALL)})["image"]
    spacing = np.linalg.norm(out.affine.numpy()[:3, :2], axis=0)
    assert spacing == pytest.approx([1.0, 1.0])
    # field of view kept: 128 px * 0.661468 mm = 84.7 mm -> 85 px at 1 mm
    assert tuple(out.shape) == (1, 85, 85)
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0


def test_monai_pipeline_selects_l3_slice_from_volume() -> None:
    t = ct_transforms(select_slice=True, hu_window=(-1024.0, 3071.0))
    by_z = t({"image": str(CT5N), "l3_z_mm": 3.7625})["image"]
    by_index = t({"image": str(CT5N), "l3_index": 2})["image"]
    expected = np.clip((_pydicom_hu(CT5N / "2693") + 1024.0) / 4095.0, 0, 1).T
    np.testing.assert_allclose(by_z[0].numpy(), expected, atol=1e-6)
    np.testing.assert_array_equal(by_z.numpy(), by_index.numpy())
    assert float(by_z.affine[2, 3]) == pytest.approx(3.7625)


def test_nifti_round_trip_2d_and_3d(tmp_path: Path) -> None:
    image, _, spacing = render_l3_slice({}, size=64, rng=3)
    path = write_nifti(image, spacing, tmp_path / "slice.nii.gz")
    back = read_image(path)
    np.testing.assert_array_equal(back.hu, image)
    assert back.spacing_mm == pytest.approx(spacing, rel=1e-6)  # header stores float32
    # straight through MONAI's nibabel reader: NIfTI (x, y) is the transpose, pixdim the spacing
    reader = NibabelReader()
    arr, meta = reader.get_data(reader.read(str(path)))
    np.testing.assert_array_equal(arr, image.T)
    assert meta["pixdim"][1:3] == pytest.approx(spacing[::-1], rel=1e-6)
    assert [p.name for p in tmp_path.iterdir()] == ["slice.nii.gz"]  # no temporary left behind
    vol = np.stack([image, image + 1.0, image + 2.0])
    vpath = write_nifti(vol, (2.5, *spacing), tmp_path / "vol.nii")
    vback = read_image(vpath)
    np.testing.assert_array_equal(vback.hu, vol)
    assert vback.spacing_mm == pytest.approx((2.5, *spacing), rel=1e-6)
    assert isinstance(nib.load(vpath), nib.Nifti1Image)


def test_reader_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "x.dcm"
    bad.write_text("hello")
    with pytest.raises(SurvageInputError, match="x.dcm"):
        read_image(bad)
    with pytest.raises(SurvageInputError, match="no DICOM"):
        read_dicom_series(tmp_path)
    with pytest.raises(SurvageInputError):
        write_nifti(np.zeros((4, 4)), (1.0, 1.0), tmp_path / "x.png")
    assert CTReader().verify_suffix(str(CT5N))
