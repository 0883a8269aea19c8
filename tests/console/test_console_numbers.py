"""Compact numbers for metric tiles (issue 16 item 6): short, rounded right, exact on hover."""

from __future__ import annotations

import math

import pytest

from console import ui


@pytest.mark.parametrize("value, digits, suffix, expected", [
    (4_935_112, 0, "", "4.94M"),
    (500_123, 0, "", "500.1K"),
    (5_480_000, 0, "", "5.48M"),
    (5_000_000, 0, "", "5M"),            # trailing zeros dropped
    (999_999, 0, "", "1M"),              # rounding moves up a unit, never "1000K"
    (999_949, 0, "", "999.9K"),
    (9_876, 0, "", "9,876"),             # small numbers stay exact
    (10_000, 0, "", "10K"),
    (12_345.6, 0, "", "12.3K"),
    (-2_500_000, 0, "", "-2.5M"),
    (87.456, 1, " %", "87.5 %"),
    (3_210_000_000, 0, "", "3.21B"),
    (0, 0, "", "0"),
    (None, 0, "", "–"),
    (math.nan, 0, "", "–"),
])
def test_compact_number(value, digits, suffix, expected):
    assert ui.compact_number(value, digits, suffix) == expected


@pytest.mark.parametrize("value", [1, 999, 12_345, 999_999, 4_935_112, 123_456_789, 9.99e11,
                                   5.48e12])
def test_compact_numbers_fit_a_tile(value):
    assert len(ui.compact_number(value)) <= 7


def test_exact_number_keeps_every_digit():
    assert ui.exact_number(4_935_112) == "4,935,112"
    assert ui.exact_number(87.456, 1, " %") == "87.5 %"
    assert ui.exact_number(None) == "–"


def test_metric_shows_compact_value_and_exact_on_hover(monkeypatch):
    shown = []

    class Target:
        def metric(self, label, value, help=None, **kwargs):
            shown.append((label, value, help, kwargs))

    ui.metric("Sessions", 4_935_112, container=Target(), help="All sessions.")
    ui.metric("Users", 7, container=Target())
    ui.metric("Latency", "3 min 07 s", container=Target())
    assert shown[0] == ("Sessions", "4.94M", "Exact value: 4,935,112. All sessions.",
                        {"border": True})
    assert shown[1] == ("Users", "7", None, {"border": True})
    assert shown[2][1:3] == ("3 min 07 s", None)
