"""URLs of the FHIR facade, included under ``fhir/``."""

from __future__ import annotations

from django.urls import path, re_path

from interop import views

SEARCHES = {
    "Patient": views.PatientSearchApi,
    "EpisodeOfCare": views.EpisodeSearchApi,
    "Task": views.TaskSearchApi,
    "Flag": views.FlagSearchApi,
    "Communication": views.CommunicationSearchApi,
    "Questionnaire": views.QuestionnaireSearchApi,
}

urlpatterns = [
    path("", views.TransactionApi.as_view(), name="fhir-transaction"),
    path("metadata", views.MetadataApi.as_view(), name="fhir-metadata"),
    path(
        "EpisodeOfCare/<str:episode_id>/$everything",
        views.EpisodeEverythingApi.as_view(),
        name="fhir-episode-everything",
    ),
    path(
        "PlanDefinition/<str:resource_id>",
        views.PlanDefinitionApi.as_view(),
        name="fhir-plan-definition",
    ),
    path(
        "Questionnaire/<str:resource_id>",
        views.QuestionnaireApi.as_view(),
        name="fhir-questionnaire",
    ),
    *(
        path(name, view.as_view(), name=f"fhir-search-{name.lower()}")
        for name, view in SEARCHES.items()
    ),
    *(
        path(f"{name}/_search", view.as_view(), name=f"fhir-post-search-{name.lower()}")
        for name, view in SEARCHES.items()
    ),
    path(
        "<str:resource_type>/<str:resource_id>",
        views.ResourceReadApi.as_view(),
        name="fhir-read",
    ),
    # Last: any other URL under /fhir/ is an OperationOutcome 404.
    re_path(r"^.*$", views.FhirNotFoundApi.as_view(), name="fhir-not-found"),
]
