"""Pagination and filtering of the API's lists: ``?page=&page_size=``, allow-listed filters.

Only the query parameters an operation names are accepted; any other answers 400 naming it,
so a misspelt filter is never silently ignored (which would return more rows than asked for).
Sorting takes only the listed keys: a sort key is never passed to the ORM from input
(RELIABILITY.md T10).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Schema
from pydantic import Field

from prolotrack.api.errors import ApiError

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 25
# Far beyond any clinic's list, and small enough that the offset fits every database's integer.
MAX_PAGE = 100_000


class PageQuery(Schema):
    page: int = Field(1, ge=1, le=MAX_PAGE, description="The page, from 1.")
    page_size: int = Field(
        DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="Rows per page, 1-100."
    )


class PageInfo(Schema):
    """What every page of a list carries besides its rows (``results``)."""

    count: int = Field(description="Rows in the whole list.")
    page: int
    page_size: int


def refuse_unknown_parameters(request: HttpRequest, allowed: Iterable[str]) -> None:
    known = set(allowed)
    for name in request.GET:
        if name not in known:
            raise ApiError(
                400,
                "unknown_parameter",
                f"{name!r} is not a parameter of this list; it takes: "
                + ", ".join(sorted(known))
                + ".",
                name,
            )


def paginate(queryset: QuerySet[Any], query: PageQuery) -> tuple[int, list[Any]]:
    count = queryset.count()
    start = (query.page - 1) * query.page_size
    return count, list(queryset[start : start + query.page_size])
