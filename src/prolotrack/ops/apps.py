from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Running and keeping an installation: ``serve``, ``backup`` and ``restore``. No models."""

    name = "prolotrack.ops"
    default_auto_field = "django.db.models.BigAutoField"
