from django.apps import AppConfig


class TreatmentConfig(AppConfig):
    name = "prolotrack.treatment"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Load and validate the clinical catalog at start-up: a broken catalog file must stop
        # the server before anyone charts against it, not fail later at the bedside.
        from prolotrack.core.catalog import load_catalog

        load_catalog()
