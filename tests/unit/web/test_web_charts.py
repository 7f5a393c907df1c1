"""The explorer's SVG charts and CSV cells: numbers in, escaped text out, no script, no inline style."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from xml.etree import ElementTree

from fecflow.scores.browse import escape_like
from fecflow.web import charts
from fecflow.web.app import to_csv


def _parse(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(svg)  # well-formed XML, or this raises


def test_interval_bar_places_score_and_band_on_0_1() -> None:
    svg = charts.interval_bar(Decimal("0.5"), Decimal("0.25"), Decimal("0.75"), width=424)
    root = _parse(svg)
    ns = "{http://www.w3.org/2000/svg}"
    band = root.find(f"{ns}rect")
    assert (
        band is not None and float(band.get("x", 0)) == 12 + 400 * 0.25 and float(band.get("width", 0)) == 200
    )
    assert "style=" not in svg and "<script" not in svg
    assert "No score" in charts.interval_bar(None, None, None)


def test_trend_escapes_and_draws_one_point_per_scored_date() -> None:
    points = [
        {
            "as_of": dt.date(2019, 1, 31),
            "score": Decimal("0.4"),
            "ci_low": Decimal("0.1"),
            "ci_high": Decimal("0.7"),
        },
        {"as_of": "<script>", "score": Decimal("0.6"), "ci_low": Decimal("0.3"), "ci_high": Decimal("0.9")},
        {"as_of": dt.date(2019, 3, 31), "score": None, "ci_low": None, "ci_high": None},
    ]
    svg = charts.trend(points)
    _parse(svg)
    assert svg.count("<circle") == 2 and "<script>" not in svg and "&lt;script&gt;" in svg
    assert "No scored as-of dates" in charts.trend([])


def test_histogram_is_well_formed() -> None:
    bins = [{"low": i / 4, "high": (i + 1) / 4, "employer": i, "industry": 4 - i} for i in range(4)]
    _parse(charts.histogram(bins, ("employer", "industry")))


def test_like_patterns_and_csv_formula_cells() -> None:
    assert escape_like("50%_off\\") == "50\\%\\_off\\\\"
    text = to_csv([{"name": "=HYPERLINK(1)", "n": 1}, {"name": "+1", "n": None}])
    assert text.splitlines() == ["name,n", "'=HYPERLINK(1),1", "'+1,"]
