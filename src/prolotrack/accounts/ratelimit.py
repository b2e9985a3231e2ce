"""A per-address limit on sign-in attempts: SIGN_IN_RATE_PER_MINUTE, then 429.

Beside the lockout per (username, address), this stops one address from trying many usernames.
The count is kept in the database, not in process memory: every process and thread of
`prolotrack serve` (and every server behind one proxy) shares it, with no cache server to run
and nothing that `migrate` does not create. The window slides: the attempts of the last 60
seconds are counted, the current one included, so a burst across a minute boundary is no
loophole. Refused attempts count too: an address that keeps hammering stays refused.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from prolotrack.accounts.models import SignInRequest

WINDOW = dt.timedelta(minutes=1)


def sign_in_rate_exceeded(address: str, *, now: dt.datetime | None = None) -> bool:
    """Count one attempt from `address`; True when it is over the limit of the last minute."""
    now = now or timezone.now()
    since = now - WINDOW
    with transaction.atomic():
        SignInRequest.objects.filter(at__lt=since).delete()
        SignInRequest.objects.create(address=address, at=now)
        count = SignInRequest.objects.filter(address=address, at__gte=since).count()
    return count > settings.SIGN_IN_RATE_PER_MINUTE
