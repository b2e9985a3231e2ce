from django.urls import path

from prolotrack.interop import report_views
from prolotrack.interop.fhir import views as fhir_views

app_name = "interop"
urlpatterns = [
    path(
        "patients/<int:patient_id>/report.pdf",
        report_views.patient_report,
        name="patient_report",
    ),
    path("fhir/CodeSystem/<slug:name>", fhir_views.code_system, name="fhir_code_system"),
    path("fhir/ValueSet/<slug:name>", fhir_views.value_set, name="fhir_value_set"),
    path(
        "fhir/StructureDefinition/<slug:name>",
        fhir_views.structure_definition,
        name="fhir_structure_definition",
    ),
]
