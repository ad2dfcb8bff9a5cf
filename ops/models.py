"""When each periodic piece of the service last proved it was alive.

One row per name (``ops.heartbeats``): beat stamps ``beat`` whenever it sends a task, a
worker stamps ``worker`` when it runs the heartbeat task, and each beat job stamps its
schedule entry's name when it succeeds. ``GET /metrics`` exports their ages; the alerts
(ops/prometheus/careflow-rules.yml) fire on them.
"""

from __future__ import annotations

from django.db import models


class Heartbeat(models.Model):
    name = models.CharField(max_length=60, primary_key=True)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.at:%Y-%m-%d %H:%M:%S}"
