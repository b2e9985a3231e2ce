from django.apps import AppConfig


class TreatmentConfig(AppConfig):
    name = "prolotrack.treatment"
    default_auto_field = "django.db.models.BigAutoField"
