from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The synthetic demo clinic: no models, only a loader and the ``demo`` command."""

    name = "prolotrack.demo"
    default_auto_field = "django.db.models.BigAutoField"
