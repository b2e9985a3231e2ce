"""`audit_refusals`: record every 403 and 404 a view answers (ASVS 16.3.2)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from prolotrack.audit.models import Action, Outcome
from prolotrack.audit.services import audit_record

View = Callable[..., HttpResponse]


def audit_refusals(*, object_type: str, id_kwarg: str | None = None) -> Callable[[View], View]:
    """Record an `access_refused` event when the view raises PermissionDenied or Http404.

    The requested id (the URL argument `id_kwarg`) is recorded as the object id, also when it
    is another clinic's: the event tells the clinic's administrators what was tried. It is not
    recorded as the patient id, which on an event is always a patient of the event's clinic.

        @login_required
        @audit_refusals(object_type="patient", id_kwarg="patient_id")
        def patient_edit(request, patient_id): ...
    """

    def decorator(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                return view(request, *args, **kwargs)
            except (PermissionDenied, Http404) as refusal:
                audit_record(
                    request=request,
                    action=Action.ACCESS_REFUSED,
                    object_type=object_type,
                    object_id=kwargs.get(id_kwarg, "") if id_kwarg else "",
                    outcome=Outcome.REFUSED,
                    detail={"status": 404 if isinstance(refusal, Http404) else 403},
                )
                raise

        return wrapper

    return decorator
