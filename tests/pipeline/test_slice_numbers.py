"""Numbers as spreadsheets write them (``32,648``, ``4,5``, ``20%``, ``$1,200.50``,
``32 648,5``) slice as numbers, read one way for the whole column.

Found slicing a user's file by its columns: a ``views`` column of ``32,648`` "reads as
text or ids", a ``score`` column of ``4,5`` too, and a ``share`` column of ``20%`` became
88 categories instead of five quantile bins.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline.evaluation.slice_columns import SliceColumn, detect_column, slice_keys
from pipeline.evaluation.written_numbers import number_style, read_numbers


def column(values: list[str], name: str = "c") -> pd.Series:
    return pd.Series(values, name=name, dtype=object)


def bins_of(values: list[str]) -> list[str]:
    detected = detect_column(column(values))
    assert isinstance(detected, SliceColumn) and detected.kind == "numeric", detected
    keys, bins = slice_keys(column(values), detected)
    assert bins == "quantiles"
    return [str(key) for key in keys]


NUMBERS = np.linspace(0.5, 99_000.5, 50)


@pytest.mark.parametrize(
    ("written", "style"),
    [
        ([f"{n:,.1f}" for n in NUMBERS], "1,234.5"),
        ([f"{n:,.1f}".replace(",", " ").replace(".", ",") for n in NUMBERS], "1 234,5"),
        ([f"{n:,.1f}".replace(",", "\u00a0").replace(".", ",") for n in NUMBERS], "1 234,5"),
        (
            [f"{n:,.1f}".replace(",", "X").replace(".", ",").replace("X", ".") for n in NUMBERS],
            "1.234,5",
        ),
        ([f"{n:,.1f}".replace(",", "'") for n in NUMBERS], "1'234.5"),
        ([f"${n:,.2f}" for n in NUMBERS], "1,234.5"),
        ([f"{n:,.0f} €" for n in NUMBERS], "1,234.5"),
    ],
    ids=["english", "french", "french-nbsp", "german", "swiss", "dollars", "euros-suffix"],
)
def test_each_style_reads_every_value_as_the_number_it_writes(written, style):
    assert number_style(column(written)) == style
    decimals = 0 if written[0].endswith("€") else 1
    assert read_numbers(column(written), style).tolist() == pytest.approx(
        [round(n, decimals) for n in NUMBERS], abs=0.51
    )
    detected = detect_column(column(written))
    assert detected == SliceColumn("c", "numeric", 50, number_style=style)
    assert detected.describe() == f"numeric, written {style}"


def test_thousands_are_not_read_as_decimals():
    # "1,234" is more than "999": read value by value as decimals, it would be less
    values = ["999", "1,234", "12,500", "250", "48,000", "7", "3,333", "100,000"] * 3
    values += ["1", "2", "3", "4", "5", "6"]
    assert number_style(column(values)) == "1,234.5"
    detected = detect_column(column(values))
    keys, _ = slice_keys(column(values), detected)
    bin_order = keys.cat.codes.tolist()
    assert bin_order[values.index("1,234")] >= bin_order[values.index("999")]
    assert bin_order[values.index("100,000")] == max(bin_order)
    assert bin_order[values.index("1")] == min(bin_order)


def test_decimal_commas_are_decimals():
    values = [f"{n / 10:.1f}".replace(".", ",") for n in range(5, 1000, 25)]
    assert number_style(column(values)) == "1.234,5"
    assert read_numbers(column(values), "1.234,5").tolist() == pytest.approx(
        [n / 10 for n in range(5, 1000, 25)]
    )
    assert bins_of(values)[0].startswith("[0.5, ")


def test_percentages_are_numbers_not_categories():
    values = [f"{n}%" for n in range(0, 100, 2)]
    detected = detect_column(column(values))
    assert isinstance(detected, SliceColumn) and detected.kind == "numeric"
    assert bins_of(values)[0].startswith("[0, ")


def test_text_ids_and_mixed_styles_are_not_numbers():
    for values in (
        ["A,B", "C,D", "E,F"] * 5,
        [f"AB-{n}" for n in range(40)],
        ["1,234.5", "1.234,5", "12", "7"] * 5,  # two styles in one column
        ["12", "12 345 678", "1 2"] * 5,  # "1 2" is no number
    ):
        assert number_style(column(values)) is None, values
        assert not (
            isinstance(detected := detect_column(column(values)), SliceColumn)
            and detected.kind == "numeric"
        )


def test_plain_numbers_need_no_style():
    assert number_style(column(["1.5", "-2", "3e3"])) is None
    detected = detect_column(column([str(n / 4) for n in range(40)]))
    assert detected == SliceColumn("c", "numeric", 40)
