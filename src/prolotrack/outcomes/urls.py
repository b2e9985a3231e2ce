from django.urls import path

from prolotrack.outcomes import views

app_name = "outcomes"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("export/", views.dashboard_csv, name="export"),
    path("patients/<int:patient_id>/", views.progress, name="progress"),
]
