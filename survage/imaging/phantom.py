"""A synthetic L3 axial CT slice with known body-composition values (for simulation and tests).

Layout (radiological display: row 0 anterior, column 0 the patient's right): an elliptical body
made of nested layers (subcutaneous fat, a muscle ring with optional intermuscular fat specks,
the abdominal cavity); in the cavity a vertebral body (cortical rim and trabecular core), the
aorta anterior-left of it with calcified plaques, an optional liver tip on the patient's right,
visceral fat blobs and soft-tissue organs. Layer areas are set by counting pixels, so measured
areas equal the requested ones to within one pixel; HU means (liver: median) are set exactly by
centring the noise within each tissue. The liver area is the one exception: it is no measure of
the sheet (only the liver HU is), so when visceral fat leaves less room in the cavity than
``liver_area`` the liver is shrunk to the room left (at least one pixel).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping

import numpy as np
from scipy import ndimage

from survage.errors import SurvageInputError
from survage.imaging.agatston import AGATSTON_MIN_LESION_MM2, AGATSTON_THRESHOLD_HU

__all__ = ["render_l3_slice", "PHANTOM_DEFAULTS"]

#: Values used when a key is absent from ``values`` (areas cm2, attenuations HU).
PHANTOM_DEFAULTS: dict[str, float] = {
    "total_body_area": 750.0,
    "sat_area": 200.0,
    "vat_area": 130.0,
    "muscle_area": 150.0,
    "tat_area": float("nan"),  # NaN: no intermuscular fat (TAT = VAT + SAT)
    "muscle_hu": 35.0,
    "l1_hu": 160.0,
    "aoca_agatston": 0.0,
    "liver_hu": float("nan"),  # NaN: no liver in the slice
    "liver_area": 40.0,
    "sat_hu": -100.0,
    "vat_hu": -95.0,
    "imat_hu": -80.0,
    "organ_hu": 35.0,
    "blood_hu": 40.0,
    "cortical_hu": 600.0,
}
_IGNORED = frozenset({"vat_sat_ratio", "l3_smi"})  # derived quantities, accepted and not used

_VERTEBRA_SEMI_MM = (21.0, 16.0)  # vertebral body half-width, half-depth
_CORTEX_MM = 2.0
_AORTA_RADIUS_MM = 10.0
_WEIGHT4_HU, _WEIGHT1_HU = 550.0, 165.0


def _parse(values: Mapping[str, float]) -> dict[str, float]:
    unknown = sorted(set(values) - set(PHANTOM_DEFAULTS) - _IGNORED)
    if unknown:
        raise SurvageInputError(f"unknown phantom values {unknown}", column="values",
                                expected=", ".join(PHANTOM_DEFAULTS))
    v = dict(PHANTOM_DEFAULTS)
    for k, x in values.items():
        if k in _IGNORED or x is None:
            continue
        v[k] = float(x)
    for k in ("total_body_area", "sat_area", "vat_area", "muscle_area", "muscle_hu", "l1_hu", "aoca_agatston"):
        if not math.isfinite(v[k]):
            raise SurvageInputError(f"phantom value {k} is not finite", column=k, expected="a number")
    for k in ("total_body_area", "sat_area", "vat_area", "muscle_area", "aoca_agatston", "liver_area"):
        if v[k] < 0:
            raise SurvageInputError(f"negative phantom value {k} = {v[k]}", column=k, expected=">= 0")
    if v["total_body_area"] <= 0:
        raise SurvageInputError("total body area must be positive", column="total_body_area", expected="> 0 cm2")
    if math.isfinite(v["tat_area"]) and v["tat_area"] < v["vat_area"] + v["sat_area"] - 1e-6:
        raise SurvageInputError(
            f"tat_area {v['tat_area']} < vat_area + sat_area", column="tat_area", expected=">= VAT + SAT"
        )
    return v


def _smooth_field(rng: np.random.Generator, size: int, sigma: float) -> np.ndarray:
    field = ndimage.gaussian_filter(rng.standard_normal((size, size)), sigma=sigma, mode="wrap")
    return (field - field.mean()) / max(float(field.std()), 1e-12)


def _take(candidates: np.ndarray, score: np.ndarray, n: int) -> np.ndarray:
    """Boolean mask of the ``n`` candidate pixels with the lowest score."""
    idx = np.flatnonzero(candidates)
    out = np.zeros(candidates.size, dtype=bool)
    if n > 0:
        order = np.argsort(score.ravel()[idx], kind="stable")[:n]
        out[idx[order]] = True
    return out.reshape(candidates.shape)


def _grow(allowed: np.ndarray, seed: tuple[int, int], n: int) -> np.ndarray | None:
    """Grow a 4-connected lesion of exactly ``n`` pixels from ``seed`` inside ``allowed`` (nearest first)."""
    h, w = allowed.shape
    lesion = np.zeros_like(allowed)
    seen = {seed}
    heap = [(0.0, seed)]
    count = 0
    while heap and count < n:
        _, (i, j) = heapq.heappop(heap)
        lesion[i, j] = True
        count += 1
        for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            a, b = i + di, j + dj
            if 0 <= a < h and 0 <= b < w and allowed[a, b] and (a, b) not in seen:
                seen.add((a, b))
                heapq.heappush(heap, (float((a - seed[0]) ** 2 + (b - seed[1]) ** 2), (a, b)))
    return lesion if count == n else None


def _lesion_sizes(score: float, pixel_mm2: float) -> tuple[list[int], int]:
    """Split a target Agatston score into weight-4 lesion sizes and one weight-1 lesion size (pixels)."""
    kmin = max(1, math.ceil(AGATSTON_MIN_LESION_MM2 / pixel_mm2 - 1e-9))
    if score <= 0:
        return [], 0
    n4 = int(score // (4 * pixel_mm2))
    k1 = int(round((score - 4 * pixel_mm2 * n4) / pixel_mm2))
    if 0 < n4 < kmin:
        n4, k1 = 0, int(round(score / pixel_mm2))
    if 0 < k1 < kmin:
        k1 = kmin if score - 4 * pixel_mm2 * n4 >= kmin * pixel_mm2 / 2 else 0
    cap = max(2 * kmin, 20)
    n_lesions = math.ceil(n4 / cap) if n4 else 0
    sizes = [n4 // n_lesions + (1 if i < n4 % n_lesions else 0) for i in range(n_lesions)] if n_lesions else []
    return sizes, k1


def _place_calcium(
    aorta: np.ndarray, center: tuple[float, float], radius_px: float, sizes: list[tuple[int, float]],
    rng: np.random.Generator,
) -> list[tuple[np.ndarray, float]] | None:
    """Grow separated lesions (8-neighbour gap) seeded on the aortic wall; None if they do not fit."""
    forbidden = ~aorta
    placed: list[tuple[np.ndarray, float]] = []
    golden = math.pi * (3 - math.sqrt(5))
    start = rng.uniform(0, 2 * math.pi)
    rows, cols = np.nonzero(aorta)
    for j, (n, hu) in enumerate(sizes):
        theta = start + j * golden
        target = (center[0] + (radius_px - 1) * math.sin(theta), center[1] + (radius_px - 1) * math.cos(theta))
        ok = ~forbidden[rows, cols]
        if not ok.any():
            return None
        d2 = (rows[ok] - target[0]) ** 2 + (cols[ok] - target[1]) ** 2
        k = int(np.argmin(d2))
        lesion = _grow(~forbidden, (int(rows[ok][k]), int(cols[ok][k])), n)
        if lesion is None:
            return None
        placed.append((lesion, hu))
        forbidden |= ndimage.binary_dilation(lesion, structure=np.ones((3, 3), dtype=bool))
    return placed


def _vertebra_centre_y(cavity: np.ndarray, x_mm: np.ndarray, y_mm: np.ndarray, vx: float, vy: float,
                       margin: float) -> float:
    """Lowest (most posterior) centre row, in mm, at which the vertebral body stays inside the cavity."""
    best = math.inf
    for j in np.flatnonzero(np.abs(x_mm) <= vx):
        rows = np.flatnonzero(cavity[:, j])
        if rows.size == 0:
            return -math.inf
        half = vy * math.sqrt(max(0.0, 1.0 - (x_mm[j] / vx) ** 2))
        best = min(best, float(y_mm[rows.max()]) - margin - half)
    return best if math.isfinite(best) else -math.inf


def _noise(rng: np.random.Generator, n: int, sd: float, *, centre: str = "mean") -> np.ndarray:
    if n == 0 or sd == 0:
        return np.zeros(n)
    e = rng.normal(0.0, sd, n)
    return e - (np.median(e) if centre == "median" else e.mean())


def render_l3_slice(
    values: Mapping[str, float],
    *,
    size: int = 256,
    spacing_mm: float | None = None,
    rng: np.random.Generator | int,
    noise_sd: float = 10.0,
    aspect: float = 0.75,
) -> tuple[np.ndarray, dict[str, np.ndarray], tuple[float, float]]:
    """Render a synthetic L3 CT slice whose measures equal the requested values.

    Parameters
    ----------
    values
        Canonical measures (see :data:`PHANTOM_DEFAULTS`; missing keys take the defaults):
        ``total_body_area, sat_area, vat_area, muscle_area`` (cm2), ``tat_area`` (cm2; the excess
        over VAT + SAT is drawn as intermuscular fat), ``muscle_hu``, ``l1_hu`` (trabecular HU of
        the drawn vertebral body), ``aoca_agatston`` (target score of the aortic plaques),
        ``liver_hu`` (median; NaN = no liver), ``liver_area`` (shrunk to the room that visceral fat
        leaves in the cavity, at least one pixel), and tissue HUs
        ``sat_hu, vat_hu, imat_hu, organ_hu, blood_hu, cortical_hu``.
    size
        Image side in pixels.
    spacing_mm
        Pixel spacing (square pixels). ``None`` picks one so the body spans about 90 % of the width.
    rng
        Random generator or seed (shape wobble, fat texture, plaque positions, noise).
    noise_sd
        Gaussian noise SD in HU.
    aspect
        Body ellipse depth / width.

    Returns
    -------
    image_hu : numpy.ndarray
        float32 ``(size, size)`` slice in HU.
    masks : dict
        Boolean masks named for :func:`survage.imaging.measures.measure_slice`: ``body, sat, muscle,
        imat, vat, l1_trabecular, aorta`` and ``liver`` when drawn.
    spacing : tuple of float
        ``(row_mm, col_mm)``.

    Notes
    -----
    Measured areas match to one pixel (``liver_area`` only when it fits), HU means (liver median) exactly; the Agatston score matches
    to half a pixel area (lesions are whole pixels; Agatston et al. 1990,
    doi:10.1016/0735-1097(90)90282-T).
    """
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    v = _parse(values)
    if size < 32:
        raise SurvageInputError("phantom too small", column="size", expected=">= 32 pixels")
    if not 0.3 <= aspect <= 1.0:
        raise SurvageInputError("bad aspect", column="aspect", expected="0.3 to 1")
    if noise_sd < 0:
        raise SurvageInputError("negative noise", column="noise_sd", expected=">= 0")
    area_mm2 = {k: v[k] * 100.0 for k in ("total_body_area", "sat_area", "vat_area", "muscle_area", "liver_area")}
    imat_mm2 = (v["tat_area"] - v["vat_area"] - v["sat_area"]) * 100.0 if math.isfinite(v["tat_area"]) else 0.0
    a_body = math.sqrt(area_mm2["total_body_area"] / (math.pi * aspect))
    if spacing_mm is None:
        spacing_mm = 2.0 * a_body * 1.12 / size
    s = float(spacing_mm)
    if not s > 0 or 2.0 * a_body * 1.08 > size * s:
        raise SurvageInputError(
            f"body of {v['total_body_area']} cm2 does not fit {size} px at {s} mm", column="spacing_mm",
            expected=f">= {2.0 * a_body * 1.08 / size:.3f} mm",
        )
    pixel = s * s
    count = {k: int(round(a / pixel)) for k, a in area_mm2.items()}
    n_imat = int(round(imat_mm2 / pixel))
    n_cavity = count["total_body_area"] - count["sat_area"] - count["muscle_area"] - n_imat
    if n_cavity <= 0:
        raise SurvageInputError("SAT + muscle + intermuscular fat exceed the body area", column="total_body_area",
                                expected="a larger body than its fat and muscle layers")
    c = (size - 1) / 2.0
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    y_mm, x_mm = (yy - c) * s, (xx - c) * s
    b_body = aspect * a_body
    wobble = np.clip(_smooth_field(gen, size, size / 12), -2.0, 2.0)
    radius = np.hypot(x_mm / a_body, y_mm / b_body) * (1.0 + 0.03 * wobble)
    rank = np.empty(size * size, dtype=np.int64)
    rank[np.argsort(radius.ravel(), kind="stable")] = np.arange(size * size)
    rank = rank.reshape(size, size)
    body = rank < count["total_body_area"]
    cavity = rank < n_cavity
    sat = body & (rank >= count["total_body_area"] - count["sat_area"])
    ring = body & ~cavity & ~sat
    imat = _take(ring, -_smooth_field(gen, size, 1.5), n_imat)
    muscle = ring & ~imat
    # cavity contents
    a_cav = a_body * math.sqrt(n_cavity / count["total_body_area"])
    b_cav = aspect * a_cav
    vx, vy = _VERTEBRA_SEMI_MM
    vy_c = _vertebra_centre_y(cavity, x_mm[0], y_mm[:, 0], vx, vy, margin=3.0)
    vert_r = np.hypot(x_mm / vx, (y_mm - vy_c) / vy)
    vertebra = vert_r <= 1.0
    trabecular = np.hypot(x_mm / (vx - _CORTEX_MM), (y_mm - vy_c) / (vy - _CORTEX_MM)) <= 1.0
    w4_sizes, k1 = _lesion_sizes(v["aoca_agatston"], pixel)
    lesion_px = sum(w4_sizes) + k1
    lesions: list[tuple[np.ndarray, float]] | None = []
    r_aorta = max(_AORTA_RADIUS_MM, math.sqrt(3.0 * lesion_px * pixel / math.pi))
    for _attempt in range(6):
        ay, ax = vy_c - vy - r_aorta - 3.0, 0.6 * vx
        aorta = np.hypot(x_mm - ax, y_mm - ay) <= r_aorta
        centre_px = (ay / s + c, ax / s + c)
        sizes = [(n, _WEIGHT4_HU) for n in w4_sizes] + ([(k1, _WEIGHT1_HU)] if k1 else [])
        lesions = _place_calcium(aorta, centre_px, r_aorta / s, sizes, gen) if sizes else []
        if lesions is not None:
            break
        r_aorta *= 1.25
    if lesions is None:
        raise SurvageInputError(f"cannot place calcium for Agatston {v['aoca_agatston']}", column="aoca_agatston",
                                expected="a score that fits one aortic cross-section")
    if not trabecular.any() or (vertebra & ~cavity).any() or (aorta & ~cavity).any() or (aorta & vertebra).any():
        raise SurvageInputError(
            "abdominal cavity too small for the spine and aorta (SAT + muscle too large for the body area)",
            column="total_body_area", expected="a cavity of at least about 60 cm2",
        )
    free = cavity & ~vertebra & ~aorta
    has_liver = math.isfinite(v["liver_hu"])
    liver = np.zeros_like(body)
    if has_liver:
        # the liver area is no sheet measure (only its HU is): a cavity crowded by visceral fat
        # gets a smaller liver, down to one pixel, rather than no image
        room = int(free.sum()) - count["vat_area"]
        if room < 1:
            raise SurvageInputError("no room for the liver", column="vat_area",
                                    expected="less visceral fat or a larger body")
        liver = _take(free, np.hypot(x_mm + 0.7 * a_cav, y_mm + 0.15 * b_cav), min(count["liver_area"], room))
        free &= ~liver
    if count["vat_area"] > free.sum():
        raise SurvageInputError(
            f"VAT {v['vat_area']} cm2 exceeds the free abdominal cavity ({free.sum() * pixel / 100:.1f} cm2)",
            column="vat_area", expected="less visceral fat or a larger body",
        )
    vat = _take(free, -(_smooth_field(gen, size, 3.0) + 1.5 * np.hypot(x_mm / a_cav, y_mm / b_cav)),
                count["vat_area"])
    organs = free & ~vat
    # intensities
    image = np.full((size, size), -1000.0)
    air = ~body
    image[air] = np.maximum(-1000.0 + gen.normal(0.0, noise_sd, int(air.sum())), -1024.0)
    tissues = [(sat, v["sat_hu"]), (muscle, v["muscle_hu"]), (imat, v["imat_hu"]), (vat, v["vat_hu"]),
               (organs, v["organ_hu"]), (vertebra & ~trabecular, v["cortical_hu"]), (trabecular, v["l1_hu"])]
    for mask, hu in tissues:
        image[mask] = hu + _noise(gen, int(mask.sum()), noise_sd)
    if has_liver:
        image[liver] = v["liver_hu"] + _noise(gen, int(liver.sum()), noise_sd, centre="median")
    image[aorta] = np.minimum(v["blood_hu"] + gen.normal(0.0, noise_sd, int(aorta.sum())),
                              AGATSTON_THRESHOLD_HU - 1.0)
    for lesion, hu in lesions:
        spread = 30.0 if hu < 200 else 100.0
        image[lesion] = hu + np.clip(gen.normal(0.0, noise_sd, int(lesion.sum())), -spread, spread)
    masks = {"body": body, "sat": sat, "muscle": muscle, "imat": imat, "vat": vat,
             "l1_trabecular": trabecular, "aorta": aorta}
    if has_liver:
        masks["liver"] = liver
    return image.astype(np.float32), masks, (s, s)
