from django.urls import path

from prolotrack.diary import views

app_name = "diary"
urlpatterns = [
    # The patient's own pages.
    path("", views.today, name="today"),
    path("entries/<int:entry_id>/", views.entry, name="entry"),
    path("progress/", views.progress, name="progress"),
    path("export.json", views.export, {"fmt": "json"}, name="export_json"),
    path("export.csv", views.export, {"fmt": "csv"}, name="export_csv"),
    path("info/", views.info, name="info"),
    path("info/<slug:topic>/", views.info_topic, name="info_topic"),
    # Signing in by a one-time link.
    path("signin/", views.signin_request, name="signin_request"),
    path("signin/<str:token>/", views.signin_link, name="signin"),
    # The clinic's pages.
    path("alerts/", views.alerts, name="alerts"),
    path("alerts/<int:alert_id>/acknowledge/", views.alert_ack, name="alert_ack"),
    path("patients/<int:patient_id>/", views.patient_entries, name="patient_entries"),
    path("patients/<int:patient_id>/invite/", views.invite, name="invite"),
    path("settings/", views.diary_settings, name="settings"),
]
