from django.apps import AppConfig
from django.db.models.signals import post_migrate


class OpsConfig(AppConfig):
    """Running and keeping an installation: ``serve``, ``backup``, ``restore``, the ORM's clinic
    scoping (``ops.scoping``) and PostgreSQL's row-level security between clinics
    (``ops.rls``). No models."""

    name = "prolotrack.ops"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from prolotrack.ops import rls, scoping

        # A row saved inside a clinic's scope must be that clinic's (ops.scoping).
        scoping.connect()

        # Every migrate ends by protecting the clinic tables it made (ops.rls).
        post_migrate.connect(rls.on_post_migrate, dispatch_uid="prolotrack.ops.rls")
