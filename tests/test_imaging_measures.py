"""Body-composition measures and Agatston scores against hand-computed and constructed truths."""

from __future__ import annotations

import math

import numpy as np
import pytest

from survage.errors import SurvageInputError
from survage.imaging import (
    CT_SHEET_HEADERS,
    agatston_score,
    agatston_weight,
    area_cm2,
    canonical_from_header,
    measure_slice,
    render_l3_slice,
)

# -- Agatston, hand-computed (Agatston et al. 1990, doi:10.1016/0735-1097(90)90282-T) ------------


def _agatston_case() -> tuple[np.ndarray, np.ndarray]:
    img = np.full((20, 20), 40.0)
    mask = np.zeros((20, 20), dtype=bool)
    mask[:, :15] = True
    img[1:4, 1:5] = 150.0  # lesion A: 12 px, peak 250 -> weight 2
    img[2, 2] = 250.0
    img[6, 1:3] = 500.0  # lesion B: 2 px = 0.8 mm2 < 1 mm2 -> dropped
    img[9, 1:6] = [130.0, 140.0, 180.0, 150.0, 135.0]  # lesion C: 5 px, peak 180, 130 counts -> weight 1
    img[12, 1] = img[13, 2] = 420.0  # lesion D: 3 px joined by corners only, peak 420 -> weight 4
    img[14, 3] = 300.0
    img[17, 1:4] = 129.9  # below threshold: nothing
    img[5:10, 16:18] = 600.0  # outside the mask: not counted
    return img, mask


SPACING = (0.5, 0.8)  # pixel = 0.4 mm2


def test_agatston_hand_computed_8_connected() -> None:
    img, mask = _agatston_case()
    # A: 12*0.4*2 = 9.6; B dropped; C: 5*0.4*1 = 2.0; D: 3*0.4 = 1.2 mm2 * 4 = 4.8 -> 16.4
    assert agatston_score(img, SPACING, mask) == pytest.approx(16.4, abs=1e-9)


def test_agatston_hand_computed_4_connected() -> None:
    img, mask = _agatston_case()
    # D splits into three 0.4 mm2 pixels, all below 1 mm2 -> 9.6 + 2.0 = 11.6
    assert agatston_score(img, SPACING, mask, connectivity=1) == pytest.approx(11.6, abs=1e-9)


def test_agatston_stack_sums_slices_and_mask_none_counts_all() -> None:
    img, mask = _agatston_case()
    stack = np.stack([img, img])
    assert agatston_score(stack, SPACING, np.stack([mask, mask])) == pytest.approx(32.8, abs=1e-9)
    # without a mask the 10-px 600 HU block (4.0 mm2 * 4 = 16) counts too
    assert agatston_score(img, SPACING) == pytest.approx(32.4, abs=1e-9)


@pytest.mark.parametrize(("peak", "weight"), [(129.9, 0), (130, 1), (199.9, 1), (200, 2), (299, 2),
                                              (300, 3), (399.9, 3), (400, 4), (1500, 4)])
def test_agatston_density_weights(peak: float, weight: int) -> None:
    assert agatston_weight(peak) == weight


# -- measures on phantoms of known geometry ------------------------------------------------------

CASES = [
    dict(total_body_area=800.0, sat_area=220.0, vat_area=150.0, muscle_area=160.0, tat_area=385.0,
         muscle_hu=32.5, l1_hu=140.0, aoca_agatston=537.0, liver_hu=55.0),
    dict(total_body_area=520.0, sat_area=90.0, vat_area=60.0, muscle_area=120.0, muscle_hu=45.0,
         l1_hu=210.0, aoca_agatston=0.0),
    dict(total_body_area=1150.0, sat_area=420.0, vat_area=260.0, muscle_area=190.0, muscle_hu=18.0,
         l1_hu=95.0, aoca_agatston=2400.0, liver_hu=30.0),
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_phantom_measures_match_truth(case: int) -> None:
    truth = CASES[case]
    image, masks, spacing = render_l3_slice(truth, rng=case, noise_sd=12.0)
    got = measure_slice(image, spacing, masks, height_m=1.72)
    for key in ("total_body_area", "sat_area", "vat_area", "muscle_area"):
        assert got[key] == pytest.approx(truth[key], rel=0.01), key
    for key in ("muscle_hu", "l1_hu"):
        assert abs(got[key] - truth[key]) < 1.0, key
    tat = truth.get("tat_area", truth["vat_area"] + truth["sat_area"])
    assert got["tat_area"] == pytest.approx(tat, rel=0.01)
    assert got["vat_sat_ratio"] == pytest.approx(truth["vat_area"] / truth["sat_area"], rel=0.02)
    assert got["l3_smi"] == pytest.approx(truth["muscle_area"] / 1.72**2, rel=0.01)
    if "liver_hu" in truth:
        assert abs(got["liver_hu"] - truth["liver_hu"]) < 1.0
    else:
        assert math.isnan(got["liver_hu"])
    # Agatston: lesions are whole pixels, so the target is met to half a pixel area
    pixel_mm2 = spacing[0] * spacing[1]
    assert abs(got["aoca_agatston"] - truth["aoca_agatston"]) <= pixel_mm2 / 2 + 1e-6
    # the body outline found by thresholding agrees with the drawn one
    no_body = {k: v for k, v in masks.items() if k != "body"}
    assert measure_slice(image, spacing, no_body)["total_body_area"] == pytest.approx(truth["total_body_area"],
                                                                                     rel=0.01)


def test_phantom_is_reproducible_and_seed_dependent() -> None:
    a = render_l3_slice(CASES[0], rng=5)[0]
    b = render_l3_slice(CASES[0], rng=np.random.default_rng(5))[0]
    c = render_l3_slice(CASES[0], rng=6)[0]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_phantom_rejects_impossible_geometry() -> None:
    with pytest.raises(SurvageInputError, match="vat_area|VAT"):
        render_l3_slice(dict(total_body_area=500.0, sat_area=100.0, muscle_area=100.0, vat_area=290.0), rng=0)
    with pytest.raises(SurvageInputError, match="tat_area"):
        render_l3_slice(dict(tat_area=10.0), rng=0)
    with pytest.raises(SurvageInputError, match="unknown"):
        render_l3_slice(dict(vat=1.0), rng=0)


def test_area_units_cm2() -> None:
    mask = np.zeros((10, 10), dtype=bool)
    mask[:5, :4] = True  # 20 px of 0.7 x 0.9 mm = 12.6 mm2 = 0.126 cm2
    assert area_cm2(mask, (0.7, 0.9)) == pytest.approx(0.126)


def test_measure_slice_errors() -> None:
    img = np.zeros((8, 8))
    with pytest.raises(SurvageInputError, match="unknown mask"):
        measure_slice(img, (1.0, 1.0), {"fat": np.ones((8, 8))})
    with pytest.raises(SurvageInputError, match="shape"):
        measure_slice(img, (1.0, 1.0), {"vat": np.ones((4, 4))})
    with pytest.raises(SurvageInputError, match="metres"):
        measure_slice(img, (1.0, 1.0), {"muscle": np.ones((8, 8))}, height_m=172.0)
    with pytest.raises(SurvageInputError, match="spacing"):
        measure_slice(img, (0.0, 1.0), {})


# -- sheet headers ---------------------------------------------------------------------------------

# Exact headers of columns AP-AZ of the OppScrData layout (docs: /work/shared/oppscr_layout.md).
SHEET_HEADERS = ["L1_HU_BMD", "TAT Area (cm2)", "Total Body                Area EA (cm2)", "VAT Area (cm2)",
                 "SAT Area (cm2)", "VAT/SAT     Ratio", "Muscle HU", " Muscle Area (cm2)", "L3 SMI (cm2/m2)",
                 "AoCa        Agatston", "Liver HU    (Median)"]


def test_sheet_headers_exact_and_matched_loosely() -> None:
    assert list(CT_SHEET_HEADERS.values()) == SHEET_HEADERS
    assert set(CT_SHEET_HEADERS) == set(measure_slice(np.zeros((4, 4)), (1.0, 1.0), {}))
    assert canonical_from_header("vat/sat ratio") == "vat_sat_ratio"
    assert canonical_from_header("Muscle Area (cm2)") == "muscle_area"
    assert canonical_from_header("Total Body Area EA (cm2)") == "total_body_area"
    assert canonical_from_header("BMI") is None


def test_measures_and_phantom_do_not_import_torch_or_monai() -> None:
    # the simulator renders thousands of slices: the numpy-only parts stay light to import
    import subprocess
    import sys

    code = ("import sys; from survage.imaging import render_l3_slice, measure_slice, CT_SHEET_HEADERS; "
            "assert 'torch' not in sys.modules and 'monai' not in sys.modules, 'heavy import'")
    subprocess.run([sys.executable, "-c", code], check=True)
