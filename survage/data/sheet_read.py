"""Read a sheet (``.csv`` or ``.xlsx``) as raw cells: the header row and the body, untyped.

No cell is interpreted here beyond what the file format fixes: CSV cells stay text, ``.xlsx``
cells keep their stored type (number, text, date, empty). One exception keeps what the user saw:
an ``.xlsx`` number formatted as a percentage (stored 0.07, shown ``7%``) is returned as the text
``"7%"``. Row ``r`` of the body (0-based) is line ``r + 2`` of the sheet; trailing blank rows
(spreadsheet artefacts) are dropped, interior ones kept so row numbers stay true.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from survage.data.sheet_cells import cell_text
from survage.errors import SurvageInputError


def read_sheet_cells(path: str | os.PathLike[str], *, sheet: str | int = 0
                     ) -> tuple[list[str], pd.DataFrame]:
    """Header row (text, ``""`` for a blank header) and body cells (object dtype, positional columns).

    Parameters
    ----------
    path
        A ``.csv`` or ``.xlsx`` file.
    sheet
        Worksheet name or 0-based position (``.xlsx`` only).

    Raises
    ------
    SurvageInputError
        If the file is missing, of another type, or has no header row.
    """
    p = Path(path)
    if not p.is_file():
        raise SurvageInputError("sheet file not found", column=str(p), expected="an existing file")
    suffix = p.suffix.lower()
    if suffix == ".csv":
        rows = _read_csv(p)
    elif suffix == ".xlsx":
        rows = _read_xlsx(p, sheet)
    else:
        raise SurvageInputError("unsupported sheet file type", column=str(p),
                                expected="a .csv or .xlsx file")
    while rows and all(cell_text(v) is None for v in rows[-1]):
        rows.pop()
    if not rows:
        raise SurvageInputError("the sheet is empty", column=str(p), expected="a header row")
    width = max(len(r) for r in rows)
    rows = [list(r) + [None] * (width - len(r)) for r in rows]
    headers = [cell_text(h) or "" for h in rows[0]]
    body = pd.DataFrame(rows[1:], columns=range(width), dtype=object)
    return headers, body


def _read_csv(p: Path) -> list[list[object]]:
    for enc in ("utf-8-sig", "cp1252"):
        try:
            df = pd.read_csv(p, header=None, dtype=str, keep_default_na=False, na_filter=False,
                             skip_blank_lines=False, encoding=enc)
        except UnicodeDecodeError:
            continue
        except pd.errors.EmptyDataError:
            return []
        return df.to_numpy(dtype=object).tolist()
    raise SurvageInputError("cannot decode the CSV file", column=str(p),
                            expected="UTF-8 or Windows-1252 text")


def _read_xlsx(p: Path, sheet: str | int) -> list[list[object]]:
    from openpyxl import load_workbook  # optional-at-runtime heavy import, only for .xlsx

    wb = load_workbook(p, read_only=True, data_only=True)
    try:
        if isinstance(sheet, int):
            if not 0 <= sheet < len(wb.sheetnames):
                raise SurvageInputError(f"no worksheet {sheet}", column=str(p),
                                        expected=f"0..{len(wb.sheetnames) - 1}")
            ws = wb[wb.sheetnames[sheet]]
        elif sheet in wb.sheetnames:
            ws = wb[sheet]
        else:
            raise SurvageInputError(f"no worksheet {sheet!r}", column=str(p),
                                    expected=f"one of {wb.sheetnames}")
        rows = []
        for row in ws.iter_rows():
            vals: list[object] = []
            for c in row:
                v = getattr(c, "value", None)
                fmt = getattr(c, "number_format", "") or ""
                if isinstance(v, (int, float)) and not isinstance(v, bool) and "%" in fmt:
                    v = f"{round(v * 100, 9)!r}%"
                vals.append(v)
            rows.append(vals)
        return rows
    finally:
        wb.close()
