"""Parsing the session form: decimals with a comma or a dot, local times, error paths."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest

from prolotrack.core.catalog import load_catalog
from prolotrack.core.charting import FieldError
from prolotrack.treatment.defaults import injection_defaults
from prolotrack.treatment.forms import SessionForm, local_to_utc, parse_decimal

VANCOUVER = zoneinfo.ZoneInfo("America/Vancouver")


@pytest.mark.parametrize(
    ("typed", "value"),
    [("0,5", "0.5"), ("0.5", "0.5"), (" 12 ", "12"), (",5", "0.5"), ("3.", "3"), ("-1", "-1")],
)
def test_it_reads_a_comma_or_a_dot(typed, value):
    assert parse_decimal(typed, places=2) == Decimal(value)


@pytest.mark.parametrize(
    "typed", ["", "abc", "1,000.5", "1.2.3", "NaN", "Infinity", "1e3", "0x10", "1 000,5,1"]
)
def test_it_refuses_what_is_not_a_plain_number(typed):
    with pytest.raises(ValueError, match="Enter a number"):
        parse_decimal(typed, places=2)


def test_it_refuses_more_decimals_than_are_stored():
    with pytest.raises(ValueError, match="at most 2 decimal places"):
        parse_decimal("0.125", places=2)


@pytest.mark.parametrize(
    ("local", "utc"),
    [
        # PDT (UTC-7) before the change on 1 November 2026, PST (UTC-8) after it.
        ("2026-10-31T23:30", dt.datetime(2026, 11, 1, 6, 30, tzinfo=dt.UTC)),
        ("2026-11-01T00:30", dt.datetime(2026, 11, 1, 7, 30, tzinfo=dt.UTC)),
        # 01:30 happens twice that night; the first (PDT) is taken.
        ("2026-11-01T01:30", dt.datetime(2026, 11, 1, 8, 30, tzinfo=dt.UTC)),
        ("2026-11-01T03:00", dt.datetime(2026, 11, 1, 11, 0, tzinfo=dt.UTC)),
    ],
)
def test_it_converts_the_clinics_local_time_to_utc(local, utc):
    assert local_to_utc(local, VANCOUVER) == utc


def test_it_refuses_a_time_skipped_by_the_clocks():
    with pytest.raises(ValueError, match="does not exist"):
        local_to_utc("2026-03-08T02:30", VANCOUVER)


@pytest.mark.parametrize("typed", ["", "yesterday", "2026-02-30T10:00", "2026-11-01"])
def test_it_refuses_a_malformed_time(typed):
    with pytest.raises(ValueError):
        local_to_utc(typed, VANCOUVER)


def form(**extra):
    data = {"performed_at": "2026-11-02T09:30", "unit": "kg/cm2", **extra}
    return SessionForm.from_post(data, catalog=load_catalog(), modality="neural", tz=VANCOUVER)


def test_it_puts_a_reading_error_in_the_right_cell():
    f = form(
        **{
            "readings-0-site": "n_saphenous_medial_knee",
            "readings-0-side": "left",
            "readings-0-15min": "2",
            "readings-3-site": "n_saphenous_medial_knee",
            "readings-3-side": "right",
            "readings-3-baseline": "1",
            "readings-3-1min": "2",
        }
    )
    # readings.2 is the second row's 1-minute value: the third non-empty value in form order.
    f._clean_readings()
    f.add_errors([FieldError("readings.2.value", "Too high.")])
    assert f.reading_rows[1].errors == {"1min": ["Too high."]}
    assert f.reading_rows[0].errors == {}


def test_it_sends_unknown_error_paths_to_the_top_of_the_form():
    f = form()
    f.add_errors([FieldError("series", "The session is of another series.")])
    assert f.error_summary == [("", "The session is of another series.")]


def test_it_rejects_a_session_in_the_future():
    f = form(performed_at="2999-01-01T10:00")
    assert not f.is_valid()
    assert "future" in f.errors["performed_at"][0]


def test_it_starts_neural_rows_subcutaneous_with_d5w_and_27_g():
    catalog = load_catalog()
    classic_site = catalog.site("c_knee_joint")
    neural = injection_defaults(catalog.site("n_saphenous_medial_knee"), "neural")
    assert (neural.depth, neural.dextrose_pct, neural.lidocaine_pct, neural.needle_gauge) == (
        "subcutaneous",
        Decimal("5"),
        Decimal("0"),
        27,
    )
    classic = injection_defaults(classic_site, "classic")
    assert classic.depth == classic_site.depth.value
    assert (classic.dextrose_pct, classic.lidocaine_pct) == (Decimal("15"), Decimal("0.2"))
    assert classic.volume_ml == Decimal(str(classic_site.volume_ml))
    assert classic.needle_gauge == classic_site.needle_gauge
