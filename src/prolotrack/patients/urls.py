from django.urls import path

from prolotrack.patients import break_glass_views, screening_views, views

app_name = "patients"
urlpatterns = [
    path("", views.patient_list, name="list"),
    path("new/", views.patient_create_view, name="create"),
    path("<int:patient_id>/edit/", views.patient_edit, name="edit"),
    path("<int:patient_id>/care-team/", views.care_team_add_view, name="care_team"),
    path("<int:patient_id>/screening/", screening_views.screening, name="screening"),
    path("<int:patient_id>/break-glass/", break_glass_views.break_glass, name="break_glass"),
]
