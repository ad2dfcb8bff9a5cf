"""The HTTP API (shared/spec/API.md): every app's endpoints, the lowest of the web layers.

Above notifications, below the workspace, the FHIR facade and the reports, which use its
serializers, parsers, audit and OpenAPI helpers. views/ (the endpoints, one module per
resource), serializers/ (inputs, outputs), errors, pagination, parsers, schema
(drf-spectacular extensions), throttles, auth (token login/logout) and urls, included
under ``api/``; and what every request under it passes through: the token check
(authentication, tokens, tasks), the ``Idempotency-Key`` middleware (idempotency) and the
access audit (audit), with their rows (models).
"""
