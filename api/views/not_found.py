"""Any other URL under ``/api/``: the API's JSON 404."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView


@extend_schema(exclude=True)
class ApiNotFoundApi(APIView):
    """Unknown URLs under ``/api/`` (``/api/episodes/abc/``): the JSON 404, not a web page."""

    permission_classes = (AllowAny,)
    authentication_classes = ()

    def http_method_not_allowed(self, *_args: Any, **_kwargs: Any) -> Response:
        raise Http404

    options = http_method_not_allowed
