from django.urls import path

from prolotrack.treatment import views

app_name = "treatment"
urlpatterns = [
    path("patients/<int:patient_id>/", views.chart, name="chart"),
    path("patients/<int:patient_id>/conditions/", views.condition_add, name="condition_add"),
    path("patients/<int:patient_id>/series/", views.series_new, name="series_new"),
    path("series/<int:series_id>/sessions/new/", views.session_new, name="session_new"),
    path("series/<int:series_id>/findings/", views.series_findings, name="series_findings"),
    path("sessions/<int:session_id>/", views.session_detail, name="session_detail"),
    path("sessions/<int:session_id>/edit/", views.session_edit, name="session_edit"),
    path("sessions/<int:session_id>/findings/", views.session_findings, name="session_findings"),
    path("sessions/<int:session_id>/sign/", views.session_sign, name="session_sign"),
    path("sessions/<int:session_id>/amend/", views.session_amend, name="session_amend"),
    path(
        "sessions/<int:session_id>/adverse-events/",
        views.adverse_event_add,
        name="adverse_event_add",
    ),
]
