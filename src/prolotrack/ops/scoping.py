"""Clinic scoping in the ORM: a query for clinical rows outside a clinic fails closed.

The first wall between clinics is in the code: every record is loaded through its entity's
access helper, which checks the clinic. This module makes the ORM itself a wall behind them, on
every database (on PostgreSQL, row-level security in ``ops.rls`` is a third):

- Every model that ``ops.rls`` protects (a ``prolotrack`` model with a ``clinic`` foreign key,
  but the credentials) gets ``clinic_manager()`` as its default manager, built on django-scopes'
  scope state. A query through it, or through a relation's manager such as ``patient.series``,
  inside a clinic's scope is filtered to that clinic. Inside a scope that names no clinic (an
  anonymous request, a user without a clinic, a thread that opened none) every query, count,
  existence test and bulk write raises ``ScopeError`` instead of touching every clinic's rows.
  ``tests/ops/test_scoping.py`` fails for a model that lacks the manager.
- Writes inside a clinic's scope stay in it: saving a row (new or existing) of another clinic,
  moving a row to another clinic (``save()``, ``update()``, ``bulk_update()``) or bulk-creating
  another clinic's rows raises ``ScopeError``; inside a scope that names no clinic every save is
  refused.
- Who opens a scope: ``ops.middleware.ClinicScopeMiddleware`` for every request
  (``request_scope``), from the signed-in user's clinic, or none; the API's token check moves
  the request into the token's clinic (``request_clinic_set``).
- Who works across clinics, on purpose and visibly: the ``prolotrack`` command (``cli.main``: the
  operator's commands, ``migrate``, ``backup``, ``demo``, imports; it is the entry point, and
  ``django-admin`` with prolotrack's settings runs commands with scoping on), operator scripts
  (``scopes_disabled_here``), and the reminder job, which runs in its clinic's scope.

Not re-checked, by design: a row reached through a foreign key of a row already loaded (
``series.patient``), which Django reads through the model's plain base manager; the row it starts
from was loaded in scope. The credentials outside both walls (users, API tokens, a patient's
one-time sign-in link) are looked up before anyone is signed in, and the patient a link names
is reached through it. Plain SQL does not pass through managers: the queries that use it
(``outcomes.queries``, ``outcomes.summary``, ``interop.clinic_report``) take the clinic as a
parameter.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import models
from django.db.models.signals import pre_save
from django_scopes import get_scope, scopes_disabled
from django_scopes import scope as _scope
from django_scopes.exceptions import ScopeError
from django_scopes.manager import DisabledQuerySet
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
# Marks the scope a request opened (request_scope), which only request_clinic_set may change.
REQUEST = "_prolotrack_request"


@contextmanager
def scope(*, clinic: int) -> Iterator[None]:
    """Work inside one clinic's scope. Never None: django-scopes reads ``clinic=None`` as no
    filter at all, so a clinic-less caller would see every clinic."""
    if clinic is None:
        raise ScopeError("A clinic scope needs a clinic.")
    with _scope(**{DIMENSION: int(clinic)}):
        yield


def _scope_clinic() -> tuple[bool, int | None]:
    """(scoping on?, the scope's clinic or None)."""
    current = get_scope()
    if not current.get("_enabled", True):
        return False, None
    return True, current.get(DIMENSION)


class ClosedQuerySet(DisabledQuerySet):
    """The rows of no clinic: every read and bulk write raises. django-scopes' own disabled
    queryset still answers ``exists()`` and ``exclude()`` and writes ``bulk_create()``."""

    error = DisabledQuerySet.error
    exists = error
    exclude = error
    _filter_or_exclude = error
    explain = error
    extra = error
    alias = error
    in_bulk = error
    contains = error
    bulk_create = error
    bulk_update = error


class ClinicGuardedQuerySet(models.QuerySet):  # type: ignore[type-arg]
    """Writes that bypass ``pre_save`` keep to the scope's clinic."""

    def update(self, **kwargs: Any) -> int:
        if DIMENSION in kwargs or f"{DIMENSION}_id" in kwargs:
            _refuse_clinic_move(self.model, kwargs.get(DIMENSION, kwargs.get(f"{DIMENSION}_id")))
        return super().update(**kwargs)

    def bulk_update(self, objs: Iterable[Any], fields: Iterable[str], *args: Any, **kw: Any) -> int:
        objs, fields = list(objs), list(fields)
        if DIMENSION in fields or f"{DIMENSION}_id" in fields:
            for obj in objs:
                _refuse_clinic_move(self.model, obj.clinic_id)
        return super().bulk_update(objs, fields, *args, **kw)

    def bulk_create(self, objs: Iterable[Any], *args: Any, **kwargs: Any) -> list[Any]:
        objs = list(objs)
        enabled, clinic_id = _scope_clinic()
        if enabled and any(obj.clinic_id != clinic_id for obj in objs):
            raise ScopeError(f"A {self.model._meta.label} of another clinic than the scope's.")
        return super().bulk_create(objs, *args, **kwargs)


def _refuse_clinic_move(model: type[models.Model], value: Any) -> None:
    enabled, clinic_id = _scope_clinic()
    target = getattr(value, "pk", value)
    if enabled and (clinic_id is None or target != clinic_id):
        raise ScopeError(f"A {model._meta.label} cannot move to another clinic than the scope's.")


def clinic_manager(queryset: type[models.QuerySet[Any]] = models.QuerySet) -> models.Manager[Any]:
    """The default manager of a clinic's model: its queries need a clinic scope."""
    guarded = type(f"ClinicGuarded{queryset.__name__}", (ClinicGuardedQuerySet, queryset), {})
    base = models.Manager.from_queryset(guarded)

    class ClinicManager(base):  # type: ignore[valid-type,misc]
        clinic_scoped = True

        def get_queryset(self) -> models.QuerySet[Any]:
            enabled, clinic_id = _scope_clinic()
            if not enabled:
                return super().get_queryset()
            if clinic_id is None:
                return ClosedQuerySet(self.model, using=self._db, missing_scopes={DIMENSION})
            return super().get_queryset().filter(clinic_id=clinic_id)

    return ClinicManager()


def is_clinic_scoped(model: type[models.Model]) -> bool:
    return getattr(model._default_manager, "clinic_scoped", False)


@contextmanager
def request_scope(clinic_id: int | None) -> Iterator[None]:
    """One request's scope: ``clinic_id``'s rows, or, for None, no clinic at all.

    A fresh scope, not one nested in whatever the caller had: a request never inherits a wider
    one (in tests, the fixtures' disabled scopes).
    """
    fresh: dict[str, Any] = {"_enabled": True, REQUEST: True}
    if clinic_id is not None:
        fresh[DIMENSION] = int(clinic_id)
    token = state.set(fresh)
    try:
        yield
    finally:
        state.reset(token)


def request_clinic_set(clinic_id: int) -> None:
    """Move the current request's scope to ``clinic_id``: the API's token says who is calling
    after the middleware opened the request's scope. Undone when the request's scope ends;
    refused outside a request's scope, where nothing would undo it."""
    current = get_scope()
    if not current.get(REQUEST):
        raise ScopeError("Only a request's scope can be moved to a token's clinic.")
    state.set({**current, DIMENSION: int(clinic_id)})


def scopes_disabled_here() -> None:
    """For a script of the operator's (a benchmark, a check run from a test): scopes off for
    the rest of this thread, as for the command line. Other threads start without it."""
    state.set({"_enabled": False})


def current_clinic_id() -> int | None:
    enabled, clinic_id = _scope_clinic()
    return clinic_id if enabled else None


def _refuse_foreign_save(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    if not is_clinic_scoped(sender):
        return
    enabled, clinic_id = _scope_clinic()
    if not enabled:
        return
    if clinic_id is None:
        raise ScopeError(f"A clinic scope must be active to save a {sender._meta.label}.")
    if instance.clinic_id != clinic_id:  # type: ignore[attr-defined]
        raise ScopeError(f"This {sender._meta.label} belongs to another clinic than the scope's.")
    if not instance._state.adding:
        # Django updates an existing row through the plain base manager: the row as stored
        # must be this clinic's too, or a save would pull another clinic's row into this one.
        stored = (
            sender._base_manager.filter(pk=instance.pk).values_list("clinic_id", flat=True).first()
        )
        if stored is not None and stored != clinic_id:
            raise ScopeError(f"This {sender._meta.label} belongs to another clinic.")


def connect() -> None:
    pre_save.connect(_refuse_foreign_save, dispatch_uid="prolotrack.ops.scoping")
