"""Appending to the audit trail: `audit_record()`, one call from any view, command or receiver.

    audit_record(request=request, action=Action.READ, target=patient)

records who (from the request's user), what (the target's type, id, clinic and patient), when
(UTC), from where (the client's address and user agent) and the outcome. Refusals (403, 404) are
recorded by the `decorators.audit_refusals` view decorator. The event is written
before the caller answers: if it cannot be written, the caller fails instead of showing
health information unrecorded.

An event appended inside a caller's transaction is rolled back with it. Record refusals and
failures outside the transaction whose failure they describe.
"""

from __future__ import annotations

import ipaddress
import json
import unicodedata
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models, transaction
from django.http import HttpRequest
from django.utils import timezone

from prolotrack.accounts.models import CLINICIAN_ROLES, User
from prolotrack.audit.models import (
    CHECKPOINT_ID,
    GENESIS_HASH,
    Action,
    AuditCheckpoint,
    AuditEvent,
    Outcome,
)
from prolotrack.patients.models import BreakGlassGrant, Patient

# The PostgreSQL advisory lock that serialises appends (the bytes of "ptaudit1").
APPEND_LOCK_KEY = int.from_bytes(b"ptaudit1", "big")

# The detail is for a few ids, counts and codes; anything longer is a mistake in the caller.
DETAIL_MAX_CHARS = 1000

# Unicode categories removed from every text field: control characters (CR, LF, tab, ESC...),
# format characters (bidirectional overrides that make a log line read differently from what it
# stores), line and paragraph separators, and lone surrogates.
_STRIPPED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})


def clean_text(value: object, max_length: int) -> str:
    """`value` as one line of printable text, at most `max_length` characters (ASVS 16.4.1).

    A username such as "x\\r\\n... login ok" cannot forge a second line in the log, in a CSV
    export or in a log viewer.
    """
    text = "" if value is None else str(value)
    text = "".join(ch for ch in text if unicodedata.category(ch) not in _STRIPPED_CATEGORIES)
    return text[:max_length]


def _clean_detail(detail: Mapping[str, object] | None) -> dict[str, Any]:
    if not detail:
        return {}
    cleaned: dict[str, Any] = {}
    for key, value in detail.items():
        name = clean_text(key, 64)
        if value is None or isinstance(value, bool | int):
            cleaned[name] = value
        elif isinstance(value, str):
            cleaned[name] = clean_text(value, 200)
        elif isinstance(value, list | tuple) and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value
        ):
            cleaned[name] = list(value)
        else:
            # Floats change their last digits between databases (and break the hash); nested
            # structures invite dumping records into the log.
            raise TypeError(f"audit detail {name!r} must be text, a whole number, yes/no or ids")
    if len(json.dumps(cleaned)) > DETAIL_MAX_CHARS:
        raise ValueError(f"audit detail is longer than {DETAIL_MAX_CHARS} characters")
    return cleaned


def _trusted_proxies() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """AUDIT_TRUSTED_PROXIES: addresses or networks of the reverse proxies in front, if any."""
    networks = []
    for item in getattr(settings, "AUDIT_TRUSTED_PROXIES", ()):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"AUDIT_TRUSTED_PROXIES: {item!r} is not an address or network"
            ) from None
    return networks


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str:
    """The address the request came from: REMOTE_ADDR, the TCP peer.

    X-Forwarded-For is written by whoever sends the request, so it is believed only when the
    peer is a proxy named in AUDIT_TRUSTED_PROXIES, and then read from the right: the first
    address that is not one of our proxies is the client.
    """
    peer = _address(request.META.get("REMOTE_ADDR", ""))
    if peer is None:
        return ""
    proxies = _trusted_proxies()
    if not proxies or not any(peer in net for net in proxies):
        return peer.compressed
    hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break
        if not any(address in net for net in proxies):
            return address.compressed
    return peer.compressed


def _request_fields(request: HttpRequest | None) -> dict[str, str]:
    if request is None:
        return {"source_ip": "", "user_agent": ""}
    return {
        "source_ip": client_ip(request),
        "user_agent": clean_text(request.META.get("HTTP_USER_AGENT", ""), 256),
    }


def _target_fields(target: models.Model | None) -> dict[str, Any]:
    if target is None:
        return {}
    patient_id = target.pk if isinstance(target, Patient) else getattr(target, "patient_id", None)
    return {
        "object_type": target._meta.model_name,
        "object_id": target.pk,
        "patient_id": patient_id,
        "clinic_id": getattr(target, "clinic_id", None),
    }


def audit_record(
    *,
    request: HttpRequest | None = None,
    user: Any = None,
    action: Action | str,
    target: models.Model | None = None,
    object_type: str = "",
    object_id: object = "",
    patient_id: int | None = None,
    clinic_id: int | None = None,
    outcome: Outcome | str = Outcome.OK,
    break_glass: bool = False,
    detail: Mapping[str, object] | None = None,
) -> AuditEvent:
    """Append one event to the audit trail and return it.

    `user` defaults to the request's signed-in user. `target`, a model instance, fills in the
    object type and id, the clinic and the patient (a Patient, or anything with `patient_id`);
    explicit arguments win. The clinic defaults to the user's. `detail` holds a few ids, counts
    or codes: never health information, never a password, token or submitted credential.
    """
    if action not in Action.values:
        raise ValueError(f"unknown audit action {action!r}")
    if outcome not in Outcome.values:
        raise ValueError(f"unknown audit outcome {outcome!r}")
    if user is None and request is not None:
        user = getattr(request, "user", None)
    if user is not None and not user.is_authenticated:
        user = None
    derived = _target_fields(target)
    object_type = object_type or derived.get("object_type", "")
    object_id = object_id if object_id not in ("", None) else derived.get("object_id", "")
    if patient_id is None:
        patient_id = derived.get("patient_id")
    if clinic_id is None:
        clinic_id = derived.get("clinic_id")
    if clinic_id is None and user is not None:
        clinic_id = getattr(user, "clinic_id", None)
    if not break_glass:
        break_glass = _under_break_glass(user, patient_id)
    fields = {
        "user_id": user.pk if user is not None else None,
        "username": clean_text(user.get_username() if user is not None else "", 150),
        "role": clean_text(getattr(user, "role", ""), 32),
        "clinic_id": clinic_id,
        "patient_id": patient_id,
        "action": str(action),
        "object_type": clean_text(object_type, 64),
        "object_id": clean_text(object_id, 64),
        **_request_fields(request),
        "outcome": str(outcome),
        "break_glass": bool(break_glass),
        "detail": _clean_detail(detail),
    }
    return _append(fields)


def _under_break_glass(user: Any, patient_id: int | None) -> bool:
    """True while ``user`` holds a live break-glass grant on ``patient_id``.

    Every event of that user on that patient is then flagged, whatever page wrote it, so the
    review shows all that was done under the grant (RELIABILITY.md T22).
    """
    if user is None or patient_id is None or getattr(user, "role", "") not in CLINICIAN_ROLES:
        return False
    grants = BreakGlassGrant.objects.active(timezone.now())
    return grants.filter(user_id=user.pk, patient_id=patient_id).exists()


def audit_record_login_failed(
    *, request: HttpRequest | None, attempted_username: str
) -> AuditEvent:
    """A failed sign-in: only the name that was tried, never the password.

    When the name is an account's, the event goes to that account's clinic, so its
    administrators see attempts on their staff's accounts.
    """
    username = clean_text(attempted_username, 150)
    account = User.objects.filter(username=username).only("clinic_id").first() if username else None
    fields = {
        "user_id": None,
        "username": username,
        "role": "",
        "clinic_id": account.clinic_id if account is not None else None,
        "patient_id": None,
        "action": Action.LOGIN_FAILED.value,
        "object_type": "",
        "object_id": "",
        **_request_fields(request),
        "outcome": Outcome.FAILED.value,
        "break_glass": False,
        "detail": {},
    }
    return _append(fields)


def _append(fields: dict[str, Any]) -> AuditEvent:
    """Chain one event to the head and move the head, as one transaction under one lock.

    Two appends that read the same head would fork the chain. On PostgreSQL a transaction-level
    advisory lock makes appends take turns (it is released at commit or rollback). On SQLite the
    transaction starts with BEGIN IMMEDIATE (settings), which takes the database's write lock
    before the head is read.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [APPEND_LOCK_KEY])
        head = AuditCheckpoint.objects.filter(pk=CHECKPOINT_ID).first()
        now = timezone.now()
        event = AuditEvent(
            id=(head.event_id if head else 0) + 1,
            # Whole milliseconds: Django's serialisers (dumpdata) keep no more, and a restored
            # event must hash as it did when written.
            at=now.replace(microsecond=now.microsecond // 1000 * 1000),
            prev_hash=head.hash if head else GENESIS_HASH,
            **fields,
        )
        event.hash = event.compute_hash()
        event.save()
        if head is None:
            AuditCheckpoint.objects.create(id=CHECKPOINT_ID, event_id=event.id, hash=event.hash)
        else:
            AuditCheckpoint.objects.filter(pk=CHECKPOINT_ID).update(
                event_id=event.id, hash=event.hash
            )
    return event
