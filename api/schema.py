"""OpenAPI extensions: ``/api/auth/token/`` (``api.auth``), text that is never blank, strict bodies.

drf-spectacular's own extension for the token view documents only its 200 (and with the
request serializer as the response); clients also get a 400 in the API's error shape for
wrong credentials, and a 429. A ``StrictCharField`` that refuses blank text says so with
``minLength: 1`` (drf-spectacular adds it only when request and response components are
split) and a pattern asking for a character other than whitespace. A body that refuses
unknown fields (``StrictInputSerializer``) says so with ``additionalProperties: false``.
Imported by ``api.views.openapi`` so it is registered before the schema is generated.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from drf_spectacular.extensions import (
    OpenApiSerializerExtension,
    OpenApiSerializerFieldExtension,
    OpenApiViewExtension,
)
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers

from api.serializers.outputs import ErrorSerializer, ValidationErrorSerializer


class TokenRequestSerializer(serializers.Serializer):
    # Blank is refused ("This field may not be blank."): minLength 1.
    username = serializers.CharField(min_length=1)
    password = serializers.CharField(min_length=1, style={"input_type": "password"})
    otp = serializers.CharField(
        required=False,
        help_text="The second factor: the 6-digit code from the user's authenticator app, or "
        "one of their recovery codes (each works once). Required for superusers and "
        "clinicians (for everyone when CAREFLOW_MFA_REQUIRED_FOR_ALL is on, and for anyone "
        "who set up an app); without it their login is a 400 on otp.",
    )


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
                        description="Wrong username or password, or missing fields; or, for "
                        "a user who signs in with a second factor, otp missing or not right.",
                    ),
                    403: OpenApiResponse(
                        ErrorSerializer,
                        description="Passwords are switched off on this install "
                        "(CAREFLOW_LOCAL_PASSWORDS=false, single sign-on only): a token comes "
                        "from the workspace's API token page (/api-token/).",
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
                    429: OpenApiResponse(
                        ErrorSerializer, description="Too many requests from this user."
                    ),
                },
                description="Log out: revoke the token this request carries.",
            ),
        )(self.target)


class NonBlankTextExtension(OpenApiSerializerFieldExtension):
    r"""A ``StrictCharField`` that may not be blank: ``minLength: 1`` and ``pattern: \S``.

    The server trims surrounding whitespace and refuses what is left if it is "" ("This field
    may not be blank."): "   " is as blank as "".
    """

    target_class = "api.serializers.fields.StrictCharField"

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:  # noqa: ANN401 - drf-spectacular's AutoSchema
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)  # noqa: SLF001 - drf-spectacular's documented way for an extension to start from the default
        if not self.target.allow_blank:
            schema["minLength"] = max(schema.get("minLength", 0), 1)
            schema["pattern"] = r"\S"
        return schema


class StrictBodyExtension(OpenApiSerializerExtension):
    """A body that names a field the operation does not take is a 400 ("Unknown field.")."""

    target_class = "api.serializers.inputs.StrictInputSerializer"
    match_subclasses = True

    def map_serializer(self, auto_schema: Any, direction: str) -> dict[str, Any]:  # noqa: ANN401 - drf-spectacular's AutoSchema
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)  # noqa: SLF001 - as in NonBlankTextExtension
        schema["additionalProperties"] = False
        return schema
