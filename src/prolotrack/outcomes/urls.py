from django.urls import path

from prolotrack.interop import clinic_report_views
from prolotrack.outcomes import views

app_name = "outcomes"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("breakdown/", views.dashboard_breakdown, name="breakdown"),
    path("export/", views.dashboard_csv, name="export"),
    path("report.pdf", clinic_report_views.clinic_report, name="report"),
    path("patients/<int:patient_id>/", views.progress, name="progress"),
]
