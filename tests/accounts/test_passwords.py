"""Passwords: 12 characters at least, common ones refused, long and Unicode ones welcome (T21)."""

from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("brisk-otter", "too short"),  # 11 characters
        ("password123456", "too common"),
        ("123456789012345", "entirely numeric"),
    ],
)
def test_it_refuses_weak_passwords(world, password, reason):
    with pytest.raises(ValidationError) as refused:
        validate_password(password, user=world.physician)
    assert reason in " ".join(refused.value.messages)


@pytest.mark.parametrize(
    "password",
    [
        "brisk-otter-7",  # 13 characters
        "amber-" * 21 + "xy",  # 128 characters
        "Zoë läuft über die Brücke 東京 🦊",
        "حديقة الورود الزرقاء",
    ],
)
def test_it_accepts_long_and_unicode_passwords(world, password):
    validate_password(password, user=world.physician)
    world.physician.set_password(password)
    assert world.physician.check_password(password)
