from django.apps import AppConfig


class InteropConfig(AppConfig):
    name = "prolotrack.interop"
    default_auto_field = "django.db.models.BigAutoField"
