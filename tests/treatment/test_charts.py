"""The SVG line charts: geometry, gaps, styles that do not rest on colour, and escaping."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from prolotrack.treatment import charts

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    # The text is the SVG our own code just wrote, not input from outside.
    return ET.fromstring(svg)  # noqa: S314


def chart(**changes):
    fields = {
        "chart_id": "pain-1",
        "title": "Pain before each session",
        "x_labels": ["1", "2", "3"],
        "lines": charts.styled_lines([("Before", [8, 6, 4]), ("After", [5, None, 2])]),
        "y_max": 10,
        "y_ticks": [0, 2, 4, 6, 8, 10],
        "y_label": "Pain (0-10)",
    }
    fields.update(changes)
    return str(charts.line_chart(**fields))


def test_it_draws_well_formed_svg_with_a_title_for_assistive_technology():
    root = parse(chart())
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img" and root.get("aria-labelledby") == "pain-1-title"
    assert root.find(f"{SVG}title").text == "Pain before each session"


def test_it_maps_0_to_the_bottom_and_the_top_value_to_the_top():
    root = parse(chart(lines=charts.styled_lines([("Before", [0, 10, 5])])))
    line = root.find(f"{SVG}polyline")
    points = [tuple(map(float, p.split(","))) for p in line.get("points").split()]
    (x0, y0), (x1, y1), (x2, y2) = points
    assert x0 < x1 < x2
    assert y0 > y2 > y1  # SVG y grows downwards
    assert y0 - y2 == pytest.approx(y2 - y1)


def test_it_breaks_the_line_where_a_value_is_missing():
    root = parse(
        chart(lines=charts.styled_lines([("After", [5, None, 2, 3])]), x_labels=list("1234"))
    )
    polylines = root.findall(f"{SVG}polyline")
    # 5 stands alone (no segment), then 2-3 is one segment.
    assert len(polylines) == 1
    assert len(polylines[0].get("points").split()) == 2
    markers = [el for el in root if el.find(f"{SVG}title") is not None]
    assert len(markers) == 3


def test_it_tells_lines_apart_without_colour():
    lines = charts.styled_lines([("Before", [1]), ("1 min", [2]), ("15 min", [3])])
    assert len({line.dash for line in lines}) == 3
    assert len({line.marker for line in lines}) == 3


def test_it_escapes_every_text_it_writes():
    svg = chart(
        title='<script>alert("t")</script>',
        x_labels=["<b>1</b>", "2", "3"],
        lines=charts.styled_lines([("<script>x</script>", [1, 2, 3])]),
        y_label="a & b",
        chart_id='x" onload="alert(1)',
    )
    assert "<script>" not in svg and "<b>" not in svg
    assert "&lt;script&gt;alert(&quot;t&quot;)&lt;/script&gt;" in svg
    assert "&lt;script&gt;x&lt;/script&gt;" in svg
    assert "a &amp; b" in svg
    assert 'onload="' not in svg
    parse(svg)  # still well-formed


def test_it_thins_out_x_labels_when_there_are_many_sessions():
    labels = [str(i) for i in range(1, 31)]
    root = parse(chart(x_labels=labels, lines=charts.styled_lines([("Before", [5] * 30)])))
    texts = [t.text for t in root.findall(f"{SVG}text")]
    shown = [t for t in texts if t in labels]
    assert "30" in shown and len(shown) <= 16


@pytest.mark.parametrize(
    ("top", "ticks"),
    [(10, [0, 2, 4, 6, 8, 10]), (4.2, [0, 1, 2, 3, 4, 5]), (7, [0, 2, 4, 6, 8]), (0, [0, 1])],
)
def test_it_picks_round_ticks(top, ticks):
    assert charts.nice_ticks(top) == ticks


def test_it_formats_values_without_trailing_zeros():
    assert [charts.fmt_value(v) for v in (6.5, 6.0, 0.125, 0)] == ["6.5", "6", "0.12", "0"]


def test_it_writes_numbers_short_and_stable():
    svg = chart()
    assert not re.search(r"\d\.\d{2,}", svg)
