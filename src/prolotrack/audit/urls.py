from django.urls import path

from prolotrack.audit import views

app_name = "audit"
urlpatterns = [
    path("", views.audit_list, name="list"),
    path("export.csv", views.audit_export, name="export"),
    path("break-glass/", views.break_glass_review, name="break_glass"),
]
