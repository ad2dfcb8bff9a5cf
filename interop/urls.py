"""URLs of the FHIR facade, included under ``fhir/``."""

from __future__ import annotations

from django.urls import path, re_path

from interop import views

SEARCHES = {
    "Patient": views.PatientSearchApi,
    "EpisodeOfCare": views.EpisodeSearchApi,
    "Condition": views.ConditionSearchApi,
    "Observation": views.ObservationSearchApi,
    "CarePlan": views.CarePlanSearchApi,
    "Task": views.TaskSearchApi,
    "Flag": views.FlagSearchApi,
    "Communication": views.CommunicationSearchApi,
    "Questionnaire": views.QuestionnaireSearchApi,
}
# GET <type> searches; a POST there would be FHIR's create, which the facade does not serve
# (a 405 naming what is allowed). POST <type>/_search is the search with a form body.
SEARCH_METHODS = ["get", "head", "options"]

urlpatterns = [
    path("", views.TransactionApi.as_view(), name="fhir-transaction"),
    path("metadata", views.MetadataApi.as_view(), name="fhir-metadata"),
    path(
        ".well-known/smart-configuration",
        views.SmartConfigurationApi.as_view(),
        name="fhir-smart-configuration",
    ),
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
        path(
            name,
            view.as_view(http_method_names=SEARCH_METHODS),
            name=f"fhir-search-{name.lower()}",
        )
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
