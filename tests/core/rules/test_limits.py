"""Per-clinic limits: cited defaults, stricter lidocaine limits only, and sane ranges."""

from __future__ import annotations

import pytest

from prolotrack.core.doses import LIDOCAINE_WITH_EPINEPHRINE, PLAIN_LIDOCAINE, LidocaineLimit
from prolotrack.core.rules import ClinicLimits, Range


def test_it_defaults_to_the_label_limits() -> None:
    limits = ClinicLimits()
    assert limits.lidocaine_plain == PLAIN_LIDOCAINE
    assert limits.lidocaine_with_epinephrine == LIDOCAINE_WITH_EPINEPHRINE


def test_it_offers_the_uk_mode() -> None:
    assert ClinicLimits.conservative_uk().lidocaine_plain == LidocaineLimit(3.0, 200.0)


@pytest.mark.parametrize(
    ("field", "limit"),
    [
        ("lidocaine_plain", LidocaineLimit(4.6, 300)),
        ("lidocaine_plain", LidocaineLimit(4.5, 301)),
        ("lidocaine_with_epinephrine", LidocaineLimit(7.5, 500)),
    ],
)
def test_it_refuses_a_lidocaine_limit_looser_than_the_label(
    field: str, limit: LidocaineLimit
) -> None:
    with pytest.raises(ValueError, match=f"{field}: .* is looser than the label"):
        ClinicLimits(**{field: limit})  # type: ignore[arg-type]


def test_it_refuses_a_negative_setting() -> None:
    with pytest.raises(ValueError, match="review_after_sessions: must not be negative"):
        ClinicLimits(review_after_sessions=-1)


def test_it_refuses_a_range_upside_down() -> None:
    with pytest.raises(ValueError, match="above its high end"):
        Range(14, 5)


def test_it_includes_both_ends_of_a_range() -> None:
    assert 5 in Range(5, 14)
    assert 14 in Range(5, 14)
    assert 4.99 not in Range(5, 14)
    assert Range(0.1, 1.0).describe(" mL") == "0.1-1 mL"
