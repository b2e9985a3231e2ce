"""Output schemas shared by several operations, and what every API audit event carries."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Schema


class FindingOut(Schema):
    code: str
    kind: str
    severity: str
    message: str
    source: str


class TotalsOut(Schema):
    lidocaine_mg: float
    dextrose_g: float
    volume_ml: float


class PlanCheckOut(Schema):
    findings: list[FindingOut]
    totals: TotalsOut


def via(request: HttpRequest) -> dict[str, object]:
    """The audit detail of an API call: that it came through the API, and with which token
    (its id; never the secret)."""
    token = getattr(request, "api_token", None)
    detail: dict[str, object] = {"api": True}
    if token is not None:
        detail["api_token"] = token.pk
    return detail
