"""The clinic administrator's page of API tokens: create one (its secret shown once), revoke."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from prolotrack.accounts.models import Role
from prolotrack.api.forms import TokenForm
from prolotrack.api.models import ApiToken
from prolotrack.api.tokens import token_create, token_revoke
from prolotrack.audit.decorators import audit_refusals
from prolotrack.audit.models import Action
from prolotrack.audit.services import audit_record


def _require_admin(request: HttpRequest) -> None:
    if request.user.role != Role.CLINIC_ADMIN or request.user.clinic_id is None:
        raise PermissionDenied("Only the clinic's administrators manage API tokens.")


@login_required
@audit_refusals(object_type="api_token")
@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    clinic = request.user.clinic
    # A POST is always the form sent: an empty one names its missing fields.
    form = TokenForm(request.POST if request.method == "POST" else None, clinic=clinic)
    created = secret = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            created, secret = token_create(
                clinic=clinic,
                name=form.cleaned_data["name"],
                user=form.cleaned_data["user"],
                read_only=form.cleaned_data["read_only"],
                created_by=request.user,
            )
            audit_record(
                request=request,
                action=Action.CREATE,
                object_type="api_token",
                object_id=created.pk,
                detail={"acts_as": created.user_id, "read_only": created.read_only},
            )
            form = TokenForm(clinic=clinic)
        else:
            status = 400
    tokens = ApiToken.objects.filter(clinic=clinic).select_related("user", "created_by")
    return render(
        request,
        "api/tokens.html",
        {"form": form, "tokens": tokens, "created": created, "secret": secret},
        status=status,
    )


@login_required
@audit_refusals(object_type="api_token", id_kwarg="token_id")
@require_POST
def token_revoke_view(request: HttpRequest, token_id: int) -> HttpResponse:
    _require_admin(request)
    token = ApiToken.objects.filter(clinic_id=request.user.clinic_id, pk=token_id).first()
    if token is None:
        raise Http404("No such token.")
    token_revoke(token=token)
    audit_record(request=request, action=Action.CHANGE, object_type="api_token", object_id=token.pk)
    messages.success(request, f"The token “{token.name}” is revoked: it no longer works.")
    return redirect("api-tokens:list")
