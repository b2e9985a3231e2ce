"""Clinic scoping in the ORM: a query for clinical rows outside a clinic fails closed.

The first wall between clinics is in the code: every record is loaded through its entity's
access helper, which checks the clinic. This module makes the ORM itself a wall behind them, on
every database (on PostgreSQL, row-level security in ``ops.rls`` is a third):

- Every model that ``ops.rls`` protects (a ``prolotrack`` model with a ``clinic`` foreign key,
  but the credentials) gets ``clinic_manager()`` as its default manager (django-scopes). A query
  through it, or through a relation such as ``patient.series``, inside a clinic's scope is
  filtered to that clinic; outside any scope it raises ``ScopeError`` instead of returning
  every clinic's rows. ``tests/ops/test_scoping.py`` fails for a model that lacks it.
- Saving a row of such a model inside a clinic's scope is refused (``ScopeError``) unless the
  row belongs to that clinic; inside a scope that names no clinic (an anonymous request) every
  save is refused.
- Who opens a scope: ``ops.middleware.ClinicScopeMiddleware`` for every request, from the
  signed-in user's clinic, or none; the API's token check moves the request into the token's
  clinic (``request_clinic_set``). A request without a clinic is in a scope that names none:
  its clinical queries raise.
- Who works across clinics, on purpose and visibly: the command line (``cli.main``: the
  operator's commands, ``migrate``, ``backup``, ``demo``, imports), the background jobs, and
  the few anonymous steps that must find a row before anyone is signed in (a patient's one-time
  sign-in link). Each says so with ``scopes_disabled()`` at the place it happens.

Plain SQL does not pass through managers: the queries that use it (``outcomes.queries``) take
the clinic as a parameter.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import models
from django.db.models.signals import pre_save
from django_scopes import ScopedManager, get_scope, scope, scopes_disabled
from django_scopes.exceptions import ScopeError
from django_scopes.state import state

__all__ = [
    "ScopeError",
    "clinic_manager",
    "request_clinic_set",
    "request_scope",
    "scope",
    "scopes_disabled",
]

DIMENSION = "clinic"


def clinic_manager(queryset: type[models.QuerySet[Any]] = models.QuerySet) -> models.Manager[Any]:
    """The default manager of a clinic's model: its queries need a clinic scope."""
    manager = ScopedManager(
        _manager_class=models.Manager.from_queryset(queryset), **{DIMENSION: "clinic_id"}
    )
    manager.clinic_scoped = True  # type: ignore[attr-defined]
    return manager


def is_clinic_scoped(model: type[models.Model]) -> bool:
    return getattr(model._default_manager, "clinic_scoped", False)


@contextmanager
def request_scope(clinic_id: int | None) -> Iterator[None]:
    """One request's scope: ``clinic_id``'s rows, or, for None, no clinic at all.

    A fresh scope, not one nested in whatever the caller had: a request never inherits a wider
    one (in tests, the fixtures' disabled scopes).
    """
    fresh: dict[str, Any] = {"_enabled": True}
    if clinic_id is not None:
        fresh[DIMENSION] = int(clinic_id)
    token = state.set(fresh)
    try:
        yield
    finally:
        state.reset(token)


def request_clinic_set(clinic_id: int) -> None:
    """Move the current request's scope to ``clinic_id``: the API's token says who is calling
    after the middleware opened the request's scope. Undone when the request's scope ends."""
    current = get_scope()
    if not current.get("_enabled", True) and DIMENSION not in current:
        return  # scopes are off here (the command line, tests' direct calls): nothing to narrow
    state.set({**current, "_enabled": True, DIMENSION: int(clinic_id)})


def scopes_disabled_here() -> None:
    """For a script of the operator's (a benchmark, a check run from a test): scopes off for
    the rest of this thread, as for the command line. Other threads start without it."""
    state.set({"_enabled": False})


def current_clinic_id() -> int | None:
    current = get_scope()
    if not current.get("_enabled", True):
        return None
    return current.get(DIMENSION)


def _refuse_foreign_save(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    if not is_clinic_scoped(sender):
        return
    current = get_scope()
    if not current.get("_enabled", True):
        return
    clinic_id = current.get(DIMENSION)
    if clinic_id is None:
        raise ScopeError(f"A clinic scope must be active to save a {sender._meta.label}.")
    if instance.clinic_id != clinic_id:  # type: ignore[attr-defined]
        raise ScopeError(f"This {sender._meta.label} belongs to another clinic than the scope's.")


def connect() -> None:
    pre_save.connect(_refuse_foreign_save, dispatch_uid="prolotrack.ops.scoping")
