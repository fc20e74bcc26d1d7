"""The opportunistic-CT screening sheet (OppScrData layout): exact headers and canonical names.

One row per patient, time zero = the CT date. Headers are given exactly as distributed (runs of
spaces and a leading space included); readers match them after collapsing white space and case
(:func:`normalise_header`). See ``docs/data_formats.md`` and the layout description shipped with
the project (``shared/oppscr_layout.md``).
"""

from __future__ import annotations

import re

#: identifier columns (never features, never printed)
ID_HEADERS = ("Record ID", "Visit ID", "PT ID")

FOLLOWUP = "Clinical F/U interval  [d from CT]"
DEATH = "DEATH [d from CT]"

#: clinical columns: exact header -> canonical name
CLINICAL_HEADERS: dict[str, str] = {
    "BMI": "bmi",
    "BMI >30": "bmi_over_30",
    "Sex": "sex",
    "Age at CT": "age",
    "Tobacco": "tobacco",
    "Alcohol abuse": "alcohol_abuse",
    "FRS 10-year risk (%)": "frs_10y",
    "FRAX 10y Fx Prob (Orange-w/ DXA)": "frax_major",
    "FRAX 10y Hip Fx Prob (Orange-w/ DXA)": "frax_hip",
    "Met Sx": "metabolic_syndrome",
}

#: diagnosis pairs: (text header, day-count header, canonical event name)
DX_PAIRS: tuple[tuple[str, str, str], ...] = (
    ("CVD DX", "CVD DX Date [d from CT]", "cvd"),
    ("Heart failure DX", "Heart failure DX Date [d from CT]", "heart_failure"),
    ("MI DX", "MI DX Date [d from CT]", "mi"),
    ("Type 2 Diabetes DX", "Type 2 Diabetes DX Date [d from CT]", "diabetes"),
    ("Femoral neck fracture DX", "Femoral neck fracture DX Date [d from CT]", "femoral_neck_fracture"),
    ("Unspec femoral fracture DX", "Unspec femoral fracture DX Date [d from CT]", "unspec_femoral_fracture"),
    ("Forearm fracture DX", "Forearm fracture DX Date [d from CT]", "forearm_fracture"),
    ("Humerus fracture DX", "Humerus fracture DX Date [d from CT]", "humerus_fracture"),
    ("Pathologic fracture DX", "Pathologic fracture DX Date [d from CT]", "pathologic_fracture"),
    ("Alzheimers DX", "Alzheimers DX Date [d from CT]", "alzheimers"),
    ("Primary Cancer Site", "Primary Cancer Dx [d from CT]", "cancer_1"),
    ("Primary Cancer Site 2", "Primary Cancer Site 2 Dx [d from CT]", "cancer_2"),
)

#: composite outcomes: outcome name -> the DX events whose first occurrence defines it
COMPOSITE_OUTCOMES: dict[str, tuple[str, ...]] = {
    "fracture": ("femoral_neck_fracture", "unspec_femoral_fracture", "forearm_fracture",
                 "humerus_fracture", "pathologic_fracture"),
    "cancer": ("cancer_1", "cancer_2"),
}

#: outcomes the reader produces (all-cause death first)
OUTCOMES = ("death", "cvd", "heart_failure", "mi", "diabetes", "fracture", "alzheimers", "cancer")

#: CT-derived measures: exact header -> canonical name (shared with survage.imaging measures)
CT_HEADERS: dict[str, str] = {
    "L1_HU_BMD": "l1_hu",
    "TAT Area (cm2)": "tat_area",
    "Total Body                Area EA (cm2)": "total_body_area",
    "VAT Area (cm2)": "vat_area",
    "SAT Area (cm2)": "sat_area",
    "VAT/SAT     Ratio": "vat_sat_ratio",
    "Muscle HU": "muscle_hu",
    " Muscle Area (cm2)": "muscle_area",
    "L3 SMI (cm2/m2)": "l3_smi",
    "AoCa        Agatston": "aoca_agatston",
    "Liver HU    (Median)": "liver_hu",
}

#: optional column pointing at the person's CT image (NIfTI/DICOM), relative to the sheet
IMAGE_HEADER = "CT Image Path"

#: the full header row in sheet order ("" = the empty separator columns O and AO)
SHEET_HEADERS: tuple[str, ...] = (
    *ID_HEADERS,
    FOLLOWUP,
    *CLINICAL_HEADERS,
    "",
    DEATH,
    *(h for pair in DX_PAIRS for h in pair[:2]),
    "",
    *CT_HEADERS,
)


def normalise_header(header: object) -> str:
    """Collapse white space and case: how the reader matches headers."""
    return re.sub(r"\s+", " ", str(header)).strip().lower()
