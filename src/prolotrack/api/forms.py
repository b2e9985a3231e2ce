from __future__ import annotations

from typing import Any

from django import forms

from prolotrack.accounts.models import CLINICIAN_ROLES, Clinic, User
from prolotrack.api.tokens import TOKEN_ROLES


class TokenForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=100,
        help_text="What will use the token, for example “Lab results import”.",
    )
    user = forms.ModelChoiceField(
        queryset=User.objects.none(),
        label="Acts as",
        empty_label="Choose a staff member",
        help_text="The token can do what this person can do in the API, no more: front desk's "
        "reads and edits demographics. A practitioner's token, which reads clinical records, is "
        "made by the server's operator (prolotrack api-token create).",
    )
    read_only = forms.BooleanField(
        label="Read-only (refuse every change)", required=False, initial=True
    )

    def __init__(self, *args: Any, clinic: Clinic, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["user"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = (
            User.objects.filter(clinic=clinic, is_active=True, role__in=TOKEN_ROLES)
            .exclude(role__in=CLINICIAN_ROLES)
            .order_by("last_name", "first_name", "username")
        )
        field.label_from_instance = lambda u: f"{u.display_name} ({u.get_role_display()})"  # type: ignore[attr-defined]
