"""URLs of the FHIR facade, included under ``fhir/``."""

from __future__ import annotations

from django.urls import path, re_path

from interop import pathway_views, views
from interop.subscriptions import views as subscription_views

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
    "CodeSystem": pathway_views.CodeSystemSearchApi,
    # GET Subscription is answered by SubscriptionApi (below, first), which also creates.
    "Subscription": subscription_views.SubscriptionSearchApi,
    "SubscriptionTopic": subscription_views.SubscriptionTopicSearchApi,
}
# GET <type> searches; a POST there would be FHIR's create, which the facade does not serve
# (a 405 naming what is allowed). POST <type>/_search is the search with a form body.
SEARCH_METHODS = ["get", "head", "options"]

urlpatterns = [
    path("", views.TransactionApi.as_view(), name="fhir-transaction"),
    path("metadata", views.MetadataApi.as_view(), name="fhir-metadata"),
    # Topic-based subscriptions (interop/subscriptions/): before the searches and reads.
    path(
        "Subscription",
        subscription_views.SubscriptionApi.as_view(),
        name="fhir-subscription",
    ),
    path(
        "Subscription/<str:resource_id>/$status",
        subscription_views.SubscriptionStatusApi.as_view(),
        name="fhir-subscription-status",
    ),
    path(
        "Subscription/<str:resource_id>",
        subscription_views.SubscriptionReadApi.as_view(),
        name="fhir-subscription-read",
    ),
    path(
        "SubscriptionTopic/<str:resource_id>",
        subscription_views.SubscriptionTopicApi.as_view(),
        name="fhir-subscription-topic",
    ),
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
        "PlanDefinition/<str:resource_id>/$apply",
        pathway_views.PlanDefinitionApplyApi.as_view(),
        name="fhir-plan-definition-apply",
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
    # After <type>/_search, which would otherwise read as an id.
    path(
        "CodeSystem/<str:resource_id>",
        pathway_views.CodeSystemApi.as_view(),
        name="fhir-code-system",
    ),
    path(
        "<str:resource_type>/<str:resource_id>",
        views.ResourceReadApi.as_view(),
        name="fhir-read",
    ),
    path(
        "<str:resource_type>/<str:resource_id>/_history",
        views.ResourceHistoryApi.as_view(),
        name="fhir-history",
    ),
    path(
        "<str:resource_type>/<str:resource_id>/_history/<str:version_id>",
        views.ResourceVersionApi.as_view(),
        name="fhir-vread",
    ),
    # A type careflow serves whose type-level interactions (search, create) are not: 405.
    path("<str:resource_type>", pathway_views.TypeNotServedApi.as_view(), name="fhir-type"),
    # Last: any other URL under /fhir/ is an OperationOutcome 404.
    re_path(r"^.*$", views.FhirNotFoundApi.as_view(), name="fhir-not-found"),
]
