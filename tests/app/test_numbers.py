"""One way per kind of number (ui.core.numbers): shares, differences in points, counts,
measured quantities and ranges."""

from __future__ import annotations

import pytest

from ui.core.numbers import format_count, format_number, format_points, format_range, format_share


@pytest.mark.parametrize(
    ("difference", "text"),
    [
        (0.0115, "+1.2 points"),
        (-0.004, "-0.4 points"),
        (0.0, "0.0 points"),
        (-0.0001, "0.0 points"),
    ],
)
def test_differences_of_shares_read_in_points(difference: float, text: str) -> None:
    assert format_points(difference) == text


def test_points_take_more_digits_when_asked() -> None:
    assert format_points(0.01153, digits=2) == "+1.15 points"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (126.401, "126"),
        (83715.8, "83,716"),
        (26.53, "26.5"),
        (9.0, "9"),
        (0.012345, "0.0123"),
        (3, "3"),
        (-1234.5, "-1,234"),
        (0.0, "0"),
    ],
)
def test_measured_quantities_are_rounded_sensibly(value: float, text: str) -> None:
    assert format_number(value) == text


def test_bins_read_as_ranges() -> None:
    assert format_range(3, 83715.8) == "3 – 83,716"


def test_counts_and_shares_keep_their_one_way() -> None:
    assert format_count(152828) == "152,828"
    assert format_share(0.9573, 2) == "95.73%"
