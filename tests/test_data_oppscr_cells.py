"""Cell parsers of the screening sheet: one test per cell kind of the reading-rules table
(shared/oppscr_layout.md, "Reading rules"). Expected values are the documented codings."""

import math

import numpy as np
import pytest

from survage.data.sheet_cells import (CellError, cell_text, parse_alcohol, parse_number,
                                      parse_percent, parse_sex, parse_yes_no)


@pytest.mark.parametrize("blank", [None, "", "   ", "\t", float("nan"), np.nan])
@pytest.mark.parametrize("parser", [parse_number, parse_yes_no, parse_sex])
def test_blank_or_white_space_is_missing(parser, blank):
    assert math.isnan(parser(blank))
    assert cell_text(blank) is None
    assert math.isnan(parse_percent(blank)[0])


@pytest.mark.parametrize(("cell", "want"), [("Y", 1.0), ("N", 0.0), ("Yes", 1.0), ("No", 0.0),
                                            (" yes ", 1.0), ("n", 0.0), (1, 1.0), (0, 0.0)])
def test_yes_no(cell, want):
    assert parse_yes_no(cell) == want


@pytest.mark.parametrize(("cell", "want"), [("Male", 1.0), ("Female", 0.0), ("MALE", 1.0),
                                            (" female", 0.0), ("M", 1.0), ("F", 0.0)])
def test_sex_is_one_for_male(cell, want):
    assert parse_sex(cell) == want


@pytest.mark.parametrize("cell", ["Alcohol abuse, uncomplicated", "Alcohol dependence, in remission",
                                  "Alcoholic cirrhosis of liver", "F10.20", "Toxic effect of ethanol"])
def test_alcohol_description_is_one_and_blank_is_zero(cell):
    assert parse_alcohol(cell) == 1.0
    assert parse_alcohol("") == 0.0
    assert parse_alcohol(None) == 0.0


@pytest.mark.parametrize(("cell", "want"), [("7%", 7.0), ("12.5", 12.5), ("12.5 %", 12.5),
                                            (7, 7.0), ("0%", 0.0), ("100%", 100.0)])
def test_percent_is_in_percent(cell, want):
    assert parse_percent(cell) == (want, 0, "")


@pytest.mark.parametrize(("cell", "want"), [("<1%", (1.0, -1)), (">30%", (30.0, 1)),
                                            ("< 1 %", (1.0, -1)), (">30", (30.0, 1))])
def test_percent_bound_gives_bound_and_flag(cell, want):
    assert parse_percent(cell)[:2] == want


@pytest.mark.parametrize("cell", ["X", "x", "_"])
def test_not_computable_marker_is_missing_with_a_note(cell):
    v, flag, note = parse_percent(cell)
    assert math.isnan(v) and flag == 0 and "not computable" in note


@pytest.mark.parametrize(("parser", "cell"), [
    (parse_number, "abc"), (parse_number, "12,5"), (parse_number, "inf"), (parse_number, True),
    (parse_yes_no, "maybe"), (parse_sex, "Other"), (parse_alcohol, "Tobacco use"),
    (parse_percent, "about 7"), (parse_percent, "130%"), (parse_percent, "-2%"),
])
def test_other_text_is_a_cell_error(parser, cell):
    with pytest.raises(CellError):
        parser(cell)


def test_numbers_and_integer_floats():
    assert parse_number(" 42 ") == 42.0
    assert parse_number("-3.5") == -3.5
    assert parse_number(1e3) == 1000.0
    assert cell_text(123.0) == "123"
