"""The HTTP API of the clinical record (shared/spec/API.md): a web layer above notifications.

views (the endpoints), serializers, errors, pagination, parsers, schema (drf-spectacular
extensions), throttles, auth (token login/logout) and urls, included under ``api/``.
"""
