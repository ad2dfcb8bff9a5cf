"""The HTTP API (shared/spec/API.md): thin views that validate, call, and serialise.

Each view validates its input, calls a service (writes) or a selector (reads) and
serialises the result. One class per operation, named ``<Entity><Verb>Api``; where two
operations share a URL (``GET`` and ``POST /api/episodes/``), the URL's class only
combines the two operation classes. Errors are shaped by ``api.errors``; access is checked
by the selectors (``*_get_for(user, id)`` answer 404 for what the user may not see).

One module per resource: ``patients``, ``episodes``, ``facts`` (assessments, red flags and
their reports, imaging, the care plan), ``transitions``, ``timeline`` (with reminders and
replies), ``queues``, ``not_found``; ``openapi`` holds what their schemas share.
"""
