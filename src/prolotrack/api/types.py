"""Strict input types for the API's schemas (RELIABILITY.md T8, T9).

JSON has no dates or decimals, so they arrive as strings; what pydantic would otherwise coerce
(``false`` into 0, ``0`` into 1970-01-01, ``"1"`` into a whole number) is refused, so a client's
mistake is an error that names the field, never a silently different record. Text refuses
control characters (a NUL byte is also refused by PostgreSQL) and lone surrogates.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
)

# No C0 control characters except tab, newline and carriage return; no DEL.
_TEXT = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
# One line: no control characters at all.
_LINE = r"^[^\x00-\x1f\x7f]*$"


def _encodable(value: str) -> str:
    # A lone surrogate ("\ud800" in JSON) cannot be stored as UTF-8; the pattern cannot say so.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


def Line(max_length: int, min_length: int = 0) -> Any:
    return Annotated[
        str,
        StringConstraints(strict=True, min_length=min_length, max_length=max_length, pattern=_LINE),
    ]


def Text(max_length: int) -> Any:
    return Annotated[
        str,
        StringConstraints(strict=True, max_length=max_length, pattern=_TEXT),
        AfterValidator(_encodable),
    ]


def _text_only(value: object) -> object:
    if not isinstance(value, str):
        raise ValueError("must be a string in ISO 8601 form, for example 2026-11-05")
    return value


def _no_bool(value: object) -> object:
    if isinstance(value, bool):
        raise ValueError("must be a number, not true or false")
    return value


# The dates a clinical record may hold. Far wider than any real one, and far enough from the
# calendar's ends (years 1 and 9999) that date arithmetic (ages, intervals, time zones) on a
# stored value cannot overflow: the fuzzer found the year 1 crashing the safety rules.
EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2199, 12, 31)


def _in_range(value: dt.date) -> dt.date:
    day = value.date() if isinstance(value, dt.datetime) else value
    if not EARLIEST <= day <= LATEST:
        raise ValueError(f"must be between {EARLIEST} and {LATEST}")
    return value


# A date written as text ("2026-11-05"); numbers are refused.
Date = Annotated[dt.date, BeforeValidator(_text_only), AfterValidator(_in_range)]
# A date and time with its offset ("2026-11-05T10:30:00-08:00").
DateTime = Annotated[dt.datetime, BeforeValidator(_text_only), AfterValidator(_in_range)]


def Number(*, ge: float, le: float, places: int, gt: float | None = None) -> Any:
    """A decimal number (JSON number or numeric string), never true/false."""
    bounds: dict[str, Any] = {"le": Decimal(str(le)), "decimal_places": places}
    if gt is not None:
        bounds["gt"] = Decimal(str(gt))
    else:
        bounds["ge"] = Decimal(str(ge))
    return Annotated[Decimal, BeforeValidator(_no_bool), Field(allow_inf_nan=False, **bounds)]


def Whole(ge: int, le: int) -> Any:
    return Annotated[StrictInt, Field(ge=ge, le=le)]


Bool = StrictBool
