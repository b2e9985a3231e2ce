from django.urls import path

from prolotrack.patients import screening_views, views

app_name = "patients"
urlpatterns = [
    path("", views.patient_list, name="list"),
    path("new/", views.patient_create_view, name="create"),
    path("<int:patient_id>/edit/", views.patient_edit, name="edit"),
    path("<int:patient_id>/screening/", screening_views.screening, name="screening"),
]
