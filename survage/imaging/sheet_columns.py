"""Canonical names of the CT measures and their exact headers in the opportunistic-CT sheet.

The sheet (``OppScrData`` layout, see ``/work/shared/oppscr_layout.md``) has headers with runs
of spaces and one leading space; survage names the measures in snake_case everywhere and maps
them here. Headers are matched after collapsing white space and case (:func:`normalize_header`).
"""

from __future__ import annotations

from survage.data.oppscr_layout import CT_HEADERS, normalise_header

__all__ = [
    "CT_MEASURES",
    "CT_SHEET_HEADERS",
    "CT_UNITS",
    "normalize_header",
    "canonical_from_header",
]

#: canonical name -> exact sheet header (spaces included, as in the sheet); derived from the one
#: layout definition in :mod:`survage.data.oppscr_layout`.
CT_SHEET_HEADERS: dict[str, str] = {canonical: header for header, canonical in CT_HEADERS.items()}

#: canonical names of the CT measures, in sheet column order (AP to AZ).
CT_MEASURES: tuple[str, ...] = tuple(CT_SHEET_HEADERS)

#: canonical name -> unit.
CT_UNITS: dict[str, str] = {
    "l1_hu": "HU (mean, L1 trabecular bone)",
    "tat_area": "cm2",
    "total_body_area": "cm2",
    "vat_area": "cm2",
    "sat_area": "cm2",
    "vat_sat_ratio": "1",
    "muscle_hu": "HU (mean, L3 skeletal muscle)",
    "muscle_area": "cm2",
    "l3_smi": "cm2/m2",
    "aoca_agatston": "Agatston units",
    "liver_hu": "HU (median)",
}


#: how headers are matched (collapse white space, lower case): the sheet reader's own rule
normalize_header = normalise_header


_BY_NORMALIZED: dict[str, str] = {normalize_header(h): c for c, h in CT_SHEET_HEADERS.items()}


def canonical_from_header(header: str) -> str | None:
    """Return the canonical measure name for a sheet header, or ``None`` if it is not a CT measure.

    Parameters
    ----------
    header
        A header as found in a file (any spacing and case).
    """
    return _BY_NORMALIZED.get(normalize_header(header))
