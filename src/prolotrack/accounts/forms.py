from __future__ import annotations

from django import forms


class CodeForm(forms.Form):
    """The six digits of the authenticator app; spaces people type are ignored."""

    code = forms.CharField(
        label="Code from your authenticator app",
        max_length=12,
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "autofocus": True,
                "pattern": "[0-9 ]*",
            }
        ),
    )

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data["code"].split())
        if not (code.isascii() and code.isdigit() and len(code) == 6):
            raise forms.ValidationError("Type the 6 digits your app shows.")
        return code


# The reason is kept in the audit event's detail, which holds at most 200 characters a text.
ACCOUNT_CHANGE_REASON_MIN = 10
ACCOUNT_CHANGE_REASON_MAX = 200


class AccountChangeForm(forms.Form):
    """Why an administrator deactivates, reactivates or resets the second factor of an account."""

    reason = forms.CharField(
        label="Reason",
        max_length=ACCOUNT_CHANGE_REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=(
            f"Why, in {ACCOUNT_CHANGE_REASON_MIN}-{ACCOUNT_CHANGE_REASON_MAX} characters, for "
            "example “left the clinic” or “lost phone, identity checked in person”. It is kept "
            "in the audit trail: no health information."
        ),
        error_messages={
            "required": "Give the reason for this change.",
            "max_length": f"Keep the reason to {ACCOUNT_CHANGE_REASON_MAX} characters at most.",
        },
    )

    def clean_reason(self) -> str:
        reason = " ".join(self.cleaned_data["reason"].split())
        if len(reason) < ACCOUNT_CHANGE_REASON_MIN:
            raise forms.ValidationError(
                f"Give a reason of at least {ACCOUNT_CHANGE_REASON_MIN} characters that a "
                "reviewer can understand."
            )
        return reason
