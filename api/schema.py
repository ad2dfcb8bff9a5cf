"""OpenAPI for ``/api/auth/token/`` (``api.auth``): POST logs in, DELETE out.

drf-spectacular's own extension documents only its 200 (and with the request serializer as
the response); clients also get a 400 in the API's error shape for wrong credentials.
Imported by ``api.views.openapi`` so it is registered before the schema is generated.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from drf_spectacular.extensions import OpenApiViewExtension
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers

from api.serializers.outputs import ErrorSerializer, ValidationErrorSerializer


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"})


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
    expiry = serializers.DateTimeField(
        allow_null=True,
        help_text="When the token stops working (null only where a site disabled expiry).",
    )


class CareflowTokenScheme(KnoxTokenScheme):
    """The API's token check is knox's (one query a request): documented as knox's."""

    target_class = "api.authentication.CareflowTokenAuthentication"


class ObtainAuthTokenSchema(OpenApiViewExtension):
    target_class = "api.auth.TokenObtainApi"
    match_subclasses = True
    priority = 1  # above drf-spectacular's contrib extension for the same view

    def view_replacement(self) -> Any:  # noqa: ANN401 - a view class
        return extend_schema_view(
            post=extend_schema(
                request=TokenRequestSerializer,
                responses={
                    200: TokenSerializer,
                    400: OpenApiResponse(
                        ValidationErrorSerializer,
                        description="Wrong username or password, or missing fields.",
                    ),
                    429: OpenApiResponse(
                        ErrorSerializer,
                        description="Too many token requests from this address, or too many "
                        "failed logins for this username (locked out for a while).",
                    ),
                },
                auth=[],
            ),
            delete=extend_schema(
                request=None,
                responses={
                    204: OpenApiResponse(description="Logged out: this token is revoked."),
                    401: OpenApiResponse(ErrorSerializer, description="Not authenticated."),
                },
                description="Log out: revoke the token this request carries.",
            ),
        )(self.target)
