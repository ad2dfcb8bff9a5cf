from __future__ import annotations

from csp.decorators import csp_update
from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from oauth2_provider.views import TokenView

from api.auth import TokenObtainApi
from config.health import healthz
from interop.views import SmartConfigurationApi
from notifications.channels import webhook_urls
from notifications.checkins.views import checkin_page
from ops.views import metrics
from reports.apis import AdherenceReportApi

# Bodies Django refuses before any view (too large) are JSON under /api/.
handler400 = "api.errors.bad_request"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # Prometheus's scrape, for the operator's bearer token only (ops/views.py).
    path("metrics", metrics, name="metrics"),
    path(settings.ADMIN_URL, admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script (CSP).
    # Its page keeps drf-spectacular's three-line inline <style>: styles only, never scripts.
    path(
        "api/docs/",
        csp_update({"style-src": ["'unsafe-inline'"]})(
            SpectacularSwaggerSplitView.as_view(url_name="api-schema")
        ),
        name="api-docs",
    ),
    # DRF's token view, rate-limited per address; failures count towards an axes lockout.
    path("api/auth/token/", TokenObtainApi.as_view(), name="api-token"),
    # App APIs are included below this line.
    path("api/reports/adherence/", AdherenceReportApi.as_view(), name="report-adherence"),
    path("api/", include("api.urls")),
    # The HL7 FHIR R4B facade over the same selectors and services (interop/).
    path("fhir/", include("interop.urls")),
    # OAuth 2's token endpoint (django-oauth-toolkit): client credentials of the FHIR
    # facade's clients (interop/clients.py); no authorization endpoint, no other grant.
    path("o/token/", TokenView.as_view(), name="oauth2-token"),
    # What a SMART / OAuth client looks for at the server's root; the same under /fhir/.
    path(
        ".well-known/smart-configuration",
        SmartConfigurationApi.as_view(),
        name="smart-configuration",
    ),
    # The patient check-in page: a signed link in each reminder, no login.
    path("check-in/<str:token>/", checkin_page, name="checkin"),
    # Provider webhooks, each channel's own (signed; notifications/providers/webhooks.py).
    *webhook_urls(),
    # The coordinator workspace: the queue board at /, episodes, enrolment.
    path("", include("workspace.urls")),
]
