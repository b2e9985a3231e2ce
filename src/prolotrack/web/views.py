from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET

from prolotrack.accounts.models import Role


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """For load balancers and the demo's start-up check: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def home(request: HttpRequest) -> HttpResponse:
    """Where "prolotrack" and a fresh sign-in lead: auditors to the audit page, staff to the
    patient list, patients to their diary, the signed out to sign in."""
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if user.role == Role.AUDITOR:
        return redirect("audit:list")
    if user.is_clinician or user.role in (Role.FRONT_DESK, Role.CLINIC_ADMIN):
        return redirect("patients:list")
    if user.role == Role.PATIENT:
        return redirect("diary:today")
    raise PermissionDenied("No page for this role.")
