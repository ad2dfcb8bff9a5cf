"""The serializers of the HTTP API (API.md): import each from the module that holds it.

``inputs`` (what clients send), ``outputs`` (what they get, errors included), ``plain``
(the episode and the queue rows as plain dicts, the same JSON as their output serializers)
and ``fields`` (what both are built of). They sit at module level rather than nested in
each view because OpenAPI component names come from class names: nested
``InputSerializer`` classes would all be called "Input".
"""
