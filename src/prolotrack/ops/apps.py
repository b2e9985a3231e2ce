from django.apps import AppConfig
from django.db.models.signals import post_migrate


class OpsConfig(AppConfig):
    """Running and keeping an installation: ``serve``, ``backup``, ``restore`` and PostgreSQL's
    row-level security between clinics (``ops.rls``). No models."""

    name = "prolotrack.ops"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from prolotrack.ops import rls

        # Every migrate ends by protecting the clinic tables it made (ops.rls).
        post_migrate.connect(rls.on_post_migrate, dispatch_uid="prolotrack.ops.rls")
